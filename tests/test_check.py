"""The stranding checker: each finding kind on a small definition that has exactly that fault."""

from __future__ import annotations

import json
from datetime import timedelta
from textwrap import indent

import attrs
import pytest

from pathways import DefinitionError, Engine, Registry, load_registry, load_text, validate
from pathways.cli import main
from pathways.errors import NoCounterexample
from pathways.model import ApprovalRule, Pathway, RuleKind, Sector
from pathways.stranding import CheckResult, Finding, FindingKind, Severity, check, replay_counterexample

HEAD = """\
id: {id}
version: 1
title: {{da: T, en: Test}}
description: {{da: d, en: d}}
initial: start
sectors:
  region: {{label: {{da: Region, en: Region}}}}
  municipal: {{label: {{da: Kommune, en: Municipality}}}}
  citizen: {{label: {{da: Borger, en: Citizen}}}}
roles:
  nurse: {{sector: region, label: {{da: S, en: Nurse}}}}
  social_worker: {{sector: municipal, label: {{da: S, en: Social worker}}}}
  leader_region: {{sector: region, label: {{da: L, en: L}}}}
  leader_municipality: {{sector: municipal, label: {{da: L, en: L}}}}
  citizen: {{sector: citizen, label: {{da: B, en: Citizen}}}}
facts:
  consent_given: {{label: {{da: S, en: Consent}}, default: {consent}}}
resources:
  places: {{capacity: 2, label: {{da: P, en: Places}}}}
{intake}states:
  - {{id: start, kind: active, label: {{da: s, en: s}}, responsible: [nurse]}}
  - {{id: done, kind: terminal, outcome: completed, label: {{da: d, en: d}}}}
  - {{id: left, kind: terminal, outcome: left_by_choice, label: {{da: l, en: l}}, follow_up: {{da: f, en: f}}}}
"""
LEAVE = "  - {trigger: leave, source: '*', dest: left, roles: [citizen]}\n"


def pathway(states: str = "", transitions: str = "", *, leave: bool = True, consent: bool = False,
            pid: str = "p", intake: str = "") -> Pathway:
    """A small pathway: start → done by a nurse, the citizen may leave, plus the given parts."""
    text = HEAD.format(id=pid, consent=str(consent).lower(), intake=intake)
    text += indent(states, "  ") + "transitions:\n"
    text += "  - {trigger: finish, source: start, dest: done, roles: [nurse]}\n" if "finish" not in transitions else ""
    text += indent(transitions, "  ") + (LEAVE if leave else "")
    return load_text(text, f"{pid}.yaml")


def with_approval(rule: ApprovalRule, extra_sector: str | None = None) -> Pathway:
    """The small pathway whose ``finish`` needs ``rule``, with an unconditional ``close`` beside it."""
    base = pathway("", "- {trigger: close, source: start, dest: done, roles: [nurse]}\n")
    finish = attrs.evolve(base.transitions[0], approval=rule)
    sectors = dict(base.sectors)
    if extra_sector:
        sectors[extra_sector] = Sector(base.title)
    return attrs.evolve(base, transitions=(finish, *base.transitions[1:]), sectors=sectors)


def only(report: CheckResult, kind: FindingKind) -> Finding:
    found = report.of_kind(kind)
    assert len(found) == 1, report.to_text()
    return found[0]


def story_ends_where_it_says(source: Pathway | Registry, finding: Finding) -> None:
    assert finding.counterexample is not None
    case = replay_counterexample(source, finding)
    assert case.state == finding.counterexample.ends_in
    assert finding.counterexample.ends_in in finding.states


