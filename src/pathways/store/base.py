"""The case-store interface and the logic every back-end shares.

A store keeps two things per case: the append-only event rows (the audit trail, the
source of truth, each hashed over the one before) and one current-state row for fast
reads. Back-ends differ only in *where* rows live; how a case becomes rows (snapshot,
hash, due time, owners) is decided here once, so memory, SQLite and PostgreSQL agree.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import attrs

from .._arguments import ident, person_key
from .._converter import converter
from ..approvals import open_slots
from ..case import Actor, Approval, Case, Event, EventKind, Link
from ..errors import CapacityError, ConcurrentUpdate, NoCapacity, StoreError, UnreadableCase
from ..model import Pathway
from .keys import AuditKeys

__all__ = [
    "GENESIS",
    "ApprovalWait",
    "CaseStore",
    "CaseSummary",
    "CaseWrite",
    "Loaded",
    "MigrationRecord",
    "case_write",
    "citizen_key",
    "fits",
    "unchanged",
]

GENESIS = "0" * 64
"""The ``prev_hash`` of a case's first event."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@attrs.frozen
class CaseSummary:
    """The current-state row of a case, as host queries return it (no context values)."""

    id: str
    citizen: str
    pathway_id: str
    version: int
    state: str
    seq: int
    due_at: datetime | None
    terminal: bool


@attrs.frozen
class ApprovalWait:
    """One open slot of a pending approval request: who (role, sector) could answer it.

    The inbox of :meth:`CaseStore.awaiting`. ``requested_by`` and ``approved_by`` are
    staff ids (never the citizen's); a person is not asked to approve their own request
    nor one they already approved (four-eyes).
    """

    case_id: str
    pathway_id: str
    trigger: str
    role: str
    sector: str
    requested_by: str
    requested_at: datetime
    approved_by: tuple[str, ...] = ()


@attrs.frozen
class Loaded:
    """A case read for one action: its state, the stored seq and the hash of its last event.

    ``case.history`` is empty (``case.seq`` is the stored seq); read the history with
    :meth:`CaseStore.history`. ``seq`` and ``version`` keep what was read, so the write
    can be guarded by them after the action has moved ``case`` on.
    """

    case: Case
    head_hash: str
    seq: int = attrs.field(default=attrs.Factory(lambda self: self.case.seq, takes_self=True))
    version: int = attrs.field(default=attrs.Factory(lambda self: self.case.version, takes_self=True))


@attrs.frozen
class CaseWrite:
    """What one action does to one case; a store applies a list of these atomically."""

    case: Case
    """The case after the action (its history may lack the events before ``events``)."""
    expected_seq: int | None
    """The seq the case had when read; ``None`` for a case started by this action."""
    events: tuple[Event, ...]
    prev_hash: str
    due_at: datetime | None
    owners: tuple[tuple[str, str], ...]
    """(role, sector) pairs responsible for the case in its new state."""
    terminal: bool
    owners_changed: bool
    """Whether ``owners`` differ from the stored ones (so the owner rows are rewritten)."""
    waits: tuple[ApprovalWait, ...] = ()
    """The open slots of the case's pending approval request (none when nothing is pending)."""
    waits_changed: bool = False
    """Whether the pending request changed (so its inbox rows are rewritten)."""


@attrs.frozen
class MigrationRecord:
    """A case moved from one definition version to the next (kept for replay and audit)."""

    case_id: str
    at_seq: int
    pathway_id: str
    from_version: int
    to_version: int
    from_state: str
    to_state: str
    at: datetime


