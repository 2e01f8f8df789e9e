"""Simulation: scenarios load strictly; runs use only moves the engine allows; counts add up."""

from __future__ import annotations

import itertools
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pathways import EventKind, load_registry, replay
from pathways.approvals import eligible_roles
from pathways.case import apply, new_case
from pathways.errors import ScenarioError
from pathways.i18n import use_language
from pathways.model import ANY_STATE
from pathways.registry import Registry
from pathways.scenario import Choices, Scenario, load_scenario, load_scenario_text
from pathways.simulation import Simulation, SimulationResult, WaitStats, simulate

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "fixtures" / "mini"
SEEDS = ROOT / "definitions"

MINI_SCENARIO = """
name: mini
start: 2026-01-05T00:00:00+01:00
period: P3D
seed: 1
arrivals:
  - {pathway: stay, per_day: 12, hours: [16, 24], facts: {consent_given: 0.8}}
durations:
  default: {dist: exponential, mean: PT1H}
  states: {stay.staying: {dist: lognormal, median: PT20H, sigma: 0.4}}
  approval: PT20M
staff:
  - {role: nurse, count: 2}
  - {role: ambulant, count: 1, hours: [8, 20]}
  - {role: leader_region, hours: [8, 16], weekdays: [mon, tue, wed, thu, fri]}
  - {role: leader_social, hours: [8, 16]}
choices: {leave: 0.05, refuse: 0.1}
"""

SEED_SCENARIO = ROOT / "examples" / "short_week.yaml"


def _mini(**changes: Any) -> Scenario:
    return attrs.evolve(load_scenario_text(MINI_SCENARIO, str(MINI / "scenario.yaml")), **changes)


def _check_run(sim: Simulation, result: SimulationResult) -> None:
    """The invariants every run must keep."""
    engine = sim.engine
    for case in engine.cases.values():
        pathway = engine.pathway_of(case)
        again = replay(pathway, case.citizen, case.history)
        assert (again.state, again.context, again.holds, again.pending, again.referral) == (
            case.state, case.context, case.holds, case.pending, case.referral,
        )
        before = new_case(case.history[0], case.citizen, pathway)
        for e in case.history:
            if e.kind in (EventKind.FIRED, EventKind.REQUESTED) and e.actor is not None:
                t = pathway.find(e.from_state, e.trigger or "")
                assert t is not None and before.state == e.from_state
                assert e.actor.role in t.roles
                assert pathway.roles[e.actor.role].sector == e.actor.sector
                assert all(g.holds(before.context) for g in t.guards)
            if e.kind is EventKind.APPROVED:
                assert e.actor is not None and e.approvals[-1].actor == e.actor
                t = pathway.find(e.from_state, e.trigger or "")
                assert t is not None and t.approval is not None
                assert e.actor.role in eligible_roles(t.approval, pathway)
            apply(before, e, pathway)
    for res, series in result.occupancy.items():
        assert all(0 <= n <= result.capacity[res] for _, n in series)
        assert result.peak[res] <= result.capacity[res]
    for r in [*result.pathways.values(), result.overall]:
        assert r.started == r.completed + r.left + r.open + r.stranded + r.livelocked
        assert 0 <= r.handed_over <= r.completed
    assert result.overall.started == len(engine.cases)


