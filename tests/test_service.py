"""The HTTP service, tested against real `pathways serve` processes on 127.0.0.1 with an HTTP client."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
jwt = pytest.importorskip("jwt")
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from pathways.service import make_token  # noqa: E402  (after the extra's import check)

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "definitions"
KEY = b"a-house-key-of-at-least-thirty-two-bytes!"


def _open_all_day(tmp: Path) -> Path:
    """The seed definitions with Socialvagten open around the clock: the server runs on the
    wall clock, and these tests are about HTTP, not about the house's opening hours."""
    folder = tmp / "definitions"
    if not folder.exists():
        shutil.copytree(SEEDS, folder)
        house = folder / "houses" / "aarhus.yaml"
        text = house.read_text(encoding="utf-8")
        hours = '    open: [{days: every_day, hours: "16:00-24:00"}]\n'
        assert text.count(hours) == 1
        house.write_text(text.replace(hours, '    open: [{days: every_day, hours: "00:00-24:00"}]\n'), encoding="utf-8")
    return folder


def _start_server(db: str, tmp: Path) -> tuple[subprocess.Popen[str], str]:
    key_file = tmp / "key"
    key_file.write_bytes(KEY)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pathways.cli", "serve", "--db", db, "-d", str(_open_all_day(tmp)), "--key-file", str(key_file), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("serving on "):
        proc.kill()
        raise AssertionError(f"the server did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    url = line.split()[-1]
    for _ in range(100):
        try:
            httpx.get(url + "/openapi.json", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    return proc, url


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("serve")
    proc, url = _start_server(str(tmp / "cases.db"), tmp)
    yield url
    _stop(proc)


def _auth(person: str, role: str, sector: str, **kw: float) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(KEY, person, role, sector, **kw)}"}


WORKER = _auth("sw-1", "social_duty_worker", "municipal_social")
NURSE = _auth("n-1", "nurse", "region")


def _new_walk_in(url: str) -> str:
    cid = f"w-{uuid.uuid4().hex[:8]}"
    r = httpx.post(f"{url}/cases", json={"pathway": "walk_in", "citizen": f"c-{cid}", "case_id": cid}, headers=WORKER)
    assert r.status_code == 201, r.text
    return cid


def test_a_case_is_started_moved_and_read_with_the_actor_from_the_token(server):
    cid = _new_walk_in(server)
    r = httpx.post(f"{server}/cases/{cid}/fire", json={"trigger": "start_conversation", "actor": {"person": "someone-else"}}, headers=WORKER)
    assert r.status_code == 200
    (event,) = r.json()
    assert (event["kind"], event["to"], event["actor"]) == ("fired", "in_conversation", {"person": "sw-1", "role": "social_duty_worker", "sector": "municipal_social"})
    assert httpx.get(f"{server}/cases/{cid}", headers=WORKER).json()["state"] == "in_conversation"
    assert [e["kind"] for e in httpx.get(f"{server}/cases/{cid}/history", headers=WORKER).json()] == ["started", "fired"]
    options = {o["trigger"]: o for o in httpx.get(f"{server}/cases/{cid}/options", headers=WORKER).json()}
    assert options["give_advice"]["allowed"] is True
    assert options["consult_region"]["reasons"] == [{"code": "guard", "message": "guard 'consent_to_consult_region' does not hold"}]
    assert httpx.get(f"{server}/cases/{cid}/why-not/give_advice", headers=WORKER).json() == []


@pytest.mark.parametrize("headers, code", [
    ({}, "no_token"),
    ({"Authorization": "Bearer not-a-token"}, "token_invalid"),
    (_auth("sw-1", "social_duty_worker", "municipal_social", ttl=-10), "token_expired"),
    ({"Authorization": "Bearer " + jwt.encode({"sub": "x", "role": "nurse", "sector": "region", "exp": time.time() + 60}, "another key of 32 bytes or more!!", algorithm="HS256")}, "token_invalid"),
    ({"Authorization": "Bearer " + jwt.encode({"sub": "x", "role": "nurse", "sector": "region", "exp": time.time() + 60}, None, algorithm="none")}, "token_invalid"),
])
def test_missing_forged_unsigned_and_expired_tokens_are_refused_with_401(server, headers, code):
    r = httpx.get(f"{server}/inbox", headers=headers)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == code
    assert r.headers["www-authenticate"] == 'Bearer realm="pathways"'


def test_a_role_beyond_its_rights_gets_403_with_the_refusal_data(server):
    cid = _new_walk_in(server)
    httpx.post(f"{server}/cases/{cid}/fire", json={"trigger": "start_conversation"}, headers=WORKER)
    r = httpx.post(f"{server}/cases/{cid}/fire", json={"trigger": "give_advice"}, headers=NURSE)
    assert r.status_code == 403
    error = r.json()["error"]
    assert (error["type"], error["code"]) == ("NotPermitted", "role")
    assert error["reasons"][0]["code"] == "role"
    assert "may not fire 'give_advice'" in error["message"]
    assert httpx.get(f"{server}/cases/{cid}", headers=WORKER).json()["state"] == "in_conversation"


def test_a_move_that_is_not_possible_now_gets_409_and_unknown_things_404(server):
    cid = _new_walk_in(server)
    httpx.post(f"{server}/cases/{cid}/fire", json={"trigger": "start_conversation"}, headers=WORKER)
    r = httpx.post(f"{server}/cases/{cid}/fire", json={"trigger": "consult_region"}, headers=WORKER)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "guard")
    r = httpx.post(f"{server}/cases/{cid}/fire", json={"trigger": "no_such_move"}, headers=WORKER)
    assert (r.status_code, r.json()["error"]["type"]) == (404, "UnknownTrigger")
    r = httpx.get(f"{server}/cases/nobody", headers=WORKER)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "unknown_case")
    r = httpx.post(f"{server}/cases/{cid}/fire", content=b"{not json", headers=WORKER)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "not_json")
    r = httpx.post(f"{server}/cases/{cid}/facts", json={"fact": "consent_to_consult_region", "value": True}, headers=WORKER)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "reason_required")  # staff record the citizen's word with a reason
    r = httpx.post(f"{server}/cases/{cid}/facts", json={"fact": "consent_to_consult_region", "value": True, "reason": "said yes at 17:05"}, headers=WORKER)
    assert r.status_code == 200
    assert httpx.post(f"{server}/cases/{cid}/fire", json={"trigger": "consult_region"}, headers=WORKER).status_code == 200


