"""Diagrams a person can read: measured in headless Chromium on a 1400 px wide page, not judged by eye."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_local import WIDTH, chromium
from pathways import load_registry
from pathways.diagram import render, to_dot
from pathways.i18n import use_language
from pathways.report import render_report
from pathways.scenario import load_scenario
from pathways.simulation import Simulation

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted(p.stem for p in (ROOT / "definitions").glob("*.yaml"))
MIN_PX = 10.0
"""The smallest rendered font size (CSS px) a state label may have."""

_MEASURE = """
const out = [];
for (const node of document.querySelectorAll(arguments[0])) {
  const title = node.querySelector('title').textContent;
  for (const text of node.querySelectorAll('text')) {
    const size = parseFloat(text.getAttribute('font-size'));
    out.push({node: title, text: text.textContent, px: size * text.getScreenCTM().a});
  }
}
return {labels: out, scrollWidth: document.documentElement.scrollWidth};
"""
"""Every text in the selected Graphviz groups: its node, words and rendered size in CSS px."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium()


def _page(svg: str, tmp_path: Path, name: str) -> Path:
    html = tmp_path / f"{name}.html"
    html.write_text(
        '<!DOCTYPE html><html lang="da"><head><meta charset="utf-8"><style>'
        "body{margin:24px;font-family:Helvetica,Arial,sans-serif} svg{max-width:100%;height:auto}"
        f"</style></head><body>{svg}</body></html>",
        encoding="utf-8",
    )
    return html


@pytest.mark.parametrize("pathway", SEEDS)
def test_every_seed_pathway_is_readable_on_a_1400_px_page(pathway: str, browser: Any, tmp_path: Path) -> None:
    registry = load_registry(ROOT / "definitions")
    svg = render(to_dot(registry[pathway], lang="da"), "svg").decode("utf-8")
    browser.get(_page(svg[svg.index("<svg"):], tmp_path, pathway).as_uri())
    found = browser.execute_script(_MEASURE, "g.node")
    ids = {s.id for s in registry[pathway].states}
    states = [x for x in found["labels"] if x["node"] in ids]
    assert {x["node"] for x in states} == ids, "every state is drawn"
    smallest = min(x["px"] for x in states)
    assert smallest >= MIN_PX, f"{pathway}: the smallest state label is {smallest:.1f} px on a {WIDTH} px page"
    assert found["scrollWidth"] <= WIDTH, "the diagram fits the page width (no sideways scrolling)"


def test_the_report_shows_every_diagram_readable(browser: Any, tmp_path: Path) -> None:
    sim = Simulation(load_scenario(ROOT / "examples" / "short_week.yaml"))
    result = sim.run()
    with use_language("da"):
        page = render_report(result, sim.registry)
    assert page.startswith('<!DOCTYPE html>\n<html lang="da">')
    html = tmp_path / "report.html"
    html.write_text(page, encoding="utf-8")
    browser.get(html.as_uri())
    for pathway in SEEDS:
        found = browser.execute_script(_MEASURE, f"#diagram-{pathway} g.node")
        ids = {s.id for s in sim.registry[pathway].states}
        smallest = min(x["px"] for x in found["labels"] if x["node"] in ids)
        assert smallest >= MIN_PX, f"report, {pathway}: the smallest state label is {smallest:.1f} px"
    assert browser.execute_script("return document.documentElement.scrollWidth") <= WIDTH
