"""Who may change what (issue 14): facts name who sets them, a citizen acts only on their
own case, and people are compared by their normalised id.

The same rules hold on :class:`pathways.Engine` and on :class:`pathways.store.DurableEngine`
(which decides with the engine and writes once): the property tests run on both.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pathways
from pathways import (
    ActionRefused,
    Actor,
    Engine,
    FactAccess,
    ManualClock,
    NotPermitted,
    RefusalCode,
    Registry,
    load_text,
)
from pathways._arguments import person_key
from pathways._limits import MAX_ID
from pathways.case import EventKind
from pathways.store import DurableEngine, open_store
from pathways.stranding import FindingKind, check
from test_store_support import backend_url

STAY = """
id: stay
version: 1
title: {da: Ophold, en: Stay}
description: {da: Kort ophold, en: Short stay}
initial: arrived
sectors:
  region: {label: {da: Region, en: Region}}
  kommune: {label: {da: Kommune, en: Municipality}}
  borger: {label: {da: Borger, en: Citizen}}
roles:
  nurse: {sector: region, label: {da: Sygeplejerske, en: Nurse}}
  social: {sector: kommune, label: {da: Socialrådgiver, en: Social worker}}
  leader_region: {sector: region, label: {da: Leder, en: Regional leader}}
  leader_kommune: {sector: kommune, label: {da: Leder, en: Municipal leader}}
  citizen: {sector: borger, label: {da: Borger, en: Citizen}}
  relative: {sector: borger, label: {da: Pårørende, en: Relative}}
facts:
  consent_given:
    label: {da: Samtykke, en: Consent given}
    set_by: [citizen]
    recorded_by: [nurse]
  has_contract:
    label: {da: Kontrakt, en: Has a contract}
    set_by: []
  has_home: {label: {da: Bolig, en: Has a home}}
states:
  - {id: arrived, kind: active, label: {da: Ankommet, en: Arrived}, responsible: [nurse]}
  - {id: staying, kind: active, label: {da: Ophold, en: Staying}, responsible: [nurse]}
  - {id: done, kind: terminal, outcome: completed, label: {da: Afsluttet, en: Done}}
  - {id: left, kind: terminal, outcome: left_by_choice, label: {da: Gået, en: Left}, follow_up: {da: Ring, en: Call us}}
transitions:
  - {trigger: admit, source: arrived, dest: staying, roles: [nurse], guards: [consent_given]}
  - trigger: plan
    source: staying
    dest: done
    roles: [nurse]
    approval: {rule: all_of, roles: [leader_region, leader_kommune], on_refusal: staying, timeout: PT4H}
  - {trigger: leave, source: "*", dest: left, roles: [citizen]}
