"""Every service of the two houses, run on the engine along its main route.

One journey per service added by the services issue (the six first pathways have theirs in
``test_seed_definitions.py`` and ``examples/house_tour.py``), plus the model's and the
checker's new words: an organisation as the subject, a later phase, an external receiver,
and a hand-over the citizen starts (self-admission under a contract).
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path

import attrs
import pytest

import pathways
from pathways import Actor, Case, Engine, ManualClock, Subject
from pathways.errors import DefinitionError, GuardFailed
from pathways.stranding import FindingKind, check

REGISTRY = pathways.load_registry("definitions")

CITIZEN = Actor("c-0042", "citizen", "citizen")
NURSE = Actor("rn-1", "nurse", "region")
PSYCHIATRIST = Actor("md-1", "psychiatrist", "region")
SOCIAL = Actor("sr-1", "social_worker", "municipal_social")
SOCIALVAGT = Actor("sv-1", "social_duty_worker", "municipal_social")
OUTREACH = Actor("ut-1", "outreach_worker", "municipal_social")
PEER = Actor("peer-1", "peer_worker", "municipal_social")
COORDINATOR = Actor("rs-1", "school_coordinator", "municipal_social")
LEADER_REGION = Actor("lr-1", "leader_region", "region")
LEADER_MUNICIPALITY = Actor("lm-1", "leader_municipality", "municipal_social")


MONDAY_9 = datetime.fromisoformat("2026-01-05T09:00:00+01:00")
"""Inside the weekday hours of the daytime services (Copenhagen's clinic, Aarhus's advice, recovery school
and health clinic); ManualClock's default is Monday 17:00 local."""


def _engine(start: datetime | None = None) -> tuple[Engine, ManualClock]:
    clock = ManualClock(start)
    ids = (f"case-{n}" for n in itertools.count(1))
    return Engine(REGISTRY, clock=clock, new_id=lambda: next(ids)), clock


def _received(engine: Engine, sender: Case) -> Case:
    assert sender.referral is not None
    return engine.case(sender.referral.case_id)


class TestUserContract:
    def _signed(self, engine: Engine) -> Case:
        contract = engine.start("user_contract", "c-0042")
        engine.fire(contract, "write_crisis_plan", PEER)
        engine.fire(contract, "sign_contract", CITIZEN)
        engine.approve(contract, NURSE)
        engine.approve(contract, SOCIAL)
        return contract

    def test_the_contract_is_agreed_by_the_citizen_and_staff_of_both_sectors(self) -> None:
        engine, _ = _engine()
        contract = self._signed(engine)
        assert contract.state == "contract_valid"
        assert contract.context["has_user_contract"] is True

    def test_one_sector_alone_cannot_make_the_contract(self) -> None:
        engine, _ = _engine()
        contract = engine.start("user_contract", "c-0042")
        engine.fire(contract, "write_crisis_plan", NURSE)
        engine.fire(contract, "sign_contract", CITIZEN)
        engine.approve(contract, NURSE)
        assert contract.state == "crisis_plan"
        with pytest.raises(pathways.NotAnApprover):
            engine.approve(contract, PSYCHIATRIST)

    def test_no_contract_without_a_crisis_plan(self) -> None:
        engine, _ = _engine()
        contract = engine.start("user_contract", "c-0042")
        with pytest.raises(GuardFailed):
            engine.fire(contract, "sign_contract", CITIZEN)

    def test_under_a_valid_contract_the_citizen_admits_themself_and_the_stay_is_evaluated(self) -> None:
        engine, clock = _engine()
        contract = self._signed(engine)
        engine.fire(contract, "self_admit", CITIZEN)
        stay = _received(engine, contract)
        assert (stay.pathway_id, stay.state) == ("overnight_stay", "referred")
        assert (stay.context["has_user_contract"], stay.context["consent_given"]) == (True, True)
        engine.fire(stay, "accept", NURSE)
        assert contract.state == "stay_under_contract"
        engine.fire(stay, "admit", SOCIAL)
        assert (stay.state, engine.in_use("overnight_places")) == ("staying", 1)
        clock.advance(timedelta(days=4))
        engine.fire_due()
        assert contract.state == "stay_evaluation"
        engine.fire(contract, "continue_contract", SOCIAL)
        assert contract.state == "contract_valid"

    def test_the_contract_expires_and_can_be_renewed(self) -> None:
        engine, clock = _engine()
        contract = self._signed(engine)
        clock.advance(timedelta(weeks=26))
        [event] = [e for e in engine.fire_due() if e.case_id == contract.id]
        assert (event.trigger, contract.state, contract.context["has_user_contract"]) == ("expire", "expired", False)
        with pytest.raises(pathways.ActionRefused):
            engine.fire(contract, "self_admit", CITIZEN)
        engine.fire(contract, "renew", NURSE)
        assert (contract.state, contract.context["crisis_plan_written"]) == ("crisis_plan", False)

    def test_when_no_place_is_free_the_crisis_plan_is_followed(self) -> None:
        engine, _ = _engine()
        contract = self._signed(engine)
        engine.fire(contract, "self_admit", CITIZEN)
        engine.fire(_received(engine, contract), "decline", NURSE)
        assert contract.state == "no_place_under_contract"
        engine.fire(contract, "crisis_plan_followed", SOCIAL)
        assert contract.state == "contract_valid"


