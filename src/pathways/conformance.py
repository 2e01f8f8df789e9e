"""Conformance: replay a real event log against the definitions on the real engine.

A house's own systems (or another vendor's) record what happened; the definitions say
what may happen. :func:`conform` reads a log (XES, OCEL 2.0 JSON, or CSV with case,
activity, timestamp, role), puts every event in time order and replays it as the
engine's verbs. Each move the engine refuses is a :class:`Deviation` naming who, when
and which rule (role, guard, approval, capacity, state); the replay then follows the
log (the move is forced) so one deviation does not hide the rest of the case.

Memory stays bounded for logs of millions of events: the log is spooled to a temporary
SQLite file and read back in time order, and a case leaves memory when it ends.
Activities are named as :func:`pathways.eventlog.activity` names them.
"""

from __future__ import annotations

import csv
import enum
import json
import os
import sqlite3
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from .capacity import Ledger
from .case import Actor, Case, Event, EventKind
from .clock import ManualClock
from .engine import Engine, Reason
from .errors import ActionRefused, NotPermitted, PathwaysError, ServiceClosed, UnknownPathway
from .eventlog import APPROVE, REFUSE, START, activity, parse_fact_activity
from .model import Pathway
from .refusals import RefusalCode
from .registry import Registry

__all__ = [
    "ConformanceResult",
    "Deviation",
    "DeviationKind",
    "LogError",
    "LogEvent",
    "conform",
    "read_csv",
    "read_log",
    "read_ocel",
    "read_xes",
]


class LogError(PathwaysError):
    """An event log cannot be read (format, missing column, bad timestamp); says where."""


class DeviationKind(enum.Enum):
    """Which kind of rule a logged move broke."""

    ROLE = "role"
    GUARD = "guard"
    APPROVAL = "approval"
    CAPACITY = "capacity"
    STATE = "state"
    HOURS = "hours"
    """A case started while its service was closed (the house's opening hours)."""


_KIND_OF_CODE = {
    "role": DeviationKind.ROLE,
    "sector": DeviationKind.ROLE,
    "not_own_case": DeviationKind.ROLE,
    "fact_permission": DeviationKind.ROLE,
    "reason_required": DeviationKind.ROLE,
    "guard": DeviationKind.GUARD,
    "capacity": DeviationKind.CAPACITY,
    "release": DeviationKind.CAPACITY,
    "pending": DeviationKind.APPROVAL,
    "approval": DeviationKind.APPROVAL,
    "no_pending_approval": DeviationKind.APPROVAL,
    "self_approval": DeviationKind.APPROVAL,
    "duplicate_approval": DeviationKind.APPROVAL,
    "not_an_approver": DeviationKind.APPROVAL,
    "service_closed": DeviationKind.HOURS,
}


def kind_of(code: str) -> DeviationKind:
    """The deviation kind of an engine refusal code; anything else is a move from the wrong state."""
    return _KIND_OF_CODE.get(code, DeviationKind.STATE)


@attrs.frozen
class LogEvent:
    """One row of an external log, as the readers yield it."""

    case: str
    activity: str
    at: datetime
    role: str | None = None
    person: str | None = None
    sector: str | None = None
    pathway: str | None = None
    citizen: str | None = None
    facts: Mapping[str, bool] = attrs.field(factory=dict)
    referred_by: str | None = None


@attrs.frozen
class Deviation:
    """A logged move the definitions do not allow: who, when, where, and which rule."""

    case: str
    at: datetime
    activity: str
    state: str
    """The state the case was in when the move was logged."""
    kind: DeviationKind
    code: str
    """The engine's refusal code (``role``, ``sector``, ``guard``, ``self_approval``…)."""
    message: str
    person: str | None = None
    role: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case, "at": self.at.isoformat(), "activity": self.activity, "state": self.state,
            "kind": self.kind.value, "code": self.code, "message": self.message, "person": self.person, "role": self.role,
        }