class CaseStore(Protocol):
    """Durable cases: one interface, several back-ends (memory, SQLite, PostgreSQL).

    Writes are all-or-nothing: :meth:`commit` appends every event, moves every case row
    (``UPDATE … WHERE seq = expected``) and adjusts every shared place, or raises and
    changes nothing.
    """

    url: str
    """Where the store lives, without any password."""
    audit_keys: AuditKeys | None
    """The HMAC keys events are chained with (``None``: an unkeyed audit, see :mod:`.keys`)."""

    def ensure_resources(self, capacities: Mapping[str, int]) -> None:
        """Create the rows of shared resources; set their capacity to the definitions'."""

    def load(self, case_id: str) -> Loaded:
        """Read a case for acting on it (raises UnknownCase)."""

    def commit(self, writes: Sequence[CaseWrite], deltas: Mapping[str, int]) -> None:
        """Apply writes and place deltas in one transaction.

        Raises:
            ConcurrentUpdate: a case moved on since it was read (or already exists).
            NoCapacity: taking places would exceed a resource's capacity.
        """

    def exists(self, case_id: str) -> bool: ...

    def get(self, case_id: str, *, history: bool = True) -> Case:
        """A case with its full history (or an empty one when ``history`` is false)."""

    def history(self, case_id: str) -> list[Event]: ...

    def summary(self, case_id: str) -> CaseSummary: ...

    def in_state(self, pathway_id: str, state: str, *, limit: int = 100, after: str = "") -> list[CaseSummary]:
        """Cases of a pathway in a state, by id (``after``: the last id of the previous page)."""

    def owned_by(
        self, *, role: str | None = None, sector: str | None = None, limit: int = 100, after: str = ""
    ) -> list[CaseSummary]:
        """Cases whose current state names ``role`` (or a role of ``sector``) responsible."""

    def due_before(self, when: datetime, *, limit: int = 100) -> list[CaseSummary]:
        """Cases with a deadline or approval timeout at or before ``when``, soonest first.

        With ``when`` = now these are the overdue cases: due, and not yet fired by a worker.
        """

    def awaiting(
        self, *, role: str | None = None, sector: str | None = None, person: str | None = None, limit: int = 100
    ) -> list[ApprovalWait]:
        """Approval requests waiting for ``role`` (or any role of ``sector``), oldest first.

        The inbox of a leader: with ``person``, requests that person asked for or has
        already approved are left out (four-eyes). One entry per case.
        """

    def of_citizen(self, citizen: str, *, limit: int = 100) -> list[CaseSummary]:
        """Every case of one citizen, across pathways and definition versions, by id."""

    def lag(self, now: datetime) -> timedelta:
        """How far the deadline worker is behind: ``now`` minus the oldest due time not yet fired (0 if none)."""

    def on_version(self, pathway_id: str, version: int) -> list[str]:
        """Ids of the open (non-terminal) cases running on one definition version."""

    def in_use(self, resource: str) -> int: ...

    def resources(self) -> dict[str, tuple[int, int]]:
        """Every shared resource: (capacity, in use)."""

    def case_ids(self) -> list[str]: ...

    def event_rows(self) -> Iterator[dict[str, Any]]:
        """Every stored event row, by case id and seq (for audit)."""

    def heads(self) -> dict[str, tuple[int, str]]:
        """Per case: the stored seq and the hash of its last event (for audit)."""

    def case_rows(self) -> Iterator[dict[str, Any]]:
        """Every stored case row with its owner rows as ``owners`` (for audit), by id."""

    def add_checkpoint(self, record: Mapping[str, Any], heads: Sequence[tuple[str, int, str]]) -> None:
        """Store a signed checkpoint and the case heads it covers (see :mod:`.checkpoint`)."""

    def checkpoints(self) -> list[dict[str, Any]]:
        """Every stored checkpoint, oldest first."""

    def checkpoint_heads(self, n: int) -> list[tuple[str, int, str]]:
        """The (case id, seq, head hash) rows checkpoint ``n`` covers, by case id."""

    def migrate(self, write: CaseWrite, record: MigrationRecord) -> None:
        """Move a case to a new definition version (optimistic on its seq)."""

    def migrations(self, case_id: str) -> list[MigrationRecord]: ...

    def claim_due(self, when: datetime, *, skip: Collection[str] = ()) -> contextlib.AbstractContextManager[CaseSummary | None]:
        """Hold the soonest case due by ``when`` (not in ``skip``) while it is fired; ``None`` if none.

        Inside the block, verbs of a :class:`~pathways.store.DurableEngine` on this store and
        thread act on the claimed case; concurrent workers claim different cases where the
        back-end can (PostgreSQL ``SKIP LOCKED``), and the seq guard keeps every
        escalation single where it cannot.
        """

    def close(self) -> None: ...


# -- times ---------------------------------------------------------------------------


def to_micros(when: datetime) -> int:
    """A sortable integer for an aware datetime: microseconds since 1970 UTC."""
    if when.tzinfo is None:
        raise StoreError(f"a stored time must carry a time zone (got naive {when.isoformat()}); use an aware clock")
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int | None) -> datetime | None:
    if micros is None:
        return None
    return datetime.fromtimestamp(micros // 1_000_000, UTC).replace(microsecond=micros % 1_000_000)


def iso_time(when: datetime) -> str:
    """How event rows store a time: UTC ISO-8601 with microseconds (sorts as text)."""
    return _iso(when)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="microseconds")


