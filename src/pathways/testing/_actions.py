"""Engine actions as data, a strategy that draws them, and :func:`perform` to carry one out.

Actions are what actors do to a case: fire a trigger, approve or refuse the pending
request, set a fact, or let time pass. Drawn actors include wrong ones on purpose (a role
of another pathway, a role in the wrong sector, a stranger), because the engine must refuse
those without changing anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

import attrs
from hypothesis import strategies as st

from .._arguments import person_key
from ..approvals import rule_of
from ..case import Actor, Case, Event
from ..clock import ManualClock
from ..engine import CaseEngine
from ..errors import PathwaysError
from ..model import Pathway
from ..registry import Registry

__all__ = [
    "PERSONS",
    "Action",
    "Advance",
    "Approve",
    "Fire",
    "Refuse",
    "SetFact",
    "actions",
    "actors",
    "perform",
]

PERSONS = ("anna", "bo", "cai", "dina")
"""Staff person ids drawn by default: few, so that the same person turns up twice."""

_STRANGER_ROLE = "stranger"
_UNKNOWN_TRIGGER = "no_such_trigger"


@attrs.frozen
class Fire:
    """``actor`` fires ``trigger`` (with an approval rule: requests it)."""

    trigger: str
    actor: Actor


@attrs.frozen
class Approve:
    """``actor`` approves the pending request."""

    actor: Actor


@attrs.frozen
class Refuse:
    """``actor`` refuses the pending request."""

    actor: Actor
    reason: str = "refused in a test"


@attrs.frozen
class SetFact:
    """``actor`` records a fact in the case's context (``reason``: what the citizen said, for staff recording it)."""

    fact: str
    value: bool
    actor: Actor
    reason: str | None = None


@attrs.frozen
class Advance:
    """Time passes by ``by``; then every due deadline and timeout fires."""

    by: timedelta


Action = Fire | Approve | Refuse | SetFact | Advance


def durations(pathways: Iterable[Pathway]) -> list[timedelta]:
    """Every deadline and approval timeout in ``pathways``: the interesting clock steps."""
    out = {timedelta(minutes=1), timedelta(hours=1)}
    for p in pathways:
        out.update(s.deadline.after for s in p.states if s.deadline)
        out.update(t.approval.timeout for t in p.transitions if t.approval and t.approval.timeout)
    return sorted(out)


def actors(
    pathway: Pathway,
    *,
    roles: Sequence[str] | None = None,
    persons: Sequence[str] = PERSONS,
    wrong: bool = True,
    citizen: str | None = None,
) -> st.SearchStrategy[Actor]:
    """Actors in ``pathway``: a person acting in one of ``roles`` (default: every role).

    With ``wrong=True`` it sometimes draws actors the engine must turn away: a role in the
    wrong sector, or a role the pathway does not have. ``citizen``: the case's citizen,
    who is the person acting in the citizen's role (a citizen acts only on their own case).
    """
    pool = sorted(roles if roles is not None else pathway.roles)
    people = st.sampled_from(list(persons))
    good: st.SearchStrategy[Actor] = st.nothing()

    def actor(person: str, role: str) -> Actor:
        if citizen is not None and pathway.is_citizen(role):
            person = citizen
        return Actor(person, role, pathway.roles[role].sector if role in pathway.roles else "unknown")

    if pool:
        good = st.builds(actor, people, st.sampled_from(pool))
    if not wrong:
        return good
    sectors = sorted(pathway.sectors) or ["unknown"]
    misplaced = st.builds(
        lambda p, r, s: Actor(p, r, s if s != pathway.roles[r].sector else "nowhere"),
        people, st.sampled_from(sorted(pathway.roles)), st.sampled_from(sectors),
    ) if pathway.roles else st.nothing()
    stranger = st.builds(lambda p, s: Actor(p, _STRANGER_ROLE, s), people, st.sampled_from(sectors))
    return st.one_of(good, good, good, misplaced, stranger)