class TestScenarioFile:
    def test_a_scenario_loads_into_frozen_values(self) -> None:
        s = _mini()
        assert (s.name, s.period, s.arrivals[0].hours, s.staff[2].weekdays) == (
            "mini", timedelta(days=3), (16, 24), ("mon", "tue", "wed", "thu", "fri"),
        )
        assert s.durations.triggers == {}
        assert s.durations.approval.mean == timedelta(minutes=20)

    def test_every_mistake_is_reported_at_once_with_line_and_hint(self) -> None:
        text = textwrap.dedent("""\
            name: x
            start: 2026-01-05T00:00:00+01:00
            period: P1D
            arrivals: [{pathway: stay, per_day: lots}]
            choices: {leav: 0.1}
            """)
        with pytest.raises(ScenarioError) as exc:
            load_scenario_text(text, "s.yaml")
        assert str(exc.value) == (
            "2 problems in simulation scenario:\n"
            "  s.yaml:4:28: arrivals[0].per_day: expected a number, got 'lots'\n"
            "  s.yaml:5:11: choices.leav: unknown field 'leav' (did you mean 'leave'?)"
        )

    def test_the_file_is_the_source_so_a_source_field_is_a_mistake(self) -> None:
        text = MINI_SCENARIO + "source: elsewhere.yaml\n"
        with pytest.raises(ScenarioError) as exc:
            load_scenario_text(text, "s.yaml")
        assert [str(p) for p in exc.value.problems] == [f"s.yaml:{text.count(chr(10))}:1: source: unknown field 'source' (remove it)"]

    def test_ranges_weekdays_and_distributions_are_checked(self) -> None:
        text = textwrap.dedent("""\
            name: x
            start: 2026-01-05T00:00:00
            period: P1D
            arrivals: [{pathway: stay, per_day: 1, hours: [16, 25], weekdays: [mon, tues]}]
            durations: {default: {dist: uniform, low: PT1H}}
            choices: {refuse: 1.5}
            """)
        with pytest.raises(ScenarioError) as exc:
            load_scenario_text(text, "s.yaml")
        messages = [f"{p.path}: {p.message}" for p in exc.value.problems]
        assert messages == [
            "start: start 2026-01-05T00:00:00 has no time zone",
            "arrivals[0].hours: hours must be [from, to] with 0 <= hour <= 24 and from != to, got [16, 25]",
            "arrivals[0].weekdays[1]: unknown weekday 'tues'",
            "choices.refuse: a probability must be between 0 and 1, got 1.5",
            "durations.default.high: a uniform distribution needs 'high'",
        ]

    def test_names_the_definitions_lack_are_errors_with_lines(self) -> None:
        text = MINI_SCENARIO.replace("pathway: stay", "pathway: stai").replace("role: nurse", "role: nurze")
        s = load_scenario_text(text, "s.yaml")
        with pytest.raises(ScenarioError) as exc:
            Simulation(s, load_registry(MINI))
        assert [str(p) for p in exc.value.problems] == [
            "s.yaml:7:6: arrivals[0].pathway: unknown pathway 'stai' (did you mean 'stay'?)",
            "s.yaml:13:6: staff[0].role: no pathway has a role 'nurze' (did you mean 'nurse'?)",
        ]

    def test_the_definitions_folder_is_relative_to_the_scenario_file(self) -> None:
        assert load_scenario(SEED_SCENARIO).definitions_path() == ROOT / "examples" / ".." / "definitions"

    def test_a_plain_duration_is_a_fixed_distribution(self) -> None:
        d = _mini().durations.approval
        assert (d.dist.value, d.sample(__import__("random").Random(1)), d.mean_seconds()) == ("fixed", 1200.0, 1200.0)


class TestDeterminism:
    def test_the_same_seed_gives_the_same_result(self) -> None:
        registry = load_registry(MINI)
        a = simulate(_mini(), registry, seed=11).to_json()
        b = simulate(_mini(), registry, seed=11).to_json()
        assert a == b

    def test_another_seed_gives_another_run(self) -> None:
        registry = load_registry(MINI)
        assert simulate(_mini(), registry, seed=1).to_json() != simulate(_mini(), registry, seed=2).to_json()

    def test_case_ids_are_counted_not_random(self) -> None:
        sim = Simulation(_mini(), load_registry(MINI))
        sim.run()
        ids = sorted(sim.engine.cases)
        assert ids[:3] == ["case-000001", "case-000002", "case-000003"]


