"""The seed pathways of both houses strand nobody: time-free, and over the houses' week."""

from __future__ import annotations

from pathways import load_registry
from pathways.stranding import check


def test_the_seed_pathways_pass_the_time_free_stranding_check() -> None:
    registry = load_registry("definitions")
    report = check(registry, week=False)
    assert report.ok, report.to_text()
    assert report.complete and report.week == ()
    assert set(report.explored) == set(registry)
    assert len(registry) == 17


def test_the_seed_pathways_pass_the_week_aware_check() -> None:
    """Both houses, every hour of the reference week and of a holiday week (docs/services.md says how)."""
    report = check(load_registry("definitions"))
    assert report.week == ("aarhus", "copenhagen")
    assert report.ok, report.to_text()


def test_the_week_aware_check_adds_only_week_findings_to_the_time_free_one() -> None:
    registry = load_registry("definitions")
    free, week = check(registry, week=False), check(registry)
    assert week.findings[: len(free.findings)] == free.findings
    assert all(f.kind.week for f in week.findings[len(free.findings):])


def test_check_loads_a_folder_itself() -> None:
    assert check("definitions").to_json() == check(load_registry("definitions")).to_json()


def test_every_seed_counterexample_replays_on_the_engine() -> None:
    registry = load_registry("definitions")
    for finding in check(registry).findings:
        if finding.counterexample is not None:
            assert finding.counterexample.replay(registry).state == finding.counterexample.ends_in
