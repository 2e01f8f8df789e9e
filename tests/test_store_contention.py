"""Contention: 8 processes race on the same cases and the same 16 places.

Each process opens its own store on the same database and, after a common start
signal, tries to admit all 50 citizens, lets its leader approve the same 10 plans, and
bumps one shared case 10 times. The database must admit exactly 16, count each plan's
approvals once per sector, lose no update, and give every refused attempt a clear error.
"""

from __future__ import annotations

import multiprocessing as mp
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import pathways
from pathways import EventKind
from pathways.errors import ActionRefused, ConcurrentUpdate
from pathways.store import DurableEngine, open_store, retry, verify
from test_store_support import SOCIAL, SQL_BACKENDS, backend_url, registry

PROCESSES = 8
ADMISSIONS = 50
PLANS = 10
BUMPS = 10


def _racer(url: str, index: int, go: Any, out: Any) -> None:
    """One staff member's process: admissions, an approval per plan, bumps of a shared case."""
    rng = random.Random(index)
    store = open_store(url)
    engine = DurableEngine(registry(), store)
    nurse = pathways.Actor(f"n-{index}", "nurse", "region")
    leader = (
        pathways.Actor(f"lr-{index}", "leader_region", "region") if index % 2 == 0
        else pathways.Actor(f"ls-{index}", "leader_social", "social")
    )
    outcomes: list[tuple[str, str, str, str]] = []

    def attempt(kind: str, case_id: str, fn: Any) -> None:
        try:
            fn()
            outcomes.append((kind, case_id, "ok", ""))
        except ActionRefused as exc:
            outcomes.append((kind, case_id, type(exc).__name__, str(exc)))
        except ConcurrentUpdate as exc:
            outcomes.append((kind, case_id, type(exc).__name__, str(exc)))

    go.wait()
    order = [f"a{i:02}" for i in range(ADMISSIONS)]
    rng.shuffle(order)
    for case_id in order:
        attempt("admit", case_id, lambda c=case_id: engine.fire(c, "admit", nurse))
    plans = [f"p{i}" for i in range(PLANS)]
    rng.shuffle(plans)
    for case_id in plans:
        attempt("approve", case_id, lambda c=case_id: retry(lambda: engine.approve(c, leader), attempts=50))
    for _ in range(BUMPS):
        attempt("bump", "counter", lambda: retry(
            lambda: engine.set_fact("counter", "consent_given", True, nurse, reason="the citizen said yes"), attempts=200, pause=0.001,
        ))
    store.close()
    out.put(outcomes)


@pytest.mark.parametrize("backend", SQL_BACKENDS)
def test_eight_processes_racing_admit_exactly_sixteen_and_lose_nothing(backend: str, tmp_path: Path) -> None:
    url = backend_url(backend, tmp_path)
    store = open_store(url)
    engine = DurableEngine(registry(), store, clock=pathways.SystemClock())
    for i in range(ADMISSIONS):
        engine.start("night", f"cit-a{i}", facts={"consent_given": True}, case_id=f"a{i:02}")
    for i in range(PLANS):
        engine.start("night", f"cit-p{i}", case_id=f"p{i}")
        engine.fire(f"p{i}", "plan", SOCIAL)
    engine.start("night", "cit-counter", case_id="counter")

    ctx = mp.get_context("spawn")
    go = ctx.Event()
    out = ctx.Queue()
    procs = [ctx.Process(target=_racer, args=(url, i, go, out)) for i in range(PROCESSES)]
    for p in procs:
        p.start()
    go.set()
    results = [out.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    outcomes = [o for r in results for o in r]

    # capacity: exactly 16 admitted, by the database and by the processes' own account
    admitted = [o for o in outcomes if o[0] == "admit" and o[2] == "ok"]
    assert len(admitted) == 16
    assert len({o[1] for o in admitted}) == 16
    assert store.resources()["beds"] == (16, 16)
    assert len(store.in_state("night", "staying", limit=100)) == 16
    refused = Counter(o[2] for o in outcomes if o[0] == "admit" and o[2] != "ok")
    assert set(refused) <= {"NoCapacity", "WrongState", "ConcurrentUpdate"}
    assert sum(refused.values()) == PROCESSES * ADMISSIONS - 16
    for kind, case_id, error, message in outcomes:
        if error != "ok":
            assert f"'{case_id}'" in message or "places of 'beds' are taken" in message, (kind, error, message)

    # approvals: each plan fired once, with one region and one social approval, none twice
    for i in range(PLANS):
        history = store.history(f"p{i}")
        fired = [e for e in history if e.kind is EventKind.FIRED]
        assert len(fired) == 1
        assert sorted(a.actor.sector for a in fired[0].approvals) == ["region", "social"]
        approvers = [e.actor.person for e in history if e.kind is EventKind.APPROVED and e.actor]
        assert len(approvers) == len(set(approvers)) == 2
        assert store.summary(f"p{i}").state == "planned"
    approvals = [o for o in outcomes if o[0] == "approve"]
    assert Counter(o[2] for o in approvals if o[2] != "ok").keys() <= {"NotAnApprover", "NoPendingApproval", "CaseClosed", "WrongState"}
    assert sum(o[2] == "ok" for o in approvals) == 2 * PLANS

    # no lost update: every acknowledged bump is one stored event
    bumps = [o for o in outcomes if o[0] == "bump"]
    assert all(o[2] == "ok" for o in bumps), Counter(o[2] for o in bumps)
    assert store.summary("counter").seq == 1 + PROCESSES * BUMPS
    assert verify(store).ok
    store.close()
