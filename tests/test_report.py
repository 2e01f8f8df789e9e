"""The HTML report: self-contained, and really visible in a headless browser."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

from browser_local import need_tool
from pathways.cli import main
from pathways.report import FLOW_FILL, ProgressBar, render_report, summary_text
from pathways.scenario import load_scenario
from pathways.simulation import Simulation, SimulationResult

ROOT = Path(__file__).resolve().parents[1]
SHORT_WEEK = ROOT / "examples" / "short_week.yaml"


@pytest.fixture(scope="module")
def week() -> tuple[Simulation, SimulationResult]:
    sim = Simulation(load_scenario(SHORT_WEEK))
    return sim, sim.run()


@pytest.fixture(scope="module")
def page(week: tuple[Simulation, SimulationResult]) -> str:
    sim, result = week
    return render_report(result, sim.registry)



class TestHtml:
    def test_the_report_needs_no_network_and_no_script(self, page: str) -> None:
        assert "<script" not in page.lower()
        assert 'src="http' not in page and "href=\"http" not in page and "@import" not in page

    def test_it_has_the_plots_and_the_summary(self, page: str) -> None:
        assert page.startswith("<!DOCTYPE html>")
        for anchor in ('id="occupancy"><svg', 'id="waits"><svg', 'id="turned-away"><svg'):
            assert anchor in page
        assert "<th>of which handed over</th>" in page
        assert '<tr class="total"><td>whole house</td>' in page

    def test_it_shows_utilisation_per_role_and_hour_of_the_week(self, page: str, week: tuple[Simulation, SimulationResult]) -> None:
        _, result = week
        assert "<h2>Staff: utilisation and queues</h2>" in page
        assert 'id="utilisation"><svg' in page
        assert "<th>busiest hour</th><th>acts</th><th>waited for a free person: median</th>" in page
        nurse = result.roles["aarhus/nurse"]
        assert f"<td>aarhus/nurse</td><td>{nurse.duty_hours:,.0f}</td>" in page

    def test_it_shows_every_pathway_diagram_and_the_flows(self, page: str) -> None:
        need_tool("dot", "graphviz")
        assert 'id="flows"><svg' in page
        for pid in ("walk_in", "overnight_stay", "ambulant_team", "counselling", "open_dialogue", "job_bridge"):
            assert f'id="diagram-{pid}"><svg' in page

    def test_without_graphviz_the_report_says_so_and_keeps_the_mermaid_text(
        self, week: tuple[Simulation, SimulationResult], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(shutil, "which", lambda _: None)
        sim, result = week
        text = render_report(result, sim.registry)
        assert '<p class="note">Diagrams are missing: Graphviz &#x27;dot&#x27; is not installed' in text
        assert "flowchart TD" in text


class TestLivelocks:
    def test_the_report_tells_each_livelock_with_its_story_in_danish_too(self) -> None:
        from pathways.scenario import load_scenario_text

        tiny = ROOT / "tests" / "fixtures" / "tiny_house"
        text = ("name: tiny\nstart: 2026-01-05T00:00:00+01:00\nperiod: P3D\nseed: 3\ndefinitions: .\n"
                "arrivals: [{pathway: stay, per_day: 2, hours: [16, 24]}]\nchoices: {leave: 0.0}\nlivelock_repeats: 3\n")
        sim = Simulation(load_scenario_text(text, str(tiny / "s.yaml")))
        result = sim.run()
        assert result.livelocks
        english = render_report(result, sim.registry, lang="en")
        first = result.livelocks[0]
        assert f"<h2>Livelocked citizens ({len(result.livelocks)})</h2>" in english
        assert f'<div class="stranded" id="livelock-{first.case_id}"><b>{first.case_id} in stay / Staying [staying]: {first.repeats} rounds' in english
        assert "approval timed out" in english
        danish = render_report(result, sim.registry, lang="da")
        assert f"<h2>Borgere, der kører i ring ({len(result.livelocks)})</h2>" in danish
        assert "<th>kører i ring</th>" in danish
        assert "<h2>Medarbejdere: udnyttelse og køer</h2>" in danish
        assert "<th>travleste time</th>" in danish
        told = Simulation(load_scenario_text(text, str(tiny / "s.yaml"))).run(lang="da")
        page = render_report(told, sim.registry, lang="da")
        assert f"<b>{first.case_id} i stay / Bor her [staying]: {first.repeats} omgange siden " in page
        assert "kører i ring i Bor her [staying]: de samme skridt gentages uden fremskridt" in page
        assert "(godkendelsen udløb)" in page


class TestTerminal:
    def test_the_summary_table_has_a_row_per_pathway_and_the_house(self, week: tuple[Simulation, SimulationResult]) -> None:
        _, result = week
        text = summary_text(result)
        lines = text.splitlines()
        assert lines[2].split() == ["pathway", "started", "completed", "handed", "over", "left", "open", "stranded", "livelocked",
                                    "deadlines"]
        house = next(line for line in lines if line.startswith("whole house"))
        assert house.split()[2:] == [str(result.overall.started), str(result.overall.completed),
                                     str(result.overall.handed_over), str(result.overall.left),
                                     str(result.overall.open), str(result.overall.stranded),
                                     str(result.overall.livelocked), str(result.overall.deadlines_fired)]

    def test_the_progress_bar_draws_only_on_change(self) -> None:
        out = io.StringIO()
        bar = ProgressBar(out, width=10, force=True)
        for done in (0.0, 0.001, 0.5, 1.0):
            bar(done)
        assert out.getvalue() == (
            "\r[..........]   0% simulated\r[#####.....]  50% simulated\r[##########] 100% simulated\n"
        )

    def test_simulate_cli_prints_json_and_writes_the_report(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        out = tmp_path / "r.html"
        assert main(["simulate", str(SHORT_WEEK), "--seed", "3", "--json", "--report", str(out)]) == 0
        printed = capsys.readouterr()
        assert '"seed": 3' in printed.out and printed.err == f"report written to {out}\n"
        assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def _decode_png(data: bytes) -> np.ndarray:
    """The pixels (height x width x channels) of an 8-bit, non-interlaced PNG, as Chromium writes it.

    A small reader instead of Pillow: zlib for the data, numpy for the row filters
    (the Paeth and Average rows run byte by byte, as the PNG specification defines them).
    """
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0
            channels = {2: 3, 6: 4, 0: 1, 4: 2}[colour]
        elif kind == b"IDAT":
            idat += body
    stride = width * channels
    rows = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        ftype, line = rows[y, 0], rows[y, 1:]
        if ftype == 0:
            cur = line.copy()
        elif ftype == 1:
            cur = (np.cumsum(line.reshape(width, channels).astype(np.int64), axis=0) % 256).astype(np.uint8).reshape(stride)
        elif ftype == 2:
            cur = line + prev
        else:
            buf, up = bytearray(line.tobytes()), prev.tobytes()
            for x in range(stride):
                a = buf[x - channels] if x >= channels else 0
                b = up[x]
                if ftype == 3:
                    buf[x] = (buf[x] + (a + b) // 2) & 0xFF
                else:
                    c = up[x - channels] if x >= channels else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    buf[x] = (buf[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
            cur = np.frombuffer(bytes(buf), dtype=np.uint8)
        out[y] = cur
        prev = cur
    return out.reshape(height, width, channels)


def _near(pixels: np.ndarray, colour: str, tolerance: int = 12) -> int:
    """How many pixels are within ``tolerance`` of ``#rrggbb`` in every channel."""
    target = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
    diff = np.abs(pixels[:, :, :3].astype(np.int16) - target)
    return int(np.count_nonzero(np.all(diff <= tolerance, axis=2)))