class TestOutreachTeam:
    def test_a_call_at_night_gets_advice_by_phone(self) -> None:
        engine, _ = _engine()
        call = engine.start("outreach_team", "c-0042")
        engine.fire(call, "advise_by_phone", OUTREACH)
        engine.fire(call, "call_ends", OUTREACH)
        assert call.state == "phone_advice_given"

    def test_a_home_visit_can_end_at_an_overnight_place(self) -> None:
        engine, _ = _engine()
        call = engine.start("outreach_team", "c-0042", facts={"consent_to_visit": True})
        engine.fire(call, "visit_home", OUTREACH)
        engine.fire(call, "finish_visit", OUTREACH)
        engine.fire(call, "accompany_to_place", OUTREACH)
        stay = _received(engine, call)
        engine.fire(stay, "accept", NURSE)
        assert (call.state, stay.state) == ("at_overnight_place", "admission_assessment")

    def test_the_acute_ward_answers_itself_and_silence_returns_the_citizen_to_the_team(self) -> None:
        engine, clock = _engine()
        call = engine.start("outreach_team", "c-0042", facts={"consent_to_visit": True})
        engine.fire(call, "visit_home", OUTREACH)
        engine.fire(call, "finish_visit", OUTREACH)
        engine.fire(call, "accompany_to_ward", OUTREACH)
        ward = _received(engine, call)
        assert REGISTRY[ward.pathway_id].external
        with pytest.raises(pathways.ActionRefused):
            engine.fire(ward, "accept", OUTREACH)  # only the ward's own physician answers
        clock.advance(timedelta(hours=3))
        engine.fire_due()
        assert (ward.state, call.state) == ("returned_to_sender", "after_visit")

    def test_the_ward_admits(self) -> None:
        engine, _ = _engine()
        call = engine.start("outreach_team", "c-0042", facts={"consent_to_visit": True})
        engine.fire(call, "visit_home", OUTREACH)
        engine.fire(call, "finish_visit", OUTREACH)
        engine.fire(call, "accompany_to_ward", OUTREACH)
        engine.fire(_received(engine, call), "accept", Actor("aw-1", "ward_physician", "region"))
        assert call.state == "admitted_to_ward"

    def test_socialvagten_hands_the_night_over_to_the_outreach_team(self) -> None:
        engine, _ = _engine()
        walk = engine.start("walk_in", "c-0042")
        engine.fire(walk, "start_conversation", SOCIALVAGT)
        engine.fire(walk, "refer_overnight", SOCIALVAGT)
        engine.fire(_received(engine, walk), "decline", NURSE)
        engine.fire(walk, "refer_outreach_team", SOCIALVAGT)
        visit = _received(engine, walk)
        engine.fire(visit, "accept", OUTREACH)
        assert (walk.state, visit.state) == ("referred_outreach", "home_visit")


