"""How the engine behaves, grouped by concern, one sentence per test.

The pathways are small and inline: ``stay`` (an overnight stay with every kind of
approval, a shared resource of two places, chained deadlines and a hand-over) and
``amb`` (an ambulant team whose intake receives the hand-over).
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pathways import (
    ActionRefused,
    Actor,
    CapacityError,
    Case,
    CaseClosed,
    DuplicateApproval,
    Engine,
    EventKind,
    GuardFailed,
    Link,
    ManualClock,
    NoCapacity,
    NoPendingApproval,
    NotAnApprover,
    NotPermitted,
    Option,
    Reason,
    RefusalCode,
    Registry,
    SelfApproval,
    SnapshotError,
    UnknownCase,
    UnknownPathway,
    UnknownTrigger,
    WrongState,
    case_from_json,
    load_text,
    replay,
)

STAY = """\
id: stay
version: 1
title: {da: Ophold, en: Overnight stay}
description: {da: Kort ophold, en: Short stay}
initial: arrived
sectors:
  region: {label: {da: Region, en: Region}}
  kommune: {label: {da: Kommune, en: Municipality}}
  borger: {label: {da: Borger, en: Citizen}}
roles:
  nurse: {sector: region, label: {da: Sygeplejerske, en: Nurse}}
  doctor: {sector: region, label: {da: Læge, en: Psychiatrist}}
  leder_region: {sector: region, label: {da: Leder, en: Regional leader}}
  leder_kommune: {sector: kommune, label: {da: Leder, en: Municipal leader}}
  social: {sector: kommune, label: {da: Socialrådgiver, en: Social worker}}
  citizen: {sector: borger, label: {da: Borger, en: Citizen}}
facts:
  consent_given: {label: {da: Samtykke, en: Consent given}}
  has_home: {label: {da: Har bolig, en: Has a home}, default: true}
resources:
  places: {capacity: 2, label: {da: Pladser, en: Overnight places}}
states:
  - {id: arrived, kind: active, label: {da: Ankommet, en: Arrived}, responsible: [nurse], deadline: {after: PT2H, trigger: escalate}}
  - {id: staying, kind: active, label: {da: Ophold, en: Staying}, responsible: [nurse]}
  - {id: review, kind: waiting, label: {da: Opfølgning, en: Review}, responsible: [nurse], deadline: {after: P1D, trigger: remind}}
  - {id: reminded, kind: waiting, label: {da: Rykket, en: Reminded}, responsible: [nurse], deadline: {after: PT1H, trigger: close}}
  - {id: referred, kind: waiting, label: {da: Henvist, en: Referred}, responsible: [nurse]}
  - {id: done, kind: terminal, outcome: completed, label: {da: Afsluttet, en: Done}}
  - {id: gone, kind: terminal, outcome: handed_over, label: {da: Overdraget, en: Handed over}}
  - {id: left, kind: terminal, outcome: left_by_choice, label: {da: Gået, en: Left}, follow_up: {da: Ring til os, en: Call us}}
transitions:
  - {trigger: consent, source: arrived, dest: arrived, roles: [citizen], sets: {consent_given: true}}
  - trigger: admit
    source: arrived
    dest: staying
    roles: [nurse]
    guards: [consent_given]
    takes: places
    approval: {rule: all_of, roles: [leder_region, leder_kommune], on_refusal: done, timeout: PT4H}
  - {trigger: escalate, source: arrived, dest: done, roles: [nurse]}
  - trigger: extend
    source: staying
    dest: staying
    roles: [nurse]
    approval: {rule: n_of, n: 2, roles: [doctor, leder_region, social], on_refusal: review}
  - trigger: discharge
    source: staying
    dest: done
    roles: [nurse, social]
    guards: [has_home]
    approval: {rule: one_per_sector, sectors: [region, kommune], on_refusal: staying, timeout: PT8H}
  - {trigger: pause, source: staying, dest: review, roles: [nurse], releases: places}
  - {trigger: resume, source: review, dest: staying, roles: [nurse], releases: places}
  - {trigger: remind, source: review, dest: reminded, roles: [nurse]}
  - {trigger: close, source: reminded, dest: done, roles: [nurse]}
  - {trigger: refer, source: staying, dest: referred, roles: [nurse], handover: {to: amb, accepted: gone, declined: staying}}
  - {trigger: leave, source: "*", dest: left, roles: [citizen]}
"""

AMB = """\
id: amb
version: 1
title: {da: Ambulant team, en: Ambulant team}
description: {da: Behandling i hjemmet, en: Treatment at home}
initial: intake
sectors:
  region: {label: {da: Region, en: Region}}
  borger: {label: {da: Borger, en: Citizen}}
roles:
  ambulant: {sector: region, label: {da: Ambulant, en: Ambulant nurse}}
  citizen: {sector: borger, label: {da: Borger, en: Citizen}}
facts:
  consent_given: {label: {da: Samtykke, en: Consent given}}
  at_home: {label: {da: Hjemme, en: At home}}
states:
  - {id: intake, kind: waiting, label: {da: Visitation, en: Intake}, responsible: [ambulant]}
  - {id: treat, kind: active, label: {da: Behandling, en: Treatment}, responsible: [ambulant]}
  - {id: end, kind: terminal, outcome: completed, label: {da: Slut, en: End}}
  - {id: left, kind: terminal, outcome: left_by_choice, label: {da: Gået, en: Left}, follow_up: {da: Ring, en: Call}}