class TestSound:
    def test_a_sound_pathway_has_no_findings(self) -> None:
        report = check(pathway())
        assert report.findings == ()
        assert report.ok and report.complete
        assert report.explored == {"p": 3}

    def test_a_sound_pathway_with_places_guards_approval_and_deadline_has_no_findings(self) -> None:
        p = pathway(
            "- {id: queue, kind: waiting, label: {da: q, en: q}, responsible: [nurse], deadline: {after: PT3H, trigger: give_up}}\n"
            "- {id: staying, kind: active, label: {da: s, en: s}, responsible: [nurse]}\n",
            "- {trigger: finish, source: [start, staying], dest: done, roles: [nurse], releases: places}\n"
            "- {trigger: wait, source: start, dest: queue, roles: [nurse]}\n"
            "- {trigger: admit, source: queue, dest: staying, roles: [nurse], guards: [consent_given], takes: places,"
            "   approval: {rule: one_per_sector, sectors: [region, municipal], roles: [leader_region, leader_municipality],"
            "   on_refusal: start, timeout: PT1H}}\n"
            "- {trigger: give_up, source: queue, dest: done, roles: [nurse]}\n"
            "- {trigger: close, source: start, dest: done, roles: [nurse]}\n",
        )
        report = check(p)
        assert report.findings == (), report.to_text()


class TestDeadEnd:
    def test_a_state_with_no_way_on_is_a_dead_end(self) -> None:
        p = pathway(
            "- {id: stuck, kind: active, label: {da: x, en: x}, responsible: [nurse]}\n",
            "- {trigger: park, source: start, dest: stuck, roles: [nurse]}\n",
        )
        f = only(check(p), FindingKind.DEAD_END)
        assert (f.severity, f.states, f.pathway) == (Severity.ERROR, ("stuck",), "p")
        assert f.counterexample is not None
        assert f.counterexample.story() == (
            "the citizen arrives at Test (s [start]); Nurse (Region) [nurse] fires `park` → x [stuck]; "
            "nobody can move the citizen on — stuck in x [stuck]"
        )
        story_ends_where_it_says(p, f)

    def test_leaving_by_choice_is_not_a_way_on(self) -> None:
        p = pathway(
            "- {id: stuck, kind: active, label: {da: x, en: x}, responsible: [citizen]}\n",
            "- {trigger: park, source: start, dest: stuck, roles: [nurse]}\n",
        )
        assert only(check(p), FindingKind.DEAD_END).states == ("stuck",)


class TestTrap:
    def test_a_loop_without_exit_is_a_trap(self) -> None:
        p = pathway(
            "- {id: a, kind: active, label: {da: a, en: a}, responsible: [nurse]}\n"
            "- {id: b, kind: active, label: {da: b, en: b}, responsible: [nurse]}\n",
            "- {trigger: go, source: start, dest: a, roles: [nurse]}\n"
            "- {trigger: ping, source: a, dest: b, roles: [nurse]}\n"
            "- {trigger: pong, source: b, dest: a, roles: [nurse]}\n",
        )
        report = check(p)
        f = only(report, FindingKind.TRAP)
        assert (f.states, f.transitions) == (("a", "b"), ("ping", "pong"))
        assert f.message == "the citizen can go round a [a] → b [b] for ever: no transition leads from these states to any terminal state"
        assert report.of_kind(FindingKind.DEAD_END) == ()
        story_ends_where_it_says(p, f)

    def test_a_loop_with_an_exit_is_not_a_trap(self) -> None:
        p = pathway(
            "- {id: a, kind: active, label: {da: a, en: a}, responsible: [nurse]}\n",
            "- {trigger: go, source: start, dest: a, roles: [nurse]}\n"
            "- {trigger: again, source: a, dest: start, roles: [nurse]}\n",
        )
        assert check(p).findings == ()


