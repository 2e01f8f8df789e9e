"""One engine contract: Engine (memory) and DurableEngine (a store) do the same things the same way.

Both satisfy ``pathways.CaseEngine`` with identical signatures; a verb given a case object
updates that object, so nobody is left holding a stale case.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

import pathways
from pathways import Case, CaseEngine, Engine, ManualClock
from pathways.case import case_from_json, case_to_json
from pathways.store import DurableEngine, MemoryStore, open_store
from test_engine import AMB, CITIZEN, LEADER_K, LEADER_R, NURSE, STAY, T0, _registry

MEMBERS = [
    name for name, value in vars(CaseEngine).items()
    if not name.startswith("_") and (callable(value) or isinstance(value, property))
]


def test_the_contract_names_every_verb_and_reading() -> None:
    assert sorted(MEMBERS) == [
        "approve", "capacity", "case", "cases", "fire", "fire_due", "in_use", "options",
        "pathway_of", "receive", "refuse", "set_fact", "snapshot", "start", "why_not", "why_not_set",
    ]


@pytest.mark.parametrize("name", sorted(set(MEMBERS) - {"cases"}))
def test_engine_and_durable_engine_have_the_contracts_signature(name: str) -> None:
    """Same parameters, kinds, defaults and annotations as the protocol, on both engines."""
    expected = inspect.signature(getattr(CaseEngine, name))
    assert inspect.signature(getattr(Engine, name)) == expected
    assert inspect.signature(getattr(DurableEngine, name)) == expected


EngineMaker = Callable[[], CaseEngine]


@pytest.fixture(params=["memory engine", "durable on memory", "durable on sqlite"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EngineMaker]:
    stores: list[pathways.store.CaseStore] = []

    def build() -> CaseEngine:
        ids = (f"case{i}" for i in itertools.count(1))
        clock = ManualClock(T0)
        registry = _registry(STAY, AMB)
        if request.param == "memory engine":
            return Engine(registry, clock=clock, new_id=lambda: next(ids))
        store = MemoryStore() if request.param == "durable on memory" else open_store(tmp_path / "cases.db")
        stores.append(store)
        return DurableEngine(registry, store, clock=clock, new_id=lambda: next(ids))

    yield build
    for s in stores:
        s.close()


class TestVerbsKeepTheCallersCaseCurrent:
    def test_the_same_case_object_can_be_passed_again(self, make: EngineMaker) -> None:
        """The object a verb was given is updated in place: state, seq and new events."""
        engine = make()
        case = engine.start("stay", "c-0042", facts={"consent_given": True})
        engine.fire(case, "admit", NURSE)
        engine.approve(case, LEADER_R)
        events = engine.approve(case, LEADER_K)
        assert (case.state, case.seq, [e.seq for e in case.history]) == ("staying", 5, [0, 1, 2, 3, 4])
        assert case.history[-2:] == events
        assert case == engine.case(case.id)

    def test_a_case_can_be_named_by_its_id(self, make: EngineMaker) -> None:
        engine = make()
        engine.start("stay", "c-0042", case_id="k1")
        assert [r.code for r in engine.why_not("k1", "admit", NURSE)] == ["guard"]
        engine.set_fact("k1", "consent_given", True, NURSE)
        assert [o.trigger for o in engine.options("k1", NURSE) if o.allowed] == ["admit", "escalate"]
        [event] = engine.fire("k1", "escalate", NURSE)
        assert (event.seq, engine.case("k1").state) == (2, "done")
        assert engine.snapshot("k1") == case_to_json(engine.case("k1"))

    def test_the_cases_mapping_holds_every_case(self, make: EngineMaker) -> None:
        engine = make()
        engine.start("stay", "c-1", case_id="k1")
        engine.start("stay", "c-2", case_id="k2")
        assert (sorted(engine.cases), "k1" in engine.cases, engine.cases["k2"].citizen) == (["k1", "k2"], True, "c-2")

    def test_fire_due_takes_cases_by_object_or_id_and_a_limit(self, make: EngineMaker) -> None:
        engine = make()
        first = engine.start("stay", "c-1", case_id="k1")
        engine.start("stay", "c-2", case_id="k2")
        engine.start("stay", "c-3", case_id="k3")
        later = T0 + timedelta(hours=3)
        assert [e.case_id for e in engine.fire_due(later, cases=[first, "k3"])] == ["k1", "k3"]
        assert first.state == "done"
        assert [e.case_id for e in engine.fire_due(later, limit=1)] == ["k2"]
        assert engine.fire_due(later) == []

    def test_places_are_counted_the_same(self, make: EngineMaker) -> None:
        engine = make()
        case = engine.start("stay", "c-0042", facts={"consent_given": True})
        engine.fire(case, "admit", NURSE)
        engine.approve(case, LEADER_R)
        engine.approve(case, LEADER_K)
        assert (engine.in_use("places"), engine.capacity("places"), case.holds) == (1, 2, {"places": 1})
        engine.fire(case, "leave", CITIZEN)
        assert (engine.in_use("places"), case.holds) == (0, {})


class TestSeqIsAField:
    def test_a_case_read_from_a_store_to_act_on_has_its_seq_and_no_placeholder_history(self) -> None:
        store = MemoryStore()
        engine = DurableEngine(_registry(STAY, AMB), store, clock=ManualClock(T0))
        engine.start("stay", "c-0042", case_id="k1")
        engine.set_fact("k1", "has_home", False, NURSE)
        loaded = store.load("k1")
        assert (loaded.case.seq, loaded.case.history, loaded.seq, loaded.version) == (2, [], 2, 1)
        assert store.get("k1").seq == 2 and store.get("k1", history=False).seq == 2

    def test_a_snapshot_written_before_seq_was_a_field_restores_its_seq(self) -> None:
        engine = Engine(_registry(STAY, AMB), clock=ManualClock(T0))
        case = engine.start("stay", "c-0042")
        engine.fire(case, "escalate", NURSE)
        old = case_to_json(case)
        del old["seq"]
        assert case_from_json(old, engine.pathway_of(case)) == case


def test_memory_store_claims_the_soonest_due_case_not_yet_tried() -> None:
    store, clock = MemoryStore(), ManualClock(T0)
    engine = DurableEngine(_registry(STAY, AMB), store, clock=clock)
    engine.start("stay", "c-1", case_id="k1")
    engine.start("stay", "c-2", case_id="k2")
    clock.advance(timedelta(hours=3))
    later = clock.now()
    with store.claim_due(later) as first:
        assert first is not None and first.id == "k1"
    with store.claim_due(later, skip=["k1", "k2"]) as none:
        assert none is None
    assert pathways.store.run_worker(engine, once=True) == 2


def test_a_durable_engine_is_a_case_engine() -> None:
    """What mypy checks statically, here at run time: the verbs a host needs are there."""
    engine: CaseEngine = DurableEngine(_registry(STAY, AMB), MemoryStore(), clock=ManualClock(T0))
    case: Case = engine.start("stay", "c-1")
    assert engine.pathway_of(case).id == "stay"
