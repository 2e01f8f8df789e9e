"""Pathways seeded with one stranding fault of a named kind, for testing checkers.

Each strategy starts from a sound generated pathway (or a sound sender/receiver pair for
hand-overs) and adds one faulty spot, reachable from the start by the roles responsible
on the way. :class:`Fault` says where the spot is. The citizen can still leave from every
state (except where the fault is that they cannot): as in :mod:`pathways.check`, leaving
by choice is a proper end but not "being moved on", so a state the citizen can only leave
is still a dead end. Some kinds cannot occur alone (in a dead end its responsible roles
can fire nothing, so nobody owns the citizen there); ``Fault.also`` lists them.

The week-aware kinds (``unstaffed``, ``approval_out_of_hours``, ``handover_unanswered``,
``no_safety_net``) put the sound pathways in a generated house whose staff are on duty
around the clock, three of each role, and whose services take citizens without referral
(the receiver of a hand-over by referral only), then take time away at one spot: a state
whose only staff work weekdays 08-16, an approval only such a leader may give, a receiver
open only in the daytime, no service without referral.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from hypothesis import strategies as st

from ..approvals import rule_class
from ..house import House, Service, Shift
from ..model import (
    ApprovalRule,
    Deadline,
    Fact,
    Guard,
    Label,
    Opening,
    Pathway,
    Resource,
    Role,
    RuleKind,
    Span,
    State,
    StateKind,
    Transition,
)
from ..registry import Registry
from ._generate import DURATIONS, RESOURCE, pathways_strategy, registries

__all__ = ["FAULT_KINDS", "Fault", "faulty_pathways", "seeded_faults"]

FAULT_KINDS = (
    "dead_end",
    "trap",
    "no_owner",
    "wait_without_deadline",
    "unsatisfiable_approval",
    "guard_gap",
    "capacity_starvation",
    "handover_gap",
    "no_exit_by_choice",
    "unstaffed",
    "approval_out_of_hours",
    "handover_unanswered",
    "no_safety_net",
)
"""The stranding kinds, named as the checker's ``FindingKind`` values (the last four need a house)."""

HOUSE = "generated_house"
"""The id of the house the week-aware faults' pathways belong to."""

_AROUND_THE_CLOCK = (Shift(("every_day",), Span(0, 1440), 3),)
_DAYTIME = Span(8 * 60, 16 * 60)


@attrs.frozen(eq=False)
class Fault:
    """A registry with one seeded fault: its kind, pathway, and the states and triggers involved."""

    kind: str
    registry: Registry
    pathway_id: str
    states: tuple[str, ...]
    triggers: tuple[str, ...]
    also: tuple[str, ...] = ()
    """Kinds the same spot may also show because the fault implies them."""

    @property
    def pathway(self) -> Pathway:
        return self.registry[self.pathway_id]



def _label(text: str) -> Label:
    return Label(f"{text} (da)", text)


def _leave_without(p: Pathway, spots: set[str]) -> tuple[Transition, ...]:
    """The transitions with the citizen's ``leave`` no longer possible in ``spots`` (gone if nowhere is left)."""
    out = []
    for t in p.transitions:
        if t.trigger == "leave":
            t = attrs.evolve(t, source=tuple(s for s in p.sources_of(t) if s not in spots))
            if not t.source:
                continue
        out.append(t)
    return tuple(out)


def _with(p: Pathway, states: list[State], transitions: list[Transition], **changes: Any) -> Pathway:
    """``p`` with states added before its terminal states, and transitions added."""
    body = [s for s in p.states if not s.terminal]
    ends = [s for s in p.states if s.terminal]
    return attrs.evolve(p, states=(*body, *states, *ends), transitions=(*p.transitions, *transitions), **changes)


def _entry(draw: Any, p: Pathway) -> tuple[str, str]:
    """A state on the start chain (``s0``, ``s1``…) and a role responsible there."""
    chain = [s for s in p.states if s.id.startswith("s") and s.id[1:].isdigit()]
    state = draw(st.sampled_from(chain))
    return state.id, state.responsible[0]


