"""The finding pages in docs/findings/ show real checker output, and their fixes pass."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pathways import Registry, load_text
from pathways.i18n import use_language
from pathways.model import Pathway
from pathways.stranding import FindingKind, check

DOCS = Path(__file__).resolve().parent.parent / "docs" / "findings"
PAGES = [k for k in FindingKind if k is not FindingKind.BOUND_REACHED and not k.week]  # the week's pages: next step


def _load(text: str) -> Pathway | Registry:
    parts = [load_text(part, "example.yaml") for part in text.split("\n---\n")]
    return parts[0] if len(parts) == 1 else Registry(parts)


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


@pytest.mark.parametrize("kind", [k for k in PAGES if not k.week], ids=lambda k: k.value)
def test_a_finding_page_prints_what_the_checker_prints_in_danish(kind: FindingKind) -> None:
    """The ```text da block is `pathways check example.yaml --lang da`, verbatim; the title names the kind in Danish."""
    page = (DOCS / f"{kind.value}.md").read_text()
    faulty, _ = _blocks(page, "yaml")
    [danish] = _blocks(page, "text da")
    with use_language("da"):
        assert check(_load(faulty)).to_text() == danish
        assert f" · {kind.title}: `{kind.value}`" in page.split("\n", 1)[0]
