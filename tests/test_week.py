"""The week-aware proof (pathways.week) on the Aarhus and Copenhagen houses.

``pathways.check`` runs it for every house of a registry. The shipped definitions pass it
(``tests/test_seed_check.py``); these tests pin what it finds in the houses with the walk-in
as it was before the proof (no hand-over to the Udrykningsteam at closing), and that its
counterexamples replay on the real engine with a clock.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pathways import Registry, load_registry, load_text
from pathways.findings import Finding, FindingKind
from pathways.stranding import check
from pathways.week import Week

DEFINITIONS = Path(__file__).parent.parent / "definitions"
SHIPPED = load_registry(DEFINITIONS)


def _walk_in_before_the_week_proof() -> Registry:
    """The shipped houses, but Socialvagten keeps its citizens past closing (the gap the proof found)."""
    text = (DEFINITIONS / "walk_in.yaml").read_text(encoding="utf-8")
    text = text.replace("    deadline: {after: PT8H, counted: until_closing, trigger: night_handover}\n", "")
    walk_in = load_text(text, "walk_in.yaml", houses=SHIPPED.houses.values())
    return Registry([walk_in if p.id == "walk_in" else p for p in SHIPPED.values()], houses=SHIPPED.houses.values())


REGISTRY = _walk_in_before_the_week_proof()
FINDINGS = [f for f in check(REGISTRY).findings if f.kind.week]


def only(kind: str, pathway: str, state: str | None = None, trigger: str | None = None) -> Finding:
    found = [
        f for f in FINDINGS
        if f.kind is FindingKind(kind) and f.pathway == pathway
        and (state is None or state in f.states) and (trigger is None or trigger in f.transitions)
    ]
    assert len(found) == 1, FINDINGS
    return found[0]


def test_the_week_is_cut_at_the_hours_where_something_changes() -> None:
    week = Week(REGISTRY.houses["aarhus"], [p for p in REGISTRY.values() if p.house == "aarhus"])
    assert (week.unit, week.n) == (60, 168)


def test_socialvagten_closes_at_midnight_with_a_citizen_in_conversation() -> None:
    f = only("unstaffed", "walk_in", "in_conversation")
    assert f.message.startswith(
        "Monday 00:00 the citizen can be in Advice conversation with Socialvagten [in_conversation] and nobody "
        "responsible there (Socialvagten worker (Municipal social services) [social_duty_worker]) is on duty until "
        "Monday 16:00; unstaffed: from Monday 00:00 to Monday 16:00,"
    )


def test_only_the_walk_in_fails_without_its_hand_over_at_closing() -> None:
    assert {(f.kind, f.pathway) for f in FINDINGS} == {(FindingKind.UNSTAFFED, "walk_in")}
    assert [f for f in check(SHIPPED).findings if f.kind.week] == []


def test_an_extension_asked_for_in_the_evening_waits_until_the_leaders_are_back() -> None:
    assert not [f for f in FINDINGS if f.pathway == "overnight_stay"]
    t = REGISTRY["overnight_stay"].find("review", "request_extension")
    assert t is not None and t.approval is not None and t.approval.timeout == timedelta(days=6)


def test_copenhagen_counts_the_emergency_room_outside_the_house_in_its_safety_net() -> None:
    service = REGISTRY.houses["copenhagen"].services["akutmodtagelsen"]
    assert (service.external, service.without_referral, service.pathways) == (True, True, ("acute_ward",))
    assert not [f for f in FINDINGS if f.pathway == "copenhagen"]


def test_aarhus_has_a_safety_net_at_every_hour() -> None:
    assert not [f for f in FINDINGS if f.kind is FindingKind.NO_SAFETY_NET and f.pathway == "aarhus"]


@pytest.mark.parametrize("f", [f for f in FINDINGS if f.counterexample is not None], ids=lambda f: f"{f.kind.value}-{f.pathway}-{f.states[0]}")
def test_every_counterexample_replays_on_the_engine_with_a_clock(f: Finding) -> None:
    cx = f.counterexample
    assert cx is not None and cx.started_at is not None
    case = cx.replay(REGISTRY)
    assert case.state == cx.ends_in


def test_the_unstaffed_story_names_the_time_and_nobody_is_on_duty_at_its_end() -> None:
    f = only("unstaffed", "walk_in", "arrived")
    cx = f.counterexample
    assert cx is not None
    arrived = "The citizen has walked in without an appointment [arrived]"
    assert cx.story() == (
        f"the citizen arrives at {REGISTRY['walk_in'].title.en} ({arrived}) on Sunday 23:40; "
        f"Monday 00:00 the citizen is still in {arrived}; nobody responsible (Socialvagten worker (Municipal social services) "
        f"[social_duty_worker]) is on duty — stuck in {arrived}"
    )
    end = cx.steps[-1].when
    assert end is not None and REGISTRY.houses["aarhus"].on_duty("social_duty_worker", end) == 0