class TestNoOwner:
    def test_a_state_without_responsible_roles_has_no_owner(self) -> None:
        p = pathway(
            "- {id: limbo, kind: active, label: {da: x, en: x}}\n",
            "- {trigger: go, source: start, dest: limbo, roles: [nurse]}\n"
            "- {trigger: close, source: limbo, dest: done, roles: [nurse]}\n",
        )
        f = only(check(p), FindingKind.NO_OWNER)
        assert (f.states, f.message) == (("limbo",), "nobody is responsible for the citizen in x [limbo]")
        story_ends_where_it_says(p, f)

    def test_responsible_roles_that_can_fire_nothing_do_not_own_the_citizen(self) -> None:
        p = pathway(
            "- {id: limbo, kind: active, label: {da: x, en: x}, responsible: [social_worker]}\n",
            "- {trigger: go, source: start, dest: limbo, roles: [nurse]}\n"
            "- {trigger: close, source: limbo, dest: done, roles: [nurse]}\n",
        )
        f = only(check(p), FindingKind.NO_OWNER)
        assert f.message == "the roles responsible in x [limbo] (Social worker (Municipality) [social_worker]) can fire nothing there"


class TestWaitWithoutDeadline:
    def test_a_waiting_state_without_deadline_is_flagged(self) -> None:
        p = pathway(
            "- {id: queue, kind: waiting, label: {da: q, en: q}, responsible: [nurse]}\n",
            "- {trigger: wait, source: start, dest: queue, roles: [nurse]}\n"
            "- {trigger: close, source: queue, dest: done, roles: [nurse]}\n",
        )
        f = only(check(p), FindingKind.WAIT_WITHOUT_DEADLINE)
        assert f.states == ("queue",)
        story_ends_where_it_says(p, f)

    def test_an_escalation_back_into_the_same_wait_is_flagged(self) -> None:
        p = pathway(
            "- {id: queue, kind: waiting, label: {da: q, en: q}, responsible: [nurse], deadline: {after: P1D, trigger: remind}}\n",
            "- {trigger: wait, source: start, dest: queue, roles: [nurse]}\n"
            "- {trigger: remind, source: queue, dest: queue, roles: [nurse]}\n"
            "- {trigger: close, source: queue, dest: done, roles: [nurse]}\n",
        )
        f = only(check(p), FindingKind.WAIT_WITHOUT_DEADLINE)
        assert (f.states, f.transitions) == (("queue",), ("remind",))
        assert f.message == ("when the deadline of q [queue] passes, the escalation leads back into the same wait, "
                             "so the wait never ends")


class TestCheckValidatesFirst:
    """``check`` runs the loader's validation first: a pathway built in Python with an impossible
    rule is refused with every problem, in the loader's words, not half-checked."""

    def _problems(self, p: Pathway | Registry) -> list[str]:
        with pytest.raises(DefinitionError) as raised:
            check(p)
        return [str(problem) for problem in raised.value.problems]

    def test_n_of_more_roles_than_listed_is_refused(self) -> None:
        rule = ApprovalRule(RuleKind.N_OF, on_refusal="start", roles=("leader_region", "leader_municipality"), n=3,
                            timeout=timedelta(hours=1))
        assert self._problems(with_approval(rule)) == [
            "<pathway p v1>: transitions[0].approval.n: n_of needs 3 approvals from different roles but only 2 role(s) "
            "are listed, so it can never be met (lower n to at most 2 or list more roles)"
        ]

    def test_a_sector_without_roles_is_refused(self) -> None:
        rule = ApprovalRule(RuleKind.ONE_PER_SECTOR, on_refusal="start", sectors=("region", "employment"))
        assert self._problems(with_approval(rule, extra_sector="employment")) == [
            "<pathway p v1>: transitions[0].approval.sectors[1]: no role in sector 'employment' can approve "
            "(add a role of sector 'employment' to the approval's roles)"
        ]

    def test_a_missing_approver_role_is_refused(self) -> None:
        rule = ApprovalRule(RuleKind.ALL_OF, on_refusal="start", roles=("leader_region", "chief"))
        assert self._problems(with_approval(rule)) == [
            "<pathway p v1>: transitions[0].approval.roles[1]: unknown role 'chief' (known roles: 'citizen', "
            "'leader_municipality', 'leader_region', 'nurse', 'social_worker')"
        ]

    def test_the_problems_are_those_validate_returns(self) -> None:
        rule = ApprovalRule(RuleKind.ALL_OF, on_refusal="nowhere", roles=("chief",))
        p = with_approval(rule)
        assert self._problems(p) == [str(problem) for problem in validate(p)]
        assert len(validate(p)) == 2

    def test_a_registry_is_validated_between_pathways_too(self) -> None:
        p = pathway(
            "- {id: sent, kind: waiting, label: {da: s, en: s}, responsible: [nurse], deadline: {after: P1D, trigger: chase}}\n"
            "- {id: gone, kind: terminal, outcome: handed_over, label: {da: g, en: g}}\n",
            "- {trigger: refer, source: start, dest: sent, roles: [nurse], handover: {to: nobody, accepted: gone, declined: start}}\n"
            "- {trigger: chase, source: sent, dest: start, roles: [nurse]}\n",
        )
        assert check(p).ok  # alone, a pathway cannot know its receivers
        assert self._problems(Registry([p])) == [
            "<pathway p v1>: transitions[1].handover.to: hand-over to unknown pathway 'nobody' (known pathways: 'p')"
        ]