class TestRules:
    def test_staff_act_only_while_on_shift(self) -> None:
        sim = Simulation(_mini(period=timedelta(days=7)), load_registry(MINI))
        sim.run()
        acts = [e for c in sim.engine.cases.values() for e in c.history if e.actor is not None]
        approvals = [e for e in acts if e.kind is EventKind.APPROVED]
        assert approvals and acts
        for e in acts:
            if e.actor is not None and e.actor.role != "citizen":
                assert e.actor.person in sim.on_shift(e.actor.role, e.at)

    def test_without_the_social_leader_at_night_no_evening_arrival_is_admitted(self) -> None:
        """One approval per sector: nurses cover the region, only the social leader (8-16) the municipality."""
        sim = Simulation(_mini(period=timedelta(days=7)), load_registry(MINI))
        result = sim.run()
        assert result.overall.started > 0
        assert all(e.trigger != "admit" for c in sim.engine.cases.values() for e in c.history if e.kind is EventKind.FIRED)
        assert sim.on_shift("leader_social", sim.scenario.start.replace(hour=9)) == ("leader_social-1",)
        assert sim.on_shift("leader_social", sim.scenario.start.replace(hour=17)) == ()

    def test_citizens_arrive_only_in_opening_hours(self) -> None:
        sim = Simulation(_mini(), load_registry(MINI))
        sim.run()
        starts = [c.history[0].at for c in sim.engine.cases.values() if c.pathway_id == "stay"]
        assert starts and all(16 <= at.hour < 24 for at in starts)

    def test_deadlines_fired_counts_the_escalations(self) -> None:
        sim = Simulation(_mini(), load_registry(MINI))
        result = sim.run()
        escalated = sum(e.kind is EventKind.ESCALATED for c in sim.engine.cases.values() for e in c.history)
        assert result.overall.deadlines_fired == escalated > 0

    def test_a_citizen_who_never_leaves_never_ends_left_by_choice(self) -> None:
        result = simulate(_mini(choices=Choices(leave=0.0)), load_registry(MINI))
        assert result.overall.left == 0

    def test_hand_overs_start_cases_in_the_receiving_pathway(self) -> None:
        scenario = load_scenario_text(
            MINI_SCENARIO.replace("{role: leader_social, hours: [8, 16]}", "{role: leader_social}"), str(MINI / "s.yaml"),
        )
        scenario = attrs.evolve(scenario, choices=Choices(leave=0.0, refuse=0.0), period=timedelta(days=7))
        sim = Simulation(scenario, load_registry(MINI))
        result = sim.run()
        received = [c for c in sim.engine.cases.values() if c.pathway_id == "amb"]
        assert result.flows.get("stay->amb", 0) == len(received) > 0
        assert all(c.referred_by is not None for c in received)

    def test_a_definition_defect_met_under_load_is_reported_not_raised(self) -> None:
        """The mini 'stay' releases its place on 'refer'; a declined hand-over returns to 'staying'
        without a place, so the next 'refer' would release a place the case does not hold."""
        scenario = load_scenario_text(
            MINI_SCENARIO.replace("{role: leader_social, hours: [8, 16]}", "{role: leader_social}"), str(MINI / "s.yaml"),
        )
        scenario = attrs.evolve(scenario, choices=Choices(leave=0.0, refuse=0.0, decline=1.0), period=timedelta(days=7))
        result = simulate(scenario, load_registry(MINI))
        assert result.defects[0].startswith(
            "'refer' releases a place of 'places', but the case holds none (a defect in the pathway: release only what was taken) (first: case-"
        )

    def test_the_progress_callback_runs_from_zero_to_one(self) -> None:
        seen: list[float] = []
        simulate(_mini(), load_registry(MINI), progress=seen.append)
        assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)

    def test_capacity_override_is_used_by_the_engine(self) -> None:
        sim = Simulation(_mini(capacities={"places": 3}), load_registry(MINI))
        assert sim.engine.capacity("places") == 3


