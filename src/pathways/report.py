"""A self-contained HTML report of a simulation: tables, plots and pathway diagrams.

Planners open it offline, often from a shared drive, so everything is inline: plots are
matplotlib figures saved as SVG text (no pyplot, no global backend), diagrams are
Graphviz SVG, styles are one ``<style>`` block, and there is no script at all. Without
Graphviz the diagrams are replaced by a visible note and their Mermaid text.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterable, Mapping
from typing import TextIO

from . import diagram
from ._extras import needs
from .errors import RenderError
from .i18n import Lang, label, state_name, tr, use_language
from .registry import Registry
from .simulation import PathwayResult, RoleLoad, SimulationResult, WaitStats

with needs("simulate", "the HTML report (pathways.report)"):
    import matplotlib
    from matplotlib.figure import Figure

__all__ = ["FLOW_FILL", "ProgressBar", "render_report", "summary_text", "write_report"]

FLOW_FILL = "#b4a7d6"
"""Fill of the pathway boxes in the flows diagram (the browser test looks for it)."""

_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #222; max-width: 1400px; }
h1 { font-size: 26px; margin-bottom: 4px; } h2 { font-size: 20px; margin-top: 32px; border-bottom: 2px solid #ddd; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; } th { background: #f0f4f8; }
tr.total td { font-weight: bold; background: #fafafa; }
.plot svg, .diagram svg { max-width: 100%; height: auto; }
.diagram { border: 1px solid #ddd; padding: 8px; margin: 8px 0 24px; overflow-x: auto; background: #fff; }
.note { background: #fff4e5; border-left: 4px solid #f0a020; padding: 8px 12px; }
.stranded { background: #fdecea; border-left: 4px solid #cc0000; padding: 8px 12px; margin: 8px 0; }
pre { white-space: pre-wrap; font-size: 12px; }
.meta { color: #666; }
"""

_FIELDS = ("started", "completed", "handed_over", "left", "open", "stranded", "livelocked", "deadlines_fired", "approval_timeouts")


def _esc(text: object) -> str:
    return html.escape(str(text))


