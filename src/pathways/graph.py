"""Pathways as `networkx` graphs, and the structural questions asked of them.

Nodes are plain state ids; an edge ``a → b`` means a citizen in ``a`` can be moved to
``b`` by some transition, an approval refusal, or the answer to a hand-over. Guards,
roles and places are ignored here (they are the state-space explorer's job), so the
graph over-approximates what can happen: a state the graph cannot reach is truly
unreachable, a state that cannot reach a terminal in the graph is truly stuck.

Leaving by the citizen's own choice (:meth:`Pathway.is_leaving
<pathways.model.Pathway.is_leaving>`) is kept apart (``progress=True`` drops those
edges): a pathway that only ends because the citizen gives up still strands them.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Set
from typing import Any

import networkx as nx

from .model import ANY_STATE, Pathway
from .registry import Registry

__all__ = [
    "co_reachable",
    "pathway_graph",
    "reachable",
    "registry_graph",
    "traps",
]


def _edges(pathway: Pathway, progress: bool) -> Iterable[tuple[str, str]]:
    working = tuple(s.id for s in pathway.states if not s.terminal)
    for t in pathway.transitions:
        if progress and pathway.is_leaving(t):
            continue
        sources = working if ANY_STATE in t.source else t.source
        for src in sources:
            yield (src, t.dest)
            if t.approval is not None:
                yield (src, t.approval.on_refusal)
        if t.handover is not None:
            yield (t.dest, t.handover.accepted)
            yield (t.dest, t.handover.declined)


def pathway_graph(pathway: Pathway, *, progress: bool = False) -> nx.DiGraph:
    """The pathway's states and moves as a ``DiGraph`` with plain state-id nodes.

    Args:
        progress: leave out transitions into ``left_by_choice`` terminals, so that the
            graph shows only how staff and time move the citizen on.
    """
    g = nx.DiGraph()
    g.add_nodes_from(s.id for s in pathway.states)
    g.add_edges_from(_edges(pathway, progress))
    return g


def registry_graph(registry: Registry, *, progress: bool = False) -> nx.DiGraph:
    """All pathways in one graph; nodes are ``(pathway_id, state_id)``.

    A hand-over adds an edge from the sender's waiting state to the receiver's intake
    state, so the hand-over chain between sectors can be followed end to end.
    """
    g = nx.DiGraph()
    for p in registry.values():
        g.add_nodes_from((p.id, s.id) for s in p.states)
        g.add_edges_from(((p.id, a), (p.id, b)) for a, b in _edges(p, progress))
        for t in p.transitions:
            receiver = registry.get(t.handover.to) if t.handover else None
            if receiver is not None and receiver.intake is not None:
                g.add_edge((p.id, t.dest), (receiver.id, receiver.intake.state))
    return g


def reachable(graph: nx.DiGraph, start: Hashable) -> set[Any]:
    """Every node reachable from ``start``, ``start`` included."""
    out: set[Any] = nx.descendants(graph, start)
    out.add(start)
    return out


def co_reachable(graph: nx.DiGraph, targets: Iterable[Hashable]) -> set[Any]:
    """Every node from which some target is reachable (BFS on the reversed graph)."""
    targets = [t for t in targets if t in graph]
    if not targets:
        return set()
    out: set[Any] = set()
    for layer in nx.bfs_layers(graph.reverse(copy=False), targets):
        out.update(layer)
    return out


def traps(graph: nx.DiGraph, stuck: Set[Any]) -> list[list[Any]]:
    """Sink strongly connected components among ``stuck`` nodes that loop forever.

    ``stuck`` are the nodes that cannot reach a terminal; a trap is one of their
    components with no edge out of it that is a real loop (more than one node, or a
    node with an edge to itself). Single nodes without such an edge are dead ends.
    """
    sub = graph.subgraph(stuck)
    cond = nx.condensation(sub)
    members = cond.graph["mapping"]
    comps: dict[int, list[Any]] = {}
    for node, c in members.items():
        comps.setdefault(c, []).append(node)
    out = []
    for c, nodes in comps.items():
        if cond.out_degree(c):
            continue
        if len(nodes) > 1 or sub.has_edge(nodes[0], nodes[0]):
            out.append(sorted(nodes, key=str))
    return sorted(out, key=lambda ns: str(ns[0]))