transitions:
  - {trigger: accept, source: intake, dest: treat, roles: [ambulant]}
  - {trigger: decline, source: intake, dest: end, roles: [ambulant]}
  - {trigger: finish, source: treat, dest: end, roles: [ambulant]}
  - {trigger: leave, source: "*", dest: left, roles: [citizen]}
intake: {state: intake, accept: accept, decline: decline}
"""

T0 = datetime(2026, 1, 5, 16, 0, tzinfo=UTC)

NURSE = Actor("nina", "nurse", "region")
NURSE2 = Actor("noah", "nurse", "region")
DOCTOR = Actor("dina", "doctor", "region")
DOCTOR2 = Actor("dan", "doctor", "region")
LEADER_R = Actor("lars", "leder_region", "region")
LEADER_R2 = Actor("lea", "leder_region", "region")
LEADER_K = Actor("karen", "leder_kommune", "kommune")
SOCIAL = Actor("sofie", "social", "kommune")
SOCIAL2 = Actor("sune", "social", "kommune")
CITIZEN = Actor("c-0042", "citizen", "borger")
AMBULANT = Actor("anna", "ambulant", "region")


def _registry(*texts: str) -> Registry:
    return Registry(load_text(t) for t in texts)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def engine(clock: ManualClock) -> Engine:
    ids = (f"case{i}" for i in itertools.count(1))
    return Engine(_registry(STAY, AMB), clock=clock, new_id=lambda: next(ids))


def _admitted(engine: Engine) -> Case:
    """A case in 'staying' that holds one of the two places."""
    case = engine.start("stay", "c-0042", facts={"consent_given": True})
    engine.fire(case, "admit", NURSE)
    engine.approve(case, LEADER_R)
    engine.approve(case, LEADER_K)
    assert case.state == "staying"
    return case


def _kinds(events: Any) -> list[tuple[str, str, str, str]]:
    return [(e.case_id, e.kind.value, e.from_state, e.to_state) for e in events]


def _raises(exc: type[Exception], call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(exc) as info:
        call(*args, **kwargs)
    assert type(info.value) is exc
    return str(info.value)


class TestFiring:
    def test_an_allowed_role_moves_the_case(self, engine: Engine) -> None:
        """The nurse may escalate; the case moves and the event says who and what."""
        case = engine.start("stay", "c-0042")
        [event] = engine.fire(case, "escalate", NURSE, reason="no show")
        assert (case.state, event.kind, event.actor, event.trigger, event.reason) == ("done", EventKind.FIRED, NURSE, "escalate", "no show")

    def test_a_role_that_may_not_fire_is_refused_with_the_allowed_roles(self, engine: Engine) -> None:
        """NotPermitted names the actor, the trigger, the case, its state and who may fire."""
        case = engine.start("stay", "c-0042")
        message = _raises(NotPermitted, engine.fire, case, "escalate", CITIZEN)
        assert message == "c-0042 (citizen, borger) cannot fire 'escalate' in case 'case1' (stay, state 'arrived'): role 'citizen' may not fire 'escalate' (allowed: nurse)"

    def test_an_actor_in_the_wrong_sector_is_refused(self, engine: Engine) -> None:
        """A role is bound to its sector: a 'nurse' from the municipality is not permitted."""
        case = engine.start("stay", "c-0042")
        message = _raises(NotPermitted, engine.fire, case, "escalate", Actor("x", "nurse", "kommune"))
        assert message.endswith("role 'nurse' belongs to sector 'region', not 'kommune'")

    def test_a_role_outside_the_pathway_is_refused(self, engine: Engine) -> None:
        """A role the pathway does not declare is named as such."""
        case = engine.start("stay", "c-0042")
        message = _raises(NotPermitted, engine.fire, case, "escalate", Actor("x", "janitor", "region"))
        assert "role 'janitor' is not part of pathway 'stay'" in message

    def test_a_failing_guard_is_named(self, engine: Engine) -> None:
        """GuardFailed says which guard does not hold, never the context's values."""
        case = engine.start("stay", "c-0042")
        message = _raises(GuardFailed, engine.fire, case, "admit", NURSE)
        assert message == "nina (nurse, region) cannot fire 'admit' in case 'case1' (stay, state 'arrived'): guard 'consent_given' does not hold"

    def test_every_reason_is_listed_and_the_first_picks_the_class(self, engine: Engine) -> None:
        """Role and guard both fail: the message lists both, the class is the first (role)."""
        case = engine.start("stay", "c-0042")
        message = _raises(NotPermitted, engine.fire, case, "admit", CITIZEN)
        assert message.endswith("role 'citizen' may not fire 'admit' (allowed: nurse); guard 'consent_given' does not hold")

    def test_a_trigger_from_another_state_lists_what_is_possible_here(self, engine: Engine) -> None:
        """WrongState names the triggers that do leave the current state."""
        case = engine.start("stay", "c-0042")
        message = _raises(WrongState, engine.fire, case, "pause", NURSE)
        assert message == "'pause' cannot fire in case 'case1' (stay, state 'arrived'); possible here: consent, admit, escalate, leave"

    def test_an_unknown_trigger_suggests_the_closest(self, engine: Engine) -> None:
        """UnknownTrigger says did-you-mean."""
        case = engine.start("stay", "c-0042")
        message = _raises(UnknownTrigger, engine.fire, case, "admitt", NURSE)
        assert message == "case 'case1' (stay, state 'arrived'): pathway has no trigger 'admitt' (did you mean 'admit'?)"

    def test_a_closed_case_refuses_everything(self, engine: Engine) -> None:
        """After a terminal state, CaseClosed: even 'leave' from '*' cannot fire."""
        case = engine.start("stay", "c-0042")
        engine.fire(case, "leave", CITIZEN)
        message = _raises(CaseClosed, engine.fire, case, "leave", CITIZEN)
        assert message == "case 'case1' (stay, state 'left') is closed; 'leave' cannot fire"

    def test_a_refused_action_changes_nothing(self, engine: Engine) -> None:
        """The case and its history are exactly as before a refused action."""
        case = engine.start("stay", "c-0042")
        before = copy.deepcopy(case)
        for actor, trigger in [(CITIZEN, "admit"), (NURSE, "admit"), (NURSE, "pause"), (NURSE, "nope")]:
            with pytest.raises(ActionRefused):
                engine.fire(case, trigger, actor)
        assert case == before

    def test_the_citizen_can_leave_from_every_live_state(self, engine: Engine) -> None:
        """'leave' from '*' works in arrived, staying and waiting states alike; no coercion."""
        arrived = engine.start("stay", "c-0042")
        staying = _admitted(engine)
        waiting = _admitted(engine)
        engine.fire(waiting, "pause", NURSE)
        assert [c.state for c in (arrived, staying, waiting)] == ["arrived", "staying", "review"]
        for case in (arrived, staying, waiting):
            engine.fire(case, "leave", CITIZEN)
        assert [c.state for c in (arrived, staying, waiting)] == ["left"] * 3

    def test_an_unknown_case_id_is_an_unknown_case(self, engine: Engine) -> None:
        """Looking up a case the engine does not hold raises UnknownCase."""
        assert _raises(UnknownCase, engine.case, "nope") == "no case 'nope' is known to this engine"

    def test_a_case_id_cannot_be_used_twice(self, engine: Engine) -> None:
        """start() with an existing case id is refused."""
        engine.start("stay", "c-1", case_id="x")
        assert _raises(ActionRefused, engine.start, "stay", "c-2", case_id="x") == "a case with id 'x' already exists"


