"""docs/exchange.md runs: its Python examples are doctests, and its CLI lines name real options."""

from __future__ import annotations

import doctest
import re
import shlex
from pathlib import Path

import pytest

from pathways.cli import _parser

DOC = Path(__file__).resolve().parents[1] / "docs" / "exchange.md"
_BLOCK = re.compile(r"```(?P<lang>\w*)\n(?P<body>.*?)^```$", re.S | re.M)


def _blocks(lang: str) -> list[str]:
    return [m["body"] for m in _BLOCK.finditer(DOC.read_text(encoding="utf-8")) if m["lang"] == lang]


def test_the_python_examples_run():
    pytest.importorskip("fhir.resources")
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for n, body in enumerate(_blocks("python")):
        runner.run(parser.get_doctest(body, {}, f"exchange.md block {n}", str(DOC), 0))
    assert runner.failures == 0 and runner.tries >= 4


def test_every_pathways_command_line_parses():
    lines = [line for body in _blocks("console") for line in body.splitlines() if line.startswith("pathways ")]
    assert len(lines) >= 9
    for line in lines:
        args = shlex.split(line.split("  #")[0].split(" > ")[0])[1:]
        _parser().parse_args(args)
