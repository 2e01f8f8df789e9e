"""The week-aware proof agrees with a brute force over the week, on random small houses.

The brute force is written here, separately from :mod:`pathways.week`: it does not cut
the week where something changes into bit sets, it walks it tick by tick and follows one
citizen (state, arrival tick) at a time, with plain sets and loops. The houses' hours,
deadlines and timeouts lie on a four-hour grid; each four-hour interval has two ticks: its
start, and "inside" (any later moment of it). A citizen who comes inside an interval is
still there inside the interval where their deadline passes (23:40 + PT1H is past 00:00),
and a move inside an interval can always be made a little earlier than the one before, so
"inside" can be used again and again.

What both agree to prove (the meaning of the four findings):

* ``unstaffed``: a reachable citizen can be in a state at a tick when it needs staff and
  nobody responsible is on duty;
* ``approval_out_of_hours``: at some tick, whoever may ask and is there, the request
  cannot be met by the people on duty (or on call; the requester is not an approver)
  before its timeout;
* ``handover_unanswered``: a hand-over sent at some tick cannot be answered by the open
  receiver's staff before the sender's wait ends;
* ``no_safety_net``: a tick when no service without referral is open (and staffed).

The strategy is local on purpose, as in ``test_check_properties.py``. Deadlines are counted
in time only: after a deadline that passes on the dot (until closing, in working days) the
checker takes the next arrival to be anywhere in its slot, on the safe side, where this
brute force knows it is at the slot's start.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import attrs
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pathways._validate import validate
from pathways.findings import Finding, FindingKind
from pathways.house import House, Service, Shift
from pathways.model import (
    ApprovalRule,
    Deadline,
    Handover,
    Intake,
    Label,
    Opening,
    Outcome,
    Pathway,
    Role,
    RuleKind,
    Sector,
    Span,
    State,
    StateKind,
    Transition,
)
from pathways.registry import Registry
from pathways.stranding import check

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

L = Label("x", "x")
TICK = 120
"""Minutes per tick of the brute force."""
TICKS = 7 * 24 * 60 // TICK
SECTORS = {"region": Sector(L), "municipal": Sector(L), "side": Sector(L)}
ROLES = {
    "nurse": Role("region", L),
    "social": Role("municipal", L),
    "leader_r": Role("region", L),
    "leader_m": Role("municipal", L),
    "citizen": Role("side", L),
    "relative": Role("side", L),
}
STAFF = ["nurse", "social", "leader_r", "leader_m"]
DAYS = {"every_day": range(7), "weekdays": range(5), "weekends": (5, 6), "mon": (0,), "sun": (6,)}
HOURS = st.sampled_from([4, 8, 12])


@st.composite
def spans(draw: Any) -> Span:
    start = draw(st.sampled_from(range(0, 24, 4)))
    end = draw(st.sampled_from([e for e in range(4, 25, 4) if e != start]))
    return Span(start * 60, end * 60)


@st.composite
def openings(draw: Any) -> tuple[Opening, ...]:
    return tuple(Opening((draw(st.sampled_from(sorted(DAYS))),), draw(spans())) for _ in range(draw(st.integers(0, 2))))


@st.composite
def houses(draw: Any) -> House:
    staffing = {}
    for role in STAFF:
        shifts = tuple(
            Shift((draw(st.sampled_from(sorted(DAYS))),), draw(spans()), draw(st.integers(1, 2)),
                  on_call=role.startswith("leader") and draw(st.booleans()))
            for _ in range(draw(st.integers(0, 2)))
        )
        if shifts:
            staffing[role] = shifts
    services = {
        "front": Service(L, ("p",), draw(openings()), draw(st.booleans())),
        "back": Service(L, ("r",), draw(openings()), False),
    }
    if draw(st.booleans()):
        services["net"] = Service(L, (), draw(openings()), True)
    return House("h", L, "Europe/Copenhagen", SECTORS, ROLES, services=services, staffing=staffing)


@st.composite
def senders(draw: Any) -> Pathway:
    """One to three working states, deadlines and timeouts on the 4-hour grid, approvals and a hand-over to ``r``."""
    n = draw(st.integers(1, 3))
    work = [f"s{i}" for i in range(n)]
    kinds = [draw(st.sampled_from([StateKind.ACTIVE, StateKind.WAITING])) for _ in work]
    everything = [*work, "done"]
    transitions: list[Transition] = []
    for i in range(draw(st.integers(1, 5))):
        source, dest = draw(st.sampled_from(work)), draw(st.sampled_from(everything))
        roles = tuple(draw(st.lists(st.sampled_from([*STAFF, "citizen", "relative"]), min_size=1, max_size=2, unique=True)))
        approval = None
        if draw(st.integers(0, 2)) == 0:
            kind = draw(st.sampled_from(list(RuleKind)))
            timeout = draw(st.sampled_from([None, timedelta(hours=4), timedelta(hours=8)]))
            refusal = draw(st.sampled_from(everything))
            if kind is RuleKind.ONE_PER_SECTOR:
                approval = ApprovalRule(kind, refusal, sectors=("region", "municipal"), timeout=timeout)
            else:
                approvers = tuple(draw(st.lists(st.sampled_from([*STAFF, "citizen", "relative"]), min_size=2, max_size=3, unique=True)))
                approval = ApprovalRule(kind, refusal, roles=approvers, n=2 if kind is RuleKind.N_OF else None, timeout=timeout)
        handover = None
        if dest in work and kinds[work.index(dest)] is StateKind.WAITING and draw(st.booleans()):
            handover = Handover("r", draw(st.sampled_from(everything)), draw(st.sampled_from(everything)))
        transitions.append(Transition(f"t{i}", (source,), dest, roles, approval=approval, handover=handover))
    states = []
    for s, kind in zip(work, kinds, strict=True):
        deadline = None
        if draw(st.booleans()):
            transitions.append(Transition(f"esc_{s}", (s,), draw(st.sampled_from(everything)), ("nurse",)))
            deadline = Deadline(timedelta(hours=draw(HOURS)), f"esc_{s}")
        responsible = tuple(draw(st.lists(st.sampled_from([*STAFF, "citizen"]), min_size=1, max_size=2, unique=True)))
        states.append(State(s, kind, L, responsible, deadline))
    states += [State("done", StateKind.TERMINAL, L, outcome=Outcome.COMPLETED),
               State("left", StateKind.TERMINAL, L, outcome=Outcome.LEFT_BY_CHOICE, follow_up=L)]
    transitions.append(Transition("leave", ("*",), "left", ("citizen",)))
    return Pathway("p", 1, L, L, "s0", SECTORS, ROLES, states=tuple(states), transitions=tuple(transitions), house="h")


@st.composite
def receivers(draw: Any) -> Pathway:
    answerer = draw(st.sampled_from(STAFF))
    states = (
        State("intake", StateKind.WAITING, L, (answerer,), Deadline(timedelta(hours=draw(HOURS)), "decline")),
        State("treat", StateKind.ACTIVE, L, (answerer,)),
        State("done", StateKind.TERMINAL, L, outcome=Outcome.COMPLETED),
        State("left", StateKind.TERMINAL, L, outcome=Outcome.LEFT_BY_CHOICE, follow_up=L),
    )
    transitions = (
        Transition("accept", ("intake",), "treat", (answerer,)),
        Transition("decline", ("intake",), "done", (draw(st.sampled_from(STAFF)),)),
        Transition("finish", ("treat",), "done", (answerer,)),
        Transition("leave", ("*",), "left", ("citizen",)),
    )
    return Pathway("r", 1, L, L, "intake", SECTORS, ROLES, states=states, transitions=transitions,
                   intake=Intake("intake", "accept", "decline", ("p",)), house="h")


@st.composite
def registries(draw: Any) -> Registry:
    house = draw(houses())
    pathways = [attrs.evolve(p, calendar=house.calendar_for(p.id)) for p in (draw(senders()), draw(receivers()))]
    registry = Registry(pathways, houses=[house])
    assume(not validate(registry))
    return registry


# -- the brute force -------------------------------------------------------------------


def _covers(days: Iterable[str], span: Span, tick: int, holiday: bool) -> bool:
    """Whether a shift or opening on ``days`` during ``span`` is in force at ``tick``."""
    day, at = divmod(tick * TICK, 1440)

    def runs_as(d: int) -> int:
        return 6 if holiday and d % 7 == 0 else d % 7

    on = {d for word in days for d in DAYS[word]}
    if span.end > span.start:
        return runs_as(day) in on and span.start <= at < span.end
    return (runs_as(day) in on and at >= span.start) or (runs_as(day - 1) in on and at < span.end)


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


class _BruteWeek:
    """One reference week of a house, tick by tick: who is there, what is open, what can be met."""

    def __init__(self, registry: Registry, holiday: bool) -> None:
        self.registry = registry
        self.house = house = registry.houses["h"]
        self.holiday = holiday
        self.duty = {role: [self._count(role, t, False) for t in range(TICKS)] for role in ROLES}
        self.call = {role: [self._count(role, t, True) for t in range(TICKS)] for role in ROLES}
        self.opened = {sid: [not s.open or any(_covers(o.days, o.hours, t, holiday) for o in s.open) for t in range(TICKS)]
                       for sid, s in house.services.items()}
        self.net = [self._net(t) for t in range(TICKS)]

    def _count(self, role: str, tick: int, on_call: bool) -> int:
        """People of ``role`` there: the citizen is one person, a relative one of many, staff by their shifts."""
        if ROLES[role].sector == "side":
            return 1 if role == "citizen" else 99
        return sum(s.people for s in self.house.staffing.get(role, ())
                   if (on_call or not s.on_call) and _covers(s.days, s.hours, tick, self.holiday))

    def there(self, role: str, tick: int) -> bool:
        return self.duty[role][tick % TICKS] > 0

    def service(self, p: Pathway) -> str | None:
        return next((sid for sid, s in self.house.services.items() if p.id in s.pathways), None)

    def is_open(self, p: Pathway, tick: int) -> bool:
        sid = self.service(p)
        return sid is None or self.opened[sid][tick % TICKS]

    def _net(self, tick: int) -> bool:
        for sid, service in self.house.services.items():
            if not service.without_referral or not self.opened[sid][tick]:
                continue
            if not service.pathways:
                return True
            for pid in service.pathways:
                p = self.registry[pid]
                if any(self.there(r, tick) for r in p.state(p.initial).responsible if ROLES[r].sector != "side"):
                    return True
        return False

    def can_meet(self, a: ApprovalRule, requester: str, tick: int) -> bool:
        def free(role: str) -> int:
            return self.call[role][tick % TICKS] - (1 if role == requester else 0)

        match a.rule:
            case RuleKind.ALL_OF:
                return all(free(r) > 0 for r in a.roles)
            case RuleKind.ANY_OF:
                return any(free(r) > 0 for r in a.roles)
            case RuleKind.N_OF:
                return sum(free(r) > 0 for r in set(a.roles)) >= (a.n or 0)
            case RuleKind.ONE_PER_SECTOR:
                return all(any(free(r) > 0 for r in ROLES if ROLES[r].sector == sec) for sec in a.sectors)
        raise AssertionError(a.rule)

    def can_refuse(self, a: ApprovalRule, requester: str, tick: int) -> bool:
        pool = a.roles or tuple(r for r in ROLES if ROLES[r].sector in a.sectors)
        return any(self.call[r][tick % TICKS] - (1 if r == requester else 0) > 0 for r in pool)

    def answers(self, t: Transition, tick: int, *, accept: bool | None = None) -> bool:
        """Whether the receiver of ``t`` is open and someone there may accept (or decline; ``None``: either)."""
        assert t.handover is not None
        r = self.registry[t.handover.to]
        assert r.intake is not None
        triggers = {True: (r.intake.accept,), False: (r.intake.decline,), None: (r.intake.accept, r.intake.decline)}[accept]
        answering = [x for x in r.transitions if x.source == (r.intake.state,) and x.trigger in triggers]
        return self.is_open(r, tick) and any(self.there(role, tick) for x in answering for role in x.roles)


def _stay(p: Pathway, state: str) -> int | None:
    """Ticks a citizen may stay (``None``: no deadline, as long as they like)."""
    d = p.state(state).deadline
    return None if d is None else _minutes(d.after) // TICK


def _during(a: int | None, stay: int | None) -> range:
    """The ticks a citizen who arrived at ``a`` can be there (every tick without a deadline).

    One who came inside an interval (an odd tick) is still there inside the interval where
    the deadline passes: a move there can always happen a little earlier than the last.
    """
    return range(TICKS) if a is None or stay is None else range(a, a + stay + a % 2)


def _still(tick: int, during: range) -> bool:
    """Whether the citizen is still there at ``tick`` (a citizen with no deadline is there, week after week)."""
    return len(during) >= TICKS or tick in during


Found = dict[tuple[str, str, str], set[int]]
"""(kind, pathway or house, state or trigger) → the ticks at which it happens."""


def brute_force(registry: Registry, holiday: bool) -> Found:
    """Every week-aware finding of one reference week, with its ticks."""
    w = _BruteWeek(registry, holiday)
    found: Found = {}
    if not all(w.net):
        found[("no_safety_net", "h", "")] = {t for t in range(TICKS) if not w.net[t]}
    for p in registry.values():
        for key, ticks in _one(w, p).items():
            found.setdefault(key, set()).update(ticks)
    return found


def _walk(w: _BruteWeek, p: Pathway, todo: list[tuple[str, int | None]], arrive: Any, handover_waits: dict[str, list[Transition]]) -> None:
    """Follow every citizen in ``todo`` (state, arrival tick) one move on, until nobody new arrives anywhere."""
    while todo:
        s, a = todo.pop()
        stay = _stay(p, s)
        during = _during(a, stay)
        for t in p.transitions:
            if s not in p.sources_of(t) or p.is_leaving(t):
                continue
            for tick in during:
                for q in (r for r in t.roles if w.there(r, tick)):
                    if t.approval is None:
                        arrive(t.dest, tick)
                        continue
                    timeout = t.approval.timeout
                    window = TICKS if timeout is None else _minutes(timeout) // TICK
                    # the answer or the timeout comes while the citizen is still there
                    for later in _during(tick, window):
                        if _still(later, during) and w.can_meet(t.approval, q, later):
                            arrive(t.dest, later)
                        if _still(later, during) and w.can_refuse(t.approval, q, later):
                            arrive(t.approval.on_refusal, later)
                    # a request made the moment the citizen came times out the moment their deadline passes
                    tie = a is not None and stay is not None and tick == a and window == stay
                    if timeout is not None and _still(tick + window, during) and not tie:
                        arrive(t.approval.on_refusal, tick + window)
        d = p.state(s).deadline
        if d is not None and a is not None and stay is not None:
            esc = p.find(s, d.trigger)
            assert esc is not None
            arrive(esc.dest, a + stay)
        for sent in handover_waits.get(s, ()):
            h = sent.handover
            assert h is not None
            for tick in during:
                if w.answers(sent, tick, accept=True):
                    arrive(h.accepted, tick)
                if w.answers(sent, tick, accept=False):
                    arrive(h.declined, tick)


def _one(w: _BruteWeek, p: Pathway) -> Found:
    found: Found = {}
    seen: set[tuple[str, int | None]] = set()
    todo: list[tuple[str, int | None]] = []
    handover_waits: dict[str, list[Transition]] = {}

    def arrive(state: str, tick: int) -> None:
        if p.state(state).terminal:
            return
        node = (state, None if _stay(p, state) is None else tick % TICKS)
        if node not in seen:
            seen.add(node)
            todo.append(node)

    for start in range(TICKS):
        if w.is_open(p, start):
            arrive(p.initial, start)
        if p.intake is not None:
            arrive(p.intake.state, start)
    while todo:
        _walk(w, p, todo, arrive, handover_waits)
        # a wait hears the answer to a hand-over once a citizen can send it (then walk again)
        waits: dict[str, list[Transition]] = {}
        for t in p.transitions:
            if t.handover is not None and any(x in p.sources_of(t) for x, _ in seen):
                waits.setdefault(t.dest, []).append(t)
        if waits != handover_waits:
            handover_waits.clear()
            handover_waits.update(waits)
            todo += sorted(seen, key=str)

    def add(key: tuple[str, str, str], tick: int) -> None:
        found.setdefault(key, set()).add(tick % TICKS)

    service = w.service(p)
    appointments = service is not None and not w.house.services[service].without_referral and bool(w.house.services[service].open)
    for s, a in seen:
        state = p.state(s)
        staff = [r for r in state.responsible if ROLES[r].sector != "side"]
        if staff and not (state.kind is StateKind.WAITING and state.deadline is not None):
            for tick in _during(a, _stay(p, s)):
                needed = not appointments or w.is_open(p, tick) or not w.net[tick % TICKS]
                if needed and not any(w.there(r, tick) for r in staff):
                    add(("unstaffed", p.id, s), tick)
        for t in p.transitions:
            if s not in p.sources_of(t) or p.is_leaving(t):
                continue
            for tick in _during(a, _stay(p, s)):
                askers = [r for r in t.roles if w.there(r, tick)]
                if t.approval is not None and askers:
                    timeout = t.approval.timeout
                    window = TICKS if timeout is None else _minutes(timeout) // TICK
                    # the citizen is stranded when nobody there can ask with success
                    if not any(w.can_meet(t.approval, q, later) for q in askers for later in _during(tick, window)):
                        add(("approval_out_of_hours", p.id, t.trigger), tick)
                if t.handover is None or not askers:
                    continue
                moments = [tick]
                if t.approval is not None:  # the hand-over goes when the approval is given
                    window = TICKS if t.approval.timeout is None else _minutes(t.approval.timeout) // TICK
                    moments = [later for q in askers for later in _during(tick, window)
                               if _still(later, _during(a, _stay(p, s))) and w.can_meet(t.approval, q, later)]
                for moment in moments:
                    if not any(w.answers(t, later) for later in _during(moment, _stay(p, t.dest))):
                        add(("handover_unanswered", p.id, t.trigger), moment)
    return found


# -- comparing the two -------------------------------------------------------------------

_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_RUN = re.compile(r"from (\w+) (\d\d):(\d\d) to (\w+) (\d\d):(\d\d)")


def _unit(registry: Registry) -> int:
    """The minutes of the checker's slots: every hour that matters is a multiple of it."""
    house = registry.houses["h"]
    moments = [s.hours.start for shifts in house.staffing.values() for s in shifts]
    moments += [s.hours.end for shifts in house.staffing.values() for s in shifts]
    moments += [m for service in house.services.values() for o in service.open for m in (o.hours.start, o.hours.end)]
    for p in registry.values():
        moments += [_minutes(s.deadline.after) for s in p.states if s.deadline is not None]
        moments += [_minutes(t.approval.timeout) for t in p.transitions if t.approval is not None and t.approval.timeout is not None]
    return math.gcd(10080, *moments)


