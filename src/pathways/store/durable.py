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
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from .. import _arguments as _args
from ..case import Actor, Case, Event, Link, case_to_json
from ..clock import Clock, SystemClock
from ..engine import CaseEngine, Engine, Option, Reason, _case_exists, _places_taken
from ..errors import ConcurrentUpdate, NoCapacity, UnknownCase
from ..i18n import tr
from ..model import Pathway
from ..registry import Registry
from .base import CaseStore, Loaded, case_write

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
            raise NoCapacity(_places_taken(capacity, resource))
        self.deltas[resource] = self.deltas.get(resource, 0) + delta


class _StoredCases(Mapping[str, Case]):
    """The store's cases as a read-only mapping; each lookup reads the case with its history."""

    def __init__(self, store: CaseStore) -> None:
        self._store = store

    def __getitem__(self, case_id: str) -> Case:
        try:
            return self._store.get(case_id)
        except UnknownCase:
            raise KeyError(case_id) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._store.case_ids())

    def __len__(self) -> int:
        return len(self._store.case_ids())

    def __contains__(self, case_id: object) -> bool:
        return isinstance(case_id, str) and self._store.exists(case_id)


class DurableEngine:
    """:class:`pathways.Engine`'s verbs on cases kept in a :class:`CaseStore`.

    Satisfies :class:`~pathways.engine.CaseEngine`. Verbs take a case id (they act on the
    stored state) or a :class:`Case` you read earlier: they act only if nobody changed
    it since (otherwise :class:`ConcurrentUpdate`, nothing written), and then update
    that object in place, so passing it again acts on the new state. One instance per
    thread; any number of processes may share the store.
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

    @property
    def cases(self) -> Mapping[str, Case]:
        """Every stored case by id, read from the store on each lookup."""
        return _StoredCases(self.store)

    def case(self, case_id: str) -> Case:
        """The stored case with its full history."""
        _args.case_ref(case_id, "case_id")
        return self.store.get(case_id)

    def pathway_of(self, case: Case) -> Pathway:
        """The pathway version the case runs on."""
        return self._engine.pathway_of(case)

    def in_use(self, resource: str) -> int:
        """Places of a shared resource taken, as the store counts them."""
        return self.store.in_use(resource)

    def capacity(self, resource: str) -> int:
        """Places of a shared resource in all."""
        return self._engine.capacity(resource)

    def options(self, case: Case | str, actor: Actor) -> list[Option]:
        """Every action in the stored case's state, each with why ``actor`` cannot take it."""
        _args.check_action(case, actor)
        loaded = self._prepare(case)
        return self._engine.options(loaded[_id(case)].case, actor)

    def why_not(self, case: Case | str, trigger: str, actor: Actor) -> list[Reason]:
        """Why ``actor`` cannot fire ``trigger`` on the stored case now."""
        _args.check_action(case, actor)
        _args.ident(trigger, "trigger")
        loaded = self._prepare(case)
        return self._engine.why_not(loaded[_id(case)].case, trigger, actor)

    def why_not_set(self, case: Case | str, fact: str, actor: Actor, *, reason: str | None = None) -> list[Reason]:
        """Why ``actor`` cannot set ``fact`` on the stored case now; see :meth:`pathways.Engine.why_not_set`."""
        _args.check_set_fact(case, fact, True, actor, reason)
        loaded = self._prepare(case)
        return self._engine.why_not_set(loaded[_id(case)].case, fact, actor, reason=reason)

    def snapshot(self, case: Case | str) -> dict[str, Any]:
        """The stored case (with its history) as plain JSON."""
        _args.case_ref(case)
        return case_to_json(self.store.get(_id(case)))

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
        _args.check_start(pathway_id, citizen, facts, actor, case_id)
        return self._new(
            pathway_id, actor, case_id,
            lambda: self._engine.start(pathway_id, citizen, facts=facts, actor=actor, case_id=case_id),
        )

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
        _args.check_start(pathway_id, citizen, facts, actor, case_id)
        _args.link(sender)
        return self._new(
            pathway_id, actor, case_id,
            lambda: self._engine.receive(pathway_id, citizen, sender=sender, facts=facts, actor=actor, case_id=case_id),
        )

    def _new(self, pathway_id: str, actor: Actor | None, case_id: str | None, make: Callable[[], Case]) -> Case:
        """Store the case ``make`` starts (the engine's start or receive), refusing a taken id before it."""
        if case_id is not None and self.store.exists(case_id):
            raise _case_exists(case_id, pathway_id, actor)
        self._reset({})
        case = make()
        self._write({})
        return case

    def fire(self, case: Case | str, trigger: str, actor: Actor, *, reason: str | None = None) -> list[Event]:
        """Fire (or request) ``trigger`` on the stored case; see :meth:`pathways.Engine.fire`."""
        _args.check_action(case, actor, reason)
        _args.ident(trigger, "trigger")
        return self._act(case, lambda c: self._engine.fire(c, trigger, actor, reason=reason))

    def approve(self, case: Case | str, actor: Actor, *, reason: str | None = None) -> list[Event]:
        """Approve the stored case's pending request; see :meth:`pathways.Engine.approve`."""
        _args.check_action(case, actor, reason)
        return self._act(case, lambda c: self._engine.approve(c, actor, reason=reason))

    def refuse(self, case: Case | str, actor: Actor, *, reason: str) -> list[Event]:
        """Refuse the stored case's pending request; see :meth:`pathways.Engine.refuse`."""
        _args.check_action(case, actor, reason, reason_required=True)
        return self._act(case, lambda c: self._engine.refuse(c, actor, reason=reason))

    def set_fact(
        self, case: Case | str, fact: str, value: bool, actor: Actor, *, reason: str | None = None
    ) -> list[Event]:
        """Record a fact on the stored case; see :meth:`pathways.Engine.set_fact`."""
        _args.check_set_fact(case, fact, value, actor, reason)
        return self._act(case, lambda c: self._engine.set_fact(c, fact, value, actor, reason=reason))

    def fire_due(
        self, now: datetime | None = None, *, cases: Iterable[Case | str] | None = None, limit: int | None = None
    ) -> list[Event]:
        """Fire due deadlines and approval timeouts, soonest first (all, ``cases``, or ``limit``).

        Each case is its own transaction; a case another worker handled first is skipped,
        so several workers never fire the same escalation twice.
        """
        _args.check_due(now, cases, limit)
        when = now or self.clock.now()
        if cases is None:
            cases = [s.id for s in self.store.due_before(when, limit=_ALL if limit is None else limit)]
        events: list[Event] = []
        for ref in cases:
            try:
                events += self._act(ref, lambda c: self._engine.fire_due(when, cases=[c]))
            except ConcurrentUpdate:
                if isinstance(ref, Case):
                    raise
        return events

    # -- internals ---------------------------------------------------------------------

    def _reset(self, loaded: Mapping[str, Loaded]) -> None:
        self._engine.cases = {cid: entry.case for cid, entry in loaded.items()}
        self._engine.ledger = _DeltaLedger(self.store)

    def _prepare(self, ref: Case | str) -> dict[str, Loaded]:
        """Load the case (and the case that referred it, which its answer may move)."""
        _args.case_ref(ref)
        case_id = _id(ref)
        main = self.store.load(case_id)
        if isinstance(ref, Case) and (ref.seq, ref.version) != (main.seq, main.version):
            raise ConcurrentUpdate(tr(
                "case {case_id} was changed by another writer since it was read at seq {seq} "
                "(stored seq {stored}, version {version}); re-read it and try again",
                case_id=repr(case_id), seq=ref.seq, stored=main.seq, version=main.version,
            ))
        loaded = {case_id: main}
        sender = main.case.referred_by
        if sender is not None:
            with contextlib.suppress(UnknownCase):  # a sender kept elsewhere: nothing to answer here
                loaded[sender.case_id] = self.store.load(sender.case_id)
        self._reset(loaded)
        return loaded

    def _act(self, ref: Case | str, action: Callable[[Case], list[Event]]) -> list[Event]:
        loaded = self._prepare(ref)
        acted = loaded[_id(ref)].case
        pending = {cid for cid, entry in loaded.items() if entry.case.pending is not None}
        events = action(acted)
        self._write(loaded, pending)
        if isinstance(ref, Case) and acted.seq != ref.seq:
            _catch_up(ref, acted)
        return events

    def _write(self, loaded: Mapping[str, Loaded], pending: Collection[str] = ()) -> None:
        """Store what the engine changed: the loaded cases that moved and any it started.

        ``pending``: the loaded cases that had an approval request before the action (their
        inbox rows are rewritten, like those of a case that has one now).
        """
        writes = []
        for cid, case in self._engine.cases.items():
            read = loaded.get(cid)
            if read is not None and case.seq == read.seq:
                continue
            pathway = self._engine.pathway_of(case)
            before = None
            if read is not None:
                first = next(e for e in case.history if e.seq == read.seq)
                before = pathway.state(first.from_state).responsible
            writes.append(case_write(case, pathway, read, responsible_before=before, pending_before=cid in pending))
        ledger = self._engine.ledger
        assert isinstance(ledger, _DeltaLedger)
        if writes:
            self.store.commit(writes, ledger.deltas)


_ALL = 2**31 - 1
"""``due_before``'s limit for "every due case"."""


def _catch_up(mine: Case, acted: Case) -> None:
    """Bring the caller's case object up to the stored one: same fields, new events appended."""
    new = [e for e in acted.history if e.seq >= mine.seq]
    for field in attrs.fields(Case):
        if field.name != "history":
            setattr(mine, field.name, getattr(acted, field.name))
    mine.history.extend(new)


def _id(ref: Case | str) -> str:
    return ref if isinstance(ref, str) else ref.id


if TYPE_CHECKING:  # mypy checks that both engines satisfy the one contract

    def _one_contract(durable: DurableEngine, memory: Engine) -> tuple[CaseEngine, CaseEngine]:
        return durable, memory