class TestAdviceNavigation:
    def test_the_citizen_is_guided_out_of_the_house_and_followed_up(self) -> None:
        engine, clock = _engine(MONDAY_9)
        case = engine.start("advice_navigation", "c-0042", facts={"wants_guidance": True})
        engine.fire(case, "start_overview", PEER)
        engine.fire(case, "guide_out_of_house", SOCIAL)
        clock.advance(timedelta(days=14))
        engine.fire_due()
        assert case.state == "follow_up"
        engine.fire(case, "confirm_started", SOCIAL)
        assert case.state == "started_outside"

    def test_information_only_is_a_proper_end(self) -> None:
        engine, _ = _engine(MONDAY_9)
        case = engine.start("advice_navigation", "c-0042")
        engine.fire(case, "give_information", SOCIAL)
        assert case.state == "information_given"

    def test_the_adviser_hands_over_to_the_recovery_school(self) -> None:
        engine, _ = _engine(MONDAY_9)
        case = engine.start("advice_navigation", "c-0042")
        engine.fire(case, "start_overview", SOCIAL)
        engine.fire(case, "refer_recovery_school", PEER)
        school = _received(engine, case)
        engine.fire(school, "accept", COORDINATOR)
        assert (case.state, school.state) == ("referred_recovery_school", "signing_up")


class TestRecoverySchoolAndPeerEducation:
    def test_a_course_open_to_all_from_sign_up_to_completion(self) -> None:
        engine, clock = _engine(MONDAY_9)
        case = engine.start("recovery_school", "relative-7")  # a relative, not a citizen in treatment
        engine.fire(case, "enrol", COORDINATOR)
        assert engine.in_use("recovery_course_seats") == 1
        clock.advance(timedelta(weeks=4))
        engine.fire_due()
        clock.advance(timedelta(weeks=10))
        engine.fire_due()
        engine.fire(case, "complete", PEER)
        assert (case.state, engine.in_use("recovery_course_seats")) == ("course_completed", 0)

    def test_a_full_course_puts_the_participant_on_a_waiting_list_that_is_reviewed(self) -> None:
        engine, clock = _engine(MONDAY_9)
        for n in range(48):
            engine.fire(engine.start("recovery_school", f"p-{n}"), "enrol", COORDINATOR)
        late = engine.start("recovery_school", "p-late")
        assert [r.message for r in engine.why_not(late, "enrol", COORDINATOR)] == [
            "all 48 places of 'recovery_course_seats' are taken"
        ]
        engine.fire(late, "join_waiting_list", COORDINATOR)
        clock.advance(timedelta(weeks=8))
        engine.fire_due()
        assert late.state == "list_review"
        engine.fire(late, "guide_elsewhere", COORDINATOR)
        assert late.state == "other_offer"

    def test_a_graduate_of_the_peer_education_is_hired_as_a_peer_by_the_shared_leadership(self) -> None:
        engine, clock = _engine(MONDAY_9)
        case = engine.start("peer_education", "c-0042", facts={"has_lived_experience": True})
        educator = Actor("pe-1", "peer_educator", "municipal_social")
        engine.fire(case, "invite_to_interview", COORDINATOR)
        engine.fire(case, "admit", COORDINATOR)
        clock.advance(timedelta(weeks=16))
        engine.fire_due()
        engine.fire(case, "graduate", educator)
        engine.fire(case, "hire_as_peer", COORDINATOR)
        engine.approve(case, LEADER_MUNICIPALITY)
        assert case.state == "hired_as_peer"

    def test_no_admission_without_lived_experience(self) -> None:
        engine, _ = _engine(MONDAY_9)
        case = engine.start("peer_education", "c-0042")
        engine.fire(case, "invite_to_interview", COORDINATOR)
        with pytest.raises(GuardFailed):
            engine.fire(case, "admit", COORDINATOR)
        engine.fire(case, "not_admitted", COORDINATOR)
        assert case.state == "not_admitted"