"""

NURSE = Actor("n-1", "nurse", "region")
SOCIAL = Actor("s-1", "social", "kommune")
CITIZEN = Actor("c-1", "citizen", "borger")
RELATIVE = Actor("r-1", "relative", "borger")
LEAD_R = Actor("l-1", "leader_region", "region")
LEAD_K = Actor("l-2", "leader_kommune", "kommune")


def _registry() -> Registry:
    return Registry([load_text(STAY, "stay.yaml")])


@pytest.fixture
def engine() -> Engine:
    return Engine(_registry(), clock=ManualClock(), new_id=iter(f"case{i}" for i in itertools.count(1)).__next__)


def _refused(action: Callable[[], object]) -> ActionRefused:
    with pytest.raises(ActionRefused) as info:
        action()
    return info.value


class TestFactRules:
    def test_the_citizen_states_their_own_consent(self, engine: Engine) -> None:
        case = engine.start("stay", "c-1")
        [event] = engine.set_fact(case, "consent_given", True, CITIZEN)
        assert (event.kind, event.facts, case.context["consent_given"]) == (EventKind.FACT_SET, {"consent_given": True}, True)

    def test_staff_record_the_citizens_word_with_a_reason_kept_in_the_event(self, engine: Engine) -> None:
        case = engine.start("stay", "c-1")
        [event] = engine.set_fact(case, "consent_given", True, NURSE, reason="said yes at the door, 17:05")
        assert (event.actor, event.reason, case.context["consent_given"]) == (NURSE, "said yes at the door, 17:05", True)

    @pytest.mark.parametrize("reason", [None, "", "   "])
    def test_staff_recording_without_a_reason_are_refused_and_nothing_changes(self, engine: Engine, reason: str | None) -> None:
        case = engine.start("stay", "c-1")
        exc = _refused(lambda: engine.set_fact(case, "consent_given", True, NURSE, reason=reason))
        assert isinstance(exc, NotPermitted)
        assert str(exc) == (
            "n-1 (nurse, region) may not set 'consent_given' on case 'case1': role 'nurse' records 'consent_given' "
            "on the citizen's word and must give a reason (what the citizen said, and when)"
        )
        assert [r.code for r in exc.reasons] == [RefusalCode.REASON_REQUIRED]
        assert (case.context["consent_given"], case.seq) == (False, 1)

    def test_a_role_the_fact_does_not_name_may_not_set_it(self, engine: Engine) -> None:
        case = engine.start("stay", "c-1")
        exc = _refused(lambda: engine.set_fact(case, "consent_given", True, SOCIAL, reason="heard it"))
        assert str(exc) == (
            "s-1 (social, kommune) may not set 'consent_given' on case 'case1': role 'social' may not set "
            "'consent_given' (set by citizen; recorded with a reason by nurse)"
        )
        assert [r.code for r in exc.reasons] == [RefusalCode.FACT_PERMISSION]

    def test_nobody_gives_the_citizen_a_contract_by_hand(self, engine: Engine) -> None:
        """The issue's example: the citizen gave themself a user-controlled stay contract."""
        case = engine.start("stay", "c-1")
        for actor in (CITIZEN, NURSE):
            exc = _refused(lambda: engine.set_fact(case, "has_contract", True, actor, reason="x"))  # noqa: B023 (called at once)
            assert exc.reasons[0].message == (
                f"role {actor.role!r} may not set 'has_contract' (only the pathway's transitions and hand-overs set it)"
            )
        assert case.context["has_contract"] is False

    def test_without_a_rule_staff_set_a_fact_and_the_citizens_side_does_not(self, engine: Engine) -> None:
        case = engine.start("stay", "c-1")
        engine.set_fact(case, "has_home", True, SOCIAL)
        for actor in (CITIZEN, RELATIVE):
            exc = _refused(lambda: engine.set_fact(case, "has_home", False, actor))  # noqa: B023 (called at once)
            assert exc.reasons[0].message == (
                f"role {actor.role!r} may not set 'has_home' (no rule: staff set it, the citizen's side does not)"
            )
        assert case.context["has_home"] is True

    def test_why_not_set_gives_the_reasons_set_fact_would_refuse_with(self, engine: Engine) -> None:
        case = engine.start("stay", "c-1")
        assert engine.why_not_set(case, "consent_given", CITIZEN) == []
        assert [r.code for r in engine.why_not_set(case, "consent_given", NURSE)] == [RefusalCode.REASON_REQUIRED]
        assert engine.why_not_set(case, "consent_given", NURSE, reason="said so") == []
        assert [r.code for r in engine.why_not_set(case, "has_contract", NURSE)] == [RefusalCode.FACT_PERMISSION]
        assert [r.message for r in engine.why_not_set(case, "consnt", NURSE)] == [
            "pathway 'stay' has no fact 'consnt' (did you mean 'consent_given'?)"
        ]
        engine.fire(case, "leave", CITIZEN)
        assert [r.code for r in engine.why_not_set(case, "has_home", NURSE)] == [RefusalCode.CLOSED]

    def test_the_one_rule_names_each_roles_access(self) -> None:
        p = _registry()["stay"]
        assert {r: p.fact_access("consent_given", r) for r in p.roles} == {
            "nurse": FactAccess.RECORD, "social": FactAccess.NONE, "leader_region": FactAccess.NONE,
            "leader_kommune": FactAccess.NONE, "citizen": FactAccess.SET, "relative": FactAccess.NONE,
        }
        assert p.setters("consent_given") == ("citizen", "nurse")
        assert p.setters("has_contract") == ()
        assert p.setters("has_home") == ("nurse", "social", "leader_region", "leader_kommune")


