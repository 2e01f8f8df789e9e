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
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any, TypedDict, Unpack

from ._converter import format_duration
from .approvals import describe
from .errors import RenderError
from .i18n import Lang, outcome_name, tr, use_language
from .i18n import label as pick_label
from .model import ANY_STATE, Pathway, State, StateKind, Transition
from .registry import Registry

__all__ = [
    "SECTOR_COLOURS",
    "Highlight",
    "HighlightMarks",
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


class HighlightMarks(TypedDict, total=False):
    """The keyword arguments of :func:`to_dot`/:func:`to_mermaid` that mark a finding."""

    highlight_states: Iterable[str]
    highlight_transitions: Iterable[tuple[str, str]]
    """``(source, trigger)`` steps; their order numbers the steps of a counterexample path."""
    highlight_triggers: Iterable[str]


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

    @classmethod
    def of(cls, marks: HighlightMarks, caller: str) -> Highlight:
        """What the keyword arguments of ``caller`` (:func:`to_dot`, :func:`to_mermaid`) mark.

        Raises:
            TypeError: for a keyword it does not know, as Python does for any function.
        """
        if unknown := sorted(marks.keys() - HighlightMarks.__optional_keys__):
            raise TypeError(f"{caller}() got an unexpected keyword argument {unknown[0]!r}")
        return cls(
            marks.get("highlight_states", ()), marks.get("highlight_transitions", ()), marks.get("highlight_triggers", ())
        )

    def edge(self, pathway: Pathway, t: Transition, source: str) -> list[int] | None:
        """Step numbers of this edge (``source`` may be ``*``), or ``None`` if not marked."""
        if source == ANY_STATE:
            found = [n for s in pathway.sources_of(t) for n in self.steps.get((s, t.trigger), [])]
            marked = found or (ANY_STATE, t.trigger) in self.steps or t.trigger in self.triggers
            return sorted(found) if marked else None
        steps = self.steps.get((source, t.trigger))
        return [] if steps is None and t.trigger in self.triggers else steps


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


WRAP = 20
"""Characters per line of a wrapped label: keeps a top-to-bottom diagram narrow enough to
read on a 1400 px page (tests/test_diagram_pages.py measures it in Chromium)."""


def _wrap(text: str, width: int = WRAP) -> list[str]:
    return textwrap.wrap(text, width, break_on_hyphens=False) or [text]


def _state_text(p: Pathway, s: State, lang: str) -> list[str]:
    lines = [*_wrap(str(getattr(s.label, lang))), f"[{s.id}]"]
    if s.deadline:
        lines.append(tr("deadline {after} → {trigger}", lang=_lang(lang), after=format_duration(s.deadline.after), trigger=s.deadline.trigger))
    if s.outcome:
        lines.append(outcome_name(s.outcome, _lang(lang)))
    return lines


def _lang(lang: str) -> Lang:
    return "da" if lang == "da" else "en"


def _edge_text(t: Transition, lang: str = "en") -> list[str]:
    lines = [*_wrap(str(getattr(t.label, lang))), f"({t.trigger})"] if t.label else [t.trigger]
    if t.roles:
        lines += _wrap(tr("by {roles}", lang=_lang(lang), roles=", ".join(t.roles)))
    return lines + [w for line in conditions(t, lang) for w in _wrap(line, WRAP + 4)]


def conditions(t: Transition, lang: str = "en") -> list[str]:
    """What else a transition needs or does, one short line each (guards, approval, places)."""
    la = _lang(lang)
    lines = []
    if t.guards:
        lines.append(tr("if {guards}", lang=la, guards=tr(" and ", lang=la).join(map(str, t.guards))))
    if t.approval:
        with use_language(la):  # the rule's words in the diagram's language, not the caller's
            rule = describe(t.approval)
        lines.append(tr("approval: {rule}", lang=la, rule=rule))
        lines.append(tr("refused → {state}", lang=la, state=t.approval.on_refusal))
    if t.takes:
        lines.append(tr("takes {resource}", lang=la, resource=t.takes))
    if t.releases:
        lines.append(tr("releases {resource}", lang=la, resource=t.releases))
    if t.handover:
        lines.append(tr("hand-over → {pathway}", lang=la, pathway=t.handover.to))
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


def _lines(lines: Iterable[str]) -> str:
    """Several lines as one quoted Graphviz label (centred lines)."""
    return '"' + "\\n".join(x.replace("\\", "\\\\").replace('"', '\\"') for x in lines) + '"'


def _dot_body(p: Pathway, hl: Highlight, lang: str, prefix: str, indent: str) -> list[str]:
    out = []
    for s in p.states:
        attrs = {
            "label": "\\n".join(x.replace("\\", "\\\\").replace('"', '\\"') for x in _state_text(p, s, lang)),
            "fillcolor": _fill(p, s),
            "shape": {StateKind.ACTIVE: "box", StateKind.WAITING: "hexagon", StateKind.TERMINAL: "box"}[s.kind],
            "style": "filled,rounded" if s.kind is not StateKind.WAITING else "filled",
        }
        if s.kind is StateKind.WAITING:
            attrs["margin"] = "0,0"  # a hexagon already widens its label by its slanted sides
        if s.terminal:
            attrs["peripheries"] = "2"
        if s.id == p.initial:
            attrs["penwidth"] = "2"
        if s.id in hl.states:
            attrs.update(color=_HIGHLIGHT, penwidth="3", fontcolor=_HIGHLIGHT)
        text = ", ".join(f'{k}="{v}"' for k, v in attrs.items())
        out.append(f"{indent}{_q(prefix + s.id)} [{text}];")
    if any(ANY_STATE in t.source for t in p.transitions):
        anywhere = _q(tr("any non-terminal state", lang=_lang(lang)))
        out.append(f"{indent}{_q(prefix + ANY_STATE)} [label={anywhere}, shape=note, style=dashed];")
    for src, t in _edges(p):
        steps = hl.edge(p, t, src)
        label = "\\n".join(x.replace('"', '\\"') for x in _edge_text(t, lang))
        extra = ""
        if steps is not None:
            if steps:
                label = f"#{','.join(map(str, steps))} " + label
            extra = f', color="{_HIGHLIGHT}", fontcolor="{_HIGHLIGHT}", penwidth=3'
        elif t.approval:
            extra = ', style="bold"'
        out.append(f'{indent}{_q(prefix + src)} -> {_q(prefix + t.dest)} [label="{label}"{extra}];')
        if t.approval and t.approval.on_refusal != t.dest:
            refused = _q(tr("{trigger} refused / timed out", lang=_lang(lang), trigger=t.trigger))
            out.append(f"{indent}{_q(prefix + src)} -> {_q(prefix + t.approval.on_refusal)} [label={refused}, style=dotted];")
    return out


_GRAPH_HEAD = [
    "  rankdir=TB;",
    '  graph [fontname="Helvetica", fontsize=16, nodesep=0.15, ranksep=0.45];',
    '  node [fontname="Helvetica", fontsize=14, margin="0.1,0.05"];',
    '  edge [fontname="Helvetica", fontsize=12];',
]
"""Top to bottom, so a long pathway grows down the page, not off its right edge."""


def _legend(sectors: Iterable[str], known: Sequence[str], names: dict[str, str], lang: str) -> list[str]:
    """One table at the bottom: what shapes, line styles and colours mean, and each sector's name."""
    la = _lang(lang)

    def row(key: str, text: str, fill: str = "#ffffff") -> str:
        return (f'<TR><TD BGCOLOR="{fill}" BORDER="1" WIDTH="150">{_html(key)}</TD>'
                f'<TD ALIGN="LEFT">{_html(text)}</TD></TR>')

    title = _html(tr("Legend", lang=la))
    rows = [
        f'<TR><TD COLSPAN="2"><B>{title}</B></TD></TR>',
        row(tr("rounded box", lang=la), tr("the citizen is being helped", lang=la)),
        row(tr("hexagon", lang=la), tr("waiting for an answer or a deadline", lang=la)),
        row(tr("double border", lang=la), tr("end of the pathway", lang=la)),
        row(tr("thick border", lang=la), tr("where a citizen starts", lang=la)),
        row(tr("arrow-shaped box", lang=la), tr("another pathway, reached by a hand-over", lang=la)),
        row(tr("bold line", lang=la), tr("needs the shared leadership's approval", lang=la)),
        row(tr("dotted line", lang=la), tr("approval refused or timed out", lang=la)),
        row(tr("dashed line", lang=la), tr("hand-over and its answer", lang=la)),
        *(row(names.get(sec, sec), tr("colour of states this sector is responsible for", lang=la), sector_colour(sec, known)) for sec in sectors),
    ]
    table = '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="4">' + "".join(rows) + "</TABLE>"
    return [f'  "legend" [shape=plaintext, fontsize=14, label=<{table}>];', '  { rank=sink; "legend"; }']


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _sector_names(pathways: Iterable[Pathway], lang: str) -> dict[str, str]:
    """Sector id → its label in ``lang`` (first definition wins); ``shared`` is named too."""
    names = {"shared": tr("several sectors together", lang=_lang(lang))}
    for p in pathways:
        for sid, sector in p.sectors.items():
            names.setdefault(sid, pick_label(sector.label, _lang(lang)))
    return names


def to_dot(pathway: Pathway, *, lang: str = "en", **marks: Unpack[HighlightMarks]) -> str:
    """The pathway as a Graphviz ``digraph``; hand-overs point at the receiving pathway."""
    hl = Highlight.of(marks, "to_dot")
    title = f"{pathway.id} v{pathway.version}: {getattr(pathway.title, lang)}"
    out = [f"digraph {_q(pathway.id)} {{", *_GRAPH_HEAD, f"  label={_q(title)}; labelloc=t;"]
    out += _dot_body(pathway, hl, lang, "", "  ")
    for t in pathway.transitions:
        if t.handover:
            out.append(f'  {_q("pathway:" + t.handover.to)} [label={_q("→ " + t.handover.to)}, shape=cds, '
                       f'style=filled, fillcolor="#f3f3f3"];')
            for dest, word in ((t.handover.accepted, tr("accepted", lang=_lang(lang))), (t.handover.declined, tr("declined", lang=_lang(lang)))):
                if dest != t.dest:
                    out.append(f"  {_q(t.dest)} -> {_q(dest)} [style=dashed, label={_q(word)}];")
            handover = _q(tr("hand-over", lang=_lang(lang)))
            out.append(f'  {_q(t.dest)} -> {_q("pathway:" + t.handover.to)} [style=dashed, label={handover}];')
    used = sorted({p for s in pathway.states if (p := _state_sector(pathway, s))})
    out += _legend(used, list(pathway.sectors), _sector_names([pathway], lang), lang)
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
    out += _legend(sorted(sectors), sorted(sectors), _sector_names(registry.values(), lang), lang)
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
        lines = _edge_text(t, lang)
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


def to_mermaid(pathway: Pathway, *, lang: str = "en", **marks: Unpack[HighlightMarks]) -> str:
    """The pathway as a Mermaid ``flowchart`` (renders on GitHub and in most doc tools)."""
    hl = Highlight.of(marks, "to_mermaid")
    body, styles = _mermaid_body(pathway, hl, lang, "", "  ")
    out = ["flowchart TD", *body]
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
    out = ["flowchart TD"]
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
