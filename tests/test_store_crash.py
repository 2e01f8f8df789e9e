"""Crash safety: a child firing transitions in a loop is killed with SIGKILL, 20 times.

The child appends an acknowledgement line only after a transaction committed. After
all the kills, every acknowledged event must be stored, no partial write may exist
(every hash chain and case row intact), every case must replay from its events to its
stored state, and the places in use must equal the places the cases hold.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import pathways
from pathways.errors import ActionRefused
from pathways.store import DurableEngine, open_store, replay_stored, verify
from test_store_support import LEAD_R, LEAD_S, NURSE, SOCIAL, SQL_BACKENDS, backend_url, citizen, registry

KILLS = 20


def child(url: str, ack_path: str, seed: int) -> None:
    """Run cases through the night pathway forever, acknowledging committed events."""
    rng = random.Random(seed)
    engine = DurableEngine(registry(), open_store(url))
    fd = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def ack(events: list[pathways.Event]) -> None:
        os.write(fd, "".join(f"{e.case_id} {e.seq} {e.kind.value} {e.to_state}\n" for e in events).encode())

    def act(case_id: str, verb: str, *args: object) -> bool:
        try:
            ack(getattr(engine, verb)(case_id, *args))
            return True
        except ActionRefused:
            return False

    n = 0
    while True:
        for summary in engine.store.in_state("night", "staying", limit=2):
            act(summary.id, "fire", "discharge", NURSE)
        case_id = f"r{seed}-{n}"
        n += 1
        ack(engine.start("night", f"cit-{case_id}", case_id=case_id).history)
        path = rng.choice(["admit", "plan", "leave"])
        if path == "admit":
            act(case_id, "set_fact", "consent_given", True, NURSE)
            if not act(case_id, "fire", "admit", NURSE):
                act(case_id, "fire", "leave", citizen(f"cit-{case_id}"))
        elif path == "plan":
            act(case_id, "fire", "plan", SOCIAL)
            act(case_id, "approve", LEAD_R)
            act(case_id, "approve", LEAD_S)
            act(case_id, "fire", "finish", SOCIAL)
        else:
            act(case_id, "fire", "leave", citizen(f"cit-{case_id}"))


_CHILD = "import sys; sys.path.insert(0, sys.argv[1]); import test_store_crash as t; t.child(sys.argv[2], sys.argv[3], int(sys.argv[4]))"


def _acks(path: Path) -> list[tuple[str, int, str, str]]:
    text = path.read_text() if path.exists() else ""
    lines = text.split("\n")[:-1]  # a line cut by the kill has no newline: not acknowledged
    out = []
    for line in lines:
        case_id, seq, kind, to_state = line.split(" ")
        out.append((case_id, int(seq), kind, to_state))
    return out


@pytest.mark.parametrize("backend", SQL_BACKENDS)
def test_sigkill_at_random_moments_loses_no_acknowledged_event(backend: str, tmp_path: Path) -> None:
    url = backend_url(backend, tmp_path)
    open_store(url).close()
    ack_path = tmp_path / "acks.txt"
    rng = random.Random(4)
    for kill in range(KILLS):
        before = ack_path.stat().st_size if ack_path.exists() else 0
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(Path(__file__).parent), url, str(ack_path), str(kill)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while (ack_path.stat().st_size if ack_path.exists() else 0) <= before:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the child made no progress"
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if proc.stderr:
            proc.stderr.close()

    store = open_store(url)
    acks = _acks(ack_path)
    assert len(acks) > KILLS
    histories: dict[str, list[pathways.Event]] = {}
    for case_id, seq, kind, to_state in acks:
        if case_id not in histories:
            histories[case_id] = store.history(case_id)
        stored = histories[case_id]
        assert seq < len(stored), f"acknowledged event {seq} of {case_id} is missing"
        assert (stored[seq].kind.value, stored[seq].to_state) == (kind, to_state)

    report = verify(store)
    assert report.ok, report.problem
    reg = registry()
    holding = 0
    for case_id in store.case_ids():
        stored_case = store.get(case_id)
        assert replay_stored(store, reg, case_id) == stored_case
        holding += stored_case.holds.get("beds", 0)
    assert store.resources()["beds"] == (16, holding)
    store.close()
