"""The engine's verbs on durable cases: read, act with :class:`pathways.Engine`, write once.

Every verb reads the case(s) it touches from the store, lets an in-memory
:class:`~pathways.engine.Engine` check permission, guards and approvals and produce the
events, then hands the events, the new case rows and the place deltas to the store in
one transaction. Nothing the engine does is trusted to stick until that commit: a
refused action, bad input or a lost race leaves the stored cases exactly as they were.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TypeVar

from ..case import Actor, Case, Event, Link
from ..clock import Clock, SystemClock
from ..engine import Engine, Option, Reason, _case_exists
from ..errors import ConcurrentUpdate, NoCapacity, UnknownCase
from ..registry import Registry
from .base import CaseStore, CaseWrite, Loaded

__all__ = ["DurableEngine", "retry"]

T = TypeVar("T")


def retry(fn: Callable[[], T], *, attempts: int = 5, pause: float = 0.0) -> T:
    """Call ``fn`` again when another writer got there first (:class:`ConcurrentUpdate`).

    Pass a function that names the case by id, so that each attempt re-reads it and the
    engine re-checks permission, guards, approvals and capacity against the new state.
    """
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except ConcurrentUpdate:
            if attempt == attempts:
                raise
            if pause:
                time.sleep(pause * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


class _DeltaLedger:
    """Answers "how many places are taken" from the store; records what an action changes."""

    def __init__(self, store: CaseStore) -> None:
        self._store = store
        self._base: dict[str, int] = {}
        self.deltas: dict[str, int] = {}

    def in_use(self, resource: str) -> int:
        if resource not in self._base:
            self._base[resource] = self._store.in_use(resource)
        return self._base[resource] + self.deltas.get(resource, 0)

    def adjust(self, resource: str, delta: int, capacity: int) -> None:
        if delta > 0 and self.in_use(resource) + delta > capacity:
            raise NoCapacity(f"all {capacity} places of {resource!r} are taken")
        self.deltas[resource] = self.deltas.get(resource, 0) + delta


CaseRef = Case | str


class DurableEngine:
    """:class:`pathways.Engine`'s verbs on cases kept in a :class:`CaseStore`.

    Verbs take a case id (always acts on the stored state) or a :class:`Case` you read
    earlier (acts only if nobody changed it since: otherwise :class:`ConcurrentUpdate`).
    One instance per thread; any number of processes may share the store.
    """

    def __init__(
        self,
        registry: Registry,
        store: CaseStore,
        *,
        clock: Clock | None = None,
        new_id: Callable[[], str] | None = None,
    ) -> None:
        self.registry = registry
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self._engine = Engine(registry, clock=self.clock, cases={}, new_id=new_id, ledger=_DeltaLedger(store))
        store.ensure_resources({r: res.capacity for r, res in registry.resources().items()})

    # -- reading -----------------------------------------------------------------------

    def case(self, case_id: str) -> Case:
        """The stored case with its full history."""
        return self.store.get(case_id)

    def options(self, case: CaseRef, actor: Actor) -> list[Option]:
        loaded = self._prepare(case)
        return self._engine.options(loaded[_id(case)].case, actor)

    def why_not(self, case: CaseRef, trigger: str, actor: Actor) -> list[Reason]:
        loaded = self._prepare(case)
        return self._engine.why_not(loaded[_id(case)].case, trigger, actor)

    # -- acting ------------------------------------------------------------------------

    def start(
        self,
        pathway_id: str,
        citizen: str,
        *,
        facts: Mapping[str, bool] | None = None,
        actor: Actor | None = None,
        case_id: str | None = None,
    ) -> Case:
        """Start and store a case; raises ActionRefused if ``case_id`` is taken."""
        if case_id is not None and self.store.exists(case_id):
            raise _case_exists(case_id, pathway_id, actor)
        self._reset({})
        case = self._engine.start(pathway_id, citizen, facts=facts, actor=actor, case_id=case_id)
        self._write({}, {})
        return case

    def receive(
        self,
        pathway_id: str,
        citizen: str,
        *,
        sender: Link,
        facts: Mapping[str, bool] | None = None,
        actor: Actor | None = None,
        case_id: str | None = None,
    ) -> Case:
        """Store a case started at the intake for a referral from outside (see :meth:`Engine.receive`)."""
        from ..errors import ActionRefused

        if case_id is not None and self.store.exists(case_id):
            raise ActionRefused(f"a case with id {case_id!r} already exists")
        self._reset({})
        case = self._engine.receive(pathway_id, citizen, sender=sender, facts=facts, actor=actor, case_id=case_id)
        self._write({}, {})
        return case

    def fire(self, case: CaseRef, trigger: str, actor: Actor, *, reason: str | None = None) -> list[Event]:
        return self._act(case, lambda c: self._engine.fire(c, trigger, actor, reason=reason))

    def approve(self, case: CaseRef, actor: Actor, *, reason: str | None = None) -> list[Event]:
        return self._act(case, lambda c: self._engine.approve(c, actor, reason=reason))

    def refuse(self, case: CaseRef, actor: Actor, *, reason: str) -> list[Event]:
        return self._act(case, lambda c: self._engine.refuse(c, actor, reason=reason))

    def set_fact(self, case: CaseRef, fact: str, value: bool, actor: Actor, *, reason: str | None = None) -> list[Event]:
        return self._act(case, lambda c: self._engine.set_fact(c, fact, value, actor, reason=reason))

    def fire_due(self, now: datetime | None = None, *, batch: int = 100) -> list[Event]:
        """Fire due deadlines and approval timeouts of up to ``batch`` cases, soonest first.

        Each case is its own transaction; a case another worker handled first is skipped,
        so several workers never fire the same escalation twice.
        """
        now = now or self.clock.now()
        events: list[Event] = []
        for summary in self.store.due_before(now, limit=batch):
            try:
                events += self.fire_due_case(summary.id, now)
            except ConcurrentUpdate:
                continue
        return events

    def fire_due_case(self, case_id: str, now: datetime | None = None) -> list[Event]:
        """Fire whatever is due on one case (nothing if another worker already did)."""
        when = now or self.clock.now()
        return self._act(case_id, lambda c: self._engine.fire_due(when, cases=[c]))

    # -- internals ---------------------------------------------------------------------

    def _reset(self, loaded: Mapping[str, Loaded]) -> None:
        self._engine.cases = {cid: entry.case for cid, entry in loaded.items()}
        self._engine.ledger = _DeltaLedger(self.store)

    def _prepare(self, ref: CaseRef) -> dict[str, Loaded]:
        """Load the case (and the case that referred it, which its answer may move)."""
        case_id = _id(ref)
        main = self.store.load(case_id)
        if isinstance(ref, Case) and (ref.seq, ref.version) != (main.case.seq, main.case.version):
            raise ConcurrentUpdate(
                f"case {case_id!r} was changed by another writer since it was read at seq {ref.seq} "
                f"(stored seq {main.case.seq}, version {main.case.version}); re-read it and try again"
            )
        loaded = {case_id: main}
        sender = main.case.referred_by
        if sender is not None:
            with contextlib.suppress(UnknownCase):  # a sender kept elsewhere: nothing to answer here
                loaded[sender.case_id] = self.store.load(sender.case_id)
        self._reset(loaded)
        return loaded

    def _act(self, ref: CaseRef, action: Callable[[Case], list[Event]]) -> list[Event]:
        loaded = self._prepare(ref)
        seqs = {cid: entry.case.seq for cid, entry in loaded.items()}
        events = action(loaded[_id(ref)].case)
        self._write(loaded, seqs)
        return events

    def _write(self, loaded: Mapping[str, Loaded], seqs: Mapping[str, int]) -> None:
        """Store what the engine changed: the loaded cases that moved and any it started."""
        writes = []
        for cid, case in self._engine.cases.items():
            before = loaded.get(cid)
            first = seqs.get(cid, 0)
            if before is not None and case.seq == first:
                continue
            pathway = self._engine.pathway_of(case)
            state = pathway.state(case.state)
            events = tuple(case.history[first:])
            owners = tuple((r, pathway.roles[r].sector) for r in state.responsible)
            was = pathway.state(events[0].from_state).responsible if before is not None else None
            writes.append(CaseWrite(
                case=case,
                expected_seq=first if before else None,
                events=events,
                prev_hash=before.head_hash if before else "0" * 64,
                due_at=case.due_at(pathway),
                owners=owners,
                terminal=state.terminal,
                owners_changed=was != state.responsible,
            ))
        ledger = self._engine.ledger
        assert isinstance(ledger, _DeltaLedger)
        if writes:
            self.store.commit(writes, ledger.deltas)


def _id(ref: CaseRef) -> str:
    return ref if isinstance(ref, str) else ref.id
