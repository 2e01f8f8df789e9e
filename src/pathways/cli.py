"""The ``pathways`` command: parse arguments, call the library, print, exit.

One convention for every sub-command (docs/cli.md describes each JSON shape):

* ``--format text|json``: text for people, JSON for tools. JSON is made from the library's
  objects by the one cattrs converter (``_converter.converter``) or their ``to_json``;
  an error in JSON mode also prints ``{"error": {...}}`` on standard output.
* Exit codes: 0 ok; 1 findings (stranding, stranded or livelocked simulated citizens, a tampered audit
  trail, overdue cases); 2 bad input or usage (a wrong definition file, a missing store,
  an unknown pathway). A closed pipe (``pathways check | head``) ends quietly with 141.
* Binary output (PNG) refuses a terminal. Commands that read a store never create one:
  a missing or mistyped database is an error. ``--db`` defaults to ``$PATHWAYS_DB``.
* ``-v`` / ``-q`` set the level of the ``pathways`` loggers' handler on standard error.

Each sub-command is one ``_cmd_*`` function registered in :func:`_parser`; a new command
takes ``parents=[_common()]`` to get ``--format``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _bundled, logs
from ._converter import converter, format_duration
from ._version import installed_version
from .errors import PathwaysError
from .i18n import LANGUAGES, tr, use_language
from .loader import load_registry
from .model import Label, Pathway
from .registry import Registry

if TYPE_CHECKING:
    from .store import CaseStore, CaseSummary
    from .stranding import Finding

__all__ = ["main"]

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_PIPE = 0, 1, 2, 141
"""The exit codes every sub-command keeps (141 = 128 + SIGPIPE, as shell tools do)."""


class _Usage(PathwaysError):
    """Wrong use of the command line (exit 2), raised by a sub-command."""


def _emit(args: argparse.Namespace, text: Callable[[], str], data: Callable[[], Any]) -> None:
    """Print the text form or the JSON form of one result, as ``--format`` asks."""
    if args.format == "json":
        print(json.dumps(data(), indent=2, ensure_ascii=False))
    else:
        print(text())


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]

    def line(row: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _definitions(args: argparse.Namespace) -> Registry:
    """The registry of ``--definitions``, or of ``./definitions`` / the bundled ones."""
    return load_registry(args.definitions or _bundled.default_definitions())


def _paths(args: argparse.Namespace) -> Registry:
    """The registry of the files and folders given, or of the default definitions."""
    return load_registry(args.paths or [_bundled.default_definitions()])


def _open_existing(args: argparse.Namespace) -> CaseStore:
    """The case store of ``--db`` (or ``$PATHWAYS_DB``), which must already exist."""
    from .store import open_store

    url = args.db or os.environ.get("PATHWAYS_DB", "")
    if not url:
        raise _Usage("no case store given: pass --db PATH_OR_URL or set PATHWAYS_DB")
    return open_store(url, create=False)


def _cmd_validate(args: argparse.Namespace) -> int:
    registry = _paths(args)
    versions = registry.versions()
    _emit(
        args,
        lambda: "\n".join(
            tr("OK  {pathway} v{version}: {states} states, {transitions} transitions, {roles} roles",
               pathway=p.id, version=p.version, states=len(p.states), transitions=len(p.transitions), roles=len(p.roles))
            for p in versions
        ),
        lambda: {
            "ok": True,
            "pathways": [
                {"id": p.id, "version": p.version, "states": len(p.states), "transitions": len(p.transitions), "roles": len(p.roles)}
                for p in versions
            ],
        },
    )
    return EXIT_OK


def _show(p: Pathway, lang: str) -> str:
    """A pathway as three tables (roles, states, transitions), in the chosen language."""
    from .diagram import conditions
    from .i18n import kind_name, outcome_name

    def label(text: Label) -> str:
        return str(getattr(text, lang))

    out = [f"{p.id} v{p.version} — {label(p.title)}", label(p.description), ""]
    out.append(_table(
        [[r, f"{label(p.sectors[role.sector].label)} [{role.sector}]" if role.sector in p.sectors else role.sector, label(role.label)]
         for r, role in p.roles.items()],
        [tr("role"), tr("sector"), tr("label")],
    ))
    out.append("")
    if p.facts:
        out.append(_table(
            [[f, tr("yes") if fact.default else tr("no"), _setters(fact.set_by, fact.has_rule), ", ".join(fact.recorded_by or ()) or "-",
              label(fact.label)] for f, fact in p.facts.items()],
            [tr("fact"), tr("default"), tr("set by"), tr("recorded with a reason by"), tr("label")],
        ))
        out.append("")
    out.append(_table(
        [[s.id, kind_name(s.kind), ", ".join(s.responsible) or "-",
          tr("deadline {after} → {trigger}", after=format_duration(s.deadline.after), trigger=s.deadline.trigger) if s.deadline
          else (outcome_name(s.outcome) if s.outcome else "-"),
          label(s.label)] for s in p.states],
        [tr("state"), tr("kind"), tr("responsible"), tr("deadline/outcome"), tr("label")],
    ))
    out.append("")
    rows = []
    for t in p.transitions:
        extra = conditions(t, lang)
        rows.append([t.trigger, ", ".join(t.source), t.dest, ", ".join(t.roles), "; ".join(extra) or "-", label(t.label) if t.label else "-"])
    out.append(_table(rows, [tr("trigger"), tr("from"), tr("to"), tr("roles"), tr("conditions"), tr("label")]))
    return "\n".join(out)


def _setters(set_by: tuple[str, ...] | None, has_rule: bool) -> str:
    """Who sets a fact, for ``show``: the roles, only transitions (nobody by hand), or the default (staff)."""
    if not has_rule:
        return tr("staff (no rule)")
    return ", ".join(set_by or ()) or tr("only transitions")


def _cmd_show(args: argparse.Namespace) -> int:
    """A pathway by id (in ``-d`` or the default definitions) or a definition file by path."""
    from .loader import load_file

    pathway = load_file(args.pathway) if Path(args.pathway).is_file() else _definitions(args)[args.pathway]
    _emit(args, lambda: _show(pathway, args.lang), lambda: converter.unstructure(pathway))
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from .stranding import check

    registry = _paths(args)
    report = check(registry, bound=args.bound, week=not args.no_week)
    _emit(args, report.to_text, report.to_json)
    if args.save_journeys:
        from .journey import save_journeys

        given = [Path(p) for p in args.paths] or [_bundled.default_definitions()]
        folder = next((p for p in given if p.is_dir()), given[0].parent)
        for path in save_journeys(report.findings, registry, args.save_journeys, folder):
            print(tr("wrote {path}", path=path), file=sys.stderr)
    if args.diagram:
        for path in _finding_diagrams(registry, report.findings, Path(args.diagram), args.diagram_format):
            print(f"wrote {path}", file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_FINDINGS


def _finding_diagrams(registry: Registry, findings: Sequence[Finding], folder: Path, fmt: str) -> list[Path]:
    """One diagram per finding, its states and counterexample path marked."""
    from .diagram import finding_highlight, render, to_dot, to_mermaid

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for n, finding in enumerate(findings, start=1):
        if finding.pathway not in registry:  # a house-wide finding (no_safety_net) has no pathway to draw
            continue
        pathway = registry[finding.pathway]
        marks = finding_highlight(finding)
        stem = folder / f"{n:02d}-{finding.pathway}-{finding.kind.value}"
        if fmt == "mermaid":
            path = stem.with_suffix(".mmd")
            text = to_mermaid(pathway, **marks)
            path.write_text(text, encoding="utf-8")
            written.append(path)
            continue
        dot = to_dot(pathway, **marks)
        if fmt == "dot":
            path = stem.with_suffix(".dot")
            path.write_text(dot, encoding="utf-8")
        else:
            path = stem.with_suffix(".svg")
            path.write_bytes(render(dot, "svg"))
        written.append(path)
    return written


def _cmd_worker(args: argparse.Namespace) -> int:
    from .store import DurableEngine, run_worker

    store = _open_existing(args)
    engine = DurableEngine(_definitions(args), store)
    fired = 0
    try:
        fired = run_worker(engine, once=args.once, batch=args.batch, interval=args.interval)
    except KeyboardInterrupt:
        pass
    finally:
        store.close()
    _emit(args, lambda: f"fired {fired} event(s)", lambda: {"fired": fired})
    return EXIT_OK


def _cmd_audit_verify(args: argparse.Namespace) -> int:
    from .store import verify
    from .store.checkpoint import load_public_key

    public_key = load_public_key(args.public_key) if args.public_key else None
    reg = load_registry(args.definitions) if args.definitions else None
    store = _open_existing(args)
    try:
        result = verify(store, reg, public_key=public_key)
    finally:
        store.close()

    def text() -> str:
        how = "keyed" if result.keyed else "unkeyed"
        head = f"OK: {result.cases} cases, {result.events} events, every hash chain intact ({how} audit)" if result.ok else f"TAMPERED: {result.problem}"
        return "\n".join([head, *(f"note: {n}" for n in result.notes)])

    _emit(args, text, lambda: {"ok": result.ok, **converter.unstructure(result)})
    return EXIT_OK if result.ok else EXIT_FINDINGS


def _cmd_audit_keygen(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .store.checkpoint import generate_signing_key
    from .store.keys import AuditKeys

    if not args.keys and not args.signing_key:
        raise _Usage("say what to create: --keys FILE (HMAC keys) and/or --signing-key FILE (checkpoint key pair)")
    lines = []
    if args.keys:
        keys = AuditKeys.from_file(args.keys).rotated(args.key_id) if Path(args.keys).exists() else AuditKeys.generate(args.key_id)
        keys.to_file(args.keys)
        lines.append(f"audit key {keys.current!r} written to {args.keys} (new events use it; older keys are kept for verifying)")
    if args.signing_key:
        generate_signing_key(args.signing_key, args.public_key)
        lines.append(f"checkpoint signing key written to {args.signing_key}; give {args.public_key} to the auditor")
    _emit(args, lambda: "\n".join(lines), lambda: {"written": lines})
    return EXIT_OK


def _cmd_audit_checkpoint(args: argparse.Namespace) -> int:
    from .store.checkpoint import load_signing_key, write_checkpoint

    key = load_signing_key(args.signing_key)
    store = _open_existing(args)
    try:
        record = write_checkpoint(store, key)
    finally:
        store.close()
    _emit(args, lambda: f"checkpoint {record['n']} signed: {record['body']}", lambda: record)
    return EXIT_OK


def _cmd_audit_export(args: argparse.Namespace) -> int:
    from .store.checkpoint import export_checkpoints

    store = _open_existing(args)
    try:
        sys.stdout.write(export_checkpoints(store))
    finally:
        store.close()
    return EXIT_OK


def _cmd_audit_verify_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .store.checkpoint import load_public_key, verify_export

    try:
        text = Path(args.export).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _Usage(f"cannot read the export {args.export!r}: {getattr(exc, 'strerror', None) or exc}") from None
    result = verify_export(text, load_public_key(args.public_key))
    last = result.last or {}
    _emit(
        args,
        lambda: f"OK: {result.checkpoints} checkpoints, signatures and links intact; the last covers {last.get('cases')} cases at {last.get('at')}"
        if result.ok else f"TAMPERED: {result.problem}",
        lambda: {"ok": result.ok, **converter.unstructure(result)},
    )
    return EXIT_OK if result.ok else EXIT_FINDINGS


def _cmd_goals(args: argparse.Namespace) -> int:
    from .goals import measure_by_house

    registry = _definitions(args)
    store = _open_existing(args)
    try:
        by_house = measure_by_house((store.get(cid) for cid in store.case_ids()), registry)
    finally:
        store.close()

    def text() -> str:
        blocks = []
        for house, goals in by_house.items():
            width = max(len(what) for what, _ in goals.rows())
            lines = [tr("House {house}: {cases} cases, {citizens} citizens", house=house, cases=goals.cases, citizens=goals.citizens)]
            lines += [f"  {what.ljust(width)}  {figure}" for what, figure in goals.rows()]
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks) or tr("no cases in the store")

    _emit(args, text, lambda: {house: g.to_json() for house, g in by_house.items()})
    return EXIT_OK


def _cmd_simulate(args: argparse.Namespace) -> int:
    from .report import ProgressBar, summary_text, write_report
    from .scenario import load_scenario
    from .simulation import Simulation

    scenario = load_scenario(_bundled.scenario_path(args.scenario))
    sim = Simulation(scenario, load_registry(args.definitions) if args.definitions else None, seed=args.seed)
    quiet = args.format == "json" or not sys.stderr.isatty()
    result = sim.run(None if quiet else ProgressBar(sys.stderr))
    _emit(args, lambda: summary_text(result, sim.registry), result.to_json)
    if args.report:
        write_report(result, sim.registry, args.report)
        print(tr("report written to {path}", path=args.report), file=sys.stderr)
    return EXIT_FINDINGS if result.stranded_cases or result.livelocks else EXIT_OK


def _cmd_diagram(args: argparse.Namespace) -> int:
    from . import diagram

    if bool(args.pathway) == bool(args.all):
        raise _Usage("name one PATHWAY or give --all")
    fmt = "mermaid" if args.format == "text" else args.format
    if fmt == "png" and not args.output and sys.stdout.isatty():
        raise _Usage("a PNG is binary and standard output is a terminal; write it with -o FILE or redirect it")
    registry = _definitions(args)
    target = "all" if args.all else args.pathway

    def mermaid() -> str:
        return diagram.registry_to_mermaid(registry, lang=args.lang) if args.all else diagram.to_mermaid(registry[args.pathway], lang=args.lang)

    def dot() -> str:
        return diagram.registry_to_dot(registry, lang=args.lang) if args.all else diagram.to_dot(registry[args.pathway], lang=args.lang)

    if fmt == "json":
        data = json.dumps({"pathway": target, "mermaid": mermaid(), "dot": dot()}, indent=2, ensure_ascii=False).encode() + b"\n"
    elif fmt == "mermaid":
        data = mermaid().encode("utf-8")
    elif fmt == "dot":
        data = dot().encode("utf-8")
    else:
        data = diagram.render(dot(), fmt)
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return EXIT_OK


def _cmd_conform(args: argparse.Namespace) -> int:
    from .conformance import conform, read_log

    registry = _definitions(args)
    result = conform(read_log(args.log), registry, pathway=args.pathway, keep=args.show)
    _emit(args, result.to_text, result.to_json)
    return EXIT_OK if result.deviation_count == 0 else EXIT_FINDINGS


def _cmd_test(args: argparse.Namespace) -> int:
    """Run journeys: 1 when one fails, 2 when a journey file (or its definitions) is wrong."""
    from .errors import JourneyError
    from .journey import journeys_in, load_journey, run_journey

    files = journeys_in(args.paths)
    if not files:
        print(tr("error: no journey files (*.yaml) in {paths}", paths=", ".join(args.paths)), file=sys.stderr)
        return EXIT_USAGE
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

    def text() -> str:
        lines = [r.to_text() for r in results]
        for f, e in broken:
            lines += [tr("FAILED: {file}", file=f), str(e)]
        passed = sum(r.ok for r in results)
        return "\n".join([*lines, tr("{passed} of {total} journeys passed", passed=passed, total=len(results) + len(broken))])

    _emit(args, text, lambda: {"journeys": [r.to_json() for r in results], "errors": [f"{f}: {e}" for f, e in broken]})
    if broken:
        return EXIT_USAGE
    return EXIT_OK if all(r.ok for r in results) else EXIT_FINDINGS


def _cmd_schema(args: argparse.Namespace) -> int:
    from .schema import DOCUMENTS, schema_text, write_schemas

    if args.write:
        for path in write_schemas(args.write):
            print(tr("wrote {path}", path=path), file=sys.stderr)
        return EXIT_OK
    if args.kind not in DOCUMENTS:
        print(tr("error: name a document kind ({kinds}) or give --write DIR", kinds=", ".join(DOCUMENTS)), file=sys.stderr)
        return EXIT_USAGE
    print(schema_text(args.kind), end="")
    return EXIT_OK


def _cmd_play(args: argparse.Namespace) -> int:
    """Serve the playground on 127.0.0.1 until interrupted."""
    import threading

    from .playground import serve

    source = Path(args.source) if args.source else _bundled.default_definitions()
    server = serve(source, port=args.port, lang=args.lang)
    print(tr("playground for {source} at {url} (Ctrl-C ends it)", source=source, url=server.url), file=sys.stderr, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return EXIT_OK


def _common() -> argparse.ArgumentParser:
    """The options every sub-command shares."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--format", choices=["text", "json"], default="text", help="text for people, json for tools (default: text)")
    _verbosity(common, argparse.SUPPRESS)  # also after the sub-command; SUPPRESS keeps one given before it
    return common


