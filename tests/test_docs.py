"""The documentation runs: the tutorial executes, the error catalogue quotes the real messages.

- ``docs/tutorial.md`` is executed top to bottom in an empty folder: a ```` ```yaml ````
  block preceded by ``<!-- file: NAME -->`` is written to NAME, ```` ```console ```` blocks
  run ``pathways …`` and compare the output, ```` ```python ```` blocks run as doctests
  sharing one namespace.
- The definition-mistake catalogue in ``docs/errors.md`` is generated from the tables of
  ``tests/test_loader_errors.py``; after changing a message run
  ``.venv/bin/python tests/test_docs.py`` to regenerate it.
"""

from __future__ import annotations

import difflib
import doctest
import io
import re
import shlex
import tempfile
from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml

import pathways.errors
from pathways.cli import main
from test_loader_errors import BASE, MISTAKES, REGISTRY_MISTAKES, rendered, rendered_registry

DOCS = Path(__file__).parent.parent / "docs"
_BLOCK = re.compile(r"(?:<!-- file: (?P<file>\S+) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)^```$", re.S | re.M)
_START, _END = "<!-- catalogue:start -->", "<!-- catalogue:end -->"


def _blocks(path: Path) -> list[tuple[str, str | None, str, int]]:
    """(language, file annotation, body, line) of every fenced block, in order."""
    text = path.read_text(encoding="utf-8")
    return [
        (m["lang"], m["file"], m["body"], text.count("\n", 0, m.start("body")) + 1)
        for m in _BLOCK.finditer(text)
    ]


def _console(body: str, capsys: pytest.CaptureFixture[str]) -> list[tuple[str, list[str], list[str]]]:
    """Run each ``$ pathways …`` line; return (command, expected lines, actual lines)."""
    runs: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            runs.append((line[2:], []))
        else:
            runs[-1][1].append(line)
    out = []
    for command, expected in runs:
        argv = shlex.split(command)
        assert argv[0] == "pathways", f"only pathways commands run in the docs: {command}"
        main(argv[1:])
        captured = capsys.readouterr()
        out.append((command, expected, (captured.out + captured.err).splitlines()))
    return out