class TestBrowser:
    def _screenshot(self, html: Path, tmp_path: Path, size: str) -> bytes:
        chromium = need_tool("chromium", "chromium")
        shot = tmp_path / f"shot-{size}.png"
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", f"--window-size={size}",
             html.as_uri()],
            check=True, capture_output=True, timeout=180,
        )
        return shot.read_bytes()

    def test_the_report_shows_tables_plots_and_diagrams_in_headless_chromium(self, page: str, tmp_path: Path) -> None:
        need_tool("dot", "graphviz")
        html = tmp_path / "report.html"
        html.write_text(page, encoding="utf-8")
        # Tall enough for the occupancy plot below the flows diagram, which grows with the hand-overs of the houses.
        pixels = _decode_png(self._screenshot(html, tmp_path, "1280,2600"))
        assert pixels.shape[:2] == (2600, 1280)
        non_white = int(np.count_nonzero(pixels[:, :, :3].min(axis=2) < 235))
        assert non_white > 50_000, f"only {non_white} non-white pixels: the page looks empty"
        assert _near(pixels, "#f0f4f8", 4) > 5_000, "the summary table's header row is not visible"
        assert _near(pixels, FLOW_FILL) > 5_000, "the flows diagram (Graphviz SVG) is not visible"
        assert _near(pixels, "#1f77b4", 40) > 300, "the occupancy plot's line (matplotlib SVG) is not visible"

    def test_the_utilisation_heat_map_is_drawn_in_headless_chromium(self, page: str, tmp_path: Path) -> None:
        """Grey where nobody is on duty, the heat colours where people were busy; no network, no script."""
        start = page.index('<div class="plot" id="utilisation">')
        section = page[start:page.index("</div>", start) + len("</div>")]
        html = tmp_path / "heat.html"
        html.write_text(f'<!DOCTYPE html><html><body style="margin:0">{section}</body></html>', encoding="utf-8")
        pixels = _decode_png(self._screenshot(html, tmp_path, "1280,900"))
        assert _near(pixels, "#e6e6e6", 3) > 20_000, "the hours nobody is on duty (grey) are not visible"
        assert _near(pixels, "#fed976", 30) + _near(pixels, "#fd8d3c", 30) > 500, "no busy hour is coloured"