def _verbosity(p: argparse.ArgumentParser, default: Any) -> None:
    p.add_argument("-v", "--verbose", action="count", default=default, help="debug messages too on standard error")
    p.add_argument("-q", "--quiet", action="count", default=default, help="only warnings and errors on standard error")


def _db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=None, help="an existing case store: a SQLite file or postgresql+psycopg://… URL (default: $PATHWAYS_DB)")


def _definitions_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--definitions", "-d", default=None, help="folder of definitions (default: ./definitions, else the bundled ones)")


def _now(args: argparse.Namespace) -> datetime:
    """``--at`` (ISO 8601, with a UTC offset) or the current time."""
    if not args.at:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(args.at)
    except ValueError:
        raise _Usage(f"--at {args.at!r} is not an ISO 8601 time such as 2026-03-01T08:00+01:00") from None
    if when.tzinfo is None:
        raise _Usage(f"--at {args.at!r} has no UTC offset; write e.g. {args.at}+01:00")
    return when


def _summaries_table(summaries: Sequence[CaseSummary]) -> str:
    rows = [[s.id, s.pathway_id, f"v{s.version}", s.state, s.due_at.isoformat() if s.due_at else "-"] for s in summaries]
    return _table(rows, ["case", "pathway", "version", "state", "due"]) if rows else "(no cases)"