@attrs.frozen
class ConformanceResult:
    """Per-case deviations and a summary: fitting cases, deviations by kind and by state."""

    cases: int
    events: int
    deviations: tuple[Deviation, ...]
    """The first ``keep`` deviations (all of them unless the log is very unfit)."""
    deviation_count: int
    deviating_cases: int
    by_kind: Mapping[str, int]
    by_state: Mapping[str, int]

    @property
    def fitting(self) -> int:
        """Cases replayed with no deviation."""
        return self.cases - self.deviating_cases

    def to_json(self) -> dict[str, Any]:
        return {
            "cases": self.cases, "events": self.events, "fitting": self.fitting,
            "deviating_cases": self.deviating_cases, "deviations": self.deviation_count,
            "by_kind": dict(self.by_kind), "by_state": dict(self.by_state),
            "details": [d.to_json() for d in self.deviations],
        }

    def to_text(self) -> str:
        lines = [f"{self.cases} cases, {self.events} events: {self.fitting} fit the definitions, "
                 f"{self.deviating_cases} deviate ({self.deviation_count} deviations)"]
        if self.by_kind:
            lines.append("by kind:  " + ", ".join(f"{k} {n}" for k, n in sorted(self.by_kind.items())))
            lines.append("by state: " + ", ".join(f"{k} {n}" for k, n in sorted(self.by_state.items(), key=lambda kv: (-kv[1], kv[0]))))
        for d in self.deviations:
            who = f"{d.person or '?'} ({d.role})" if d.role else "nobody (by itself)"
            lines.append(f"  {d.case}  {d.at.isoformat()}  {d.activity!r} by {who} in {d.state!r}: {d.kind.value} — {d.message}")
        if self.deviation_count > len(self.deviations):
            lines.append(f"  … and {self.deviation_count - len(self.deviations)} more")
        return "\n".join(lines)


# -- readers -------------------------------------------------------------------------------


