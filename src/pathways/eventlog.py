"""Event logs for process mining: a store's histories as XES or OCEL 2.0.

Analysts in the regions read event logs with process-mining tools (ProM, pm4py,
Celonis…). This module turns case histories into the two standard formats:

* **XES** (IEEE 1849-2016): one trace per pathway case; the activity is the trigger
  (or, for events that fire no trigger, the event kind); ``org:resource`` is the
  person, ``org:role`` the role and ``org:group`` the sector.
* **OCEL 2.0** (JSON or SQLite): events linked to the objects they touch — the citizen,
  the pathway case, the hand-over, the approval request and the overnight place.

The meaning of an activity is defined once, in :func:`activity`, and read back by
:mod:`pathways.conformance`. Writing needs only the standard library; validating
against the shipped schemas needs the ``eventlog`` extra (lxml, jsonschema).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from importlib import resources
from typing import IO, Any, assert_never
from xml.sax.saxutils import quoteattr

import attrs

from ._extras import needs
from .case import Case, Event, EventKind
from .model import Pathway
from .registry import Registry

__all__ = [
    "APPROVE",
    "CSV_COLUMNS",
    "REFUSE",
    "START",
    "LogCounts",
    "activity",
    "fact_activity",
    "ocel_document",
    "parse_fact_activity",
    "validate_ocel_json",
    "validate_xes",
    "write_csv",
    "write_ocel_json",
    "write_ocel_sqlite",
    "write_xes",
]

START = "start"
"""The activity of a case's first event."""
APPROVE = "approve"
REFUSE = "refuse"
_FACT_PREFIX = "set "

OVERNIGHT_PLACE = "overnight_place"
"""The OCEL object type of a place taken from a shared resource (the 16 overnight places)."""


def fact_activity(fact: str, value: bool) -> str:
    """The activity of setting a fact: ``set consent_given=true``."""
    return f"{_FACT_PREFIX}{fact}={'true' if value else 'false'}"


def parse_fact_activity(text: str) -> tuple[str, bool] | None:
    """``("consent_given", True)`` for ``set consent_given=true``; ``None`` for other activities."""
    if not text.startswith(_FACT_PREFIX) or "=" not in text:
        return None
    fact, _, value = text[len(_FACT_PREFIX):].partition("=")
    if value not in ("true", "false"):
        return None
    return fact.strip(), value == "true"


def activity(event: Event) -> str:
    """What an event is called in a log: its trigger, or its kind when it fires none.

    A request for approval and the move that follows the last approval both carry the
    transition's trigger (``pathways:kind`` tells them apart); approvals, refusals and
    facts are ``approve``, ``refuse`` and ``set FACT=true|false``.
    """
    match event.kind:
        case EventKind.STARTED:
            return START
        case EventKind.FIRED | EventKind.ESCALATED | EventKind.REQUESTED:
            assert event.trigger is not None
            return event.trigger
        case EventKind.APPROVED:
            return APPROVE
        case EventKind.REFUSED:
            return REFUSE
        case EventKind.FACT_SET:
            ((fact, value),) = event.facts.items()
            return fact_activity(fact, value)
        case EventKind.HANDOVER_ACCEPTED | EventKind.HANDOVER_DECLINED:
            return str(event.kind.value)
        case _ as unreachable:  # pragma: no cover
            assert_never(unreachable)


@attrs.frozen
class LogCounts:
    """What an export wrote: cases (traces) and events."""

    cases: int
    events: int


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def _facts_text(facts: Mapping[str, bool]) -> str:
    return ",".join(f"{k}={'true' if v else 'false'}" for k, v in sorted(facts.items()))


def _event_attributes(event: Event) -> dict[str, str]:
    """Extra attributes of an event, named without a prefix (the formats add their own)."""
    out = {"kind": event.kind.value, "from": event.from_state, "to": event.to_state}
    if event.trigger is not None:
        out["trigger"] = event.trigger
    if event.reason is not None:
        out["reason"] = event.reason
    if event.kind is EventKind.STARTED:
        out["facts"] = _facts_text(event.facts)
        if event.link is not None:
            out["referred_by"] = event.link.case_id
    elif event.link is not None:
        out["link"] = event.link.case_id
    return out


# -- XES --------------------------------------------------------------------------------

_XES_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xes.features="">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
  <global scope="trace">
    <string key="concept:name" value="__INVALID__"/>
  </global>
  <global scope="event">
    <string key="concept:name" value="__INVALID__"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000000+00:00"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <string key="concept:name" value="pathways"/>
