"""The houses' goals (seed 004), counted the same way on engine cases, simulations and stores."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta
from pathlib import Path

import attrs
import pytest

import pathways
from pathways import Actor, Case, Engine, Goal, ManualClock
from pathways.goals import GoalCounts, measure, measure_by_house

REGISTRY = pathways.load_registry("definitions")
START = datetime.fromisoformat("2026-03-02T18:00:00+01:00")
CITIZEN = Actor("c-1", "citizen", "citizen")
NURSE = Actor("rn-1", "nurse", "region")
SOCIAL = Actor("sr-1", "social_worker", "municipal_social")
OUTREACH = Actor("ut-1", "outreach_worker", "municipal_social")
WARD = Actor("aw-1", "ward_physician", "region")


DAYTIME = datetime.fromisoformat("2026-03-03T09:00:00+01:00")
"""A Tuesday morning: daytime services (the job bridge, Copenhagen's clinic) are open."""


def _engine(registry: pathways.Registry = REGISTRY, start: datetime = START) -> tuple[Engine, ManualClock]:
    clock = ManualClock(start)
    ids = (f"case-{n}" for n in itertools.count(1))
    return Engine(registry, clock=clock, new_id=lambda: next(ids)), clock


def _to_ward(engine: Engine, citizen: str) -> None:
    call = engine.start("outreach_team", citizen, facts={"consent_to_visit": True})
    engine.fire(call, "visit_home", OUTREACH)
    engine.fire(call, "finish_visit", OUTREACH)
    engine.fire(call, "accompany_to_ward", OUTREACH)
    assert call.referral is not None
    engine.fire(engine.case(call.referral.case_id), "accept", WARD)


def _stay(engine: Engine, citizen: str) -> Case:
    stay = engine.start("overnight_stay", citizen, facts={"consent_given": True})
    engine.fire(stay, "assess", NURSE)
    engine.fire(stay, "admit", SOCIAL)
    return stay


def test_the_states_that_count_towards_the_goals_are_marked_in_the_definitions() -> None:
    marked = {(p.id, s.id): s.goal for p in REGISTRY.values() for s in p.states if s.goal is not None}
    assert marked == {
        ("overnight_stay", "staying"): Goal.ADMISSION_AVOIDED,
        ("ambulant_team", "home_treatment"): Goal.ADMISSION_AVOIDED,
        ("acute_ward", "admitted"): Goal.ADMITTED,
        ("job_bridge", "in_education_or_work"): Goal.EDUCATION_OR_WORK,
        ("peer_education", "hired_as_peer"): Goal.EDUCATION_OR_WORK,
    }


def test_a_second_admission_within_30_days_is_a_readmission_and_one_after_is_not() -> None:
    engine, clock = _engine()
    _to_ward(engine, "c-1")
    clock.advance(timedelta(days=29))
    _to_ward(engine, "c-1")
    clock.advance(timedelta(days=31))
    _to_ward(engine, "c-1")
    _to_ward(engine, "c-2")
    goals = measure(engine.cases.values(), REGISTRY)
    assert (goals.admissions, goals.readmissions, goals.citizens) == (4, 1, 2)


def test_a_stay_instead_of_admission_and_its_place_hours() -> None:
    engine, clock = _engine()
    stay = _stay(engine, "c-1")
    clock.advance(timedelta(hours=30))
    engine.fire(stay, "discharge", NURSE)
    goals = measure(engine.cases.values(), REGISTRY, start=START, end=START + timedelta(hours=48))
    assert goals.admissions_avoided == 1
    assert goals.place_hours["overnight_places"] == pytest.approx(30.0)
    assert goals.place_use["overnight_places"] == pytest.approx(30 / (16 * 48))


def test_a_place_still_held_at_the_end_of_the_period_counts_until_the_end() -> None:
    engine, _ = _engine()
    _stay(engine, "c-1")
    goals = measure(engine.cases.values(), REGISTRY, start=START, end=START + timedelta(hours=10))
    assert goals.place_hours["overnight_places"] == pytest.approx(10.0)


def test_job_bridge_outcomes_are_listed_and_education_or_work_counted() -> None:
    engine, _ = _engine(start=DAYTIME)
    psychiatrist = Actor("md-1", "psychiatrist", "region")
    caseworker = Actor("jc-1", "job_caseworker", "municipal_employment")
    for n, goal in enumerate([True, False]):
        case = engine.start("job_bridge", f"c-{n}", facts={"consent_to_share": True})
        engine.fire(case, "start_bridge", Actor(f"c-{n}", "citizen", "citizen"))
        engine.approve(case, psychiatrist)
        engine.approve(case, caseworker)
        if goal:
            engine.fire(case, "reach_goal", caseworker)
        else:
            engine.fire(case, "leave", Actor(f"c-{n}", "citizen", "citizen"))
    goals = measure(engine.cases.values(), REGISTRY)
    assert goals.education_or_work == 1
    assert goals.outcomes == {"job_bridge.in_education_or_work": 1, "job_bridge.left_by_choice": 1}


def test_a_citizen_who_leaves_without_a_follow_up_offer_is_named() -> None:
    walk = REGISTRY["walk_in"]
    silent = attrs.evolve(walk, states=tuple(
        attrs.evolve(s, follow_up=None) if s.id == "left_by_choice" else s for s in walk.states
    ))
    registry = pathways.Registry([silent, *(p for p in REGISTRY.values() if p.id != "walk_in")])
    engine, _ = _engine(registry)
    case = engine.start("walk_in", "c-1")
    engine.fire(case, "leave", CITIZEN)
    kept = engine.start("walk_in", "c-2")
    engine.fire(kept, "start_conversation", Actor("sv-1", "social_duty_worker", "municipal_social"))
    assert measure(engine.cases.values(), registry).left_without_follow_up == (case.id,)
    assert measure(engine.cases.values(), REGISTRY).left_without_follow_up == ()


def test_no_cases_measure_nothing_rather_than_zeros() -> None:
    goals = measure([], REGISTRY)
    assert (goals.cases, goals.admissions, goals.place_use) == (0, None, {})
    assert goals.rows()[1] == ("admissions (acute ward)", "no such service")
    assert goals.rows()[-1] == ("left without a follow-up offer (goal: none)", "0")


def test_a_house_without_overnight_places_or_job_bridge_shows_no_such_service() -> None:
    engine, _ = _engine(start=DAYTIME)
    course = engine.start("outpatient_course", "c-1")
    engine.fire(course, "refer_acute_ward", Actor("md-1", "psychiatrist", "region"))
    goals = measure(engine.cases.values(), REGISTRY)
    assert (goals.admissions_avoided, goals.admissions, goals.education_or_work, goals.place_hours) == (None, 0, None, {})


def test_cases_are_grouped_by_their_pathways_house() -> None:
    engine, _ = _engine()
    _stay(engine, "c-1")
    by_house = measure_by_house(engine.cases.values(), REGISTRY)
    assert list(by_house) == [next(iter(by_house))]
    assert all(isinstance(g, GoalCounts) for g in by_house.values())


def test_pathways_goals_reads_a_store_of_real_cases(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pathways.cli import main
    from pathways.store import DurableEngine, open_store

    db = tmp_path / "house.db"
    store = open_store(str(db))
    engine = DurableEngine(REGISTRY, store, clock=ManualClock(START))
    case = engine.start("overnight_stay", "c-1", facts={"consent_given": True})
    engine.fire(case.id, "assess", NURSE)
    engine.fire(case.id, "admit", SOCIAL)
    store.close()
    assert main(["goals", "--db", str(db), "--definitions", "definitions", "--format", "json"]) == 0
    [goals] = json.loads(capsys.readouterr().out).values()
    assert (goals["cases"], goals["admissions_avoided"], goals["left_without_follow_up"]) == (1, 1, [])
    assert main(["goals", "--db", str(db), "--definitions", "definitions", "--lang", "da"]) == 0
    assert "undgåede indlæggelser (ophold og behandling i eget hjem i stedet)  1" in capsys.readouterr().out