class TestOptionsAndWhyNot:
    def test_options_list_every_trigger_with_its_reasons(self, engine: Engine) -> None:
        """options() shows every trigger from the state and why this actor cannot take it."""
        case = engine.start("stay", "c-0042")
        assert engine.options(case, NURSE) == [
            Option("consent", "fire", "arrived", (Reason(RefusalCode.ROLE, "role 'nurse' may not fire 'consent' (allowed: citizen)"),)),
            Option("admit", "fire", "staying", (Reason(RefusalCode.GUARD, "guard 'consent_given' does not hold"),), "all of: leder_region, leder_kommune"),
            Option("escalate", "fire", "done"),
            Option("leave", "fire", "left", (Reason(RefusalCode.ROLE, "role 'nurse' may not fire 'leave' (allowed: citizen)"),)),
        ]

    def test_why_not_is_empty_when_the_actor_can_fire(self, engine: Engine) -> None:
        """An empty list means: go ahead."""
        case = engine.start("stay", "c-0042")
        assert engine.why_not(case, "escalate", NURSE) == []

    def test_why_not_gives_every_reason(self, engine: Engine) -> None:
        """Role and guard reasons together, with their codes."""
        case = engine.start("stay", "c-0042")
        assert engine.why_not(case, "admit", CITIZEN) == [
            Reason(RefusalCode.ROLE, "role 'citizen' may not fire 'admit' (allowed: nurse)"),
            Reason(RefusalCode.GUARD, "guard 'consent_given' does not hold"),
        ]

    def test_why_not_explains_wrong_state_and_unknown_triggers(self, engine: Engine) -> None:
        """why_not never raises for a bad trigger: the reason has the refusal's code."""
        case = engine.start("stay", "c-0042")
        assert [r.code for r in engine.why_not(case, "pause", NURSE)] == ["state"]
        assert [r.code for r in engine.why_not(case, "nope", NURSE)] == ["unknown_trigger"]

    def test_options_offer_the_pending_approval_to_approvers_only(self, engine: Engine) -> None:
        """A pending request shows as an 'approve' option: allowed for a leader, not for the requester."""
        case = engine.start("stay", "c-0042", facts={"consent_given": True})
        engine.fire(case, "admit", NURSE)
        leader = [o for o in engine.options(case, LEADER_R) if o.kind == "approve"]
        requester = [o for o in engine.options(case, NURSE) if o.kind == "approve"]
        assert leader == [Option("admit", "approve", "staying", (), "all of: leder_region, leder_kommune")]
        assert [r.code for r in requester[0].reasons] == ["self_approval"]

    def test_a_full_resource_is_a_capacity_reason(self, engine: Engine) -> None:
        """When both places are taken, why_not says so."""
        _admitted(engine)
        _admitted(engine)
        case = engine.start("stay", "c-3", facts={"consent_given": True})
        assert engine.why_not(case, "admit", NURSE) == [Reason(RefusalCode.CAPACITY, "all 2 places of 'places' are taken")]


