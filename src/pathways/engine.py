"""The runtime: cases move through pathways on `transitions` state machines.

One :class:`transitions.Machine` per pathway version is shared by every case (a host
holds tens of thousands of cases; a machine per case costs memory and time, see
``benchmarks/``). The engine checks who may do what, records every change as an
:class:`~pathways.case.Event` and applies it with :func:`pathways.case.apply`, so a
case's history always replays to its state. This is the only module that imports
`transitions`; its errors never reach users.
"""

from __future__ import annotations

import heapq
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from datetime import datetime
from typing import Any, Protocol, assert_never
from zoneinfo import ZoneInfo

import attrs
from transitions import Machine

from . import _arguments as _args
from . import approvals, calendar, logs
from ._documents import did_you_mean
from ._limits import MAX_CASE_ID
from .capacity import Ledger, MemoryLedger
from .case import (
    Actor,
    Approval,
    Case,
    ClockReason,
    Event,
    EventKind,
    Link,
    apply,
    case_from_json,
    case_to_json,
    holds_after,
    new_case,
)
from .clock import Clock, SystemClock
from .errors import (
    ActionRefused,
    CapacityError,
    PathwaysError,
    ServiceClosed,
    SnapshotError,
    UnknownCase,
    refusal,
)
from .i18n import tr, weekday_time
from .model import FactAccess, Handover, Pathway, StateKind, Transition
from .refusals import Reason, RefusalCode
from .registry import Registry

__all__ = ["CaseEngine", "Engine", "Option", "Reason"]


@attrs.frozen
class Option:
    """An action an actor could take now; ``reasons`` say why not when ``allowed`` is false."""

    trigger: str
    kind: str
    """``fire`` a transition, or ``approve`` the pending request."""
    dest: str
    reasons: tuple[Reason, ...] = ()
    needs_approval: str | None = None

    @property
    def allowed(self) -> bool:
        return not self.reasons


def _case_exists(case_id: str, pathway_id: str, actor: Actor | None) -> ActionRefused | CapacityError:
    """The refusal to start a second case under an id already taken."""
    message = tr("a case with id {case_id} already exists", case_id=repr(case_id))
    return refusal(message, [Reason(RefusalCode.CASE_EXISTS, message)], case_id=case_id, pathway=pathway_id, actor=actor)


def _places_taken(capacity: int, resource: str) -> str:
    """The words of a :attr:`~pathways.refusals.RefusalCode.CAPACITY` refusal (the engine's and a store's)."""
    return tr("all {capacity} places of {resource} are taken", capacity=capacity, resource=repr(resource))


def _where(case: Case, pathway: Pathway) -> str:
    """``case 'c1' (overnight_stay, state 'staying')``: where a refusal happened."""
    return tr("case {case_id} ({pathway}, state {state})", case_id=repr(case.id), pathway=pathway.id, state=repr(case.state))


def _no_fact(pathway: Pathway, fact: str) -> str:
    return tr(
        "pathway {pathway} has no fact {fact} ({hint})", pathway=repr(pathway.id), fact=repr(fact),
        hint=did_you_mean(fact, pathway.facts, "fact"),
    )


_log = logs.get("engine")


def _actor_fields(case: Case, pathway: Pathway, trigger: str | None, actor: Actor | None) -> dict[str, Any]:
    return logs.fields(
        case.id, pathway=pathway.id, trigger=trigger, role=actor.role if actor else None,
        sector=actor.sector if actor else None, citizen=case.citizen,
    )

def _who_sets(pathway: Pathway, fact: str) -> str:
    """Who may change ``fact``, in words, for a refusal."""
    f = pathway.facts[fact]
    if not f.has_rule:
        return tr("no rule: staff set it, the citizen's side does not")
    parts = []
    if f.set_by:
        parts.append(tr("set by {roles}", roles=", ".join(f.set_by)))
    if f.recorded_by:
        parts.append(tr("recorded with a reason by {roles}", roles=", ".join(f.recorded_by)))
    return "; ".join(parts) or tr("only the pathway's transitions and hand-overs set it")


