"""`pathways play` itself, as a designer starts it: a process that serves the page on 127.0.0.1.

``tests/test_playground.py`` drives the page through :func:`pathways.playground.serve`; here
the command runs in its own process on a free port: it prints its one startup line, answers
on 127.0.0.1, and ends cleanly on Ctrl-C (SIGINT). It has no ``--host``: a designer cannot
open the playground to the network by mistake.
"""

from __future__ import annotations

import json
import selectors
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

ROOT = Path(__file__).resolve().parents[1]
PATHWAYS = [sys.executable, "-c", "import sys; from pathways.cli import main; sys.exit(main())"]
STARTUP = 60.0
"""Seconds to wait for the startup line (imports and loading the definitions; generous for CI)."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _first_line(proc: subprocess.Popen[str]) -> str:
    """The first line the process writes on standard error, or fail (never hang)."""
    assert proc.stderr is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stderr, selectors.EVENT_READ)
        if not sel.select(STARTUP):
            pytest.fail(f"pathways play printed nothing within {STARTUP} s")
    return proc.stderr.readline().rstrip("\n")


@pytest.fixture
def played() -> Iterator[tuple[subprocess.Popen[str], int, str]]:
    """`pathways play definitions --port N` running; stopped with SIGINT (and killed if it hangs)."""
    port = _free_port()
    proc = subprocess.Popen(
        [*PATHWAYS, "play", str(ROOT / "definitions"), "--port", str(port), "--lang", "en"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    try:
        yield proc, port, _first_line(proc)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:  # pragma: no cover - only when stopping is broken
                proc.kill()
                proc.wait()


def _get(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get("content-type", ""), response.read().decode("utf-8")


def test_play_prints_where_it_serves_answers_on_127_0_0_1_and_stops_on_ctrl_c(
    played: tuple[subprocess.Popen[str], int, str],
) -> None:
    proc, port, line = played
    url = f"http://127.0.0.1:{port}/"
    assert line == f"playground for {ROOT / 'definitions'} at {url} (Ctrl-C ends it)"
    status, kind, page = _get(url)
    assert (status, kind.split(";")[0]) == (200, "text/html")
    assert page == (ROOT / "src" / "pathways" / "static" / "play.html").read_text(encoding="utf-8")
    status, kind, body = _get(url + "api/state")
    state = json.loads(body)
    assert (status, state["lang"], state["problems"]) == (200, "en", [])
    assert {"walk_in", "overnight_stay"} <= {p["id"] for p in state["pathways"]}
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=15)
    assert (proc.returncode, out, err) == (0, "", "")


def test_play_has_no_host_option_so_it_never_listens_beyond_this_machine() -> None:
    done = subprocess.run(
        [*PATHWAYS, "play", str(ROOT / "definitions"), "--host", "0.0.0.0"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines()[-1] == "pathways: error: unrecognized arguments: --host 0.0.0.0"
