"""Errors carry their data: a host branches on attributes, never on message text.

A refusal keeps one form from the engine's check to the host: the ``Reason`` values in
``why_not()`` are the very values the raised exception carries in ``reasons``.
"""

from __future__ import annotations

import itertools
import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pathways
from pathways import (
    ActionRefused,
    CapacityError,
    CaseClosed,
    DefinitionError,
    DocumentError,
    DuplicateApproval,
    Engine,
    GuardFailed,
    ManualClock,
    NoCapacity,
    NoPendingApproval,
    NotAnApprover,
    NotPermitted,
    PathwaysError,
    Problem,
    Reason,
    RefusalCode,
    ScenarioError,
    SchemaTooNew,
    SelfApproval,
    UnknownTrigger,
    UnreadableCase,
    WrongState,
)
from pathways.errors import refusal
from test_engine import AMB, CITIZEN, LEADER_K, LEADER_R, NURSE, SOCIAL, STAY, T0, _admitted, _registry

R = RefusalCode


@pytest.fixture
def engine() -> Engine:
    ids = (f"case{i}" for i in itertools.count(1))
    return Engine(_registry(STAY, AMB), clock=ManualClock(T0), new_id=lambda: next(ids))


def _refused(call: Any, *args: Any, **kwargs: Any) -> PathwaysError:
    with pytest.raises(PathwaysError) as info:
        call(*args, **kwargs)
    return info.value


def _data(case_id: str | None, state: str | None, trigger: str | None, actor: pathways.Actor | None, *reasons: Reason, pathway: str | None = "stay") -> dict[str, Any]:
    return {"case_id": case_id, "pathway": pathway, "state": state, "trigger": trigger, "actor": actor, "reasons": reasons}