def _slots(ticks: set[int], unit: int) -> set[int]:
    return {t * TICK // unit for t in ticks}


def _said(message: str, unit: int) -> set[int]:
    """The slots of the week a finding's message names ("from Monday 00:00 to Monday 16:00, …")."""
    if "all week" in message:
        return set(range(10080 // unit))
    out: set[int] = set()
    for d1, h1, m1, d2, h2, m2 in _RUN.findall(message.replace(" (a public holiday)", "")):
        start = _DAYS.index(d1) * 1440 + int(h1) * 60 + int(m1)
        end = _DAYS.index(d2) * 1440 + int(h2) * 60 + int(m2)
        out |= {m // unit for m in range(start, end if end > start else end + 10080, unit)}
    return out


def _checked(registry: Registry) -> dict[tuple[str, str, str], Finding]:
    out = {}
    for f in check(registry).findings:
        if f.kind.week:
            key = f.states[0] if f.kind is FindingKind.UNSTAFFED else f.transitions[0] if f.transitions else ""
            out[(f.kind.value, f.pathway, key)] = f
    return out


@SETTINGS
@given(registries())
def test_the_week_aware_findings_agree_with_a_brute_force_over_the_week(registry: Registry) -> None:
    """The same findings, at the same hours (a finding found in both weeks tells the ordinary one)."""
    week, holiday = brute_force(registry, False), brute_force(registry, True)
    found = _checked(registry)
    assert set(found) == set(week) | set(holiday)
    unit = _unit(registry)
    for key, f in found.items():
        assert _said(f.message, unit) == _slots(week.get(key) or holiday[key], unit), (key, f.message)


@SETTINGS
@given(registries())
def test_every_week_counterexample_replays_on_the_engine_with_a_clock(registry: Registry) -> None:
    """The story's times are real: a fresh engine on a manual clock ends where the finding says.

    A wait entered without a hand-over hears no answer; the time-free check reports that
    (``handover_gap``), and the week proof assumes it fixed.
    """
    report = check(registry)
    assume(not report.of_kind(FindingKind.HANDOVER_GAP))
    for f in report.findings:
        if f.kind.week and f.counterexample is not None:
            case = f.counterexample.replay(registry)
            assert case.state == f.counterexample.ends_in, f.to_text()
