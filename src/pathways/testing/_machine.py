"""Turn pathways into a hypothesis state machine whose rules are the actors' actions.

The machine drives the real :class:`~pathways.engine.Engine`, or any
:class:`~pathways.engine.CaseEngine` such as a ``DurableEngine`` on a store (with a
:class:`~pathways.clock.ManualClock`) on a small pool of cases and, after every step,
checks the laws of :mod:`pathways.testing._laws`: nobody moves a case without permission,
no one approves twice or their own request, capacity is never exceeded and the ledger
agrees with the cases, histories replay to the cases and snapshots round-trip, and (the
stranding properties) every case can still reach an end and someone is responsible for it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from typing import Any

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from .. import calendar
from ..case import Case, apply, case_from_json, case_to_json, new_case, replay
from ..clock import ManualClock
from ..engine import CaseEngine, Engine
from ..errors import ActionRefused, CapacityError, ServiceClosed
from ..model import Pathway
from ..registry import Registry
from ._actions import PERSONS, Action, Advance, Approve, Fire, actions, perform, registry_of
from ._laws import can_finish, capacity_problems, event_problem, story

__all__ = ["pathway_machine"]

_INDEX = st.integers(0, 255)

EngineFactory = Callable[..., CaseEngine]
"""Called as ``factory(registry, clock=ManualClock, new_id=callable)``; :class:`Engine` itself fits,
and so does ``lambda registry, **kw: DurableEngine(registry, MemoryStore(), **kw)``."""


def pathway_machine(
    source: Pathway | Registry,
    *,
    max_cases: int = 3,
    max_started: int = 20,
    start: Sequence[str] | None = None,
    capacity: int | None = None,
    persons: Sequence[str] = PERSONS,
    stranding: bool = True,
    engine: EngineFactory = Engine,
) -> type[RuleBasedStateMachine]:
    """A :class:`~hypothesis.stateful.RuleBasedStateMachine` class for ``source``.

    Run it under pytest with ``TestX = pathway_machine(registry).TestCase``.

    Rules: start a case (a few open at a time; hand-overs add the receiving cases), let an
    actor fire a trigger, approve, refuse or set a fact on a case (wrong actors and wrong
    triggers included), and advance the clock to fire what is due. A refused action must
    raise :class:`~pathways.errors.ActionRefused` (or :class:`~pathways.errors.CapacityError`
    when a transition releases a place the case does not hold) and change nothing.

    Args:
        source: a pathway, or a registry of pathways that hand over to each other.
        max_cases: at most this many open cases at a time (hand-overs add receiving cases).
        max_started: at most this many cases started in one run.
        start: the pathway ids the rules start cases of (default: every pathway in ``source``;
            cases of the others then only begin by hand-over).
        capacity: cap every shared resource at this many places, so that short runs also
            meet "all places are taken" (the 16 overnight places need 17 cases otherwise).
        persons: the staff person ids actors are drawn from (four or more lets every
            approval rule be met by distinct people).
        stranding: also check the stranding properties (turn off for definitions that are
            known to strand, e.g. to test the engine laws alone).
        engine: builds the engine under test, e.g. a subclass or a store-backed engine.
    """
    registry = registry_of(source)
    if capacity is not None:
        registry = _capped(registry, capacity)
    finishing = {p.key: can_finish(p) for p in registry.versions()}
    capacities = {r: res.capacity for r, res in registry.resources().items()}
    starts = sorted(registry) if start is None else list(start)
    strategies: dict[tuple[Any, ...], st.SearchStrategy[Action]] = {}
    # Looking the start pathways up here raises UnknownPathway now, not in the middle of a run.
    start_facts = {pid: st.fixed_dictionaries({}, optional={f: st.booleans() for f in registry[pid].facts}) for pid in starts}

    def actions_for(pathway: Pathway, case: Case) -> st.SearchStrategy[Action]:
        pending = case.pending
        key = (pathway.key, case.state, pending and (pending.trigger, pending.requested_by, pending.approvals))
        if key not in strategies:
            strategies[key] = actions(pathway, case, persons=persons, advance=True)
        return strategies[key]

    class PathwayMachine(RuleBasedStateMachine):
        """Actors act on a few cases; every step must keep the laws."""

        def __init__(self) -> None:
            super().__init__()
            self.clock = ManualClock()
            counter = itertools.count(1)
            self.engine = engine(registry, clock=self.clock, new_id=lambda: f"case-{next(counter)}")
            self.started = 0
            self.shadows: dict[str, Case] = {}

        # -- rules ------------------------------------------------------------------

        def _open(self) -> list[str]:
            return sorted(i for i, c in self.engine.cases.items() if not self.engine.pathway_of(c).state(c.state).terminal)

        @precondition(lambda self: len(self._open()) < max_cases and self.started < max_started)
        @rule(pathway_id=st.sampled_from(starts), data=st.data())
        def start_case(self, pathway_id: str, data: st.DataObject) -> None:
            pathway = registry[pathway_id]
            facts = data.draw(start_facts[pathway_id], label="facts")
            self.started += 1
            is_open = calendar.is_open(pathway.calendar, self.clock.now())
            try:
                case = self.engine.start(pathway_id, f"citizen-{self.started}", facts=facts)
            except ServiceClosed as closed:
                assert not is_open, f"{pathway_id!r} refused a case while its service is open"
                # The citizen comes back when the service opens; what fell due meanwhile fires.
                assert closed.opens_at is not None and calendar.is_open(pathway.calendar, closed.opens_at)
                self.clock.set(closed.opens_at)
                self.engine.fire_due()
                case = self.engine.start(pathway_id, f"citizen-{self.started}", facts=facts)
            else:
                assert is_open, f"{pathway_id!r} started a case while its service is closed"
            assert case.state == pathway.initial and len(case.history) == 1

        @precondition(lambda self: bool(self.engine.cases))
        @rule(data=st.data())
        def act(self, data: st.DataObject) -> None:
            # Open cases, and one closed case to check that it stays closed.
            open_ids = self._open()
            closed = sorted(set(self.engine.cases) - set(open_ids))[:1]
            ids = open_ids * 4 + closed
            case_id = ids[data.draw(_INDEX, label="case") % len(ids)]
            case = self.engine.cases[case_id]
            pathway = self.engine.pathway_of(case)
            action = data.draw(actions_for(pathway, case), label="action")
            self._attempt(case, pathway, action)

        # -- invariants ---------------------------------------------------------------

        @invariant()
        def histories_are_lawful_and_replay(self) -> None:
            for case_id, case in self.engine.cases.items():
                pathway = self.engine.pathway_of(case)
                shadow = self.shadows.get(case_id)
                if shadow is not None and len(shadow.history) == len(case.history):
                    assert shadow == case, f"case {case_id!r} changed without an event:\n{story(case)}"
                    continue
                if shadow is None:
                    first = case.history[0]
                    shadow = self.shadows[case_id] = new_case(first, case.citizen, pathway)
                for e in case.history[len(shadow.history) :]:
                    problem = event_problem(pathway, shadow, e)
                    assert problem is None, f"case {case_id!r}, event {e.seq} ({e.kind.value} {e.trigger or ''}): {problem}\n{story(case)}"
                    apply(shadow, e, pathway)
                assert replay(pathway, case.citizen, case.history) == case, f"replaying the history of {case_id!r} does not give the case:\n{story(case)}"
                restored = case_from_json(json.loads(json.dumps(case_to_json(case))), pathway)
                assert restored == case, f"the snapshot of {case_id!r} does not restore to the same case"

        @invariant()
        def capacity_is_kept(self) -> None:
            problems = capacity_problems(
                capacities,
                {r: self.engine.in_use(r) for r in capacities},
                ((c, self.engine.pathway_of(c).state(c.state).terminal) for c in self.engine.cases.values()),
            )
            assert not problems, "capacity: " + "; ".join(problems)

        @invariant()
        def nobody_is_stranded(self) -> None:
            if not stranding:
                return
            for case in self.engine.cases.values():
                pathway = self.engine.pathway_of(case)
                state = pathway.state(case.state)
                if state.terminal:
                    continue
                assert case.state in finishing[pathway.key], (
                    f"stranded: from {case.state!r} in {pathway.id!r} nothing but the citizen leaving leads to an end\n{story(case)}"
                )
                assert state.responsible, f"stranded: nobody is responsible for the citizen in {case.state!r} of {pathway.id!r}\n{story(case)}"

        # -- helpers ------------------------------------------------------------------

        def _world(self) -> tuple[dict[str, Any], dict[str, int]]:
            return (
                {i: case_to_json(c) for i, c in self.engine.cases.items()},
                {r: self.engine.in_use(r) for r in capacities},
            )

        def _assert_recorded(self, events: list[Any]) -> None:
            for e in events:
                case = self.engine.cases.get(e.case_id)
                assert case is not None and e.seq < len(case.history) and case.history[e.seq] == e, (
                    f"the engine returned event {e.seq} of {e.case_id!r}, but it is not in the case's history"
                )

        def _attempt(self, case: Case, pathway: Pathway, action: Action) -> None:
            if isinstance(action, Advance):
                events = perform(self.engine, case, action)
                self._assert_recorded(events)
                again = self.engine.fire_due()
                assert again == [], f"fire_due is not idempotent: a second call at the same time fired {len(again)} event(s)"
                return
            before = self._world()
            reasons = self.engine.why_not(case, action.trigger, action.actor) if isinstance(action, Fire) else None
            try:
                events = perform(self.engine, case, action)
            except ActionRefused as exc:
                assert self._world() == before, f"{action} was refused ({exc}) but something changed"
                assert reasons is None or reasons, f"why_not() saw no obstacle to {action}, yet fire refused: {exc}"
                return
            except CapacityError as exc:
                assert self._world() == before, f"{action} failed ({exc}) but something changed"
                t = pathway.find(case.state, case.pending.trigger if isinstance(action, Approve) and case.pending else getattr(action, "trigger", ""))
                assert t is not None and t.releases and case.holds.get(t.releases, 0) < 1, f"{action} raised CapacityError: {exc}"
                return
            assert events, f"{action} succeeded but recorded nothing"
            assert not reasons, f"why_not() named obstacles to {action} ({'; '.join(r.message for r in reasons or [])}), yet it went through"
            self._assert_recorded(events)

    PathwayMachine.__name__ = PathwayMachine.__qualname__ = f"PathwayMachine_{'_'.join(starts)}"
    return PathwayMachine


def _capped(registry: Registry, places: int) -> Registry:
    """Every version in ``registry`` with its resources capped at ``places``."""
    if places < 1:
        raise ValueError(f"capacity must be at least 1, got {places}")
    out = []
    for p in registry.versions():
        resources = {r: attrs.evolve(res, capacity=min(res.capacity, places)) for r, res in p.resources.items()}
        out.append(attrs.evolve(p, resources=resources))
    return Registry(out)
