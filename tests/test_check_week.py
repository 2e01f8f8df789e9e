"""pathways.check runs the week-aware proof for the pathways of a house, and only for them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pathways import load_registry
from pathways.cli import main
from pathways.findings import FindingKind, Severity
from pathways.journey import from_counterexample
from pathways.registry import Registry
from pathways.stranding import check

HOUSE = """\
house: mini
title: {da: Mini-huset, en: The mini house}
time_zone: Europe/Copenhagen
sectors:
  municipal: {label: {da: Kommunen, en: Municipality}}
  borger: {label: {da: Borger, en: Citizen}}
roles:
  duty_worker: {sector: municipal, label: {da: Socialvagten, en: Duty worker}}
  outreach_worker: {sector: municipal, label: {da: Udrykningsteamet, en: Outreach worker}}
  citizen: {sector: borger, label: {da: Borger, en: Citizen}}
services:
  socialvagten:
    label: {da: Socialvagten, en: Socialvagten}
    pathways: [walk_in]
    open: [{days: every_day, hours: "16:00-24:00"}]
    without_referral: true
  udrykningsteamet:
    label: {da: Udrykningsteamet, en: The outreach team}
    open: [{days: every_day, hours: "16:00-08:00"}]
    without_referral: true
  overnatning:
    label: {da: Overnatningspladserne, en: The overnight places}
    without_referral: true
staffing:
  duty_worker:
    - {days: every_day, hours: "16:00-24:00", people: 2}
  outreach_worker:
    - {days: every_day, hours: "16:00-08:00", people: 2}
"""

WALK_IN = """\
id: walk_in
version: 1
house: mini
title: {da: Socialvagten, en: Socialvagten}
description: {da: Uvisiteret rådgivning, en: Walk-in advice}
initial: in_conversation
states:
  - {id: in_conversation, kind: active, label: {da: Samtale, en: Conversation}, responsible: [duty_worker]}
  - {id: done, kind: terminal, outcome: completed, label: {da: Afsluttet, en: Done}}
  - {id: left, kind: terminal, outcome: left_by_choice, label: {da: Gået, en: Left}, follow_up: {da: Ring, en: Call us}}
transitions:
  - {trigger: finish, source: in_conversation, dest: done, roles: [duty_worker]}
  - {trigger: leave, source: "*", dest: left, roles: [citizen]}