class TestStartingWithFacts:
    def test_staff_cannot_start_a_case_with_the_citizens_consent(self, engine: Engine) -> None:
        exc = _refused(lambda: engine.start("stay", "c-1", facts={"consent_given": True}, actor=NURSE))
        assert str(exc) == (
            "n-1 (nurse, region) cannot start a case of 'stay': role 'nurse' records 'consent_given' on the "
            "citizen's word, which needs a reason: start the case, then record it with set_fact and a reason"
        )
        assert engine.cases == {}

    def test_the_citizen_starts_their_own_case_with_consent_and_the_host_vouches_for_a_contract(self, engine: Engine) -> None:
        assert engine.start("stay", "c-1", facts={"consent_given": True}, actor=CITIZEN).context["consent_given"] is True
        assert engine.start("stay", "c-2", facts={"has_contract": True}).context["has_contract"] is True

    def test_a_fact_at_its_default_needs_no_permission(self, engine: Engine) -> None:
        assert engine.start("stay", "c-1", facts={"has_contract": False}, actor=CITIZEN).state == "arrived"

    def test_a_citizen_cannot_start_another_citizens_case(self, engine: Engine) -> None:
        exc = _refused(lambda: engine.start("stay", "c-2", actor=CITIZEN))
        assert str(exc) == (
            "c-1 (citizen, borger) cannot start a case of 'stay': 'c-1' acts as the citizen ('citizen'), "
            "and a citizen acts only on their own case"
        )
        assert [r.code for r in exc.reasons] == [RefusalCode.NOT_OWN_CASE]


class TestTheCitizensOwnCase:
    def test_a_citizen_cannot_leave_or_withdraw_consent_on_another_citizens_case(self, engine: Engine) -> None:
        """The issue's example: a citizen actor fired 'leave' on another citizen's case."""
        other = engine.start("stay", "c-2")
        exc = _refused(lambda: engine.fire(other, "leave", CITIZEN))
        assert isinstance(exc, NotPermitted)
        assert str(exc) == (
            "c-1 (citizen, borger) cannot fire 'leave' in case 'case1' (stay, state 'arrived'): "
            "'c-1' acts as the citizen ('citizen'), and a citizen acts only on their own case"
        )
        exc = _refused(lambda: engine.set_fact(other, "consent_given", False, CITIZEN))
        assert [r.code for r in exc.reasons] == [RefusalCode.NOT_OWN_CASE]
        assert (other.state, other.seq) == ("arrived", 1)

    def test_why_not_and_options_say_it_is_not_their_case(self, engine: Engine) -> None:
        other = engine.start("stay", "c-2")
        assert [r.code for r in engine.why_not(other, "leave", CITIZEN)] == [RefusalCode.NOT_OWN_CASE]
        assert {o.trigger: [r.code for r in o.reasons] for o in engine.options(other, CITIZEN)} == {
            "admit": [RefusalCode.NOT_OWN_CASE, RefusalCode.ROLE, RefusalCode.GUARD], "leave": [RefusalCode.NOT_OWN_CASE],
        }

    def test_the_citizen_is_known_by_the_normalised_id(self, engine: Engine) -> None:
        case = engine.start("stay", "C-1")
        assert engine.why_not(case, "leave", CITIZEN) == []
        engine.fire(case, "leave", CITIZEN)
        assert case.state == "left"

    def test_staff_and_relatives_are_not_bound_to_a_citizen(self, engine: Engine) -> None:
        case = engine.start("stay", "c-2")
        engine.set_fact(case, "consent_given", True, NURSE, reason="said so")
        assert engine.why_not(case, "admit", NURSE) == []
        assert [r.code for r in engine.why_not(case, "leave", RELATIVE)] == [RefusalCode.ROLE]


def _staying(engine: pathways.CaseEngine, citizen: str) -> str:
    case = engine.start("stay", citizen, facts={"consent_given": True})
    engine.fire(case.id, "admit", NURSE)
    return case.id


