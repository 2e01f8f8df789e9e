"""Pathway diagrams: Mermaid and Graphviz text, SVG/PNG through Graphviz ``dot``.

Designers read a picture faster than YAML. States are coloured by the sector of their
responsible roles (several sectors: "shared") and shaped by kind (active: rounded,
waiting: hexagon, terminal: double border); transitions carry trigger, roles, guards,
approval rule, places taken/released and hand-overs; deadlines are shown on their state.
Findings of the checker can be highlighted by passing state ids and ``(source, trigger)``
pairs — plain values, so this module does not depend on :mod:`pathways.check`; the
order of the pairs numbers the steps of a counterexample path.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from typing import Any, TypedDict

from ._converter import format_duration
from .approvals import describe
from .errors import RenderError
from .model import ANY_STATE, Pathway, State, StateKind, Transition
from .registry import Registry

__all__ = [
    "SECTOR_COLOURS",
    "Highlight",
    "conditions",
    "finding_highlight",
    "registry_to_dot",
    "registry_to_mermaid",
    "render",
    "sector_colour",
    "to_dot",
    "to_mermaid",
]

SECTOR_COLOURS: dict[str, str] = {
    "region": "#cfe2f3",
    "municipal_social": "#d9ead3",
    "municipality": "#d9ead3",
    "municipal": "#d9ead3",
    "social": "#d9ead3",
    "municipal_employment": "#fce5cd",
    "employment": "#fce5cd",
    "citizen": "#fff2cc",
    "civil_society": "#ead1dc",
    "shared": "#e6e0f8",
}
"""Fill colours of the usual sector ids; other sectors get one from ``_PALETTE``."""

_PALETTE = ("#d0e0e3", "#f4cccc", "#ead1dc", "#fff2cc", "#c9daf8")
_HIGHLIGHT = "#cc0000"
_TERMINAL_FILL = "#ffffff"


class Highlight:
    """What to mark: states, transitions as ordered ``(source, trigger)`` steps, whole triggers."""

    def __init__(
        self, states: Iterable[str] = (), transitions: Iterable[tuple[str, str]] = (), triggers: Iterable[str] = ()
    ) -> None:
        self.states = frozenset(states)
        self.triggers = frozenset(triggers)
        self.steps: dict[tuple[str, str], list[int]] = {}
        for i, pair in enumerate(transitions, start=1):
            self.steps.setdefault((pair[0], pair[1]), []).append(i)

    def edge(self, pathway: Pathway, t: Transition, source: str) -> list[int] | None:
        """Step numbers of this edge (``source`` may be ``*``), or ``None`` if not marked."""
        if source == ANY_STATE:
            found = [n for s in pathway.sources_of(t) for n in self.steps.get((s, t.trigger), [])]
            marked = found or (ANY_STATE, t.trigger) in self.steps or t.trigger in self.triggers
            return sorted(found) if marked else None
        steps = self.steps.get((source, t.trigger))
        return [] if steps is None and t.trigger in self.triggers else steps


class HighlightMarks(TypedDict):
    """The keyword arguments of :func:`to_dot`/:func:`to_mermaid` that mark a finding."""

    highlight_states: tuple[str, ...]
    highlight_transitions: tuple[tuple[str, str], ...]
    highlight_triggers: tuple[str, ...]


def finding_highlight(finding: Any) -> HighlightMarks:
    """Keyword arguments for :func:`to_dot`/:func:`to_mermaid` that mark a checker finding.

    Duck-typed on :class:`pathways.stranding.Finding` (``states``, ``transitions`` as trigger
    names, ``counterexample.steps`` with ``state``/``trigger``, ``counterexample.ends_in``),
    so this module does not import the checker.
    """
    states = list(getattr(finding, "states", ()))
    path: list[tuple[str, str]] = []
    example = getattr(finding, "counterexample", None)
    if example is not None:
        for step in example.steps:
            pair = (step.state, getattr(step, "trigger", None))
            if pair[1] and (not path or path[-1] != pair):  # request, approvals, firing: one step
                path.append((pair[0], str(pair[1])))
        states.append(example.ends_in)
    return HighlightMarks(
        highlight_states=tuple(dict.fromkeys(states)),
        highlight_transitions=tuple(path),
        highlight_triggers=tuple(getattr(finding, "transitions", ())),
    )


def sector_colour(sector: str, known: Sequence[str] = ()) -> str:
    """The fill colour of a sector; unknown ids cycle through a fixed palette."""
    if sector in SECTOR_COLOURS:
        return SECTOR_COLOURS[sector]
    index = sorted(known).index(sector) if sector in known else sum(map(ord, sector))
    return _PALETTE[index % len(_PALETTE)]


def _state_sector(p: Pathway, s: State) -> str | None:
    sectors = {p.roles[r].sector for r in s.responsible if r in p.roles}
    if not sectors:
        return None
    return sectors.pop() if len(sectors) == 1 else "shared"


def _fill(p: Pathway, s: State) -> str:
    if s.terminal:
        return _TERMINAL_FILL
    sector = _state_sector(p, s)
    return sector_colour(sector, list(p.sectors)) if sector else "#eeeeee"


def _state_text(p: Pathway, s: State, lang: str) -> list[str]:
    lines = [str(getattr(s.label, lang)), f"[{s.id}]"]
    if s.deadline:
        lines.append(f"deadline {format_duration(s.deadline.after)} → {s.deadline.trigger}")
    if s.outcome:
        lines.append(s.outcome.value)
    sector = _state_sector(p, s)
    if sector and not s.terminal:
        lines.append(f"({sector})")
    return lines


def _edge_text(t: Transition) -> list[str]:
    lines = [t.trigger]
    if t.roles:
        lines.append("by " + ", ".join(t.roles))
    return lines + conditions(t)


def conditions(t: Transition) -> list[str]:
    """What else a transition needs or does, one short line each (guards, approval, places)."""
    lines = []
    if t.guards:
        lines.append("if " + " and ".join(map(str, t.guards)))
    if t.approval:
        lines.append(f"approval: {describe(t.approval)}")
        lines.append(f"refused → {t.approval.on_refusal}")
    if t.takes:
        lines.append(f"takes {t.takes}")
    if t.releases:
        lines.append(f"releases {t.releases}")
    if t.handover:
        lines.append(f"hand-over → {t.handover.to}")
    return lines


def _edges(p: Pathway) -> Iterable[tuple[str, Transition]]:
    """(drawn source, transition): a ``*`` source is drawn once from an 'any state' node."""
    for t in p.transitions:
        if ANY_STATE in t.source:
            yield ANY_STATE, t
        else:
            for src in t.source:
                yield src, t


# -- Graphviz -------------------------------------------------------------------------


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot_body(p: Pathway, hl: Highlight, lang: str, prefix: str, indent: str) -> list[str]:
    out = []
    for s in p.states:
        attrs = {
            "label": "\\n".join(x.replace("\\", "\\\\").replace('"', '\\"') for x in _state_text(p, s, lang)),
            "fillcolor": _fill(p, s),
            "shape": {StateKind.ACTIVE: "box", StateKind.WAITING: "hexagon", StateKind.TERMINAL: "box"}[s.kind],
            "style": "filled,rounded" if s.kind is not StateKind.WAITING else "filled",
        }
        if s.terminal:
            attrs["peripheries"] = "2"
        if s.id == p.initial:
            attrs["penwidth"] = "2"
        if s.id in hl.states:
            attrs.update(color=_HIGHLIGHT, penwidth="3", fontcolor=_HIGHLIGHT)
        text = ", ".join(f'{k}="{v}"' for k, v in attrs.items())
        out.append(f"{indent}{_q(prefix + s.id)} [{text}];")
    if any(ANY_STATE in t.source for t in p.transitions):
        out.append(f'{indent}{_q(prefix + ANY_STATE)} [label="any non-terminal state", shape=note, style=dashed];')
    for src, t in _edges(p):
        steps = hl.edge(p, t, src)
        label = "\\n".join(x.replace('"', '\\"') for x in _edge_text(t))
        extra = ""
        if steps is not None:
            if steps:
                label = f"#{','.join(map(str, steps))} " + label
            extra = f', color="{_HIGHLIGHT}", fontcolor="{_HIGHLIGHT}", penwidth=3'
        elif t.approval:
            extra = ', style="bold"'
        out.append(f'{indent}{_q(prefix + src)} -> {_q(prefix + t.dest)} [label="{label}"{extra}];')
        if t.approval and t.approval.on_refusal != t.dest:
            out.append(
                f'{indent}{_q(prefix + src)} -> {_q(prefix + t.approval.on_refusal)} '
                f'[label="{t.trigger} refused / timed out", style=dotted];'
            )
    return out


_GRAPH_HEAD = [
    "  rankdir=LR;",
    '  graph [fontname="Helvetica", fontsize=11, nodesep=0.35, ranksep=0.6];',
    '  node [fontname="Helvetica", fontsize=10, margin="0.12,0.06"];',
    '  edge [fontname="Helvetica", fontsize=9];',
]


def _legend(sectors: Iterable[str], known: Sequence[str]) -> list[str]:
    out = ["  subgraph cluster_legend {", '    label="sectors"; fontsize=9; style=dashed;']
    for sector in sectors:
        out.append(f'    {_q("legend." + sector)} [label={_q(sector)}, shape=box, style="filled,rounded", '
                   f'fillcolor="{sector_colour(sector, known)}", fontsize=9];')
    out.append("  }")
    return out


def to_dot(
    pathway: Pathway,
    *,
    highlight_states: Iterable[str] = (),
    highlight_transitions: Iterable[tuple[str, str]] = (),
    highlight_triggers: Iterable[str] = (),
    lang: str = "en",
) -> str:
    """The pathway as a Graphviz ``digraph``; hand-overs point at the receiving pathway."""
    hl = Highlight(highlight_states, highlight_transitions, highlight_triggers)
    title = f"{pathway.id} v{pathway.version}: {getattr(pathway.title, lang)}"
    out = [f"digraph {_q(pathway.id)} {{", *_GRAPH_HEAD, f"  label={_q(title)}; labelloc=t;"]
    out += _dot_body(pathway, hl, lang, "", "  ")
    for t in pathway.transitions:
        if t.handover:
            out.append(f'  {_q("pathway:" + t.handover.to)} [label={_q("→ " + t.handover.to)}, shape=cds, '
                       f'style=filled, fillcolor="#f3f3f3"];')
            out.append(f'  {_q(t.dest)} -> {_q("pathway:" + t.handover.to)} [style=dashed, label="hand-over"];')
    used = sorted({p for s in pathway.states if (p := _state_sector(pathway, s))})
    out += _legend(used, list(pathway.sectors))
    out.append("}")
    return "\n".join(out) + "\n"


def registry_to_dot(registry: Registry, *, lang: str = "en") -> str:
    """Every pathway as a cluster, with hand-overs drawn from sender to the receiver's intake."""
    out = ["digraph pathways {", *_GRAPH_HEAD, "  compound=true;"]
    hl = Highlight()
    sectors: set[str] = set()
    for pid in sorted(registry):
        p = registry[pid]
        out.append(f"  subgraph {_q('cluster_' + pid)} {{")
        out.append(f"    label={_q(f'{pid} v{p.version}: {getattr(p.title, lang)}')}; style=rounded; color=\"#999999\";")
        out += _dot_body(p, hl, lang, f"{pid}.", "    ")
        out.append("  }")
        sectors |= {sec for s in p.states if (sec := _state_sector(p, s))}
    for pid in sorted(registry):
        p = registry[pid]
        for t in p.transitions:
            if t.handover and t.handover.to in set(registry):
                target = registry[t.handover.to]
                assert target.intake is not None
                out.append(
                    f"  {_q(f'{pid}.{t.dest}')} -> {_q(f'{target.id}.{target.intake.state}')} "
                    f'[label={_q("hand-over: " + t.trigger)}, style=dashed, color="#674ea7", '
                    f'fontcolor="#674ea7", penwidth=2, constraint=false];'
                )
    out += _legend(sorted(sectors), sorted(sectors))
    out.append("}")
    return "\n".join(out) + "\n"