def test_the_inbox_and_a_citizens_cases(server):
    cid = _new_walk_in(server)
    inbox = httpx.get(f"{server}/inbox", params={"limit": 1000}, headers=WORKER).json()
    assert cid in {s["id"] for s in inbox}
    assert cid not in {s["id"] for s in httpx.get(f"{server}/inbox", params={"limit": 1000}, headers=NURSE).json()}
    (mine,) = httpx.get(f"{server}/citizens/c-{cid}/cases", headers=WORKER).json()
    assert (mine["id"], mine["pathway_id"], mine["state"]) == (cid, "walk_in", "arrived")


def test_a_citizen_acts_on_and_reads_only_their_own_cases(server):
    mine, theirs = _new_walk_in(server), _new_walk_in(server)
    me = _auth(f"C-{mine}", "citizen", "citizen")  # the citizen c-<id>, under another spelling of the same id
    assert httpx.get(f"{server}/cases/{mine}", headers=me).status_code == 200
    assert [c["id"] for c in httpx.get(f"{server}/citizens/c-{mine}/cases", headers=me).json()] == [mine]
    assert [c["id"] for c in httpx.get(f"{server}/citizens/C-{mine}/cases", headers=me).json()] == [mine]  # found by key
    for r in (
        httpx.get(f"{server}/cases/{theirs}", headers=me),
        httpx.get(f"{server}/cases/{theirs}/history", headers=me),
        httpx.get(f"{server}/citizens/c-{theirs}/cases", headers=me),
        httpx.post(f"{server}/cases/{theirs}/fire", json={"trigger": "leave"}, headers=me),
    ):
        assert (r.status_code, r.json()["error"]["code"]) == (403, "not_own_case"), r.text
    assert httpx.get(f"{server}/cases/{theirs}", headers=WORKER).status_code == 200  # staff are not bound to one citizen
    assert httpx.post(f"{server}/cases/{mine}/fire", json={"trigger": "leave"}, headers=me).status_code == 200


def test_a_leaders_inbox_holds_the_approvals_waiting_and_four_eyes_hold(server):
    oid = f"o-{uuid.uuid4().hex[:8]}"
    r = httpx.post(f"{server}/cases", json={"pathway": "overnight_stay", "citizen": f"c-{oid}", "case_id": oid, "facts": {"consent_given": True}}, headers=_auth(f"c-{oid}", "citizen", "citizen"))
    assert r.status_code == 201
    for trigger in ("assess", "admit", "stay_review", "request_extension"):
        assert httpx.post(f"{server}/cases/{oid}/fire", json={"trigger": trigger}, headers=NURSE).status_code == 200, trigger
    region = _auth("l-1", "leader_region", "region")
    municipality = _auth("l-2", "leader_municipality", "municipal_social")
    waiting = [w for w in httpx.get(f"{server}/inbox/approvals", headers=region).json() if w["case_id"] == oid]
    assert [(w["trigger"], w["requested_by"]) for w in waiting] == [("request_extension", "n-1")]
    r = httpx.post(f"{server}/cases/{oid}/approve", headers=NURSE)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "self_approval")
    assert httpx.post(f"{server}/cases/{oid}/approve", headers=region).status_code == 200
    assert oid not in {w["case_id"] for w in httpx.get(f"{server}/inbox/approvals", headers=region).json()}
    assert httpx.post(f"{server}/cases/{oid}/approve", json={"reason": "agreed"}, headers=municipality).status_code == 200
    assert httpx.get(f"{server}/cases/{oid}", headers=NURSE).json()["state"] == "extended_stay"
    r = httpx.get(f"{server}/inbox/approvals", params={"limit": "lots"}, headers=region)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "bad_limit")
    assert httpx.post(f"{server}/cases/{oid}/fire", json={"trigger": "discharge"}, headers=NURSE).status_code == 200


