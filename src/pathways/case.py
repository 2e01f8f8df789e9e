"""A case's runtime state and its audit events; small, mutable, separate from the model.

The history is the source of truth: :func:`apply` is the *only* way a case changes, used
by the engine when it acts and by :func:`replay` when it rebuilds a case from its events,
so replaying a history always yields the current state.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs
import cattrs

from . import calendar
from ._converter import converter
from .errors import SnapshotError
from .model import Pathway

__all__ = [
    "Actor",
    "Approval",
    "Case",
    "ClockReason",
    "Event",
    "EventKind",
    "Link",
    "PendingApproval",
    "case_from_json",
    "case_to_json",
    "replay",
]

SNAPSHOT_FORMAT = 1


@attrs.frozen
class Actor:
    """Who acts: a person (by staff id), the role they act in, and its sector."""

    person: str
    role: str
    sector: str

    def __str__(self) -> str:
        return f"{self.person} ({self.role}, {self.sector})"


@attrs.frozen
class Approval:
    """One person's approval of a pending request."""

    actor: Actor
    at: datetime


@attrs.frozen
class PendingApproval:
    """A transition that waits for shared-leadership approval."""

    trigger: str
    requested_by: Actor
    requested_at: datetime
    approvals: tuple[Approval, ...] = ()


@attrs.frozen
class Link:
    """The other side of a hand-over: its case id and the sender's hand-over trigger."""

    case_id: str
    trigger: str


class ClockReason(enum.Enum):
    """The reason the engine writes on an event the clock caused (no person acted); a person's
    reason is their own words."""

    APPROVAL_TIMED_OUT = "approval timed out"
    DEADLINE_PASSED = "deadline passed"


class EventKind(enum.Enum):
    """What an audit event records."""

    STARTED = "started"
    FIRED = "fired"
    """A transition happened (by an actor, or after its approvals were complete)."""
    ESCALATED = "escalated"
    """A state's deadline passed and its escalation fired (actor is ``None``)."""
    REQUESTED = "requested"
    APPROVED = "approved"
    REFUSED = "refused"
    """Approval refused, or timed out (actor ``None``); the case took the refusal path."""
    FACT_SET = "fact_set"
    HANDOVER_ACCEPTED = "handover_accepted"
    HANDOVER_DECLINED = "handover_declined"


@attrs.frozen
class Event:
    """One append-only audit record; ``seq`` counts from 0 within its case."""

    case_id: str
    seq: int
    at: datetime
    kind: EventKind
    from_state: str
    to_state: str
    actor: Actor | None = None
    trigger: str | None = None
    approvals: tuple[Approval, ...] = ()
    reason: str | None = None
    facts: Mapping[str, bool] = attrs.field(factory=dict, hash=False)
    link: Link | None = None


@attrs.define
class Case:
    """One citizen in one pathway: where they are, what is pending, what they hold.

    ``citizen`` is a pseudonymous id chosen by the host; never a CPR number.
    """

    id: str
    citizen: str
    pathway_id: str
    version: int
    state: str
    entered_at: datetime
    context: dict[str, bool] = attrs.field(factory=dict)
    deadline_at: datetime | None = None
    pending: PendingApproval | None = None
    holds: dict[str, int] = attrs.field(factory=dict)
    referral: Link | None = None
    """While a hand-over waits: the receiving case."""
    referred_by: Link | None = None
    """For a case started by a hand-over: the sending case."""
    history: list[Event] = attrs.field(factory=list)
    """The events so far, oldest first (empty for a case read from a store to act on)."""
    seq: int = 0
    """How many events the case has had; the next event gets this sequence number.

    A field, not ``len(history)``: a case read from a store for one action carries its
    seq (what optimistic concurrency checks) without its whole history.
    """

    def due_at(self, pathway: Pathway) -> datetime | None:
        """When something happens by itself next: a state deadline or an approval timeout."""
        times = [self.deadline_at] if self.deadline_at is not None else []
        if self.pending is not None:
            t = pathway.find(self.state, self.pending.trigger)
            if t is not None and t.approval is not None and t.approval.timeout is not None:
                times.append(self.pending.requested_at + t.approval.timeout)
        return min(times) if times else None


def holds_after(holds: Mapping[str, int], event: Event, pathway: Pathway) -> dict[str, int]:
    """The places a case holds after ``event``: taken, released, or all freed at the end."""
    if pathway.state(event.to_state).terminal:
        return {}
    out = dict(holds)
    if event.kind is EventKind.FIRED or event.kind is EventKind.ESCALATED:
        t = pathway.find(event.from_state, event.trigger or "")
        if t is not None and t.releases:
            out[t.releases] = out.get(t.releases, 0) - 1
            if out[t.releases] <= 0:
                del out[t.releases]
        if t is not None and t.takes:
            out[t.takes] = out.get(t.takes, 0) + 1
    return out


def _move(case: Case, pathway: Pathway, to: str, at: datetime) -> None:
    state = pathway.state(to)
    case.state = to
    case.entered_at = at
    case.deadline_at = calendar.due(state.deadline, pathway.calendar, at) if state.deadline else None
    case.pending = None
    case.referral = None
    if state.terminal:
        case.holds = {}


