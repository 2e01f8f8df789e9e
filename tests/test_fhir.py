"""FHIR R4: cases export as valid Bundles; every seed hand-over round-trips as a referral Task."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from pathways import Actor, Engine, ManualClock, ServiceClosed
from pathways.case import Case, EventKind
from pathways.registry import Registry
from pathways.scenario import load_scenario
from pathways.simulation import Simulation

fhir = pytest.importorskip("pathways.fhir")
pytest.importorskip("fhir.resources")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def weeks() -> tuple[Registry, dict[str, Case]]:
    """Two simulated weeks (two seeds), so every seed hand-over happens at least once."""
    cases: dict[str, Case] = {}
    registry = None
    for seed in (7, 11):
        sim = Simulation(load_scenario(ROOT / "examples" / "short_week.yaml"), seed=seed)
        sim.run()
        registry = sim.registry
        cases |= {f"{seed}-{k}": c for k, c in sim.engine.cases.items()}
    assert registry is not None
    return registry, cases


def _by_id(cases: dict[str, Case], case: Case) -> dict[str, Case]:
    seed = next(k for k, c in cases.items() if c is case).split("-", 1)[0]
    return {c.id: c for k, c in cases.items() if k.startswith(seed + "-")}


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _handovers(registry: Registry) -> set[tuple[str, str]]:
    return {(p.id, t.trigger) for p in registry.values() for t in p.transitions if t.handover is not None}


def test_every_case_exports_as_a_bundle_that_validates(weeks):
    registry, cases = weeks
    for case in cases.values():
        bundle = fhir.case_bundle(registry, case, _by_id(cases, case))
        assert fhir.validate(bundle)["type"] == "collection"
        (plan,) = _resources(bundle, "CarePlan")
        assert plan["status"] == fhir.CAREPLAN_STATUS[registry[case.pathway_id].state(case.state).outcome]
        assert len(_resources(bundle, "Provenance")) == len(case.history)


def test_a_task_follows_its_hand_over_requested_accepted_rejected_completed(weeks):
    registry, cases = weeks
    seen = set()
    for case in cases.values():
        related = _by_id(cases, case)
        for e in case.history:
            if e.kind is EventKind.FIRED and e.link is not None:
                task = next(t for t in _resources(fhir.case_bundle(registry, case, related), "Task") if t["identifier"][0]["value"] == e.link.case_id)
                answers = [x.kind for x in case.history if x.link is not None and x.link.case_id == e.link.case_id and x.seq > e.seq]
                receiver = related[e.link.case_id]
                if not answers and len(receiver.history) > 1:
                    continue  # the sender stopped waiting (deadline) before the receiver answered: the Task shows the receiver's answer
                ended = registry[receiver.pathway_id].state(receiver.state).terminal
                expected = ("requested" if not answers else "rejected" if answers[0] is EventKind.HANDOVER_DECLINED
                            else "completed" if ended else "accepted")
                assert task["status"] == expected
                assert task["basedOn"] == [{"reference": f"CarePlan/{case.id}"}]
                assert task["focus"] == {"reference": f"CarePlan/{receiver.id}"}
                seen.add(expected)
    assert {"accepted", "completed"} <= seen


def _sender_at(registry: Registry, pathway_id: str, trigger: str) -> tuple[Case, dict[str, Case]]:
    """A case placed in a source state of the hand-over (guards made true), which then fires it."""
    pathway = registry[pathway_id]
    t = next(t for t in pathway.transitions if t.trigger == trigger)
    clock = ManualClock(datetime.fromisoformat("2026-01-06T10:00:00+01:00"))
    engine = Engine(registry, clock=clock)
    facts = {g.fact: not g.negated for g in t.guards}
    try:
        case = engine.start(pathway_id, "c-1", facts=facts)
    except ServiceClosed as closed:  # an evening service: start when it opens
        assert closed.opens_at is not None
        clock.set(closed.opens_at)
        case = engine.start(pathway_id, "c-1", facts=facts)
    case.state = pathway.sources_of(t)[0]
    role = t.roles[0]
    engine.fire(case, trigger, Actor("c-1" if pathway.is_citizen(role) else "p-1", role, pathway.roles[role].sector))
    return case, dict(engine.cases)


def test_every_seed_hand_over_round_trips_export_import_export(weeks):
    registry, cases = weeks
    covered = set()
    senders = [(c, _by_id(cases, c)) for c in cases.values()]
    senders += [_sender_at(registry, p, t) for p, t in sorted(_handovers(registry))]
    for case, related in senders:
        for e in case.history:
            if e.kind is not EventKind.FIRED or e.link is None:
                continue
            sent = next(t for t in _resources(fhir.case_bundle(registry, case, related), "Task")
                        if t["identifier"][0]["value"] == e.link.case_id)
            sent = sent | {"status": "requested", "lastModified": sent["authoredOn"]}
            engine = Engine(registry, clock=ManualClock(datetime.fromisoformat(sent["authoredOn"])))
            received = fhir.task_from_referral(sent, lambda p, c, link, cid, engine=engine: engine.receive(p, c, sender=link, case_id=cid))
            assert (received.pathway_id, received.state) == (registry[received.pathway_id].id, registry[received.pathway_id].intake.state)
            (back,) = _resources(fhir.case_bundle(registry, received), "Task")
            assert back == fhir.validate(sent)
            covered.add((case.pathway_id, e.trigger))
    assert covered == _handovers(registry)


@pytest.mark.parametrize("answer, status", [("accept", "accepted"), ("decline", "rejected")])
def test_the_answer_to_a_received_referral_is_the_updated_task(weeks, answer, status):
    registry, _ = weeks
    pathway = registry["overnight_stay"]
    assert pathway.intake is not None
    task = {
        "resourceType": "Task", "id": "ref-1", "status": "requested", "intent": "order",
        "identifier": [{"system": fhir.TASK_SYSTEM, "value": "in-1"}],
        "code": {"coding": [{"system": fhir.PATHWAY_SYSTEM, "code": "overnight_stay"}]},
        "for": {"identifier": {"system": "urn:pathways:citizen", "value": "c-9"}},
        "requester": {"reference": "Organization/sector-municipal_social"},
        "authoredOn": "2026-01-05T17:00:00Z",
    }
    engine = Engine(registry, clock=ManualClock(datetime.fromisoformat("2026-01-05T17:00:00+00:00")))
    case = fhir.task_from_referral(task, lambda p, c, link, cid: engine.receive(p, c, sender=link, case_id=cid))
    engine.clock.advance(__import__("datetime").timedelta(minutes=30))  # type: ignore[attr-defined]
    engine.fire(case, getattr(pathway.intake, answer), Actor("n-1", "nurse", "region"))
    (updated,) = _resources(fhir.case_bundle(registry, case), "Task")
    assert (updated["id"], updated["status"], updated["lastModified"]) == ("ref-1", status, "2026-01-05T17:30:00Z")
    assert updated["requester"] == task["requester"]


def test_a_task_that_is_not_a_referral_is_refused_with_the_field(weeks):
    registry, _ = weeks
    engine = Engine(registry)
    with pytest.raises(fhir.FhirError) as info:
        fhir.task_from_referral({"resourceType": "Task", "id": "t", "status": "requested", "intent": "order"},
                                lambda p, c, link, cid: engine.receive(p, c, sender=link, case_id=cid))
    assert str(info.value) == "Task 't': code has no coding with system 'urn:pathways:pathway' naming the receiving pathway"
    with pytest.raises(fhir.FhirError, match=r"^Task/t does not validate: authoredOn: "):
        fhir.validate({"resourceType": "Task", "id": "t", "status": "requested", "intent": "order", "authoredOn": "yesterday"})


def _with_state_field(tmp_path: Path, value: str) -> Path:
    import shutil

    import yaml

    folder = tmp_path / "definitions"
    shutil.copytree(ROOT / "definitions", folder, ignore=shutil.ignore_patterns("journeys"))
    path = folder / "walk_in.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    next(s for s in doc["states"] if s["id"] == "awaiting_place_answer")["fhir_status"] = value
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


def test_a_states_fhir_status_in_the_definition_overrides_the_default(tmp_path):
    from pathways import load_registry

    registry = load_registry(_with_state_field(tmp_path, "on-hold"))
    engine = Engine(registry, clock=ManualClock())  # inside the walk-in's hours
    worker = Actor("s-1", "social_duty_worker", "municipal_social")
    case = engine.start("walk_in", "c-1", actor=worker)
    engine.fire(case, "start_conversation", worker)
    assert _resources(fhir.case_bundle(registry, case), "CarePlan")[0]["status"] == "active"
    engine.fire(case, "refer_overnight", worker)
    assert case.state == "awaiting_place_answer"
    assert _resources(fhir.case_bundle(registry, case, dict(engine.cases)), "CarePlan")[0]["status"] == "on-hold"


def test_an_unknown_fhir_status_is_a_definition_error_naming_the_place(tmp_path):
    from pathways import DefinitionError, load_registry

    with pytest.raises(DefinitionError) as info:
        load_registry(_with_state_field(tmp_path, "paused"))
    assert "states[3].fhir_status: expected one of 'draft', 'active', 'on-hold', 'revoked', 'completed', 'unknown', got 'paused'" in str(info.value)
