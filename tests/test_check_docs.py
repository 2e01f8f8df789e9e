"""The finding pages in docs/findings/ show real checker output, and their fixes pass."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest

from pathways import Registry, load_registry, load_text
from pathways.i18n import use_language
from pathways.model import Pathway
from pathways.stranding import FindingKind, check

DOCS = Path(__file__).resolve().parent.parent / "docs" / "findings"
PAGES = [k for k in FindingKind if k is not FindingKind.BOUND_REACHED]


def _load(text: str) -> Pathway | Registry:
    """The page's documents: pathways, or a house file (``house:`` first) and its pathways, loaded as a folder."""
    documents = text.split("\n---\n")
    if not documents[0].startswith("house:"):
        parts = [load_text(part, "example.yaml") for part in documents]
        return parts[0] if len(parts) == 1 else Registry(parts)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "houses").mkdir()
        (folder / "houses" / "mini.yaml").write_text(documents[0] + "\n", encoding="utf-8")
        for i, part in enumerate(documents[1:]):
            (folder / f"pathway{i}.yaml").write_text(part + "\n", encoding="utf-8")
        return load_registry(folder)


def _blocks(page: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)\n```", page, flags=re.S)


@pytest.mark.parametrize("kind", PAGES, ids=lambda k: k.value)
def test_a_finding_page_prints_what_the_checker_prints(kind: FindingKind) -> None:
    page = (DOCS / f"{kind.value}.md").read_text()
    faulty, fixed = _blocks(page, "yaml")
    before, after = _blocks(page, "text")
    report = check(_load(faulty))
    assert report.of_kind(kind)
    assert report.to_text() == before
    fixed_report = check(_load(fixed))
    assert fixed_report.findings == ()
    assert fixed_report.to_text() == after


def test_the_index_links_every_page() -> None:
    index = (DOCS / "index.md").read_text()
    for kind in PAGES:
        assert f"]({kind.value}.md)" in index


@pytest.mark.parametrize("kind", PAGES, ids=lambda k: k.value)
def test_a_finding_page_prints_what_the_checker_prints_in_danish(kind: FindingKind) -> None:
    """The ```text da block is `pathways check example.yaml --lang da`, verbatim; the title names the kind in Danish."""
    page = (DOCS / f"{kind.value}.md").read_text()
    faulty, _ = _blocks(page, "yaml")
    [danish] = _blocks(page, "text da")
    with use_language("da"):
        assert check(_load(faulty)).to_text() == danish
        assert f" · {kind.title}: `{kind.value}`" in page.split("\n", 1)[0]


def test_the_week_worked_example_shows_a_time_only_stranding_and_its_fix(tmp_path: Path) -> None:
    """docs/findings/worked-example-week.md: the walk-in draft (the committed file without its
    deadlines until closing) passes time-free and strands a citizen at midnight; the committed file passes."""
    root = DOCS.parent.parent / "definitions"
    page = (DOCS / "worked-example-week.md").read_text()
    draft = tmp_path / "definitions"
    shutil.copytree(root, draft)
    line = "    deadline: {after: PT8H, counted: until_closing, trigger: night_handover}\n"
    committed = (root / "walk_in.yaml").read_text()
    assert committed.count(line) == 3, "the page's diff no longer applies: regenerate the worked example"
    (draft / "walk_in.yaml").write_text(committed.replace(line, ""))
    registry = load_registry(draft)
    assert check(registry, week=False).ok
    found = check(registry).findings
    shown = re.findall(r"^ERROR (\w+) in (\w+): `(\w+)`$", page, flags=re.M)
    assert sorted((f.kind.value, f.pathway, f.states[0]) for f in found) == sorted(shown)
    conversation = next(f for f in found if f.states == ("in_conversation",))
    assert conversation.counterexample is not None and " on Sunday 23:40; " in conversation.counterexample.story()
    assert conversation.counterexample.replay(registry).state == "in_conversation"
    assert check(root).ok
