"""Load test of `pathways serve`: requests/s and latency (p50, p99) for options and fire.

Starts one server process on 127.0.0.1 (the OS picks the port) over a fresh SQLite file, or
``--db postgresql+psycopg://…``; sends a bounded number of requests from ``--clients``
threads, then stops it. Run: python benchmarks/bench_serve.py [--requests 2000] [--clients 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from pathways.service import make_token

ROOT = Path(__file__).resolve().parents[1]
KEY = b"benchmark-key-of-at-least-thirty-two-bytes"


def _server(db: str, tmp: Path) -> tuple[subprocess.Popen[str], str]:
    (tmp / "key").write_bytes(KEY)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pathways.cli", "serve", "--db", db, "-d", str(ROOT / "definitions"),
         "--key-file", str(tmp / "key"), "--port", "0"],
        stdout=subprocess.PIPE, text=True, env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().split()[-1]


def _timed(client: httpx.Client, method: str, url: str, **kw: object) -> tuple[float, int]:
    start = time.perf_counter()
    r = client.request(method, url, **kw)  # type: ignore[arg-type]
    return time.perf_counter() - start, r.status_code


def _report(name: str, results: list[tuple[float, int]], wall: float) -> None:
    times = sorted(t for t, _ in results)
    ok = sum(1 for _, code in results if code == 200)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print(f"{name:<8}  {len(results):>8}  {ok:>6}  {len(results) / wall:>10.0f}  {statistics.median(times) * 1000:>8.1f}  {p99 * 1000:>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="requests per kind (default: 2000)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default: 8)")
    parser.add_argument("--db", default=None, help="a PostgreSQL URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    headers = {"Authorization": f"Bearer {make_token(KEY, 'sw-1', 'social_duty_worker', 'municipal_social')}"}
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = _server(args.db or str(Path(tmp) / "cases.db"), Path(tmp))
        try:
            with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
                for _ in range(100):
                    try:
                        client.get("/openapi.json")
                        break
                    except httpx.TransportError:
                        time.sleep(0.05)
                ids = [f"b-{uuid.uuid4().hex[:10]}" for _ in range(args.requests)]
                for cid in ids:
                    client.post("/cases", json={"pathway": "walk_in", "citizen": f"c-{cid}", "case_id": cid})
                print(f"{'verb':<8}  {'requests':>8}  {'200s':>6}  {'requests/s':>10}  {'p50 ms':>8}  {'p99 ms':>8}")
                with ThreadPoolExecutor(args.clients) as pool:
                    start = time.perf_counter()
                    res = list(pool.map(lambda cid: _timed(client, "GET", f"/cases/{cid}/options"), ids))
                    _report("options", res, time.perf_counter() - start)
                    start = time.perf_counter()
                    res = list(pool.map(lambda cid: _timed(client, "POST", f"/cases/{cid}/fire", json={"trigger": "start_conversation"}), ids))
                    _report("fire", res, time.perf_counter() - start)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