STRANDING = """
id: trap
version: 1
title: {da: Fælde, en: Trap}
description: {da: d, en: d}
initial: waiting
sectors:
  region: {label: {da: Region, en: Region}}
  citizen: {label: {da: Borger, en: Citizen}}
roles:
  nurse: {sector: region, label: {da: S, en: Nurse}}
  citizen: {sector: citizen, label: {da: B, en: Citizen}}
facts:
  consent_given: {label: {da: Samtykke, en: Consent}}
states:
  - {id: waiting, kind: waiting, label: {da: v, en: Waiting}, responsible: [nurse]}
  - {id: done, kind: terminal, outcome: completed, label: {da: f, en: Done}}
  - {id: left, kind: terminal, outcome: left_by_choice, label: {da: g, en: Left}, follow_up: {da: r, en: Call}}
transitions:
  - {trigger: proceed, source: waiting, dest: done, roles: [nurse], guards: [consent_given]}
  - {trigger: leave, source: "*", dest: left, roles: [citizen]}
"""


class TestStranded:
    def _run(self, tmp_path: Path, lang: str = "en") -> tuple[Simulation, SimulationResult]:
        (tmp_path / "trap.yaml").write_text(STRANDING)
        scenario = load_scenario_text(textwrap.dedent("""\
            name: trap
            start: 2026-01-05T00:00:00+00:00
            period: P1D
            seed: 4
            arrivals: [{pathway: trap, per_day: 6, facts: {consent_given: 0.5}}]
            staff: [{role: nurse}]
            choices: {leave: 0.0}
            """), str(tmp_path / "s.yaml"))
        scenario = attrs.evolve(scenario, definitions=".")
        sim = Simulation(scenario)
        return sim, sim.run(lang="da" if lang == "da" else "en")

    def test_a_case_nobody_can_move_on_is_stranded_with_its_story(self, tmp_path: Path) -> None:
        from pathways.report import summary_text

        sim, result = self._run(tmp_path)
        without_consent = [c for c in sim.engine.cases.values() if not c.context["consent_given"]]
        assert result.overall.stranded == len(without_consent) == len(result.stranded_cases) > 0
        first = result.stranded_cases[0]
        assert first.story == (
            f"{first.since:%Y-%m-%d %H:%M} started in Waiting [waiting]",
            "  'proceed' is not possible: guard 'consent_given' does not hold",
            "stranded in Waiting [waiting]: no deadline, no pending answer, and nobody can move the case on",
        )
        with use_language("en"):
            assert f"STRANDED {first.case_id} in trap / Waiting [waiting]:" in summary_text(result, sim.registry)

    def test_the_stranded_story_is_told_in_danish(self, tmp_path: Path) -> None:
        from pathways.report import summary_text

        sim, result = self._run(tmp_path, "da")
        first = result.stranded_cases[0]
        assert first.story == (
            f"{first.since:%Y-%m-%d %H:%M} startet i v [waiting]",
            "  'proceed' er ikke mulig: betingelsen 'consent_given' er ikke opfyldt",
            "fastlåst i v [waiting]: ingen frist, intet ventende svar, og ingen kan føre sagen videre",
        )
        with use_language("da"):
            text = summary_text(result, sim.registry)
        assert text.splitlines()[2].split() == ["forløb", "startet", "afsluttet", "overdraget", "gået", "åbne", "fastlåste",
                                                "kører", "i", "ring", "frister"]
        assert f"FASTLÅST {first.case_id} i trap / v [waiting]:\n  {first.story[0]}" in text

    def test_the_counts_still_add_up(self, tmp_path: Path) -> None:
        sim, result = self._run(tmp_path)
        _check_run(sim, result)
        assert result.overall.left == 0


class TestWaitStats:
    def test_median_p90_and_max_by_nearest_rank(self) -> None:
        assert WaitStats.of(range(1, 11)) == WaitStats(10, 5.5, 9.0, 10.0)

    def test_no_values_give_zeros(self) -> None:
        assert WaitStats.of([]) == WaitStats(0, 0.0, 0.0, 0.0)


def _seed_registry() -> Registry:
    return load_registry(SEEDS)