class TestRefusalsCarryTheirData:
    def test_a_refused_fire_carries_case_pathway_state_trigger_actor_and_every_reason(self, engine: Engine) -> None:
        """Role and guard both fail: both reasons, in order; the first picks the class."""
        case = engine.start("stay", "c-0042")
        exc = _refused(engine.fire, case, "admit", CITIZEN)
        assert type(exc) is NotPermitted and exc.code is R.ROLE
        assert vars(exc) == _data(
            "case1", "arrived", "admit", CITIZEN,
            Reason(R.ROLE, "role 'citizen' may not fire 'admit' (allowed: nurse)"),
            Reason(R.GUARD, "guard 'consent_given' does not hold"),
        )

    @pytest.mark.parametrize(
        ("trigger", "cls", "reason"),
        [
            ("pause", WrongState, Reason(R.STATE, "'pause' cannot fire in case 'case1' (stay, state 'arrived'); possible here: consent, admit, escalate, leave")),
            ("admitt", UnknownTrigger, Reason(R.UNKNOWN_TRIGGER, "case 'case1' (stay, state 'arrived'): pathway has no trigger 'admitt' (did you mean 'admit'?)")),
            ("admit", GuardFailed, Reason(R.GUARD, "guard 'consent_given' does not hold")),
        ],
    )
    def test_why_not_gives_the_very_reasons_the_exception_carries(
        self, engine: Engine, trigger: str, cls: type[ActionRefused], reason: Reason
    ) -> None:
        """No round trip through text: why_not() == exc.reasons, whatever the class."""
        case = engine.start("stay", "c-0042")
        exc = _refused(engine.fire, case, trigger, NURSE)
        assert type(exc) is cls
        assert vars(exc) == _data("case1", "arrived", trigger, NURSE, reason)
        assert engine.why_not(case, trigger, NURSE) == list(exc.reasons) == [reason]

    def test_a_closed_case_names_its_terminal_state(self, engine: Engine) -> None:
        case = engine.start("stay", "c-0042")
        engine.fire(case, "leave", CITIZEN)
        exc = _refused(engine.fire, case, "leave", CITIZEN)
        assert type(exc) is CaseClosed
        assert vars(exc) == _data("case1", "left", "leave", CITIZEN, Reason(R.CLOSED, "case 'case1' (stay, state 'left') is closed; 'leave' cannot fire"))

    def test_a_full_resource_is_no_capacity_with_the_capacity_reason(self, engine: Engine) -> None:
        _admitted(engine)
        _admitted(engine)
        case = engine.start("stay", "c-3", facts={"consent_given": True})
        exc = _refused(engine.fire, case, "admit", NURSE)
        assert type(exc) is NoCapacity
        assert vars(exc) == _data("case3", "arrived", "admit", NURSE, Reason(R.CAPACITY, "all 2 places of 'places' are taken"))

    def test_releasing_what_was_not_taken_carries_the_same_data(self, engine: Engine) -> None:
        """CapacityError is a defect, not a refusal, but carries the same attributes."""
        case = _admitted(engine)
        engine.fire(case, "pause", NURSE)
        exc = _refused(engine.fire, case, "resume", NURSE)
        assert type(exc) is CapacityError and not isinstance(exc, ActionRefused)
        assert exc.code is R.RELEASE and (exc.case_id, exc.state, exc.trigger, exc.actor) == ("case1", "review", "resume", NURSE)

    def test_approval_refusals_name_the_pending_trigger(self, engine: Engine) -> None:
        case = engine.start("stay", "c-0042", facts={"consent_given": True})
        no_pending = _refused(engine.approve, case, LEADER_R)
        assert type(no_pending) is NoPendingApproval
        assert vars(no_pending) == _data(
            "case1", "arrived", None, LEADER_R,
            Reason(R.NO_PENDING_APPROVAL, "case 'case1' (stay, state 'arrived') has no request awaiting approval"),
        )
        engine.fire(case, "admit", NURSE)
        engine.approve(case, LEADER_R)
        cases = [
            (NURSE, SelfApproval, Reason(R.SELF_APPROVAL, "nina requested this and cannot also approve it (four-eyes)")),
            (LEADER_R, DuplicateApproval, Reason(R.DUPLICATE_APPROVAL, "lars has already approved this request")),
            (SOCIAL, NotAnApprover, Reason(R.NOT_AN_APPROVER, "role 'social' is not among the approvers (all of: leder_region, leder_kommune)")),
        ]
        for actor, cls, reason in cases:
            exc = _refused(engine.approve, case, actor)
            assert type(exc) is cls
            assert vars(exc) == _data("case1", "arrived", "admit", actor, reason)
        [option] = [o for o in engine.options(case, SOCIAL) if o.kind == "approve"]
        assert option.reasons == (cases[2][2],)

    def test_a_pending_request_asked_again_is_the_pending_code(self, engine: Engine) -> None:
        case = engine.start("stay", "c-0042", facts={"consent_given": True})
        engine.fire(case, "admit", NURSE)
        exc = _refused(engine.fire, case, "admit", NURSE)
        assert type(exc) is ActionRefused and exc.code is R.PENDING and exc.trigger == "admit"

    def test_set_fact_refusals_carry_no_trigger(self, engine: Engine) -> None:
        case = engine.start("stay", "c-0042")
        unknown = _refused(engine.set_fact, case, "has_hom", True, NURSE)
        assert type(unknown) is ActionRefused
        assert vars(unknown) == _data("case1", "arrived", None, NURSE, Reason(R.UNKNOWN_FACT, "pathway 'stay' has no fact 'has_hom' (did you mean 'has_home'?)"))
        engine.fire(case, "leave", CITIZEN)
        closed = _refused(engine.set_fact, case, "has_home", False, NURSE)
        assert type(closed) is CaseClosed and closed.reasons == (Reason(R.CLOSED, "case 'case1' is closed"),)

    def test_a_second_case_under_one_id_is_the_case_exists_code(self, engine: Engine) -> None:
        engine.start("stay", "c-0042", case_id="k1")
        exc = _refused(engine.start, "stay", "c-0043", case_id="k1", actor=LEADER_K)
        assert type(exc) is ActionRefused
        assert vars(exc) == _data("k1", None, None, LEADER_K, Reason(R.CASE_EXISTS, "a case with id 'k1' already exists"))

    def test_a_refusal_from_below_the_engine_knows_only_its_message(self) -> None:
        """A ledger or store raises without a case: None for what it cannot know."""
        exc = NoCapacity("all 2 places of 'places' are taken (checked in the database)")
        assert vars(exc) == _data(None, None, None, None, Reason(R.CAPACITY, str(exc)), pathway=None)

    def test_a_refusal_survives_pickling_with_its_data(self, engine: Engine) -> None:
        """Worker processes can send a refusal back whole."""
        case = engine.start("stay", "c-0042")
        exc = _refused(engine.fire, case, "admit", CITIZEN)
        back = pickle.loads(pickle.dumps(exc))
        assert (type(back), str(back), vars(back)) == (type(exc), str(exc), vars(exc))


