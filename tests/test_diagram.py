"""Diagrams: what a pathway picture shows, highlights, rendering, the CLI and the docs build."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from pathways import load_registry
from pathways.cli import main
from pathways.diagram import (
    finding_highlight,
    registry_to_dot,
    registry_to_mermaid,
    render,
    sector_colour,
    to_dot,
    to_mermaid,
)
from pathways.errors import RenderError

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "fixtures" / "mini"


def _need_dot() -> None:
    """Graphviz is part of CI (.ci/run installs it): there, missing means failure."""
    if shutil.which("dot") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Graphviz 'dot' is not installed, but CI=true requires it (apt-get install graphviz)")
        pytest.skip("Graphviz 'dot' is not installed on this machine")


@pytest.fixture(scope="module")
def stay():
    return load_registry(MINI)["stay"]


class TestMermaid:
    def test_states_are_shaped_by_kind_and_show_deadlines(self, stay) -> None:
        text = to_mermaid(stay)
        assert text.startswith("flowchart TD\n")
        assert '  s_arrived(["a<br/>[arrived]<br/>deadline PT2H → escalate"])' in text
        assert '  s_referred{{"b<br/>[referred]<br/>deadline P1D → chase"}}' in text
        assert '  s_done[["b<br/>[done]<br/>completed"]]' in text

    def test_transitions_carry_trigger_roles_guards_approval_and_places(self, stay) -> None:
        text = to_mermaid(stay)
        assert (
            '  s_arrived -->|"admit<br/>by nurse<br/>if consent_given<br/>approval: one from each<br/>sector: region, social'
            '<br/>refused → done<br/>takes places"| s_staying'
        ) in text
        assert '  s_arrived -.->|"admit refused / timed out"| s_done' in text
        assert '  s_any -->|"leave<br/>by citizen"| s_left' in text

    def test_hand_overs_point_at_the_receiving_pathway(self, stay) -> None:
        text = to_mermaid(stay)
        assert '  s_pathway_amb>"→ amb"]' in text
        assert '  s_referred -.->|"hand-over"| s_pathway_amb' in text

    def test_states_are_coloured_by_sector(self, stay) -> None:
        text = to_mermaid(stay)
        assert "  classDef sector_region fill:#cfe2f3,stroke:#555" in text
        assert "  class s_arrived sector_region" in text
        assert "  class s_done terminal" in text

    def test_a_finding_is_highlighted_with_numbered_steps(self, stay) -> None:
        text = to_mermaid(stay, highlight_states=["referred"], highlight_transitions=[("arrived", "admit"), ("staying", "refer")])
        assert "  class s_referred highlight" in text
        assert '|"#1 admit<br/>' in text and '|"#2 refer<br/>' in text
        assert "  linkStyle 0 stroke:#cc0000,stroke-width:3px" in text

    def test_a_checker_finding_is_marked_with_its_counterexample_path(self, stay) -> None:
        from pathways.stranding import check

        registry = load_registry(MINI)
        finding = next(f for f in check(registry).findings if f.pathway == "stay" and f.states == ("referred",))
        marks = finding_highlight(finding)
        assert marks == {
            "highlight_states": ("referred",),
            "highlight_transitions": (("arrived", "admit"), ("staying", "refer")),
            "highlight_triggers": ("chase",),
        }
        text = to_mermaid(stay, **marks)
        assert '  s_arrived -->|"#1 admit<br/>' in text and '  s_staying -->|"#2 refer<br/>' in text
        assert '  s_referred -->|"chase<br/>by nurse"| s_referred' in text
        assert "  class s_referred highlight" in text

    def test_the_registry_diagram_draws_hand_overs_between_pathways(self) -> None:
        text = registry_to_mermaid(load_registry(MINI))
        assert '  subgraph s_amb["amb v1: Amb"]' in text
        assert '  s_stay_referred ==>|"hand-over: refer"| s_amb_intake' in text


class TestDot:
    def test_the_dot_text_has_nodes_edges_and_a_legend(self, stay) -> None:
        text = to_dot(stay)
        assert text.startswith('digraph "stay" {')
        assert '"waiting" ' not in text
        assert text.startswith('digraph "stay" {\n  rankdir=TB;\n')
        assert '"referred" [label="b\\n[referred]\\ndeadline P1D → chase", fillcolor="#cfe2f3", shape="hexagon"' in text
        assert '"staying" -> "referred" [label="refer\\nby nurse\\nreleases places\\nhand-over → amb"];' in text
        assert '<TD BGCOLOR="#cfe2f3" BORDER="1" WIDTH="150">Region</TD><TD ALIGN="LEFT">colour of states this sector is responsible for</TD>' in text
        assert '<TD BGCOLOR="#ffffff" BORDER="1" WIDTH="150">hexagon</TD><TD ALIGN="LEFT">waiting for an answer or a deadline</TD>' in text

    def test_in_danish_the_words_and_the_legend_are_danish(self, stay) -> None:
        text = to_dot(stay, lang="da")
        assert '"referred" [label="b\\n[referred]\\nfrist P1D → chase"' in text
        assert '"staying" -> "referred" [label="refer\\naf nurse\\nfrigiver places\\noverdragelse → amb"];' in text
        assert "<B>Signaturforklaring</B>" in text and ">sekskant</TD><TD ALIGN=\"LEFT\">venter på svar eller på en frist</TD>" in text

    def test_the_answers_to_a_hand_over_are_drawn(self, stay) -> None:
        registry = load_registry(ROOT / "definitions")
        text = to_dot(registry["overnight_stay"], lang="da")
        assert '  "discharge_pending" -> "discharged_to_ambulant" [style=dashed, label="modtaget"];' in text

    def test_highlighted_edges_are_red_and_numbered(self, stay) -> None:
        text = to_dot(stay, highlight_transitions=[("arrived", "leave")])
        assert '"*" -> "left" [label="#1 leave\\nby citizen", color="#cc0000"' in text

    @pytest.mark.parametrize("draw", [to_dot, to_mermaid], ids=lambda f: f.__name__)
    def test_a_misspelt_highlight_is_a_type_error_as_for_any_keyword(self, stay, draw) -> None:
        with pytest.raises(TypeError, match=rf"^{draw.__name__}\(\) got an unexpected keyword argument 'highlight_state'$"):
            draw(stay, highlight_state=["arrived"])

    def test_the_registry_graph_links_sender_to_intake(self) -> None:
        text = registry_to_dot(load_registry(MINI))
        assert '"stay.referred" -> "amb.intake" [label="hand-over: refer"' in text

    def test_unknown_sectors_get_a_stable_palette_colour(self) -> None:
        assert sector_colour("region") == "#cfe2f3"
        assert sector_colour("volunteers", ["a", "volunteers"]) == sector_colour("volunteers", ["a", "volunteers"])


class TestRender:
    def test_svg_and_png_come_from_graphviz(self, stay) -> None:
        _need_dot()
        svg = render(to_dot(stay), "svg")
        assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg and b"arrived" in svg
        assert render(to_dot(stay), "png").startswith(b"\x89PNG\r\n\x1a\n")

    def test_without_graphviz_the_error_says_how_to_install_it(self, stay, monkeypatch) -> None:
        monkeypatch.setattr(shutil, "which", lambda _: None)
        with pytest.raises(RenderError) as exc:
            render(to_dot(stay))
        assert str(exc.value) == (
            "Graphviz 'dot' is not installed, so SVG/PNG cannot be made; install Graphviz "
            "(Debian/Ubuntu: apt-get install graphviz) or use --format dot or --format mermaid"
        )

    def test_an_unknown_format_is_refused(self, stay) -> None:
        with pytest.raises(RenderError, match="cannot render format 'gif'"):
            render(to_dot(stay), "gif")


class TestCli:
    def test_diagram_prints_mermaid_by_default(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["diagram", "stay", "-d", str(MINI)]) == 0
        assert capsys.readouterr().out.startswith("flowchart TD\n")

    def test_diagram_all_writes_svg_to_a_file(self, tmp_path: Path) -> None:
        _need_dot()
        out = tmp_path / "all.svg"
        assert main(["diagram", "--all", "--format", "svg", "-o", str(out), "-d", str(MINI)]) == 0
        assert b"stay.referred" in out.read_bytes() or b"hand-over: refer" in out.read_bytes()

    def test_diagram_needs_a_pathway_or_all(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["diagram", "-d", str(MINI)]) == 2
        assert capsys.readouterr().err == "error: name one PATHWAY or give --all\n"

    def test_an_unknown_pathway_is_an_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["diagram", "nope", "-d", str(MINI)]) == 2
        assert capsys.readouterr().err == "error: no pathway 'nope' is loaded (loaded: amb, stay)\n"


def _build_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_docs", ROOT / "scripts" / "build_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_docs"] = module
    spec.loader.exec_module(module)
    return module


class TestDocs:
    def test_the_committed_pathway_docs_are_current(self) -> None:
        build_docs = _build_docs()
        pages = build_docs.build()
        assert [p.name for p in build_docs.stale(pages)] == [], "run .venv/bin/python scripts/build_docs.py"
        assert {p.name for p in pages} >= {"walk_in.md", "overnight_stay.md", "index.md"}

    def test_a_changed_definition_changes_its_page(self, tmp_path: Path) -> None:
        build_docs = _build_docs()
        for f in MINI.glob("*.yaml"):
            (tmp_path / f.name).write_text(f.read_text().replace("title: {da: Ophold, en: Stay}", "title: {da: O, en: Short stay}"))
        pages = build_docs.build(tmp_path, tmp_path / "out")
        assert "# Short stay (`stay` v1)" in pages[tmp_path / "out" / "stay.md"]
        assert "```mermaid\nflowchart TD\n" in pages[tmp_path / "out" / "stay.md"]