class _Cursor:
    """What `transitions` moves: a case's state name, for one step."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


class _Machine:
    """One pathway version on its shared :class:`transitions.Machine`, ready to move cases.

    `transitions` builds and validates the state machine once per version and says where
    each trigger leads from each state; the engine keeps that answer per ``(state,
    trigger)``. Roles, guards and places are the engine's checks, made once per action
    (so the machine has no conditions of its own), and a permitted step moves the case
    with :meth:`Machine.set_state` to the destination `transitions` gave: no second
    evaluation of the guards, no per-call event dispatch.
    """

    __slots__ = ("dest", "machine")

    def __init__(self, pathway: Pathway) -> None:
        spec = [
            {"trigger": t.trigger, "source": list(pathway.sources_of(t)), "dest": t.dest}
            for t in pathway.transitions
        ]
        self.machine = Machine(
            model=None,
            states=[s.id for s in pathway.states],
            transitions=spec,
            initial=pathway.initial,
            auto_transitions=False,
        )
        self.dest: dict[tuple[str, str], Any] = {}
        for trigger, event in self.machine.events.items():
            for source, moves in event.transitions.items():
                dest = moves[0].dest
                assert dest is not None, f"transitions gave {trigger!r} from {source!r} no destination"
                self.dest[(source, trigger)] = self.machine.get_state(dest)

    def move(self, state: str, trigger: str) -> str:
        """The state ``trigger`` moves a case in ``state`` to, on the shared machine."""
        cursor = _Cursor(state)
        self.machine.set_state(self.dest[(state, trigger)], model=cursor)
        return cursor.state


class CaseEngine(Protocol):
    """What every engine does, in memory (:class:`Engine`) or on a store (``DurableEngine``).

    Verbs take a case or its id. Given a :class:`~pathways.case.Case` object, a verb
    updates *that object* in place (state, context, seq, and the new events appended
    to its history), so the caller never holds a stale case and may pass it again.
    Verbs return the events they recorded (a hand-over records events on two cases).
    A refused verb raises :class:`~pathways.errors.ActionRefused` and changes nothing.
    ``tests/test_engine_contract.py`` pins that both engines have these signatures.
    """

    registry: Registry
    clock: Clock

    @property
    def cases(self) -> Mapping[str, Case]:
        """Every case by id (on a store: read from it on each access)."""

    def case(self, case_id: str) -> Case:
        """The case with its whole history (raises UnknownCase)."""

    def pathway_of(self, case: Case) -> Pathway:
        """The pathway version the case runs on."""

    def in_use(self, resource: str) -> int:
        """Places of a shared resource taken now."""

    def capacity(self, resource: str) -> int:
        """Places of a shared resource in all."""

    def options(self, case: Case | str, actor: Actor) -> list[Option]:
        """Every action in the case's state, each with why ``actor`` cannot take it."""

    def why_not(self, case: Case | str, trigger: str, actor: Actor) -> list[Reason]:
        """Why ``actor`` cannot fire ``trigger`` now; empty when they can."""

    def why_not_set(self, case: Case | str, fact: str, actor: Actor, *, reason: str | None = None) -> list[Reason]:
        """Why ``actor`` cannot set ``fact`` now (with ``reason``); empty when they can."""

    def start(
        self,
        pathway_id: str,
        citizen: str,
        *,
        facts: Mapping[str, bool] | None = None,
        actor: Actor | None = None,
        case_id: str | None = None,
    ) -> Case:
        """Start a case at the pathway's initial state; returns the new case."""

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
        """Start a case at the pathway's intake for a referral from outside the engine."""

    def fire(self, case: Case | str, trigger: str, actor: Actor, *, reason: str | None = None) -> list[Event]:
        """Fire (or, with an approval rule, request) a transition."""

    def approve(self, case: Case | str, actor: Actor, *, reason: str | None = None) -> list[Event]:
        """Approve the pending request; fires it when the rule is met."""

    def refuse(self, case: Case | str, actor: Actor, *, reason: str) -> list[Event]:
        """Refuse the pending request; the case takes the rule's refusal path."""

    def set_fact(
        self, case: Case | str, fact: str, value: bool, actor: Actor, *, reason: str | None = None
    ) -> list[Event]:
        """Record a change of a fact in the case's context."""

    def fire_due(
        self, now: datetime | None = None, *, cases: Iterable[Case | str] | None = None, limit: int | None = None
    ) -> list[Event]:
        """Fire the deadlines and approval timeouts due by ``now`` (all cases, or ``cases``)."""

    def snapshot(self, case: Case | str) -> dict[str, Any]:
        """The case as plain JSON, naming its pathway id and version."""


