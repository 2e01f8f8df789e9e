"""Move running cases from one definition version to the next, explicitly.

A case stays on the version it started on; loading a new version changes nothing for
it. :func:`migrate` moves every open case of ``from_version`` with a state mapping
(unmapped states keep their id). It checks every case first and refuses, writing
nothing, when any case would land in a state the new version does not have or keep a
pending approval the new version cannot answer. The move is recorded (not an event:
the audit chain stays untouched) so :func:`~pathways.store.replay_stored` can replay it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import attrs

from ..case import Case
from ..errors import StoreError
from ..model import Pathway
from ..registry import Registry
from .base import CaseStore, MigrationRecord, case_write

__all__ = ["MigrationResult", "apply_migration", "migrate"]


@attrs.frozen
class MigrationResult:
    """Which cases moved, and from which state to which."""

    pathway_id: str
    from_version: int
    to_version: int
    moved: tuple[tuple[str, str, str], ...]
    """(case id, old state, new state)."""


def apply_migration(case: Case, pathway: Pathway, state: str) -> None:
    """Put a case on a new version in ``state``; deadlines follow the new definition."""
    case.version = pathway.version
    case.state = state
    deadline = pathway.state(state).deadline
    case.deadline_at = case.entered_at + deadline.after if deadline else None
    for fact_id, fact in pathway.facts.items():
        case.context.setdefault(fact_id, fact.default)


def _objection(case: Case, new: Pathway, state: str) -> str | None:
    if state not in new.state_by_id:
        mapped = f"maps to {state!r}" if state != case.state else "is kept"
        return f"case {case.id!r}: state {case.state!r} {mapped}, which {new.id!r} v{new.version} no longer has; map it to an existing state"
    if case.pending is not None:
        t = new.find(state, case.pending.trigger)
        if t is None or t.approval is None:
            return f"case {case.id!r}: awaits approval of {case.pending.trigger!r}, which v{new.version} has not from {state!r}; answer the request first"
    missing = sorted(set(case.holds) - set(new.resources))
    if missing:
        return f"case {case.id!r}: holds places of {', '.join(missing)}, which v{new.version} does not know"
    return None


def migrate(
    store: CaseStore,
    registry: Registry,
    pathway_id: str,
    from_version: int,
    to_version: int,
    state_map: Mapping[str, str],
    *,
    at: datetime,
) -> MigrationResult:
    """Move every open case of ``pathway_id`` ``from_version`` to ``to_version``.

    Raises:
        StoreError: listing every case that cannot be moved; no case was moved.
        ConcurrentUpdate: a case changed while migrating (the others stay moved; run again).
    """
    old = registry.get_version(pathway_id, from_version)
    new = registry.get_version(pathway_id, to_version)
    unknown = sorted(s for s in state_map if s not in old.state_by_id)
    if unknown:
        raise StoreError(f"the state map names states {', '.join(map(repr, unknown))} that {pathway_id!r} v{from_version} does not have")
    plan = []
    problems = []
    for case_id in store.on_version(pathway_id, from_version):
        loaded = store.load(case_id)
        target = state_map.get(loaded.case.state, loaded.case.state)
        problem = _objection(loaded.case, new, target)
        if problem:
            problems.append(problem)
        plan.append((loaded, target))
    if problems:
        raise StoreError(f"migration of {pathway_id!r} v{from_version} → v{to_version} refused, no case moved:\n  " + "\n  ".join(problems))
    moved = []
    for loaded, target in plan:
        case, before = loaded.case, loaded.case.state
        apply_migration(case, new, target)
        write = case_write(case, new, loaded)  # owners rewritten: roles may differ between versions
        store.migrate(write, MigrationRecord(case.id, case.seq, pathway_id, from_version, to_version, before, target, at))
        moved.append((case.id, before, target))
    return MigrationResult(pathway_id, from_version, to_version, tuple(moved))
