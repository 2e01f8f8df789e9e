"""The house's questions, answered alike by every back-end: a leader's inbox, a citizen's
cases, overdue cases and the worker's lag."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import pathways
from pathways.store import ApprovalWait, DurableEngine, run_worker
from test_store_support import BACKENDS, LEAD_R, LEAD_S, SOCIAL, fresh_store, registry


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> DurableEngine:
    store = fresh_store(request.param, tmp_path)
    request.addfinalizer(store.close)
    return DurableEngine(registry(), store, clock=pathways.ManualClock())


def _requested(engine: DurableEngine) -> ApprovalWait:
    engine.start("night", "cit-1", case_id="k1")
    engine.fire("k1", "plan", SOCIAL)
    (wait,) = engine.store.awaiting(role="leader_region")
    return wait


class TestInbox:
    def test_a_request_waits_for_every_role_that_can_still_approve_it(self, engine: DurableEngine) -> None:
        wait = _requested(engine)
        assert (wait.case_id, wait.pathway_id, wait.trigger, wait.role, wait.sector, wait.requested_by, wait.approved_by) == (
            "k1", "night", "plan", "leader_region", "region", "s-1", (),
        )
        assert wait.requested_at == engine.clock.now()
        assert [w.case_id for w in engine.store.awaiting(role="leader_social")] == ["k1"]

    def test_a_sector_inbox_shows_each_case_once(self, engine: DurableEngine) -> None:
        _requested(engine)
        assert [w.case_id for w in engine.store.awaiting(sector="social")] == ["k1"]  # social_worker and leader_social

    def test_the_requester_does_not_see_their_own_request(self, engine: DurableEngine) -> None:
        _requested(engine)
        assert engine.store.awaiting(sector="social", person="s-1") == []
        assert [w.case_id for w in engine.store.awaiting(sector="social", person="ls-1")] == ["k1"]

    def test_an_approval_closes_its_sector_and_is_remembered(self, engine: DurableEngine) -> None:
        _requested(engine)
        engine.approve("k1", LEAD_R)
        assert engine.store.awaiting(sector="region") == []
        (left,) = engine.store.awaiting(role="leader_social")
        assert left.approved_by == ("lr-1",)
        assert engine.store.awaiting(role="leader_social", person="lr-1") == []

    def test_a_met_rule_empties_the_inbox(self, engine: DurableEngine) -> None:
        _requested(engine)
        engine.approve("k1", LEAD_R)
        engine.approve("k1", LEAD_S)
        assert engine.store.summary("k1").state == "planned"
        assert engine.store.awaiting(sector="social") == [] and engine.store.awaiting(sector="region") == []

    def test_a_refusal_empties_the_inbox(self, engine: DurableEngine) -> None:
        _requested(engine)
        engine.refuse("k1", LEAD_S, reason="not now")
        assert engine.store.awaiting(role="leader_region") == []

    def test_the_oldest_request_comes_first_and_limit_cuts(self, engine: DurableEngine) -> None:
        for i in range(3):
            engine.start("night", f"cit-{i}", case_id=f"k{i}")
        for cid in ("k2", "k0", "k1"):
            engine.fire(cid, "plan", SOCIAL)
            engine.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
        assert [w.case_id for w in engine.store.awaiting(role="leader_region")] == ["k2", "k0", "k1"]
        assert [w.case_id for w in engine.store.awaiting(role="leader_region", limit=2)] == ["k2", "k0"]

    def test_an_inbox_needs_a_role_or_a_sector(self, engine: DurableEngine) -> None:
        with pytest.raises(pathways.StoreError, match=r"^awaiting needs role= or sector= \(and may take person=\)$"):
            engine.store.awaiting(person="lr-1")


def test_every_case_of_a_citizen_across_pathways(engine: DurableEngine) -> None:
    engine.start("night", "cit-1", case_id="k2")
    engine.start("night", "cit-2", case_id="k1")
    engine.start("stay", "cit-1", case_id="k3")
    assert [(s.id, s.pathway_id) for s in engine.store.of_citizen("cit-1")] == [("k2", "night"), ("k3", "stay")]
    assert engine.store.of_citizen("nobody") == []


def test_overdue_cases_and_the_worker_lag(engine: DurableEngine) -> None:
    clock = engine.clock
    assert isinstance(clock, pathways.ManualClock)
    engine.start("night", "cit-1", case_id="k1")  # arrived: escalates after 2 hours
    assert engine.store.lag(clock.now()) == timedelta(0)
    clock.advance(timedelta(hours=3))
    assert [s.id for s in engine.store.due_before(clock.now())] == ["k1"]
    assert engine.store.lag(clock.now()) == timedelta(hours=1)
    assert run_worker(engine, once=True) == 1
    assert engine.store.due_before(clock.now()) == []
    assert engine.store.lag(clock.now()) == timedelta(0)
