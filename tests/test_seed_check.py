"""The seed pathways of both houses strand nobody."""

from __future__ import annotations

from pathways import load_registry
from pathways.stranding import check


def test_the_seed_pathways_pass_the_stranding_check() -> None:
    registry = load_registry("definitions")
    report = check(registry)
    assert report.ok, report.to_text()
    assert report.complete
    assert set(report.explored) == set(registry)
    assert len(registry) == 17


def test_check_loads_a_folder_itself() -> None:
    assert check("definitions").to_json() == check(load_registry("definitions")).to_json()


def test_every_seed_counterexample_replays_on_the_engine() -> None:
    registry = load_registry("definitions")
    for finding in check(registry).findings:
        if finding.counterexample is not None:
            assert finding.counterexample.replay(registry).state == finding.counterexample.ends_in
