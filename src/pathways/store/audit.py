"""Tamper evidence: walk every case's hash chain and report the first broken link.

Each event row carries ``prev_hash`` (the hash of the case's previous event, or
:data:`~pathways.store.base.GENESIS`) and ``hash`` = sha256 of its canonical JSON,
``prev_hash`` included. Changing, deleting or inserting a row breaks the chain at that
event; dropping the newest events is caught by the case row's ``seq``/``head_hash``.
"""

from __future__ import annotations

import attrs

from ..case import Case, apply, new_case
from ..errors import SnapshotError
from ..registry import Registry
from .base import GENESIS, CaseStore, event_hash
from .migrate import apply_migration

__all__ = ["AuditResult", "replay_stored", "verify"]


@attrs.frozen
class AuditResult:
    """The outcome of :func:`verify`: ``ok``, what was checked, and the first problem."""

    cases: int
    events: int
    problem: str | None = None
    case_id: str | None = None
    seq: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(store: CaseStore) -> AuditResult:
    """Check every event's hash and chain, and every case row against its last event."""
    heads = store.heads()
    n_events = 0
    seen: set[str] = set()
    current: str | None = None
    expected, prev = 0, GENESIS

    def close(case_id: str) -> AuditResult | None:
        seq, head = heads.get(case_id, (None, None))
        if seq is None:
            return AuditResult(len(seen), n_events, f"case {case_id!r} has events but no case row (the row was deleted)", case_id, None)
        if expected < seq:
            return AuditResult(len(seen), n_events, f"case {case_id!r}: event {expected} is missing (the case row says {seq} events)", case_id, expected)
        if expected > seq or head != prev:
            return AuditResult(len(seen), n_events, f"case {case_id!r}: the case row does not match its last event {expected - 1} (row altered)", case_id, expected - 1)
        return None

    for row in store.event_rows():
        case_id, seq = row["case_id"], row["seq"]
        if case_id != current:
            if current is not None and (bad := close(current)):
                return bad
            current, expected, prev = case_id, 0, GENESIS
            seen.add(case_id)
        n_events += 1
        if seq != expected:
            return AuditResult(len(seen), n_events, f"case {case_id!r}: event {expected} is missing (next stored is {seq})", case_id, expected)
        if event_hash(row) != row["hash"]:
            return AuditResult(len(seen), n_events, f"case {case_id!r}: event {seq} was altered (its hash does not match its content)", case_id, seq)
        if row["prev_hash"] != prev:
            return AuditResult(len(seen), n_events, f"case {case_id!r}: event {seq} does not follow event {seq - 1} (chain broken: altered, inserted or replaced)", case_id, seq)
        prev, expected = row["hash"], expected + 1
    if current is not None and (bad := close(current)):
        return bad
    for case_id in sorted(set(heads) - seen):
        return AuditResult(len(seen), n_events, f"case {case_id!r}: event 0 is missing (no stored events)", case_id, 0)
    return AuditResult(len(seen), n_events)


def replay_stored(store: CaseStore, registry: Registry, case_id: str) -> Case:
    """Rebuild a stored case from its events (and recorded migrations) alone.

    Equal to ``store.get(case_id)`` when the store is whole; the crash test relies on it.
    """
    stored = store.summary(case_id)
    events = store.history(case_id)
    moves = store.migrations(case_id)
    if not events:
        raise SnapshotError(f"case {case_id!r} has no stored events")
    version = moves[0].from_version if moves else stored.version
    pathway = registry.get_version(stored.pathway_id, version)
    case = new_case(events[0], stored.citizen, pathway)
    pending = list(moves)
    for event in events:
        while pending and pending[0].at_seq == event.seq:
            pathway = registry.get_version(stored.pathway_id, pending[0].to_version)
            apply_migration(case, pathway, pending.pop(0).to_state)
        if event.seq != case.seq:
            raise SnapshotError(f"case {case_id!r}: event {case.seq} is missing (found seq {event.seq})")
        apply(case, event, pathway)
    for move in pending:
        apply_migration(case, registry.get_version(stored.pathway_id, move.to_version), move.to_state)
    return case