class TestProperties:
    @settings(max_examples=15, deadline=None)
    @given(
        seed=st.integers(0, 10_000),
        per_day=st.floats(1, 40),
        places=st.integers(1, 3),
        leave=st.sampled_from([0.0, 0.05, 0.3]),
        refuse=st.sampled_from([0.0, 0.5, 1.0]),
    )
    def test_mini_runs_keep_every_invariant(self, seed: int, per_day: float, places: int, leave: float, refuse: float) -> None:
        scenario = _mini(capacities={"places": places}, choices=Choices(leave=leave, refuse=refuse))
        scenario = attrs.evolve(scenario, arrivals=(attrs.evolve(scenario.arrivals[0], per_day=per_day),))
        sim = Simulation(scenario, load_registry(MINI), seed=seed)
        _check_run(sim, sim.run())

    @settings(max_examples=8, deadline=None)
    @given(seed=st.integers(0, 10_000), places=st.sampled_from([1, 4, 16]), leave=st.sampled_from([0.0, 0.1]))
    def test_seed_pathway_runs_keep_every_invariant(self, seed: int, places: int, leave: float) -> None:
        scenario = load_scenario(SEED_SCENARIO)
        scenario = attrs.evolve(scenario, period=timedelta(days=2), capacities={"overnight_places": places},
                                choices=attrs.evolve(scenario.choices, leave=leave))
        sim = Simulation(scenario, _seed_registry(), seed=seed)
        result = sim.run()
        _check_run(sim, result)
        assert result.capacity["overnight_places"] == places

    def test_with_sixteen_places_a_crowded_house_never_exceeds_sixteen(self) -> None:
        scenario = load_scenario(SEED_SCENARIO)
        crowded = tuple(
            attrs.evolve(a, per_day=a.per_day * 4) if a.pathway == "overnight_stay" else a for a in scenario.arrivals
        )
        sim = Simulation(attrs.evolve(scenario, arrivals=crowded), _seed_registry())
        result = sim.run()
        _check_run(sim, result)
        assert result.peak["overnight_places"] == 16
        assert sum(result.turned_away["overnight_places"]) > 0


def test_any_state_is_the_model_wildcard() -> None:
    """The simulation treats '*' sources through Pathway.sources_of, like the engine."""
    p = load_registry(MINI)["stay"]
    leave = next(t for t in p.transitions if t.trigger == "leave")
    assert ANY_STATE in leave.source and "arrived" in p.sources_of(leave)


def test_arrivals_while_the_service_is_closed_are_counted_not_started() -> None:
    """A scenario that sends walk-ins in the morning disagrees with the house (16-24): counted, no crash."""
    scenario = load_scenario(SEED_SCENARIO)
    morning = tuple(
        attrs.evolve(a, hours=(8, 12)) if a.pathway == "walk_in" else a for a in scenario.arrivals
    )
    result = simulate(attrs.evolve(scenario, arrivals=morning), seed=1)
    assert result.closed_arrivals["walk_in"] > 0
    assert "walk_in" not in result.pathways or result.pathways["walk_in"].started == 0
    assert result.to_json()["closed_arrivals"] == dict(result.closed_arrivals)


TINY = ROOT / "tests" / "fixtures" / "tiny_house"
TINY_SCENARIO = """
name: tiny
start: 2026-01-05T00:00:00+01:00
period: P7D
seed: 3
definitions: .
arrivals: [{pathway: stay, per_day: 4, hours: [16, 24]}]
choices: {leave: 0.0, refuse: 0.0}
"""


def _tiny(text: str = TINY_SCENARIO, **changes: Any) -> Scenario:
    scenario = load_scenario_text(text, str(TINY / "scenario.yaml"))
    return attrs.evolve(scenario, **changes) if changes else scenario