class TestTutorial:
    def test_every_block_of_the_tutorial_runs_as_shown(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Files are written, commands print what the page shows, doctests pass, in page order."""
        monkeypatch.chdir(tmp_path)
        globs: dict[str, Any] = {}
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        parser = doctest.DocTestParser()
        ran = {"file": 0, "console": 0, "python": 0}
        for lang, file, body, line in _blocks(DOCS / "tutorial.md"):
            if file is not None:
                (tmp_path / file).parent.mkdir(parents=True, exist_ok=True)
                (tmp_path / file).write_text(body, encoding="utf-8")
                ran["file"] += 1
            elif lang == "console":
                for command, expected, actual in _console(body, capsys):
                    assert actual == expected, f"tutorial.md:{line}: $ {command}"
                ran["console"] += 1
            elif lang == "python":
                test = parser.get_doctest(body, globs, f"tutorial.md:{line}", "docs/tutorial.md", line)
                report = io.StringIO()
                result = runner.run(test, out=report.write, clear_globs=False)
                assert result.failed == 0, report.getvalue()
                globs.update(test.globs)  # DocTest copies its globals; carry them to the next block
                ran["python"] += 1
        assert ran == {"file": 2, "console": 7, "python": 10}

    def test_the_tutorial_pathway_is_the_one_the_reference_describes(self) -> None:
        """The file the tutorial writes loads as it says: 4 states, 6 transitions, 5 roles."""
        [(_, _, body, _)] = [b for b in _blocks(DOCS / "tutorial.md") if b[1] == "short_stay.yaml"]
        pathway = pathways.load_text(body)
        assert (len(pathway.states), len(pathway.transitions), len(pathway.roles)) == (4, 6, 5)


def _diff(before: str, after: str) -> list[str]:
    """The changed lines only, as ``-old`` / ``+new``."""
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in lines if not line.startswith(("---", "+++", "@@"))]


class TestDefinitionReference:
    @pytest.mark.parametrize(
        "cls",
        [
            pathways.Pathway, pathways.Sector, pathways.Role, pathways.Fact, pathways.Resource, pathways.State,
            pathways.Deadline, pathways.Transition, pathways.ApprovalRule, pathways.Handover, pathways.Intake,
        ],
        ids=lambda c: c.__name__,
    )
    def test_every_field_of_the_model_has_a_row(self, cls: type) -> None:
        """A field added to the model without a row in definition-reference.md fails here."""
        text = (DOCS / "definition-reference.md").read_text(encoding="utf-8")
        missing = [a.name for a in attrs.fields(cls) if f"| `{a.name}` |" not in text]
        assert missing == []

    def test_every_yaml_example_is_valid_yaml(self) -> None:
        """The examples are fragments, but each parses."""
        blocks = [body for lang, _, body, _ in _blocks(DOCS / "definition-reference.md") if lang == "yaml"]
        assert len(blocks) >= 10
        for body in blocks:
            yaml.safe_load(body)


def render_catalogue(folder: Path) -> str:
    """The generated part of docs/errors.md: every definition mistake and its message."""
    out = [
        _START,
        "<!-- generated by tests/test_docs.py from tests/test_loader_errors.py; do not edit by hand -->",
        "",
        "### In one file",
        "",
        "Each entry is one change to [the example definition](#the-example-definition) below, "
        "loaded as `stay.yaml`.",
        "",
    ]
    for m in MISTAKES:
        out += [f"#### `{m.name}`", "", m.says, ""]
        if m.text is not None:
            out += ["The whole file:", "", "```yaml", m.text.rstrip("\n") or "# (empty)", "```", ""]
        else:
            out += ["```diff", *_diff(BASE, m.source()), "```", ""]
        out += ["```text", *rendered(m), "```", ""]
    out += [
        "### Between files",
        "",
        "These show only when files are loaded together (`load_registry`, `pathways validate "
        "FOLDER`). `stay.yaml` and `amb.yaml` are the two fixtures in `tests/fixtures/mini`: "
        "`stay` hands over to `amb`.",
        "",
    ]
    for r in REGISTRY_MISTAKES:
        sub = folder / r.name
        sub.mkdir()
        files = ", ".join(f"`{name}`" for name in r.files) or "no files"
        out += [f"#### `{r.name}`", "", r.says, "", f"Loading `{' '.join(r.sources)}` with {files}:", ""]
        out += ["```text", *rendered_registry(r, sub), "```", ""]
    numbered = "\n".join(f"{i:>2}  {line}" for i, line in enumerate(BASE.splitlines(), 1))
    out += [
        "### The example definition",
        "",
        "Line numbers in the messages above refer to this file:",
        "",
        "```text",
        numbered,
        "```",
        _END,
    ]
    return "\n".join(out)


def _catalogue_in_docs() -> str:
    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    return text[text.index(_START) : text.index(_END) + len(_END)]


class TestErrorCatalogue:
    def test_the_catalogue_quotes_what_the_loader_prints(self, tmp_path: Path) -> None:
        """docs/errors.md lists every mistake of the tests with the loader's exact output."""
        assert _catalogue_in_docs() == render_catalogue(tmp_path), "run: .venv/bin/python tests/test_docs.py"

    def test_the_exception_tree_in_the_docs_matches_the_classes(self) -> None:
        """Every class drawn in the tree exists and is a subclass of the class it hangs from."""
        text = (DOCS / "errors.md").read_text(encoding="utf-8")
        start = text.index("```text\nPathwaysError") + len("```text\n")
        tree = text[start:].split("```")[0]
        parents: list[tuple[int, type]] = []
        checked = 0
        for line in tree.strip().splitlines():
            match = re.match(r"^([\s│├└─]*)(\w+)", line)
            assert match, line
            depth, cls = len(match[1]), getattr(pathways.errors, match[2])
            while parents and parents[-1][0] >= depth:
                parents.pop()
            if parents:
                assert issubclass(cls, parents[-1][1]), f"{cls.__name__} is not a {parents[-1][1].__name__}"
            parents.append((depth, cls))
            checked += 1
        assert checked >= 20

    def test_runtime_messages_in_the_docs_are_pinned_by_the_engine_tests(self) -> None:
        """Every example message of a runtime error is asserted verbatim in tests/test_engine.py or test_house.py."""
        text = (DOCS / "errors.md").read_text(encoding="utf-8")
        section = text[text.index("## Errors at run time") : text.index(_START)]
        engine_tests = "".join((Path(__file__).parent / name).read_text(encoding="utf-8") for name in ("test_engine.py", "test_house.py"))
        quoted = re.findall(r"```text\n(.*?)\n```", section, re.S)
        assert len(quoted) >= 10
        assert [q for q in quoted if q not in engine_tests] == []


def _write_catalogue() -> None:
    """Regenerate the catalogue part of docs/errors.md in place."""
    path = DOCS / "errors.md"
    text = path.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as folder:
        new = render_catalogue(Path(folder))
    start, end = text.index(_START), text.index(_END) + len(_END)
    path.write_text(text[:start] + new + text[end:], encoding="utf-8")


if __name__ == "__main__":
    _write_catalogue()
    print(f"wrote {DOCS / 'errors.md'}")
