"""Event logs: XES and OCEL 2.0 exports validate against the shipped schemas and read back in pm4py."""

from __future__ import annotations

import io
import json
import sqlite3
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pathways import Actor, ManualClock, load_registry
from pathways.case import Case
from pathways.cli import main
from pathways.eventlog import (
    activity,
    fact_activity,
    ocel_document,
    parse_fact_activity,
    validate_ocel_json,
    validate_xes,
    write_ocel_json,
    write_ocel_sqlite,
    write_xes,
)
from pathways.scenario import load_scenario
from pathways.simulation import Simulation

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "definitions"


@pytest.fixture(scope="module")
def week() -> tuple[Simulation, list[Case]]:
    sim = Simulation(load_scenario(ROOT / "examples" / "short_week.yaml"))
    sim.run()
    return sim, sorted(sim.engine.cases.values(), key=lambda c: c.id)


def _pm4py() -> Any:
    pm4py = pytest.importorskip("pm4py")
    return pm4py


def _quiet(fn: Any, *args: Any) -> Any:
    """pm4py warns about optional accelerators; those warnings are not ours to fail on."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)


def test_xes_of_a_simulated_week_validates_and_reads_back_with_every_case_and_event(week, tmp_path):
    _, cases = week
    path = tmp_path / "week.xes"
    with path.open("w", encoding="utf-8") as out:
        counts = write_xes(cases, out)
    assert (counts.cases, counts.events) == (len(cases), sum(len(c.history) for c in cases))
    assert validate_xes(path) == []
    frame = _quiet(_pm4py().read_xes, str(path))
    assert len(frame) == counts.events
    assert frame["case:concept:name"].nunique() == counts.cases
    first = cases[0].history[1]
    row = frame[(frame["case:concept:name"] == cases[0].id)].iloc[1]
    assert row["concept:name"] == activity(first)
    assert first.actor is not None
    assert (row["org:resource"], row["org:role"], row["org:group"]) == (first.actor.person, first.actor.role, first.actor.sector)


def test_ocel_json_of_a_simulated_week_validates_and_reads_back(week, tmp_path):
    sim, cases = week
    doc = ocel_document(cases, sim.registry)
    assert validate_ocel_json(doc) == []
    assert {t["name"] for t in doc["objectTypes"]} == {"citizen", "pathway_case", "handover", "approval_request", "overnight_place"}
    path = tmp_path / "week.jsonocel"
    with path.open("w", encoding="utf-8") as out:
        counts = write_ocel_json(cases, out, sim.registry)
    ocel = _quiet(_pm4py().read_ocel2_json, str(path))
    assert len(ocel.events) == counts.events == sum(len(c.history) for c in cases)
    objects = ocel.objects
    assert (objects["ocel:type"] == "pathway_case").sum() == counts.cases == len(cases)
    handovers = sum(1 for c in cases for e in c.history if e.kind.value == "started" and e.link is not None)
    assert (objects["ocel:type"] == "handover").sum() == handovers > 0
    assert (objects["ocel:type"] == "overnight_place").sum() > 0


def test_ocel_sqlite_reads_back_with_the_same_counts_as_json(week, tmp_path):
    sim, cases = week
    path = tmp_path / "week.sqlite"
    counts = write_ocel_sqlite(cases, path, sim.registry)
    ocel = _quiet(_pm4py().read_ocel2_sqlite, str(path))
    assert len(ocel.events) == counts.events
    assert len(ocel.objects) == len(ocel_document(cases, sim.registry)["objects"])
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT count(*) FROM event").fetchone() == (counts.events,)


def test_every_event_links_its_case_and_citizen_and_approval_requests_link_their_answers(week):
    sim, cases = week
    doc = ocel_document(cases, sim.registry)
    for event in doc["events"]:
        qualifiers = {r["qualifier"] for r in event["relationships"]}
        assert {"case", "citizen"} <= qualifiers
    requested = [e for e in doc["events"] if any(r["qualifier"] == "requested" for r in e["relationships"])]
    answered = [e for e in doc["events"] if any(r["qualifier"] in ("approved", "refused") for r in e["relationships"])]
    assert len(requested) >= 1 and len(answered) >= 1


def test_a_broken_xes_file_is_reported_with_its_line(tmp_path):
    bad = io.StringIO()
    write_xes([], bad)
    path = tmp_path / "broken.xes"
    path.write_text(bad.getvalue().replace('xes.version="1.0"', 'xes.version="one"'), encoding="utf-8")
    problems = validate_xes(path)
    assert len(problems) == 1
    assert problems[0].startswith("line 2: Element 'log', attribute 'xes.version': 'one' is not a valid value")


def test_an_ocel_document_missing_its_objects_is_reported():
    assert validate_ocel_json({"eventTypes": [], "objectTypes": [], "events": []}) == ["$: 'objects' is a required property"]


@given(st.from_regex(r"[a-z_]{1,20}", fullmatch=True), st.booleans())
def test_a_fact_activity_reads_back_as_the_fact_and_value(fact, value):
    assert parse_fact_activity(fact_activity(fact, value)) == (fact, value)


@pytest.mark.parametrize("text", ["start", "set consent", "set consent=yes", "approve"])
def test_other_activities_are_not_fact_activities(text):
    assert parse_fact_activity(text) is None


def test_cli_exports_a_sqlite_store_as_xes_and_ocel(tmp_path, capsys):
    from pathways.store import DurableEngine, open_store

    db = tmp_path / "cases.db"
    store = open_store(db)
    engine = DurableEngine(load_registry(SEEDS), store, clock=ManualClock())  # inside the walk-in's hours
    worker = Actor("sw-1", "social_duty_worker", "municipal_social")
    for n in range(3):
        engine.start("walk_in", f"c-{n}", actor=worker, case_id=f"w-{n}")
        engine.fire(f"w-{n}", "start_conversation", worker)
    store.close()

    assert main(["export", "--db", str(db), "--format", "xes", "-o", str(tmp_path / "log.xes")]) == 0
    assert capsys.readouterr().err == f"wrote {tmp_path / 'log.xes'}: 3 cases, 6 events (xes)\n"
    assert validate_xes(tmp_path / "log.xes") == []
    assert main(["export", "--db", str(db), "--format", "ocel", "-d", str(SEEDS), "-o", str(tmp_path / "log.json")]) == 0
    doc = json.loads((tmp_path / "log.json").read_text(encoding="utf-8"))
    assert validate_ocel_json(doc) == []
    assert [e["type"] for e in doc["events"] if e["id"].startswith("w-0:")] == ["start", "start_conversation"]
    assert main(["export", "--db", str(db), "--format", "ocel", "--as", "sqlite", "-o", str(tmp_path / "log.sqlite")]) == 0
    assert "3 cases, 6 events (ocel)" in capsys.readouterr().err