class TestApprovals:
    def test_a_transition_with_approval_is_only_requested(self, engine: Engine) -> None:
        """Firing records a request; the case stays until the rule is met."""
        case = engine.start("stay", "c-0042", facts={"consent_given": True})
        [event] = engine.fire(case, "admit", NURSE)
        assert (event.kind, case.state, case.pending and case.pending.requested_by) == (EventKind.REQUESTED, "arrived", NURSE)

    def test_all_of_fires_when_every_role_has_approved(self, engine: Engine) -> None:
        """all_of: one approval per listed role; the last one fires it, approvals recorded."""
        case = engine.start("stay", "c-0042", facts={"consent_given": True})
        engine.fire(case, "admit", NURSE)
        assert _kinds(engine.approve(case, LEADER_R)) == [("case1", "approved", "arrived", "arrived")]
        events = engine.approve(case, LEADER_K)
        assert _kinds(events) == [("case1", "approved", "arrived", "arrived"), ("case1", "fired", "arrived", "staying")]
        fired = events[-1]
        assert fired.actor == NURSE
        assert [a.actor for a in fired.approvals] == [LEADER_R, LEADER_K]
        assert case.pending is None

    def test_n_of_needs_n_different_roles(self, engine: Engine) -> None:
        """n_of 2: a second doctor does not count; a doctor and a social worker do."""
        case = _admitted(engine)
        engine.fire(case, "extend", NURSE)
        engine.approve(case, DOCTOR)
        message = _raises(NotAnApprover, engine.approve, case, DOCTOR2)
        assert message == "dan (doctor, region) cannot answer the request for 'extend' on case 'case1': role 'doctor' has already approved; the rule needs 2 of: doctor, leder_region, social"
        assert _kinds(engine.approve(case, SOCIAL))[-1] == ("case1", "fired", "staying", "staying")

    def test_one_per_sector_needs_each_sector(self, engine: Engine) -> None:
        """one_per_sector: a second approver from the same sector is refused; the other sector completes."""
        case = _admitted(engine)
        engine.fire(case, "discharge", SOCIAL)
        engine.approve(case, SOCIAL2)
        message = _raises(NotAnApprover, engine.approve, case, LEADER_K)
        assert message.endswith("sector 'kommune' has already approved; the rule needs one from each sector: region, kommune")
        assert _kinds(engine.approve(case, NURSE))[-1] == ("case1", "fired", "staying", "done")

    def test_the_requester_cannot_approve_their_own_request(self, engine: Engine) -> None:
        """Four-eyes: SelfApproval, even when the requester's role could approve."""
        case = _admitted(engine)
        engine.fire(case, "discharge", SOCIAL)
        message = _raises(SelfApproval, engine.approve, case, SOCIAL)
        assert message == "sofie (social, kommune) cannot answer the request for 'discharge' on case 'case1': sofie requested this and cannot also approve it (four-eyes)"

    def test_the_same_person_cannot_approve_twice(self, engine: Engine) -> None:
        """DuplicateApproval names the person."""
        case = engine.start("stay", "c-0042", facts={"consent_given": True})
        engine.fire(case, "admit", NURSE)
        engine.approve(case, LEADER_R)
        assert _raises(DuplicateApproval, engine.approve, case, LEADER_R).endswith("lars has already approved this request")

    def test_a_role_outside_the_rule_is_not_an_approver(self, engine: Engine) -> None:
        """NotAnApprover names the rule in words."""
        case = engine.start("stay", "c-0042", facts={"consent_given": True})
        engine.fire(case, "admit", NURSE)
        message = _raises(NotAnApprover, engine.approve, case, SOCIAL)
        assert message.endswith("role 'social' is not among the approvers (all of: leder_region, leder_kommune)")

    def test_a_second_person_in_an_approved_role_is_not_needed(self, engine: Engine) -> None:
        """all_of: once leder_region has approved, another regional leader does not count."""
        case = engine.start("stay", "c-0042", facts={"consent_given": True})
        engine.fire(case, "admit", NURSE)
        engine.approve(case, LEADER_R)
        assert _raises(NotAnApprover, engine.approve, case, LEADER_R2).endswith("role 'leder_region' has already approved; the rule needs all of: leder_region, leder_kommune")

    def test_approving_with_nothing_pending_is_refused(self, engine: Engine) -> None:
        """NoPendingApproval says which case and state."""
        case = engine.start("stay", "c-0042")
        assert _raises(NoPendingApproval, engine.approve, case, LEADER_R) == "case 'case1' (stay, state 'arrived') has no request awaiting approval"

    def test_a_pending_request_cannot_be_requested_again(self, engine: Engine) -> None:
        """Firing the pending trigger again is refused and says how many approvals are in."""
        case = engine.start("stay", "c-0042", facts={"consent_given": True})
        engine.fire(case, "admit", NURSE)
        engine.approve(case, LEADER_R)
        assert _raises(ActionRefused, engine.fire, case, "admit", NURSE2).endswith("'admit' already awaits approval (1 given)")

    def test_a_refusal_takes_the_refusal_path(self, engine: Engine) -> None:
        """refuse() moves the case to on_refusal, recording who and why."""
        case = _admitted(engine)
        engine.fire(case, "extend", NURSE)
        [event] = engine.refuse(case, LEADER_R, reason="no need")
        assert (event.kind, event.actor, event.reason, case.state, case.pending) == (EventKind.REFUSED, LEADER_R, "no need", "review", None)

    def test_only_an_approver_can_refuse(self, engine: Engine) -> None:
        """Refusing needs the same standing as approving."""
        case = _admitted(engine)
        engine.fire(case, "extend", NURSE)
        with pytest.raises(NotAnApprover):
            engine.refuse(case, LEADER_K, reason="no")
        with pytest.raises(SelfApproval):
            engine.refuse(case, NURSE, reason="no")

    def test_an_approval_times_out_into_the_refusal_path(self, engine: Engine, clock: ManualClock) -> None:
        """fire_due refuses a request whose timeout has passed, at the moment it passed."""
        case = _admitted(engine)
        engine.fire(case, "discharge", SOCIAL)
        engine.approve(case, NURSE)
        assert engine.fire_due(T0 + timedelta(hours=7, minutes=59)) == []
        [event] = engine.fire_due(T0 + timedelta(hours=9))
        assert (event.kind, event.actor, event.reason, event.at) == (EventKind.REFUSED, None, "approval timed out", T0 + timedelta(hours=8))
        assert [a.actor for a in event.approvals] == [NURSE]
        assert (case.state, case.pending) == ("staying", None)

    def test_leaving_the_state_drops_the_pending_request(self, engine: Engine) -> None:
        """The citizen may leave while leaders deliberate; the request is gone."""
        case = engine.start("stay", "c-0042", facts={"consent_given": True})
        engine.fire(case, "admit", NURSE)
        engine.fire(case, "leave", CITIZEN)
        assert (case.state, case.pending) == ("left", None)

    def test_an_approval_that_would_exceed_capacity_is_refused_and_not_recorded(self, engine: Engine) -> None:
        """When the rule would be met but no place is free, NoCapacity and no event."""
        case = engine.start("stay", "c-0042", facts={"consent_given": True})
        engine.fire(case, "admit", NURSE)
        engine.approve(case, LEADER_R)
        _admitted(engine)
        _admitted(engine)
        seq = case.seq
        with pytest.raises(NoCapacity):
            engine.approve(case, LEADER_K)
        assert (case.seq, case.state, len(case.pending.approvals if case.pending else ())) == (seq, "arrived", 1)