"""


def _attr(kind: str, key: str, value: object, indent: str) -> str:
    return f"{indent}<{kind} key={quoteattr(key)} value={quoteattr(str(value))}/>\n"


def write_xes(cases: Iterable[Case], out: IO[str]) -> LogCounts:
    """Write the cases' histories as one XES log, streaming one trace at a time."""
    out.write(_XES_HEAD)
    n_cases = n_events = 0
    for case in cases:
        n_cases += 1
        out.write("  <trace>\n")
        out.write(_attr("string", "concept:name", case.id, "    "))
        out.write(_attr("string", "pathways:pathway", case.pathway_id, "    "))
        out.write(_attr("int", "pathways:version", case.version, "    "))
        out.write(_attr("string", "pathways:citizen", case.citizen, "    "))
        for event in case.history:
            n_events += 1
            out.write("    <event>\n")
            out.write(_attr("string", "concept:name", activity(event), "      "))
            out.write(_attr("date", "time:timestamp", _iso(event.at), "      "))
            if event.actor is not None:
                out.write(_attr("string", "org:resource", event.actor.person, "      "))
                out.write(_attr("string", "org:role", event.actor.role, "      "))
                out.write(_attr("string", "org:group", event.actor.sector, "      "))
            out.write(_attr("int", "pathways:seq", event.seq, "      "))
            for key, value in _event_attributes(event).items():
                out.write(_attr("string", f"pathways:{key}", value, "      "))
            out.write("    </event>\n")
        out.write("  </trace>\n")
    out.write("</log>\n")
    return LogCounts(n_cases, n_events)


CSV_COLUMNS = ("case", "activity", "timestamp", "role", "person", "sector", "pathway", "citizen", "facts", "referred_by")
"""The columns of a CSV log; ``pathways conform`` needs the first four."""


def write_csv(cases: Iterable[Case], out: IO[str]) -> LogCounts:
    """Write the histories as a flat CSV log (one row per event), the simplest format to conform."""
    import csv

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    n_cases = n_events = 0
    for case in cases:
        n_cases += 1
        for event in case.history:
            n_events += 1
            actor = event.actor
            extra = _event_attributes(event)
            writer.writerow([
                case.id, activity(event), _iso(event.at), actor.role if actor else "", actor.person if actor else "",
                actor.sector if actor else "", case.pathway_id, case.citizen, extra.get("facts", ""), extra.get("referred_by", ""),
            ])
    return LogCounts(n_cases, n_events)


def _schema_path(name: str) -> Any:
    return resources.files("pathways").joinpath("schemas", name)


def validate_xes(path: str | os.PathLike[str]) -> list[str]:
    """Problems found validating a XES file against the IEEE 1849-2016 schema (shipped).

    Needs the ``eventlog`` extra (lxml). An empty list means the file is valid.
    """
    with needs("eventlog", "validating XES (pathways.eventlog.validate_xes)"):
        from lxml import etree

    with resources.as_file(_schema_path("xes-ieee-1849-2016.xsd")) as xsd:
        schema = etree.XMLSchema(etree.parse(str(xsd)))
    schema.validate(etree.parse(os.fspath(path)))
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


# -- OCEL 2.0 ----------------------------------------------------------------------------

_EVENT_ATTRS = ("person", "role", "sector", "kind", "from", "to", "trigger", "reason", "facts", "referred_by", "link")
_OBJECT_TYPES: dict[str, tuple[str, ...]] = {
    "citizen": (),
    "pathway_case": ("pathway", "version"),
    "handover": ("trigger", "to_pathway"),
    "approval_request": ("trigger",),
    OVERNIGHT_PLACE: ("resource",),
}


@attrs.define
class _Ocel:
    """Events and objects gathered from histories, in the OCEL 2.0 shape."""

    events: list[dict[str, Any]] = attrs.field(factory=list)
    objects: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    event_types: set[str] = attrs.field(factory=set)

    def obj(self, oid: str, otype: str, attributes: Mapping[str, str] | None = None) -> dict[str, Any]:
        found = self.objects.get(oid)
        if found is None:
            found = self.objects[oid] = {"id": oid, "type": otype, "attributes": [], "relationships": []}
            for name, value in (attributes or {}).items():
                found["attributes"].append({"name": name, "value": value, "time": "1970-01-01T00:00:00+00:00"})
        return found

    def relate(self, source: str, target: str, qualifier: str) -> None:
        rels = self.objects[source]["relationships"]
        rel = {"objectId": target, "qualifier": qualifier}
        if rel not in rels:
            rels.append(rel)