class TestUnsatisfiableApproval:
    def test_a_refusal_into_a_dead_end_leads_nowhere(self) -> None:
        p = pathway(
            "- {id: refused, kind: active, label: {da: r, en: r}, responsible: [nurse]}\n",
            "- {trigger: finish, source: start, dest: done, roles: [nurse],"
            "   approval: {rule: all_of, roles: [leader_region], on_refusal: refused}}\n",
        )
        f = only(check(p), FindingKind.UNSATISFIABLE_APPROVAL)
        assert f.message.endswith("a refusal leads to r [refused], from which nobody can move the citizen on")

    def test_four_eyes_with_the_citizen_as_the_only_possible_approver_can_never_be_met(self) -> None:
        p = pathway(
            "",
            "- {trigger: self_admit, source: start, dest: done, roles: [citizen],"
            "   approval: {rule: all_of, roles: [citizen, leader_region], on_refusal: start, timeout: PT1H}}\n",
        )
        f = only(check(p), FindingKind.UNSATISFIABLE_APPROVAL)
        assert f.message == (
            "the approval of `self_admit` can never work: four-eyes: it needs the approval of Citizen [citizen], "
            "which only the citizen can give, and the citizen is the one who asks (nobody approves their own request)"
        )

    def test_four_eyes_between_two_staff_roles_is_fine(self) -> None:
        p = pathway(
            "",
            "- {trigger: self_admit, source: start, dest: done, roles: [citizen],"
            "   approval: {rule: all_of, roles: [nurse, leader_region], on_refusal: start, timeout: PT1H}}\n",
        )
        assert check(p).of_kind(FindingKind.UNSATISFIABLE_APPROVAL) == ()


class TestGuardGap:
    def test_consent_withdrawn_leaves_no_enabled_way_on(self) -> None:
        p = pathway("", "- {trigger: finish, source: start, dest: done, roles: [nurse], guards: [consent_given]}\n",
                    consent=True)
        f = only(check(p), FindingKind.GUARD_GAP)
        assert (f.states, f.transitions) == (("start",), ("finish",))
        assert f.message == "in s [start] every way on is guarded, and with consent_given=false none is enabled"
        assert f.counterexample is not None
        assert [s.kind for s in f.counterexample.steps] == ["set_fact"]
        assert f.counterexample.story() == (
            "the citizen arrives at Test (s [start]); `consent_given` becomes false; "
            "no guard holds; nobody can act — stuck in s [start]"
        )
        story_ends_where_it_says(p, f)

    def test_both_cases_covered_is_not_a_gap(self) -> None:
        p = pathway(
            "",
            "- {trigger: finish, source: start, dest: done, roles: [nurse], guards: [consent_given]}\n"
            "- {trigger: close, source: start, dest: done, roles: [nurse], guards: [not consent_given]}\n",
        )
        assert check(p).findings == ()