class TestCapacity:
    def test_places_are_never_exceeded(self, engine: Engine) -> None:
        """Two places: the third admission is refused with NoCapacity."""
        _admitted(engine)
        _admitted(engine)
        case = engine.start("stay", "c-3", facts={"consent_given": True})
        message = _raises(NoCapacity, engine.fire, case, "admit", NURSE)
        assert message == "nina (nurse, region) cannot fire 'admit' in case 'case3' (stay, state 'arrived'): all 2 places of 'places' are taken"
        assert engine.in_use("places") == engine.capacity("places") == 2

    def test_a_release_frees_the_place(self, engine: Engine) -> None:
        """'pause' releases: the case holds nothing and the place is free again."""
        case = _admitted(engine)
        engine.fire(case, "pause", NURSE)
        assert (case.holds, engine.in_use("places")) == ({}, 0)

    def test_a_terminal_state_frees_every_place(self, engine: Engine) -> None:
        """A citizen who leaves gives back the place without an explicit release."""
        case = _admitted(engine)
        engine.fire(case, "leave", CITIZEN)
        assert (case.holds, engine.in_use("places")) == ({}, 0)

    def test_releasing_what_was_not_taken_is_a_capacity_error(self, engine: Engine) -> None:
        """'resume' after 'pause' releases a second time: CapacityError, case unchanged."""
        case = _admitted(engine)
        engine.fire(case, "pause", NURSE)
        seq = case.seq
        message = _raises(CapacityError, engine.fire, case, "resume", NURSE)
        assert message == "nina (nurse, region) cannot fire 'resume' in case 'case1' (stay, state 'review'): 'resume' releases a place of 'places', but the case holds none (a defect in the pathway: release only what was taken)"
        assert (case.seq, case.state) == (seq, "review")

    def test_an_engine_counts_the_places_of_the_cases_it_is_given(self, engine: Engine) -> None:
        """A new engine over existing cases starts from their holds."""
        _admitted(engine)
        again = Engine(engine.registry, cases=dict(engine.cases))
        assert again.in_use("places") == 1


class TestDeadlines:
    def test_nothing_fires_before_it_is_due(self, engine: Engine) -> None:
        """A deadline of two hours has not passed at 1:59."""
        engine.start("stay", "c-0042")
        assert engine.fire_due(T0 + timedelta(hours=1, minutes=59)) == []

    def test_due_deadlines_fire_in_due_order_across_cases(self, engine: Engine, clock: ManualClock) -> None:
        """The earliest due fires first, whatever order the cases were made in."""
        paused = _admitted(engine)
        engine.fire(paused, "pause", NURSE)  # review: due T0 + 1 day
        clock.advance(timedelta(hours=3))
        late = engine.start("stay", "late")  # due T0 + 5h
        clock.advance(timedelta(minutes=30))
        later = engine.start("stay", "later")  # due T0 + 5h30
        events = engine.fire_due(T0 + timedelta(days=1))
        assert [(e.case_id, e.to_state, e.at) for e in events] == [
            (late.id, "done", T0 + timedelta(hours=5)),
            (later.id, "done", T0 + timedelta(hours=5, minutes=30)),
            (paused.id, "reminded", T0 + timedelta(days=1)),
        ]
        assert all(e.kind is EventKind.ESCALATED and e.actor is None and e.reason == "deadline passed" for e in events)

    def test_chained_deadlines_fire_one_after_another(self, engine: Engine) -> None:
        """review → reminded (1 day) → done (1 hour more), each at its own time, in one call."""
        case = _admitted(engine)
        engine.fire(case, "pause", NURSE)
        events = engine.fire_due(T0 + timedelta(days=2))
        assert [(e.from_state, e.to_state, e.at) for e in events] == [
            ("review", "reminded", T0 + timedelta(days=1)),
            ("reminded", "done", T0 + timedelta(days=1, hours=1)),
        ]

    def test_fire_due_is_idempotent(self, engine: Engine) -> None:
        """A second call with the same time finds nothing left to do."""
        engine.start("stay", "c-0042")
        now = T0 + timedelta(hours=3)
        assert len(engine.fire_due(now)) == 1
        assert engine.fire_due(now) == []

    def test_fire_due_defaults_to_the_clock(self, engine: Engine, clock: ManualClock) -> None:
        """Without ``now`` the engine asks its clock."""
        case = engine.start("stay", "c-0042")
        clock.advance(timedelta(hours=2))
        engine.fire_due()
        assert case.state == "done"

    def test_fire_due_can_be_limited_to_some_cases(self, engine: Engine) -> None:
        """Only the given cases are looked at."""
        first = engine.start("stay", "a")
        second = engine.start("stay", "b")
        engine.fire_due(T0 + timedelta(hours=3), cases=[second])
        assert (first.state, second.state) == ("arrived", "done")