class TestTheHouse:
    def test_shifts_and_head_counts_come_from_the_house_file(self) -> None:
        sim = Simulation(_tiny())
        monday = sim.scenario.start
        assert sim.on_shift("nurse", monday.replace(hour=17), house="tiny") == ("nurse-1",)
        assert sim.on_shift("nurse", monday.replace(hour=15), house="tiny") == ()
        assert sim.on_shift("leader", monday.replace(hour=9), house="tiny") == ("leader-1",)
        assert sim.on_shift("leader", monday.replace(day=10, hour=9), house="tiny") == ()  # a Saturday

    def test_a_scenario_shift_replaces_the_house_staffing_of_its_role(self) -> None:
        sim = Simulation(_tiny(TINY_SCENARIO + "staff: [{role: nurse, count: 2, hours: [8, 12]}]\n"))
        monday = sim.scenario.start
        assert sim.on_shift("nurse", monday.replace(hour=9), house="tiny") == ("nurse-1", "nurse-2")
        assert sim.on_shift("nurse", monday.replace(hour=17), house="tiny") == ()
        assert sim.on_shift("leader", monday.replace(hour=9), house="tiny") == ("leader-1",)

    def test_the_scenario_names_a_house_that_is_not_loaded(self) -> None:
        with pytest.raises(ScenarioError) as exc:
            Simulation(_tiny(TINY_SCENARIO + "staff: [{role: nurse, house: tyni}]\n"))
        assert [str(p) for p in exc.value.problems] == [
            f"{TINY / 'scenario.yaml'}:9:23: staff[0].house: unknown house 'tyni' (known houses: 'tiny')",
        ]

    def test_hours_are_the_house_local_time_in_summer_too(self) -> None:
        """16-24 in Copenhagen is 14-22 UTC in summer: every arrival comes while the service is open."""
        sim = Simulation(_tiny(start=datetime(2026, 3, 23, tzinfo=UTC), period=timedelta(days=14)))
        result = sim.run()
        local = [c.history[0].at.astimezone(ZoneInfo("Europe/Copenhagen")) for c in sim.engine.cases.values()]
        assert result.closed_arrivals == {}
        assert len(local) == result.overall.started > 20
        assert all(16 <= at.hour < 24 for at in local)
        assert {at.utcoffset() for at in local} == {timedelta(hours=1), timedelta(hours=2)}

    def test_staff_keep_local_hours_over_the_spring_change(self) -> None:
        sim = Simulation(_tiny(start=datetime(2026, 3, 23, tzinfo=UTC), period=timedelta(days=14)))
        summer = datetime(2026, 3, 30, 14, 30, tzinfo=UTC)  # 16:30 in Copenhagen
        assert sim.on_shift("nurse", summer, house="tiny") == ("nurse-1",)
        assert sim.on_shift("nurse", summer.replace(hour=22, minute=30), house="tiny") == ()

    def test_a_weekday_stream_sends_nobody_on_a_public_holiday(self) -> None:
        """2. pinsedag runs on Sunday's hours, as the house's calendar has it."""
        weekdays = TINY_SCENARIO.replace("hours: [16, 24]", "hours: [16, 24], weekdays: [mon, tue, wed, thu, fri]")
        holiday = simulate(_tiny(weekdays, start=datetime(2026, 5, 25, tzinfo=ZoneInfo("Europe/Copenhagen")),
                                 period=timedelta(days=1), arrivals=(attrs.evolve(_tiny().arrivals[0], per_day=50,
                                 weekdays=("mon", "tue", "wed", "thu", "fri")),)))
        assert holiday.overall.started == 0 and holiday.closed_arrivals == {}