def actions(
    pathway: Pathway,
    case: Case | None = None,
    *,
    persons: Sequence[str] = PERSONS,
    advance: bool = True,
) -> st.SearchStrategy[Action]:
    """Actions on a case of ``pathway``, for driving an engine (see :func:`perform`).

    Without ``case`` every trigger, fact and actor is equally likely. With ``case`` the
    draws lean towards what can happen in its current state (its transitions fired by
    their roles, approvals by eligible roles), so that random runs get deep into the
    pathway; wrong triggers and wrong actors still come up.
    """
    everyone = actors(pathway, persons=persons)
    triggers = [*sorted(pathway.triggers), _UNKNOWN_TRIGGER]
    weighted: list[tuple[int, st.SearchStrategy[Action]]] = [
        (2, st.builds(Fire, st.sampled_from(triggers), everyone)),
        (1, st.builds(Approve, everyone)),
        (1, st.builds(Refuse, everyone)),
    ]
    if pathway.facts:
        weighted.append((1, st.builds(SetFact, st.sampled_from(sorted(pathway.facts)), st.booleans(), everyone)))
    if advance:
        weighted.append((1, st.builds(Advance, st.sampled_from(durations([pathway])))))
    if case is not None:
        weighted[:0] = _likely(pathway, case, persons)
    # one_of would merge repeated branches; a uniform pick from a weighted list keeps the weights.
    branches = [strategy for weight, strategy in weighted for _ in range(weight)]
    return st.sampled_from(range(len(branches))).flatmap(branches.__getitem__)


def _likely(pathway: Pathway, case: Case, persons: Sequence[str]) -> list[tuple[int, st.SearchStrategy[Action]]]:
    """Actions that can succeed in the case's state: fire by an allowed role, help a guard, answer a request."""
    out: list[tuple[int, st.SearchStrategy[Action]]] = []
    here = pathway.transitions_from.get(case.state, ())
    for t in here:
        if case.pending is not None and t.trigger == case.pending.trigger:
            continue  # already requested; firing it again is refused (the other draws try that)
        fire = st.builds(Fire, st.just(t.trigger), actors(pathway, roles=t.roles, persons=persons, wrong=False, citizen=case.citizen))
        # Ending the case is always possible (leave, close); lean towards going deeper.
        out.append((1 if pathway.state(t.dest).terminal else 4, fire))
    helps = sorted({(g.fact, not g.negated) for t in here for g in t.guards})
    for fact, value in helps[:2]:  # by a role that may set it; staff recording the citizen's word give a reason
        if setters := pathway.setters(fact):
            who = actors(pathway, roles=setters, persons=persons, wrong=False, citizen=case.citizen)
            out.append((1, st.builds(SetFact, st.just(fact), st.just(value), who, st.just("the citizen said so"))))
    pending = case.pending
    requested = pathway.find(case.state, pending.trigger) if pending is not None else None
    if pending is not None and requested is not None and requested.approval is not None:
        rule = rule_of(requested.approval)
        covered = rule.covered(pending.approvals)
        roles = [r for r in rule.eligible_roles(pathway) if rule.role_key(pathway, r) not in covered]
        busy = {person_key(pending.requested_by.person), *(person_key(a.actor.person) for a in pending.approvals)}
        people = [p for p in persons if person_key(p) not in busy]
        if roles and people:
            approvers = actors(pathway, roles=roles, persons=people, wrong=False, citizen=case.citizen)
            out += [(6, st.builds(Approve, approvers)), (1, st.builds(Refuse, approvers))]
        if roles:  # four-eyes: the requester, or someone who approved already, tries again
            out.append((1, st.builds(Approve, actors(pathway, roles=roles, persons=sorted(busy), wrong=False))))
    return out


def perform(engine: CaseEngine, case: Case | str, action: Action) -> list[Event]:
    """Carry out ``action`` on ``case``; returns the recorded events.

    :class:`Advance` moves the engine's :class:`~pathways.clock.ManualClock` and fires
    what became due (in every case of the engine).

    Raises:
        ActionRefused: as the engine does; nothing changed.
    """
    if isinstance(action, Fire):
        return engine.fire(case, action.trigger, action.actor)
    if isinstance(action, Approve):
        return engine.approve(case, action.actor)
    if isinstance(action, Refuse):
        return engine.refuse(case, action.actor, reason=action.reason)
    if isinstance(action, SetFact):
        return engine.set_fact(case, action.fact, action.value, action.actor, reason=action.reason)
    clock = engine.clock
    if not isinstance(clock, ManualClock):
        raise PathwaysError("advancing time needs an engine with a ManualClock (Engine(registry, clock=ManualClock()))")
    clock.advance(action.by)
    return engine.fire_due()


def registry_of(source: Pathway | Registry) -> Registry:
    """A registry for a lone pathway; a registry as it is."""
    return source if isinstance(source, Registry) else Registry([source])