def apply(case: Case, event: Event, pathway: Pathway, *, holds: dict[str, int] | None = None) -> None:
    """Apply one event to a case; the single place where a case changes.

    ``holds`` is :func:`holds_after` for this event when the caller has worked it out
    already (the engine does, to reserve the places), so it is computed once per event.
    """
    kind = event.kind
    if kind is EventKind.FIRED or kind is EventKind.ESCALATED:
        t = pathway.find(event.from_state, event.trigger or "")
        assert t is not None, f"event {event.seq} names no transition"
        case.holds = holds if holds is not None else holds_after(case.holds, event, pathway)
        case.context.update(t.sets)
        _move(case, pathway, event.to_state, event.at)
        if t.handover is not None and event.link is not None:
            case.referral = event.link
    elif kind is EventKind.REQUESTED:
        assert event.actor is not None and event.trigger is not None
        case.pending = PendingApproval(event.trigger, event.actor, event.at)
    elif kind is EventKind.APPROVED:
        assert case.pending is not None
        case.pending = attrs.evolve(case.pending, approvals=event.approvals)
    elif kind in (EventKind.REFUSED, EventKind.HANDOVER_ACCEPTED, EventKind.HANDOVER_DECLINED):
        _move(case, pathway, event.to_state, event.at)
    elif kind is EventKind.FACT_SET:
        case.context.update(event.facts)
    elif kind is EventKind.STARTED:
        case.context.update(event.facts)
        _move(case, pathway, event.to_state, event.at)
        case.referred_by = event.link
    case.seq = event.seq + 1
    case.history.append(event)


def new_case(event: Event, citizen: str, pathway: Pathway) -> Case:
    """An empty case for a STARTED event; :func:`apply` the event to begin it."""
    return Case(
        id=event.case_id,
        citizen=citizen,
        pathway_id=pathway.id,
        version=pathway.version,
        state=event.to_state,
        entered_at=event.at,
    )


def replay(pathway: Pathway, citizen: str, events: Iterable[Event]) -> Case:
    """Rebuild a case from its history; equals the live case when the history is whole."""
    events = list(events)
    if not events or events[0].kind is not EventKind.STARTED:
        raise SnapshotError("a history must begin with a 'started' event")
    case = new_case(events[0], citizen, pathway)
    for expected, event in enumerate(events):
        if event.seq != expected:
            raise SnapshotError(f"case {case.id!r}: event {expected} is missing (found seq {event.seq})")
        apply(case, event, pathway)
    return case


def case_to_json(case: Case) -> dict[str, Any]:
    """A plain-JSON snapshot of the case, naming its pathway id and version."""
    data: dict[str, Any] = converter.unstructure(case)
    return {"format": SNAPSHOT_FORMAT, **data}


def case_from_json(data: Mapping[str, Any], pathway: Pathway) -> Case:
    """Restore a snapshot made by :func:`case_to_json` against its pathway version.

    Raises:
        SnapshotError: the snapshot is malformed, of another format, or belongs to
            another pathway or version (migrate the case first).
    """
    if not isinstance(data, Mapping) or data.get("format") != SNAPSHOT_FORMAT:
        raise SnapshotError(f"not a pathways case snapshot (expected 'format': {SNAPSHOT_FORMAT})")
    key = (data.get("pathway_id"), data.get("version"))
    if key != pathway.key:
        raise SnapshotError(
            f"snapshot of case {data.get('id')!r} belongs to pathway {key[0]!r} version {key[1]}, "
            f"not {pathway.id!r} version {pathway.version}; restore it against that version "
            "or migrate the case to the new version first"
        )
    body = {k: v for k, v in data.items() if k != "format"}
    if "seq" not in body and isinstance(body.get("history"), list):  # written before seq was a field
        body["seq"] = len(body["history"])
    try:
        case = converter.structure(body, Case)
    except Exception as exc:
        details = "; ".join(cattrs.transform_error(exc, path="snapshot")) if isinstance(exc, cattrs.BaseValidationError) else str(exc)
        raise SnapshotError(f"malformed snapshot of case {data.get('id')!r}: {details}") from None
    if case.state not in pathway.state_by_id:
        raise SnapshotError(f"snapshot of case {case.id!r} is in state {case.state!r}, which {pathway.id!r} v{pathway.version} does not have")
    _consistent(case, pathway)
    return case


def _consistent(case: Case, pathway: Pathway) -> None:
    """What a snapshot must agree with: its pathway's facts and resources, and its own history."""
    where = f"snapshot of case {case.id!r}"
    unknown = sorted(set(case.context) - set(pathway.facts))
    if unknown:
        raise SnapshotError(f"{where} names facts {', '.join(map(repr, unknown))} that {pathway.id!r} v{pathway.version} does not have")
    if any(not isinstance(v, bool) for v in case.context.values()):
        raise SnapshotError(f"{where} holds a fact that is not true or false")
    held = {res: n for res, n in case.holds.items() if n}
    if any(res not in pathway.resources or n < 0 for res, n in held.items()):
        raise SnapshotError(f"{where} holds places of unknown resources or a negative count")
    if pathway.state(case.state).terminal and held:
        raise SnapshotError(f"{where} is closed (state {case.state!r}) but still holds places of {', '.join(sorted(held))}")
    for i, event in enumerate(case.history):
        if event.case_id != case.id:
            raise SnapshotError(f"{where}: event {i} belongs to case {event.case_id!r}")
        if event.seq != i:
            raise SnapshotError(f"{where}: event {i} is missing (found seq {event.seq})")
    if case.history and len(case.history) != case.seq:
        raise SnapshotError(f"{where}: its history has {len(case.history)} events but its seq is {case.seq}")