class TestCapacityStarvation:
    STATES = "- {id: staying, kind: active, label: {da: s, en: s}, responsible: [nurse]}\n"
    ADMIT = "- {trigger: admit, source: start, dest: staying, roles: [nurse], takes: places}\n"
    FINISH = "- {trigger: finish, source: staying, dest: done, roles: [nurse], releases: places}\n"

    def test_all_places_taken_with_no_alternative_strands_the_citizen(self) -> None:
        p = pathway(self.STATES, self.ADMIT + self.FINISH)
        f = only(check(p), FindingKind.CAPACITY_STARVATION)
        assert (f.states, f.transitions) == (("start",), ("admit",))
        assert f.counterexample is not None
        assert f.counterexample.story() == (
            "the citizen arrives at Test (s [start]); all 2 places of Places [places] are taken by others; "
            "all places are taken; nobody can act — stuck in s [start]"
        )
        story_ends_where_it_says(p, f)

    def test_a_counterexample_replays_with_the_places_really_taken(self) -> None:
        p = pathway(self.STATES, self.ADMIT + self.FINISH)
        f = only(check(p), FindingKind.CAPACITY_STARVATION)
        assert f.counterexample is not None
        case = f.counterexample.replay(p)
        engine = Engine(Registry([p]))
        assert case.state == "start" and engine.registry["p"].resources["places"].capacity == 2

    def test_an_alternative_without_a_place_is_not_starvation(self) -> None:
        p = pathway(self.STATES, self.ADMIT + self.FINISH + "- {trigger: home, source: start, dest: done, roles: [nurse]}\n")
        assert check(p).findings == ()


RECEIVER = """\
id: r
version: 1
title: {da: R, en: Receiver}
description: {da: d, en: d}
initial: intake
sectors: {municipal: {label: {da: K, en: M}}, citizen: {label: {da: B, en: C}}}
roles:
  social_worker: {sector: municipal, label: {da: S, en: S}}
  citizen: {sector: citizen, label: {da: B, en: C}}
states:
  - {id: intake, kind: waiting, label: {da: i, en: i}, responsible: [social_worker], deadline: {after: P1D, trigger: decline}}
  - {id: done, kind: terminal, outcome: completed, label: {da: d, en: d}}
  - {id: left, kind: terminal, outcome: left_by_choice, label: {da: l, en: l}, follow_up: {da: f, en: f}}
transitions:
  - {trigger: accept, source: intake, dest: done, roles: [social_worker]}
  - {trigger: decline, source: intake, dest: done, roles: [social_worker]}
  - {trigger: leave, source: '*', dest: left, roles: [citizen]}
intake: {state: intake, accept: accept, decline: decline}
"""


class TestHandoverGap:
    def test_the_sending_side_letting_go_before_the_answer_is_a_gap(self) -> None:
        p = pathway(
            "- {id: sent, kind: waiting, label: {da: s, en: s}, responsible: [social_worker], deadline: {after: P1D, trigger: chase}}\n"
            "- {id: gone, kind: terminal, outcome: handed_over, label: {da: g, en: g}}\n",
            "- {trigger: refer, source: start, dest: sent, roles: [nurse], handover: {to: r, accepted: gone, declined: start}}\n"
            "- {trigger: chase, source: sent, dest: start, roles: [social_worker]}\n",
        )
        registry = Registry([p, load_text(RECEIVER, "r.yaml")])
        f = only(check(registry), FindingKind.HANDOVER_GAP)
        assert (f.states, f.transitions) == (("start", "sent"), ("refer",))
        assert f.message == ("the hand-over `refer` to 'r' has a gap: while waiting in s [sent] no role of the sending "
                             "sector (Region [region]) is responsible")
        story_ends_where_it_says(registry, f)

    def test_a_declined_hand_over_recorded_as_handed_over_is_a_gap(self) -> None:
        p = pathway(
            "- {id: sent, kind: waiting, label: {da: s, en: s}, responsible: [nurse], deadline: {after: P1D, trigger: chase}}\n"
            "- {id: gone, kind: terminal, outcome: handed_over, label: {da: g, en: g}}\n",
            "- {trigger: refer, source: start, dest: sent, roles: [nurse], handover: {to: r, accepted: gone, declined: gone}}\n"
            "- {trigger: chase, source: sent, dest: start, roles: [nurse]}\n",
        )
        f = only(check(Registry([p, load_text(RECEIVER, "r.yaml")])), FindingKind.HANDOVER_GAP)
        assert "a declined hand-over ends in g [gone], recorded as handed over although nobody took the citizen" in f.message

    def test_a_sound_hand_over_is_not_flagged(self) -> None:
        p = pathway(
            "- {id: sent, kind: waiting, label: {da: s, en: s}, responsible: [nurse], deadline: {after: P1D, trigger: chase}}\n"
            "- {id: gone, kind: terminal, outcome: handed_over, label: {da: g, en: g}}\n",
            "- {trigger: refer, source: start, dest: sent, roles: [nurse], handover: {to: r, accepted: gone, declined: start}}\n"
            "- {trigger: chase, source: sent, dest: start, roles: [nurse]}\n",
        )
        report = check(Registry([p, load_text(RECEIVER, "r.yaml")]))
        assert report.findings == (), report.to_text()