# -- Mermaid --------------------------------------------------------------------------


def _word(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def _mid(text: str) -> str:
    """A Mermaid node id: prefixed, so ids such as ``end`` or ``o…`` never clash with syntax."""
    return "s_" + _word(text)


def _mtext(lines: Iterable[str]) -> str:
    return "<br/>".join(x.replace('"', "#quot;") for x in lines)


def _mermaid_body(p: Pathway, hl: Highlight, lang: str, prefix: str, indent: str) -> tuple[list[str], list[str]]:
    out: list[str] = []
    styles: list[str] = []
    shapes = {StateKind.ACTIVE: ('(["', '"])'), StateKind.WAITING: ('{{"', '"}}'), StateKind.TERMINAL: ('[["', '"]]')}
    for s in p.states:
        open_, close = shapes[s.kind]
        nid = _mid(prefix + s.id)
        out.append(f"{indent}{nid}{open_}{_mtext(_state_text(p, s, lang))}{close}")
        sector = _state_sector(p, s)
        cls = "terminal" if s.terminal else f"sector_{_word(sector)}" if sector else "nosector"
        styles.append(f"{indent}class {nid} {cls}")
        if s.id in hl.states:
            styles.append(f"{indent}class {nid} highlight")
    if any(ANY_STATE in t.source for t in p.transitions):
        out.append(f'{indent}{_mid(prefix + "any")}>"any non-terminal state"]')
    edge_index = 0
    for src, t in _edges(p):
        a = _mid(prefix + ("any" if src == ANY_STATE else src))
        lines = _edge_text(t)
        steps = hl.edge(p, t, src)
        if steps:
            lines[0] = f"#{','.join(map(str, steps))} {lines[0]}"
        out.append(f'{indent}{a} -->|"{_mtext(lines)}"| {_mid(prefix + t.dest)}')
        if steps is not None:
            styles.append(f"{indent}linkStyle {edge_index} stroke:{_HIGHLIGHT},stroke-width:3px")
        edge_index += 1
        if t.approval and t.approval.on_refusal != t.dest:
            out.append(f'{indent}{a} -.->|"{t.trigger} refused / timed out"| {_mid(prefix + t.approval.on_refusal)}')
            edge_index += 1
    return out, styles


def _class_defs(sectors: Iterable[str], known: Sequence[str]) -> list[str]:
    out = [f"  classDef sector_{_word(s)} fill:{sector_colour(s, known)},stroke:#555" for s in sectors]
    out += [
        f"  classDef terminal fill:{_TERMINAL_FILL},stroke:#333,stroke-width:3px",
        "  classDef nosector fill:#eeeeee,stroke:#555",
        f"  classDef highlight stroke:{_HIGHLIGHT},stroke-width:4px,color:{_HIGHLIGHT}",
    ]
    return out


def to_mermaid(
    pathway: Pathway,
    *,
    highlight_states: Iterable[str] = (),
    highlight_transitions: Iterable[tuple[str, str]] = (),
    highlight_triggers: Iterable[str] = (),
    lang: str = "en",
) -> str:
    """The pathway as a Mermaid ``flowchart`` (renders on GitHub and in most doc tools)."""
    hl = Highlight(highlight_states, highlight_transitions, highlight_triggers)
    body, styles = _mermaid_body(pathway, hl, lang, "", "  ")
    out = ["flowchart LR", *body]
    for t in pathway.transitions:
        if t.handover:
            target = _mid("pathway_" + t.handover.to)
            out.append(f'  {target}>"→ {t.handover.to}"]')
            out.append(f'  {_mid(t.dest)} -.->|"hand-over"| {target}')
    used = sorted({p for s in pathway.states if (p := _state_sector(pathway, s))})
    out += _class_defs(used, list(pathway.sectors))
    out += styles
    return "\n".join(out) + "\n"


def registry_to_mermaid(registry: Registry, *, lang: str = "en") -> str:
    """Every pathway as a subgraph, with hand-overs drawn to the receiver's intake."""
    out = ["flowchart LR"]
    styles: list[str] = []
    sectors: set[str] = set()
    for pid in sorted(registry):
        p = registry[pid]
        out.append(f'  subgraph {_mid(pid)}["{pid} v{p.version}: {_mtext([getattr(p.title, lang)])}"]')
        body, st = _mermaid_body(p, Highlight(), lang, f"{pid}.", "    ")
        out += body
        styles += st
        out.append("  end")
        sectors |= {sec for s in p.states if (sec := _state_sector(p, s))}
    for pid in sorted(registry):
        for t in registry[pid].transitions:
            if t.handover and t.handover.to in set(registry):
                target = registry[t.handover.to]
                assert target.intake is not None
                out.append(f'  {_mid(f"{pid}.{t.dest}")} ==>|"hand-over: {t.trigger}"| {_mid(f"{target.id}.{target.intake.state}")}')
    out += _class_defs(sorted(sectors), sorted(sectors))
    out += [s.replace("    ", "  ", 1) for s in styles if "linkStyle" not in s]
    return "\n".join(out) + "\n"


# -- rendering ------------------------------------------------------------------------


def render(dot: str, fmt: str = "svg") -> bytes:
    """Render Graphviz text to ``svg`` or ``png`` with the ``dot`` program.

    Raises:
        RenderError: ``dot`` is not installed, the format is unknown, or ``dot`` failed.
    """
    if fmt not in ("svg", "png"):
        raise RenderError(f"cannot render format {fmt!r}; use 'svg' or 'png' (or 'dot'/'mermaid' for text)")
    exe = shutil.which("dot")
    if exe is None:
        raise RenderError(
            "Graphviz 'dot' is not installed, so SVG/PNG cannot be made; install Graphviz "
            "(Debian/Ubuntu: apt-get install graphviz) or use --format dot or --format mermaid"
        )
    proc = subprocess.run([exe, f"-T{fmt}"], input=dot.encode("utf-8"), capture_output=True, check=False, timeout=120)
    if proc.returncode != 0:
        raise RenderError(f"Graphviz 'dot' failed (exit {proc.returncode}): {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout
