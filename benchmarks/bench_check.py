"""How fast is the stranding checker?  Run: .venv/bin/python benchmarks/bench_check.py

Prints one table:

* structural check (reachability, co-reachability of terminals, traps) on generated
  pathways of 1,000 / 10,000 / 100,000 states, against the raw networkx calls on the
  same graph (target: within 2x);
* state-space exploration rate in configurations per second, with the explored size
  (target: >= 100,000 configurations/s);
* the six seed pathways together, with their 16 shared places (target: <= 2 s).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import networkx as nx

from pathways import load_registry
from pathways._explore import Space
from pathways.graph import co_reachable, pathway_graph, reachable, traps
from pathways.model import (
    Deadline,
    Fact,
    Guard,
    Label,
    Outcome,
    Pathway,
    Resource,
    Role,
    Sector,
    State,
    StateKind,
    Transition,
)
from pathways.stranding import check
from pathways.week import Week

L = Label("x", "x")
ROOT = Path(__file__).resolve().parent.parent


def best(fn: Callable[[], Any], repeat: int = 5) -> float:
    """The best of ``repeat`` wall-clock runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def generated(n: int) -> Pathway:
    """``n`` working states in a long chain with loops back, exits every 10th state, and a trap."""
    states = [State(f"s{i}", StateKind.ACTIVE, L, ("nurse",)) for i in range(n)]
    states += [
        State("trap_a", StateKind.ACTIVE, L, ("nurse",)),
        State("trap_b", StateKind.ACTIVE, L, ("nurse",)),
        State("done", StateKind.TERMINAL, L, outcome=Outcome.COMPLETED),
        State("left", StateKind.TERMINAL, L, outcome=Outcome.LEFT_BY_CHOICE, follow_up=L),
    ]
    ts = []
    for i in range(n):
        ts.append(Transition(f"next{i}", (f"s{i}",), f"s{(i + 1) % n}", ("nurse",)))
        ts.append(Transition(f"back{i}", (f"s{i}",), f"s{(i * 7) % n}", ("nurse",)))
        if i % 10 == 9:
            ts.append(Transition(f"end{i}", (f"s{i}",), "done", ("nurse",)))
    ts += [
        Transition("into_trap", ("s0",), "trap_a", ("nurse",)),
        Transition("ping", ("trap_a",), "trap_b", ("nurse",)),
        Transition("pong", ("trap_b",), "trap_a", ("nurse",)),
        Transition("leave", ("*",), "left", ("citizen",)),
    ]
    return Pathway(
        id=f"gen{n}", version=1, title=L, description=L, initial="s0",
        sectors={"region": Sector(L), "citizen": Sector(L)},
        roles={"nurse": Role("region", L), "citizen": Role("citizen", L)},
        states=tuple(states), transitions=tuple(ts),
    )


