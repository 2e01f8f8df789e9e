"""Durable store speed: transitions per second and host queries at a million cases.

Run: .venv/bin/python benchmarks/bench_store.py [--pg URL] [--steps N] [--cases N] [--skip-1m] [--skip-transitions]

Prints one table:

* durable transitions/s on SQLite (one process; synchronous FULL and NORMAL) and on
  PostgreSQL with 1, 4 and 8 processes, each firing ``--steps`` transitions on its own
  cases (read the case, check it with the engine, write event + state row + owner rows
  in one transaction), with the per-transition latency median and p99 and the CPU time
  one transition costs in the client processes and in the PostgreSQL server (all its
  processes, read from /proc: the server must run on this machine);
* host queries (case by id, with history, in a state, owned by a role / a sector,
  deadline before T) and the house's questions (a leader's inbox by role, by sector with
  four-eyes, a citizen's cases, overdue cases, the worker's lag) on stores bulk-loaded
  with ``--cases`` cases (default 1,000,000; every 20th waits for two approvals, about
  three cases per citizen). ``--skip-transitions`` measures the queries alone.

PostgreSQL comes from ``--pg`` or ``PATHWAYS_TEST_POSTGRES_URL``; its database is emptied.
Targets (issue 4): SQLite ≥ 2,000/s, PostgreSQL 8 processes ≥ 4,000/s, queries ≤ 10 ms.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import queue
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

import pathways
from pathways.store import DurableEngine, open_store
from pathways.store import schema as store_schema
from pathways.store.base import citizen_key, event_row, snapshot, to_micros

RING = 10
_LEADERS = [("leader_region", "region"), ("leader_social", "social"), ("leader_job", "employment"), ("psychiatrist", "region")]
"""(role, sector) pairs the bulk-loaded approval requests wait for."""
NURSE = pathways.Actor("nurse-1", "nurse", "region")


def _definition() -> str:
    def owners(i: int) -> str:
        return "[nurse, social_worker]" if i % 2 else "[nurse]"

    states = "\n".join(
        f"  - {{id: s{i}, kind: active, label: {{da: s, en: s}}, responsible: {owners(i)}, deadline: {{after: P7D, trigger: next}}}}"
        for i in range(RING)
    )
    moves = "\n".join(
        f"  - {{trigger: next, source: s{i}, dest: s{(i + 1) % RING}, roles: [nurse]}}"
        for i in range(RING)
    )
    return f"""
id: ring
version: 1
title: {{da: Ring, en: Ring}}
description: {{da: Benchmark, en: Benchmark}}
initial: s0
sectors:
  region: {{label: {{da: Region, en: Region}}}}
  social: {{label: {{da: Social, en: Social}}}}
  citizen: {{label: {{da: Borger, en: Citizen}}}}
roles:
  nurse: {{sector: region, label: {{da: S, en: Nurse}}}}
  social_worker: {{sector: social, label: {{da: S, en: Social worker}}}}
  citizen: {{sector: citizen, label: {{da: B, en: Citizen}}}}
facts: {{consent_given: {{label: {{da: Samtykke, en: Consent}}, default: true}}}}
states:
{states}
  - {{id: left, kind: terminal, outcome: left_by_choice, label: {{da: Gik, en: Left}}, follow_up: {{da: Ring, en: Call}}}}
transitions:
{moves}
  - {{trigger: leave, source: "*", dest: left, roles: [citizen]}}
"""


def _registry() -> pathways.Registry:
    return pathways.Registry([pathways.load_text(_definition(), "ring.yaml")])


def _fresh(url: str) -> None:
    """Empty a PostgreSQL database, or remove a SQLite file."""
    if "://" not in url:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(url + suffix):
                os.remove(url + suffix)
        return
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    engine.dispose()


# -- durable transitions -----------------------------------------------------------------


def _runner(url: str, index: int, steps: int, synchronous: str, ready: Any, go: Any, out: Any) -> None:
    store = open_store(url, synchronous=synchronous, pool_size=1)
    engine = DurableEngine(_registry(), store)
    ids = [engine.start("ring", f"cit-{index}-{i}", case_id=f"p{index}-{i:03}").id for i in range(50)]
    ready.put(index)
    go.wait()
    backend = _backend_pid(store)
    server = _cpu_of(backend)
    latencies = []
    cpu = time.process_time()
    start = time.perf_counter()
    for k in range(steps):
        t0 = time.perf_counter()
        engine.fire(ids[k % len(ids)], "next", NURSE)
        latencies.append(time.perf_counter() - t0)
    end = time.perf_counter()
    cpu = time.process_time() - cpu
    server = _cpu_of(backend) - server
    store.close()
    out.put((start, end, latencies, cpu, server))


def _backend_pid(store: Any) -> int | None:
    """The PostgreSQL server process of the store's hot-path connection (None for SQLite)."""
    if store.dialect != "postgresql":
        return None
    with store._raw() as conn:  # the connection every durable transition of this process uses
        return int(conn.execute("SELECT pg_backend_pid()").fetchone()[0])


