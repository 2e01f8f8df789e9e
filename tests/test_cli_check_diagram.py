"""`pathways check --diagram DIR` draws each finding with its counterexample path marked."""

from pathlib import Path

import pytest

from pathways.cli import main

STUCK = """\
id: stuck
version: 1
title: {da: Fast, en: Stuck}
description: {da: d, en: d}
initial: a
sectors: {region: {label: {da: R, en: R}}, citizen: {label: {da: B, en: C}}}
roles:
  nurse: {sector: region, label: {da: S, en: N}}
  citizen: {sector: citizen, label: {da: B, en: C}}
states:
  - {id: a, kind: active, label: {da: a, en: a}, responsible: [nurse]}
  - {id: b, kind: waiting, label: {da: b, en: b}, responsible: [nurse]}
  - {id: done, kind: terminal, outcome: completed, label: {da: d, en: d}}
  - {id: left, kind: terminal, outcome: left_by_choice, label: {da: l, en: l}, follow_up: {da: x, en: x}}
transitions:
  - {trigger: go, source: a, dest: b, roles: [nurse]}
  - {trigger: finish, source: a, dest: done, roles: [nurse]}
  - {trigger: leave, source: "*", dest: left, roles: [citizen]}
"""


@pytest.fixture
def stuck(tmp_path: Path) -> Path:
    path = tmp_path / "stuck.yaml"
    path.write_text(STUCK, encoding="utf-8")
    return path


def test_one_mermaid_diagram_per_finding_marks_the_stuck_state_and_the_path(stuck: Path, tmp_path: Path) -> None:
    out = tmp_path / "diagrams"
    code = main(["check", str(stuck), "--diagram", str(out), "--diagram-format", "mermaid"])
    names = sorted(p.name for p in out.iterdir())
    assert code == 1
    assert names == ["01-stuck-dead_end.mmd", "02-stuck-no_owner.mmd", "03-stuck-wait_without_deadline.mmd"]
    text = (out / "01-stuck-dead_end.mmd").read_text(encoding="utf-8")
    assert 's_a -->|"#1 go<br/>by nurse"| s_b' in text  # the counterexample's first step, numbered
    assert "class s_b highlight" in text  # the state where the citizen is stuck


def test_sound_definitions_write_no_diagram(tmp_path: Path) -> None:
    out = tmp_path / "diagrams"
    # time-free: the houses' week-aware findings are the houses engineer's (tests/test_seed_check.py)
    assert main(["check", "definitions", "--no-week", "--diagram", str(out), "--diagram-format", "dot"]) == 0
    assert list(out.iterdir()) == []