def _cmd_cases(args: argparse.Namespace) -> int:
    """The house's questions of a store: inbox, a citizen's cases, overdue cases, the worker's lag."""
    store = _open_existing(args)
    try:
        match args.cases_command:
            case "inbox":
                if not (args.role or args.sector):
                    raise _Usage("cases inbox needs --role ROLE or --sector SECTOR (and may take --person ID)")
                waits = store.awaiting(role=args.role, sector=args.sector, person=args.person, limit=args.limit)
                rows = [[w.case_id, w.pathway_id, w.trigger, w.requested_by, w.requested_at.isoformat(), ", ".join(w.approved_by) or "-"] for w in waits]
                _emit(
                    args,
                    lambda: _table(rows, ["case", "pathway", "trigger", "requested by", "requested at", "approved by"]) if rows else "(nothing waits)",
                    lambda: {"awaiting": [converter.unstructure(w) for w in waits]},
                )
                return EXIT_OK
            case "citizen":
                found = store.of_citizen(args.citizen, limit=args.limit)
                _emit(args, lambda: _summaries_table(found), lambda: {"cases": [converter.unstructure(s) for s in found]})
                return EXIT_OK
            case "overdue":
                now = _now(args)
                due = store.due_before(now, limit=args.limit)
                _emit(args, lambda: _summaries_table(due), lambda: {"at": now.isoformat(), "overdue": [converter.unstructure(s) for s in due]})
                return EXIT_FINDINGS if due else EXIT_OK
            case "lag":
                now = _now(args)
                lag = store.lag(now)
                _emit(
                    args,
                    lambda: f"worker lag: {format_duration(lag)} ({lag.total_seconds():.0f} s) at {now.isoformat()}",
                    lambda: {"at": now.isoformat(), "lag": format_duration(lag), "seconds": lag.total_seconds()},
                )
                return EXIT_OK
        raise AssertionError(args.cases_command)  # pragma: no cover - argparse allows only the four
    finally:
        store.close()