class TestFourEyesByNormalisedId:
    def test_the_requester_under_another_spelling_cannot_approve(self, engine: Engine) -> None:
        cid = _staying(engine, "c-1")
        engine.fire(cid, "plan", NURSE)
        exc = _refused(lambda: engine.approve(cid, Actor("N-1", "leader_region", "region")))
        assert [r.code for r in exc.reasons] == [RefusalCode.SELF_APPROVAL]
        assert exc.reasons[0].message == "N-1 requested this and cannot also approve it (four-eyes)"

    def test_one_person_under_two_spellings_approves_once(self, engine: Engine) -> None:
        """The issue's example: 'P-2' after 'p-2' counted twice."""
        cid = _staying(engine, "c-1")
        engine.fire(cid, "plan", NURSE)
        engine.approve(cid, Actor("p-2", "leader_region", "region"))
        exc = _refused(lambda: engine.approve(cid, Actor("P-2", "leader_kommune", "kommune")))
        assert [r.code for r in exc.reasons] == [RefusalCode.DUPLICATE_APPROVAL]
        assert exc.reasons[0].message == "P-2 has already approved this request"
        assert engine.case(cid).state == "staying"

    def test_an_id_with_a_space_is_refused_rather_than_taken_for_another(self, engine: Engine) -> None:
        """The issue's example: ' p-1' approved p-1's request."""
        cid = _staying(engine, "c-1")
        engine.fire(cid, "plan", Actor("p-1", "nurse", "region"))
        with pytest.raises(pathways.InvalidArgument) as info:
            engine.approve(cid, Actor(" p-1", "leader_region", "region"))
        assert str(info.value) == (
            f"actor.person must be an id of 1 to {MAX_ID} characters without spaces or control characters, got text with a space or control character"
        )

    def test_person_key_folds_case_and_compatibility_forms(self) -> None:
        assert person_key("P-2") == person_key("p-2") == "p-2"
        assert person_key("\uff30-\uff12") == "p-2"  # full-width P and 2 (NFKC)
        assert person_key("STRASSE") == person_key("straße")  # case folding, not lower()


# -- the checker ---------------------------------------------------------------------------

_GUARDED = """
id: guarded
version: 1
title: {da: G, en: Guarded}
description: {da: G, en: G}
initial: arrived
sectors:
  region: {label: {da: Region, en: Region}}
  borger: {label: {da: Borger, en: Citizen}}
roles:
  nurse: {sector: region, label: {da: S, en: Nurse}}
  citizen: {sector: borger, label: {da: B, en: Citizen}}
facts:
  has_contract: {label: {da: K, en: Contract}RULE}
states:
  - {id: arrived, kind: active, label: {da: A, en: Arrived}, responsible: [nurse], deadline: {after: PT1H, trigger: give_up}}
  - {id: staying, kind: active, label: {da: O, en: Staying}, responsible: [nurse]}
  - {id: done, kind: terminal, outcome: completed, label: {da: F, en: Done}}
  - {id: left, kind: terminal, outcome: left_by_choice, label: {da: G, en: Left}, follow_up: {da: R, en: Call}}
transitions:
  - {trigger: admit, source: arrived, dest: staying, roles: [nurse], guards: [has_contract]}
  - {trigger: give_up, source: arrived, dest: done, roles: [nurse]}
  - {trigger: finish, source: staying, dest: done, roles: [nurse], guards: [not has_contract]}
  - {trigger: leave, source: "*", dest: left, roles: [citizen]}
"""