class TestHandover:
    def test_the_sender_waits_and_stays_responsible_until_the_receiver_answers(self, engine: Engine) -> None:
        """A hand-over starts the receiving case at its intake; the sender waits, linked to it."""
        case = _admitted(engine)
        events = engine.fire(case, "refer", NURSE)
        assert _kinds(events) == [("case1", "fired", "staying", "referred"), ("case2", "started", "intake", "intake")]
        receiver = engine.case("case2")
        assert (case.state, case.referral) == ("referred", Link("case2", "refer"))
        assert (receiver.pathway_id, receiver.citizen, receiver.referred_by) == ("amb", "c-0042", Link("case1", "refer"))
        assert engine.registry["stay"].state("referred").responsible == ("nurse",)

    def test_facts_both_pathways_know_travel_with_the_citizen(self, engine: Engine) -> None:
        """Consent given in the stay holds in the ambulant case; facts only one side knows stay behind."""
        case = _admitted(engine)
        engine.fire(case, "refer", NURSE)
        assert engine.case("case2").context == {"consent_given": True, "at_home": False}

    def test_accepting_moves_the_sender_to_accepted(self, engine: Engine) -> None:
        """The receiver's accept moves the sender to the hand-over's 'accepted' state."""
        case = _admitted(engine)
        engine.fire(case, "refer", NURSE)
        events = engine.fire(engine.case("case2"), "accept", AMBULANT)
        assert _kinds(events) == [("case2", "fired", "intake", "treat"), ("case1", "handover_accepted", "referred", "gone")]
        assert (case.state, case.referral, engine.in_use("places")) == ("gone", None, 0)

    def test_declining_moves_the_sender_to_declined(self, engine: Engine) -> None:
        """The receiver's decline sends the citizen back to the sender's 'declined' state."""
        case = _admitted(engine)
        engine.fire(case, "refer", NURSE)
        events = engine.fire(engine.case("case2"), "decline", AMBULANT)
        assert _kinds(events)[-1] == ("case1", "handover_declined", "referred", "staying")
        assert case.referral is None

    def test_a_receiver_that_ends_without_answering_declines(self, engine: Engine) -> None:
        """The citizen leaves the receiving pathway before intake: the sender takes them back."""
        case = _admitted(engine)
        engine.fire(case, "refer", NURSE)
        events = engine.fire(engine.case("case2"), "leave", CITIZEN)
        assert _kinds(events) == [("case2", "fired", "intake", "left"), ("case1", "handover_declined", "referred", "staying")]

    def test_one_fire_due_fires_what_an_answer_makes_due_on_the_sender(self, clock: ManualClock) -> None:
        """The receiver's deadline declines; the sender's new deadlines, already past, fire in the same call."""
        stay = STAY.replace("handover: {to: amb, accepted: gone, declined: staying}", "handover: {to: amb, accepted: gone, declined: review}")
        amb = AMB.replace("responsible: [ambulant]}\n  - {id: treat", "responsible: [ambulant], deadline: {after: PT1H, trigger: decline}}\n  - {id: treat", 1)
        ids = (f"case{i}" for i in itertools.count(1))
        engine = Engine(_registry(stay, amb), clock=clock, new_id=lambda: next(ids))
        case = _admitted(engine)
        engine.fire(case, "refer", NURSE)
        clock.advance(timedelta(days=2))
        assert _kinds(engine.fire_due()) == [
            ("case2", "escalated", "intake", "end"),
            ("case1", "handover_declined", "referred", "review"),
            ("case1", "escalated", "review", "reminded"),
            ("case1", "escalated", "reminded", "done"),
        ]
        assert engine.fire_due() == []

    def test_a_later_step_of_the_receiver_does_not_move_the_sender_again(self, engine: Engine) -> None:
        """After the answer, the receiver's own steps touch only the receiver."""
        case = _admitted(engine)
        engine.fire(case, "refer", NURSE)
        receiver = engine.case("case2")
        engine.fire(receiver, "accept", AMBULANT)
        assert _kinds(engine.fire(receiver, "finish", AMBULANT)) == [("case2", "fired", "treat", "end")]
        assert case.state == "gone"