class TestLivelock:
    """A nurse whose extension request always times out (the leader works days) is not 'open, 0 stranded'."""

    def test_a_request_that_always_times_out_is_a_livelock_with_its_story(self) -> None:
        sim = Simulation(_tiny())
        result = sim.run()
        assert result.overall.stranded == 0
        assert result.overall.livelocked == len(result.livelocks) > 0
        first = result.livelocks[0]
        assert (first.case_id, first.pathway, first.state, first.repeats) == ("case-000001", "stay", "staying", 10)
        assert first.cycle == (
            "2026-01-05 17:10 requested 'request_extension' by Nurse (Region) [nurse] (nurse-1): stays in Staying [staying]",
            "2026-01-05 21:10 refused 'request_extension': stays in Staying [staying] (approval timed out)",
        )
        assert first.story == (
            "2026-01-05 16:32 started in Staying [staying]",
            "then 10 times the same 2 step(s), from 2026-01-05 17:10 to 2026-01-11 03:14; the first round:",
            *(f"  {line}" for line in first.cycle),
            "livelock in Staying [staying]: the same steps repeat without progress (still at the end of the period)",
        )
        _check_run(sim, result)

    def test_the_livelock_story_is_told_in_danish(self) -> None:
        first = simulate(_tiny(), lang="da").livelocks[0]
        assert first.story == (
            "2026-01-05 16:32 startet i Bor her [staying]",
            "derefter 10 gange de samme 2 skridt, fra 2026-01-05 17:10 til 2026-01-11 03:14; første runde:",
            "  2026-01-05 17:10 anmodet om 'request_extension' af Sygeplejerske (Region) [nurse] (nurse-1): bliver i Bor her [staying]",
            "  2026-01-05 21:10 afvist 'request_extension': bliver i Bor her [staying] (godkendelsen udløb)",
            "kører i ring i Bor her [staying]: de samme skridt gentages uden fremskridt (stadig ved periodens slutning)",
        )

    def test_livelocks_are_in_the_json_and_the_summary(self) -> None:
        from pathways.report import summary_text

        result = simulate(_tiny())
        data = result.to_json()
        assert data["overall"]["livelocked"] == len(data["livelocks"]) == len(result.livelocks)
        assert data["livelocks"][0]["cycle"] == list(result.livelocks[0].cycle)
        with use_language("en"):
            assert "LIVELOCK case-000001 in stay / staying, 10 rounds:" in summary_text(result)

    def test_with_the_leader_there_in_the_evening_nothing_is_livelocked(self) -> None:
        evening = _tiny(TINY_SCENARIO + "staff: [{role: leader, hours: [16, 24]}]\n")
        result = simulate(evening)
        assert result.overall.livelocked == 0 and result.overall.completed > 0

    def test_fewer_rounds_than_livelock_repeats_is_still_open(self) -> None:
        result = simulate(_tiny(livelock_repeats=1000))
        assert result.overall.livelocked == 0 and result.overall.open == result.overall.started

    def test_livelock_repeats_must_be_at_least_two(self) -> None:
        with pytest.raises(ScenarioError) as exc:
            _tiny(TINY_SCENARIO + "livelock_repeats: 1\n")
        assert [p.message for p in exc.value.problems] == ["livelock_repeats must be at least 2, got 1"]


BUSY_SCENARIO = """
name: busy
start: 2026-01-05T00:00:00+01:00
period: P2D
seed: 5
definitions: .
arrivals: [{pathway: stay, per_day: 12, hours: [16, 24]}]
durations:
  default: PT10M
  work: {default: PT1H}
choices: {leave: 0.0, refuse: 0.0}
livelock_repeats: 2
"""