class TestTheChecker:
    """The checker changes a fact only through the roles that may set it (and the start)."""

    @staticmethod
    def _findings(rule: str) -> tuple[pathways.Pathway, list[pathways.Finding]]:
        p = load_text(_GUARDED.replace("RULE", rule), "g.yaml")
        return p, list(check(p).findings)

    def test_a_fact_nobody_may_set_changes_only_by_the_start_so_its_guard_is_never_satisfied_later(self) -> None:
        """A contract the case starts with cannot be ended by hand: 'finish' can never fire."""
        p, findings = self._findings(", set_by: []")
        assert [f.transitions for f in findings if f.kind is FindingKind.DEAD_TRANSITION] == [("finish",)]
        [gap] = [f for f in findings if f.kind is FindingKind.GUARD_GAP]
        assert gap.counterexample is not None and gap.counterexample.facts == (("has_contract", True),)
        assert gap.counterexample.story().startswith("the citizen arrives at Guarded (Arrived [arrived]) with `has_contract` true;")
        assert gap.counterexample.replay(p).state == "staying"

    def test_when_staff_may_set_the_fact_it_changes_mid_case_by_a_member_of_staff(self) -> None:
        p, findings = self._findings("")
        assert [f for f in findings if f.kind is FindingKind.DEAD_TRANSITION] == []
        [gap] = [f for f in findings if f.kind is FindingKind.GUARD_GAP]
        assert gap.counterexample is not None and gap.counterexample.facts == ()
        assert [(s.kind, s.role) for s in gap.counterexample.steps if s.kind == "set_fact"] == [("set_fact", "nurse")]
        assert gap.counterexample.replay(p).state == "staying"

    def test_a_fact_only_the_citizen_states_is_set_by_the_citizen_in_the_counterexample(self) -> None:
        p, findings = self._findings(", set_by: [citizen]")
        [gap] = [f for f in findings if f.kind is FindingKind.GUARD_GAP]
        assert gap.counterexample is not None
        assert [(s.kind, s.role) for s in gap.counterexample.steps if s.kind == "set_fact"] == [("set_fact", "citizen")]
        assert gap.counterexample.replay(p).state == "staying"


# -- properties, on the engine and on a store ------------------------------------------------

_PEOPLE = ["c-1", "C-1", "c-2", "n-1", "N-1", "s-1", "r-1"]
_ROLES = {"nurse": "region", "social": "kommune", "leader_region": "region", "citizen": "borger", "relative": "borger"}
_attempt = st.tuples(
    st.sampled_from(["consent_given", "has_contract", "has_home"]),
    st.booleans(),
    st.builds(lambda p, r: Actor(p, r, _ROLES[r]), st.sampled_from(_PEOPLE), st.sampled_from(sorted(_ROLES))),
    st.sampled_from([None, "", "  ", "the citizen said so"]),
)


@contextlib.contextmanager
def _engines(backend: str, tmp: Path) -> Iterator[pathways.CaseEngine]:
    """The in-memory engine, or a durable one on a fresh store (closed afterwards)."""
    if backend == "engine":
        yield Engine(_registry(), clock=ManualClock())
        return
    store = open_store(backend_url(backend, tmp))
    try:
        yield DurableEngine(_registry(), store, clock=ManualClock())
    finally:
        store.close()


@pytest.mark.parametrize("backend", ["engine", "sqlite"])
def test_no_actor_ever_changes_a_fact_it_may_not_set(backend: str, tmp_path: Path) -> None:
    """Random people in random roles try to set every fact, with and without a reason; what
    changes is exactly what the fact's rule (and the citizen's own case) allows."""
    p = _registry()["stay"]
    ids = itertools.count()

    @settings(max_examples=40, deadline=None)
    @given(attempts=st.lists(_attempt, min_size=1, max_size=8))
    def run(attempts: list[tuple[str, bool, Actor, str | None]]) -> None:
        cid = eng.start("stay", "c-1", case_id=f"k{next(ids)}").id
        for fact, value, actor, reason in attempts:
            before = eng.case(cid)
            access = p.fact_access(fact, actor.role)
            own = not p.is_citizen(actor.role) or person_key(actor.person) == person_key(before.citizen)
            lawful = own and (access is FactAccess.SET or (access is FactAccess.RECORD and bool((reason or "").strip())))
            assert (eng.why_not_set(cid, fact, actor, reason=reason) == []) == lawful
            try:
                eng.set_fact(cid, fact, value, actor, reason=reason)
            except NotPermitted:
                assert not lawful, (fact, actor, reason)
                after = eng.case(cid)
                assert (after.context, after.seq) == (before.context, before.seq)
            else:
                assert lawful, (fact, actor, reason)
                assert eng.case(cid).context[fact] is value
        for event in eng.case(cid).history:
            if event.kind is EventKind.FACT_SET:
                assert event.actor is not None
                assert all(p.fact_access(f, event.actor.role) is not FactAccess.NONE for f in event.facts)

    with _engines(backend, tmp_path) as eng:
        run()