def _gather(cases: Iterable[Case], registry: Registry | None) -> _Ocel:
    log = _Ocel()
    for case in cases:
        citizen = f"citizen:{case.citizen}"
        log.obj(citizen, "citizen")
        log.obj(case.id, "pathway_case", {"pathway": case.pathway_id, "version": str(case.version)})
        log.relate(case.id, citizen, "of citizen")
        pathway = registry.get_version(case.pathway_id, case.version) if registry is not None else None
        request: str | None = None
        held: list[tuple[str, str]] = []
        for event in case.history:
            rels = [{"objectId": case.id, "qualifier": "case"}, {"objectId": citizen, "qualifier": "citizen"}]
            if event.kind is EventKind.REQUESTED:
                request = f"approval:{case.id}:{event.seq}"
                log.obj(request, "approval_request", {"trigger": event.trigger or ""})
                log.relate(request, case.id, "for case")
            if request is not None and event.kind in _REQUEST_KINDS:
                rels.append({"objectId": request, "qualifier": event.kind.value})
                if event.kind in (EventKind.REFUSED, EventKind.FIRED):
                    request = None
            if event.link is not None:
                received = event.kind is EventKind.STARTED
                sender, receiver = (event.link.case_id, case.id) if received else (case.id, event.link.case_id)
                handover = f"handover:{sender}:{receiver}"
                log.obj(handover, "handover", {"trigger": event.link.trigger, "to_pathway": case.pathway_id if received else ""})
                log.relate(handover, case.id, "to" if received else "from")
                rels.append({"objectId": handover, "qualifier": "received" if received else event.kind.value})
            if pathway is not None:
                rels += _place_links(log, pathway, case, event, held)
            attributes = _event_attributes(event)
            if event.actor is not None:
                attributes |= {"person": event.actor.person, "role": event.actor.role, "sector": event.actor.sector}
            name = activity(event)
            log.event_types.add(name)
            log.events.append({
                "id": f"{case.id}:{event.seq}",
                "type": name,
                "time": _iso(event.at),
                "attributes": [{"name": k, "value": v} for k, v in attributes.items()],
                "relationships": rels,
            })
    for obj in log.objects.values():
        if obj["type"] == "handover":
            to = next((r["objectId"] for r in obj["relationships"] if r["qualifier"] == "to"), None)
            if to is not None:
                pathway_id = next(a["value"] for a in log.objects[to]["attributes"] if a["name"] == "pathway")
                for a in obj["attributes"]:
                    if a["name"] == "to_pathway":
                        a["value"] = pathway_id
    log.events.sort(key=lambda e: (e["time"], e["id"]))
    return log


_REQUEST_KINDS = (EventKind.REQUESTED, EventKind.APPROVED, EventKind.REFUSED, EventKind.FIRED)


