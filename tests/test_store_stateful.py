"""The memory, SQLite and PostgreSQL stores agree after every random step, and keep the engine's laws.

A hypothesis state machine drives one DurableEngine per back-end with the same actions
(start, fire, approve, refuse, set a fact, let time pass) and demands the same outcome
(the same events or the same error) and the same stored rows — states, histories,
hashes, places, query answers — after each step.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import pathways
from pathways.errors import PathwaysError
from pathways.store import CaseStore, DurableEngine, MemoryStore, open_store
from pathways.testing import pathway_machine
from test_store_support import (
    AMBULANT,
    CITIZEN,
    LEAD_R,
    LEAD_S,
    NURSE,
    NURSE2,
    SOCIAL,
    citizen,
    postgres_url,
    registry,
    reset_postgres,
)

ACTORS = [NURSE, NURSE2, SOCIAL, LEAD_R, LEAD_S, CITIZEN, AMBULANT]
TRIGGERS = ["admit", "plan", "escalate", "discharge", "finish", "leave", "refer", "accept", "decline", "go", "chase"]


def _ids() -> Callable[[], str]:
    """Case ids x0, x1, … of one engine, so every store names its cases alike."""
    counter = iter(range(10_000))
    return lambda: f"x{next(counter)}"


def _outcome(engine: DurableEngine, act: Any) -> tuple[str, Any]:
    """The events of an action, or its error (the store's own URL replaced, as it differs)."""
    try:
        return ("ok", act(engine))
    except PathwaysError as exc:
        return (type(exc).__name__, str(exc).replace(engine.store.url, "<store>"))


class StoresAgree(RuleBasedStateMachine):
    postgres: str | None = None

    @initialize()
    def open_stores(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="pathways-stateful-")
        self.clock = pathways.ManualClock()
        stores: list[CaseStore] = [MemoryStore(), open_store(f"{self.folder}/cases.db")]
        if self.postgres:
            reset_postgres(self.postgres)
            stores.append(open_store(self.postgres))
        reg = registry()
        self.engines = []
        for s in stores:
            self.engines.append(DurableEngine(reg, s, clock=self.clock, new_id=_ids()))
        self.case_ids: list[str] = []

    def teardown(self) -> None:
        for e in getattr(self, "engines", []):
            e.store.close()
        if hasattr(self, "folder"):
            shutil.rmtree(self.folder, ignore_errors=True)

    def _all(self, act: Any) -> Any:
        outcomes = [_outcome(e, act) for e in self.engines]
        assert all(o == outcomes[0] for o in outcomes), outcomes
        return outcomes[0]

    @rule(pathway=st.sampled_from(["night", "stay"]), consent=st.booleans())
    def start(self, pathway: str, consent: bool) -> None:
        case_id = f"h{len(self.case_ids)}"
        self.case_ids.append(case_id)
        self._all(lambda e: e.start(pathway, f"cit-{case_id}", facts={"consent_given": consent}, case_id=case_id))

    def _any_case(self, data: st.DataObject) -> str:
        ids = sorted(self.engines[0].store.case_ids())
        return data.draw(st.sampled_from(ids)) if ids else "none"

    @precondition(lambda self: bool(self.case_ids))
    @rule(data=st.data(), trigger=st.sampled_from(TRIGGERS), actor=st.sampled_from(ACTORS))
    def fire(self, data: st.DataObject, trigger: str, actor: pathways.Actor) -> None:
        case_id = self._any_case(data)
        if actor == CITIZEN and data.draw(st.booleans()):
            actor = citizen(f"cit-{case_id}")  # mostly the case's own citizen; else another's, who is refused
        self._all(lambda e: e.fire(case_id, trigger, actor))

    @precondition(lambda self: bool(self.case_ids))
    @rule(data=st.data())
    def take_an_allowed_option(self, data: st.DataObject) -> None:
        """Mostly-successful moves, so admissions, approvals and hand-overs happen often."""
        store = self.engines[0].store
        open_ids = [i for i in store.case_ids() if not store.summary(i).terminal]
        if not open_ids:
            return
        case_id = data.draw(st.sampled_from(open_ids))
        for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
            people = [*ACTORS, citizen(f"cit-{case_id}")]
            allowed = [(a, o) for a in people for o in self.engines[0].options(case_id, a) if o.allowed]
            if not allowed:
                return
            actor, option = data.draw(st.sampled_from(allowed))
            if option.kind == "approve":
                self._all(lambda e, a=actor: e.approve(case_id, a))
            else:
                self._all(lambda e, a=actor, t=option.trigger: e.fire(case_id, t, a))

    @precondition(lambda self: bool(self.case_ids))
    @rule(data=st.data(), actor=st.sampled_from(ACTORS))
    def approve(self, data: st.DataObject, actor: pathways.Actor) -> None:
        case_id = self._any_case(data)
        self._all(lambda e: e.approve(case_id, actor))

    @precondition(lambda self: bool(self.case_ids))
    @rule(data=st.data(), actor=st.sampled_from(ACTORS))
    def refuse(self, data: st.DataObject, actor: pathways.Actor) -> None:
        case_id = self._any_case(data)
        self._all(lambda e: e.refuse(case_id, actor, reason="not now"))

    @precondition(lambda self: bool(self.case_ids))
    @rule(data=st.data(), value=st.booleans())
    def set_fact(self, data: st.DataObject, value: bool) -> None:
        case_id = self._any_case(data)
        self._all(lambda e: e.set_fact(case_id, "consent_given", value, NURSE, reason="the citizen said so"))

    @rule(minutes=st.integers(min_value=1, max_value=60 * 5))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))
        self._all(lambda e: e.fire_due())

    @invariant()
    def stored_rows_agree(self) -> None:
        if not hasattr(self, "engines"):
            return
        views = []
        for e in self.engines:
            s = e.store
            ids = s.case_ids()
            views.append((
                ids,
                [s.summary(i) for i in ids],
                [s.get(i) for i in ids],
                s.heads(),
                s.resources(),
                [x.id for x in s.owned_by(role="nurse")],
                [x.id for x in s.in_state("night", "arrived")],
                [x.id for x in s.due_before(self.clock.now() + timedelta(hours=3))],
            ))
        for view in views[1:]:
            assert view == views[0]


def test_memory_sqlite_and_postgres_stores_agree_after_every_step() -> None:
    StoresAgree.postgres = postgres_url()
    run_state_machine_as_test(
        StoresAgree,
        settings=settings(
            max_examples=30, stateful_step_count=20, deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_the_engine_laws_hold_on_a_store(backend: str, tmp_path: Path) -> None:
    """pathways.testing's machine drives a DurableEngine: every law holds on stored cases too."""
    stores: list[CaseStore] = []

    def durable(reg: pathways.Registry, **kw: Any) -> DurableEngine:
        store = MemoryStore() if backend == "memory" else open_store(tmp_path / f"cases-{len(stores)}.db")
        stores.append(store)
        return DurableEngine(reg, store, **kw)

    machine = pathway_machine(registry(), start=["night", "stay"], capacity=1, engine=durable)
    try:
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=10, stateful_step_count=15, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    finally:
        for s in stores:
            s.close()
