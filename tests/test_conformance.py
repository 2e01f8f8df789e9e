"""Conformance: a simulated log fits; every deviation planted in it is found, with its rule."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pathways.case import Case
from pathways.cli import main
from pathways.conformance import (
    DeviationKind,
    LogError,
    LogEvent,
    conform,
    read_csv,
    read_log,
    read_ocel,
    read_xes,
)
from pathways.eventlog import write_csv, write_ocel_json, write_xes
from pathways.registry import Registry
from pathways.scenario import load_scenario
from pathways.simulation import Simulation

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def week() -> tuple[Registry, list[Case], list[LogEvent]]:
    sim = Simulation(load_scenario(ROOT / "examples" / "short_week.yaml"))
    sim.run()
    cases = sorted(sim.engine.cases.values(), key=lambda c: c.id)
    text = io.StringIO()
    write_csv(cases, text)
    path = Path(_tmp_csv(text.getvalue()))
    return sim.registry, cases, list(read_csv(path))


def _tmp_csv(text: str) -> str:
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8") as f:
        f.write(text)
    return f.name


@pytest.mark.parametrize("fmt", ["csv", "xes", "ocel"])
def test_a_log_the_simulation_produced_has_no_deviation(week, tmp_path, fmt):
    registry, cases, _ = week
    path = tmp_path / f"week.{'json' if fmt == 'ocel' else fmt}"
    with path.open("w", encoding="utf-8", newline="") as out:
        {"csv": write_csv, "xes": write_xes, "ocel": lambda c, o: write_ocel_json(c, o, registry)}[fmt](cases, out)
    result = conform(read_log(path), registry)
    assert result.deviations == ()
    assert (result.cases, result.fitting, result.events) == (len(cases), len(cases), sum(len(c.history) for c in cases))


def _allowed(registry: Registry, ev: LogEvent) -> set[str]:
    return {r for t in registry[ev.pathway or ""].transitions if t.trigger == ev.activity for r in t.roles}


def _plant_role(events: list[LogEvent], registry: Registry, index: int) -> LogEvent:
    ev = events[index]
    pathway = registry[ev.pathway or ""]
    outsider = next(r for r in sorted(pathway.roles) if r not in _allowed(registry, ev))
    planted = attrs.evolve(ev, role=outsider, sector=pathway.roles[outsider].sector)
    events[index] = planted
    return planted


def _fires(events: list[LogEvent], registry: Registry) -> list[int]:
    """Indexes of moves an actor fired (not start, approve, refuse, a fact, nor a move after approvals)."""
    approved = {e.case for e in events if e.activity == "approve"}
    return [
        n for n, e in enumerate(events)
        if e.role and e.case not in approved and e.activity in registry[e.pathway or ""].triggers
        and set(registry[e.pathway or ""].roles) - _allowed(registry, e)
    ]


def test_every_planted_deviation_is_found_with_its_kind_and_none_elsewhere(week):
    registry, _, clean = week
    events = list(clean)
    planted: list[tuple[str, str, DeviationKind]] = []

    # role: a nurse-only move done by someone else
    role = _plant_role(events, registry, _fires(events, registry)[3])
    planted.append((role.case, role.activity, DeviationKind.ROLE))

    # guard: the citizen did not consent, yet the region was consulted
    n = next(n for n, e in enumerate(events) if e.activity == "consult_region")
    case = events[n].case
    start = next(i for i, e in enumerate(events) if e.case == case and e.activity == "start")
    events[start] = attrs.evolve(events[start], facts={"consent_to_consult_region": False})
    planted.append((case, "consult_region", DeviationKind.GUARD))

    # state: advice given twice (the case had already ended)
    last = max(i for i, e in enumerate(events) if e.activity == "give_advice")
    events.insert(last + 1, attrs.evolve(events[last], at=events[last].at + timedelta(minutes=5)))
    planted.append((events[last].case, "give_advice", DeviationKind.STATE))

    # approval and capacity: new overnight cases a month after the week
    later = clean[-1].at + timedelta(days=30)
    nurse = {"role": "nurse", "person": "n-1", "sector": "region", "pathway": "overnight_stay"}

    def case_events(cid: str, moves: list[str], at: object, **extra: object) -> list[LogEvent]:
        return [LogEvent(cid, a, at + timedelta(minutes=k), facts={"consent_given": True}, **(nurse | extra)) for k, a in enumerate(moves)]  # type: ignore[operator, arg-type]

    events += case_events("x-approval", ["start", "assess", "admit", "stay_review", "request_extension", "extension_ends"], later)
    planted.append(("x-approval", "extension_ends", DeviationKind.APPROVAL))
    capacity = registry.resources()["overnight_places"].capacity
    in_use = _in_use_at_end(clean, registry)
    for k in range(capacity + 3):
        events += case_events(f"x-full-{k:02d}", ["start", "assess", "admit"], later + timedelta(days=1, seconds=k))
    free = capacity - in_use - 1  # the approval case above holds a place too
    full = [f"x-full-{k:02d}" for k in range(capacity + 3)][free:]
    planted += [(cid, "admit", DeviationKind.CAPACITY) for cid in full]

    result = conform(events, registry)
    found = {(d.case, d.activity, d.kind) for d in result.deviations}
    assert set(planted) <= found
    assert {d.case for d in result.deviations} == {p[0] for p in planted}
    assert result.fitting == result.cases - len({p[0] for p in planted})
    assert result.by_kind == {"role": 1, "guard": 1, "state": 1, "approval": 1, "capacity": len(full)}
    who = next(d for d in result.deviations if d.kind is DeviationKind.ROLE)
    assert (who.person, who.role, who.at) == (role.person, role.role, role.at)


def _in_use_at_end(events: list[LogEvent], registry: Registry) -> int:
    """Places still taken when the clean log ends (cases still staying)."""
    result = conform(events, registry)
    assert result.deviation_count == 0
    held: dict[str, int] = {}
    for e in events:
        if e.activity in ("admit", "self_admit"):
            held[e.case] = 1
        elif e.activity in ("discharge", "discharge_early", "leave", "handover_accepted") and e.pathway == "overnight_stay":
            held.pop(e.case, None)
    return len(held)


@given(st.data())
def test_any_move_by_a_role_it_does_not_belong_to_is_a_role_deviation_at_that_move(week, data):
    registry, _, clean = week
    events = list(clean)
    index = data.draw(st.sampled_from(_fires(events, registry)))
    planted = _plant_role(events, registry, index)
    result = conform(events, registry)
    first = next(d for d in result.deviations if d.case == planted.case)
    assert (first.kind, first.activity, first.at, first.role) == (DeviationKind.ROLE, planted.activity, planted.at, planted.role)


def test_a_csv_without_a_role_column_is_refused_with_the_columns_it_needs(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("case,activity,timestamp\nc1,start,2026-01-05T16:00:00+01:00\n", encoding="utf-8")
    with pytest.raises(LogError) as info:
        list(read_csv(path))
    assert str(info.value) == f"{path}: the CSV log has no column 'role' (needs case, activity, timestamp, role)"


def test_a_timestamp_without_a_zone_is_refused_with_its_line(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("case,activity,timestamp,role\nc1,start,2026-01-05T16:00:00,nurse\n", encoding="utf-8")
    with pytest.raises(LogError) as info:
        list(read_csv(path))
    assert str(info.value) == f"{path}, line 2: timestamp '2026-01-05T16:00:00' has no time zone; add one (e.g. +01:00 or Z)"


def test_a_log_of_unknown_format_is_refused(tmp_path):
    with pytest.raises(LogError, match=r"cannot tell the log's format from its name; use \.xes, \.csv or \.json"):
        read_log(tmp_path / "log.txt")


def test_cli_conform_prints_the_summary_and_exits_1_on_deviations(tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_text(
        "case,activity,timestamp,role,person\n"
        "c1,start,2026-01-05T16:00:00+01:00,social_duty_worker,s-1\n"
        "c1,start_conversation,2026-01-05T16:05:00+01:00,social_duty_worker,s-1\n"
        "c1,consult_region,2026-01-05T16:10:00+01:00,social_duty_worker,s-1\n",
        encoding="utf-8",
    )
    code = main(["conform", str(path), "-d", str(ROOT / "definitions"), "--pathway", "walk_in"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.splitlines()[:3] == [
        "1 cases, 3 events: 0 fit the definitions, 1 deviate (1 deviations)",
        "by kind:  guard 1",
        "by state: in_conversation 1",
    ]
    assert "c1  2026-01-05T16:10:00+01:00  'consult_region' by s-1 (social_duty_worker) in 'in_conversation': guard" in out


def test_readers_agree_on_the_same_history(week, tmp_path):
    registry, cases, _ = week
    some = cases[:20]
    for name, write in (("a.xes", write_xes), ("a.csv", write_csv)):
        with (tmp_path / name).open("w", encoding="utf-8", newline="") as out:
            write(some, out)
    with (tmp_path / "a.json").open("w", encoding="utf-8") as out:
        write_ocel_json(some, out, registry)

    def key(e: LogEvent) -> tuple[object, ...]:
        return (e.case, e.activity, e.at, e.role, e.person, e.pathway, dict(e.facts), e.referred_by)

    xes = sorted(map(key, read_xes(tmp_path / "a.xes")), key=str)
    assert xes == sorted(map(key, read_csv(tmp_path / "a.csv")), key=str)
    assert xes == sorted(map(key, read_ocel(tmp_path / "a.json")), key=str)


def test_a_start_while_the_service_is_closed_is_an_hours_deviation_and_the_replay_goes_on(week):
    registry, _, _ = week
    at = datetime(2026, 1, 5, 22, 47, tzinfo=UTC)  # Monday 23:47 in Copenhagen: counselling is closed
    events = [
        LogEvent(case="late", activity="start", at=at, role="nurse", pathway="counselling"),
    ]
    result = conform(events, registry)
    (deviation,) = result.deviations
    assert (deviation.kind, deviation.code, deviation.state) == (DeviationKind.HOURS, "service_closed", registry["counselling"].initial)
    assert deviation.message.startswith("'counselling' cannot start a case at Monday 23:47 (Europe/Copenhagen)")
    assert result.cases == 1


def test_who_may_act_holds_for_a_log_too(week):
    """A logged start's facts are the context the log reports; a citizen acting as another
    citizen, and a fact set by a role that may not, are role deviations."""
    registry, _, _ = week
    at = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)  # Monday 18:00 in Copenhagen: the walk-in is open
    citizen = {"role": "citizen", "sector": "citizen", "pathway": "walk_in"}
    events = [
        LogEvent(case="w1", activity="start", at=at, person="c-9", citizen="c-1", facts={"consent_to_consult_region": True}, **citizen),
        LogEvent(case="w2", activity="start", at=at, person="n-1", role="nurse", sector="region", pathway="walk_in", citizen="c-2",
                 facts={"consent_to_consult_region": True}),
    ]
    result = conform(events, registry)
    assert [(d.case, d.kind, d.code) for d in result.deviations] == [("w1", DeviationKind.ROLE, "not_own_case")]
    assert result.cases == 2