def _place_links(log: _Ocel, pathway: Pathway, case: Case, event: Event, held: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Link an event to the overnight places it takes or frees (the pathway names them)."""
    out = []
    freed: list[str] = []
    taken: list[str] = []
    if event.kind in (EventKind.FIRED, EventKind.ESCALATED):
        t = pathway.find(event.from_state, event.trigger or "")
        if t is not None and t.releases:
            freed.append(t.releases)
        if t is not None and t.takes:
            taken.append(t.takes)
    if pathway.state(event.to_state).terminal:
        freed = [r for _, r in held]
    for resource in freed:
        for entry in [h for h in held if h[1] == resource][:1]:
            held.remove(entry)
            out.append({"objectId": entry[0], "qualifier": "releases"})
    for resource in taken:
        place = f"place:{resource}:{case.id}:{event.seq}"
        log.obj(place, OVERNIGHT_PLACE, {"resource": resource})
        log.relate(place, case.id, "held by")
        held.append((place, resource))
        out.append({"objectId": place, "qualifier": "takes"})
    return out


def ocel_document(cases: Iterable[Case], registry: Registry | None = None) -> dict[str, Any]:
    """The cases as one OCEL 2.0 JSON document (held in memory; use SQLite for big stores)."""
    log = _gather(cases, registry)
    return {
        "objectTypes": [
            {"name": name, "attributes": [{"name": a, "type": "string"} for a in attrs_]}
            for name, attrs_ in _OBJECT_TYPES.items()
        ],
        "eventTypes": [
            {"name": name, "attributes": [{"name": a, "type": "string"} for a in _EVENT_ATTRS]}
            for name in sorted(log.event_types)
        ],
        "objects": list(log.objects.values()),
        "events": log.events,
    }


def write_ocel_json(cases: Iterable[Case], out: IO[str], registry: Registry | None = None) -> LogCounts:
    """Write the cases as one OCEL 2.0 JSON document; ``registry`` adds the overnight places."""
    doc = ocel_document(cases, registry)
    json.dump(doc, out, ensure_ascii=False, indent=1)
    out.write("\n")
    return LogCounts(sum(1 for o in doc["objects"] if o["type"] == "pathway_case"), len(doc["events"]))


def validate_ocel_json(document: Mapping[str, Any]) -> list[str]:
    """Problems found validating an OCEL document against the OCEL 2.0 JSON schema (shipped).

    Needs the ``eventlog`` extra (jsonschema). An empty list means the document is valid.
    """
    with needs("eventlog", "validating OCEL (pathways.eventlog.validate_ocel_json)"):
        import jsonschema

    schema = json.loads(_schema_path("ocel20-schema-json.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    return [f"{'/'.join(map(str, e.absolute_path)) or '$'}: {e.message}" for e in validator.iter_errors(document)]


def _table_name(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)


def write_ocel_sqlite(cases: Iterable[Case], path: str | os.PathLike[str], registry: Registry | None = None) -> LogCounts:
    """Write the cases as an OCEL 2.0 SQLite database (the standard's relational format)."""
    doc = ocel_document(cases, registry)
    if os.path.exists(path):
        os.remove(path)
    con = sqlite3.connect(os.fspath(path))
    try:
        with con:
            _write_sqlite(con, doc)
    finally:
        con.close()
    return LogCounts(sum(1 for o in doc["objects"] if o["type"] == "pathway_case"), len(doc["events"]))


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _write_sqlite(con: sqlite3.Connection, doc: Mapping[str, Any]) -> None:
    con.execute("CREATE TABLE event (ocel_id TEXT PRIMARY KEY, ocel_type TEXT)")
    con.execute("CREATE TABLE object (ocel_id TEXT PRIMARY KEY, ocel_type TEXT)")
    con.execute("CREATE TABLE event_object (ocel_event_id TEXT, ocel_object_id TEXT, ocel_qualifier TEXT, "
                "PRIMARY KEY (ocel_event_id, ocel_object_id, ocel_qualifier))")
    con.execute("CREATE TABLE object_object (ocel_source_id TEXT, ocel_target_id TEXT, ocel_qualifier TEXT, "
                "PRIMARY KEY (ocel_source_id, ocel_target_id, ocel_qualifier))")
    con.execute("CREATE TABLE event_map_type (ocel_type TEXT PRIMARY KEY, ocel_type_map TEXT)")
    con.execute("CREATE TABLE object_map_type (ocel_type TEXT PRIMARY KEY, ocel_type_map TEXT)")
    event_maps = {t["name"]: f"{_table_name(t['name'])}_{n}" for n, t in enumerate(doc["eventTypes"])}
    for name, table in event_maps.items():
        con.execute("INSERT INTO event_map_type VALUES (?, ?)", (name, table))
        cols = ", ".join(f"{_q(a)} TEXT" for a in _EVENT_ATTRS)
        con.execute(f"CREATE TABLE {_q('event_' + table)} (ocel_id TEXT PRIMARY KEY, ocel_time TIMESTAMP, {cols})")
    for t in doc["objectTypes"]:
        con.execute("INSERT INTO object_map_type VALUES (?, ?)", (t["name"], t["name"]))
        cols = "".join(f", {_q(a['name'])} TEXT" for a in t["attributes"])
        con.execute(f"CREATE TABLE {_q('object_' + t['name'])} (ocel_id TEXT, ocel_time TIMESTAMP, ocel_changed_field TEXT{cols})")
    for e in doc["events"]:
        con.execute("INSERT INTO event VALUES (?, ?)", (e["id"], e["type"]))
        values = {a["name"]: a["value"] for a in e["attributes"]}
        con.execute(
            f"INSERT INTO {_q('event_' + event_maps[e['type']])} VALUES (?, ?{', ?' * len(_EVENT_ATTRS)})",
            (e["id"], _sql_time(e["time"]), *(values.get(a) for a in _EVENT_ATTRS)),
        )
        con.executemany("INSERT OR IGNORE INTO event_object VALUES (?, ?, ?)", [(e["id"], r["objectId"], r["qualifier"]) for r in e["relationships"]])
    for o in doc["objects"]:
        con.execute("INSERT INTO object VALUES (?, ?)", (o["id"], o["type"]))
        names = _OBJECT_TYPES[o["type"]]
        values = {a["name"]: a["value"] for a in o["attributes"]}
        con.execute(
            f"INSERT INTO {_q('object_' + o['type'])} VALUES (?, ?, NULL{', ?' * len(names)})",
            (o["id"], "1970-01-01 00:00:00", *(values.get(a) for a in names)),
        )
        con.executemany("INSERT OR IGNORE INTO object_object VALUES (?, ?, ?)", [(o["id"], r["objectId"], r["qualifier"]) for r in o["relationships"]])


def _sql_time(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

