"""The ``pathways`` command: parse arguments, call the library, print, exit.

Exit codes: 0 success, 1 findings or errors in the input, 2 wrong usage.
Each sub-command is one ``_cmd_*`` function registered in :func:`_parser`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ._converter import format_duration
from .errors import PathwaysError
from .i18n import LANGUAGES, tr, use_language
from .loader import load_registry
from .model import Label, Pathway
from .registry import Registry

if TYPE_CHECKING:
    from .stranding import Finding

__all__ = ["main"]


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]

    def line(row: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _cmd_validate(args: argparse.Namespace) -> int:
    registry = load_registry(args.paths)
    for pathway in registry.versions():
        print(f"OK  {pathway.id} v{pathway.version}: {len(pathway.states)} states, "
              f"{len(pathway.transitions)} transitions, {len(pathway.roles)} roles")
    return 0


def _show(p: Pathway, lang: str) -> str:
    def label(text: Label) -> str:
        return str(getattr(text, lang))

    out = [f"{p.id} v{p.version} — {label(p.title)}", label(p.description), ""]
    out.append(_table([[r, role.sector, label(role.label)] for r, role in p.roles.items()], ["role", "sector", "label"]))
    out.append("")
    out.append(_table(
        [[s.id, s.kind.value, ", ".join(s.responsible) or "-",
          f"{format_duration(s.deadline.after)} → {s.deadline.trigger}" if s.deadline else (s.outcome.value if s.outcome else "-"),
          label(s.label)] for s in p.states],
        ["state", "kind", "responsible", "deadline/outcome", "label"],
    ))
    out.append("")
    from .diagram import conditions

    rows = []
    for t in p.transitions:
        extra = conditions(t)
        rows.append([t.trigger, ", ".join(t.source), t.dest, ", ".join(t.roles), "; ".join(extra) or "-"])
    out.append(_table(rows, ["trigger", "from", "to", "roles", "conditions"]))
    return "\n".join(out)


def _cmd_show(args: argparse.Namespace) -> int:
    registry = load_registry(args.definitions)
    print(_show(registry[args.pathway], args.lang))
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    import json

    from .stranding import check

    registry = load_registry(args.paths)
    report = check(registry, bound=args.bound)
    print(json.dumps(report.to_json(), indent=2, ensure_ascii=False) if args.format == "json" else report.to_text())
    if args.save_journeys:
        from .journey import save_journeys

        folder = next((Path(p) for p in args.paths if Path(p).is_dir()), Path(args.paths[0]).parent)
        for path in save_journeys(report.findings, registry, args.save_journeys, folder):
            print(tr("wrote {path}", path=path), file=sys.stderr)
    if args.diagram:
        for path in _finding_diagrams(registry, report.findings, Path(args.diagram), args.diagram_format):
            print(f"wrote {path}", file=sys.stderr)
    return 0 if report.ok else 1


def _finding_diagrams(registry: Registry, findings: Sequence[Finding], folder: Path, fmt: str) -> list[Path]:
    """One diagram per finding, its states and counterexample path marked."""
    from .diagram import finding_highlight, render, to_dot, to_mermaid

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for n, finding in enumerate(findings, start=1):
        pathway = registry[finding.pathway]
        marks = finding_highlight(finding)
        states, steps, triggers = marks["highlight_states"], marks["highlight_transitions"], marks["highlight_triggers"]
        stem = folder / f"{n:02d}-{finding.pathway}-{finding.kind.value}"
        if fmt == "mermaid":
            path = stem.with_suffix(".mmd")
            text = to_mermaid(pathway, highlight_states=states, highlight_transitions=steps, highlight_triggers=triggers)
            path.write_text(text, encoding="utf-8")
            written.append(path)
            continue
        dot = to_dot(pathway, highlight_states=states, highlight_transitions=steps, highlight_triggers=triggers)
        if fmt == "dot":
            path = stem.with_suffix(".dot")
            path.write_text(dot, encoding="utf-8")
        else:
            path = stem.with_suffix(".svg")
            path.write_bytes(render(dot, "svg"))
        written.append(path)
    return written


def _cmd_worker(args: argparse.Namespace) -> int:
    from .store import DurableEngine, open_store, run_worker

    engine = DurableEngine(load_registry(args.definitions), open_store(args.db))
    try:
        run_worker(engine, once=args.once, batch=args.batch, interval=args.interval, log=lambda t: print(t, flush=True))
    except KeyboardInterrupt:
        pass
    finally:
        engine.store.close()
    return 0


def _cmd_audit_verify(args: argparse.Namespace) -> int:
    from .store import open_store, verify

    store = open_store(args.db)
    report = verify(store)
    store.close()
    print(f"OK: {report.cases} cases, {report.events} events, every hash chain intact" if report.ok else f"TAMPERED: {report.problem}")
    return 0 if report.ok else 1


def _cmd_simulate(args: argparse.Namespace) -> int:
    import json

    from .report import ProgressBar, summary_text, write_report
    from .scenario import load_scenario
    from .simulation import Simulation

    scenario = load_scenario(args.scenario)
    sim = Simulation(scenario, load_registry(args.definitions) if args.definitions else None, seed=args.seed)
    result = sim.run(None if args.json else ProgressBar(sys.stderr))
    print(json.dumps(result.to_json(), indent=2, ensure_ascii=False) if args.json else summary_text(result))
    if args.report:
        write_report(result, sim.registry, args.report)
        print(f"report written to {args.report}", file=sys.stderr)
    return 1 if result.stranded_cases else 0


def _cmd_diagram(args: argparse.Namespace) -> int:
    from . import diagram

    if bool(args.pathway) == bool(args.all):
        print("error: name one PATHWAY or give --all", file=sys.stderr)
        return 2
    registry = load_registry(args.definitions)
    if args.format == "mermaid":
        text = diagram.registry_to_mermaid(registry, lang=args.lang) if args.all else diagram.to_mermaid(registry[args.pathway], lang=args.lang)
    else:
        text = diagram.registry_to_dot(registry, lang=args.lang) if args.all else diagram.to_dot(registry[args.pathway], lang=args.lang)
    data = text.encode("utf-8") if args.format in ("mermaid", "dot") else diagram.render(text, args.format)
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from . import eventlog
    from .store import open_store

    store = open_store(args.db)
    registry = load_registry(args.definitions) if args.definitions else None
    try:
        cases = (store.get(cid) for cid in store.case_ids())
        if args.format in ("xes", "csv"):
            write = eventlog.write_xes if args.format == "xes" else eventlog.write_csv
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                counts = write(cases, out)
        elif args.as_ == "sqlite":
            counts = eventlog.write_ocel_sqlite(cases, args.output, registry)
        else:
            with open(args.output, "w", encoding="utf-8") as out:
                counts = eventlog.write_ocel_json(cases, out, registry)
    finally:
        store.close()
    print(f"wrote {args.output}: {counts.cases} cases, {counts.events} events ({args.format})", file=sys.stderr)
    return 0


def _cmd_conform(args: argparse.Namespace) -> int:
    import json

    from .conformance import conform, read_log

    registry = load_registry(args.definitions)
    result = conform(read_log(args.log), registry, pathway=args.pathway, keep=args.show)
    print(json.dumps(result.to_json(), indent=2, ensure_ascii=False) if args.format == "json" else result.to_text())
    return 0 if result.deviation_count == 0 else 1


def _cmd_test(args: argparse.Namespace) -> int:
    import json

    from .errors import JourneyError
    from .journey import journeys_in, load_journey, run_journey
    from .loader import load_registry

    files = journeys_in(args.paths)
    if not files:
        print(tr("error: no journey files (*.yaml) in {paths}", paths=", ".join(args.paths)), file=sys.stderr)
        return 2
    results, broken = [], []
    registries: dict[Path, Registry] = {}
    for f in files:
        try:
            journey = load_journey(f)
            folder = journey.definitions_path().resolve()
            if folder not in registries:
                registries[folder] = load_registry(folder)
            results.append(run_journey(journey, registries[folder]))
        except (JourneyError, PathwaysError) as exc:
            broken.append((f, exc))
    if args.format == "json":
        print(json.dumps({"journeys": [r.to_json() for r in results], "errors": [f"{f}: {e}" for f, e in broken]}, indent=2, ensure_ascii=False))
    else:
        for r in results:
            print(r.to_text())
        for f, e in broken:
            print(tr("FAILED: {file}", file=f))
            print(e)
        passed = sum(r.ok for r in results)
        print(tr("{passed} of {total} journeys passed", passed=passed, total=len(results) + len(broken)))
    return 0 if not broken and all(r.ok for r in results) else 1


def _cmd_schema(args: argparse.Namespace) -> int:
    from .schema import DOCUMENTS, schema_text, write_schemas

    if args.write:
        for path in write_schemas(args.write):
            print(tr("wrote {path}", path=path), file=sys.stderr)
        return 0
    if args.kind not in DOCUMENTS:
        print(tr("error: name a document kind ({kinds}) or give --write DIR", kinds=", ".join(DOCUMENTS)), file=sys.stderr)
        return 2
    print(schema_text(args.kind), end="")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pathways", description="Cross-sector care pathways: validate, show, check, run.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="load definition files and report every mistake")
    p.add_argument("paths", nargs="+", help="definition files or folders of *.yaml")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("show", help="print a pathway's roles, states and transitions as tables")
    p.add_argument("pathway", help="pathway id")
    p.add_argument("--definitions", "-d", default="definitions", help="folder of definitions (default: definitions)")
    p.set_defaults(func=_cmd_show)

    p = sub.add_parser("check", help="prove that no pathway strands a citizen; print findings with counterexample stories")
    p.add_argument("paths", nargs="+", help="definition files or folders of *.yaml")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--bound", type=int, default=1_000_000, help="most configurations explored per pathway (default: 1000000)")
    p.add_argument("--diagram", metavar="DIR", help="write one diagram per finding, its counterexample path marked")
    p.add_argument("--diagram-format", choices=["svg", "mermaid", "dot"], default="svg")
    p.add_argument("--save-journeys", metavar="DIR", help="save each counterexample as a journey (pathways test DIR) that passes once the stranding is fixed")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("worker", help="fire due deadlines and approval timeouts of stored cases")
    p.add_argument("--db", required=True, help="case store: a SQLite file path or postgresql+psycopg://… URL")
    p.add_argument("--definitions", "-d", default="definitions", help="folder of definitions (default: definitions)")
    p.add_argument("--once", action="store_true", help="fire what is due now, then exit")
    p.add_argument("--batch", type=int, default=100, help="cases per pass (default: 100)")
    p.add_argument("--interval", type=float, default=5.0, help="seconds to wait when nothing is due (default: 5)")
    p.set_defaults(func=_cmd_worker)

    p = sub.add_parser("audit", help="check the tamper-evident audit trail of a case store")
    audit = p.add_subparsers(dest="audit_command", required=True)
    p = audit.add_parser("verify", help="verify every event's hash chain; exit 1 at the first altered or missing event")
    p.add_argument("--db", required=True, help="case store: a SQLite file path or postgresql+psycopg://… URL")
    p.set_defaults(func=_cmd_audit_verify)

    p = sub.add_parser("simulate", help="simulate a scenario on the real engine; summary, --json or an HTML --report")
    p.add_argument("scenario", help="scenario file (YAML, see docs/simulation.md)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the scenario's seed)")
    p.add_argument("--json", action="store_true", help="print the full result as JSON instead of the summary")
    p.add_argument("--report", metavar="FILE", help="write a self-contained HTML report with plots and diagrams")
    p.add_argument("--definitions", "-d", default=None, help="folder of definitions (default: the scenario's 'definitions')")
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser("diagram", help="draw a pathway (or --all, with hand-overs) as Mermaid, Graphviz dot, SVG or PNG")
    p.add_argument("pathway", nargs="?", help="pathway id")
    p.add_argument("--all", action="store_true", help="every pathway, with hand-overs drawn between them")
    p.add_argument("--format", "-f", choices=["mermaid", "dot", "svg", "png"], default="mermaid")
    p.add_argument("--output", "-o", help="write to this file (default: standard output)")
    p.add_argument("--definitions", "-d", default="definitions", help="folder of definitions (default: definitions)")
    p.set_defaults(func=_cmd_diagram)

    p = sub.add_parser("export", help="write a store's case histories as an event log (XES or OCEL 2.0) for process mining")
    p.add_argument("--db", required=True, help="case store: a SQLite file path or postgresql+psycopg://… URL")
    p.add_argument("--format", "-f", choices=["xes", "ocel", "csv"], required=True)
    p.add_argument("--as", dest="as_", choices=["json", "sqlite"], default="json", help="OCEL 2.0 as JSON (default) or SQLite")
    p.add_argument("--output", "-o", required=True, help="the file to write")
    p.add_argument("--definitions", "-d", default=None, help="definitions, to link events to the overnight places they take")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("conform", help="replay a real event log (XES, OCEL 2.0 JSON or CSV) against the definitions; report every move they do not allow")
    p.add_argument("log", help="the log: .xes, .csv (case, activity, timestamp, role) or .json (OCEL 2.0)")
    p.add_argument("--definitions", "-d", default="definitions", help="folder of definitions (default: definitions)")
    p.add_argument("--pathway", help="the pathway of cases whose events name none")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--show", type=int, default=1000, help="most deviations printed (all are counted; default: 1000)")
    p.set_defaults(func=_cmd_conform)

    p = sub.add_parser("test", help="run journeys (a designer's YAML tests) on the real engine; exit 1 on a failure")
    p.add_argument("paths", nargs="+", help="journey files or folders of them")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=_cmd_test)

    p = sub.add_parser("schema", help="print the JSON Schema of a document kind, or --write every schema into a folder")
    p.add_argument("kind", nargs="?", help="pathway, scenario or journey")
    p.add_argument("--write", metavar="DIR", help="write every schema into DIR (e.g. schemas)")
    p.set_defaults(func=_cmd_schema)

    for command in sub.choices.values():
        _add_lang(command)
    return parser


def _add_lang(parser: argparse.ArgumentParser) -> None:
    """``--lang da|en`` on every command; nested sub-commands get it too."""
    if not any("--lang" in a.option_strings for a in parser._actions):
        parser.add_argument("--lang", choices=list(LANGUAGES), default=None,
                            help="language of the output (default: PATHWAYS_LANG, then the locale)")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _add_lang(child)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        with use_language(args.lang) as lang:
            args.lang = lang
            code: int = args.func(args)
    except PathwaysError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