# -- events <-> rows -------------------------------------------------------------------


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_LATER_COLUMNS = ("key_id", "citizen")
"""Event columns added in schema 3; left out of the hash when empty, so older rows still verify."""


def event_hash(row: Mapping[str, Any], keys: AuditKeys | None = None) -> str:
    """The MAC of an event row over its canonical JSON (every column but ``hash``).

    HMAC-SHA256 under the row's ``key_id`` when it has one (``keys`` must hold it), else
    plain SHA-256 (an unkeyed row hashes as rows did before keys existed).

    Raises:
        KeyError: the row names a key that ``keys`` does not hold.
    """
    key_id = row.get("key_id")
    body = {k: v for k, v in row.items() if k != "hash" and not (k in _LATER_COLUMNS and v is None)}
    data = _dumps(body).encode()
    if key_id is None:
        return hashlib.sha256(data).hexdigest()
    if keys is None or key_id not in keys.keys:
        raise KeyError(key_id)
    return keys.mac(key_id, data)


def event_row(
    event: Event, pathway_id: str, version: int, prev_hash: str, keys: AuditKeys | None = None, citizen: str | None = None,
) -> dict[str, Any]:
    """The stored form of an event, chained to ``prev_hash`` under the current key (if any).

    The first event also carries the citizen, so the audit can prove the case row's citizen.
    """
    actor = event.actor
    row: dict[str, Any] = {
        "case_id": event.case_id,
        "seq": event.seq,
        "at": _iso(event.at),
        "kind": event.kind.value,
        "actor_person": actor.person if actor else None,
        "actor_role": actor.role if actor else None,
        "actor_sector": actor.sector if actor else None,
        "trigger": event.trigger,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "approvals": _dumps([
            {"person": a.actor.person, "role": a.actor.role, "sector": a.actor.sector, "at": _iso(a.at)}
            for a in event.approvals
        ]),
        "reason": event.reason,
        "facts": _dumps(dict(event.facts)),
        "link": _dumps({"case_id": event.link.case_id, "trigger": event.link.trigger}) if event.link else None,
        "pathway_id": pathway_id,
        "pathway_version": version,
        "prev_hash": prev_hash,
        "key_id": keys.current if keys is not None else None,
        "citizen": citizen if event.seq == 0 else None,
    }
    row["hash"] = event_hash(row, keys)
    return row


def row_event(row: Mapping[Any, Any]) -> Event:
    """Rebuild an :class:`Event` from its stored row."""
    actor = Actor(row["actor_person"], row["actor_role"], row["actor_sector"]) if row["actor_person"] is not None else None
    link_data = json.loads(row["link"]) if row["link"] else None
    return Event(
        case_id=row["case_id"],
        seq=row["seq"],
        at=datetime.fromisoformat(row["at"]),
        kind=EventKind(row["kind"]),
        from_state=row["from_state"],
        to_state=row["to_state"],
        actor=actor,
        trigger=row["trigger"],
        approvals=tuple(
            Approval(Actor(a["person"], a["role"], a["sector"]), datetime.fromisoformat(a["at"]))
            for a in json.loads(row["approvals"])
        ),
        reason=row["reason"],
        facts=json.loads(row["facts"]),
        link=Link(link_data["case_id"], link_data["trigger"]) if link_data else None,
    )


def chain(write: CaseWrite, keys: AuditKeys | None = None) -> list[dict[str, Any]]:
    """The event rows of a write, each MAC'd over the one before."""
    rows = []
    prev = write.prev_hash
    for event in write.events:
        row = event_row(event, write.case.pathway_id, write.case.version, prev, keys, write.case.citizen)
        rows.append(row)
        prev = row["hash"]
    return rows


# -- the rules every back-end enforces ------------------------------------------------


def citizen_key(citizen: str) -> str:
    """How every store finds a citizen's cases: SHA-256 (hex) of the normalised id.

    The one rule for people (:func:`~pathways._arguments.person_key`: NFKC, case-folded),
    so ``P-1``, ``p-1`` and its full-width spelling are one citizen to ``of_citizen``, as
    to the engine. Digested because the normalised id can be far longer than the id (NFKC
    turns the one character U+FDFA into 18): the column and its index keep 64 characters.
    """
    return hashlib.sha256(person_key(citizen).encode()).hexdigest()