class TestFacts:
    def test_facts_start_at_their_defaults_and_given_values(self, engine: Engine) -> None:
        """has_home defaults to true; consent_given was given at start."""
        case = engine.start("stay", "c-0042", facts={"consent_given": True})
        assert case.context == {"consent_given": True, "has_home": True}

    def test_set_fact_is_recorded_and_guards_read_it(self, engine: Engine) -> None:
        """Withdrawing 'has_home' blocks discharge by its guard."""
        case = _admitted(engine)
        [event] = engine.set_fact(case, "has_home", False, SOCIAL, reason="evicted")
        assert (event.kind, event.facts, event.actor) == (EventKind.FACT_SET, {"has_home": False}, SOCIAL)
        assert engine.why_not(case, "discharge", SOCIAL) == [Reason(RefusalCode.GUARD, "guard 'has_home' does not hold")]

    def test_a_transition_sets_its_facts(self, engine: Engine) -> None:
        """The citizen's 'consent' sets consent_given, so admit can be requested."""
        case = engine.start("stay", "c-0042")
        engine.fire(case, "consent", CITIZEN)
        assert case.context["consent_given"] is True
        assert engine.why_not(case, "admit", NURSE) == []

    def test_an_unknown_fact_is_refused_with_a_suggestion(self, engine: Engine) -> None:
        """Both set_fact and start refuse facts the pathway does not declare."""
        case = engine.start("stay", "c-0042")
        expected = "pathway 'stay' has no fact 'has_hom' (did you mean 'has_home'?)"
        assert _raises(ActionRefused, engine.set_fact, case, "has_hom", True, NURSE) == expected
        assert _raises(ActionRefused, engine.start, "stay", "c", facts={"has_hom": True}) == expected

    def test_facts_of_a_closed_case_cannot_change(self, engine: Engine) -> None:
        """CaseClosed after the end."""
        case = engine.start("stay", "c-0042")
        engine.fire(case, "leave", CITIZEN)
        assert _raises(CaseClosed, engine.set_fact, case, "has_home", False, NURSE) == "nina (nurse, region) may not set 'has_home' on case 'case1': case 'case1' is closed"


class TestHistory:
    def test_history_is_append_only(self, engine: Engine) -> None:
        """Every action adds events at the end with consecutive seq; old events never change."""
        case = engine.start("stay", "c-0042", facts={"consent_given": True})
        seen = list(case.history)
        steps: list[Callable[[], object]] = [
            lambda: engine.fire(case, "admit", NURSE),
            lambda: engine.approve(case, LEADER_R),
            lambda: engine.approve(case, LEADER_K),
            lambda: engine.fire(case, "pause", NURSE),
        ]
        for step in steps:
            step()
            assert case.history[: len(seen)] == seen
            seen = list(case.history)
        assert [e.seq for e in case.history] == list(range(len(case.history)))

    def test_replay_rebuilds_the_case(self, engine: Engine) -> None:
        """replay(history) equals the live case, holds and context included."""
        case = _admitted(engine)
        engine.set_fact(case, "has_home", False, SOCIAL)
        engine.fire(case, "refer", NURSE)
        assert replay(engine.pathway_of(case), case.citizen, case.history) == case

    def test_replay_refuses_a_history_with_a_gap(self, engine: Engine) -> None:
        """A missing event is a SnapshotError naming the gap."""
        case = _admitted(engine)
        history = case.history[:2] + case.history[3:]
        message = _raises(SnapshotError, replay, engine.pathway_of(case), case.citizen, history)
        assert message == "case 'case1': event 2 is missing (found seq 3)"

    def test_replay_needs_a_start(self, engine: Engine) -> None:
        """A history must begin with 'started'."""
        case = _admitted(engine)
        assert _raises(SnapshotError, replay, engine.pathway_of(case), case.citizen, case.history[1:]) == "a history must begin with a 'started' event"