def _cmd_export(args: argparse.Namespace) -> int:
    from . import eventlog

    store = _open_existing(args)
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


def _cmd_serve(args: argparse.Namespace) -> int:
    from .service import read_key, serve

    registry = load_registry(args.definitions)
    key = read_key(args.key_file)
    db = args.db or os.environ.get("PATHWAYS_DB") or "cases.db"
    serve(registry, db, key, host=args.host, port=args.port, ready=lambda url: print(f"serving on {url}", flush=True))
    return EXIT_OK


def _cmd_token(args: argparse.Namespace) -> int:
    from .service import make_token, read_key

    print(make_token(read_key(args.key_file), args.person, args.role, args.sector, ttl=args.ttl))
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pathways", description="Cross-sector care pathways: validate, show, check, run.")
    parser.add_argument("--version", action="version", version=f"pathways {installed_version()}")
    _verbosity(parser, 0)
    sub = parser.add_subparsers(dest="command", required=True)
    common = [_common()]

    p = sub.add_parser("validate", parents=common, help="load definition files and report every mistake")
    p.add_argument("paths", nargs="*", help="definition files or folders of *.yaml (default: ./definitions, else the bundled ones)")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("show", parents=common, help="print a pathway's roles, states and transitions as tables")
    p.add_argument("pathway", help="a pathway id, or the path of a definition file")
    _definitions_option(p)
    p.set_defaults(func=_cmd_show)

    p = sub.add_parser("check", parents=common, help="prove that no pathway strands a citizen; print findings with counterexample stories")
    p.add_argument("paths", nargs="*", help="definition files or folders of *.yaml (default: ./definitions, else the bundled ones)")
    p.add_argument("--bound", type=int, default=1_000_000, help="most configurations explored per pathway (default: 1000000)")
    p.add_argument("--no-week", action="store_true", help="skip the week-aware proof (who is on duty when) for the pathways of a house: roles only")
    p.add_argument("--diagram", metavar="DIR", help="write one diagram per finding, its counterexample path marked")
    p.add_argument("--diagram-format", choices=["svg", "mermaid", "dot"], default="svg")
    p.add_argument("--save-journeys", metavar="DIR", help="save each counterexample as a journey (pathways test DIR) that passes once the stranding is fixed")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("worker", parents=common, help="fire due deadlines and approval timeouts of stored cases")
    _db(p)
    _definitions_option(p)
    p.add_argument("--once", action="store_true", help="fire what is due now, then exit")
    p.add_argument("--batch", type=int, default=100, help="cases per pass (default: 100)")
    p.add_argument("--interval", type=float, default=5.0, help="seconds to wait when nothing is due (default: 5)")
    p.set_defaults(func=_cmd_worker)

    p = sub.add_parser("audit", help="check the tamper-evident audit trail of a case store")
    audit = p.add_subparsers(dest="audit_command", required=True)
    p = audit.add_parser("verify", parents=common, help="verify every event's MAC and chain, the case rows and the last checkpoint; exit 1 at the first problem")
    _db(p)
    p.add_argument("--definitions", "-d", default=None, help="definitions folder: also prove every case row equals the replay of its events")
    p.add_argument("--public-key", default=None, help="checkpoint public key (PEM): also check the checkpoints' signatures")
    p.set_defaults(func=_cmd_audit_verify)
    p = audit.add_parser("keygen", parents=common, help="create (or rotate) the HMAC audit key file and/or an Ed25519 checkpoint key pair")
    p.add_argument("--keys", default=None, help="HMAC key file to create, or to add a new current key to")
    p.add_argument("--key-id", default="k1", help="id of the new HMAC key (default k1)")
    p.add_argument("--signing-key", default=None, help="write a new Ed25519 private key (PEM) here")
    p.add_argument("--public-key", default="checkpoint-public.pem", help="…and its public key here")
    p.set_defaults(func=_cmd_audit_keygen)
    p = audit.add_parser("checkpoint", parents=common, help="sign the current head of every case (run it e.g. nightly)")
    _db(p)
    p.add_argument("--signing-key", required=True, help="Ed25519 private key (PEM), kept outside the database")
    p.set_defaults(func=_cmd_audit_checkpoint)
    p = audit.add_parser("export", parents=common, help="print every signed checkpoint as JSON lines, for the auditor")
    _db(p)
    p.set_defaults(func=_cmd_audit_export)
    p = audit.add_parser("verify-export", parents=common, help="check an exported checkpoint file with only the public key (no database)")
    p.add_argument("export", help="the JSON lines file 'pathways audit export' wrote")
    p.add_argument("--public-key", required=True, help="checkpoint public key (PEM)")
    p.set_defaults(func=_cmd_audit_verify_export)

    p = sub.add_parser("goals", parents=common, help="the houses' goals (seed 004) measured on a store's real cases, per house")
    _db(p)
    _definitions_option(p)
    p.set_defaults(func=_cmd_goals)

    p = sub.add_parser("simulate", parents=common, help="simulate a scenario on the real engine; summary, JSON or an HTML --report")
    p.add_argument("scenario", help="a scenario file (YAML, see docs/simulation.md) or a bundled scenario's name, e.g. aarhus-year")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the scenario's seed)")
    p.add_argument("--json", action="store_const", const="json", dest="format", help=argparse.SUPPRESS)  # the old spelling
    p.add_argument("--report", metavar="FILE", help="write a self-contained HTML report with plots and diagrams")
    p.add_argument("--definitions", "-d", default=None, help="folder of definitions (default: the scenario's 'definitions')")
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser("diagram", help="draw a pathway (or --all, with hand-overs) as Mermaid, Graphviz dot, SVG or PNG")
    p.add_argument("pathway", nargs="?", help="pathway id")
    p.add_argument("--all", action="store_true", help="every pathway, with hand-overs drawn between them")
    p.add_argument(
        "--format", "-f", choices=["text", "json", "mermaid", "dot", "svg", "png"], default="mermaid",
        help="text is mermaid; json holds the mermaid and dot texts (default: mermaid)",
    )
    p.add_argument("--output", "-o", help="write to this file (default: standard output; PNG refuses a terminal)")
    _verbosity(p, argparse.SUPPRESS)
    _definitions_option(p)
    p.set_defaults(func=_cmd_diagram)

    p = sub.add_parser("cases", help="ask a case store: a leader's inbox, a citizen's cases, overdue cases, the worker's lag")
    cases = p.add_subparsers(dest="cases_command", required=True)
    p = cases.add_parser("inbox", parents=common, help="approval requests waiting for a role or a sector, oldest first")
    _db(p)
    p.add_argument("--role", help="the role that can approve")
    p.add_argument("--sector", help="any role of this sector")
    p.add_argument("--person", help="leave out what this staff id asked for or already approved (four-eyes)")
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(func=_cmd_cases)
    p = cases.add_parser("citizen", parents=common, help="every case of one citizen (a pseudonym) across pathways and versions")
    _db(p)
    p.add_argument("citizen")
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(func=_cmd_cases)
    p = cases.add_parser("overdue", parents=common, help="cases whose deadline has passed and not fired yet; exit 1 when there are any")
    _db(p)
    p.add_argument("--at", help="the time to ask at (ISO 8601 with offset; default: now)")
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(func=_cmd_cases)
    p = cases.add_parser("lag", parents=common, help="how far the deadline worker is behind")
    _db(p)
    p.add_argument("--at", help="the time to ask at (ISO 8601 with offset; default: now)")
    p.set_defaults(func=_cmd_cases)

    p = sub.add_parser("export", help="write a store's case histories as an event log (XES or OCEL 2.0) for process mining")
    _db(p)
    _verbosity(p, argparse.SUPPRESS)
    p.add_argument("--format", "-f", choices=["xes", "ocel", "csv"], required=True, help="the event log's format (the file is the output)")
    p.add_argument("--as", dest="as_", choices=["json", "sqlite"], default="json", help="OCEL 2.0 as JSON (default) or SQLite")
    p.add_argument("--output", "-o", required=True, help="the file to write")
    p.add_argument("--definitions", "-d", default=None, help="definitions, to link events to the overnight places they take")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("conform", parents=common, help="replay a real event log (XES, OCEL 2.0 JSON or CSV) against the definitions; report every move they do not allow")
    p.add_argument("log", help="the log: .xes, .csv (case, activity, timestamp, role) or .json (OCEL 2.0)")
    _definitions_option(p)
    p.add_argument("--pathway", help="the pathway of cases whose events name none")
    p.add_argument("--show", type=int, default=1000, help="most deviations printed (all are counted; default: 1000)")
    p.set_defaults(func=_cmd_conform)

    p = sub.add_parser("test", parents=common, help="run journeys (a designer's YAML tests) on the real engine; exit 1 on a failure")
    p.add_argument("paths", nargs="+", help="journey files or folders of them")
    p.set_defaults(func=_cmd_test)

    p = sub.add_parser("play", help="try pathways in the browser: a local page (127.0.0.1 only) on the real engine")
    p.add_argument("source", nargs="?", help="a folder of definitions (default: ./definitions or the bundled ones)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one, printed)")
    p.set_defaults(func=_cmd_play)

    p = sub.add_parser("schema", parents=common, help="print the JSON Schema of a document kind, or --write every schema into a folder")
    p.add_argument("kind", nargs="?", help="pathway, scenario or journey")
    p.add_argument("--write", metavar="DIR", help="write every schema into DIR (e.g. schemas)")
    p.set_defaults(func=_cmd_schema)

    p = sub.add_parser("serve", help="serve the engine's verbs, the house's queries and FHIR referrals over HTTP (JSON, bearer tokens)")
    p.add_argument("--db", default=None, help="case store: a SQLite file path or postgresql+psycopg://… URL, created if new (default: $PATHWAYS_DB, else cases.db)")
    _definitions_option(p)
    _verbosity(p, argparse.SUPPRESS)
    p.add_argument("--key-file", help="file holding the token signing key (default: the PATHWAYS_SERVE_KEY variable)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 lets the system choose and prints it)")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("token", help="issue a bearer token for one person in one role (signed with the house's key)")
    p.add_argument("--person", required=True)
    p.add_argument("--role", required=True)
    p.add_argument("--sector", required=True)
    p.add_argument("--ttl", type=float, default=8 * 3600, help="seconds the token is valid (default: 8 hours, one shift)")
    p.add_argument("--key-file", help="file holding the token signing key (default: the PATHWAYS_SERVE_KEY variable)")
    _verbosity(p, argparse.SUPPRESS)
    p.set_defaults(func=_cmd_token)

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


def _error(args: argparse.Namespace | None, exc: PathwaysError) -> int:
    """Report an error on standard error (and as JSON on standard output in JSON mode); exit 2."""
    print(f"error: {exc}", file=sys.stderr)
    if args is not None and getattr(args, "format", "text") == "json":
        problems = [converter.unstructure(p) for p in getattr(exc, "problems", ())]
        print(json.dumps({"error": {"kind": type(exc).__name__, "message": str(exc), "problems": problems}}, indent=2, ensure_ascii=False))
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit code follows the module's convention."""
    args = None
    try:
        args = _parser().parse_args(argv)
        with logs.cli_handler(args.verbose - args.quiet), use_language(args.lang) as lang:
            args.lang = lang
            code: int = args.func(args)
        sys.stdout.flush()
    except PathwaysError as exc:
        return _error(args, exc)
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly; Python must not complain at exit either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_PIPE
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