class TestNoExitByChoice:
    def test_a_pathway_without_leaving_keeps_the_citizen(self) -> None:
        p = pathway("", "", leave=False)
        f = only(check(p), FindingKind.NO_EXIT_BY_CHOICE)
        assert f.states == ("start",)
        assert f.message.startswith("the citizen cannot choose to leave from s [start]")
        story_ends_where_it_says(p, f)

    def test_leaving_without_a_follow_up_offer_is_flagged(self) -> None:
        p = pathway(
            "- {id: gone, kind: terminal, outcome: left_by_choice, label: {da: g, en: g}}\n",
            "- {trigger: walk_out, source: '*', dest: gone, roles: [citizen]}\n", leave=False,
        )
        f = only(check(p), FindingKind.NO_EXIT_BY_CHOICE)
        assert f.message == "leaving from s [start] ends without a follow-up offer"

    def test_leaving_that_needs_consent_is_no_free_choice(self) -> None:
        p = pathway("", "- {trigger: walk_out, source: '*', dest: left, roles: [citizen], guards: [consent_given]}\n",
                    leave=False)
        assert only(check(p), FindingKind.NO_EXIT_BY_CHOICE).states == ("start",)


class TestWarnings:
    def test_a_state_nothing_leads_to_is_unreachable(self) -> None:
        p = pathway(
            "- {id: orphan, kind: active, label: {da: o, en: o}, responsible: [nurse]}\n",
            "- {trigger: adopt, source: orphan, dest: done, roles: [nurse]}\n",
        )
        report = check(p)
        f = only(report, FindingKind.UNREACHABLE_STATE)
        assert (f.severity, f.states, f.counterexample) == (Severity.WARNING, ("orphan",), None)
        assert report.ok
        with pytest.raises(NoCounterexample, match=r"^the unreachable_state finding in 'p' \(orphan\) has no counterexample"):
            replay_counterexample(p, f)

    def test_a_transition_that_releases_a_place_never_taken_never_fires(self) -> None:
        p = pathway("", "- {trigger: refund, source: start, dest: done, roles: [nurse], releases: places}\n")
        report = check(p)
        f = only(report, FindingKind.DEAD_TRANSITION)
        assert (f.severity, f.transitions, f.states) == (Severity.WARNING, ("refund",), ("start",))
        assert report.ok


class TestBound:
    def test_reaching_the_bound_is_an_error_not_silence(self) -> None:
        p = pathway("", "- {trigger: finish, source: start, dest: done, roles: [nurse], guards: [consent_given]}\n"
                        "- {trigger: close, source: start, dest: done, roles: [nurse], guards: [not consent_given]}\n")
        report = check(p, bound=2)
        f = only(report, FindingKind.BOUND_REACHED)
        assert (report.ok, report.complete, f.severity) == (False, False, Severity.ERROR)
        assert report.of_kind(FindingKind.DEAD_TRANSITION) == ()
        assert "(incomplete: bound 2 reached)" in report.to_text()


