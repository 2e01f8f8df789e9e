"""Conformance rate and memory: replay a large CSV log (simulated weeks, repeated) against the seeds.

Run: python benchmarks/bench_conform.py [--events 1000000]
Prints events, seconds, events/s and the peak resident memory, which stays flat as the log grows.
"""

from __future__ import annotations

import argparse
import csv
import io
import resource
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from pathways.conformance import conform, read_csv
from pathways.eventlog import CSV_COLUMNS, write_csv
from pathways.scenario import load_scenario
from pathways.simulation import Simulation

ROOT = Path(__file__).resolve().parents[1]


def _big_log(path: Path, events: int) -> int:
    """Repeat one simulated week, each copy a week later with its own case ids, up to ``events``."""
    sim = Simulation(load_scenario(ROOT / "examples" / "short_week.yaml"))
    sim.run()
    text = io.StringIO()
    write_csv(sorted(sim.engine.cases.values(), key=lambda c: c.id), text)
    rows = list(csv.DictReader(io.StringIO(text.getvalue())))
    from datetime import datetime

    written = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.DictWriter(f, CSV_COLUMNS)
        out.writeheader()
        copy = 0
        while written < events:
            shift = timedelta(days=8 * copy)
            for row in rows:
                at = datetime.fromisoformat(row["timestamp"]) + shift
                out.writerow(row | {
                    "case": f"{row['case']}-{copy}", "timestamp": at.isoformat(),
                    "referred_by": f"{row['referred_by']}-{copy}" if row["referred_by"] else "",
                })
                written += 1
                if written >= events:
                    break
            copy += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    sim = Simulation(load_scenario(ROOT / "examples" / "short_week.yaml"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        n = _big_log(path, args.events)
        start = time.perf_counter()
        result = conform(read_csv(path), sim.registry, keep=100)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'events':>10}  {'cases':>8}  {'deviations':>10}  {'seconds':>8}  {'events/s':>9}  {'peak RSS MiB':>12}")
    print(f"{n:>10}  {result.cases:>8}  {result.deviation_count:>10}  {seconds:>8.1f}  {n / seconds:>9.0f}  {peak:>12.0f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