def _svg_text(svg: str) -> str:
    """Inline-able SVG: drop the XML prolog and doctype."""
    svg = re.sub(r"<\?xml[^>]*\?>", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>", "", svg, flags=re.S)
    return re.sub(r"<!--.*?-->", "", svg, flags=re.S).strip()


def _figure_svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    return _svg_text(buf.getvalue())


def _hours(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _occupancy_plot(result: SimulationResult) -> str:
    fig = Figure(figsize=(11, 3.2))
    ax = fig.add_subplot()
    days = (result.end - result.start).total_seconds() / 86400
    for res, series in result.occupancy.items():
        xs = [h / 24 for h, _ in series] + [days]
        ys = [n for _, n in series] + [series[-1][1]]
        ax.step(xs, ys, where="post", label=f"{res} in use", linewidth=1.2)
        ax.axhline(result.capacity[res], color="#cc0000", linestyle="--", linewidth=1, label=f"{res} capacity")
    ax.set_xlabel("day of the period")
    ax.set_ylabel("places in use")
    ax.set_xlim(0, days)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    if result.occupancy:
        ax.legend(loc="upper right", fontsize=8)
    return _figure_svg(fig)


def _waits_plot(waits: Mapping[str, WaitStats], limit: int = 30) -> str:
    rows = sorted(((k, w) for k, w in waits.items() if w.count), key=lambda kw: kw[1].median, reverse=True)[:limit]
    fig = Figure(figsize=(11, max(2.5, 0.28 * len(rows) + 1)))
    ax = fig.add_subplot()
    names = [k for k, _ in rows][::-1]
    med = [w.median / 3600 for _, w in rows][::-1]
    p90 = [w.p90 / 3600 for _, w in rows][::-1]
    mx = [w.max / 3600 for _, w in rows][::-1]
    y = list(range(len(rows)))
    ax.barh(y, p90, color="#9fc5e8", label="90th percentile")
    ax.barh(y, med, color="#3d85c6", label="median")
    ax.scatter(mx, y, marker="|", color="#222", s=80, label="max")
    ax.set_yticks(y, names, fontsize=8)
    if rows:  # a run where no stay has ended yet has nothing to put on a log scale
        ax.set_xscale("log")
    ax.set_xlabel("hours in the state (log scale)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return _figure_svg(fig)


def _turned_away_plot(result: SimulationResult) -> str:
    fig = Figure(figsize=(11, 2.6))
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(result.turned_away))
    for i, (res, counts) in enumerate(result.turned_away.items()):
        ax.bar([h + i * width for h in range(24)], counts, width=width, label=res)
    ax.set_xticks(range(24))
    ax.set_xlabel("hour of day")
    ax.set_ylabel("found every place taken")
    ax.set_ylim(0, max([1, *(max(c) for c in result.turned_away.values())]) * 1.1)
    ax.grid(axis="y", alpha=0.3)
    if result.turned_away:
        ax.legend(fontsize=8)
    return _figure_svg(fig)


def _day_names() -> list[str]:
    return [tr("Mon"), tr("Tue"), tr("Wed"), tr("Thu"), tr("Fri"), tr("Sat"), tr("Sun")]


def _busiest(load: RoleLoad) -> str:
    """The hour of the week with the highest utilisation, e.g. ``Mon 17:00 (58%)``."""
    hours = [(u, i) for i, u in enumerate(load.by_hour) if u]
    if not hours:
        return "-"
    u, i = max(hours, key=lambda ui: (ui[0], -ui[1]))
    day, hour = divmod(i, 24)
    return f"{_day_names()[day]} {hour:02d}:00 ({u:.0%})"


def _role_rows(roles: Mapping[str, RoleLoad]) -> list[list[object]]:
    return [
        [key, f"{r.duty_hours:,.0f}", f"{r.busy_hours:,.0f}", f"{r.utilisation:.1%}", _busiest(r), r.acts,
         _hours(r.queue.median), _hours(r.queue.p90), _hours(r.queue.max), f"{r.overtime_hours:,.0f}"]
        for key, r in roles.items()
    ]


def _role_header() -> list[str]:
    return [tr("role"), tr("on duty (person-hours)"), tr("busy (person-hours)"), tr("utilisation"), tr("busiest hour"),
            tr("acts"), tr("waited for a free person: median"), tr("90th percentile"), tr("max"), tr("overtime (hours)")]


def _utilisation_plot(roles: Mapping[str, RoleLoad]) -> str:
    """A heat-map: one row per role, one column per hour of the week (local time)."""
    import numpy as np  # a dependency of matplotlib

    names = list(roles)
    grid = np.ma.masked_invalid(np.array(
        [[float("nan") if u is None else u for u in roles[k].by_hour] for k in names], dtype=float,
    ).reshape(len(names), 168))
    fig = Figure(figsize=(11, 0.32 * len(names) + 1.6))
    ax = fig.add_subplot()
    cmap = matplotlib.colormaps["YlOrRd"].with_extremes(bad="#e6e6e6")
    image = ax.imshow(grid, aspect="auto", cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xticks([d * 24 + 12 for d in range(7)], _day_names())
    ax.set_xticks([d * 24 - 0.5 for d in range(1, 7)], minor=True)
    ax.grid(axis="x", which="minor", color="#444", linewidth=1)
    ax.tick_params(axis="x", which="minor", length=0)
    ax.set_xlabel(tr("hour of the week (local time); grey: nobody on duty"))
    bar = fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01)
    bar.set_label(tr("utilisation"))
    return _figure_svg(fig)


def _flows_dot(result: SimulationResult, registry: Registry) -> str:
    lines = ["digraph flows {", "  rankdir=LR;", f'  node [shape=box, style="filled,rounded", fillcolor="{FLOW_FILL}", fontname="Helvetica"];',
             '  edge [fontname="Helvetica", fontsize=10];']
    for pid in sorted(set(result.pathways) | set(registry)):
        started = result.pathways[pid].started if pid in result.pathways else 0
        text = tr("{count} started", count=started)
        lines.append(f'  "{pid}" [label="{pid}\\n{text}"];')
    for key, n in result.flows.items():
        if ":" in key:
            continue
        a, b = key.split("->")
        acc = result.flows.get(f"{key}:accepted", 0)
        dec = result.flows.get(f"{key}:declined", 0)
        text = tr("{referred} referred", referred=n) + "\\n" + tr("{accepted} accepted, {declined} declined", accepted=acc, declined=dec)
        lines.append(f'  "{a}" -> "{b}" [label="{text}", penwidth={1 + min(n, 500) / 100:.1f}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _table(rows: Iterable[Iterable[object]], header: Iterable[str], total: Iterable[object] | None = None) -> str:
    out = ["<table><tr>" + "".join(f"<th>{_esc(h)}</th>" for h in header) + "</tr>"]
    out += ["<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in rows]
    if total is not None:
        out.append('<tr class="total">' + "".join(f"<td>{_esc(c)}</td>" for c in total) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _summary(result: SimulationResult) -> str:
    def row(r: PathwayResult, name: str) -> list[object]:
        return [name, *(getattr(r, f) for f in _FIELDS)]

    header = [tr("pathway"), tr("started"), tr("completed"), tr("of which handed over"), tr("left by choice"), tr("open at end"),
              tr("stranded"), tr("livelocked"), tr("deadlines fired"), tr("approvals timed out")]
    return _table([row(r, pid) for pid, r in result.pathways.items()], header, row(result.overall, tr("whole house")))


def _diagram_svg(dot_text: str) -> str:
    return _svg_text(diagram.render(dot_text, "svg").decode("utf-8"))


def render_report(result: SimulationResult, registry: Registry, *, title: str | None = None, lang: Lang | None = None) -> str:
    """The report as one HTML string; needs no network and no script to display.

    ``lang`` (default: the current language) chooses headings, diagram words and labels.
    """
    with use_language(lang) as chosen:
        return _render(result, registry, title, chosen)


def _render(result: SimulationResult, registry: Registry, title: str | None, lang: Lang) -> str:
    title = title or tr("Simulation: {scenario}", scenario=result.scenario)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{_esc(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_esc(title)}</h1>",
        _meta(result),
        _h2(tr("Citizens")),
        _summary(result),
        _h2(tr("Flows between pathways")),
    ]
    try:
        parts.append(f'<div class="diagram" id="flows">{_diagram_svg(_flows_dot(result, registry))}</div>')
    except RenderError as exc:
        parts.append(f'<p class="note">{_esc(tr("Diagrams are missing: {error}", error=exc))}</p>')
        parts.append(_table([[k, n] for k, n in result.flows.items()], [tr("flow"), tr("count")]))
    if result.defects:
        parts.append(_h2(tr("Defects in the definitions")))
        parts += [f'<div class="stranded">{_esc(d)}</div>' for d in result.defects]
    parts += [f'<p class="note">{_esc(_closed_text(pathway_id, n))}</p>' for pathway_id, n in result.closed_arrivals.items()]
    if result.stranded_cases:
        parts.append(_h2(tr("Stranded citizens ({count})", count=len(result.stranded_cases))))
        for s in result.stranded_cases[:50]:
            where = tr("in {pathway} / {state} since {since}", pathway=s.pathway, state=_state(registry, s.pathway, s.state),
                       since=s.since.isoformat())
            parts.append(f'<div class="stranded"><b>{_esc(s.case_id)}</b> {_esc(where)}'
                         f"<pre>{_esc(chr(10).join(s.story))}</pre></div>")
    if result.livelocks:
        parts.append(_h2(tr("Livelocked citizens ({count})", count=len(result.livelocks))))
        parts.append(_p(tr("The same steps repeat in one state without progress until the end of the period: "
                           "someone moves the case, but never on.")))
        for x in result.livelocks[:50]:
            head = tr("{case} in {pathway} / {state}: {repeats} rounds since {since}", case=x.case_id, pathway=x.pathway,
                      state=_state(registry, x.pathway, x.state), repeats=x.repeats, since=x.since.isoformat())
            parts.append(f'<div class="stranded" id="livelock-{_esc(x.case_id)}"><b>{_esc(head)}</b>'
                         f"<pre>{_esc(chr(10).join(x.story))}</pre></div>")
    parts.append(_h2(tr("Occupancy of shared places")))
    if result.occupancy:
        parts.append(_table(
            [[r, result.capacity[r], result.peak[r], sum(result.turned_away[r])] for r in result.occupancy],
            [tr("resource"), tr("capacity"), tr("peak in use"), tr("times every place was taken")],
        ))
        parts.append(f'<div class="plot" id="occupancy">{_occupancy_plot(result)}</div>')
        parts.append(_h3(tr("When citizens found every place taken (by hour of day)")))
        parts.append(f'<div class="plot" id="turned-away">{_turned_away_plot(result)}</div>')
    else:
        parts.append(_p(tr("No pathway uses a shared resource.")))
    parts.append(_h2(tr("Staff: utilisation and queues")))
    if result.roles:
        parts.append(_p(tr("Staff help one citizen at a time. Utilisation is the share of the person-hours on duty that "
                           "people spent busy with a citizen; a citizen whose act was due while everybody of the role was "
                           "busy waited for a free person.")))
        parts.append(_table(_role_rows(result.roles), _role_header()))
        parts.append(_h3(tr("Utilisation per role and hour of the week")))
        parts.append(f'<div class="plot" id="utilisation">{_utilisation_plot(result.roles)}</div>')
    else:
        parts.append(_p(tr("No staff were on duty.")))
    parts.append(_h2(tr("Waiting times per state")))
    parts.append(f'<div class="plot" id="waits">{_waits_plot(result.overall.waits)}</div>')
    parts.append(_table(
        [[k, w.count, _hours(w.median), _hours(w.p90), _hours(w.max)] for k, w in result.overall.waits.items()],
        ["pathway.state", tr("stays"), tr("median"), tr("90th percentile"), tr("max")],
    ))
    parts.append(_h2(tr("Approvals (request to answer)")))
    parts.append(_table(
        [[k, w.count, _hours(w.median), _hours(w.p90), _hours(w.max)] for k, w in result.approvals.items()],
        ["pathway.trigger", tr("requests answered"), tr("median"), tr("90th percentile"), tr("max")],
    ) if result.approvals else _p(tr("No approvals were requested.")))
    parts.append(_h2(tr("The houses' goals")))
    parts.append(_p(tr("What the houses are measured on (seed 004): fewer admissions and readmissions, citizens living "
                       "at home, education and work kept, better use of the places, and nobody leaving without a "
                       "follow-up offer.")))
    for house, goals in result.goals.items():
        parts.append(_h3(tr("House {house}: {cases} cases, {citizens} citizens", house=house, cases=goals.cases,
                            citizens=goals.citizens)))
        parts.append(_table([list(r) for r in goals.rows()], [tr("goal"), tr("measured")]))
    parts.append(_h2(tr("Pathway diagrams")))
    try:
        for pid in sorted(registry):
            p = registry[pid]
            parts.append(f"<h3>{_esc(pid)} v{p.version}: {_esc(label(p.title))}</h3>")
            parts.append(f'<div class="diagram" id="diagram-{_esc(pid)}">{_diagram_svg(diagram.to_dot(p, lang=lang))}</div>')
    except RenderError as exc:
        parts.append(f'<p class="note">Diagrams are missing: {_esc(exc)}</p>')
        for pid in sorted(registry):
            parts.append(f"<h3>{_esc(pid)}</h3><pre>{_esc(diagram.to_mermaid(registry[pid]))}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(
    result: SimulationResult, registry: Registry, path: str, *, title: str | None = None, lang: Lang | None = None,
) -> None:
    """Write :func:`render_report` to ``path`` as UTF-8."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(render_report(result, registry, title=title, lang=lang))


def _meta(result: SimulationResult) -> str:
    text = tr(
        "{start} to {end} · seed {seed} · {steps} engine events · identity: started = completed + left + open + stranded "
        "+ livelocked (completed includes handed over)",
        start=result.start.isoformat(), end=result.end.isoformat(), seed=result.seed, steps=result.steps,
    )
    return f'<p class="meta">{_esc(text)}</p>'


def _h2(text: str) -> str:
    return f"<h2>{_esc(text)}</h2>"


def _h3(text: str) -> str:
    return f"<h3>{_esc(text)}</h3>"


def _p(text: str) -> str:
    return f"<p>{_esc(text)}</p>"


def summary_text(result: SimulationResult, registry: Registry | None = None) -> str:
    """The terminal summary: citizens per pathway, places, approvals, stranded cases.

    In the current language; with ``registry`` the states of stranded and livelocked
    cases are named by their labels (the stories are in the language of the run).
    """
    header = [tr("pathway"), tr("started"), tr("completed"), tr("handed over"), tr("left"), tr("open"), tr("stranded"),
              tr("livelocked"), tr("deadlines")]
    rows = [[pid, *(str(getattr(r, f)) for f in _FIELDS[:8])] for pid, r in result.pathways.items()]
    rows.append([tr("whole house"), *(str(getattr(result.overall, f)) for f in _FIELDS[:8])])
    out = [tr("{scenario} (seed {seed}): {start} to {end}, {steps} engine events", scenario=result.scenario, seed=result.seed,
              start=result.start.strftime("%Y-%m-%d"), end=result.end.strftime("%Y-%m-%d"), steps=result.steps),
           "", _text_table(rows, header)]
    for house, goals in result.goals.items():
        out += ["", tr("House {house}: {cases} cases, {citizens} citizens", house=house, cases=goals.cases,
                       citizens=goals.citizens), _text_table([list(r) for r in goals.rows()], [tr("goal"), tr("measured")])]
    if result.occupancy:
        out += ["", _text_table(
            [[r, str(result.capacity[r]), str(result.peak[r]), str(sum(result.turned_away[r]))] for r in result.occupancy],
            [tr("resource"), tr("capacity"), tr("peak"), tr("found full")],
        )]
    if result.approvals:
        out += ["", _text_table(
            [[k, str(w.count), _hours(w.median), _hours(w.p90), _hours(w.max)] for k, w in result.approvals.items()],
            [tr("approval"), tr("answered"), tr("median"), "p90", tr("max")],
        )]
    if result.roles:
        rows = [[str(c) for i, c in enumerate(row) if i != 6] for row in _role_rows(result.roles)]
        out += ["", _text_table(rows, [tr("role"), tr("on duty h"), tr("busy h"), tr("utilisation"), tr("busiest hour"),
                                       tr("acts"), tr("wait p90"), tr("wait max"), tr("overtime h")])]
    for d in result.defects:
        out += ["", tr("DEFECT {defect}", defect=d)]
    for pathway_id, n in result.closed_arrivals.items():
        out += ["", tr("CLOSED {text}", text=_closed_text(pathway_id, n))]
    for s in result.stranded_cases[:5]:
        out += ["", tr("STRANDED {case} in {pathway} / {state}:", case=s.case_id, pathway=s.pathway,
                       state=_state(registry, s.pathway, s.state)), *(f"  {line}" for line in s.story)]
    if len(result.stranded_cases) > 5:
        out.append(tr("... and {count} more stranded cases (see --format json or --report)", count=len(result.stranded_cases) - 5))
    for x in result.livelocks[:5]:
        out += ["", tr("LIVELOCK {case} in {pathway} / {state}, {repeats} rounds:", case=x.case_id, pathway=x.pathway,
                       state=_state(registry, x.pathway, x.state), repeats=x.repeats), *(f"  {line}" for line in x.story)]
    if len(result.livelocks) > 5:
        out.append(tr("... and {count} more livelocked cases (see --format json or --report)", count=len(result.livelocks) - 5))
    return "\n".join(out)


def _state(registry: Registry | None, pathway_id: str, state: str) -> str:
    """``Bor her [staying]`` where the pathway is known, else the state's id."""
    pathway = registry.get(pathway_id) if registry is not None else None
    return state_name(pathway, state) if pathway is not None else state


def _closed_text(pathway_id: str, count: int) -> str:
    return tr("{pathway}: {count} arrivals came while its service was closed and were turned away to the house's safety "
              "net (compare the scenario's hours with the house's)", pathway=pathway_id, count=count)


def _text_table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=False)]
    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=False)))
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


class ProgressBar:
    """A one-line progress bar on a terminal stream (quiet when it is not a terminal)."""

    def __init__(self, stream: TextIO, width: int = 40, *, force: bool = False) -> None:
        self.stream = stream
        self.width = width
        self.enabled = force or stream.isatty()
        self._last = -1

    def __call__(self, done: float) -> None:
        percent = int(done * 100)
        if not self.enabled or percent == self._last:
            return
        self._last = percent
        filled = int(done * self.width)
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {percent:3d}% simulated")
        if percent >= 100:
            self.stream.write("\n")
        self.stream.flush()