class TestReportAndCli:
    def test_the_report_is_json(self) -> None:
        p = pathway("", "", leave=False)
        data = json.loads(json.dumps(check(p).to_json()))
        assert data["ok"] is False and data["errors"] == 1
        assert data["findings"][0]["kind"] == "no_exit_by_choice"
        assert data["findings"][0]["counterexample"]["story"].startswith("the citizen arrives at Test")

    def test_cli_exits_1_on_errors_and_prints_json(self, tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
        from pathlib import Path

        folder = Path(str(tmp_path))
        text = HEAD.format(id="p", consent="false", intake="") + "transitions:\n  - {trigger: finish, source: start, dest: done, roles: [nurse]}\n"
        (folder / "p.yaml").write_text(text)
        assert main(["check", str(folder), "--format", "json"]) == 1
        assert json.loads(capsys.readouterr().out)["findings"][0]["kind"] == "no_exit_by_choice"
        (folder / "p.yaml").write_text(text + LEAVE)
        assert main(["check", str(folder)]) == 0
        assert capsys.readouterr().out.startswith("OK: 0 error(s), 0 warning(s) in 1 pathway(s)")

    def test_a_run_that_begins_with_a_hand_over_is_told_from_the_sender(self) -> None:
        registry = load_registry("tests/fixtures/mini")
        f = next(f for f in check(registry).findings if f.pathway == "amb" and f.states == ("intake",))
        assert f.counterexample is not None and f.counterexample.lead_in is not None
        assert f.counterexample.story() == (
            "the citizen arrives at Stay (a [arrived]); `consent_given` becomes true; Nurse (Region) [nurse] asks for "
            "approval of `admit`; Nurse (Region) [nurse] (nurse-2) approves `admit`; L (Social) [leader_social] "
            "(leader_social-3) approves `admit` → b [staying]; Nurse (Region) [nurse] fires `refer` → b [referred]; "
            "Amb receives the hand-over in a [intake]; nobody answers and no deadline passes — stuck in a [intake]"
        )
        case = f.counterexample.replay(registry)
        assert (case.pathway_id, case.state, case.referred_by is not None) == ("amb", "intake", True)

    def test_the_mini_fixture_shows_its_stranding(self) -> None:
        registry = load_registry("tests/fixtures/mini")
        report = check(registry)
        assert not report.ok
        for f in report.findings:
            if f.counterexample is not None:
                story_ends_where_it_says(registry, f)


class TestGraph:
    def test_edges_include_refusals_and_hand_over_answers_and_progress_drops_leaving(self) -> None:
        from pathways.graph import pathway_graph

        registry = load_registry("tests/fixtures/mini")
        g = pathway_graph(registry["stay"])
        assert set(g.successors("arrived")) == {"staying", "done", "left"}  # admit, its refusal, escalate, leave
        assert set(g.successors("referred")) == {"referred", "gone", "staying", "left"}  # chase, answers, leave
        progress = pathway_graph(registry["stay"], progress=True)
        assert "left" not in set(progress.predecessors("left"))
        assert progress.in_degree("left") == 0

    def test_the_registry_graph_links_a_hand_over_to_the_receivers_intake(self) -> None:
        from pathways.graph import registry_graph

        g = registry_graph(load_registry("tests/fixtures/mini"))
        assert g.has_edge(("stay", "referred"), ("amb", "intake"))
        assert g.number_of_nodes() == 6 + 4

    def test_traps_are_sink_components_that_loop(self) -> None:
        import networkx as nx

        from pathways.graph import co_reachable, reachable, traps

        g = nx.DiGraph([("s", "a"), ("a", "b"), ("b", "a"), ("s", "end"), ("s", "x"), ("x", "x"), ("s", "dead")])
        stuck = reachable(g, "s") - co_reachable(g, ["end"])
        assert stuck == {"a", "b", "x", "dead"}
        assert traps(g, stuck) == [["a", "b"], ["x"]]