class TestRoomLending:
    ORGANISATION = Actor("org-1", "organisation", "civil_society")
    COORDINATOR = Actor("hc-1", "house_coordinator", "municipal_social")

    def test_a_relevant_activity_gets_a_room_and_may_book_again(self) -> None:
        engine, _ = _engine()
        case = engine.start("room_lending", "org:psykinfo")
        engine.fire(case, "approve_relevance", self.COORDINATOR)
        engine.approve(case, LEADER_REGION)
        assert case.state == "room_booked"
        engine.fire(case, "activity_held", self.ORGANISATION)
        engine.fire(case, "book_again", self.ORGANISATION)
        engine.fire(case, "activity_held", self.ORGANISATION)
        engine.fire(case, "close_lending", self.COORDINATOR)
        assert case.state == "lending_completed"

    def test_an_irrelevant_activity_is_refused_with_a_reason(self) -> None:
        engine, _ = _engine()
        case = engine.start("room_lending", "org:x")
        engine.fire(case, "approve_relevance", self.COORDINATOR)
        engine.refuse(case, LEADER_MUNICIPALITY, reason="not relevant to the target group")
        engine.fire(case, "refuse_not_relevant", self.COORDINATOR)
        assert case.state == "not_relevant"

    def test_co_created_events_need_both_leaders(self) -> None:
        engine, _ = _engine(MONDAY_9)
        case = engine.start("co_created_event", "org:relatives")
        engine.fire(case, "develop_together", self.ORGANISATION)
        engine.fire(case, "propose_event", self.ORGANISATION)
        engine.approve(case, LEADER_REGION)
        assert case.state == "co_design"
        engine.approve(case, LEADER_MUNICIPALITY)
        engine.fire(case, "event_held", self.ORGANISATION)
        engine.fire(case, "close_evaluated", SOCIAL)
        assert case.state == "event_completed"


class TestCopenhagen:
    def test_an_outpatient_course_brings_in_the_municipality_and_a_joint_effort_meeting(self) -> None:
        engine, _ = _engine(MONDAY_9)
        course = engine.start("outpatient_course", "c-0042", facts={"consent_to_involve_municipality": True})
        engine.fire(course, "start_treatment", PSYCHIATRIST)
        engine.fire(course, "involve_municipal_colleague", NURSE)
        engine.fire(course, "call_joint_meeting", SOCIAL)
        meeting = _received(engine, course)
        engine.fire(meeting, "accept", SOCIAL)
        assert (course.state, meeting.state) == ("joint_plan", "wishes")
        engine.fire(meeting, "invite_relatives", CITIZEN)
        engine.fire(meeting, "invite_everyone", NURSE)
        engine.fire(meeting, "hold_meeting", PSYCHIATRIST)
        engine.fire(meeting, "agree_plan", CITIZEN)
        engine.fire(meeting, "relative_asks_follow_up", Actor("rel-1", "relative", "citizen"))
        engine.fire(meeting, "complete_plan", SOCIAL)
        assert meeting.state == "plan_completed"

    def test_only_the_citizen_invites_relatives(self) -> None:
        p = REGISTRY["joint_effort_meeting"]
        invite = p.find("wishes", "invite_relatives")
        assert invite is not None and invite.roles == ("citizen",)


