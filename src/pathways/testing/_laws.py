"""The rules every case history must obey, checked event by event against the definition.

These are written from the model alone (roles, sectors, guards, approval rules, deadlines),
not from the engine's own checks, so that a bug in the engine shows up as a broken law.
Each function returns what is wrong in words, or ``None``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping

from .._arguments import person_key
from ..approvals import eligible_roles, is_met
from ..case import Actor, Approval, Case, Event, EventKind
from ..model import FactAccess, Pathway, Transition

__all__ = ["can_finish", "capacity_problems", "event_problem", "story"]


def can_finish(pathway: Pathway) -> frozenset[str]:
    """The states from which staff or time can move the citizen on to a terminal state.

    Edges: transitions, refusal paths of approvals, and a hand-over's accepted/declined;
    not the citizen leaving (a transition into a ``left_by_choice`` terminal): as in
    :mod:`pathways.check`, a state that only ends when the citizen gives up strands them.
    """
    back: dict[str, set[str]] = {s.id: set() for s in pathway.states}
    for t in pathway.transitions:
        if pathway.is_leaving(t):
            continue
        for src in pathway.sources_of(t):
            targets = [t.dest]
            if t.approval is not None:
                targets.append(t.approval.on_refusal)
            for dest in targets:
                back.setdefault(dest, set()).add(src)
            if t.handover is not None:
                for dest in (t.handover.accepted, t.handover.declined):
                    back.setdefault(dest, set()).add(t.dest)
    done = {s.id for s in pathway.states if s.terminal}
    queue = deque(done)
    while queue:
        for prev in back.get(queue.popleft(), ()):
            if prev not in done:
                done.add(prev)
                queue.append(prev)
    return frozenset(done)


def _acts_as(pathway: Pathway, actor: Actor | None, roles: Iterable[str]) -> str | None:
    if actor is None:
        return "it has no actor"
    role = pathway.roles.get(actor.role)
    if role is None:
        return f"{actor} has a role the pathway does not know"
    if role.sector != actor.sector:
        return f"{actor} acts in sector {actor.sector!r} but role {actor.role!r} belongs to {role.sector!r}"
    allowed = tuple(roles)
    if actor.role not in allowed:
        return f"{actor} is not in the allowed roles ({', '.join(allowed)})"
    return None


def _approvals_problem(pathway: Pathway, t: Transition, requester: Actor, given: tuple[Approval, ...]) -> str | None:
    assert t.approval is not None
    people = [person_key(a.actor.person) for a in given]
    if len(set(people)) != len(people):
        return f"one person approved twice: {', '.join(a.actor.person for a in given)}"
    if person_key(requester.person) in people:
        return f"{requester.person} approved their own request (four-eyes)"
    for a in given:
        problem = _acts_as(pathway, a.actor, eligible_roles(t.approval, pathway))
        if problem:
            return f"approval by {a.actor} does not count: {problem}"
    return None


def event_problem(pathway: Pathway, before: Case, e: Event) -> str | None:
    """What is unlawful about ``e`` happening to a case that was ``before``; ``None`` if lawful."""
    if e.seq != len(before.history):
        return f"event has seq {e.seq}, expected {len(before.history)}"
    if e.kind is EventKind.STARTED:
        return "a case was started twice" if before.history else None
    if e.from_state != before.state:
        return f"event starts from {e.from_state!r} but the case was in {before.state!r}"
    if e.actor is not None and pathway.is_citizen(e.actor.role) and person_key(e.actor.person) != person_key(before.citizen):
        return f"{e.actor} acted as the citizen on another citizen's case"
    if pathway.state(before.state).terminal:
        return f"the case changed after it had ended in {before.state!r}"
    if e.kind in (EventKind.FIRED, EventKind.ESCALATED, EventKind.REQUESTED):
        return _fired_problem(pathway, before, e)
    if e.kind in (EventKind.APPROVED, EventKind.REFUSED):
        return _answer_problem(pathway, before, e)
    if e.kind is EventKind.FACT_SET:
        if e.to_state != e.from_state:
            return "setting a fact moved the case"
        if any(f not in pathway.facts for f in e.facts):
            return f"set unknown facts {sorted(e.facts)}"
        problem = _acts_as(pathway, e.actor, pathway.roles)
        if problem or e.actor is None:
            return problem
        for fact in e.facts:
            access = pathway.fact_access(fact, e.actor.role)
            if access is FactAccess.NONE:
                return f"{e.actor} set {fact!r}, which role {e.actor.role!r} may not set"
            if access is FactAccess.RECORD and not (e.reason or "").strip():
                return f"{e.actor} recorded {fact!r} on the citizen's word without a reason"
        return None
    # A hand-over was answered by the receiving case.
    if before.referral is None or e.link is None or e.link.case_id != before.referral.case_id:
        return "a hand-over answer arrived although the case awaits none from that case"
    handover = next((t.handover for t in pathway.transitions if t.trigger == before.referral.trigger and t.handover), None)
    if handover is None:
        return f"the case awaits an answer to {before.referral.trigger!r}, which is no hand-over"
    want = handover.accepted if e.kind is EventKind.HANDOVER_ACCEPTED else handover.declined
    return None if e.to_state == want else f"the hand-over answer moved the case to {e.to_state!r}, not {want!r}"


def _fired_problem(pathway: Pathway, before: Case, e: Event) -> str | None:
    t = pathway.find(before.state, e.trigger or "")
    if t is None:
        return f"no transition {e.trigger!r} leaves {before.state!r}"
    want = before.state if e.kind is EventKind.REQUESTED else t.dest
    if e.to_state != want:
        return f"moved to {e.to_state!r} although {t.trigger!r} leads to {want!r}"
    if e.kind is EventKind.ESCALATED:
        deadline = pathway.state(before.state).deadline
        if e.actor is not None or deadline is None or deadline.trigger != t.trigger:
            return f"{t.trigger!r} fired as an escalation but is not the deadline of {before.state!r}"
        if before.deadline_at is None or e.at != before.deadline_at:
            return f"the escalation fired at {e.at.isoformat()}, but the deadline was {before.deadline_at}"
        return None
    problem = _acts_as(pathway, e.actor, t.roles)
    if problem:
        return f"moved without permission: {problem}"
    failed = [str(g) for g in t.guards if not g.holds(before.context)]
    if failed:
        return f"moved although guard(s) {', '.join(failed)} did not hold"
    if e.kind is EventKind.REQUESTED:
        return None if t.approval is not None else f"{t.trigger!r} needs no approval but was requested"
    if t.approval is None:
        return None if not e.approvals else f"{t.trigger!r} needs no approval but carries approvals"
    pending = before.pending
    if pending is None or pending.trigger != t.trigger or pending.requested_by != e.actor:
        return f"{t.trigger!r} needs approval ({t.approval.rule.value}) but fired without a request by {e.actor}"
    if e.approvals != pending.approvals or not is_met(t.approval, e.approvals):
        return f"{t.trigger!r} fired before its approval rule was met ({len(e.approvals)} approval(s))"
    return _approvals_problem(pathway, t, pending.requested_by, e.approvals)


def _answer_problem(pathway: Pathway, before: Case, e: Event) -> str | None:
    pending = before.pending
    if pending is None or pending.trigger != e.trigger:
        return f"answered a request for {e.trigger!r} that was not pending"
    t = pathway.find(before.state, pending.trigger)
    if t is None or t.approval is None:
        return f"the pending {pending.trigger!r} is no transition with an approval rule"
    if e.kind is EventKind.APPROVED:
        if e.to_state != before.state:
            return "an approval that did not complete the rule moved the case"
        if e.approvals[:-1] != pending.approvals or not e.approvals:
            return "an approval rewrote the approvals given before"
        return _approvals_problem(pathway, t, pending.requested_by, e.approvals)
    if e.to_state != t.approval.on_refusal:
        return f"a refusal moved the case to {e.to_state!r}, not to on_refusal {t.approval.on_refusal!r}"
    if e.actor is None:
        if t.approval.timeout is None or e.at != pending.requested_at + t.approval.timeout:
            return "a request was refused by itself although its timeout had not passed"
        return None
    person = person_key(e.actor.person)
    if person == person_key(pending.requested_by.person) or any(person_key(a.actor.person) == person for a in pending.approvals):
        return f"{e.actor.person} refused a request they had made or already approved"
    return _acts_as(pathway, e.actor, eligible_roles(t.approval, pathway))


def capacity_problems(
    capacities: Mapping[str, int], in_use: Mapping[str, int], cases: Iterable[tuple[Case, bool]]
) -> list[str]:
    """Places counted by the ledger must equal the places cases hold, within capacity.

    ``cases`` pairs each case with whether its state is terminal.
    """
    held: dict[str, int] = dict.fromkeys(capacities, 0)
    out: list[str] = []
    for case, terminal in cases:
        for res, n in case.holds.items():
            if n < 1 or res not in capacities:
                out.append(f"case {case.id!r} holds {n} of {res!r}")
            if terminal:
                out.append(f"case {case.id!r} ended in {case.state!r} but still holds {n} of {res!r}")
            held[res] = held.get(res, 0) + n
    for res, cap in capacities.items():
        if in_use.get(res, 0) != held[res]:
            out.append(f"the ledger counts {in_use.get(res, 0)} places of {res!r} in use, but cases hold {held[res]}")
        if held[res] > cap:
            out.append(f"{held[res]} places of {res!r} are held, more than its capacity {cap}")
    return out


def story(case: Case) -> str:
    """The case's history, one event a line, for failure messages."""
    lines = [f"case {case.id!r} ({case.pathway_id} v{case.version}), now in {case.state!r}:"]
    for e in case.history:
        who = str(e.actor) if e.actor else "(nobody: by itself)"
        extra = f" approvals={[a.actor.person for a in e.approvals]}" if e.approvals else ""
        extra += f" facts={dict(e.facts)}" if e.facts and e.kind is not EventKind.STARTED else ""
        lines.append(f"  {e.seq:>3} {e.at:%d %H:%M} {e.kind.value:<17} {e.trigger or '-':<16} {e.from_state} -> {e.to_state}  by {who}{extra}")
    return "\n".join(lines)