def _cpu_of(pid: int | None) -> float:
    """CPU seconds a local process has used so far (0 when there is none)."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return 0.0
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_pids() -> dict[int, float]:
    """CPU seconds so far of every PostgreSQL process on this machine."""
    found = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/comm") as f:
                    name = f.read().strip()
            except OSError:
                continue
            if name in ("postgres", "postmaster"):
                found[int(pid)] = _cpu_of(int(pid))
    return found


def _server_cpu(before: dict[int, float], backends: float) -> float:
    """Server CPU of a run: the clients' own backends plus the server's shared processes."""
    after = _postgres_pids()
    return backends + sum(after[p] - before[p] for p in before.keys() & after.keys())


def bench_transitions(
    url: str, processes: int, steps: int, synchronous: str = "FULL"
) -> tuple[float, float, float, float, float]:
    """(transitions/s over all processes, median ms, p99 ms, client and server CPU µs per transition)."""
    _fresh(url)
    open_store(url).close()
    ctx = mp.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_runner, args=(url, i, steps, synchronous, ready, go, out)) for i in range(processes)]
    for p in procs:
        p.start()
    waiting = len(procs)
    while waiting:
        try:
            ready.get(timeout=1)
            waiting -= 1
        except queue.Empty:
            if any(p.exitcode not in (None, 0) for p in procs):
                raise SystemExit("a benchmark process failed (see above)") from None
    shared = _postgres_pids()
    go.set()
    results = [out.get(timeout=600) for _ in procs]
    server = _server_cpu(shared, sum(r[4] for r in results)) if "://" in url else 0.0
    for p in procs:
        p.join()
    begin = min(r[0] for r in results)
    finish = max(r[1] for r in results)
    lat = sorted(x for r in results for x in r[2])
    rate = len(lat) / (finish - begin)
    client = sum(r[3] for r in results) / len(lat) * 1e6
    return rate, statistics.median(lat) * 1000, lat[int(len(lat) * 0.99)] * 1000, client, server / len(lat) * 1e6


# -- host queries at a million cases --------------------------------------------------------


def bulk_load(url: str, cases: int) -> None:
    """Write ``cases`` realistic rows (case row, owner rows, a STARTED event) directly."""
    _fresh(url)
    store = open_store(url, synchronous="NORMAL")
    registry = _registry()
    ring = registry["ring"]
    engine = pathways.Engine(registry, clock=pathways.ManualClock())
    template = engine.start("ring", "cit-template", case_id="template")
    first = template.history[0]
    base = datetime(2026, 1, 5, tzinfo=UTC)
    sa_engine = store.engine()  # type: ignore[attr-defined]
    chunk = 20_000
    citizens = max(1, cases // 3)
    for lo in range(0, cases, chunk):
        case_rows, owner_rows, event_rows, wait_rows = [], [], [], []
        for i in range(lo, min(cases, lo + chunk)):
            case_id = f"c{i:07d}"
            state = f"s{i % RING}"
            template.id, template.citizen, template.state = case_id, f"cit-{i}", state
            due = base + timedelta(seconds=i)
            ev = event_row(pathways.Event(case_id, 0, first.at, first.kind, state, state, facts=first.facts), "ring", 1, "0" * 64)
            event_rows.append(ev)
            who = f"cit-{i % citizens}"
            case_rows.append({
                "id": case_id, "citizen": who, "citizen_key": citizen_key(who), "pathway_id": "ring", "version": 1, "state": state,
                "seq": 1, "terminal": False, "due_at": to_micros(due), "head_hash": ev["hash"],
                "snapshot": snapshot(template),
            })
            owner_rows += [
                {"case_id": case_id, "role": r, "sector": ring.roles[r].sector} for r in ring.state(state).responsible
            ]
            if i % 20 == 0:  # a request waiting for one leader of each sector, some half approved
                waiting = [_LEADERS[(i // 20) % len(_LEADERS)], _LEADERS[(i // 20 + 1) % len(_LEADERS)]]
                wait_rows += [{
                    "case_id": case_id, "role": role, "sector": sector, "pathway_id": "ring", "trigger": "next",
                    "requested_by": f"staff-{i % 200}", "requested_at": to_micros(base + timedelta(seconds=i)),
                    "approved_by": f",staff-{(i + 7) % 200}," if i % 40 == 0 else ",",
                } for role, sector in waiting]
        with sa_engine.begin() as conn:
            conn.execute(store_schema.cases.insert(), case_rows)
            conn.execute(store_schema.case_owners.insert(), owner_rows)
            conn.execute(store_schema.events.insert(), event_rows)
            if wait_rows:
                conn.execute(store_schema.approval_waits.insert(), wait_rows)
    with sa_engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    store.close()


def bench_queries(url: str, cases: int) -> list[tuple[str, float, float]]:
    store = open_store(url)
    rng = random.Random(1)
    base = datetime(2026, 1, 5, tzinfo=UTC)

    def some_id() -> str:
        return f"c{rng.randrange(cases):07d}"

    queries: list[tuple[str, Callable[[], object]]] = [
        ("case by id", lambda: store.summary(some_id())),
        ("case with full history", lambda: store.get(some_id())),
        ("100 cases in a state", lambda: store.in_state("ring", f"s{rng.randrange(RING)}", limit=100)),
        ("100 cases owned by a role", lambda: store.owned_by(role="social_worker", limit=100, after=some_id())),
        ("100 cases owned by a sector", lambda: store.owned_by(sector="region", limit=100, after=some_id())),
        ("100 cases due before T", lambda: store.due_before(base + timedelta(seconds=rng.randrange(cases)), limit=100)),
        ("inbox of a role: 100 oldest requests", lambda: store.awaiting(role=rng.choice(_LEADERS)[0], limit=100)),
        ("inbox of a sector, four-eyes for a person", lambda: store.awaiting(
            sector=rng.choice(_LEADERS)[1], person=f"staff-{rng.randrange(200)}", limit=100)),
        ("every case of a citizen", lambda: store.of_citizen(f"cit-{rng.randrange(max(1, cases // 3))}")),
        ("100 overdue cases (now)", lambda: store.due_before(base + timedelta(seconds=cases + 1), limit=100)),
        ("worker lag", lambda: store.lag(base + timedelta(seconds=cases + rng.randrange(3600)))),
    ]
    out = []
    for name, fn in queries:
        fn()
        times = []
        for _ in range(200):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        out.append((name, statistics.median(times), times[int(len(times) * 0.99)]))
    store.close()
    return out


_DURABILITY = {
    ("sqlite", "FULL"): "synchronous=FULL: fsync per commit",
    ("sqlite", "NORMAL"): "synchronous=NORMAL: WAL, no fsync per commit",
    ("pg", "FULL"): "synchronous=FULL: synchronous_commit=on",
    ("pg", "NORMAL"): "synchronous=NORMAL: synchronous_commit=off",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("PATHWAYS_TEST_POSTGRES_URL"), help="PostgreSQL URL (emptied!)")
    parser.add_argument("--steps", type=int, default=3000, help="transitions per process (default 3000)")
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases bulk-loaded for the queries")
    parser.add_argument("--skip-1m", action="store_true", help="skip the bulk-loaded query part")
    parser.add_argument("--skip-transitions", action="store_true", help="measure the bulk-loaded queries only")
    parser.add_argument("--sqlite-file", help="where the SQLite store goes (default: a new temporary folder)")
    parser.add_argument("--reuse", action="store_true", help="query the stores an earlier run loaded (same --cases) instead of loading")
    args = parser.parse_args()
    sqlite = args.sqlite_file or os.path.join(tempfile.mkdtemp(prefix="pathways-bench-"), "cases.db")

    rows: list[list[str]] = []
    for sync in () if args.skip_transitions else ("FULL", "NORMAL"):
        rate, med, p99, client, _ = bench_transitions(sqlite, 1, args.steps, sync)
        rows.append([
            f"durable transitions/s ({_DURABILITY['sqlite', sync]})", "SQLite", "1 proc",
            f"{rate:,.0f}", f"{med:.2f}", f"{p99:.2f}", f"{client:.0f}", "", "≥ 2,000/s",
        ])
    if args.pg and not args.skip_transitions:
        for sync in ("FULL", "NORMAL"):
            for n in (1, 4, 8):
                rate, med, p99, client, server = bench_transitions(args.pg, n, args.steps, sync)
                rows.append([
                    f"durable transitions/s ({_DURABILITY['pg', sync]})", "PostgreSQL", f"{n} proc",
                    f"{rate:,.0f}", f"{med:.2f}", f"{p99:.2f}", f"{client:.0f}", f"{server:.0f}",
                    "≥ 4,000/s at 8" if n == 8 else "",
                ])
    if not args.skip_1m:
        targets = [("SQLite", sqlite)] + ([("PostgreSQL", args.pg)] if args.pg else [])
        for name, url in targets:
            if not args.reuse:
                t0 = time.perf_counter()
                bulk_load(url, args.cases)
                load = time.perf_counter() - t0
                rows.append([f"bulk load of {args.cases:,} cases (setup)", name, "", f"{load:.0f} s", "", "", "", "", ""])
            for query, med, p99 in bench_queries(url, args.cases):
                rows.append([query, name, f"{args.cases:,} cases", "", f"{med:.2f}", f"{p99:.2f}", "", "", "≤ 10 ms"])

    header = ["measurement", "back-end", "scale", "rate", "median ms", "p99 ms", "client µs", "server µs", "target"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()
