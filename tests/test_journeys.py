"""Journeys: designers' YAML tests, run on the real engine, reported per step in Danish or English."""

from __future__ import annotations

from pathlib import Path

import pytest

from pathways import load_registry
from pathways.cli import main
from pathways.errors import JourneyError
from pathways.i18n import use_language
from pathways.journey import load_journey, load_journey_text, run_journey

ROOT = Path(__file__).resolve().parent.parent
JOURNEYS = sorted((ROOT / "definitions" / "journeys").glob("*.yaml"))

WRONG = """\
name: a wrong expectation
pathway: walk_in
definitions: {definitions}
steps:
  - by: social_duty_worker
    do: start_conversation
    expect: {{state: advice_given}}
  - by: social_duty_worker
    do: give_advice
"""


@pytest.fixture(scope="module")
def registry():
    return load_registry(ROOT / "definitions")


class TestShippedJourneys:
    def test_there_is_a_journey_for_every_seed_pathway(self) -> None:
        started = {load_journey(f).pathway for f in JOURNEYS}
        assert started == {p.stem for p in (ROOT / "definitions").glob("*.yaml")}

    @pytest.mark.parametrize("path", JOURNEYS, ids=lambda p: p.stem)
    def test_every_shipped_journey_passes(self, path: Path, registry) -> None:
        result = run_journey(load_journey(path), registry)
        assert result.ok, result.to_text()

    def test_pathways_test_runs_the_folder_and_exits_0(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["test", str(ROOT / "definitions" / "journeys"), "--lang", "en"]) == 0
        assert capsys.readouterr().out.endswith(f"{len(JOURNEYS)} of {len(JOURNEYS)} journeys passed\n")