@pytest.mark.parametrize("backend", ["engine", "sqlite"])
def test_no_actor_starts_a_case_with_a_fact_it_may_not_set(backend: str, tmp_path: Path) -> None:
    """The facts an actor gives at the start obey the same rule (a fact at its default
    changes nothing); a citizen starts only their own case; without an actor the host vouches."""
    p = _registry()["stay"]
    ids = itertools.count()
    facts = st.dictionaries(st.sampled_from(["consent_given", "has_contract", "has_home"]), st.booleans(), max_size=3)
    actor = st.none() | st.builds(lambda p, r: Actor(p, r, _ROLES[r]), st.sampled_from(_PEOPLE), st.sampled_from(sorted(_ROLES)))

    @settings(max_examples=60, deadline=None)
    @given(citizen=st.sampled_from(["c-1", "C-1", "c-2"]), facts=facts, actor=actor)
    def run(citizen: str, facts: dict[str, bool], actor: Actor | None) -> None:
        changed = [f for f, v in facts.items() if v != p.facts[f].default]
        lawful = actor is None or (
            (not p.is_citizen(actor.role) or person_key(actor.person) == person_key(citizen))
            and all(p.fact_access(f, actor.role) is FactAccess.SET for f in changed)
        )
        cid = f"s{next(ids)}"
        try:
            case = eng.start("stay", citizen, facts=facts, actor=actor, case_id=cid)
        except NotPermitted:
            assert not lawful, (citizen, facts, actor)
            assert cid not in eng.cases
        else:
            assert lawful, (citizen, facts, actor)
            assert {f: case.context[f] for f in facts} == facts

    with _engines(backend, tmp_path) as eng:
        run()


@pytest.mark.parametrize("backend", ["engine", "sqlite", "postgres"])
def test_ids_differing_only_in_case_are_one_person_for_four_eyes(backend: str, tmp_path: Path) -> None:
    """However the requester's and the approvers' ids are spelled, one person never counts
    twice and never approves their own request."""
    ids = itertools.count()
    spell = st.sampled_from([str.lower, str.upper, str.title, lambda s: s])

    @settings(max_examples=15 if backend == "postgres" else 30, deadline=None)
    @given(requester=spell, first=st.sampled_from(["n-1", "p-2"]), again=spell, second=st.sampled_from(["n-1", "p-2", "p-3"]))
    def run(requester: Callable[[str], str], first: str, again: Callable[[str], str], second: str) -> None:
        cid = eng.start("stay", "c-1", facts={"consent_given": True}, case_id=f"f{next(ids)}").id
        eng.fire(cid, "admit", NURSE)
        eng.fire(cid, "plan", Actor(requester("n-1"), "nurse", "region"))
        approvals = [Actor(first, "leader_region", "region"), Actor(again(second), "leader_kommune", "kommune")]
        counted: list[str] = []
        for approver in approvals:
            key = person_key(approver.person)
            try:
                eng.approve(cid, approver)
            except ActionRefused as exc:
                assert key == "n-1" or key in counted, (approver, exc)
            else:
                assert key != "n-1" and key not in counted, approver
                counted.append(key)
        assert (eng.case(cid).state == "done") == (len(counted) == 2)

    with _engines(backend, tmp_path) as eng:
        run()


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgres"])
def test_a_leaders_inbox_leaves_out_what_they_asked_for_or_approved_under_any_spelling(backend: str, tmp_path: Path) -> None:
    with _engines(backend, tmp_path) as eng:
        assert isinstance(eng, DurableEngine)
        cid = _staying(eng, "c-1")
        eng.fire(cid, "plan", Actor("n-1", "nurse", "region"))
        eng.approve(cid, Actor("p-2", "leader_region", "region"))
        inbox = eng.store.awaiting
        assert [w.case_id for w in inbox(role="leader_kommune", person="l-9")] == [cid]
        assert inbox(role="leader_kommune", person="P-2") == []  # approved already, as p-2
        assert inbox(role="leader_kommune", person="N-1") == []  # asked for it, as n-1