class TestQueues:
    """One evening nurse, twelve citizens an evening, an hour of work for each request."""

    def test_a_staff_member_helps_one_citizen_at_a_time(self) -> None:
        sim = Simulation(_tiny(BUSY_SCENARIO))
        sim.run()
        acts = sorted(e.at for c in sim.engine.cases.values() for e in c.history
                      if e.actor is not None and e.actor.person == "nurse-1")
        assert len(acts) > 5
        assert all((b - a) >= timedelta(hours=1) for a, b in itertools.pairwise(acts))

    def test_citizens_wait_in_a_queue_for_the_busy_nurse(self) -> None:
        result = simulate(_tiny(BUSY_SCENARIO))
        nurse = result.roles["tiny/nurse"]
        assert (nurse.house, nurse.role, nurse.duty_hours) == ("tiny", "nurse", 16.0)
        assert nurse.queue.count == nurse.acts > 0 and nurse.queue.max > 0
        assert (nurse.acts, nurse.busy_hours, nurse.overtime_hours, nurse.utilisation) == (13, 11.94, 0.06, 11.94 / 16)
        monday_evening = nurse.by_hour[16:24]
        assert monday_evening == (0.1833, 0.8167, 0.0, 0.0, 0.9356, 1.0, 1.0, 1.0)
        assert nurse.by_hour[8] is None  # nobody on duty Monday 08-09
        assert result.to_json()["roles"]["tiny/nurse"]["by_hour"][16:24] == list(monday_evening)

    def test_the_leader_on_duty_but_never_asked_is_idle(self) -> None:
        leader = simulate(_tiny(BUSY_SCENARIO)).roles["tiny/leader"]
        assert (leader.acts, leader.busy_hours, leader.utilisation, leader.duty_hours) == (0, 0.0, 0.0, 16.0)

    def test_the_summary_shows_utilisation_per_role(self) -> None:
        from pathways.report import summary_text

        text = summary_text(simulate(_tiny(BUSY_SCENARIO)))
        assert "role" in text and "tiny/nurse" in text and "utilisation" in text


class TestAccounting:
    @settings(max_examples=12, deadline=None)
    @given(
        seed=st.integers(0, 10_000),
        per_day=st.floats(1, 30),
        work=st.sampled_from(["PT5M", "PT1H", "PT3H"]),
        closed_hours=st.booleans(),
    )
    def test_utilisation_never_exceeds_the_head_count_and_every_arrival_is_accounted_for(
        self, seed: int, per_day: float, work: str, closed_hours: bool,
    ) -> None:
        """Busy ≤ on duty in every hour of the week; finished + open + stranded + livelocked
        + turned away = arrivals."""
        text = BUSY_SCENARIO.replace("PT1H", work).replace("per_day: 12", f"per_day: {per_day}")
        if closed_hours:  # some arrivals come while the evening service is closed
            text = text.replace("hours: [16, 24]", "hours: [12, 20]")
        sim = Simulation(_tiny(text), seed=seed)
        result = sim.run()
        _check_run(sim, result)
        for load in result.roles.values():
            assert load.busy_hours <= load.duty_hours
            assert all(u is None or 0.0 <= u <= 1.0 for u in load.by_hour)
        arrived = [c for c in sim.engine.cases.values() if c.referred_by is None]
        buckets = (result.overall.completed + result.overall.left + result.overall.open + result.overall.stranded
                   + result.overall.livelocked)
        assert buckets == result.overall.started == len(arrived)
        assert sum(result.arrivals.values()) == len(arrived) + sum(result.closed_arrivals.values())
        assert bool(result.closed_arrivals) == (closed_hours and sum(result.arrivals.values()) > len(arrived))


def test_the_citizen_repeating_their_own_move_is_open_not_livelocked() -> None:
    text = TINY_SCENARIO.replace("{pathway: stay, per_day: 4, hours: [16, 24]}", "{pathway: diary, per_day: 4, facts: {consent_given: 0.0}}")
    sim = Simulation(_tiny(text))
    result = sim.run()
    writes = [sum(e.trigger == "write" for e in c.history) for c in sim.engine.cases.values()]
    assert max(writes) >= 2 * sim.scenario.livelock_repeats
    assert (result.overall.livelocked, result.overall.stranded, result.overall.open) == (0, 0, result.overall.started)


def test_a_shift_for_the_citizens_side_is_a_mistake() -> None:
    with pytest.raises(ScenarioError) as exc:
        Simulation(_tiny(TINY_SCENARIO + "staff: [{role: relative, hours: [8, 20]}]\n"))
    assert [(p.message, p.hint) for p in exc.value.problems] == [
        ("role 'relative' is there with the case (the citizen's side, or the organisation the pathway is about): "
         "it has no shifts", "remove the shift"),
    ]