def _dead_end(draw: Any, p: Pathway) -> tuple[Pathway, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    at, role = _entry(draw, p)
    stuck = State("stuck", StateKind.ACTIVE, _label("stuck"), (role,))
    p = _with(p, [stuck], [Transition("to_stuck", (at,), "stuck", roles=(role,))])
    return p, ("stuck",), ("to_stuck",), ("no_owner",)


def _trap(draw: Any, p: Pathway) -> tuple[Pathway, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    at, role = _entry(draw, p)
    a = State("loop_a", StateKind.ACTIVE, _label("loop a"), (role,))
    b = State("loop_b", StateKind.ACTIVE, _label("loop b"), (role,))
    p = _with(p, [a, b], [
        Transition("to_loop", (at,), "loop_a", roles=(role,)),
        Transition("round_a", ("loop_a",), "loop_b", roles=(role,)),
        Transition("round_b", ("loop_b",), "loop_a", roles=(role,)),
    ])
    return p, ("loop_a", "loop_b"), ("round_a", "round_b"), ()


def _no_owner(draw: Any, p: Pathway) -> tuple[Pathway, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    at, role = _entry(draw, p)
    others = [r for r in p.roles if r != role and not p.is_citizen(r)]
    responsible: tuple[str, ...] = ()
    if others and draw(st.booleans()):
        responsible = (draw(st.sampled_from(others)),)  # responsible, but can fire nothing there
    unowned = State("unowned", StateKind.ACTIVE, _label("unowned"), responsible)
    p = _with(p, [unowned], [
        Transition("to_unowned", (at,), "unowned", roles=(role,)),
        Transition("move_on", ("unowned",), "done", roles=(role,)),
    ])
    return p, ("unowned",), ("move_on",), ()


def _wait_without_deadline(draw: Any, p: Pathway) -> tuple[Pathway, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    at, role = _entry(draw, p)
    loops = draw(st.booleans())
    deadline = Deadline(draw(st.sampled_from(DURATIONS)), "wait_again") if loops else None
    waiting = State("waiting", StateKind.WAITING, _label("waiting"), (role,), deadline)
    added = [Transition("to_wait", (at,), "waiting", roles=(role,)), Transition("move_on", ("waiting",), "done", roles=(role,))]
    if loops:  # the escalation leads back into the same wait, forever
        added.append(Transition("wait_again", ("waiting",), "waiting", roles=(role,)))
    return _with(p, [waiting], added), ("waiting",), ("wait_again",) if loops else (), ()


def _unsatisfiable_approval(draw: Any, p: Pathway) -> tuple[Pathway, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The citizen asks for a step that only the citizen could approve (nobody approves their own request)."""
    at, _ = _entry(draw, p)
    citizen = p.citizen_role
    assert citizen is not None, "generated pathways have a citizen"
    kind = draw(st.sampled_from(list(RuleKind)))
    shape = rule_class(kind)
    timeout = draw(st.sampled_from(DURATIONS))
    if shape.uses_sectors:
        rule = ApprovalRule(kind, at, sectors=(p.roles[citizen].sector,), timeout=timeout)
    else:
        rule = ApprovalRule(kind, at, roles=(citizen,), n=1 if shape.uses_n else None, timeout=timeout)
    p = _with(p, [], [Transition("decide", (at,), "done", roles=(citizen,), approval=rule)])
    return p, (at,), ("decide",), ()


def _guard_gap(draw: Any, p: Pathway) -> tuple[Pathway, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    at, role = _entry(draw, p)
    fact = draw(st.sampled_from(sorted(p.facts))) if p.facts else "consent_given"
    facts = {**p.facts, fact: Fact(_label(fact), default=False)}
    gated = State("gated", StateKind.ACTIVE, _label("gated"), (role,))
    guard = Guard(fact)
    added = [
        Transition("to_gated", (at,), "gated", roles=(role,)),
        Transition("proceed", ("gated",), "done", roles=(role,), guards=(guard,)),
    ]
    if draw(st.booleans()):
        added.append(Transition("go_back", ("gated",), at, roles=(role,), guards=(guard,)))
    return _with(p, [gated], added, facts=facts), ("gated",), tuple(t.trigger for t in added[1:]), ()


def _capacity_starvation(draw: Any, p: Pathway) -> tuple[Pathway, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    at, role = _entry(draw, p)
    resources = p.resources or {RESOURCE: Resource(draw(st.integers(1, 3)), Label("Pladser", "Places"))}
    queue = State("queue", StateKind.ACTIVE, _label("queue for a place"), (role,))
    placed = State("placed", StateKind.ACTIVE, _label("placed"), (role,))
    p = _with(p, [queue, placed], [
        Transition("to_queue", (at,), "queue", roles=(role,)),
        Transition("take_place", ("queue",), "placed", roles=(role,), takes=RESOURCE),
        Transition("free_place", ("placed",), "done", roles=(role,), releases=RESOURCE),
    ], resources=resources)
    return p, ("queue",), ("take_place",), ()


def _handover_gap(draw: Any, r: Registry) -> tuple[Registry, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    sender = r["sender"]
    referred = sender.state("referred")
    if draw(st.booleans()):  # the sender stops being responsible while the referral waits
        changed, also = attrs.evolve(referred, responsible=()), ("no_owner",)
    else:  # nobody chases an unanswered referral
        changed, also = attrs.evolve(referred, deadline=None), ("wait_without_deadline",)
    sender = attrs.evolve(sender, states=tuple(changed if s.id == "referred" else s for s in sender.states))
    return Registry([sender, r["receiver"]]), ("referred",), ("refer",), also


def _no_exit_by_choice(draw: Any, p: Pathway) -> tuple[Pathway, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    if draw(st.booleans()):  # leaving ends in silence: no follow-up offer
        left = attrs.evolve(p.state("left"), follow_up=None)
        p = attrs.evolve(p, states=tuple(left if s.id == "left" else s for s in p.states))
        return p, ("left",), ("leave",), ()
    at, _ = _entry(draw, p)
    return attrs.evolve(p, transitions=_leave_without(p, {at})), (at,), ("leave",), ()


def _in_house(
    r: Registry, *, roles: Mapping[str, Role] | None = None, staffing: Mapping[str, tuple[Shift, ...]] | None = None,
    hours: Mapping[str, tuple[Opening, ...]] | None = None, safety_net: bool = True,
) -> Registry:
    """The registry's pathways as the pathways of one house, each the only pathway of its service.

    Every staff role is on duty around the clock (three people) unless ``staffing`` says
    otherwise; services are open around the clock unless ``hours`` says otherwise, and take
    citizens without referral (a receiver of hand-overs by referral) when ``safety_net``.
    """
    first = next(iter(r.values()))
    citizen = first.citizen_role
    sectors = {k: v for p in r.values() for k, v in p.sectors.items()}
    every = {**{k: v for p in r.values() for k, v in p.roles.items()}, **(roles or {})}
    side = every[citizen].sector if citizen is not None else None
    shifts = {**{role: _AROUND_THE_CLOCK for role, spec in every.items() if spec.sector != side}, **(staffing or {})}
    services = {
        f"service_{p.id}": Service(_label(f"service {p.id}"), (p.id,), (hours or {}).get(p.id, ()), safety_net and p.intake is None)
        for p in r.values()
    }
    house = House(HOUSE, _label("generated house"), "Europe/Copenhagen", sectors, every, services=services, staffing=shifts)
    pathways = [
        attrs.evolve(p, roles={**p.roles, **(roles or {})}, house=HOUSE, calendar=house.calendar_for(p.id)) for p in r.values()
    ]
    return Registry(pathways, houses=[house])


def _day_role(p: Pathway, name: str) -> dict[str, Role]:
    """A role of the entry's sector whose people work weekdays 08-16 only."""
    sector = next(r.sector for r in p.roles.values() if r.sector != "citizen")
    return {name: Role(sector, _label(name.replace("_", " ")))}


def _unstaffed(draw: Any, p: Pathway) -> tuple[Registry, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """A desk only day staff are responsible for, which the citizen can reach at night."""
    at, role = _entry(draw, p)
    roles = _day_role(p, "day_worker")
    desk = State("day_desk", StateKind.ACTIVE, _label("day desk"), ("day_worker",))
    p = _with(attrs.evolve(p, roles={**p.roles, **roles}), [desk], [
        Transition("to_day_desk", (at,), "day_desk", roles=(role,)),
        Transition("day_done", ("day_desk",), "done", roles=("day_worker",)),
    ])
    staffing = {"day_worker": (Shift(("weekdays",), _DAYTIME, draw(st.integers(1, 2))),)}
    return _in_house(Registry([p]), roles=roles, staffing=staffing), ("day_desk",), ("to_day_desk",), ()


def _approval_out_of_hours(draw: Any, p: Pathway) -> tuple[Registry, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """A step only a day leader may approve, asked for at any hour, timing out before the leader is back."""
    at, role = _entry(draw, p)
    roles = _day_role(p, "day_leader")
    timeout = draw(st.sampled_from([d for d in DURATIONS if d.total_seconds() <= 8 * 3600]))
    kind = draw(st.sampled_from([RuleKind.ALL_OF, RuleKind.ANY_OF]))
    rule = ApprovalRule(kind, at, roles=("day_leader",), timeout=timeout)
    p = _with(attrs.evolve(p, roles={**p.roles, **roles}), [], [Transition("ask_day_leader", (at,), "done", roles=(role,), approval=rule)])
    staffing = {"day_leader": (Shift(("weekdays",), _DAYTIME, 1),)}
    return _in_house(Registry([p]), roles=roles, staffing=staffing), (at,), ("ask_day_leader",), ()


def _handover_unanswered(draw: Any, r: Registry) -> tuple[Registry, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """A receiver open only on weekdays 08-16: a referral on Friday evening outlasts the sender's wait."""
    days = draw(st.sampled_from([("weekdays",), ("mon", "wed")]))  # closed longer than any generated wait (1 day)
    return _in_house(r, hours={"receiver": (Opening(days, _DAYTIME),)}), ("referred",), ("refer",), ()


def _no_safety_net(draw: Any, p: Pathway) -> tuple[Registry, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """No service of the house takes a citizen in acute crisis without referral."""
    return _in_house(Registry([p]), safety_net=False), (), (), ()


_SINGLE = {
    "dead_end": _dead_end,
    "trap": _trap,
    "no_owner": _no_owner,
    "wait_without_deadline": _wait_without_deadline,
    "unsatisfiable_approval": _unsatisfiable_approval,
    "guard_gap": _guard_gap,
    "capacity_starvation": _capacity_starvation,
    "no_exit_by_choice": _no_exit_by_choice,
}


_WEEK = {
    "unstaffed": _unstaffed,
    "approval_out_of_hours": _approval_out_of_hours,
    "no_safety_net": _no_safety_net,
}


def seeded_faults(kind: str, *, max_states: int = 4) -> st.SearchStrategy[Fault]:
    """Registries with exactly one faulty spot of ``kind`` (one of :data:`FAULT_KINDS`).

    Raises:
        ValueError: an unknown kind, with the known ones.
    """
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; known kinds: {', '.join(FAULT_KINDS)}")

    @st.composite
    def build(draw: Any) -> Fault:
        if kind in ("handover_gap", "handover_unanswered"):
            pair = draw(registries(max_states=max_states, max_extra=1))
            seed = _handover_gap if kind == "handover_gap" else _handover_unanswered
            reg, states, triggers, also = seed(draw, pair)
            return Fault(kind, reg, "sender", states, triggers, also)
        base = draw(pathways_strategy(pathway_id=f"faulty_{kind}", max_states=max_states, max_extra=2))
        if kind in _WEEK:
            reg, states, triggers, also = _WEEK[kind](draw, base)
            return Fault(kind, reg, base.id, states, triggers, also)
        p, states, triggers, also = _SINGLE[kind](draw, base)
        return Fault(kind, Registry([p]), p.id, states, triggers, also)

    return build()


def faulty_pathways(kind: str, *, max_states: int = 4) -> st.SearchStrategy[Registry]:
    """Registries seeded with one fault of ``kind``, ready for ``check(...)``.

    Use :func:`seeded_faults` to also learn where the fault is.
    """
    return seeded_faults(kind, max_states=max_states).map(lambda f: f.registry)
