"""Simulation speed: citizen-steps per second against the bare engine in the same run.

Run: .venv/bin/python benchmarks/bench_simulate.py [--scenario FILE] [--days N]

The simulation's every move is an Engine call. Timing those calls inside the run (the
engine methods are wrapped on the instance) gives the bare engine's cost for exactly the
same steps; the rest is the simulation's own work (SimPy scheduling, presence, choices,
``why_not`` look-ahead, book-keeping). The issue's targets: simulation cost per step at
most 3x the bare engine, and the one-year Aarhus scenario in at most 60 s.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs

from pathways.scenario import load_scenario
from pathways.simulation import Simulation

ROOT = Path(__file__).resolve().parents[1]
_TIMED = ("start", "fire", "approve", "refuse", "fire_due")


def _instrument(sim: Simulation) -> list[float]:
    """Wrap the engine's acting methods to add their wall time to a shared counter."""
    spent = [0.0]
    engine = sim.engine
    for name in _TIMED:
        original: Callable[..., Any] = getattr(engine, name)

        def timed(*args: Any, _original: Callable[..., Any] = original, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - t0

        setattr(engine, name, timed)
    return spent


def run(scenario_path: Path, days: int | None) -> tuple[str, int, float, float, int]:
    scenario = load_scenario(scenario_path)
    if days is not None:
        scenario = attrs.evolve(scenario, period=timedelta(days=days))
    sim = Simulation(scenario)
    spent = _instrument(sim)
    gc.collect()
    t0 = time.perf_counter()
    result = sim.run()
    wall = time.perf_counter() - t0
    return scenario.name, result.steps, wall, spent[0], result.overall.started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "examples" / "aarhus_year.yaml")
    parser.add_argument("--days", type=int, default=None, help="shorten the scenario's period")
    args = parser.parse_args()

    name, steps, wall, engine_s, citizens = run(args.scenario, args.days)
    print(f"Scenario: {name} ({citizens:,} cases, {steps:,} citizen-steps = engine events)\n")
    print(f"{'measure':<46} {'value':>14}")
    print(f"{'wall time of the whole simulation':<46} {wall:>12.2f} s")
    print(f"{'simulation rate':<46} {steps / wall:>10,.0f} st/s")
    print(f"{'bare engine rate (its calls in the same run)':<46} {steps / engine_s:>10,.0f} st/s")
    print(f"{'cost per step, simulation vs bare engine':<46} {wall / engine_s:>13.2f}x")
    print(f"\ntargets: cost per step <= 3x ({'met' if wall / engine_s <= 3 else 'NOT met'}); "
          f"one-year wall time <= 60 s ({'met' if wall <= 60 else 'NOT met'})")


if __name__ == "__main__":
    main()