def unchanged(stored_seq: Any, stored_version: Any, expected_seq: Any, expected_version: Any) -> Any:
    """Optimistic concurrency: a case row is written only if nobody moved it since it was read.

    One rule for every back-end: on plain values (the memory store) it is a ``bool``; on
    SQLAlchemy columns and parameters it is the ``WHERE`` clause of the SQL store's update.
    """
    return (stored_seq == expected_seq) & (stored_version == expected_version)


def fits(in_use: Any, delta: Any, capacity: Any) -> Any:
    """Capacity: after taking (``delta`` > 0) or releasing places, 0 ≤ in use ≤ capacity.

    A ``bool`` on plain values (the memory store), the ``WHERE`` clause of the SQL store's
    place update on columns.
    """
    return (in_use + delta <= capacity) & (in_use + delta >= 0)


# -- cases <-> rows --------------------------------------------------------------------


def case_write(
    case: Case,
    pathway: Pathway,
    read: Loaded | None,
    *,
    responsible_before: Sequence[str] | None = None,
    pending_before: bool = True,
) -> CaseWrite:
    """The write that stores ``case`` as it is now; the one place a case becomes a row.

    Args:
        case: the case after the action (or migration), on ``pathway``.
        read: how it was read (its seq guards the write; its head hash chains the new
            events); ``None`` for a case this action started.
        responsible_before: the roles responsible when it was read; the owner rows are
            rewritten only when they differ (``None``: always).
        pending_before: whether it had an approval request when read; its inbox rows
            are rewritten when it had or has one.
    """
    first = read.seq if read is not None else 0
    state = pathway.state(case.state)
    return CaseWrite(
        case=case,
        expected_seq=read.seq if read is not None else None,
        events=tuple(e for e in case.history if e.seq >= first),
        prev_hash=read.head_hash if read is not None else GENESIS,
        due_at=case.due_at(pathway),
        owners=tuple((r, pathway.roles[r].sector) for r in state.responsible),
        terminal=state.terminal,
        owners_changed=responsible_before is None or tuple(responsible_before) != state.responsible,
        waits=approval_waits(case, pathway),
        waits_changed=case.pending is not None or (read is not None and pending_before),
    )


def snapshot(case: Case) -> str:
    """The case as canonical JSON without its history and seq (the event rows, the seq column)."""
    data = converter.unstructure(attrs.evolve(case, history=[]))
    del data["history"], data["seq"]
    return _dumps(data)


def approval_waits(case: Case, pathway: Pathway) -> tuple[ApprovalWait, ...]:
    """The inbox rows of a case: the open slots of its pending approval request, if any."""
    pending = case.pending
    if pending is None:
        return ()
    t = pathway.find(case.state, pending.trigger)
    if t is None or t.approval is None:
        return ()
    approved_by = tuple(a.actor.person for a in pending.approvals)
    return tuple(
        ApprovalWait(case.id, case.pathway_id, pending.trigger, role, sector, pending.requested_by.person, pending.requested_at, approved_by)
        for role, sector in open_slots(t.approval, pathway, pending.approvals)
    )


def wait_row(wait: ApprovalWait) -> dict[str, Any]:
    """An :class:`ApprovalWait` as an ``approval_waits`` row (``approved_by`` as ``,a,b,``)."""
    return {
        "case_id": wait.case_id, "role": wait.role, "sector": wait.sector, "pathway_id": wait.pathway_id,
        "trigger": wait.trigger, "requested_by": wait.requested_by, "requested_at": to_micros(wait.requested_at),
        "approved_by": "," + "".join(f"{p}," for p in wait.approved_by),
    }


def wait_from_row(row: Mapping[Any, Any]) -> ApprovalWait:
    requested_at = from_micros(row["requested_at"])
    assert requested_at is not None
    return ApprovalWait(
        row["case_id"], row["pathway_id"], row["trigger"], row["role"], row["sector"], row["requested_by"],
        requested_at, tuple(p for p in row["approved_by"].split(",") if p),
    )


