"""docs/testing.md runs: every ```python block executes, and the tests it defines pass.

The blocks run top to bottom in one namespace from the repository root, as a reader would
paste them into a test module. After each block, the ``test_*`` functions and ``Test*``
``unittest.TestCase`` classes it defined are run (hypothesis tests with the small settings
the page gives them). The hypothesis profile a block loads is undone afterwards.
"""

from __future__ import annotations

import re
import unittest
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

import pathways
import pathways.store
import pathways.testing

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
_BLOCK = re.compile(r"^```(?P<lang>\w*)\n(?P<body>.*?)^```$", re.S | re.M)


def _python_blocks(path: Path) -> list[tuple[int, str]]:
    """(first line, body) of every ```python block, in page order."""
    text = path.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start("body")) + 1, m["body"])
        for m in _BLOCK.finditer(text)
        if m["lang"] == "python"
    ]


def _run_tests(names: list[str], ns: dict[str, Any], where: str) -> None:
    """Call each test function; run each TestCase class with unittest; fail with its output."""
    for name in names:
        value = ns[name]
        if isinstance(value, type) and issubclass(value, unittest.TestCase):
            suite = unittest.defaultTestLoader.loadTestsFromTestCase(value)
            result = unittest.TestResult()
            suite.run(result)
            problems = [text for _, text in result.errors + result.failures]
            assert result.testsRun >= 1 and problems == [], f"{where}: {name} failed:\n" + "\n".join(problems)
        else:
            value()


class TestTestingGuide:
    def test_every_python_block_runs_and_its_tests_pass(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.chdir(ROOT)
        profile = settings.get_current_profile_name()
        ns: dict[str, Any] = {"__name__": "docs_testing"}
        ran: list[str] = []
        try:
            for line, body in _python_blocks(DOCS / "testing.md"):
                before = set(ns)
                # Padding with blank lines makes tracebacks point at the line in the page.
                exec(compile("\n" * (line - 1) + body, str(DOCS / "testing.md"), "exec"), ns)
                new = [
                    name for name in ns
                    if name not in before
                    and (
                        (name.startswith("test_") and callable(ns[name]))
                        or (name.startswith("Test") and isinstance(ns[name], type) and issubclass(ns[name], unittest.TestCase))
                    )
                ]
                _run_tests(new, ns, f"testing.md:{line}")
                ran += new
        finally:
            settings.load_profile(profile)
        assert ran == [
            "test_no_citizen_is_stranded",
            "TestEveningDesk",
            "TestHouse",
            "test_our_export_handles_any_pathway",
            "test_every_story_the_checker_tells_happens_on_the_engine",
            "test_generated_hand_overs_are_sound",
            "test_the_gate_rejects_every_seeded_fault",
            "test_a_button_we_show_works_and_one_we_hide_is_refused",
            "test_any_social_worker_may_close_a_talk",
            "test_the_house_strands_nobody",
            "TestTheHouse",
        ]
        printed = capsys.readouterr().out
        assert printed.startswith("ERROR no_owner in evening_desk: `night`\n")

    def test_the_failure_the_guide_shows_is_what_assert_sound_prints(self) -> None:
        """The ```text block after the evening desk example is the real message, verbatim."""
        text = (DOCS / "testing.md").read_text(encoding="utf-8")
        shown = text.split("prints\n\n```text\n", 1)[1].split("\n```", 1)[0]
        [(_, body)] = [(line, b) for line, b in _python_blocks(DOCS / "testing.md") if "DESK = " in b]
        ns: dict[str, Any] = {}
        exec(body.split("desk = load_text")[0], ns)
        broken = ns["DESK"].replace("roles: [nurse], releases", "roles: [leader_region], releases")
        with pytest.raises(AssertionError) as failure:
            pathways.testing.assert_sound(pathways.load_text(broken, "evening_desk.yaml"))
        assert str(failure.value) == shown


def _names_in(section: str) -> set[str]:
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    start = text.index(section)
    end = text.find("\n## ", start + 1)
    return set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)", text[start : end if end != -1 else None]))


class TestApiReference:
    def test_every_name_of_the_testing_kit_is_in_the_api_reference(self) -> None:
        assert set(pathways.testing.__all__) - _names_in("## Testing helpers") == set()

    def test_every_name_of_the_store_is_in_the_api_reference(self) -> None:
        assert set(pathways.store.__all__) - _names_in("## Storage") == set()

    def test_every_name_re_exported_from_pathways_is_in_the_table_at_the_top(self) -> None:
        """Exceptions are covered by 'every exception class'; every other name is listed."""
        table = _names_in("| section | re-exported from `pathways` |")
        exceptions = {n for n in pathways.__all__ if isinstance(getattr(pathways, n), type) and issubclass(getattr(pathways, n), Exception)}
        assert set(pathways.__all__) - exceptions - table == set()
