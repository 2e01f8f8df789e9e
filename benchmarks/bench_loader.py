"""How fast and how lean is the definition loader?  Run: .venv/bin/python benchmarks/bench_loader.py

Prints one table:

* the six seed definitions loaded together (``load_registry``): median and best of 30
  loads (target: median <= 100 ms);
* the resident memory after 50 loads and after 1,000 more (target: no growth per load);
* hostile inputs (an alias bomb, deep nesting, a 10 MB file) and how long each takes to
  be refused.
"""

from __future__ import annotations

import resource
import statistics
import tempfile
import time
from pathlib import Path

from pathways import load_registry, load_text
from pathways.errors import DefinitionError

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "definitions"


def rss_mb() -> float:
    """The resident set size of this process now, in MB (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


def timed_loads(n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        load_registry(SEEDS)
        times.append(time.perf_counter() - start)
    return times


def refused_in(text: str) -> str:
    start = time.perf_counter()
    try:
        load_text(text, "hostile.yaml")
    except DefinitionError as exc:
        return f"{(time.perf_counter() - start) * 1000:8.1f} ms  {exc.problems[0].message[:60]}"
    except Exception as exc:  # the point of the table: what happened before the fix
        return f"{(time.perf_counter() - start) * 1000:8.1f} ms  {type(exc).__name__} (not a DefinitionError)"
    return f"{(time.perf_counter() - start) * 1000:8.1f} ms  accepted"


def main() -> None:
    timed_loads(3)  # warm up imports and caches
    times = timed_loads(30)
    print("| measure | value |")
    print("|---|---|")
    print(f"| six seeds, median of 30 loads | {statistics.median(times) * 1000:.1f} ms |")
    print(f"| six seeds, best of 30 loads | {min(times) * 1000:.1f} ms |")
    timed_loads(20)
    before = rss_mb()
    timed_loads(1000)
    after = rss_mb()
    print(f"| RSS after 50 loads → after 1,050 loads | {before:.0f} MB → {after:.0f} MB |")
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    print(f"| alias bomb ({len(bomb)} bytes) | {refused_in(bomb)} |")
    print(f"| nesting 500 deep | {refused_in('a: ' + '[' * 500 + ']' * 500)} |")
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp, "big.yaml")
        big.write_text("id: big\nstates:\n" + "".join(f"  - {{id: s{i}, kind: active}}\n" for i in range(400_000)))
        start = time.perf_counter()
        try:
            load_registry([big])
            outcome = "accepted"
        except DefinitionError as exc:
            outcome = exc.problems[0].message[:60]
        print(f"| {big.stat().st_size / 1e6:.0f} MB file | {(time.perf_counter() - start) * 1000:8.1f} ms  {outcome} |")


if __name__ == "__main__":
    main()
