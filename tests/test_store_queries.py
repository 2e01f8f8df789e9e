"""The house's questions, answered alike by every back-end: a leader's inbox, a citizen's
cases, overdue cases and the worker's lag."""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import pathways
from pathways._arguments import person_key
from pathways._limits import id_problem
from pathways.store import ApprovalWait, DurableEngine, SQLStore, run_worker
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


def _full_width(text: str) -> str:
    """ASCII letters, digits and signs as their full-width forms (NFKC maps them back)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


SPELLINGS: list[Callable[[str], str]] = [
    str.lower, str.upper, str.swapcase, _full_width,
    lambda s: unicodedata.normalize("NFD", s), lambda s: unicodedata.normalize("NFKD", s),
]
"""Ways to write one person's id that the normalised id (NFKC, case-folded) takes as one."""


class TestCitizenKey:
    def test_a_citizen_is_found_under_any_spelling_and_each_case_keeps_its_own(self, engine: DurableEngine) -> None:
        for case_id, who in [("k1", "Cit-1"), ("k2", "cit-1"), ("k3", "\uff23\uff29\uff34-\uff11"), ("k4", "cit-2"), ("k5", "cit-10")]:
            engine.start("night", who, case_id=case_id)
        found = [(s.id, s.citizen) for s in engine.store.of_citizen("CIT-1")]
        assert found == [("k1", "Cit-1"), ("k2", "cit-1"), ("k3", "\uff23\uff29\uff34-\uff11")]
        assert [s.id for s in engine.store.of_citizen("c\u0131t-2")] == []  # dotless i is another letter
        assert [s.id for s in engine.store.of_citizen("cit-1", limit=2)] == ["k1", "k2"]

    def test_a_citizen_id_with_a_space_or_of_another_type_is_refused(self, engine: DurableEngine) -> None:
        with pytest.raises(pathways.InvalidArgument) as info:
            engine.store.of_citizen(" cit-1")
        assert str(info.value) == (
            "citizen must be an id of 1 to 128 characters without spaces or control characters, "
            "got text with a space or control character"
        )
        with pytest.raises(pathways.InvalidArgument, match=r"^citizen must be an id \(text of 1 to 128 characters\), got int$"):
            engine.store.of_citizen(7)  # type: ignore[arg-type]
        with pytest.raises(pathways.InvalidArgument, match=r"^person must be an id \(text of 1 to 128 characters\), got int$"):
            engine.store.awaiting(role="leader_region", person=7)  # type: ignore[arg-type]

    def test_ids_differing_only_in_case_or_normal_form_find_the_same_cases(self, engine: DurableEngine) -> None:
        numbers = itertools.count()
        postgres = isinstance(engine.store, SQLStore) and engine.store.dialect == "postgresql"

        @settings(max_examples=10 if postgres else 25, deadline=None)
        @given(
            stem=st.text(st.characters(categories=("Lu", "Ll", "Nd")), min_size=1, max_size=6),
            spellings=st.lists(st.sampled_from(SPELLINGS), min_size=1, max_size=3),
            ask=st.sampled_from(SPELLINGS),
        )
        def run(stem: str, spellings: list[Callable[[str], str]], ask: Callable[[str], str]) -> None:
            n = next(numbers)
            who = f"c{n}-{stem}"  # a citizen of this example only
            ids = [spell(who) for spell in spellings]
            asked = ask(who)
            assume(all(id_problem(i) is None for i in (*ids, asked)))
            assume({person_key(i) for i in (*ids, asked)} == {person_key(who)})
            started = [(engine.start("night", i, case_id=f"p{n}-{k}").id, i) for k, i in enumerate(ids)]
            assert [(s.id, s.citizen) for s in engine.store.of_citizen(asked)] == started
            assert engine.store.of_citizen(f"c{n}-other") == []

        run()


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