def _time(text: str, where: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise LogError(f"{where}: {text!r} is not an ISO 8601 timestamp (e.g. 2026-01-05T16:30:00+01:00)") from None
    if when.tzinfo is None:
        raise LogError(f"{where}: timestamp {text!r} has no time zone; add one (e.g. +01:00 or Z)")
    return when


def _facts(text: str | None) -> dict[str, bool]:
    out = {}
    for part in (text or "").split(","):
        if "=" in part:
            name, _, value = part.partition("=")
            out[name.strip()] = value.strip().lower() in ("true", "1", "yes")
    return out


def read_csv(path: str | os.PathLike[str]) -> Iterator[LogEvent]:
    """Rows of a CSV log with columns ``case, activity, timestamp, role`` (and optionally
    ``person, sector, pathway, citizen, facts, referred_by``)."""
    name = os.fspath(path)
    with open(name, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in ("case", "activity", "timestamp", "role") if c not in (reader.fieldnames or [])]
        if missing:
            raise LogError(f"{name}: the CSV log has no column {', '.join(map(repr, missing))} (needs case, activity, timestamp, role)")
        for n, row in enumerate(reader, start=2):
            yield LogEvent(
                case=row["case"], activity=row["activity"], at=_time(row["timestamp"], f"{name}, line {n}"),
                role=row.get("role") or None, person=row.get("person") or None, sector=row.get("sector") or None,
                pathway=row.get("pathway") or None, citizen=row.get("citizen") or None,
                facts=_facts(row.get("facts")), referred_by=row.get("referred_by") or None,
            )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_xes(path: str | os.PathLike[str]) -> Iterator[LogEvent]:
    """Events of a XES log, one trace at a time (``org:role``, ``org:resource``, ``org:group``)."""
    name = os.fspath(path)
    trace: dict[str, str] = {}
    depth_trace = False
    try:
        for action, elem in ET.iterparse(name, events=("start", "end")):
            tag = _local(elem.tag)
            if action == "start":
                if tag == "trace":
                    depth_trace, trace = True, {}
                continue
            if tag == "event" and depth_trace:
                attrs_ = {c.get("key", ""): c.get("value", "") for c in elem}
                yield LogEvent(
                    case=trace.get("concept:name", ""), activity=attrs_.get("concept:name", ""),
                    at=_time(attrs_.get("time:timestamp", ""), f"{name}, trace {trace.get('concept:name', '?')!r}"),
                    role=attrs_.get("org:role") or None, person=attrs_.get("org:resource") or None,
                    sector=attrs_.get("org:group") or None, pathway=trace.get("pathways:pathway"),
                    citizen=trace.get("pathways:citizen"), facts=_facts(attrs_.get("pathways:facts")),
                    referred_by=attrs_.get("pathways:referred_by") or None,
                )
                elem.clear()
            elif tag in ("string", "int", "date") and depth_trace and elem.get("key") and _is_trace_attr(elem, trace):
                trace[elem.get("key", "")] = elem.get("value", "")
            elif tag == "trace":
                depth_trace = False
                elem.clear()
    except ET.ParseError as exc:
        raise LogError(f"{name}: not a readable XES file ({exc})") from None


def _is_trace_attr(elem: ET.Element, trace: dict[str, str]) -> bool:
    # attributes of an event are read with the event; a trace attribute precedes its events
    return elem.get("key", "") not in trace and elem.get("key", "") in ("concept:name", "pathways:pathway", "pathways:citizen")


def read_ocel(path: str | os.PathLike[str]) -> Iterator[LogEvent]:
    """Events of an OCEL 2.0 JSON log; the case is the linked ``pathway_case`` object."""
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as exc:
        raise LogError(f"{name}: not a readable OCEL 2.0 JSON file ({exc})") from None
    cases = {o["id"]: {a["name"]: a["value"] for a in o.get("attributes", [])} for o in doc.get("objects", []) if o.get("type") == "pathway_case"}
    citizens = {o["id"]: r["objectId"] for o in doc.get("objects", []) if o.get("type") == "pathway_case" for r in o.get("relationships", []) if r.get("qualifier") == "of citizen"}
    for e in doc.get("events", []):
        case = next((r["objectId"] for r in e.get("relationships", []) if r["objectId"] in cases), None)
        if case is None:
            continue
        a = {x["name"]: x["value"] for x in e.get("attributes", [])}
        citizen = citizens.get(case, "")
        yield LogEvent(
            case=case, activity=e["type"], at=_time(e["time"], f"{name}, event {e['id']!r}"),
            role=a.get("role") or None, person=a.get("person") or None, sector=a.get("sector") or None,
            pathway=cases[case].get("pathway"), citizen=citizen.removeprefix("citizen:") or None,
            facts=_facts(a.get("facts")), referred_by=a.get("referred_by") or None,
        )


def read_log(path: str | os.PathLike[str]) -> Iterator[LogEvent]:
    """Pick the reader by the file's ending: ``.xes``, ``.csv``, or OCEL JSON (``.json``, ``.jsonocel``)."""
    name = os.fspath(path).lower()
    if name.endswith(".xes"):
        return read_xes(path)
    if name.endswith(".csv"):
        return read_csv(path)
    if name.endswith((".json", ".jsonocel")):
        return read_ocel(path)
    raise LogError(f"{os.fspath(path)}: cannot tell the log's format from its name; use .xes, .csv or .json (OCEL 2.0)")


# -- replay ----------------------------------------------------------------------------------


class _CountingLedger:
    """Counts places like the engine's ledger, but never refuses: the log is what happened."""

    def __init__(self) -> None:
        self.used: Counter[str] = Counter()

    def in_use(self, resource: str) -> int:
        return self.used[resource]

    def adjust(self, resource: str, delta: int, capacity: int) -> None:
        self.used[resource] = max(0, self.used[resource] + delta)


def _spool(events: Iterable[LogEvent], db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE ev (at INTEGER, n INTEGER, body TEXT)")
    batch = []
    for n, e in enumerate(events):
        at = e.at.astimezone(UTC)
        micros = int(at.timestamp()) * 1_000_000 + at.microsecond
        body = json.dumps([e.case, e.activity, e.at.isoformat(), e.role, e.person, e.sector, e.pathway, e.citizen, dict(e.facts), e.referred_by])
        batch.append((micros, n, body))
        if len(batch) >= 10_000:
            db.executemany("INSERT INTO ev VALUES (?, ?, ?)", batch)
            batch.clear()
    db.executemany("INSERT INTO ev VALUES (?, ?, ?)", batch)
    db.execute("CREATE INDEX ev_order ON ev (at, n)")


def _unspool(db: sqlite3.Connection) -> Iterator[LogEvent]:
    for (body,) in db.execute("SELECT body FROM ev ORDER BY at, n"):
        c, a, t, role, person, sector, pathway, citizen, facts, referred = json.loads(body)
        yield LogEvent(c, a, datetime.fromisoformat(t), role, person, sector, pathway, citizen, facts, referred)


class _Replay:
    """The state of one replay: the engine, open cases, aliases and expected echoes."""

    def __init__(
        self, registry: Registry, pathway: str | None, keep: int, on_deviation: Callable[[Deviation], None] | None, db: sqlite3.Connection
    ) -> None:
        self.registry = registry
        self.default_pathway = pathway
        self.clock = ManualClock(datetime(1970, 1, 1, tzinfo=UTC))
        ledger: Ledger = _CountingLedger()
        self.engine = Engine(registry, clock=self.clock, ledger=ledger)
        self.alias: dict[str, str] = {}
        """log case id → engine case id (a case received through a hand-over)."""
        self.log_id: dict[str, str] = {}
        self.echoes: dict[str, deque[str]] = {}
        self.db = db
        """Ended cases are remembered on disk, not in memory (a log may hold millions of cases)."""
        db.execute("CREATE TABLE closed (id TEXT PRIMARY KEY)")
        self.receivers: dict[str, str] = {}
        """engine id of a receiving case started by a hand-over → its sender's engine id."""
        self.keep = keep
        self.on_deviation = on_deviation
        self.kept: list[Deviation] = []
        self.count = 0
        self.deviating: set[str] = set()
        self.by_kind: Counter[str] = Counter()
        self.by_state: Counter[str] = Counter()
        self.cases = 0
        self.events = 0
        self.skipped: set[str] = set()

    # -- deviations ---------------------------------------------------------------------------

    def deviate(self, ev: LogEvent, state: str, code: str, message: str) -> None:
        d = Deviation(ev.case, ev.at, ev.activity, state, kind_of(code), code, message, ev.person, ev.role)
        self.count += 1
        self.deviating.add(ev.case)
        self.by_kind[d.kind.value] += 1
        self.by_state[state] += 1
        if len(self.kept) < self.keep:
            self.kept.append(d)
        if self.on_deviation is not None:
            self.on_deviation(d)

    # -- events ------------------------------------------------------------------------------

    def actor(self, ev: LogEvent, pathway: Pathway) -> Actor:
        role = ev.role or "?"
        sector = ev.sector or (pathway.roles[role].sector if role in pathway.roles else "?")
        return Actor(ev.person or "?", role, sector)

    def handle(self, ev: LogEvent) -> None:
        self.events += 1
        if ev.case in self.skipped:
            return
        self.clock.set(max(self.clock.now(), ev.at))
        cid = self.alias.get(ev.case, ev.case)
        case = self.engine.cases.get(cid)
        if case is None:
            if self.db.execute("SELECT 1 FROM closed WHERE id = ?", (ev.case,)).fetchone():
                self.deviate(ev, "(closed)", "closed", f"case {ev.case!r} had already ended; nothing may happen after the end")
                return
            case = self.begin(ev)
            if case is None or ev.activity == START:
                return
        echoes = self.echoes.get(case.id)
        if echoes:
            if echoes[0] == ev.activity:
                echoes.popleft()
                return
            echoes.clear()
        self.act(ev, case)
        self.settle(case)

    def begin(self, ev: LogEvent) -> Case | None:
        pathway_id = ev.pathway or self.default_pathway
        self.cases += 1
        try:
            pathway = self.registry[pathway_id or ""]
        except UnknownPathway:
            self.deviate(ev, "(none)", "unknown_pathway", f"the log names pathway {pathway_id!r}, which the definitions do not have"
                         if pathway_id else "the log names no pathway for this case; give one with --pathway")
            self.skipped.add(ev.case)
            return None
        if ev.referred_by is not None:
            sender = self.engine.cases.get(self.alias.get(ev.referred_by, ev.referred_by))
            receiver = sender.referral.case_id if sender is not None and sender.referral is not None else None
            if receiver is not None and receiver in self.engine.cases and self.engine.cases[receiver].pathway_id == pathway.id:
                self.alias[ev.case] = receiver
                self.log_id[receiver] = ev.case
                self.receivers.pop(receiver, None)
                return self.engine.cases[receiver]
        actor = self.actor(ev, pathway) if ev.role else None
        facts = {f: v for f, v in ev.facts.items() if f in pathway.facts}
        try:
            case = self.engine.start(pathway.id, ev.citizen or ev.case, facts=facts, actor=actor, case_id=ev.case)
        except NotPermitted as refused:
            # The facts at the start are the context the log reports (as when a host starts a
            # case without an actor); who may change a fact is checked on the log's changes.
            # A citizen starting another citizen's case is a deviation; the replay goes on.
            for r in refused.reasons:
                if r.code is RefusalCode.NOT_OWN_CASE:
                    self.deviate(ev, pathway.initial, r.code.value, str(refused))
            case = self.engine._start(pathway, ev.citizen or ev.case, pathway.initial, facts, actor, ev.case, None)
        except ServiceClosed as closed:
            # As after any deviation, the replay goes on as the log says: the case starts.
            self.deviate(ev, pathway.initial, "service_closed", str(closed))
            case = self.engine._start(pathway, ev.citizen or ev.case, pathway.initial, facts, actor, ev.case, None)
        if ev.referred_by is not None and pathway.intake is not None:
            self.deviate(ev, pathway.initial, "state", f"the log says {ev.referred_by!r} referred this case, but no hand-over from it was waiting")
        if ev.activity != START:
            self.log_id[case.id] = ev.case
        return case

    def act(self, ev: LogEvent, case: Case) -> None:
        engine = self.engine
        pathway = engine.pathway_of(case)
        state = case.state
        fact = parse_fact_activity(ev.activity)
        try:
            if ev.activity == START:
                self.deviate(ev, state, "state", "the case was started a second time")
            elif ev.activity in ("handover_accepted", "handover_declined"):
                self.answer(ev, case, pathway)
            elif not ev.role:
                self.by_itself(ev, case, pathway)
            elif ev.activity == APPROVE:
                self.echo(case, engine.approve(case, self.actor(ev, pathway)))
            elif ev.activity == REFUSE:
                self.echo(case, engine.refuse(case, self.actor(ev, pathway), reason="refused (from the log)"))
            elif fact is not None:
                # A log carries no reasons: staff recording the citizen's word are taken at the log's word,
                # as a refusal is; who may set the fact at all is checked (a 'role' deviation).
                self.echo(case, engine.set_fact(case, fact[0], fact[1], self.actor(ev, pathway), reason="recorded (from the log)"))
            else:
                self.fire(ev, case, pathway)
        except ActionRefused as exc:
            self.deviate(ev, state, exc.code, str(exc))

    def fire(self, ev: LogEvent, case: Case, pathway: Pathway) -> None:
        actor = self.actor(ev, pathway)
        if case.pending is not None and case.pending.trigger != ev.activity:
            waiting = pathway.find(case.state, case.pending.trigger)
            if waiting is not None and pathway.find(waiting.dest, ev.activity) is not None:
                self.deviate(ev, case.state, "approval",
                             f"{case.pending.trigger!r} moved on without its approval, then {ev.activity!r} followed")
                self.force(case, pathway, waiting, case.pending.requested_by, ev.at)
        reasons = self.engine.why_not(case, ev.activity, actor)
        if not reasons:
            self.echo(case, self.engine.fire(case, ev.activity, actor))
            return
        self.deviate(ev, case.state, reasons[0].code, _words(reasons))
        t = pathway.find(case.state, ev.activity)
        if t is not None and reasons[0].code != "pending":
            self.force(case, pathway, t, actor, ev.at)
        elif t is None:
            elsewhere = [x for x in pathway.transitions if x.trigger == ev.activity]
            if elsewhere:
                self.jump(case, pathway, elsewhere[0].dest, ev.at)

    def by_itself(self, ev: LogEvent, case: Case, pathway: Pathway) -> None:
        """An event nobody did: a deadline's escalation or an approval's timeout."""
        state = case.state
        events = self.engine.fire_due(ev.at, cases=[case])
        mine = [e for e in events if e.case_id == case.id]
        if not mine:
            self.deviate(ev, state, "state", f"{ev.activity!r} happened by itself, but nothing was due in {state!r} at {ev.at.isoformat()}")
            return
        if activity(mine[0]) != ev.activity:
            self.deviate(ev, state, "state", f"the deadline in {state!r} fires {activity(mine[0])!r}, not {ev.activity!r}")
        self.echo(case, events)

    def answer(self, ev: LogEvent, case: Case, pathway: Pathway) -> None:
        """The answer to a hand-over whose receiving case the log does not show."""
        if case.referral is None:
            self.deviate(ev, case.state, "state", f"{ev.activity!r} but no hand-over from this case was waiting for an answer")
            return
        handover = next(t.handover for t in pathway.transitions if t.trigger == case.referral.trigger and t.handover is not None)
        receiver = case.referral.case_id
        accepted = ev.activity == "handover_accepted"
        kind = EventKind.HANDOVER_ACCEPTED if accepted else EventKind.HANDOVER_DECLINED
        self.engine._commit(case, pathway, kind, handover.accepted if accepted else handover.declined, at=ev.at)
        self.drop(receiver)

    def force(self, case: Case, pathway: Pathway, t: Any, actor: Actor | None, at: datetime) -> None:
        """Follow the log through a refused move, so later events are judged from where it went."""
        self.engine._commit(case, pathway, EventKind.FIRED, t.dest, actor=actor, trigger=t.trigger, at=at, reason="forced by conformance replay")

    def jump(self, case: Case, pathway: Pathway, dest: str, at: datetime) -> None:
        self.engine._commit(case, pathway, EventKind.REFUSED, dest, at=at, reason="conformance replay follows the log")

    def echo(self, case: Case, events: list[Event]) -> None:
        """Remember the events an action caused by itself, which the log may record too."""
        for e in events[1:]:
            if e.kind is EventKind.STARTED:
                self.receivers[e.case_id] = case.id
                continue
            self.echoes.setdefault(e.case_id, deque()).append(activity(e))

    def settle(self, case: Case) -> None:
        """Let ended cases and unanswered receiving cases leave memory."""
        pathway = self.engine.pathway_of(case)
        if pathway.state(case.state).terminal:
            self.close(case.id)
        for receiver, sender in list(self.receivers.items()):
            owner = self.engine.cases.get(sender)
            if owner is None or owner.referral is None or owner.referral.case_id != receiver:
                self.drop(receiver)

    def close(self, cid: str) -> None:
        self.engine.cases.pop(cid, None)
        self.echoes.pop(cid, None)
        log_id = self.log_id.pop(cid, cid)
        self.alias.pop(log_id, None)
        self.db.execute("INSERT OR IGNORE INTO closed VALUES (?)", (log_id,))

    def drop(self, receiver: str) -> None:
        self.receivers.pop(receiver, None)
        if receiver not in self.log_id and receiver in self.engine.cases:
            self.engine.cases.pop(receiver)

    def result(self) -> ConformanceResult:
        return ConformanceResult(
            cases=self.cases, events=self.events, deviations=tuple(self.kept), deviation_count=self.count,
            deviating_cases=len(self.deviating), by_kind=dict(self.by_kind), by_state=dict(self.by_state),
        )


def _words(reasons: list[Reason]) -> str:
    return "; ".join(r.message for r in reasons)


def conform(
    events: Iterable[LogEvent],
    registry: Registry,
    *,
    pathway: str | None = None,
    keep: int = 10_000,
    on_deviation: Callable[[Deviation], None] | None = None,
) -> ConformanceResult:
    """Replay a log against the definitions and report every move they do not allow.

    Args:
        events: the log, in any order (see :func:`read_log`); replayed in time order.
        registry: the definitions to judge by.
        pathway: the pathway of cases whose events name none (a CSV without a ``pathway`` column).
        keep: how many deviations the result holds (all are counted, and all reach ``on_deviation``).
    """
    with tempfile.TemporaryDirectory(prefix="pathways-conform-") as tmp:
        db = sqlite3.connect(os.path.join(tmp, "log.db"))
        try:
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            _spool(events, db)
            replay = _Replay(registry, pathway, keep, on_deviation, db)
            for ev in _unspool(db):
                replay.handle(ev)
            return replay.result()
        finally:
            db.close()
