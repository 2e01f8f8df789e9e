"""Engine speed: pathways vs plain `transitions` vs a hand-written dict state machine.

Run: .venv/bin/python benchmarks/bench_engine.py [--cases N] [--steps N]

Prints one table. Every variant moves the same cases round a ring of states by the
same trigger; pathways also checks role, sector, guards and capacity and writes an
audit event per step, which the other two do not. A second table compares one shared
Machine with one Machine per case (what issue 2 warns against): build time and memory.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable

from transitions import Machine

import pathways

RING = 10


def _definition() -> str:
    states = "\n".join(
        f"  - {{id: s{i}, kind: active, label: {{da: s{i}, en: s{i}}}, responsible: [nurse]}}" for i in range(RING)
    )
    moves = "\n".join(
        f"  - {{trigger: next, source: s{i}, dest: s{(i + 1) % RING}, roles: [nurse], guards: [consent_given]}}"
        for i in range(RING)
    )
    return f"""
id: ring
version: 1
title: {{da: Ring, en: Ring}}
description: {{da: Benchmark, en: Benchmark}}
initial: s0
sectors: {{region: {{label: {{da: Region, en: Region}}}}, citizen: {{label: {{da: Borger, en: Citizen}}}}}}
roles:
  nurse: {{sector: region, label: {{da: Sygeplejerske, en: Nurse}}}}
  citizen: {{sector: citizen, label: {{da: Borger, en: Citizen}}}}
facts: {{consent_given: {{label: {{da: Samtykke, en: Consent}}, default: true}}}}
states:
{states}
  - {{id: left, kind: terminal, outcome: left_by_choice, label: {{da: Gik, en: Left}}, follow_up: {{da: Ring, en: Call}}}}
transitions:
{moves}
  - {{trigger: leave, source: "*", dest: left, roles: [citizen]}}
"""


def _rate(steps: int, run: Callable[[], None]) -> float:
    gc.collect()
    start = time.perf_counter()
    run()
    return steps / (time.perf_counter() - start)


def bench_steps(cases: int, steps: int) -> list[tuple[str, float]]:
    pathway = pathways.load_text(_definition(), "ring.yaml")
    registry = pathways.Registry([pathway])
    nurse = pathways.Actor("nurse-1", "nurse", "region")

    engine = pathways.Engine(registry, clock=pathways.ManualClock())
    live = [engine.start("ring", f"c{i}") for i in range(cases)]

    def run_pathways() -> None:
        for k in range(steps):
            engine.fire(live[k % cases], "next", nurse)

    class Model:
        def __init__(self) -> None:
            self.consent_given = True

    models = [Model() for _ in range(cases)]
    Machine(
        model=models,
        states=[f"s{i}" for i in range(RING)],
        transitions=[
            {"trigger": "next", "source": f"s{i}", "dest": f"s{(i + 1) % RING}", "conditions": "is_consenting"}
            for i in range(RING)
        ],
        initial="s0",
        auto_transitions=False,
    )
    for m in models:
        m.is_consenting = lambda m=m: m.consent_given  # type: ignore[attr-defined]

    def run_transitions() -> None:
        for k in range(steps):
            models[k % cases].next()  # type: ignore[attr-defined]

    table = {(f"s{i}", "next"): f"s{(i + 1) % RING}" for i in range(RING)}
    dict_states = ["s0"] * cases

    def run_dict() -> None:
        for k in range(steps):
            i = k % cases
            dict_states[i] = table[(dict_states[i], "next")]

    return [
        ("dict state machine", _rate(steps, run_dict)),
        ("plain transitions (models bound to one Machine)", _rate(steps, run_transitions)),
        ("pathways Engine.fire (checks + audit event)", _rate(steps, run_pathways)),
    ]


def bench_machines(cases: int) -> list[tuple[str, float, float]]:
    pathway = pathways.load_text(_definition(), "ring.yaml")
    registry = pathways.Registry([pathway])
    spec = [{"trigger": "next", "source": f"s{i}", "dest": f"s{(i + 1) % RING}"} for i in range(RING)]

    def measure(build: Callable[[], object]) -> tuple[float, float]:
        gc.collect()
        tracemalloc.start()
        start = time.perf_counter()
        keep = build()
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del keep
        return seconds, peak / 2**20

    def shared() -> object:
        engine = pathways.Engine(registry, clock=pathways.ManualClock())
        for i in range(cases):
            engine.start("ring", f"c{i}")
        return engine

    def per_case() -> object:
        class Model:
            pass

        out = []
        for _ in range(cases):
            m = Model()
            Machine(model=m, states=[f"s{i}" for i in range(RING)], transitions=spec, initial="s0", auto_transitions=False)
            out.append(m)
        return out

    s_time, s_mem = measure(shared)
    p_time, p_mem = measure(per_case)
    return [
        (f"pathways: one shared Machine, {cases:,} cases", s_time, s_mem),
        (f"transitions: one Machine per case, {cases:,} cases", p_time, p_mem),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=200_000)
    args = parser.parse_args()

    rows = bench_steps(args.cases, args.steps)
    base = rows[0][1]
    print(f"Steps: {args.steps:,} over {args.cases:,} cases (ring of {RING} states)\n")
    print(f"{'variant':<50} {'steps/s':>12} {'cost vs dict':>13}")
    for name, rate in rows:
        print(f"{name:<50} {rate:>12,.0f} {base / rate:>12.1f}x")
    plain = rows[1][1]
    print(f"\npathways costs {plain / rows[2][1]:.1f}x plain transitions per step.\n")

    print(f"{'start cases':<50} {'seconds':>9} {'peak MiB':>9}")
    for name, seconds, mib in bench_machines(args.cases):
        print(f"{name:<50} {seconds:>9.2f} {mib:>9.1f}")


if __name__ == "__main__":
    main()