def check_awaiting(role: str | None, sector: str | None, person: str | None) -> None:
    """Refuse an inbox question that names neither a role nor a sector, or a malformed person id."""
    if role is None and sector is None:
        raise StoreError("awaiting needs role= or sector= (and may take person=)")
    ident(person, "person", optional=True)


def inbox(waits: Iterable[ApprovalWait], person: str | None, limit: int) -> list[ApprovalWait]:
    """One entry per case, leaving out what ``person`` asked for or already approved.

    People are compared by their normalised id (:func:`~pathways._arguments.person_key`),
    as four-eyes is: ``P-2`` is not asked again after ``p-2`` approved. A back-end may
    narrow the rows by the exact id first; this is the rule.
    """
    out: list[ApprovalWait] = []
    seen: set[str] = set()
    key = person_key(person) if person is not None else None
    for w in waits:
        if w.case_id in seen or (key is not None and key in {person_key(p) for p in (w.requested_by, *w.approved_by)}):
            continue
        seen.add(w.case_id)
        out.append(w)
        if len(out) == limit:
            break
    return out


def lag_of(oldest_due: int | None, now: datetime) -> timedelta:
    """The worker's lag: how long the oldest due time (micros) has passed, never negative."""
    if oldest_due is None:
        return timedelta(0)
    return max(timedelta(0), timedelta(microseconds=to_micros(now) - oldest_due))


def case_row(write: CaseWrite, head_hash: str) -> dict[str, Any]:
    """The current-state row of a case after a write."""
    case = write.case
    return {
        "id": case.id,
        "citizen": case.citizen,
        "citizen_key": citizen_key(case.citizen),
        "pathway_id": case.pathway_id,
        "version": case.version,
        "state": case.state,
        "seq": case.seq,
        "terminal": write.terminal,
        "due_at": to_micros(write.due_at) if write.due_at is not None else None,
        "head_hash": head_hash,
        "snapshot": snapshot(case),
    }


def loaded_from_row(row: Mapping[Any, Any], case_id: str | None = None) -> Loaded:
    """A case as read for acting on it: its stored seq, no history."""
    return Loaded(case_from_row(row, case_id), row["head_hash"])


def case_from_row(row: Mapping[Any, Any], case_id: str | None, history: list[Event] | None = None) -> Case:
    """The case of a stored current-state row with its seq, and with ``history`` if given.

    Raises:
        UnreadableCase: the history has another length than the row's seq says.
    """
    case = case_from_snapshot(row["snapshot"], case_id)
    case.seq = row["seq"]
    if history is not None:
        if len(history) != row["seq"]:
            raise UnreadableCase(
                f"case {case_id!r} has {len(history)} stored events but its state says {row['seq']}; "
                "run 'pathways audit verify'",
                case_id=case_id,
            )
        case.history = history
    return case


def case_from_snapshot(text: str, case_id: str | None = None) -> Case:
    """The case of a stored current-state row (with an empty history)."""
    try:
        data = json.loads(text)
        data["history"] = []
        return converter.structure(data, Case)
    except Exception as exc:
        raise UnreadableCase(
            f"a stored case snapshot cannot be read ({type(exc).__name__}); run 'pathways audit verify'", case_id=case_id
        ) from None


def summary_from_row(row: Mapping[Any, Any]) -> CaseSummary:
    return CaseSummary(
        id=row["id"],
        citizen=row["citizen"],
        pathway_id=row["pathway_id"],
        version=row["version"],
        state=row["state"],
        seq=row["seq"],
        due_at=from_micros(row["due_at"]),
        terminal=bool(row["terminal"]),
    )


def concurrent(case_id: str, expected: int | None) -> ConcurrentUpdate:
    if expected is None:
        return ConcurrentUpdate(f"case {case_id!r} already exists in the store; start it with another id")
    return ConcurrentUpdate(
        f"case {case_id!r} was changed by another writer since it was read at seq {expected}; "
        "re-read it and try again (pathways.store.retry does this)"
    )


def no_capacity(resource: str, capacity: int | None, delta: int) -> NoCapacity | CapacityError:
    if delta < 0:
        return CapacityError(f"releasing {-delta} place(s) of {resource!r} would leave fewer than none in use")
    if capacity is None:
        return NoCapacity(f"shared resource {resource!r} is not known to the store; load its pathway first")
    return NoCapacity(f"all {capacity} places of {resource!r} are taken (checked in the database)")
