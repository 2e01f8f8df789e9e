"""The citizen and leaving by choice: one definition on the model, used by the checker and stories."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from pathways import (
    Actor,
    DefinitionError,
    Engine,
    NotPermitted,
    Registry,
    SelfApproval,
    check,
    load_registry,
    load_text,
    validate,
)
from pathways.clock import ManualClock
from pathways.findings import Finding
from pathways.model import CITIZEN_ROLE, Subject
from pathways.stranding import FindingKind
from pathways.week import week_findings

DEFINITION = """\
id: desk
version: 1
title: {da: Skranke, en: Desk}
description: {da: d, en: d}
initial: talk
sectors:
  region: {label: {da: Region, en: Region}}
  side: {label: {da: Borgerens side, en: The citizen's side}}
roles:
  nurse: {sector: region, label: {da: Sygeplejerske, en: Nurse}}
  relative: {sector: side, label: {da: Pårørende, en: Relative}}
%(citizen)s
states:
  - {id: talk, kind: active, label: {da: t, en: t}, responsible: [nurse]}
  - {id: done, kind: terminal, outcome: completed, label: {da: d, en: d}}
  - {id: left, kind: terminal, outcome: left_by_choice, label: {da: l, en: l}, follow_up: {da: f, en: f}}
transitions:
  - {trigger: finish, source: talk, dest: done, roles: [nurse]}
  - {trigger: leave, source: '*', dest: left, roles: [%(leaver)s]}
"""


def desk(citizen: str = "  citizen: {sector: side, label: {da: Borger, en: Citizen}}", leaver: str = "citizen") -> str:
    return DEFINITION % {"citizen": citizen, "leaver": leaver}


class TestWhoIsTheCitizen:
    def test_without_a_mark_the_role_with_id_citizen_is_the_citizen(self) -> None:
        p = load_text(desk())
        assert (p.citizen_role, CITIZEN_ROLE) == ("citizen", "citizen")
        assert [r for r in p.roles if p.is_citizen(r)] == ["citizen"]

    def test_a_marked_role_is_the_citizen_whatever_its_id(self) -> None:
        p = load_text(desk("  borger: {sector: side, citizen: true, label: {da: Borger, en: Citizen}}", "borger"))
        assert p.citizen_role == "borger"
        assert not p.is_citizen("relative")
        assert check(p).ok

    def test_a_mark_wins_over_the_default_id(self) -> None:
        p = load_text(desk("  citizen: {sector: side, label: {da: B, en: C}}\n"
                           "  borger: {sector: side, citizen: true, label: {da: Borger, en: Citizen}}"))
        assert p.citizen_role == "borger"

    def test_a_pathway_without_the_role_has_no_citizen(self) -> None:
        p = load_text(desk("", "relative"))
        assert p.citizen_role is None
        assert not p.is_citizen("relative")

    def test_two_marked_roles_are_one_mistake(self) -> None:
        text = desk("  a: {sector: side, citizen: true, label: {da: A, en: A}}\n"
                    "  b: {sector: side, citizen: true, label: {da: B, en: B}}", "a")
        with pytest.raises(DefinitionError) as raised:
            load_text(text, "desk.yaml")
        assert [str(p) for p in raised.value.problems] == [
            "desk.yaml:13:21: roles.b.citizen: role 'b' is marked as the citizen, but 'a' already is (a case has one "
            "citizen: mark one role 'citizen: true'; relatives and the network are other roles)"
        ]

    def test_every_seed_definition_about_a_citizen_has_the_default_citizen_role(self) -> None:
        seeds = load_registry("definitions").values()
        assert {p.citizen_role for p in seeds if p.subject is Subject.CITIZEN} == {"citizen"}
        assert {p.citizen_role for p in seeds if p.subject is Subject.ORGANISATION} == {None}


class TestLeavingByChoice:
    def test_leaving_is_a_move_into_a_left_by_choice_terminal(self) -> None:
        p = load_text(desk())
        assert p.exits_by_choice == frozenset({"left"})
        assert [t.trigger for t in p.transitions if p.is_leaving(t)] == ["leave"]
        assert [t.trigger for t in p.transitions if p.is_free_exit(t)] == ["leave"]

    def test_a_relative_leaving_is_no_exit_for_the_citizen(self) -> None:
        p = load_text(desk(leaver="relative"))
        leave = p.transitions[-1]
        assert p.is_leaving(leave) and not p.is_free_exit(leave)
        f = check(p).of_kind(FindingKind.NO_EXIT_BY_CHOICE)[0]
        assert f.message == ("the citizen cannot choose to leave from t [talk] (the Psychiatry Act does not apply in "
                             "the houses: leaving must always be possible)")

    def test_a_guarded_exit_is_not_free(self) -> None:
        p = load_text(desk())
        leave = attrs.evolve(p.transitions[-1], takes="places")
        assert p.is_leaving(leave) and not p.is_free_exit(leave)

    def test_stories_call_the_citizen_the_citizen_and_a_relative_by_role(self) -> None:
        p = load_text(desk(leaver="citizen, relative").replace("- {trigger: finish, source: talk, dest: done, roles: [nurse]}\n",
                                                               "- {trigger: finish, source: talk, dest: talk, roles: [nurse]}\n"))
        story = check(p).errors[0].to_text()
        assert "the citizen arrives at Desk (t [talk])" in story


class TestValidate:
    def test_a_valid_pathway_or_registry_has_no_problems(self) -> None:
        p = load_text(desk())
        assert validate(p) == []
        assert validate(Registry([p])) == []

    def test_a_pathway_built_in_python_is_named_by_id_and_version(self) -> None:
        p = load_text(desk())
        broken = attrs.evolve(p, initial="nowhere")
        assert [str(problem) for problem in validate(broken)] == [
            "<pathway desk v1>: initial: unknown state 'nowhere' (known states: 'done', 'left', 'talk')"
        ]
        with pytest.raises(DefinitionError) as raised:
            check(broken)
        assert raised.value.problems == tuple(validate(broken))


MEETING = """\
  - {trigger: network_meeting, source: talk, dest: meeting, roles: [%(asker)s],
     approval: {rule: %(rule)s, roles: [%(approvers)s], on_refusal: talk, timeout: PT2H}}
  - {trigger: close, source: meeting, dest: done, roles: [nurse]}
"""


def network(asker: str = "citizen", approvers: str = "relative", rule: str = "all_of") -> str:
    """The desk, where someone asks for a network meeting (Åben Dialog) that others approve."""
    text = desk().replace("  - {id: done,", "  - {id: meeting, kind: active, label: {da: m, en: m}, responsible: [nurse]}\n  - {id: done,")
    return text + MEETING % {"asker": asker, "approvers": approvers, "rule": rule}


CITIZEN = Actor("c-1", "citizen", "side")
RELATIVE = Actor("rel-1", "relative", "side")


class TestTheNetworkBesideTheCitizen:
    """Relatives sit beside the citizen: they may approve and take part, but they are not the citizen."""

    @pytest.mark.parametrize("rule, approvers", [("all_of", "relative"), ("any_of", "citizen, relative"),
                                                 ("one_per_sector", "citizen, relative], sectors: [side")])
    def test_a_relative_approving_the_citizens_request_is_no_four_eyes_breach(self, rule: str, approvers: str) -> None:
        report = check(load_text(network(approvers=approvers, rule=rule)))
        assert report.ok and report.findings == ()

    def test_only_the_citizen_approving_their_own_request_is_a_four_eyes_breach(self) -> None:
        f = check(load_text(network(approvers="citizen"))).of_kind(FindingKind.UNSATISFIABLE_APPROVAL)[0]
        assert f.message == ("the approval of `network_meeting` can never work: four-eyes: it needs the approval of "
                             "Citizen (The citizen's side) [citizen], which only the citizen can give, and the citizen is the one who asks (nobody "
                             "approves their own request)")

    def test_a_relative_asking_may_be_approved_by_the_citizen(self) -> None:
        assert check(load_text(network(asker="relative", approvers="citizen"))).ok

    def test_the_engine_lets_a_relative_approve_the_citizens_request(self) -> None:
        engine = Engine(Registry([load_text(network())]), clock=ManualClock())
        case = engine.start("desk", "c-1")
        engine.fire(case, "network_meeting", CITIZEN)
        with pytest.raises(SelfApproval):
            engine.approve(case, CITIZEN)
        engine.approve(case, RELATIVE)
        assert engine.case(case.id).state == "meeting"

    def test_the_engine_lets_the_citizen_leave_and_not_a_relative_on_their_behalf(self) -> None:
        engine = Engine(Registry([load_text(desk())]), clock=ManualClock())
        case = engine.start("desk", "c-1")
        with pytest.raises(NotPermitted):
            engine.fire(case, "leave", RELATIVE)
        engine.fire(case, "leave", CITIZEN)
        assert engine.case(case.id).state == "left"

SHIPPED = load_registry(Path(__file__).parent.parent / "definitions")
AARHUS = SHIPPED.houses["aarhus"]


def in_aarhus(text: str) -> list[Finding]:
    """The week-aware findings of ``text`` as a pathway of the Aarhus house, open around the clock."""
    text = text.replace("sectors:\n  region: {label: {da: Region, en: Region}}\n  side: {label: {da: Borgerens side, en: The citizen's side}}\n", "")
    text = "house: aarhus\n" + text.replace("sector: side", "sector: citizen")
    registry = Registry([*SHIPPED.values(), load_text(text, houses=[AARHUS])], houses=SHIPPED.houses.values())
    return [f for f in week_findings(registry) if f.pathway == "desk"]


class TestTheWeekKnowsTheCitizensSide:
    """The citizen's side has no shifts (it is always there); only the citizen is one person."""

    def test_a_relative_can_approve_the_citizens_request_at_any_hour(self) -> None:
        assert (in_aarhus(network())) == []

    def test_the_citizen_cannot_approve_their_own_request_at_any_hour(self) -> None:
        [f] = (in_aarhus(network(approvers="citizen")))
        assert (f.kind, f.transitions) == (FindingKind.APPROVAL_OUT_OF_HOURS, ("network_meeting",))
        assert f.message.startswith("a request for `network_meeting` (all of: citizen) made all week always times out")

    def test_a_relative_can_approve_another_relatives_request(self) -> None:
        """A citizen has one network but it may hold many people: only the citizen's role is held by one."""
        assert (in_aarhus(network(asker="relative", approvers="relative"))) == []

    def test_a_leaders_approval_at_night_is_counted_in_people_on_duty(self) -> None:
        [f] = (in_aarhus(network(approvers="leader_region")))
        assert f.kind is FindingKind.APPROVAL_OUT_OF_HOURS and "from Monday 16:00 to Tuesday 07:00" in f.message


ORGANISATION_DESK = """\
id: org_desk
version: 1
house: copenhagen
subject: organisation
title: {da: Forslag, en: Proposal}
description: {da: En organisation foreslår, en: An organisation proposes}
initial: idea
states:
  - {id: idea, kind: waiting, label: {da: Idé, en: Idea}, responsible: [house_coordinator], deadline: {after: P30D, trigger: lapse}}
  - {id: proposal, kind: active, label: {da: Forslag, en: Proposal}, responsible: [house_coordinator]}
  - {id: done, kind: terminal, outcome: completed, label: {da: Afsluttet, en: Done}, follow_up: {da: Velkommen igen, en: Welcome back}}
  - {id: withdrawn, kind: terminal, outcome: left_by_choice, label: {da: Trukket, en: Withdrawn}, follow_up: {da: Velkommen igen, en: Welcome back}}
transitions:
  - {trigger: propose, source: idea, dest: proposal, roles: [organisation]}
  - {trigger: lapse, source: idea, dest: done, roles: [house_coordinator]}
  - {trigger: answer, source: proposal, dest: done, roles: [house_coordinator]}
  - {trigger: withdraw, source: "*", dest: withdrawn, roles: [organisation]}
"""


class TestTheWeekKnowsTheOrganisation:
    """An organisation a pathway is about has no shifts either: it acts whenever it wants."""

    def test_a_proposal_the_organisation_sends_at_night_waits_for_the_coordinator(self) -> None:
        registry = Registry([*SHIPPED.values(), load_text(ORGANISATION_DESK, houses=SHIPPED.houses.values())], houses=SHIPPED.houses.values())
        [f] = [f for f in week_findings(registry) if f.pathway == "org_desk"]
        assert (f.kind, f.states) == (FindingKind.UNSTAFFED, ("proposal",))
        assert f.message.startswith("Monday 16:00 the organisation's request can be in Proposal [proposal] and nobody responsible there")
