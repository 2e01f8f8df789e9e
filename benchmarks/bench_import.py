"""How long `import pathways` takes, beside `import transitions`, in the same run.

Each import runs in a fresh interpreter (``python -X importtime -c "import X"``) several
times; the table prints the best and the median of the module's own cumulative import time
(wall clock, interpreter start-up excluded), the median CPU time the interpreter spent
beyond a bare ``python -c pass`` (steadier than wall time on a busy machine), and which
heavy packages the import loaded. Target:
``import pathways`` ≤ 150 ms on the project's machine; networkx, SimPy, SQLAlchemy,
matplotlib and hypothesis load only on first use.

    .venv/bin/python benchmarks/bench_import.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

HEAVY = ("networkx", "simpy", "sqlalchemy", "matplotlib", "hypothesis", "numpy")


def _import_ms(module: str) -> tuple[float, list[str]]:
    """The module's cumulative import time in ms, and the heavy packages it loaded."""
    probe = f"import sys, {module}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", probe], capture_output=True, text=True, check=True)
    for line in done.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1]) / 1000, [m for m in done.stdout.strip().split(",") if m]
    raise RuntimeError(f"no import time reported for {module}")


def _cpu_ms(code: str) -> float:
    """User + system CPU of one fresh interpreter running ``code``, in ms."""
    proc = subprocess.Popen([sys.executable, "-c", code])
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return (usage.ru_utime + usage.ru_stime) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    bare = statistics.median(_cpu_ms("pass") for _ in range(args.runs))
    print(f"{'import':<14} {'best ms':>8} {'median ms':>10} {'CPU ms':>8}  heavy packages loaded")
    for module in ("transitions", "pathways"):
        runs = [_import_ms(module) for _ in range(args.runs)]
        times = [t for t, _ in runs]
        cpu = statistics.median(_cpu_ms(f"import {module}") for _ in range(args.runs)) - bare
        print(f"{module:<14} {min(times):>8.1f} {statistics.median(times):>10.1f} {cpu:>8.1f}  {', '.join(runs[-1][1]) or '-'}")


if __name__ == "__main__":
    main()