"""


def _folder(tmp_path: Path, walk_in: str = WALK_IN) -> Path:
    (tmp_path / "houses").mkdir()
    (tmp_path / "houses" / "mini.yaml").write_text(HOUSE, encoding="utf-8")
    (tmp_path / "walk_in.yaml").write_text(walk_in, encoding="utf-8")
    return tmp_path


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return load_registry(_folder(tmp_path))


class TestWiring:
    def test_a_house_s_pathways_are_checked_over_the_week(self, registry: Registry) -> None:
        report = check(registry)
        assert report.week == ("mini",)
        [f] = report.findings
        assert (f.kind, f.severity, f.pathway, f.states) == (FindingKind.UNSTAFFED, Severity.ERROR, "walk_in", ("in_conversation",))
        assert f.message == (
            "Monday 00:00 the citizen can be in Conversation [in_conversation] and nobody responsible there "
            "(Duty worker (Municipality) [duty_worker]) is on duty until Monday 16:00; unstaffed: from Monday 00:00 to Monday 16:00, from Tuesday 00:00 to Tuesday 16:00, "
            "from Wednesday 00:00 to Wednesday 16:00, from Thursday 00:00 to Thursday 16:00, from Friday 00:00 to "
            "Friday 16:00, from Saturday 00:00 to Saturday 16:00, from Sunday 00:00 to Sunday 16:00"
        )

    def test_week_false_checks_roles_only(self, registry: Registry) -> None:
        report = check(registry, week=False)
        assert (report.findings, report.week, report.ok) == ((), (), True)

    def test_a_lone_pathway_of_a_house_is_checked_time_free(self, registry: Registry) -> None:
        report = check(registry["walk_in"])
        assert (report.findings, report.week) == ((), ())

    def test_a_registry_without_houses_is_checked_time_free(self, registry: Registry) -> None:
        assert check(Registry([registry["walk_in"]])).week == ()

    def test_the_text_and_json_say_the_week_was_checked(self, registry: Registry) -> None:
        report = check(registry)
        assert report.to_text().endswith(
            "STRANDING: 1 error(s), 0 warning(s) in 1 pathway(s); 3 configurations explored; the week checked for mini"
        )
        data = report.to_json()
        assert (data["week"], data["ok"], data["findings"][0]["kind"]) == (["mini"], False, "unstaffed")
        assert check(registry, week=False).to_json()["week"] == []

    def test_the_counterexample_names_the_time_and_replays_on_the_engine(self, registry: Registry) -> None:
        [f] = check(registry).findings
        cx = f.counterexample
        assert cx is not None and cx.started_at is not None
        assert cx.story() == (
            "the citizen arrives at Socialvagten (Conversation [in_conversation]) on Sunday 23:40; Monday 00:00 the "
            "citizen is still in Conversation [in_conversation]; nobody responsible (Duty worker (Municipality) "
            "[duty_worker]) is on duty — stuck in Conversation [in_conversation]"
        )
        case = cx.replay(registry)
        assert case.state == "in_conversation"
        end = cx.steps[-1].when
        assert end is not None and registry.houses["mini"].on_duty("duty_worker", end) == 0

    def test_the_fix_a_deadline_that_hands_the_night_to_the_outreach_team_passes(self, tmp_path: Path) -> None:
        fixed = WALK_IN.replace(
            "responsible: [duty_worker]}",
            "responsible: [duty_worker, outreach_worker]}",
        ).replace(
            "  - {trigger: finish, source: in_conversation, dest: done, roles: [duty_worker]}\n",
            "  - {trigger: finish, source: in_conversation, dest: done, roles: [duty_worker, outreach_worker]}\n",
        )
        fixed = fixed.replace(
            "responsible: [duty_worker, outreach_worker]}",
            "responsible: [duty_worker, outreach_worker],\n     deadline: {after: PT8H, trigger: night_over}}",
        ) + "  - {trigger: night_over, source: in_conversation, dest: done, roles: [outreach_worker]}\n"
        assert check(load_registry(_folder(tmp_path, fixed))).findings == ()

    def test_a_deadline_that_passes_after_closing_is_no_fix(self, tmp_path: Path) -> None:
        """23:40 + PT1H is 00:40: the citizen is still there when Socialvagten has gone home."""
        short = WALK_IN.replace(
            "responsible: [duty_worker]}",
            "responsible: [duty_worker],\n     deadline: {after: PT1H, trigger: time_up}}",
        ) + "  - {trigger: time_up, source: in_conversation, dest: done, roles: [duty_worker]}\n"
        [f] = check(load_registry(_folder(tmp_path, short))).findings
        assert f.kind is FindingKind.UNSTAFFED
        assert "unstaffed: from Monday 00:00 to Monday 01:00, from Tuesday 00:00 to Tuesday 01:00," in f.message
        assert f.counterexample is not None and f.counterexample.story().startswith(
            "the citizen arrives at Socialvagten (Conversation [in_conversation]) on Sunday 23:40; Monday 00:00 the "
            "citizen is still in Conversation [in_conversation]"
        )
        assert f.counterexample.replay(load_registry(tmp_path)).state == "in_conversation"

    def test_a_week_finding_is_not_saved_as_a_journey(self, registry: Registry) -> None:
        """A journey's engine knows roles, not who is on duty: it would pass before the fix."""
        [f] = check(registry).findings
        assert from_counterexample(f, registry) is None


class TestCommandLine:
    def test_check_fails_on_a_week_finding_and_no_week_skips_it(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        folder = str(_folder(tmp_path))
        assert main(["check", folder, "--format", "json"]) == 1
        out = json.loads(capsys.readouterr().out)
        assert ([f["kind"] for f in out["findings"]], out["week"]) == (["unstaffed"], ["mini"])
        assert main(["check", folder, "--no-week"]) == 0
        assert capsys.readouterr().out.rstrip().endswith("OK: 0 error(s), 0 warning(s) in 1 pathway(s); 3 configurations explored")


class TestKinds:
    def test_the_week_kinds_are_errors_found_by_the_week_aware_proof(self) -> None:
        week = {k for k in FindingKind if k.week}
        assert week == {
            FindingKind.UNSTAFFED, FindingKind.APPROVAL_OUT_OF_HOURS, FindingKind.HANDOVER_UNANSWERED, FindingKind.NO_SAFETY_NET,
        }
        assert {k.severity for k in week} == {Severity.ERROR}

    def test_only_dead_design_is_a_warning(self) -> None:
        assert {k for k in FindingKind if k.severity is Severity.WARNING} == {FindingKind.UNREACHABLE_STATE, FindingKind.DEAD_TRANSITION}