class TestRefusalCodes:
    @given(code=st.sampled_from(RefusalCode), message=st.text(max_size=20))
    def test_every_code_raises_a_class_that_carries_it(self, code: RefusalCode, message: str) -> None:
        """No code is forgotten: each has a class, and the exception's code is that code."""
        exc = refusal(message, [Reason(code, message)], case_id="k")
        assert isinstance(exc, ActionRefused | CapacityError)
        assert (exc.code, exc.case_id, str(exc)) == (code, "k", message)

    def test_codes_are_strings_for_json(self) -> None:
        guard: str = RefusalCode.GUARD  # a RefusalCode is a str: JSON writes it as its text
        assert (guard == "guard", f"{RefusalCode.CAPACITY}") == (True, "capacity")


class TestOtherErrorsCarryTheirData:
    def test_definition_and_scenario_errors_share_one_base_for_problems(self) -> None:
        problems = [Problem("a.yaml", "states[0]", "missing id"), Problem("a.yaml", "", "empty")]
        for cls, noun in [(DefinitionError, "pathway definitions"), (ScenarioError, "simulation scenario")]:
            exc = cls(problems)
            assert isinstance(exc, DocumentError) and vars(exc) == {"problems": tuple(problems)}
            assert str(exc).splitlines()[0] == f"2 problems in {noun}:"
            assert vars(pickle.loads(pickle.dumps(exc))) == vars(exc)

    def test_store_errors_carry_the_store_and_what_was_found(self) -> None:
        exc = SchemaTooNew("too new", url="sqlite:///x.db", found=3, supported=2)
        assert vars(exc) == {"url": "sqlite:///x.db", "found": 3, "supported": 2}
        assert vars(pickle.loads(pickle.dumps(exc))) == vars(exc)
        assert vars(UnreadableCase("damaged", case_id="k1")) == {"case_id": "k1"}

    def test_a_damaged_stored_case_is_an_unreadable_case_naming_it(self) -> None:
        from pathways.store import DurableEngine, MemoryStore

        store = MemoryStore()
        DurableEngine(_registry(STAY, AMB), store, clock=ManualClock(T0)).start("stay", "c-0042", case_id="k1")
        store._cases["k1"]["snapshot"] = "{not json"
        with pytest.raises(UnreadableCase, match=r"^a stored case snapshot cannot be read \(JSONDecodeError\); run 'pathways audit verify'$") as info:
            store.get("k1")
        assert info.value.case_id == "k1"


def test_the_tree_in_the_docs_is_the_tree_in_errors_py() -> None:
    """docs/errors.md draws the same tree as the docstring of pathways.errors."""
    from pathlib import Path

    import pathways.errors

    doc = pathways.errors.__doc__ or ""
    drawn = [line[4:] for line in doc[doc.index("    PathwaysError") : doc.index("\n\n``ActionRefused``")].splitlines()]
    page = (Path(__file__).parent.parent / "docs" / "errors.md").read_text(encoding="utf-8")
    start = page.index("```text\nPathwaysError") + len("```text\n")
    assert page[start : page.index("```", start)].splitlines() == drawn
    named = {line.split("── ")[1].split()[0] for line in drawn if "── " in line}
    classes = {n for n in pathways.errors.__all__ if isinstance(getattr(pathways.errors, n), type) and issubclass(getattr(pathways.errors, n), Exception)}
    assert named == classes - {"PathwaysError"}