class TestHealthClinic:
    def test_a_later_phase_with_general_practice_as_a_party_of_its_own(self) -> None:
        p = REGISTRY["health_clinic"]
        assert p.phase == 2
        assert (REGISTRY.houses["aarhus"].phases, REGISTRY.houses["copenhagen"].phases) == ((1, 2), (1,))
        assert p.roles["general_practitioner"].sector == "general_practice"
        assert not any(t.handover and t.handover.to == "health_clinic" for q in REGISTRY.values() for t in q.transitions)

    def test_a_missed_appointment_means_reaching_out(self) -> None:
        engine, clock = _engine(MONDAY_9)
        gp = Actor("gp-1", "general_practitioner", "general_practice")
        case = engine.start("health_clinic", "c-0042", facts={"consent_to_share_with_gp": True})
        engine.fire(case, "book_appointment", NURSE)
        clock.advance(timedelta(days=14))
        engine.fire_due()
        assert case.state == "reaching_out"
        engine.fire(case, "book_appointment", Actor("ph-1", "peer_worker", "municipal_social"))
        engine.fire(case, "attend", gp)
        engine.fire(case, "refer_health_promotion", gp)
        clock.advance(timedelta(weeks=12))
        engine.fire_due()
        engine.fire(case, "complete", gp)
        assert case.state == "health_course_completed"


# -- the model and the checker ---------------------------------------------------------------


def test_every_service_is_reached_from_another_where_the_seeds_connect_them() -> None:
    reached = {t.handover.to for p in REGISTRY.values() for t in p.transitions if t.handover}
    starts_alone = {"walk_in", "outreach_team", "advice_navigation", "overnight_stay", "user_contract",
                    "open_dialogue", "outpatient_course", "room_lending", "co_created_event", "health_clinic"}
    assert set(REGISTRY) - reached <= starts_alone
    # the services with no referral of their own are still connected: each hands over somewhere
    for pid in starts_alone - reached - {"open_dialogue", "room_lending", "co_created_event", "health_clinic"}:
        assert any(t.handover for t in REGISTRY[pid].transitions), pid


def test_organisations_are_subjects_of_their_own() -> None:
    assert {p.id for p in REGISTRY.values() if p.subject is Subject.ORGANISATION} == {"room_lending", "co_created_event"}
    assert {p.id for p in REGISTRY.values() if p.external} == {"acute_ward"}


def test_the_checker_owes_an_organisation_no_citizens_exit_but_still_finds_its_dead_ends() -> None:
    lending = REGISTRY["room_lending"]
    assert check(lending).ok
    as_citizen = attrs.evolve(lending, subject=Subject.CITIZEN)
    assert [f.kind for f in check(as_citizen).errors] == [FindingKind.NO_EXIT_BY_CHOICE]
    # without a close, a recurring booking goes round for ever unless the organisation withdraws
    stuck = attrs.evolve(lending, transitions=tuple(t for t in lending.transitions if t.trigger != "close_lending"))
    [trap] = check(stuck).errors
    assert (trap.kind, trap.states) == (FindingKind.TRAP, ("room_booked", "after_activity"))


def test_a_hand_over_the_citizen_starts_keeps_the_staff_responsible() -> None:
    contract = REGISTRY["user_contract"]
    arriving = contract.state("arriving")
    nobody = attrs.evolve(contract, states=tuple(
        attrs.evolve(s, responsible=("citizen",)) if s is arriving else s for s in contract.states
    ))
    [gap] = [f for f in check(pathways.Registry([nobody, *(p for p in REGISTRY.values() if p.id != "user_contract")])).errors
             if f.kind is FindingKind.HANDOVER_GAP]
    assert "while waiting in Coming in \u2013 waiting to be received [arriving] no member of staff is responsible" in gap.message


def test_phase_must_be_at_least_1() -> None:
    text = Path("definitions/health_clinic.yaml").read_text(encoding="utf-8")
    houses = [pathways.load_house("definitions/houses/aarhus.yaml")]
    with pytest.raises(DefinitionError) as err:
        pathways.load_text(text.replace("phase: 2", "phase: 0"), "clinic.yaml", houses=houses)
    assert "phase must be at least 1, got 0" in str(err.value)
