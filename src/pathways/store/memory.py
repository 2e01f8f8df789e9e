"""An in-process store with the same rows and rules as the SQL one; for tests and examples.

It keeps exactly what a database would (event rows with hashes, case rows, places), so
the stateful test can demand that memory, SQLite and PostgreSQL agree step by step.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from .. import _arguments as _args
from ..case import Case, Event
from ..errors import StoreError, UnknownCase
from . import base
from .base import ApprovalWait, CaseSummary, CaseWrite, Loaded, MigrationRecord
from .keys import AuditKeys

__all__ = ["MemoryStore"]


class MemoryStore:
    """Cases in this process's memory; thread-safe, lost when the process ends."""

    url = "memory://"

    def __init__(self, *, audit_keys: AuditKeys | None = None) -> None:
        self.audit_keys = audit_keys
        self._checkpoints: list[tuple[dict[str, Any], list[tuple[str, int, str]]]] = []
        self._lock = threading.Lock()
        self._cases: dict[str, dict[str, Any]] = {}
        self._owners: dict[str, tuple[tuple[str, str], ...]] = {}
        self._waits: dict[str, tuple[ApprovalWait, ...]] = {}
        self._events: dict[str, list[dict[str, Any]]] = {}
        self._resources: dict[str, list[int]] = {}
        self._migrations: dict[str, list[MigrationRecord]] = {}

    def close(self) -> None:
        """Nothing to release."""

    def ensure_resources(self, capacities: Mapping[str, int]) -> None:
        with self._lock:
            for res, cap in capacities.items():
                self._resources.setdefault(res, [cap, 0])[0] = cap

    def commit(self, writes: Sequence[CaseWrite], deltas: Mapping[str, int]) -> None:
        with self._lock:
            for w in writes:
                row = self._cases.get(w.case.id)
                if w.expected_seq is None:
                    if row is not None:
                        raise base.concurrent(w.case.id, None)
                elif row is None or not base.unchanged(row["seq"], row["version"], w.expected_seq, w.case.version):
                    raise base.concurrent(w.case.id, w.expected_seq)
            for res, delta in sorted(deltas.items()):
                have = self._resources.get(res)
                if delta and (have is None or not base.fits(have[1], delta, have[0])):
                    raise base.no_capacity(res, have[0] if have else None, delta)
            for w in writes:
                rows = base.chain(w, self.audit_keys)
                self._cases[w.case.id] = base.case_row(w, rows[-1]["hash"] if rows else w.prev_hash)
                if w.owners_changed or w.expected_seq is None:
                    self._owners[w.case.id] = w.owners
                if w.waits_changed:
                    self._waits[w.case.id] = w.waits
                self._events.setdefault(w.case.id, []).extend(rows)
            for res, delta in deltas.items():
                if delta:
                    self._resources[res][1] += delta

    def migrate(self, write: CaseWrite, record: MigrationRecord) -> None:
        with self._lock:
            row = self._cases.get(write.case.id)
            if row is None or not base.unchanged(row["seq"], row["version"], write.expected_seq, record.from_version):
                raise base.concurrent(write.case.id, write.expected_seq)
            self._cases[write.case.id] = base.case_row(write, write.prev_hash)
            self._owners[write.case.id] = write.owners
            if write.waits_changed:
                self._waits[write.case.id] = write.waits
            self._migrations.setdefault(write.case.id, []).append(record)

    def _row(self, case_id: str) -> dict[str, Any]:
        row = self._cases.get(case_id)
        if row is None:
            raise UnknownCase(f"no case {case_id!r} in the store at {self.url}")
        return row

    def load(self, case_id: str) -> Loaded:
        with self._lock:
            return base.loaded_from_row(self._row(case_id), case_id)

    def exists(self, case_id: str) -> bool:
        return case_id in self._cases

    def get(self, case_id: str, *, history: bool = True) -> Case:
        with self._lock:
            return base.case_from_row(self._row(case_id), case_id, self._history(case_id) if history else None)

    def history(self, case_id: str) -> list[Event]:
        with self._lock:
            return self._history(case_id)

    def _history(self, case_id: str) -> list[Event]:
        return [base.row_event(r) for r in self._events.get(case_id, [])]

    def summary(self, case_id: str) -> CaseSummary:
        with self._lock:
            return base.summary_from_row(self._row(case_id))

    def in_state(self, pathway_id: str, state: str, *, limit: int = 100, after: str = "") -> list[CaseSummary]:
        with self._lock:
            rows = [r for r in self._cases.values() if r["pathway_id"] == pathway_id and r["state"] == state and r["id"] > after]
        return [base.summary_from_row(r) for r in sorted(rows, key=lambda r: r["id"])[:limit]]

    def owned_by(
        self, *, role: str | None = None, sector: str | None = None, limit: int = 100, after: str = ""
    ) -> list[CaseSummary]:
        if (role is None) == (sector is None):
            raise StoreError("owned_by needs exactly one of role= or sector=")
        with self._lock:
            ids = sorted(
                cid for cid, owners in self._owners.items()
                if cid > after and any(r == role or s == sector for r, s in owners)
            )[:limit]
            return [base.summary_from_row(self._cases[cid]) for cid in ids]

    def due_before(self, when: datetime, *, limit: int = 100) -> list[CaseSummary]:
        cut = base.to_micros(when)
        with self._lock:
            rows = [r for r in self._cases.values() if r["due_at"] is not None and r["due_at"] <= cut]
        return [base.summary_from_row(r) for r in sorted(rows, key=lambda r: (r["due_at"], r["id"]))[:limit]]

    def awaiting(
        self, *, role: str | None = None, sector: str | None = None, person: str | None = None, limit: int = 100
    ) -> list[ApprovalWait]:
        base.check_awaiting(role, sector, person)
        with self._lock:
            waits = [
                w for ws in self._waits.values() for w in ws
                if (role is None or w.role == role) and (sector is None or w.sector == sector)
            ]
        return base.inbox(sorted(waits, key=lambda w: (w.requested_at, w.case_id, w.role)), person, limit)

    def of_citizen(self, citizen: str, *, limit: int = 100) -> list[CaseSummary]:
        _args.ident(citizen, "citizen")
        key = base.citizen_key(citizen)
        with self._lock:
            rows = sorted((r for r in self._cases.values() if r["citizen_key"] == key), key=lambda r: r["id"])[:limit]
        return [base.summary_from_row(r) for r in rows]

    def lag(self, now: datetime) -> timedelta:
        with self._lock:
            due = [r["due_at"] for r in self._cases.values() if r["due_at"] is not None]
        return base.lag_of(min(due) if due else None, now)

    def on_version(self, pathway_id: str, version: int) -> list[str]:
        with self._lock:
            return sorted(
                r["id"] for r in self._cases.values()
                if r["pathway_id"] == pathway_id and r["version"] == version and not r["terminal"]
            )

    def in_use(self, resource: str) -> int:
        with self._lock:
            return self._resources.get(resource, [0, 0])[1]

    def resources(self) -> dict[str, tuple[int, int]]:
        with self._lock:
            return {r: (c, u) for r, (c, u) in self._resources.items()}

    def case_ids(self) -> list[str]:
        with self._lock:
            return sorted(self._cases)

    def event_rows(self) -> Iterator[dict[str, Any]]:
        with self._lock:
            rows = [dict(r) for cid in sorted(self._events) for r in self._events[cid]]
        return iter(rows)

    def heads(self) -> dict[str, tuple[int, str]]:
        with self._lock:
            return {cid: (r["seq"], r["head_hash"]) for cid, r in self._cases.items()}

    def case_rows(self) -> Iterator[dict[str, Any]]:
        with self._lock:
            rows = [{**self._cases[cid], "owners": sorted(self._owners.get(cid, ()))} for cid in sorted(self._cases)]
        return iter(rows)

    def add_checkpoint(self, record: Mapping[str, Any], heads: Sequence[tuple[str, int, str]]) -> None:
        with self._lock:
            if any(c["n"] == record["n"] for c, _ in self._checkpoints):
                raise StoreError(f"checkpoint {record['n']} already exists; another checkpoint was written at the same time")
            self._checkpoints.append((dict(record), sorted(heads)))

    def checkpoints(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c, _ in self._checkpoints]

    def checkpoint_heads(self, n: int) -> list[tuple[str, int, str]]:
        with self._lock:
            return next((list(h) for c, h in self._checkpoints if c["n"] == n), [])

    def tamper_case(self, case_id: str, **changes: Any) -> None:
        """Change a stored case row in place, or delete it with every trace (for audit tests)."""
        with self._lock:
            if changes.pop("delete", False):
                del self._cases[case_id], self._events[case_id]
                self._owners.pop(case_id, None)
            elif "owners" in changes:
                self._owners[case_id] = changes.pop("owners")
            self._cases[case_id].update(changes) if changes else None

    def tamper_places(self, resource: str, in_use: int) -> None:
        """Set a resource's count of places in use (for audit tests)."""
        with self._lock:
            self._resources[resource][1] = in_use

    def migrations(self, case_id: str) -> list[MigrationRecord]:
        with self._lock:
            return list(self._migrations.get(case_id, []))

    @contextlib.contextmanager
    def claim_due(self, when: datetime, *, skip: Collection[str] = ()) -> Iterator[CaseSummary | None]:
        """The soonest case due by ``when`` (not in ``skip``); in one process the seq guard suffices."""
        cut = base.to_micros(when)
        with self._lock:
            rows = [r for r in self._cases.values() if r["due_at"] is not None and r["due_at"] <= cut and r["id"] not in skip]
        row = min(rows, key=lambda r: (r["due_at"], r["id"]), default=None)
        yield base.summary_from_row(row) if row is not None else None

    def tamper(self, case_id: str, seq: int, **changes: Any) -> None:
        """Change a stored event row in place (for tests of ``audit verify``)."""
        with self._lock:
            self._events[case_id][seq].update(changes)
