"""The week-aware proof: is someone there, at every moment of the week, for every citizen?

The time-free check (:mod:`pathways.stranding`) proves that a *role* can act; this module
proves that a *person* holding it is on duty. It runs for pathways of a house (their
staffing and calendar come from the house file), and for a shared pathway without a house
under each house whose services list it, over the house's reference week, and
over a week whose Monday is a public holiday (run on Sunday's hours).

Time is cut into slots at the greatest common divisor of every moment something changes
(a shift, an opening hour) and every deadline and timeout: all changes fall on slot
boundaries, so exploring slots is exploring the calendar's intervals, not every minute.
A move may happen at any moment of a slot, so a citizen who comes into a state late in a
slot is still there in the slot where its deadline (in time, or in opening hours) passes:
23:40 + PT1H is 00:40, after Socialvagten has closed. Whether something can *never*
succeed (an approval within its timeout, an answer within the sender's deadline) is judged
for the shortest wait, a request or hand-over at the start of a slot. A citizen moved on the
dot (a deadline in working days, or until closing, passes at a slot's start) is taken to
have come at any moment of that slot: on the safe side, the next state's stay may be
reported one slot longer than it can be.
For each state the explorer computes, as a bit set over the week's slots, when a citizen
can *arrive* there, and from that when they can *be* there (until its deadline, or all
week without one). Actions take no time and happen only while someone holding a role
that may act is on duty (the citizen's side is always there); a case starts only while
its service is open; referrals may arrive at any time; deadlines and timeouts fire by
themselves. Guards, facts and places are left to the time-free check.

Four findings come from it:

- ``unstaffed``: the citizen can be in an active state (or a wait without deadline) at a
  moment when nobody responsible for them there is on duty. Appointment-based services
  (not ``without_referral``) keep the citizen at home between appointments: outside their
  opening hours only the house's safety net needs to be there.
- ``approval_out_of_hours``: a request made at some hours can never be met by the people
  on duty within its timeout (four-eyes, n-of and one-per-sector counted in people).
- ``handover_unanswered``: a hand-over sent at some hours cannot be answered — the
  receiving service is closed or its staff off duty — before the sender's deadline.
- ``no_safety_net`` (house-wide): hours at which no service takes a citizen in acute
  crisis without referral.

A wait that hears a hand-over's answer is taken to be entered by that hand-over (the
time-free check reports a wait re-entered without one as ``handover_gap``); an approval
is answered, or times out, only while the citizen is still in the state it was asked in.

Each is a :class:`~pathways.findings.Finding` (:func:`pathways.check` runs this proof for
every house of a registry unless ``week=False``), with a counterexample that has the time of
every step, replayable on the real engine with a clock (:meth:`pathways.Counterexample.replay`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import assert_never
from zoneinfo import ZoneInfo

import attrs

from . import approvals, calendar
from ._converter import format_duration
from ._explore import Space
from ._story import Counterexample, Step
from .findings import Finding, FindingKind
from .house import House
from .i18n import role_name, state_name, tr, weekday_time
from .model import Counting, Opening, Pathway, RuleKind, Span, StateKind, Subject, Transition
from .registry import Registry

__all__ = ["REFERENCE_WEEKS", "Week", "check_week", "slot_time", "week_findings"]

REFERENCE_WEEKS: Mapping[str, date] = {"week": date(2026, 1, 5), "holiday": date(2026, 5, 25)}
"""The Monday each explored week is replayed on: an ordinary week (no holiday, no
daylight-saving change) and the week of 2. pinsedag (its Monday a public holiday)."""


def slot_time(week: str, minute: int) -> datetime:
    """The local time of ``minute`` of the named reference week, in Europe/Copenhagen."""
    monday = REFERENCE_WEEKS[week]
    local = datetime(monday.year, monday.month, monday.day, tzinfo=ZoneInfo("Europe/Copenhagen"))
    return (local.replace(tzinfo=None) + timedelta(minutes=minute)).replace(tzinfo=local.tzinfo)


def _when(week: str, minute: int) -> str:
    t = slot_time(week, minute % calendar.WEEK_MINUTES)
    return weekday_time(t) + (tr(" (a public holiday)") if week == "holiday" and t.weekday() == 0 else "")


class Week:
    """One reference week of a house, cut into slots, with who is on duty in each."""

    def __init__(self, house: House, pathways: Sequence[Pathway], name: str = "week") -> None:
        self.house = house
        self.name = name
        moments = [0, calendar.WEEK_MINUTES]
        for shifts in house.staffing.values():
            for s in shifts:
                moments += [s.hours.start, s.hours.end]
        for service in house.services.values():
            for o in service.open:
                moments += [o.hours.start, o.hours.end]
        for p in pathways:
            for st in p.states:
                if st.deadline is not None:
                    moments.append(int(st.deadline.after.total_seconds() // 60) if st.deadline.counted is not Counting.WORKING_DAYS else 1440)
            for t in p.transitions:
                if t.approval is not None and t.approval.timeout is not None:
                    moments.append(int(t.approval.timeout.total_seconds() // 60))
        self.unit = math.gcd(*moments) or 60
        self.n = calendar.WEEK_MINUTES // self.unit
        self.all = (1 << self.n) - 1
        holidays = frozenset({0}) if name == "holiday" else frozenset()
        self._days = [6 if d in holidays else d for d in range(7)]
        self._people: dict[tuple[str, bool], list[int]] = {}
        self._masks: dict[tuple[str, bool], int] = {}
        self._open: dict[tuple[Opening, ...], int] = {}

    # -- slots and bit sets ------------------------------------------------------------

    def minute(self, slot: int) -> int:
        return slot * self.unit

    def _covered(self, days: frozenset[int], span: Span) -> Iterator[int]:
        """The slots ``span`` covers on ``days``: a span over midnight belongs to the day it starts."""
        for day in range(7):
            if self._days[day] in days:
                start = day * 1440 + span.start
                end = day * 1440 + span.end + (1440 if span.overnight else 0)
                for slot in range(start // self.unit, end // self.unit):
                    yield slot % self.n

    def in_force(self, entries: Iterable[tuple[frozenset[int], Span]]) -> int:
        """Slots at which some of the (days, span) ``entries`` is in force."""
        return _mask_of(slot for days, span in entries for slot in self._covered(days, span))

    def people(self, role: str, *, on_call: bool = False) -> list[int]:
        """People holding ``role`` on duty per slot (with ``on_call``: also by phone)."""
        key = (role, on_call)
        if key not in self._people:
            counts = [0] * self.n
            for s in self.house.staffing.get(role, ()):
                if on_call or not s.on_call:
                    for slot in self._covered(calendar.days_of(s.days), s.hours):
                        counts[slot] += s.people
            self._people[key] = counts
        return self._people[key]

    def present(self, p: Pathway, role: str, *, on_call: bool = False) -> int:
        """Slots where someone holding ``role`` is there (the citizen's side: always)."""
        if role in p.with_the_case:
            return self.all
        key = (role, on_call)
        if key not in self._masks:
            self._masks[key] = _mask(c > 0 for c in self.people(role, on_call=on_call))
        return self._masks[key]

    def any_present(self, p: Pathway, roles: Iterable[str], *, on_call: bool = False) -> int:
        out = 0
        for r in roles:
            out |= self.present(p, r, on_call=on_call)
        return out

    def open(self, p: Pathway) -> int:
        """Slots where the pathway's service is open (around the clock without hours)."""
        cal = p.calendar
        if cal is None or not cal.opening:
            return self.all
        if cal.opening not in self._open:
            self._open[cal.opening] = self.in_force((calendar.days_of(o.days), o.hours) for o in cal.opening)
        return self._open[cal.opening]

    def rot(self, bits: int, k: int) -> int:
        """``bits`` moved ``k`` slots later, round the week."""
        k %= self.n
        return ((bits << k) | (bits >> (self.n - k))) & self.all

    def dilate(self, bits: int, length: int | None) -> int:
        """Every slot within ``length`` slots after a slot of ``bits`` (the slot itself included)."""
        if length is None or length >= self.n:
            return self.all if bits else 0
        out, span = bits, 1
        while span * 2 <= length:
            out |= self.rot(out, span)
            span *= 2
        if span < length:
            out |= self.rot(out, length - span)
        return out

    def slots(self, delta: timedelta) -> int:
        return int(delta.total_seconds() // 60) // self.unit

    def hours(self, bits: int) -> str:
        """A bit set as runs of local hours, e.g. ``Monday 16:00 to Tuesday 08:00``."""
        runs: list[str] = []
        if bits == self.all:
            return tr("all week")
        start = None
        for s in range(self.n + 1):
            on = s < self.n and bool(bits >> s & 1)
            if on and start is None:
                start = s
            elif not on and start is not None:
                runs.append(tr("from {start} to {end}", start=_when(self.name, self.minute(start)), end=_when(self.name, self.minute(s))))
                start = None
        return ", ".join(runs)


def _mask(flags: Iterable[bool]) -> int:
    out = 0
    for i, f in enumerate(flags):
        if f:
            out |= 1 << i
    return out


def _mask_of(slots: Iterable[int]) -> int:
    out = 0
    for slot in slots:
        out |= 1 << slot
    return out


def _first(bits: int) -> int:
    return (bits & -bits).bit_length() - 1


# -- one pathway over one week ---------------------------------------------------------


@attrs.frozen
class _Edge:
    """How a citizen moves on in time: by someone acting, or by the clock."""

    kind: str
    """``fire``, ``request`` (an approval completes), ``refuse``, ``timeout``, ``deadline``,
    ``accepted``, ``declined``."""
    source: str
    dest: str
    transition: Transition | None
    when: int
    """Slots at which the move can happen (for clock moves: unused)."""
    delay: int = 0
    """Clock moves: slots after arrival in ``source``; others: the window after the request."""
    who: str | None = None


def _guards_settable(p: Pathway, t: Transition) -> bool:
    """Whether some role may make each guard of ``t`` hold (or it holds by the fact's default).

    A guard on a fact nobody may set by hand (a contract only its own pathway grants) is
    left to the time-free check; the week does not walk through it.
    """
    return all(p.setters(g.fact) or g.holds({g.fact: p.facts[g.fact].default}) for g in t.guards if g.fact in p.facts)


class _Explorer:
    """When a citizen can arrive in each state of one pathway, by breadth-first rounds."""

    def __init__(self, week: Week, p: Pathway, reach: set[str], fired: set[int], registry: Registry | None) -> None:
        self.w = week
        self.p = p
        self.reach = reach
        self.registry = registry
        self.edges: dict[str, list[_Edge]] = {s.id: [] for s in p.states}
        self.stay: dict[str, int | list[int] | None] = {}
        """Slots a citizen who arrives at the start of a slot may stay (``None``: no limit)."""
        self.linger: dict[str, int | list[int] | None] = {}
        """The same for one who arrives later in the slot: a deadline counted in time then
        passes inside a slot, so the citizen is still there when it begins (23:40 + PT1H)."""
        for st in p.states:
            self.stay[st.id], self.linger[st.id] = self._delays(st.id)
        self._instant = {k: _mask(n == 0 for n in d) for k, d in self.stay.items() if isinstance(d, list)}
        """Per state, the arrival slots whose wait has no length (closed at arrival, until closing)."""
        self._free_slots: dict[tuple[str, str], int] = {}
        self._meets: dict[tuple[str, tuple[str, ...], str], int] = {}
        self._stays: dict[tuple[str, int, bool], int] = {}
        for i, t in enumerate(p.transitions):
            if i in fired and _guards_settable(p, t):
                self._add(t)
        for s in p.states:
            d = s.deadline
            if d is None or s.terminal:
                continue
            esc = p.find(s.id, d.trigger)
            if esc is not None and esc.dest in self.edges:
                self.edges[s.id].append(_Edge("deadline", s.id, esc.dest, esc, 0))
        self.rounds: dict[str, list[int]] = {s.id: [] for s in p.states}
        self.arrive: dict[str, int] = dict.fromkeys(self.rounds, 0)

    def _delays(self, state: str) -> tuple[int | list[int] | None, int | list[int] | None]:
        """How long a citizen may stay in ``state``, arriving at a slot's start and later in it.

        Slots, per arrival slot, or no limit. A deadline in working days passes at midnight
        whenever the wait began, and one until closing at the latest when the service
        closes; one in time or opening hours passes as far into its last slot as the
        citizen came into their first.
        """
        w = self.w
        s = self.p.state_by_id[state]
        d = s.deadline
        if d is None or s.terminal:
            return None, None
        match d.counted:
            case Counting.TIME:
                slots = max(1, w.slots(d.after))
                return slots, slots + 1
            case Counting.WORKING_DAYS:
                per_day = 1440 // w.unit
                out = []
                for slot in range(w.n):
                    day = slot // per_day
                    counted, k = 0, day
                    while counted < d.after.days:
                        k += 1
                        if k % 7 < 5 and w._days[k % 7] != 6:
                            counted += 1
                    out.append((k + 1) * per_day - slot)
                return out, out
            case Counting.OPENING_HOURS:
                opened = self.w.open(self.p)
                need = max(1, w.slots(d.after))
                out, later = [], []
                for slot in range(w.n):
                    k, counted = 0, 0
                    while counted < need and k < 4 * w.n:
                        if opened >> ((slot + k) % w.n) & 1:
                            counted += 1
                        k += 1
                    out.append(k)
                    j = k  # what is left of the first slot is counted in the next open one
                    while opened >> slot & 1 and not opened >> ((slot + j) % w.n) & 1 and j < 4 * w.n:
                        j += 1
                    later.append(j + 1 if opened >> slot & 1 else k)
                return out, later
            case Counting.UNTIL_CLOSING:
                opened = self.w.open(self.p)
                need = max(1, w.slots(d.after))
                out = []
                for slot in range(w.n):
                    k = 0
                    while k < need and opened >> ((slot + k) % w.n) & 1:
                        k += 1
                    out.append(k)  # 0: arrived while closed, moved on at once
                # past the deadline inside a slot that is still open; at closing, on the dot
                later = [k + 1 if k == need and opened >> ((slot + k) % w.n) & 1 else k for slot, k in enumerate(out)]
                return out, later
            case _ as unreachable:
                assert_never(unreachable)

    def _add(self, t: Transition) -> None:
        w, p = self.w, self.p
        if p.is_leaving(t) or p.state_by_id.get(t.dest) is None:
            return
        for src in p.sources_of(t):
            if src not in self.edges:
                continue
            a = t.approval
            if a is None:
                self.edges[src].append(_Edge("fire", src, t.dest, t, w.any_present(p, t.roles)))
                continue
            window = w.slots(a.timeout) if a.timeout is not None else None
            for q in t.roles:
                self.edges[src].append(_Edge("approved", src, t.dest, t, self.can_meet(t, q), window or w.n, who=q))
                if a.on_refusal in self.edges:
                    self.edges[src].append(_Edge("refuse", src, a.on_refusal, t, self.can_refuse(t, q), window or w.n, who=q))
                    if window is not None:
                        self.edges[src].append(_Edge("timeout", src, a.on_refusal, t, w.present(p, q), window, who=q))
        if t.handover is not None:
            h = t.handover
            for kind, dest in (("accepted", h.accepted), ("declined", h.declined)):
                if dest in self.edges:
                    self.edges[t.dest].append(_Edge(kind, t.dest, dest, t, self.answer(t, kind == "accepted")))

    def answer(self, t: Transition, accept: bool) -> int:
        """Slots at which the receiving pathway can answer the hand-over ``t``."""
        assert t.handover is not None
        if self.registry is None or t.handover.to not in self.registry:
            return self.w.all
        receiver = self.registry[t.handover.to]
        if receiver.intake is None:
            return 0
        trig = receiver.intake.accept if accept else receiver.intake.decline
        rt = receiver.find(receiver.intake.state, trig)
        if rt is None:
            return 0
        return self.w.open(receiver) & self.w.any_present(receiver, rt.roles)

    def _others(self, role: str, requester: str, slot: int) -> int:
        """People of ``role`` on duty or on call at ``slot`` who are not the requester."""
        p = self.p
        if role not in p.roles:
            return 0
        if role in p.with_the_case:
            return 0 if role == requester and p.is_citizen(role) else 1
        n = self.w.people(role, on_call=True)[slot]
        return n - 1 if role == requester else n

    def _free(self, role: str, requester: str) -> int:
        """Slots at which someone of ``role``, not the requester, is on duty or on call (cached)."""
        key = (role, requester)
        if key not in self._free_slots:
            self._free_slots[key] = _mask(self._others(role, requester, slot) >= 1 for slot in range(self.w.n))
        return self._free_slots[key]

    def can_meet(self, t: Transition, requester: str) -> int:
        """Slots at which the people on duty (or on call) can meet ``t``'s approval rule.

        The requester never approves: where the rule needs the requester's own role, it
        needs one more person of that role.
        """
        key = (t.trigger, tuple(t.source), requester)
        if key in self._meets:
            return self._meets[key]
        w, p = self.w, self.p
        a = t.approval
        assert a is not None
        match a.rule:
            case RuleKind.ALL_OF:
                out = w.all
                for r in a.roles:
                    out &= self._free(r, requester)
            case RuleKind.ANY_OF:
                out = _or(self._free(r, requester) for r in a.roles)
            case RuleKind.N_OF:
                masks = [self._free(r, requester) for r in set(a.roles)]
                out = _mask(sum(m >> slot & 1 for m in masks) >= (a.n or 0) for slot in range(w.n))
            case RuleKind.ONE_PER_SECTOR:
                pool = approvals.eligible_roles(a, p)
                out = w.all
                for sec in a.sectors:
                    out &= _or(self._free(r, requester) for r in pool if p.roles[r].sector == sec)
            case _ as unreachable:
                assert_never(unreachable)
        self._meets[key] = out
        return out

    def can_refuse(self, t: Transition, requester: str) -> int:
        """Slots at which someone on duty or on call, not the requester, may refuse ``t``'s request (as in the engine)."""
        assert t.approval is not None
        return _or(self._free(r, requester) for r in approvals.eligible_roles(t.approval, self.p))

    def occupied(self, state: str, arrivals: int) -> int:
        """Slots at which a citizen who arrived at ``arrivals`` (at any moment of them) can still be in ``state``."""
        return self._stay_of(state, arrivals, late=True)

    def surely(self, state: str, arrivals: int) -> int:
        """Slots at which every citizen who arrived at ``arrivals`` is still there (one who came at a slot's start leaves first)."""
        return self._stay_of(state, arrivals, late=False)

    def _stay_of(self, state: str, arrivals: int, *, late: bool) -> int:
        d = (self.linger if late else self.stay).get(state)
        if arrivals & (arrivals - 1):  # several arrivals: no cache
            return self._during(state, d, arrivals)
        key = (state, arrivals, late)  # one arrival: asked again and again while the runs are built
        if key not in self._stays:
            self._stays[key] = self._during(state, d, arrivals)
        return self._stays[key]

    def _during(self, state: str, d: int | list[int] | None, arrivals: int) -> int:
        if d is None:
            return self.w.dilate(arrivals, None)
        if isinstance(d, list):  # a wait of no length (closed at arrival) occupies no slot
            arrivals &= ~self._instant[state]
        return _by_stay(d, arrivals, self.w.dilate)

    def _timed_out(self, state: str, arrivals: int) -> int:
        """When the deadline of ``state`` fires for citizens who arrived at ``arrivals`` (at any moment of them)."""
        d, late = self.stay.get(state), self.linger.get(state)
        if d is None or late is None:
            return 0
        if isinstance(d, int):
            return _by_stay(d, arrivals, self.w.rot)
        assert isinstance(late, list)
        inside = [n - 1 if n != k else k for n, k in zip(late, d, strict=True)]
        return _by_stay(d, arrivals, self.w.rot) | _by_stay(inside, arrivals, self.w.rot)

    def _later(self, a: int, bits: int, length: int, *, exactly: bool = False) -> int:
        """Slots within ``length`` after a slot of ``bits`` (with ``exactly``: just ``length`` after), counted from arrival ``a``.

        Counted forward from the arrival, never round the week back to before it: an answer
        or a timeout cannot come before the citizen who asked was there.
        """
        w = self.w
        rel = w.rot(bits, -a)
        moved = (rel << length) & w.all if exactly else _forward(rel, length, w.n)
        return w.rot(moved, a)

    def explore(self) -> None:
        w, p = self.w, self.p
        frontier: dict[str, int] = {}
        if p.initial in self.reach:
            frontier[p.initial] = w.open(p)
        if p.intake is not None and p.intake.state in self.edges:
            frontier[p.intake.state] = frontier.get(p.intake.state, 0) | w.all
        heard: set[str] = set()
        while frontier:
            for s in self.rounds:
                bits = frontier.get(s, 0)
                self.rounds[s].append(bits)
                self.arrive[s] |= bits
            nxt: dict[str, int] = {}
            for s, bits in frontier.items():
                occ = self.occupied(s, bits)
                for e in self.edges.get(s, ()):
                    if self.p.state_by_id[e.dest].terminal:
                        continue
                    new = self.move(e, bits, occ) & ~self.arrive[e.dest]
                    if new:
                        nxt[e.dest] = nxt.get(e.dest, 0) | new
            frontier = nxt
            if not frontier:  # a hand-over sent only now: its wait hears answers for every citizen there
                now = {e.source for edges in self.edges.values() for e in edges if e.kind in _ANSWERS and self._sent(e)}
                frontier = {s: self.arrive[s] for s in now - heard if self.arrive[s]}
                heard |= now

    def _sent(self, e: _Edge) -> bool:
        """Whether a citizen can be in a source of the hand-over whose answer ``e`` is."""
        assert e.transition is not None
        return any(self.arrive.get(src) for src in self.p.sources_of(e.transition))

    def move(self, e: _Edge, bits: int, occ: int) -> int:
        """Arrival slots in ``e.dest`` for citizens who arrived in ``e.source`` at ``bits``."""
        w = self.w
        match e.kind:
            case "fire":
                return occ & e.when
            case "deadline":
                return self._timed_out(e.source, bits)
            # An answer comes while the citizen is still there (the state's deadline does not
            # wait for it), until the timeout, which may fall inside a slot.
            case "approved" | "refuse":
                window = e.delay + 1 if e.delay < w.n else e.delay
                present = w.present(self.p, e.who or "")
                if self.stay.get(e.source) is None:  # no deadline: there all week, whenever they came
                    return w.dilate(occ & present, window) & e.when
                out = 0
                for a in _bits(bits):  # the answer to a request comes while that citizen is still there
                    occ_a = self.occupied(e.source, 1 << a)
                    out |= self._later(a, occ_a & present, window) & e.when & occ_a
                return out
            case "timeout":  # at the request's moment after the timeout: before the deadline passes
                out = 0
                for a in _bits(bits):
                    asked = self.occupied(e.source, 1 << a) & e.when
                    out |= self._later(a, asked, e.delay, exactly=True) & self.surely(e.source, 1 << a)
                    # a request made in a later slot than the arrival may be made earlier in its slot
                    out |= self._later(a, asked & ~(1 << a), e.delay, exactly=True) & self.occupied(e.source, 1 << a)
                return out
            case "accepted" | "declined":
                if not self._sent(e):  # nobody has sent the hand-over this answers
                    return 0
                wait = self.stay.get(e.source)
                return (self.occupied(e.source, bits) if wait is not None else w.all) & e.when
            case _:  # pragma: no cover - every edge kind is listed above
                return 0


_ANSWERS = ("accepted", "declined")
"""The edges by which a hand-over's answer moves the citizen on from its wait."""


def _forward(bits: int, length: int, n: int) -> int:
    """Every slot within ``length`` slots after a slot of ``bits``, without going round the week."""
    out, span = bits, 1
    while span * 2 <= length:
        out |= out << span
        span *= 2
    if span < length:
        out |= out << (length - span)
    return out & ((1 << n) - 1)


def _by_stay(stay: int | list[int], arrivals: int, shift: Callable[[int, int], int]) -> int:
    """``shift`` (dilate or rotate) the ``arrivals`` by the stay: one length, or one per arrival slot."""
    if isinstance(stay, int):
        return shift(arrivals, stay)
    out = 0
    for slot in _bits(arrivals):
        out |= shift(1 << slot, stay[slot])
    return out


def _or(sets: Iterable[int]) -> int:
    out = 0
    for bits in sets:
        out |= bits
    return out


def _bits(bits: int) -> Iterator[int]:
    while bits:
        low = bits & -bits
        yield low.bit_length() - 1
        bits ^= low


# -- the findings --------------------------------------------------------------------


def _needs_staff(p: Pathway, state: str, house: House, net: int, week: Week) -> int:
    """Slots at which someone responsible for the citizen in ``state`` must be on duty.

    A wait with a deadline needs nobody there (the deadline moves the citizen on). An
    appointment-based service (opening hours, not ``without_referral``) has the citizen at
    home out of its hours, where the safety net (when open) is their help.
    """
    s = p.state(state)
    if s.terminal or (s.kind is StateKind.WAITING and s.deadline is not None):
        return 0
    found = house.service_of(p.id)
    if found is not None and not found[1].without_referral and found[1].open:
        return week.open(p) | (week.all & ~net)
    return week.all


def safety_net(house: House, registry: Registry, week: Week) -> int:
    """Slots at which some service takes a citizen in acute crisis without referral.

    A service that starts pathways counts while it is open and someone responsible for
    a newly arrived citizen is on duty.
    """
    out = 0
    for service in house.services.values():
        if not service.without_referral:
            continue
        entries = [(calendar.days_of(o.days), o.hours) for o in service.open]
        bits = week.in_force(entries) if entries else week.all
        if service.pathways:
            staffed = 0
            for pid in service.pathways:
                p = registry.get(pid)
                if p is not None:
                    staffed |= week.any_present(p, [r for r in p.state(p.initial).responsible if r not in p.with_the_case])
            bits &= staffed
        out |= bits
    return out


def check_week(registry: Registry, spaces: Mapping[str, Space]) -> list[Finding]:
    """Every week-aware finding of every house in ``registry``.

    Args:
        registry: pathways with their houses.
        spaces: per pathway, its explored time-free state space: the states a run reaches
            and the transitions it can fire at all (guards, facts and places are the
            time-free check's; this proof adds the clock and who is on duty).
    """
    reach: dict[str, set[str]] = {}
    fired: dict[str, set[int]] = {}
    for p in registry.values():
        space = spaces[p.id]
        reach[p.id] = {s.id for s in p.states if space.first_in(s.id) is not None}
        if p.intake is not None:
            reach[p.id].add(p.intake.state)
        fired[p.id] = set(space.fired)
    out: list[Finding] = []
    seen: set[tuple[FindingKind, str, tuple[str, ...], tuple[str, ...], str | None]] = set()
    for house in registry.houses.values():
        mine = [p for p in registry.values() if p.house == house.id]
        shared = _shared(registry, house)
        for name in REFERENCE_WEEKS:
            week = Week(house, [*mine, *shared], name)
            net = safety_net(house, registry, week)
            found = list(_house_findings(house, week, net))
            for p in [*mine, *shared]:
                ex = _Explorer(week, p, reach.get(p.id, set()), fired.get(p.id, set()), registry)
                ex.explore()
                found += _findings(ex, house, net) if p.house is not None else [_under(f, house) for f in _findings(ex, house, net)]
            for f in found:
                key = (f.kind, f.pathway, f.states, f.transitions, f.house)
                if key not in seen:
                    seen.add(key)
                    out.append(f)
    return out


def _shared(registry: Registry, house: House) -> list[Pathway]:
    """The pathways without a house that a service of ``house`` lists, on its calendar.

    A file shared by two houses (``room_lending``) runs under each house's hours and
    staffing, so the proof checks it once per house. External pathways (the region's
    acute ward) are the hospital's, not the house's, and are left out.
    """
    return [
        attrs.evolve(p, roles={**house.roles, **p.roles}, sectors={**house.sectors, **p.sectors},
                     calendar=house.calendar_for(p.id))
        for p in registry.values()
        if p.house is None and not p.external and house.service_of(p.id) is not None
    ]


def _under(f: Finding, house: House) -> Finding:
    """``f`` found in a shared pathway, naming the house whose hours and staffing strand it."""
    return attrs.evolve(f, house=house.id, message=tr("under house {house}: {message}", house=repr(house.id), message=f.message))


def _finding(
    kind: FindingKind, pathway: str, states: tuple[str, ...], transitions: tuple[str, ...], message: str, fix: str,
    counterexample: Counterexample | None,
) -> Finding:
    return Finding(kind, pathway, states, transitions, message, fix, counterexample)


def _house_findings(house: House, week: Week, net: int) -> Iterator[Finding]:
    gap = week.all & ~net
    if gap:
        yield _finding(
            FindingKind.NO_SAFETY_NET, house.id, (), (),
            tr("no service of house {house} takes a citizen in acute crisis without referral {hours}",
               house=repr(house.id), hours=week.hours(gap)),
            tr("open a service with 'without_referral: true' at those hours and staff it (e.g. the outreach team or the overnight places)"),
            None,
        )


def _ok_within(w: Week, met: int, window: int | None) -> int:
    """Slots x such that some slot of ``met`` lies in [x, x + window)."""
    if window is None:
        return w.all if met else 0
    return _reverse(w, w.dilate(_reverse(w, met), window))


def _findings(ex: _Explorer, house: House, net: int) -> list[Finding]:
    return [*_unstaffed(ex, house, net), *_approvals(ex), *_handovers(ex)]


def _unstaffed(ex: _Explorer, house: House, net: int) -> Iterator[Finding]:
    w, p = ex.w, ex.p
    for s in p.states:
        if s.id not in ex.reach or not ex.arrive[s.id]:
            continue
        staff = [r for r in s.responsible if r not in p.with_the_case]
        if not staff:
            continue
        there = w.any_present(p, staff)
        gap = ex.occupied(s.id, ex.arrive[s.id]) & _needs_staff(p, s.id, house, net, w) & ~there
        if not gap:
            continue
        start = _gap_start(w, gap, there)
        roles = ", ".join(role_name(p, r) for r in staff)
        cx = _counterexample(ex, s.id, start, tr("nobody responsible ({roles}) is on duty", roles=roles))
        until = _next_on(w, there, start)
        lasting = tr("until {when}", when=_when(w.name, w.minute(until))) if until is not None else tr("at all")
        yield _finding(
            FindingKind.UNSTAFFED, p.id, (s.id,), (),
            _unstaffed_message(p, when=_when(w.name, w.minute(start)), state=state_name(p, s.id), roles=roles,
                               lasting=lasting, hours=w.hours(gap)),
            tr("make a role that is on duty at those hours responsible in {state} (and able to act there), or give "
               "{state} a deadline or hand-over that moves the citizen to a staffed state before the gap begins",
               state=state_name(p, s.id)),
            cx,
        )


def _unstaffed_message(p: Pathway, *, when: str, state: str, roles: str, lasting: str, hours: str) -> str:
    """Who is left alone: the citizen, or (``subject: organisation``) the organisation's request."""
    match p.subject:
        case Subject.CITIZEN:
            return tr("{when} the citizen can be in {state} and nobody responsible there ({roles}) is on duty {lasting}; "
                      "unstaffed: {hours}", when=when, state=state, roles=roles, lasting=lasting, hours=hours)
        case Subject.ORGANISATION:
            return tr("{when} the organisation's request can be in {state} and nobody responsible there ({roles}) is on "
                      "duty {lasting}; unstaffed: {hours}", when=when, state=state, roles=roles, lasting=lasting, hours=hours)
        case _:
            assert_never(p.subject)


def _approvals(ex: _Explorer) -> Iterator[Finding]:
    w, p = ex.w, ex.p
    for t in p.transitions:
        a = t.approval
        if a is None:
            continue
        window = w.slots(a.timeout) if a.timeout is not None else None
        asked_by: dict[str, int] = {}
        for src in p.sources_of(t):
            if src in ex.reach and ex.arrive.get(src):
                occ = ex.occupied(src, ex.arrive[src])
                for q in t.roles:
                    asked_by[q] = asked_by.get(q, 0) | (occ & w.present(p, q))
        asked = 0
        possible = 0
        for q, bits in asked_by.items():
            asked |= bits
            possible |= bits & _ok_within(w, ex.can_meet(t, q), window)
        bad = asked & ~possible
        if not bad:
            continue
        sources = tuple(x for x in p.sources_of(t) if x in ex.reach and ex.arrive.get(x))
        first = _first(bad)
        src = next(x for x in sources if ex.occupied(x, ex.arrive[x]) >> first & 1)
        never = (tr("can never be met by the people on duty") if a.timeout is None
                 else tr("always times out after {after}", after=_duration(a.timeout)))
        cx = _counterexample(ex, src, first, tr("the request for `{trigger}` {never}", trigger=t.trigger, never=never), request=t)
        yield _finding(
            FindingKind.APPROVAL_OUT_OF_HOURS, p.id, sources, (t.trigger,),
            tr("a request for `{trigger}` ({rule}) made {hours} {never}: too few approvers are on duty "
               "(people count, not roles; the requester never approves)",
               trigger=t.trigger, rule=approvals.describe(a), hours=w.hours(bad), never=never),
            tr("staff the approvers at those hours (e.g. an on-call leader), let the timeout last until they are back "
               "(e.g. in working days), or let fewer people approve"),
            cx,
        )


def _handovers(ex: _Explorer) -> Iterator[Finding]:
    w, p = ex.w, ex.p
    for t in p.transitions:
        h = t.handover
        if h is None or t.dest not in ex.edges:
            continue
        answer = ex.answer(t, True) | ex.answer(t, False)
        sent = 0
        for src in p.sources_of(t):
            if src in ex.reach and ex.arrive.get(src):
                occ = ex.occupied(src, ex.arrive[src])
                if t.approval is None:
                    sent |= occ & w.any_present(p, t.roles)
                else:  # sent when the approval is given
                    sent |= _or(ex.move(e, ex.arrive[src], occ) for e in ex.edges[src] if e.kind == "approved" and e.transition is t)
        bad = 0
        for slot in _bits(sent):
            if not (answer & ex.surely(t.dest, 1 << slot)):  # sent at the start of the slot: the shortest wait
                bad |= 1 << slot
        if not bad:
            continue
        first = _first(bad)
        sources = tuple(x for x in p.sources_of(t) if x in ex.reach and ex.arrive.get(x))
        waiting = state_name(p, t.dest)
        ending = tr("{receiver} cannot answer before the deadline of {state}", receiver=repr(h.to), state=waiting)
        if t.approval is None:
            src = next(x for x in sources if ex.occupied(x, ex.arrive[x]) >> first & 1)
            cx = _counterexample(ex, src, first, ending, fire=t)
        else:  # the run into the wait, its hand-over approved
            cx = _counterexample(ex, t.dest, first, ending)
        yield _finding(
            FindingKind.HANDOVER_UNANSWERED, p.id, (*sources, t.dest), (t.trigger,),
            tr("a hand-over `{trigger}` to {receiver} sent {hours} cannot be answered before the deadline of {state} "
               "passes: {receiver} is closed or its staff are off duty until then",
               trigger=t.trigger, receiver=repr(h.to), hours=w.hours(bad), state=waiting),
            tr("let the wait in {state} last until the receiving service is open (e.g. a deadline in working days), "
               "or staff the receiving intake at those hours", state=waiting),
            cx,
        )


def _reverse(w: Week, bits: int) -> int:
    """The bit set mirrored in time (slot x becomes n-1-x), to look backwards."""
    return int(format(bits, f"0{w.n}b")[::-1], 2) if bits else 0


def _duration(delta: timedelta) -> str:
    return format_duration(delta)


def _gap_start(w: Week, gap: int, there: int) -> int:
    """A slot of ``gap`` right after someone was there (the moment staff leave), if any."""
    for s in _bits(gap):
        if there >> ((s - 1) % w.n) & 1:
            return s
    return _first(gap)


def _next_on(w: Week, there: int, start: int) -> int | None:
    for k in range(1, w.n + 1):
        if there >> ((start + k) % w.n) & 1:
            return start + k
    return None


# -- timed counterexamples -----------------------------------------------------------


def _counterexample(
    ex: _Explorer, state: str, at: int, ending: str,
    *, request: Transition | None = None, fire: Transition | None = None,
) -> Counterexample | None:
    """A timed run into ``state``, where the citizen still is at slot ``at``; then the last act.

    The run arrives as late as it can (so the story ends at the moment that matters).
    """
    w, p = ex.w, ex.p
    arrival = _latest_arrival(ex, state, at)
    if arrival is None:
        return None
    path = _path(ex, state, arrival)
    if path is None:
        return None
    start_state, start_slot, edges = path
    clock = w.minute(start_slot)
    """The start of the slot of the last move, in minutes from the reference Monday 00:00."""
    offset = w.unit - max(1, min(20, w.unit // 2)) if w.unit > 1 else 0
    """How far into its slot the last move happened: the run starts late in its slot (23:40)."""
    started = clock + offset
    steps: list[Step] = []
    prev = start_slot
    for e, source_arrival, slot in edges:
        came = clock + offset
        if e.kind == "deadline":
            offset = _deadline_offset(ex, e.source, slot, offset)
        elif not ex.surely(e.source, 1 << source_arrival) >> (slot % w.n) & 1:
            offset = max(0, offset - 1)  # in time for what a later arrival allows: before the deadline passes
        clock += w.minute((slot - prev) % w.n)
        prev = slot
        steps += _steps(ex, e, came, clock + offset)
    final = clock + w.minute((at - prev) % w.n) if at != prev else clock + offset
    ends_in = state
    if request is not None:
        q = next(r for r in request.roles if w.present(p, r) >> at & 1)
        steps += _act(ex, "request", state, state, request, q, final)
    elif fire is not None:
        q = next(r for r in fire.roles if w.present(p, r) >> at & 1)
        steps += _act(ex, "fire", state, fire.dest, fire, q, final)
        ends_in = fire.dest
    elif final != clock + offset:
        steps.append(Step("wait", state, state, at=_when(w.name, final), when=_instant(w, final)))
    return Counterexample(
        p.id, start_state, p.title.en, tuple(steps), ends_in, ending,
        handed_over=_handed_over(ex, start_state, start_slot), started_at=_instant(w, started), source=p,
    )


def _deadline_offset(ex: _Explorer, state: str, slot: int, offset: int) -> int:
    """How far into ``slot`` the deadline of ``state`` passes: where the wait began, or on the dot (midnight, closing)."""
    d = ex.p.state(state).deadline
    assert d is not None
    match d.counted:
        case Counting.TIME | Counting.OPENING_HOURS:
            return offset
        case Counting.WORKING_DAYS:
            return 0
        case Counting.UNTIL_CLOSING:
            return offset if ex.w.open(ex.p) >> (slot % ex.w.n) & 1 else 0
        case _ as unreachable:
            assert_never(unreachable)


def _handed_over(ex: _Explorer, state: str, slot: int) -> bool:
    """Whether a run from ``state`` at ``slot`` begins with a hand-over: in the intake, not as a case the open service started."""
    p = ex.p
    started = state == p.initial and ex.w.open(p) >> slot & 1
    return p.intake is not None and state == p.intake.state and not started


def _instant(w: Week, minute: int) -> datetime:
    return slot_time(w.name, minute).astimezone(UTC)


def _latest_arrival(ex: _Explorer, state: str, at: int) -> int | None:
    """The latest arrival slot in ``state`` from which the citizen is still there at ``at``."""
    w = ex.w
    for back in range(w.n):
        s = (at - back) % w.n
        if ex.arrive[state] >> s & 1 and ex.occupied(state, 1 << s) >> at & 1:
            return s
    return None


def _path(ex: _Explorer, state: str, slot: int) -> tuple[str, int, list[tuple[_Edge, int, int]]] | None:
    """The moves from a start to arriving in ``state`` at ``slot``: (edge, source arrival, arrival)."""
    w = ex.w
    r = next((i for i, bits in enumerate(ex.rounds[state]) if bits >> slot & 1), None)
    if r is None:
        return None
    out: list[tuple[_Edge, int, int]] = []
    cur, cur_slot = state, slot
    while r > 0:
        found: tuple[_Edge, str, int] | None = None
        for src, rounds in ex.rounds.items():
            prev = rounds[r - 1]
            for e in ex.edges.get(src, ()) if prev else ():
                if e.dest != cur:
                    continue
                for back in range(w.n):
                    a = (cur_slot - back) % w.n
                    if prev >> a & 1 and ex.move(e, 1 << a, ex.occupied(src, 1 << a)) >> cur_slot & 1:
                        found = (e, src, a)
                        break
                if found:
                    break
            if found:
                break
        if found is None:  # pragma: no cover - every arrival after round 0 has a cause
            return None
        e, src, a = found
        out.append((e, a, cur_slot))
        cur, cur_slot = src, a
        r = next(i for i, bits in enumerate(ex.rounds[cur]) if bits >> cur_slot & 1)  # when it first arrived there
    out.reverse()
    return cur, cur_slot, out


def _act(ex: _Explorer, kind: str, state: str, dest: str, t: Transition, role: str, minute: int, person: int = 1) -> list[Step]:
    """The step that fires (or requests) ``t``, after the facts its guards read are made true.

    Facts are left to the time-free check; the week's counterexample sets them as it needs.
    """
    w = ex.w
    at, when = _when(w.name, minute), _instant(w, minute)
    name, sector = f"{role}-{person}", ex.p.roles[role].sector
    facts = []
    for g in t.guards:  # set by a role that may (the citizen gives consent; staff only record it)
        setter = next(iter(ex.p.setters(g.fact)), None)
        if setter is None:
            continue  # already holds (see _guards_settable)
        who = name if setter == role else f"{setter}-{person}"
        facts.append(Step("set_fact", state, state, fact=g.fact, value=not g.negated, at=at, when=when,
                          person=who, role=setter, sector=ex.p.roles[setter].sector))
    return [*facts, Step(kind, state, dest, trigger=t.trigger, at=at, when=when, person=name, role=role, sector=sector)]


def _steps(ex: _Explorer, e: _Edge, came: int, minute: int) -> list[Step]:
    """The steps of one move into ``e.dest`` at ``minute``, for a citizen who came into its source at ``came``."""
    w, p = ex.w, ex.p
    t = e.transition
    assert t is not None
    slot = (minute // w.unit) % w.n
    at, when = _when(w.name, minute), _instant(w, minute)
    match e.kind:
        case "fire":
            role = next(r for r in t.roles if w.present(p, r) >> slot & 1)
            return _act(ex, "fire", e.source, e.dest, t, role, minute)
        case "deadline":
            return [Step("deadline", e.source, e.dest, trigger=t.trigger, after=_duration(timedelta(minutes=minute - came)), at=at, when=when)]
        case "approved":
            q = e.who or t.roles[0]
            chosen = _approvers(ex, t, q, slot)
            steps = _act(ex, "request", e.source, e.source, t, q, minute)
            for i, (role, person) in enumerate(chosen):
                last = i == len(chosen) - 1
                steps.append(Step("approve", e.source, e.dest if last else e.source, trigger=t.trigger, person=person,
                                  role=role, sector=p.roles[role].sector, at=at, when=when))
            return steps
        case "refuse":
            q = e.who or t.roles[0]
            assert t.approval is not None
            role = next(r for r in approvals.eligible_roles(t.approval, p) if ex._others(r, q, slot) >= 1)
            return [
                *_act(ex, "request", e.source, e.source, t, q, minute),
                Step("refuse", e.source, e.dest, trigger=t.trigger, person=f"{role}-{2 if role == q else 1}", role=role,
                     sector=p.roles[role].sector, at=at, when=when),
            ]
        case "timeout":
            q = e.who or t.roles[0]
            assert t.approval is not None and t.approval.timeout is not None
            asked = minute - w.minute(e.delay)
            return [
                *_act(ex, "request", e.source, e.source, t, q, asked),
                Step("timeout", e.source, e.dest, trigger=t.trigger, after=_duration(t.approval.timeout), at=at, when=when),
            ]
        case "accepted" | "declined":
            assert t.handover is not None
            return [Step(f"handover_{e.kind}", e.source, e.dest, to=t.handover.to, at=at, when=when)]
        case _:  # pragma: no cover - every edge kind is listed above
            return []


def _approvers(ex: _Explorer, t: Transition, requester: str, slot: int) -> list[tuple[str, str]]:
    """(role, person) of approvers on duty at ``slot`` who together meet ``t``'s rule."""
    w, p = ex.w, ex.p
    a = t.approval
    assert a is not None

    def person(role: str) -> str | None:
        k = 2 if role == requester else 1
        if role in p.with_the_case:
            n = 1 if p.is_citizen(role) else k  # the citizen is one person; the network has more
        else:
            n = w.people(role, on_call=True)[slot % w.n]
        return f"{role}-{k}" if n >= k else None

    chosen: list[tuple[str, str]] = []
    match a.rule:
        case RuleKind.ALL_OF:
            chosen = [(r, who) for r in dict.fromkeys(a.roles) if (who := person(r))]
        case RuleKind.ANY_OF:
            chosen = [(r, who) for r in dict.fromkeys(a.roles) if (who := person(r))][:1]
        case RuleKind.N_OF:
            chosen = [(r, who) for r in dict.fromkeys(a.roles) if (who := person(r))][: a.n or 0]
        case RuleKind.ONE_PER_SECTOR:
            pool = approvals.eligible_roles(a, p)
            for sec in a.sectors:
                pick = next(((r, who) for r in pool if p.roles[r].sector == sec and (who := person(r))), None)
                if pick is not None:
                    chosen.append(pick)
        case _ as unreachable:
            assert_never(unreachable)
    return chosen


def week_findings(registry: Registry, *, bound: int = 1_000_000) -> list[Finding]:
    """The week-aware findings alone, exploring each pathway first (:func:`pathways.check` gives them with the rest)."""
    return check_week(registry, {p.id: Space(p, registry.resources(), bound).explore() for p in registry.values()})