class TestSnapshots:
    def test_a_snapshot_survives_json_exactly(self, engine: Engine, clock: ManualClock) -> None:
        """snapshot → JSON text → restore gives an equal case and an equal snapshot."""
        case = _admitted(engine)
        engine.fire(case, "discharge", SOCIAL)
        engine.approve(case, NURSE)
        data = json.loads(json.dumps(engine.snapshot(case)))
        other = Engine(engine.registry, clock=clock)
        restored = other.restore(data)
        assert restored == case
        assert other.snapshot(restored) == engine.snapshot(case)
        assert other.in_use("places") == 1

    def test_a_snapshot_names_its_pathway_version(self, engine: Engine) -> None:
        """The snapshot is plain JSON with format, pathway id and version."""
        data = engine.snapshot(engine.start("stay", "c-0042"))
        assert (data["format"], data["pathway_id"], data["version"], data["state"]) == (1, "stay", 1, "arrived")

    def test_restoring_against_another_version_is_a_snapshot_error(self, engine: Engine) -> None:
        """A v1 snapshot does not restore against v2; the message says what to do."""
        data = engine.snapshot(engine.start("stay", "c-0042"))
        v2 = load_text(STAY.replace("version: 1", "version: 2"))
        message = _raises(SnapshotError, case_from_json, data, v2)
        assert message == "snapshot of case 'case1' belongs to pathway 'stay' version 1, not 'stay' version 2; restore it against that version or migrate the case to the new version first"

    def test_restoring_a_version_that_is_not_loaded_names_the_loaded_ones(self, engine: Engine) -> None:
        """The engine cannot restore a case whose pathway version it does not have."""
        data = {**engine.snapshot(engine.start("stay", "c-0042")), "version": 7}
        message = _raises(UnknownPathway, engine.restore, data)
        assert message == "pathway 'stay' version 7 is not loaded (loaded versions: [1]); load that version's definition file"

    def test_a_malformed_snapshot_is_a_snapshot_error(self, engine: Engine) -> None:
        """Not a snapshot, or a snapshot in a state the pathway lacks: SnapshotError."""
        pathway = engine.registry["stay"]
        assert _raises(SnapshotError, case_from_json, {"id": "x"}, pathway) == "not a pathways case snapshot (expected 'format': 1)"
        data = {**engine.snapshot(engine.start("stay", "c-0042")), "state": "nowhere"}
        assert _raises(SnapshotError, case_from_json, data, pathway) == "snapshot of case 'case1' is in state 'nowhere', which 'stay' v1 does not have"


    def test_a_snapshot_over_capacity_changes_nothing(self, engine: Engine, clock: ManualClock) -> None:
        """Restoring a case that would hold more places than exist is refused and registers nothing."""
        data = engine.snapshot(_admitted(engine))
        other = Engine(engine.registry, clock=clock)
        capacity = other.capacity("places")
        data = {**data, "holds": {"places": capacity + 1}}
        with pytest.raises(NoCapacity):
            other.restore(data)
        assert (dict(other.cases), other.in_use("places")) == ({}, 0)

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"context": {"nonsense": True}}, "snapshot of case 'case1' names facts 'nonsense' that 'stay' v1 does not have"),
            ({"state": "done"}, "snapshot of case 'case1' is closed (state 'done') but still holds places of places"),
        ],
        ids=["unknown-fact", "terminal-holding-a-place"],
    )
    def test_an_inconsistent_snapshot_is_refused(self, engine: Engine, change: dict[str, object], message: str) -> None:
        data = {**engine.snapshot(_admitted(engine)), **change}
        assert _raises(SnapshotError, case_from_json, data, engine.registry["stay"]) == message

    def test_a_snapshot_with_another_cases_events_is_refused(self, engine: Engine) -> None:
        data = engine.snapshot(_admitted(engine))
        data["history"][1] = {**data["history"][1], "case_id": "other"}
        assert _raises(SnapshotError, case_from_json, data, engine.registry["stay"]) == "snapshot of case 'case1': event 1 belongs to case 'other'"


class TestRegistryVersions:
    def test_new_cases_start_on_the_newest_version_and_old_ones_stay(self, clock: ManualClock) -> None:
        """Loading v2 next to v1: start() uses v2, a v1 case keeps running on v1."""
        engine = Engine(_registry(STAY, AMB), clock=clock)
        old = engine.start("stay", "a")
        engine.registry.add(load_text(STAY.replace("version: 1", "version: 2")))
        new = engine.start("stay", "b")
        assert (old.version, new.version) == (1, 2)
        assert engine.pathway_of(old).version == 1
        engine.fire(old, "escalate", NURSE)
        assert old.state == "done"

    def test_an_unknown_pathway_lists_the_loaded_ones(self, engine: Engine) -> None:
        """UnknownPathway names what is loaded."""
        assert _raises(UnknownPathway, engine.start, "walk_in", "c") == "no pathway 'walk_in' is loaded (loaded: amb, stay)"


_ACTIONS = [
    ("fire", "admit", NURSE), ("fire", "admit", NURSE2), ("fire", "consent", CITIZEN), ("fire", "escalate", NURSE),
    ("fire", "extend", NURSE), ("fire", "discharge", SOCIAL), ("fire", "pause", NURSE), ("fire", "resume", NURSE),
    ("fire", "refer", NURSE), ("fire", "leave", CITIZEN), ("fire", "accept", AMBULANT), ("fire", "decline", AMBULANT),
    ("approve", "", LEADER_R), ("approve", "", LEADER_K), ("approve", "", DOCTOR), ("approve", "", SOCIAL2),
    ("approve", "", NURSE2), ("refuse", "", LEADER_R), ("due", "", NURSE),
]


class TestInvariants:
    @settings(max_examples=40, deadline=None)
    @given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from(_ACTIONS)), max_size=40))
    def test_places_and_histories_stay_consistent(self, steps: list[tuple[int, tuple[str, str, Actor]]]) -> None:
        """Whatever actors try, places in use equal the places held, never above capacity, and every case replays."""
        clock = ManualClock(T0)
        engine = Engine(_registry(STAY, AMB), clock=clock)
        for i in range(4):
            engine.start("stay", f"c{i}", facts={"consent_given": i % 2 == 0}, case_id=f"s{i}")
        for index, (kind, trigger, actor) in steps:
            cases = sorted(engine.cases)
            case = engine.cases[cases[index % len(cases)]]
            clock.advance(timedelta(minutes=45))
            try:
                if kind == "fire":
                    engine.fire(case, trigger, actor)
                elif kind == "approve":
                    engine.approve(case, actor)
                elif kind == "refuse":
                    engine.refuse(case, actor, reason="no")
                else:
                    engine.fire_due()
            except (ActionRefused, CapacityError):
                pass
            held = sum(c.holds.get("places", 0) for c in engine.cases.values())
            assert engine.in_use("places") == held <= engine.capacity("places")
        for case in engine.cases.values():
            assert replay(engine.pathway_of(case), case.citizen, case.history) == case