@pytest.mark.parametrize("answer, status", [("accept", "accepted"), ("decline", "rejected")])
def test_a_referral_task_starts_the_intake_and_returns_as_the_answered_task(server, answer, status):
    ref = uuid.uuid4().hex[:8]
    task = {
        "resourceType": "Task", "id": f"ref-{ref}", "status": "requested", "intent": "order",
        "identifier": [{"system": "urn:pathways:handover", "value": f"in-{ref}"}],
        "code": {"coding": [{"system": "urn:pathways:pathway", "code": "overnight_stay"}]},
        "for": {"identifier": {"system": "urn:pathways:citizen", "value": "c-77"}},
        "requester": {"reference": "Organization/sector-municipal_social"},
    }
    r = httpx.post(f"{server}/fhir/Task", json=task, headers=NURSE)
    assert r.status_code == 201, r.text
    assert (r.json()["status"], r.headers["location"]) == ("requested", f"/fhir/Task/ref-{ref}")
    assert httpx.get(f"{server}/cases/in-{ref}", headers=NURSE).json()["state"] == "referred"
    assert httpx.post(f"{server}/cases/in-{ref}/fire", json={"trigger": answer}, headers=NURSE).status_code == 200
    back = httpx.get(f"{server}/fhir/Task/in-{ref}", headers=NURSE).json()
    assert (back["id"], back["status"], back["requester"]) == (f"ref-{ref}", status, task["requester"])
    plan = httpx.get(f"{server}/fhir/CarePlan/in-{ref}", headers=NURSE).json()
    assert (plan["resourceType"], plan["id"]) == ("CarePlan", f"in-{ref}")
    bundle = httpx.get(f"{server}/fhir/CarePlan/in-{ref}", params={"_bundle": "true"}, headers=NURSE).json()
    assert {e["resource"]["resourceType"] for e in bundle["entry"]} >= {"CarePlan", "Task", "Provenance"}


def test_a_task_that_is_no_referral_is_refused_with_400(server):
    r = httpx.post(f"{server}/fhir/Task", json={"resourceType": "Task", "id": "t", "status": "requested", "intent": "order"}, headers=NURSE)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "fhir")
    assert "naming the receiving pathway" in r.json()["error"]["message"]


def test_the_openapi_description_lists_every_verb(server):
    doc = httpx.get(f"{server}/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert {"/cases", "/cases/{case_id}/fire", "/cases/{case_id}/options", "/inbox", "/fhir/Task", "/fhir/CarePlan/{case_id}"} <= set(doc["paths"])
    assert doc["paths"]["/cases/{case_id}/fire"]["post"]["responses"]["403"]["description"] == "beyond the role's rights"


@pytest.mark.postgres
def test_two_serve_processes_on_one_postgresql_database_stay_correct(tmp_path):
    url = os.environ.get("PATHWAYS_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("PATHWAYS_TEST_POSTGRES_URL is not set")
    from pathways.store import open_store

    store = open_store(url)
    capacity, in_use = store.resources().get("overnight_places", (16, 0))
    store.close()
    servers = [_start_server(url, tmp_path) for _ in range(2)]
    try:
        urls = [u for _, u in servers]
        cid = f"w-{uuid.uuid4().hex[:8]}"
        assert httpx.post(f"{urls[0]}/cases", json={"pathway": "walk_in", "citizen": "c-pg", "case_id": cid}, headers=WORKER).status_code == 201
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda n: httpx.post(f"{urls[n % 2]}/cases/{cid}/fire", json={"trigger": "start_conversation"}, headers=WORKER, timeout=30).status_code, range(8)))
        assert sorted(codes) == [200] + [409] * 7
        assert len(httpx.get(f"{urls[1]}/cases/{cid}/history", headers=WORKER).json()) == 2

        # the shared places: more admissions than free places, from both processes at once
        free = capacity - in_use
        ids = [f"o-{uuid.uuid4().hex[:8]}" for _ in range(free + 4)]
        for n, oid in enumerate(ids):
            r = httpx.post(f"{urls[n % 2]}/cases", json={"pathway": "overnight_stay", "citizen": f"c-{oid}", "case_id": oid, "facts": {"consent_given": True}}, headers=_auth(f"c-{oid}", "citizen", "citizen"))
            assert r.status_code == 201, r.text
            assert httpx.post(f"{urls[n % 2]}/cases/{oid}/fire", json={"trigger": "assess"}, headers=NURSE).status_code == 200
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda n: httpx.post(f"{urls[n % 2]}/cases/{ids[n]}/fire", json={"trigger": "admit"}, headers=NURSE, timeout=30).status_code, range(len(ids))))
        assert codes.count(200) == free and codes.count(409) == 4
        for n, oid in enumerate(ids):  # give the places back: the database is shared with other tests
            if codes[n] == 200:
                assert httpx.post(f"{urls[0]}/cases/{oid}/fire", json={"trigger": "discharge"}, headers=NURSE).status_code == 200
    finally:
        for proc, _ in servers:
            _stop(proc)
