"""Typed values at every entry (issue 14, item 1): wrong types are refused before anything is written.

``set_fact(case, "consent_given", "false", nurse)`` — a form value passed straight through —
used to admit a citizen without consent in memory and to poison the stored case. Every verb
of the engine and of the durable engine now raises :class:`InvalidArgument` naming the
argument, and the case (and the store's audit) stay exactly as they were.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pathways
from pathways import InvalidArgument, PathwaysError
from pathways.store import DurableEngine, open_store, verify
from test_store_support import BACKENDS, CITIZEN, NURSE, backend_url, registry

CaseEngineLike = Any


@pytest.fixture(params=["engine", *BACKENDS])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CaseEngineLike]:
    if request.param == "engine":
        yield pathways.Engine(registry(), clock=pathways.ManualClock())
        return
    store = open_store(backend_url(request.param, tmp_path))
    yield DurableEngine(registry(), store, clock=pathways.ManualClock())
    store.close()


def refused(action: Callable[[], object]) -> str:
    with pytest.raises(InvalidArgument) as info:
        action()
    return str(info.value)


class TestTypedValues:
    def test_a_text_false_for_a_fact_is_refused_and_nothing_is_written(self, engine: CaseEngineLike) -> None:
        case = engine.start("night", "cit-1", case_id="k1")
        assert refused(lambda: engine.set_fact("k1", "consent_given", "false", NURSE)) == "value must be True or False, got str"
        assert engine.case("k1").seq == case.seq == 1
        assert engine.why_not("k1", "admit", NURSE)[0].message == "guard 'consent_given' does not hold"

    def test_facts_at_start_must_be_true_or_false(self, engine: CaseEngineLike) -> None:
        assert refused(lambda: engine.start("night", "cit-1", facts={"consent_given": "no"}, case_id="k1")) == (
            "facts['consent_given'] must be True or False, got str"
        )
        assert "k1" not in engine.cases

    def test_a_citizen_must_be_an_id(self, engine: CaseEngineLike) -> None:
        assert refused(lambda: engine.start("night", 123)) == "citizen must be an id (text of 1 to 128 characters), got int"
        assert refused(lambda: engine.start("night", "")) == (
            "citizen must be an id of 1 to 128 characters without spaces or control characters, got empty text"
        )
        assert refused(lambda: engine.start("night", " p-1")) == (
            "citizen must be an id of 1 to 128 characters without spaces or control characters, got text with a space or control character"
        )

    def test_a_reason_must_be_text(self, engine: CaseEngineLike) -> None:
        engine.start("night", "cit-1", facts={"consent_given": True}, case_id="k1")
        assert refused(lambda: engine.fire("k1", "admit", NURSE, reason=123)) == "reason must be text or None, got int"
        assert refused(lambda: engine.fire("k1", "admit", NURSE, reason="a\x00b")) == "reason must be text of at most 10,000 characters without NUL, got 3 characters"

    def test_an_actor_must_be_an_actor_of_ids(self, engine: CaseEngineLike) -> None:
        engine.start("night", "cit-1", case_id="k1")
        assert refused(lambda: engine.fire("k1", "leave", ("c-1", "citizen", "citizen"))) == "actor must be an Actor(person, role, sector), got tuple"
        assert refused(lambda: engine.fire("k1", "leave", pathways.Actor(5, "citizen", "citizen"))) == (  # type: ignore[arg-type]
            "actor.person must be an id (text of 1 to 128 characters), got int"
        )

    def test_times_must_be_aware(self, engine: CaseEngineLike) -> None:
        assert refused(lambda: engine.fire_due(datetime(2026, 1, 1))) == "now must be an aware datetime (with a time zone), got a naive datetime"
        assert refused(lambda: engine.fire_due(limit=-1)) == "limit must be None or a whole number of at least 0, got -1"

    def test_a_case_id_must_fit_the_store(self, engine: CaseEngineLike) -> None:
        assert refused(lambda: engine.start("night", "cit-1", case_id="k" * 65)) == (
            "case_id must be an id of 1 to 64 characters without spaces or control characters, got text of 65 characters"
        )
        assert refused(lambda: engine.fire(7, "leave", CITIZEN)) == "case must be an id (text of 1 to 64 characters), got int"

    def test_the_error_names_its_argument(self, engine: CaseEngineLike) -> None:
        with pytest.raises(InvalidArgument) as info:
            engine.start("night", "cit-1", facts={"consent_given": 0})
        assert (info.value.argument, info.value.expected, info.value.got) == ("facts['consent_given']", "True or False", "int")


# -- property: wrong-typed and out-of-range arguments --------------------------------------

_hostile = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True), st.binary(max_size=8),
    st.text(max_size=3), st.text(min_size=129, max_size=140), st.just("a\x00b"), st.just(" p-1"), st.just(""),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.datetimes(), st.just("false"),
)
_verbs = ["start", "fire", "approve", "refuse", "set_fact", "fire_due", "options", "why_not"]
_slots = {
    "start": ["pathway_id", "citizen", "facts", "actor", "case_id"],
    "fire": ["case", "trigger", "actor", "reason"],
    "approve": ["case", "actor", "reason"],
    "refuse": ["case", "actor", "reason"],
    "set_fact": ["case", "fact", "value", "actor", "reason"],
    "fire_due": ["now", "cases", "limit"],
    "options": ["case", "actor"],
    "why_not": ["case", "trigger", "actor"],
}
_good: dict[str, Any] = {
    "pathway_id": "night", "citizen": "cit-9", "facts": {"consent_given": True}, "actor": NURSE, "case_id": "k9",
    "case": "k1", "trigger": "admit", "reason": "because", "fact": "consent_given", "value": True,
    "now": None, "cases": None, "limit": None,
}


def _call(engine: CaseEngineLike, verb: str, args: dict[str, Any]) -> None:
    match verb:
        case "start":
            engine.start(args["pathway_id"], args["citizen"], facts=args["facts"], actor=args["actor"], case_id=args["case_id"])
        case "fire":
            engine.fire(args["case"], args["trigger"], args["actor"], reason=args["reason"])
        case "approve":
            engine.approve(args["case"], args["actor"], reason=args["reason"])
        case "refuse":
            engine.refuse(args["case"], args["actor"], reason=args["reason"])
        case "set_fact":
            engine.set_fact(args["case"], args["fact"], args["value"], args["actor"], reason=args["reason"])
        case "fire_due":
            engine.fire_due(args["now"], cases=args["cases"], limit=args["limit"])
        case "options":
            engine.options(args["case"], args["actor"])
        case "why_not":
            engine.why_not(args["case"], args["trigger"], args["actor"])


@pytest.mark.parametrize("backend", ["engine", "memory", "sqlite"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(calls=st.lists(st.tuples(st.sampled_from(_verbs), st.data()), min_size=1, max_size=6))
def test_wrong_arguments_give_a_pathways_error_or_success_and_the_store_still_verifies(
    backend: str, calls: list[tuple[str, st.DataObject]], tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Whatever a host passes, a verb succeeds or raises a PathwaysError; never another exception."""
    reg = registry()
    store = None
    if backend == "engine":
        engine: CaseEngineLike = pathways.Engine(reg, clock=pathways.ManualClock())
    else:
        store = open_store(backend_url(backend, tmp_path_factory.mktemp("args")))
        engine = DurableEngine(reg, store, clock=pathways.ManualClock())
    engine.start("night", "cit-1", case_id="k1")
    for verb, data in calls:
        args = dict(_good)
        slot = data.draw(st.sampled_from(_slots[verb]))
        args[slot] = data.draw(_hostile)
        with contextlib.suppress(PathwaysError):
            _call(engine, verb, args)
    if store is not None:
        result = verify(store, reg)
        store.close()
        assert result.ok, result.problem