class Engine:
    """Runs cases of the pathways in a :class:`~pathways.registry.Registry`, in memory.

    Satisfies :class:`CaseEngine`: a verb given a case object changes that object (the
    one kept in ``cases``).

    Args:
        registry: the loaded pathways.
        clock: where "now" comes from; defaults to the system clock.
        cases: where cases are kept, by id (an in-memory dict by default).
        new_id: makes case ids; defaults to random UUIDs.
        ledger: counts shared places; by default in memory, from ``cases``.
    """

    def __init__(
        self,
        registry: Registry,
        *,
        clock: Clock | None = None,
        cases: MutableMapping[str, Case] | None = None,
        new_id: Callable[[], str] | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self.registry = registry
        self.clock: Clock = clock or SystemClock()
        self.cases: MutableMapping[str, Case] = cases if cases is not None else {}
        self._new_id = new_id or (lambda: uuid.uuid4().hex)
        self._machines: dict[tuple[str, int], _Machine] = {}
        self.ledger: Ledger = ledger or MemoryLedger()
        if ledger is None:
            for case in self.cases.values():
                self._count(case.holds, +1)

    # -- reading -----------------------------------------------------------------

    def case(self, case_id: str) -> Case:
        """The live case (raises UnknownCase)."""
        _args.ident(case_id, "case_id", limit=MAX_CASE_ID)
        try:
            return self.cases[case_id]
        except KeyError:
            raise UnknownCase(tr("no case {case_id} is known to this engine", case_id=repr(case_id))) from None

    def pathway_of(self, case: Case) -> Pathway:
        """The pathway version the case runs on (it never changes without migration)."""
        return self.registry.get_version(case.pathway_id, case.version)

    def in_use(self, resource: str) -> int:
        """How many places of a shared resource are taken right now."""
        return self.ledger.in_use(resource)

    def capacity(self, resource: str) -> int:
        """How many places of a shared resource there are."""
        return self.registry.resources()[resource].capacity

    def options(self, case: Case | str, actor: Actor) -> list[Option]:
        """Every action in the case's current state, and for each why ``actor`` can't take it."""
        _args.check_action(case, actor)
        case = self._resolve(case)
        pathway = self.pathway_of(case)
        out = [
            Option(
                t.trigger,
                "fire",
                t.dest,
                tuple(self._refusals(case, pathway, t, actor)),
                approvals.describe(t.approval) if t.approval else None,
            )
            for t in pathway.transitions_from.get(case.state, ())
        ]
        if case.pending is not None:
            t = self._pending_rule(case, pathway)
            assert t.approval is not None
            reasons = self._answer_refusals(case, pathway, t, actor)
            out.append(Option(t.trigger, "approve", t.dest, tuple(reasons), approvals.describe(t.approval)))
        return out

    def why_not(self, case: Case | str, trigger: str, actor: Actor) -> list[Reason]:
        """Why ``actor`` cannot fire ``trigger`` now; empty when they can."""
        _args.check_action(case, actor)
        _args.ident(trigger, "trigger")
        case = self._resolve(case)
        pathway = self.pathway_of(case)
        t = self._lookup(case, pathway, trigger)
        if isinstance(t, Reason):
            return [t]
        return list(self._refusals(case, pathway, t, actor))

    def why_not_set(self, case: Case | str, fact: str, actor: Actor, *, reason: str | None = None) -> list[Reason]:
        """Why ``actor`` cannot set ``fact`` now (giving ``reason``); empty when they can.

        The reasons :meth:`set_fact` would refuse with: an unknown fact, the actor's role or
        sector, another citizen's case, the fact's ``set_by``/``recorded_by``, a closed case.
        """
        _args.check_set_fact(case, fact, True, actor, reason)
        case = self._resolve(case)
        return self._set_refusals(case, self.pathway_of(case), fact, actor, reason)

    # -- acting ------------------------------------------------------------------

    def start(
        self,
        pathway_id: str,
        citizen: str,
        *,
        facts: Mapping[str, bool] | None = None,
        actor: Actor | None = None,
        case_id: str | None = None,
    ) -> Case:
        """Start a case for a citizen (a pseudonymous id) at the pathway's initial state.

        Raises:
            ServiceClosed: the pathway's service is closed now (its house's opening hours).
        """
        _args.check_start(pathway_id, citizen, facts, actor, case_id)
        pathway = self.registry[pathway_id]
        self._refuse_starter(pathway, citizen, facts, actor, case_id, pathway.initial)
        self._refuse_if_closed(pathway)
        return self._start(pathway, citizen, pathway.initial, facts or {}, actor, case_id, None)

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
        """Start a case at the pathway's intake for a referral from outside this engine
        (e.g. a FHIR Task); ``sender`` names it, and the intake answers as for any hand-over."""
        _args.check_start(pathway_id, citizen, facts, actor, case_id)
        _args.link(sender)
        pathway = self.registry[pathway_id]
        if pathway.intake is None:
            raise ActionRefused(tr(
                "pathway {pathway} has no intake, so it cannot receive a referral; refer to a pathway with 'intake'",
                pathway=repr(pathway_id),
            ))
        self._refuse_starter(pathway, citizen, facts, actor, case_id, pathway.intake.state)
        return self._start(pathway, citizen, pathway.intake.state, facts or {}, actor, case_id, sender)

    def fire(self, case: Case | str, trigger: str, actor: Actor, *, reason: str | None = None) -> list[Event]:
        """Fire ``trigger`` as ``actor``; with an approval rule this only requests it.

        Returns the events recorded (one, or more when a hand-over touches two cases).

        Raises:
            ActionRefused: a subclass saying exactly why; the case is unchanged.
        """
        _args.check_action(case, actor, reason)
        _args.ident(trigger, "trigger")
        if isinstance(case, str):
            case = self.case(case)
        pathway = self.registry.get_version(case.pathway_id, case.version)
        t = pathway.find(case.state, trigger)
        if t is None:
            missing = self._missing(case, pathway, trigger)
            raise self._refusal(missing.message, [missing], case, pathway, trigger, actor)
        reasons = self._refusals(case, pathway, t, actor)
        if reasons:
            self._raise_first(case, pathway, t, reasons, actor)
        if t.approval is not None:
            return [self._commit(case, pathway, EventKind.REQUESTED, case.state, actor=actor, trigger=trigger, reason=reason)]
        return self._perform(case, pathway, t, EventKind.FIRED, actor, (), reason, self.clock.now())

    def approve(self, case: Case | str, actor: Actor, *, reason: str | None = None) -> list[Event]:
        """Approve the pending request; when the rule is met the transition fires.

        Raises:
            NoPendingApproval, SelfApproval, DuplicateApproval, NotAnApprover: the
                approval does not count; GuardFailed or NoCapacity: the rule would be
                met but the transition cannot happen now (nothing is recorded).
        """
        _args.check_action(case, actor, reason)
        case = self._resolve(case)
        pathway, t = self._pending_transition(case, actor)
        pending = case.pending
        assert pending is not None and t.approval is not None
        now = self.clock.now()
        given = (*pending.approvals, Approval(actor, now))
        if not approvals.is_met(t.approval, given):
            return [self._commit(case, pathway, EventKind.APPROVED, case.state, actor=actor, trigger=t.trigger, approvals=given, reason=reason)]
        blocking = [r for r in self._refusals(case, pathway, t, pending.requested_by) if r.code is not RefusalCode.PENDING]
        self._raise_first(case, pathway, t, blocking, pending.requested_by)
        events = [self._commit(case, pathway, EventKind.APPROVED, case.state, actor=actor, trigger=t.trigger, approvals=given, reason=reason)]
        events += self._perform(case, pathway, t, EventKind.FIRED, pending.requested_by, given, reason, now)
        return events

    def refuse(self, case: Case | str, actor: Actor, *, reason: str) -> list[Event]:
        """Refuse the pending request; the case takes the rule's refusal path."""
        _args.check_action(case, actor, reason, reason_required=True)
        case = self._resolve(case)
        pathway, t = self._pending_transition(case, actor)
        assert t.approval is not None and case.pending is not None
        return [
            self._commit(
                case, pathway, EventKind.REFUSED, t.approval.on_refusal,
                actor=actor, trigger=t.trigger, approvals=case.pending.approvals, reason=reason,
            )
        ]

    def set_fact(
        self, case: Case | str, fact: str, value: bool, actor: Actor, *, reason: str | None = None
    ) -> list[Event]:
        """Record a change in the case's context, e.g. the citizen withdraws consent.

        Only the roles the fact's rule names may (:meth:`~pathways.model.Pathway.fact_access`);
        a role that records the citizen's word gives a ``reason``, kept in the event; a
        citizen acts only on their own case.

        Raises:
            NotPermitted: codes ``fact_permission``, ``reason_required``, ``not_own_case``,
                ``role`` or ``sector``; CaseClosed; ActionRefused: an unknown fact.
        """
        _args.check_set_fact(case, fact, value, actor, reason)
        case = self._resolve(case)
        pathway = self.pathway_of(case)
        problems = self._set_refusals(case, pathway, fact, actor, reason)
        if problems and problems[0].code is RefusalCode.UNKNOWN_FACT:
            raise self._refusal(problems[0].message, problems, case, pathway, None, actor)
        if problems:
            message = tr(
                "{actor} may not set {fact} on case {case_id}: {reasons}",
                actor=actor, fact=repr(fact), case_id=repr(case.id), reasons="; ".join(r.message for r in problems),
            )
            raise self._refusal(message, problems, case, pathway, None, actor)
        return [self._commit(case, pathway, EventKind.FACT_SET, case.state, actor=actor, facts={fact: value}, reason=reason)]

    def fire_due(
        self, now: datetime | None = None, *, cases: Iterable[Case | str] | None = None, limit: int | None = None
    ) -> list[Event]:
        """Fire every deadline and approval timeout due by ``now``, in due order.

        ``cases`` limits it to those cases, ``limit`` to the ``limit`` soonest due. A
        chain of deadlines on one case fires link by link, each at its own time.
        Idempotent: a second call with the same ``now`` finds nothing due.
        """
        _args.check_due(now, cases, limit)
        now = now or self.clock.now()
        chosen = list(self.cases.values() if cases is None else map(self._resolve, cases))
        scope = None if cases is None else {case.id for case in chosen}
        heap: list[tuple[datetime, str]] = []
        for case in chosen:
            due = case.due_at(self.pathway_of(case))
            if due is not None and due <= now:
                heap.append((due, case.id))
        heap = heapq.nsmallest(limit, heap) if limit is not None else heap
        heapq.heapify(heap)
        events: list[Event] = []
        while heap:
            _, case_id = heapq.heappop(heap)
            step = self._fire_one_due(self.cases[case_id], now)
            events += step
            # A step may move other cases too (an answered hand-over moves its sender):
            # whatever it made due by now fires in this call, so a second call finds nothing.
            for touched in dict.fromkeys(event.case_id for event in step):
                if scope is not None and touched not in scope:
                    continue
                other = self.cases[touched]
                due = other.due_at(self.pathway_of(other))
                if due is not None and due <= now:
                    heapq.heappush(heap, (due, touched))
        return events

    # -- snapshots ----------------------------------------------------------------

    def snapshot(self, case: Case | str) -> dict[str, Any]:
        """The case as plain JSON, naming its pathway id and version."""
        _args.case_ref(case)
        return case_to_json(self._resolve(case))

    def restore(self, data: Mapping[str, Any]) -> Case:
        """Restore a snapshot into this engine; its pathway version must be loaded."""
        if not isinstance(data, Mapping) or not isinstance(data.get("version"), int):
            raise SnapshotError(tr("not a pathways case snapshot: expected a mapping with 'pathway_id' and an integer 'version'"))
        pathway = self.registry.get_version(str(data.get("pathway_id")), data["version"])
        case = case_from_json(data, pathway)
        old = self.cases.get(case.id)
        if old is not None:
            self._count(old.holds, -1)
        try:
            self._count(case.holds, +1)
        except PathwaysError:  # e.g. 17 of 16 places: nothing changes, the old case stays
            if old is not None:
                self._count(old.holds, +1)
            raise
        self.cases[case.id] = case
        return case

    # -- internals ----------------------------------------------------------------

    def _resolve(self, case: Case | str) -> Case:
        _args.case_ref(case)
        return self.case(case) if isinstance(case, str) else case

    def _machine(self, pathway: Pathway) -> _Machine:
        machine = self._machines.get(pathway.key)
        if machine is None:
            machine = self._machines[pathway.key] = _Machine(pathway)
        return machine

    def _count(self, holds: Mapping[str, int], sign: int) -> None:
        resources = self.registry.resources()
        for res, n in holds.items():
            self.ledger.adjust(res, sign * n, resources[res].capacity)

    def _start(
        self,
        pathway: Pathway,
        citizen: str,
        state: str,
        facts: Mapping[str, bool],
        actor: Actor | None,
        case_id: str | None,
        link: Link | None,
        at: datetime | None = None,
    ) -> Case:
        """Start a case; ``at`` is when (a hand-over fired by a deadline starts its receiver when the deadline fell)."""
        unknown = [f for f in facts if f not in pathway.facts]
        if unknown:
            reason = Reason(RefusalCode.UNKNOWN_FACT, _no_fact(pathway, unknown[0]))
            raise refusal(reason.message, [reason], case_id=case_id, pathway=pathway.id, state=state, actor=actor)
        case_id = case_id or self._new_id()
        if case_id in self.cases:
            raise _case_exists(case_id, pathway.id, actor)
        context = {f: fact.default for f, fact in pathway.facts.items()} | dict(facts)
        event = Event(case_id, 0, at or self.clock.now(), EventKind.STARTED, state, state, actor=actor, facts=context, link=link)
        case = new_case(event, citizen, pathway)
        apply(case, event, pathway)
        self.cases[case_id] = case
        return case

    def _refuse_if_closed(self, pathway: Pathway) -> None:
        cal = pathway.calendar
        now = self.clock.now()
        if cal is None or calendar.is_open(cal, now):
            return
        hours = calendar.describe(cal.opening)
        opens = calendar.next_open(cal, now)
        zone = ZoneInfo(cal.time_zone)
        local = now.astimezone(zone)
        again = tr("; it opens again {when}", when=weekday_time(opens.astimezone(zone))) if opens else ""
        raise ServiceClosed(
            tr(
                "{pathway} cannot start a case at {when} ({zone}): service {service} is open {hours}{again}; "
                "out of hours the house's services without referral take the citizen",
                pathway=repr(pathway.id), when=weekday_time(local), zone=cal.time_zone, service=repr(cal.service),
                hours=hours, again=again,
            ),
            pathway=pathway.id, service=cal.service or "", hours=hours, opens_at=opens,
        )

    @classmethod
    def _lookup(cls, case: Case, pathway: Pathway, trigger: str) -> Transition | Reason:
        """The transition ``trigger`` fires from the case's state, or why there is none."""
        t = pathway.find(case.state, trigger)
        return t if t is not None else cls._missing(case, pathway, trigger)

    @staticmethod
    def _missing(case: Case, pathway: Pathway, trigger: str) -> Reason:
        """Why no transition fires ``trigger`` from the case's state."""
        where = _where(case, pathway)
        if pathway.state(case.state).terminal:
            return Reason(RefusalCode.CLOSED, tr("{where} is closed; {trigger} cannot fire", where=where, trigger=repr(trigger)))
        if trigger in pathway.triggers:
            here = [t.trigger for t in pathway.transitions_from.get(case.state, ())]
            return Reason(RefusalCode.STATE, tr(
                "{trigger} cannot fire in {where}; possible here: {here}",
                trigger=repr(trigger), where=where, here=", ".join(here) or tr("nothing"),
            ))
        return Reason(RefusalCode.UNKNOWN_TRIGGER, tr(
            "{where}: pathway has no trigger {trigger} ({hint})",
            where=where, trigger=repr(trigger), hint=did_you_mean(trigger, pathway.triggers, "trigger"),
        ))

    @staticmethod
    def _transition(pathway: Pathway, state: str, trigger: str) -> Transition:
        """A transition the case's own record names (a pending request, a deadline)."""
        t = pathway.find(state, trigger)
        assert t is not None, f"{pathway.id!r} has no {trigger!r} from {state!r}"
        return t

    def _pending_rule(self, case: Case, pathway: Pathway) -> Transition:
        assert case.pending is not None
        return self._transition(pathway, case.state, case.pending.trigger)

    @staticmethod
    def _refusal(
        message: str, reasons: list[Reason], case: Case, pathway: Pathway, trigger: str | None, actor: Actor | None
    ) -> ActionRefused | CapacityError:
        return refusal(message, reasons, case_id=case.id, pathway=pathway.id, state=case.state, trigger=trigger, actor=actor)

    @staticmethod
    def _actor_refusals(pathway: Pathway, actor: Actor) -> list[Reason]:
        role = pathway.roles.get(actor.role)
        if role is None:
            return [Reason(RefusalCode.ROLE, tr(
                "role {role} is not part of pathway {pathway}", role=repr(actor.role), pathway=repr(pathway.id),
            ))]
        if role.sector != actor.sector:
            return [Reason(RefusalCode.SECTOR, tr(
                "role {role} belongs to sector {sector}, not {claimed}",
                role=repr(actor.role), sector=repr(role.sector), claimed=repr(actor.sector),
            ))]
        return []

    def _set_refusals(self, case: Case, pathway: Pathway, fact: str, actor: Actor, reason: str | None) -> list[Reason]:
        """Every reason ``actor`` may not set ``fact`` on ``case``: the one check behind set_fact and why_not_set."""
        if fact not in pathway.facts:
            return [Reason(RefusalCode.UNKNOWN_FACT, _no_fact(pathway, fact))]
        problems = self._actor_refusals(pathway, actor)
        if not problems:
            problems = self._own_case(case.citizen, pathway, actor) or self._fact_refusals(pathway, fact, actor, reason)
        if pathway.state(case.state).terminal:
            problems.append(Reason(RefusalCode.CLOSED, tr("case {case_id} is closed", case_id=repr(case.id))))
        return problems

    @staticmethod
    def _own_case(citizen: str, pathway: Pathway, actor: Actor) -> list[Reason]:
        """A citizen acts only on their own case: the actor's person is the case's citizen.

        People are compared by :func:`~pathways._arguments.person_key` (``P-1`` is ``p-1``).
        The words never name the case's citizen: a citizen is not told whose case it is.
        """
        if not pathway.is_citizen(actor.role) or _args.person_key(actor.person) == _args.person_key(citizen):
            return []
        return [Reason(RefusalCode.NOT_OWN_CASE, tr(
            "{person} acts as the citizen ({role}), and a citizen acts only on their own case", person=repr(actor.person), role=repr(actor.role),
        ))]

    @staticmethod
    def _fact_refusals(pathway: Pathway, fact: str, actor: Actor, reason: str | None, *, starting: bool = False) -> list[Reason]:
        """Why ``actor`` may not change ``fact``: the fact's ``set_by`` and ``recorded_by`` (:meth:`Pathway.fact_access`)."""
        access = pathway.fact_access(fact, actor.role)
        match access:
            case FactAccess.SET:
                return []
            case FactAccess.RECORD:
                if starting:
                    return [Reason(RefusalCode.REASON_REQUIRED, tr(
                        "role {role} records {fact} on the citizen's word, which needs a reason: start the case, then record it with set_fact and a reason",
                        role=repr(actor.role), fact=repr(fact),
                    ))]
                if reason is not None and reason.strip():
                    return []
                return [Reason(RefusalCode.REASON_REQUIRED, tr(
                    "role {role} records {fact} on the citizen's word and must give a reason (what the citizen said, and when)",
                    role=repr(actor.role), fact=repr(fact),
                ))]
            case FactAccess.NONE:
                return [Reason(RefusalCode.FACT_PERMISSION, tr(
                    "role {role} may not set {fact} ({rule})", role=repr(actor.role), fact=repr(fact), rule=_who_sets(pathway, fact),
                ))]
            case _:
                assert_never(access)

    def _refuse_starter(
        self, pathway: Pathway, citizen: str, facts: Mapping[str, bool] | None, actor: Actor | None, case_id: str | None, state: str,
    ) -> None:
        """A citizen starts only their own case, and an actor gives at the start only facts they may set.

        Facts equal to their default change nothing and need no permission. Without an
        actor the host starts the case (an intake system, a simulation) and vouches for its facts.
        """
        if actor is None:
            return
        problems = self._own_case(citizen, pathway, actor)
        for fact, value in (facts or {}).items():
            if fact in pathway.facts and value != pathway.facts[fact].default:
                problems += self._fact_refusals(pathway, fact, actor, None, starting=True)
        if problems:
            message = tr(
                "{actor} cannot start a case of {pathway}: {reasons}",
                actor=actor, pathway=repr(pathway.id), reasons="; ".join(r.message for r in problems),
            )
            raise refusal(message, problems, case_id=case_id, pathway=pathway.id, state=state, actor=actor)

    def _refusals(self, case: Case, pathway: Pathway, t: Transition, actor: Actor) -> list[Reason]:
        """Every reason ``actor`` may not fire ``t`` now, in a fixed order; the one check per action."""
        if pathway.state_by_id[case.state].kind is StateKind.TERMINAL:
            return [Reason(RefusalCode.CLOSED, tr("the case is closed (state {state})", state=repr(case.state)))]
        out = self._actor_refusals(pathway, actor) or self._own_case(case.citizen, pathway, actor)
        if actor.role not in t.roles:
            out.append(Reason(RefusalCode.ROLE, tr(
                "role {role} may not fire {trigger} (allowed: {allowed})",
                role=repr(actor.role), trigger=repr(t.trigger), allowed=", ".join(t.roles),
            )))
        context = case.context
        for g in t.guards:
            if bool(context.get(g.fact, False)) == g.negated:  # Guard.holds, inlined on the hot path
                out.append(Reason(RefusalCode.GUARD, tr("guard '{guard}' does not hold", guard=g)))
        if t.takes and self.in_use(t.takes) >= self.capacity(t.takes):
            out.append(Reason(RefusalCode.CAPACITY, _places_taken(self.capacity(t.takes), t.takes)))
        if t.releases and case.holds.get(t.releases, 0) < 1:
            out.append(Reason(RefusalCode.RELEASE, tr(
                "{trigger} releases a place of {resource}, but the case holds none "
                "(a defect in the pathway: release only what was taken)",
                trigger=repr(t.trigger), resource=repr(t.releases),
            )))
        if case.pending is not None and case.pending.trigger == t.trigger:
            out.append(Reason(RefusalCode.PENDING, tr(
                "{trigger} already awaits approval ({given} given)", trigger=repr(t.trigger), given=len(case.pending.approvals),
            )))
        return out

    def _raise_first(self, case: Case, pathway: Pathway, t: Transition, reasons: list[Reason], actor: Actor) -> None:
        if reasons:
            where = _where(case, pathway)
            text = "; ".join(r.message for r in reasons)
            if _log.isEnabledFor(logging.DEBUG):
                _log.debug("refused %s: %s", t.trigger, reasons[0].code.value, extra=_actor_fields(case, pathway, t.trigger, actor))
            message = tr("{actor} cannot fire {trigger} in {where}: {reasons}", actor=actor, trigger=repr(t.trigger), where=where, reasons=text)
            raise self._refusal(message, reasons, case, pathway, t.trigger, actor)

    def _answer_refusals(self, case: Case, pathway: Pathway, t: Transition, actor: Actor) -> list[Reason]:
        """Why ``actor`` may not approve or refuse the pending request: role, then the rule."""
        assert case.pending is not None and t.approval is not None
        reasons = self._actor_refusals(pathway, actor) or self._own_case(case.citizen, pathway, actor)
        if reasons:
            return reasons
        objection = approvals.objection(t.approval, pathway, case.pending.approvals, case.pending.requested_by, actor)
        return [Reason(*objection)] if objection is not None else []

    def _pending_transition(self, case: Case, actor: Actor) -> tuple[Pathway, Transition]:
        pathway = self.pathway_of(case)
        if case.pending is None:
            message = tr("{where} has no request awaiting approval", where=_where(case, pathway))
            raise self._refusal(message, [Reason(RefusalCode.NO_PENDING_APPROVAL, message)], case, pathway, None, actor)
        t = self._pending_rule(case, pathway)
        reasons = self._answer_refusals(case, pathway, t, actor)
        if reasons:
            message = tr(
                "{actor} cannot answer the request for {trigger} on case {case_id}: {reason}",
                actor=actor, trigger=repr(t.trigger), case_id=repr(case.id), reason=reasons[0].message,
            )
            raise self._refusal(message, reasons, case, pathway, t.trigger, actor)
        return pathway, t

    def _perform(
        self,
        case: Case,
        pathway: Pathway,
        t: Transition,
        kind: EventKind,
        actor: Actor | None,
        given: tuple[Approval, ...],
        reason: str | None,
        at: datetime,
    ) -> list[Event]:
        """Carry out a permitted transition on the shared machine and record it.

        A hand-over also starts the receiving case at its intake, carrying over the facts
        both pathways know (consent travels with the citizen).
        """
        machine = self._machines.get(pathway.key) or self._machine(pathway)
        dest = machine.move(case.state, t.trigger)
        link: Link | None = None
        receiver: Pathway | None = None
        if t.handover is not None:
            receiver = self.registry[t.handover.to]
            link = Link(self._new_id(), t.trigger)
        events = [self._commit(case, pathway, kind, dest, actor=actor, trigger=t.trigger, approvals=given, reason=reason, at=at, link=link, moves=t)]
        if receiver is not None and link is not None:
            assert receiver.intake is not None
            shared = {f: v for f, v in case.context.items() if f in receiver.facts}
            started = self._start(receiver, case.citizen, receiver.intake.state, shared, actor, link.case_id, Link(case.id, t.trigger), at)
            events.append(started.history[0])
        if case.referred_by is not None:
            events += self._answer_referral(case, pathway, t, at)
        return events

    def _answer_referral(self, case: Case, pathway: Pathway, t: Transition, at: datetime) -> list[Event]:
        """When a receiving case accepts or declines, move the waiting sender."""
        if case.referred_by is None or pathway.intake is None:
            return []
        accepted = t.trigger == pathway.intake.accept
        if not (accepted or t.trigger == pathway.intake.decline or pathway.state(case.state).terminal):
            return []
        sender = self.cases.get(case.referred_by.case_id)
        if sender is None or sender.referral is None or sender.referral.case_id != case.id:
            return []
        sender_pathway = self.pathway_of(sender)
        handover = self._transition_by_trigger(sender_pathway, sender.referral.trigger)
        kind = EventKind.HANDOVER_ACCEPTED if accepted else EventKind.HANDOVER_DECLINED
        dest = handover.accepted if accepted else handover.declined
        return [self._commit(sender, sender_pathway, kind, dest, trigger=t.trigger, at=at, link=Link(case.id, t.trigger))]

    @staticmethod
    def _transition_by_trigger(pathway: Pathway, trigger: str) -> Handover:
        for t in pathway.transitions:
            if t.trigger == trigger and t.handover is not None:
                return t.handover
        raise AssertionError(f"no hand-over transition {trigger!r} in {pathway.id!r}")

    def _fire_one_due(self, case: Case, now: datetime) -> list[Event]:
        pathway = self.pathway_of(case)
        due = case.due_at(pathway)
        if due is None or due > now:
            return []
        if case.pending is not None and (case.deadline_at is None or due < case.deadline_at):
            t = self._pending_rule(case, pathway)
            assert t.approval is not None
            return [
                self._commit(
                    case, pathway, EventKind.REFUSED, t.approval.on_refusal, trigger=t.trigger,
                    approvals=case.pending.approvals, reason=ClockReason.APPROVAL_TIMED_OUT.value, at=due,
                )
            ]
        deadline = pathway.state(case.state).deadline
        assert deadline is not None
        t = self._transition(pathway, case.state, deadline.trigger)
        return self._perform(case, pathway, t, EventKind.ESCALATED, None, (), ClockReason.DEADLINE_PASSED.value, due)

    def _reserve(self, before: Mapping[str, int], after: Mapping[str, int]) -> None:
        """Tell the ledger about places taken or freed, releases first; all or nothing."""
        deltas = sorted(
            ((after.get(r, 0) - before.get(r, 0), r) for r in before.keys() | after.keys()),
        )
        done: list[tuple[int, str]] = []
        try:
            for delta, res in deltas:
                if delta:
                    self.ledger.adjust(res, delta, self.capacity(res))
                    done.append((delta, res))
        except Exception:
            for delta, res in reversed(done):
                self.ledger.adjust(res, -delta, self.capacity(res))
            raise

    def _commit(
        self,
        case: Case,
        pathway: Pathway,
        kind: EventKind,
        to_state: str,
        *,
        actor: Actor | None = None,
        trigger: str | None = None,
        approvals: tuple[Approval, ...] = (),
        reason: str | None = None,
        facts: Mapping[str, bool] | None = None,
        at: datetime | None = None,
        link: Link | None = None,
        moves: Transition | None = None,
    ) -> Event:
        """Record one event and apply it; ``moves`` is the transition it fires, if any.

        The places the case holds afterwards are worked out once, here, and handed to
        :func:`~pathways.case.apply`; a case that holds none and takes none skips it.
        """
        event = Event(
            case.id, case.seq, at or self.clock.now(), kind, case.state, to_state,
            actor=actor, trigger=trigger, approvals=approvals, reason=reason, facts=dict(facts) if facts else {}, link=link,
        )
        if case.holds or (moves is not None and moves.takes):
            after = holds_after(case.holds, event, pathway)
            if after != case.holds:
                self._reserve(case.holds, after)
        else:
            after = {}
        apply(case, event, pathway, holds=after)
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug("%s %s → %s", kind.value, event.from_state, to_state, extra=_actor_fields(case, pathway, trigger, actor))
        return event