class TestAFailingJourney:
    def _file(self, tmp_path: Path) -> Path:
        path = tmp_path / "wrong.yaml"
        path.write_text(WRONG.format(definitions=ROOT / "definitions"), encoding="utf-8")
        return path

    def test_prints_expected_and_happened_in_danish_and_exits_1(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = self._file(tmp_path)
        assert main(["test", str(path), "--lang", "da"]) == 1
        assert capsys.readouterr().out == (
            f"FEJLET: a wrong expectation ({path})\n"
            "  ✗ 1. Medarbejder i Socialvagten (Kommunens socialforvaltning) [social_duty_worker] udfører 'start_conversation'\n"
            "       forventet: i Rådgivning givet [advice_given]\n"
            "       skete:     i Rådgivningssamtale med Socialvagten [in_conversation]\n"
            "  1 trin mere blev ikke kørt efter fejlen\n"
            "0 af 1 forløbstest bestået\n"
        )

    def test_prints_the_same_in_english(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = self._file(tmp_path)
        assert main(["test", str(path), "--lang", "en"]) == 1
        out = capsys.readouterr().out
        assert "       expected: in Advice given [advice_given]\n" in out
        assert "       happened: in Advice conversation with Socialvagten [in_conversation]\n" in out

    def test_json_output_says_which_step_failed(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        import json

        assert main(["test", str(self._file(tmp_path)), "--format", "json", "--lang", "en"]) == 1
        data = json.loads(capsys.readouterr().out)
        [journey] = data["journeys"]
        assert (journey["ok"], journey["not_run"], [s["ok"] for s in journey["steps"]]) == (False, 1, [False])


class TestRefusalsAndExpectations:
    def test_a_refusal_is_expected_by_its_reason_code(self, registry) -> None:
        journey = load_journey_text(
            "pathway: walk_in\nsteps:\n  - {by: citizen, do: start_conversation, expect: {refused: role}}\n"
        )
        with use_language("da"):
            result = run_journey(journey, registry)
        assert result.ok
        assert result.steps[0].happened == ("afvist (role: denne rolle må ikke gøre det)",)

    def test_an_unexpected_refusal_fails_the_step_with_the_engines_reasons_in_danish_and_english(self, registry) -> None:
        journey = load_journey_text("pathway: walk_in\nsteps:\n  - {by: citizen, do: start_conversation}\n")
        danish, english = run_journey(journey, registry, lang="da"), run_journey(journey, registry, lang="en")
        assert not danish.ok and not english.ok
        assert danish.to_text() == (
            "FEJLET: <string> (<string>)\n"
            "  ✗ 1. Borger (Borgeren og netværket) [citizen] udfører 'start_conversation'\n"
            "       skete:     afvist (role: denne rolle må ikke gøre det) — rollen 'citizen' må ikke udføre "
            "'start_conversation' (tilladt: social_duty_worker, peer_worker)"
        )
        assert english.to_text() == (
            "FAILED: <string> (<string>)\n"
            "  ✗ 1. Citizen (The citizen and their network) [citizen] does 'start_conversation'\n"
            "       happened: refused (role: this role may not do it) — role 'citizen' may not fire "
            "'start_conversation' (allowed: social_duty_worker, peer_worker)"
        )

    def test_the_language_of_the_run_is_kept_for_the_text(self, registry) -> None:
        journey = load_journey_text("pathway: walk_in\nsteps:\n  - {by: citizen, do: start_conversation}\n")
        with use_language("da"):
            result = run_journey(journey, registry)
        with use_language("en"):
            assert result.lang == "da" and result.to_text().startswith("FEJLET: ")

    def test_who_may_set_a_fact_and_the_citizens_own_case_are_expected_by_their_codes(self, registry) -> None:
        journey = load_journey_text(
            "pathway: walk_in\nsteps:\n"
            "  - {by: social_duty_worker, set: {consent_to_consult_region: true}, expect: {refused: reason_required}}\n"
            "  - {by: citizen, person: someone-else, set: {consent_to_consult_region: true}, expect: {refused: not_own_case}}\n"
            "  - {by: social_duty_worker, set: {consent_to_consult_region: true}, reason: said yes on the phone}\n"
            "  - {by: citizen, set: {consent_to_consult_region: false}}\n"
        )
        with use_language("da"):
            result = run_journey(journey, registry)
        assert result.ok, result.steps
        assert [s.happened for s in result.steps[:2]] == [
            ("afvist (reason_required: personale, der noterer borgerens ord, giver en begrundelse)",),
            ("afvist (not_own_case: en borger handler kun i sin egen sag)",),
        ]

    def test_time_passes_and_a_deadline_fires(self, registry) -> None:
        journey = load_journey_text(
            "pathway: walk_in\nfacts: {consent_to_consult_region: true}\nsteps:\n"
            "  - {by: social_duty_worker, do: start_conversation}\n"
            "  - {by: social_duty_worker, do: consult_region, expect: {state: awaiting_regional_advice}}\n"
            "  - {wait: PT1H, expect: {fired: no_regional_advice, state: in_conversation}}\n"
        )
        assert run_journey(journey, registry).ok


class TestJourneyFileErrors:
    def test_every_mistake_is_reported_with_line_and_hint(self) -> None:
        with pytest.raises(JourneyError) as caught:
            load_journey_text("pathway: walk_in\nstep: []\n", "j.yaml")
        assert [str(p) for p in caught.value.problems] == [
            "j.yaml:1:1: steps: required field 'steps' is missing (add 'steps:')",
            "j.yaml:2:1: step: unknown field 'step' (did you mean 'steps'?)",
        ]

    def test_the_file_is_the_source_so_a_source_field_is_one_more_mistake(self) -> None:
        with pytest.raises(JourneyError) as caught:
            load_journey_text("pathway: walk_in\nsource: x.yaml\nsteps: []\n", "j.yaml")
        assert [str(p) for p in caught.value.problems] == [
            "j.yaml:2:1: source: unknown field 'source' (remove it)",
            "j.yaml:3:1: steps: a journey needs at least one step (add a step such as '- {by: nurse, do: admit}')",
        ]

    def test_a_step_does_one_thing(self) -> None:
        with pytest.raises(JourneyError) as caught:
            load_journey_text("pathway: walk_in\nsteps:\n  - {by: nurse, do: admit, wait: PT1H}\n", "j.yaml")
        assert [str(p) for p in caught.value.problems] == [
            "j.yaml:3:5: steps[0]: a step does one thing, this one do, wait (split it into one step per action)",
        ]

    def test_unknown_names_are_reported_before_running(self, registry) -> None:
        journey = load_journey_text("pathway: walk_in\nsteps:\n  - {by: nurze, do: start_conversation}\n", "j.yaml")
        result = run_journey(journey, registry)
        assert not result.ok
        assert [str(p) for p in result.problems] == ["j.yaml:3:6: steps[0].by: pathway 'walk_in' has no role 'nurze' (did you mean 'nurse'?)"]


def test_the_example_in_docs_journeys_runs_as_shown(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    text = (ROOT / "docs" / "journeys.md").read_text(encoding="utf-8")
    example = re.search(r"<!-- file: (?P<file>\S+) -->\n```yaml\n(?P<body>.*?)^```$", text, re.S | re.M)
    shown = re.search(r"```text\n(?P<body>.*?)^```$", text, re.S | re.M)
    assert example and shown
    (tmp_path / "journeys").mkdir()
    (tmp_path / example["file"]).write_text(example["body"], encoding="utf-8")
    (tmp_path / "definitions").symlink_to(ROOT / "definitions")
    monkeypatch.chdir(tmp_path)
    assert main(["test", example["file"], "--lang", "da"]) == 0
    assert capsys.readouterr().out == shown["body"]


def test_the_failing_step_in_docs_journeys_is_shown_as_it_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The Danish failing step in docs/journeys.md: the example with 'state: staying' where every place is taken."""
    import re

    text = (ROOT / "docs" / "journeys.md").read_text(encoding="utf-8")
    example = re.search(r"<!-- file: (?P<file>\S+) -->\n```yaml\n(?P<body>.*?)^```$", text, re.S | re.M)
    shown = re.search(r"```console\n\$ pathways test (?P<file>\S+\.yaml) --lang da\n(?P<body>.*?)^```$", text, re.S | re.M)
    assert example and shown and shown["file"] == example["file"]
    wrong = example["body"].replace("{by: nurse, do: admit, expect: {refused: capacity}}", "{by: nurse, do: admit, expect: {state: staying}}")
    assert wrong != example["body"]
    (tmp_path / "journeys").mkdir()
    (tmp_path / example["file"]).write_text(wrong, encoding="utf-8")
    (tmp_path / "definitions").symlink_to(ROOT / "definitions")
    monkeypatch.chdir(tmp_path)
    assert main(["test", example["file"], "--lang", "da"]) == 1
    assert capsys.readouterr().out == shown["body"]


class TestSavedCounterexamples:
    def test_check_saves_each_counterexample_as_a_journey_that_fails_until_fixed(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        folder = tmp_path / "saved"
        assert main(["check", str(ROOT / "tests" / "fixtures" / "mini"), "--save-journeys", str(folder), "--lang", "en"]) == 1
        names = sorted(p.name for p in folder.glob("*.yaml"))
        assert names == ["01-amb-wait_without_deadline.yaml", "02-amb-no_exit_by_choice.yaml", "03-stay-wait_without_deadline.yaml", "04-stay-dead_end.yaml"]
        capsys.readouterr()
        assert main(["test", str(folder / "04-stay-dead_end.yaml"), "--lang", "en"]) == 1
        out = capsys.readouterr().out
        assert "       expected: not stuck\n       happened: stuck\n" in out
        first = (folder / "02-amb-no_exit_by_choice.yaml").read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema=") and first.endswith("journey.schema.json")

    def test_a_fixed_pathway_makes_the_saved_journey_pass(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        definitions = tmp_path / "definitions"
        definitions.mkdir()
        for f in (ROOT / "tests" / "fixtures" / "mini").glob("*.yaml"):
            (definitions / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
        folder = definitions / "journeys"
        main(["check", str(definitions), "--save-journeys", str(folder), "--lang", "en"])
        saved = folder / "02-amb-no_exit_by_choice.yaml"
        assert main(["test", str(saved)]) == 1
        amb = definitions / "amb.yaml"
        text = amb.read_text(encoding="utf-8")
        assert "transitions:\n" in text
        capsys.readouterr()
        fixed = (
            text.replace("roles:\n", "roles:\n  citizen: {sector: citizen, label: {da: Borger, en: Citizen}}\n")
            .replace("sectors:\n", "sectors:\n  citizen: {label: {da: Borgeren, en: The citizen}}\n")
            .replace("states:\n", "states:\n  - {id: left, kind: terminal, outcome: left_by_choice, label: {da: c, en: c}}\n")
            .replace("transitions:\n", "transitions:\n  - {trigger: leave, source: '*', dest: left, roles: [citizen]}\n")
        )
        amb.write_text(fixed, encoding="utf-8")
        assert main(["test", str(saved)]) == 0, capsys.readouterr().out