def structural(p: Pathway) -> tuple[float, float, float, float]:
    """(graph build s, our structural check s, raw networkx s, full check s) on the same graph."""
    build = best(lambda: pathway_graph(p, progress=True), 3)
    g = pathway_graph(p, progress=True)
    terminals = [s.id for s in p.states if s.terminal]

    def ours() -> None:
        reach = reachable(g, p.initial)
        co = co_reachable(g, terminals)
        stuck = reach - co
        dead = [s for s in stuck if g.out_degree(s) == 0]
        traps(g, stuck)
        assert not dead

    def raw() -> None:
        reach = nx.descendants(g, p.initial) | {p.initial}
        co: set[Any] = set()
        for layer in nx.bfs_layers(g.reverse(copy=False), terminals):
            co.update(layer)
        stuck = reach - co
        nx.condensation(g.subgraph(stuck))

    full = best(lambda: check(p), 1)
    repeat = max(3, 50_000 // len(p.states))  # small graphs: more runs, so noise does not decide the ratio
    return build, best(ours, repeat), best(raw, repeat), full


def explorable(n: int, facts: int) -> Pathway:
    """A pathway whose state space is large: guards over ``facts`` facts, places, approvals, deadlines."""
    names = [f"f{i}" for i in range(facts)]
    states = [State(f"s{i}", StateKind.WAITING if i % 3 == 0 else StateKind.ACTIVE, L, ("nurse",),
                    Deadline(timedelta(hours=2), f"esc{i}") if i % 3 == 0 else None) for i in range(n)]
    states += [State("done", StateKind.TERMINAL, L, outcome=Outcome.COMPLETED),
               State("left", StateKind.TERMINAL, L, outcome=Outcome.LEFT_BY_CHOICE, follow_up=L)]
    ts = []
    for i in range(n):
        g = (Guard(names[i % facts], negated=bool(i % 2)),)
        ts.append(Transition(f"next{i}", (f"s{i}",), f"s{(i + 1) % n}", ("nurse",), g, sets={names[(i + 1) % facts]: True}))
        ts.append(Transition(f"other{i}", (f"s{i}",), f"s{(i + 5) % n}", ("nurse",), (Guard(g[0].fact, not g[0].negated),)))
        if i % 3 == 0:
            ts.append(Transition(f"esc{i}", (f"s{i}",), f"s{(i + 2) % n}", ("nurse",)))
        if i % 4 == 1:
            ts.append(Transition(f"take{i}", (f"s{i}",), f"s{(i + 3) % n}", ("nurse",), takes="places"))
        if i % 4 == 3:
            ts.append(Transition(f"give{i}", (f"s{i}",), f"s{(i + 1) % n}", ("nurse",), releases="places"))
    ts.append(Transition("finish", ("s1",), "done", ("nurse",)))
    ts.append(Transition("leave", ("*",), "left", ("citizen",)))
    return Pathway(
        id=f"space{n}", version=1, title=L, description=L, initial="s0",
        sectors={"region": Sector(L), "citizen": Sector(L)},
        roles={"nurse": Role("region", L), "citizen": Role("citizen", L)},
        states=tuple(states), transitions=tuple(ts),
        facts={f: Fact(L) for f in names}, resources={"places": Resource(16, L)},
    )


def main() -> int:
    rows: list[tuple[str, str, str, str]] = []
    for n in (1_000, 10_000, 100_000):
        p = generated(n)
        build, ours, raw, full = structural(p)
        rows.append((
            f"structural check, {n:,} states",
            f"{ours * 1e3:,.1f} ms (graph build {build * 1e3:,.0f} ms; whole check() {full:,.2f} s)",
            f"raw networkx {raw * 1e3:,.1f} ms; ratio {ours / raw:.2f}x",
            "<= 2x: " + ("met" if ours / raw <= 2 else "MISSED"),
        ))
    for n, facts in ((60, 6), (120, 8)):
        p = explorable(n, facts)
        start = time.perf_counter()
        space = Space(p, p.resources, 10_000_000).explore()
        took = time.perf_counter() - start
        rate = len(space.parent) / took
        rows.append((
            f"exploration, {n} states x {facts} facts x 16 places",
            f"{len(space.parent):,} configurations in {took:.2f} s",
            f"{rate:,.0f} configurations/s",
            ">= 100,000/s: " + ("met" if rate >= 100_000 else "MISSED"),
        ))
    registry = load_registry(ROOT / "definitions")
    took = best(lambda: check(registry, week=False), 3)
    report = check(registry, week=False)
    # The week-aware check of every house (check(), which adds pathways.week to the time-free
    # check) next to the time-free check of the same pathways: time and configurations/s (a
    # configuration of the week = a state x a slot).
    free = took
    configs = sum(report.explored.values())
    week_took = best(lambda: check(registry), 3)
    found = [f for f in check(registry).findings if f.kind.week]
    slots = sum(
        Week(h, [p for p in registry.values() if p.house == h.id]).n * len([p for p in registry.values() if p.house == h.id])
        for h in registry.houses.values()
    )
    rows.append((
        f"time-free check(week=False), {len(registry)} seed pathways",
        f"{configs:,} configurations, {len(report.findings)} findings in {free * 1e3:,.1f} ms (ok={report.ok})",
        f"{configs / free:,.0f} configurations/s",
        "<= 2 s: " + ("met" if free <= 2 else "MISSED"),
    ))
    rows.append((
        f"week-aware check(), {len(registry.houses)} houses x 2 weeks",
        f"{len(found)} week findings in {week_took * 1e3:,.1f} ms",
        f"{slots * 2 / week_took:,.0f} pathway-slots/s; {week_took / free:.1f}x the time-free check",
        "<= 2 s and <= 10x: " + ("met" if week_took <= 2 and week_took <= 10 * free else "MISSED"),
    ))
    header = ("what", "measured", "rate / comparison", "target")
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(4)]
    for r in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
