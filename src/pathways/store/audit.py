"""Tamper evidence: prove the stored rows are what the events say, and the events are whole.

:func:`verify` checks, in one pass over the store:

1. **each event's MAC and link**: ``hash`` is HMAC-SHA256 under the event's ``key_id`` (or,
   unkeyed, SHA-256) of its content and ``prev_hash``; changing, deleting or inserting a
   row breaks the chain there. With a key kept outside the database, nobody without the
   key can recompute the chain after a change; unkeyed, anyone with write access can;
2. **the case rows**: ``seq`` and ``head_hash`` match the last event; with a registry,
   the state, citizen (and its key), version, due time, snapshot and owner rows equal what replaying the
   events gives, and each resource's places in use equal what the cases hold;
3. **the last checkpoint** (see :mod:`.checkpoint`): every case it covers still exists,
   with its checkpointed event in place; with the public key, every checkpoint's signature.

What it cannot prove is stated in docs/storage.md ("What the audit proves").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from ..case import Case, apply, new_case
from ..errors import PathwaysError, SnapshotError, UnknownPathway
from ..registry import Registry
from .base import GENESIS, CaseStore, citizen_key, event_hash, iso_time, row_event, snapshot, to_micros
from .checkpoint import check_records, heads_digest
from .keys import AuditKeys
from .migrate import apply_migration

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = ["AuditResult", "replay_stored", "verify"]


@attrs.frozen
class AuditResult:
    """The outcome of :func:`verify`: ``ok``, what was checked, the first problem, and notes.

    ``keyed`` says whether the event MACs were checked under the house's key (an unkeyed
    audit proves less); ``notes`` lists what could not be checked (and why).
    """

    cases: int
    events: int
    problem: str | None = None
    case_id: str | None = None
    seq: int | None = None
    keyed: bool = False
    checkpoint: int | None = None
    """The number of the last checkpoint checked against, if any."""
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.problem is None


class _Tampered(Exception):
    def __init__(self, problem: str, case_id: str | None = None, seq: int | None = None) -> None:
        super().__init__(problem)
        self.problem, self.case_id, self.seq = problem, case_id, seq


def verify(
    store: CaseStore,
    registry: Registry | None = None,
    *,
    keys: AuditKeys | None = None,
    public_key: Ed25519PublicKey | None = None,
    unkeyed_until: datetime | None = None,
) -> AuditResult:
    """Check the store's audit (see the module docstring); stops at the first problem.

    Args:
        registry: the definitions; with it, every case row is compared with the replay of
            its events (cases on a version it lacks are noted, not compared).
        keys: the HMAC keys (default: the store's own ``audit_keys``).
        public_key: the checkpoint signing key's public half; with it, signatures are checked.
        unkeyed_until: when the house introduced its key: unkeyed events written before
            it are accepted (their chain is still checked); with keys, any later unkeyed
            event is a rewrite.
    """
    keys = keys if keys is not None else getattr(store, "audit_keys", None)
    notes: list[str] = []
    counts = {"cases": 0, "events": 0}
    last_checkpoint: int | None = None
    try:
        covered, last_checkpoint = _checkpoint_heads(store, public_key, notes)
        until = iso_time(unkeyed_until) if unkeyed_until is not None else None
        rows_by_case = _chains(store, keys, covered, counts, notes, keep=registry is not None, unkeyed_until=until)
        if registry is not None:
            _rows_equal_replay(store, registry, rows_by_case, notes)
        else:
            notes.append("case rows were not compared with their events (no definitions given)")
    except _Tampered as bad:
        return AuditResult(counts["cases"], counts["events"], bad.problem, bad.case_id, bad.seq,
                           keys is not None, last_checkpoint, tuple(notes))
    if keys is None:
        notes.append("the audit is unkeyed: anyone with write access to the database could rewrite events and recompute their hashes")
    return AuditResult(counts["cases"], counts["events"], None, None, None, keys is not None, last_checkpoint, tuple(notes))


def _checkpoint_heads(
    store: CaseStore, public_key: Ed25519PublicKey | None, notes: list[str],
) -> tuple[dict[str, tuple[int, str]], int | None]:
    """The heads the last checkpoint covers, after checking the checkpoints themselves."""
    records = store.checkpoints()
    if not records:
        notes.append("no checkpoint: deleted cases and cut-off newest events cannot be detected")
        return {}, None
    result = check_records(records, public_key)
    if not result.ok:
        raise _Tampered(str(result.problem))
    if public_key is None:
        notes.append("checkpoint signatures were not checked (no public key given)")
    last = records[-1]
    heads = store.checkpoint_heads(last["n"])
    assert result.last is not None
    if heads_digest(heads) != result.last["digest"] or len(heads) != result.last["cases"]:
        raise _Tampered(f"checkpoint {last['n']}: its stored case heads do not match its digest (rows removed or altered)")
    return {cid: (seq, head) for cid, seq, head in heads}, int(last["n"])


def _chains(
    store: CaseStore, keys: AuditKeys | None, covered: Mapping[str, tuple[int, str]],
    counts: dict[str, int], notes: list[str], *, keep: bool, unkeyed_until: str | None,
) -> dict[str, list[dict[str, Any]]]:
    """Walk every event row: MACs, links, the case rows' heads and the checkpointed heads."""
    heads = store.heads()
    by_case: dict[str, list[dict[str, Any]]] = {}
    unchecked_keys: set[str] = set()
    seen: set[str] = set()

    def close(case_id: str, rows: list[dict[str, Any]]) -> None:
        expected = len(rows)
        prev = rows[-1]["hash"] if rows else GENESIS
        seq, head = heads.get(case_id, (None, None))
        if seq is None:
            raise _Tampered(f"case {case_id!r} has events but no case row (the row was deleted)", case_id)
        if expected < seq:
            raise _Tampered(f"case {case_id!r}: event {expected} is missing (the case row says {seq} events)", case_id, expected)
        if expected > seq or head != prev:
            raise _Tampered(f"case {case_id!r}: the case row does not match its last event {expected - 1} (row altered)", case_id, expected - 1)
        if case_id in covered:
            at_seq, at_head = covered[case_id]
            if expected < at_seq or rows[at_seq - 1]["hash"] != at_head:
                raise _Tampered(
                    f"case {case_id!r}: events up to {at_seq - 1} were signed in checkpoint but are now different or gone",
                    case_id, at_seq - 1,
                )

    current: str | None = None
    rows: list[dict[str, Any]] = []
    for row in store.event_rows():
        case_id, seq = row["case_id"], row["seq"]
        if case_id != current:
            if current is not None:
                close(current, rows)
                if keep:
                    by_case[current] = rows
            current, rows = case_id, []
            seen.add(case_id)
            counts["cases"] += 1
        counts["events"] += 1
        if seq != len(rows):
            raise _Tampered(f"case {case_id!r}: event {len(rows)} is missing (next stored is {seq})", case_id, len(rows))
        _check_mac(row, keys, rows, unchecked_keys)
        if keys is not None and row.get("key_id") is None and (unkeyed_until is None or row["at"] >= unkeyed_until):
            raise _Tampered(
                f"case {case_id!r}: event {seq} is unkeyed, but the audit is keyed (rewritten by someone without the key;"
                " for events written before the key was introduced, pass unkeyed_until)", case_id, seq,
            )
        prev = rows[-1]["hash"] if rows else GENESIS
        if row["prev_hash"] != prev:
            raise _Tampered(f"case {case_id!r}: event {seq} does not follow event {seq - 1} (chain broken: altered, inserted or replaced)", case_id, seq)
        rows.append(row)
    if current is not None:
        close(current, rows)
        by_case[current] = rows
    for case_id in sorted(set(heads) - seen):
        raise _Tampered(f"case {case_id!r}: event 0 is missing (no stored events)", case_id, 0)
    for case_id in sorted(set(covered) - seen):
        raise _Tampered(f"case {case_id!r} was in checkpoint but is gone (the case was deleted)", case_id)
    if unchecked_keys:
        notes.append(f"events under audit key(s) {', '.join(sorted(unchecked_keys))} were not checked (key not given)")
    return by_case


def _check_mac(row: dict[str, Any], keys: AuditKeys | None, before: list[dict[str, Any]], unchecked: set[str]) -> None:
    case_id, seq, key_id = row["case_id"], row["seq"], row.get("key_id")
    if key_id is None:
        if any(r.get("key_id") is not None for r in before[-1:]):
            raise _Tampered(f"case {case_id!r}: event {seq} is unkeyed after keyed events (rewritten without the key)", case_id, seq)
        if event_hash(row) != row["hash"]:
            raise _Tampered(f"case {case_id!r}: event {seq} was altered (its hash does not match its content)", case_id, seq)
        return
    if keys is None:
        unchecked.add(str(key_id))
        return
    if key_id not in keys.keys:
        raise _Tampered(f"case {case_id!r}: event {seq} names audit key {key_id!r}, which is not among the keys given", case_id, seq)
    if event_hash(row, keys) != row["hash"]:
        raise _Tampered(f"case {case_id!r}: event {seq} was altered (its MAC does not match its content)", case_id, seq)


def _rows_equal_replay(
    store: CaseStore, registry: Registry, events: Mapping[str, list[dict[str, Any]]], notes: list[str],
) -> None:
    """Every case row, snapshot and owner row, and every place counter, equals the replay."""
    held: Counter[str] = Counter()
    for row in store.case_rows():
        case_id = row["id"]
        try:
            case, pathway = _replay_rows(store, registry, row, events.get(case_id, []))
        except UnknownPathway:
            notes.append(f"case {case_id!r} runs on {row['pathway_id']} v{row['version']}, which is not loaded; its row was not compared with its events")
            continue
        except (PathwaysError, AssertionError, KeyError, ValueError, TypeError) as exc:
            raise _Tampered(f"case {case_id!r}: its events cannot be replayed ({type(exc).__name__}): the events were forged", case_id) from None
        state = pathway.state(case.state)
        derived = {
            "citizen": case.citizen, "citizen_key": citizen_key(case.citizen), "pathway_id": case.pathway_id, "version": case.version, "state": case.state,
            "seq": case.seq, "terminal": state.terminal, "snapshot": snapshot(case),
            "due_at": to_micros(due) if (due := case.due_at(pathway)) is not None else None,
            "owners": sorted((r, pathway.roles[r].sector) for r in state.responsible),
        }
        stored_row = {**row, "terminal": bool(row["terminal"]), "owners": sorted(tuple(o) for o in row["owners"])}
        for field, value in derived.items():
            if stored_row[field] != value:
                what = "owner rows" if field == "owners" else f"{field}"
                raise _Tampered(f"case {case_id!r}: the stored {what} does not equal the replay of its events (row altered)", case_id)
        held.update({res: n for res, n in case.holds.items() if n})
    for res, (_, in_use) in sorted(store.resources().items()):
        if in_use != held.get(res, 0):
            raise _Tampered(f"resource {res!r}: {in_use} places are counted in use, but the cases' events hold {held.get(res, 0)} (counter altered)")


def _replay_rows(store: CaseStore, registry: Registry, row: Mapping[str, Any], rows: list[dict[str, Any]]) -> tuple[Case, Any]:
    """Replay a case from its event rows alone (the citizen from its first event, when recorded)."""
    if not rows:
        raise SnapshotError("no events")
    first = rows[0]
    citizen = first.get("citizen") or row["citizen"]
    moves = store.migrations(row["id"])
    pathway = registry.get_version(first["pathway_id"], moves[0].from_version if moves else first["pathway_version"])
    events = [row_event(r) for r in rows]
    case = new_case(events[0], citizen, pathway)
    pending = list(moves)
    for event in events:
        while pending and pending[0].at_seq == event.seq:
            pathway = registry.get_version(first["pathway_id"], pending[0].to_version)
            apply_migration(case, pathway, pending.pop(0).to_state)
        apply(case, event, pathway)
    for move in pending:
        pathway = registry.get_version(first["pathway_id"], move.to_version)
        apply_migration(case, pathway, move.to_state)
    return case, pathway


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
