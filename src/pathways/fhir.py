"""HL7 FHIR R4 exchange: a case as a Bundle; a referral Task in, the answer Task out.

Danish cross-sector exchange (MedCom, DK Core) speaks FHIR: a referral is a ``Task``, a
joint plan a ``CarePlan``, a consent a ``Consent``. This module maps a pathway case to
those resources and back, validated by the ``fhir.resources`` models (extra ``fhir``).
The models are FHIR R4B, the R4 technical correction: CarePlan, Task, Consent,
Provenance and Bundle are the same as in R4, which DK Core 3 profiles.

Status mapping (the default; a state's ``fhir_status`` in the definition overrides the CarePlan's):

=====================  ======================================================
pathway                FHIR
=====================  ======================================================
active / waiting state CarePlan.status ``active``
ended: completed       CarePlan.status ``completed``
ended: handed_over     CarePlan.status ``completed``
ended: left_by_choice  CarePlan.status ``revoked`` (the citizen ended it)
hand-over sent         Task.status ``requested``
receiver accepted      Task.status ``accepted``
receiver declined      Task.status ``rejected``
receiving case ended   Task.status ``completed`` (after ``accepted``)
=====================  ======================================================
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from ._extras import needs
from .case import Case, Event, EventKind, Link
from .errors import PathwaysError
from .eventlog import activity
from .model import Outcome, Pathway
from .registry import Registry

__all__ = [
    "CAREPLAN_STATUS",
    "PATHWAY_SYSTEM",
    "TASK_SYSTEM",
    "FhirError",
    "case_bundle",
    "referral_task",
    "task_from_referral",
    "validate",
]

CAREPLAN_STATUS: Mapping[Outcome | None, str] = {
    None: "active",
    Outcome.COMPLETED: "completed",
    Outcome.HANDED_OVER: "completed",
    Outcome.LEFT_BY_CHOICE: "revoked",
}
"""CarePlan.status by how the case ended (``None``: still open); a state's ``fhir_status`` overrides it."""

PATHWAY_SYSTEM = "urn:pathways:pathway"
"""The code system of pathway ids (Task.code names the receiving pathway)."""
TASK_SYSTEM = "urn:pathways:handover"
"""The identifier system of hand-over Tasks (value: the receiving case id)."""
_CASE_SYSTEM = "urn:pathways:case"
_PERSON_SYSTEM = "urn:pathways:person"
_ROLE_SYSTEM = "urn:pathways:role"
_ACTIVITY_SYSTEM = "urn:pathways:activity"
_FHIR_TRIGGER = "fhir:Task"
"""The trigger recorded on a case received from outside as a FHIR Task."""


class FhirError(PathwaysError):
    """A FHIR resource cannot be read or does not validate; names the resource and the field."""


def _id(text: str) -> str:
    """A FHIR id ([A-Za-z0-9-.]{1,64}) for one of ours."""
    return re.sub(r"[^A-Za-z0-9\-.]", "-", text)[:64]


def _time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _org(sector: str) -> dict[str, Any]:
    return {"reference": f"Organization/{_id('sector-' + sector)}"}


def _organisation(sector: str, pathway: Pathway | None) -> dict[str, Any]:
    label = pathway.sectors[sector].label if pathway is not None and sector in pathway.sectors else None
    return {
        "resourceType": "Organization", "id": _id("sector-" + sector),
        "identifier": [{"system": "urn:pathways:sector", "value": sector}],
        "name": label.da if label else sector,
    }


def _owner_sector(pathway: Pathway) -> str | None:
    """The sector that answers a hand-over: the one responsible at the receiving intake."""
    if pathway.intake is None:
        return None
    for role in pathway.state(pathway.intake.state).responsible:
        return pathway.roles[role].sector
    return None


def _task_status(sender_event: Event, answer: Event | None, receiver: Case | None, receiver_pathway: Pathway | None) -> str:
    if answer is None:
        return "requested"
    if answer.kind is EventKind.HANDOVER_DECLINED:
        return "rejected"
    if receiver is not None and receiver_pathway is not None and receiver_pathway.state(receiver.state).terminal:
        return "completed"
    return "accepted"


def referral_task(
    registry: Registry,
    sender: Case | None,
    receiver_id: str,
    receiver: Case | None = None,
) -> dict[str, Any]:
    """The Task of one hand-over, from the sender's history (and the receiver's, if known)."""
    sent = answer = None
    if sender is not None:
        for e in sender.history:
            if e.link is not None and e.link.case_id == receiver_id:
                if e.kind in (EventKind.FIRED, EventKind.ESCALATED):
                    sent = e
                elif e.kind in (EventKind.HANDOVER_ACCEPTED, EventKind.HANDOVER_DECLINED):
                    answer = e
    receiver_pathway = registry.get_version(receiver.pathway_id, receiver.version) if receiver is not None else None
    if sent is None and receiver is not None:
        return _inbound_task(registry, receiver)
    assert sent is not None and sender is not None, f"no hand-over to {receiver_id!r} in the sender's history"
    sender_pathway = registry.get_version(sender.pathway_id, sender.version)
    t = next(t for t in sender_pathway.transitions if t.trigger == sent.trigger and t.handover is not None)
    assert t.handover is not None
    target = registry[t.handover.to]
    if answer is None and receiver is not None and receiver_pathway is not None:
        answer = _answer_of(receiver, receiver_pathway)
    task: dict[str, Any] = {
        "resourceType": "Task",
        "id": _id("handover-" + receiver_id),
        "identifier": [{"system": TASK_SYSTEM, "value": receiver_id}],
        "status": _task_status(sent, answer, receiver, receiver_pathway),
        "intent": "order",
        "code": {"coding": [{"system": PATHWAY_SYSTEM, "code": target.id, "display": target.title.da}]},
        "description": t.label.da if t.label else t.trigger,
        "basedOn": [{"reference": f"CarePlan/{_id(sender.id)}"}],
        "focus": {"reference": f"CarePlan/{_id(receiver_id)}"},
        "for": {"identifier": {"system": "urn:pathways:citizen", "value": sender.citizen}},
        "authoredOn": _time(sent.at),
        "lastModified": _time((answer or sent).at),
    }
    if sent.actor is not None:
        task["requester"] = _org(sent.actor.sector)
    owner = _owner_sector(target)
    if owner is not None:
        task["owner"] = _org(owner)
    return task


def _answer_of(receiver: Case, pathway: Pathway) -> Event | None:
    """The receiving case's answer, as the sender would record it."""
    if pathway.intake is None:
        return None
    for e in receiver.history:
        if e.trigger == pathway.intake.accept and e.kind in (EventKind.FIRED, EventKind.ESCALATED):
            return Event(e.case_id, e.seq, e.at, EventKind.HANDOVER_ACCEPTED, e.from_state, e.to_state)
        if e.trigger == pathway.intake.decline or (e.kind is not EventKind.STARTED and pathway.state(e.to_state).terminal):
            return Event(e.case_id, e.seq, e.at, EventKind.HANDOVER_DECLINED, e.from_state, e.to_state)
    return None


def _inbound_task(registry: Registry, receiver: Case) -> dict[str, Any]:
    """The Task of a referral received from outside, updated with this side's answer."""
    pathway = registry.get_version(receiver.pathway_id, receiver.version)
    assert receiver.referred_by is not None
    start = receiver.history[0]
    answer = _answer_of(receiver, pathway)
    kept = json.loads(receiver.referred_by.trigger.removeprefix(_FHIR_TRIGGER) or "{}")
    task: dict[str, Any] = {
        "resourceType": "Task", "id": _id(receiver.referred_by.case_id),
        "identifier": [{"system": TASK_SYSTEM, "value": receiver.id}],
        "status": _task_status(start, answer, receiver, pathway), "intent": "order",
        "code": {"coding": [{"system": PATHWAY_SYSTEM, "code": pathway.id, "display": pathway.title.da}]},
        "focus": {"reference": f"CarePlan/{_id(receiver.id)}"},
        "for": {"identifier": {"system": "urn:pathways:citizen", "value": receiver.citizen}},
        "authoredOn": _time(start.at),
    } | kept
    task["lastModified"] = _time((answer or start).at)
    return task

_KEPT = ("requester", "owner", "basedOn", "description", "authoredOn")
"""Fields of a received Task kept with the case (in its hand-over link), so the answer carries them."""


def task_from_referral(
    task: Mapping[str, Any],
    start: Callable[[str, str, Link, str], Case],
) -> Case:
    """Start the receiving pathway's intake for a referral Task that arrived from outside.

    ``start(pathway_id, citizen, sender_link, case_id)`` starts the case at the intake (the
    engine's :meth:`~pathways.Engine.receive`); the Task names the receiving pathway in
    ``code`` (system :data:`PATHWAY_SYSTEM`), the citizen in ``for.identifier`` and the
    sender in ``requester``. Raises :class:`FhirError` naming the field that is wrong.
    """
    model = validate(dict(task))
    if model.get("resourceType") != "Task":
        raise FhirError(f"expected a FHIR Task, got {model.get('resourceType')!r}")
    if model.get("status") != "requested":
        raise FhirError(f"Task {model.get('id')!r}: status is {model.get('status')!r}; only a 'requested' referral starts an intake")
    codes = [c.get("code") for c in (model.get("code") or {}).get("coding", []) if c.get("system") == PATHWAY_SYSTEM]
    if not codes:
        raise FhirError(f"Task {model.get('id')!r}: code has no coding with system {PATHWAY_SYSTEM!r} naming the receiving pathway")
    citizen = ((model.get("for") or {}).get("identifier") or {}).get("value")
    if not citizen:
        raise FhirError(f"Task {model.get('id')!r}: 'for.identifier.value' must name the citizen (a pseudonymous id)")
    ident = next((i.get("value") for i in model.get("identifier", []) if i.get("system") == TASK_SYSTEM), None)
    task_id = str(model.get("id") or ident or "")
    case_id = ident or task_id
    kept = {k: model[k] for k in _KEPT if k in model}
    link = Link(task_id, _FHIR_TRIGGER + json.dumps(kept, sort_keys=True, separators=(",", ":")))
    return start(str(codes[0]), str(citizen), link, case_id)


def _consents(case: Case, pathway: Pathway) -> list[dict[str, Any]]:
    """A Consent per consent fact the case holds, permit or deny, dated by the event that set it."""
    out = []
    for fact in sorted(f for f in pathway.facts if f.startswith("consent")):
        setter = next((e for e in reversed(case.history) if fact in e.facts), None)
        if setter is None:
            continue
        value = bool(case.context.get(fact, False))
        out.append({
            "resourceType": "Consent", "id": _id(f"{case.id}-{fact}"), "status": "active",
            "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
            "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}], "text": fact}],
            "dateTime": _time(setter.at),
            "policyRule": {"text": pathway.facts[fact].label.da},
            "provision": {"type": "permit" if value else "deny"},
        })
    return out


def _provenance(case: Case, event: Event) -> dict[str, Any]:
    actor = event.actor
    agent: dict[str, Any]
    if actor is None:
        agent = {"who": {"display": "pathways (deadline or timeout)"}}
    else:
        agent = {
            "who": {"identifier": {"system": _PERSON_SYSTEM, "value": actor.person}, "display": actor.person},
            "role": [{"coding": [{"system": _ROLE_SYSTEM, "code": actor.role}]}],
            "onBehalfOf": _org(actor.sector),
        }
    return {
        "resourceType": "Provenance", "id": _id(f"{case.id}-{event.seq}"),
        "target": [{"reference": f"CarePlan/{_id(case.id)}"}],
        "recorded": _time(event.at),
        "activity": {"coding": [{"system": _ACTIVITY_SYSTEM, "code": activity(event)}], "text": f"{event.from_state} → {event.to_state}"},
        "agent": [agent],
    }


def case_bundle(registry: Registry, case: Case, related: Mapping[str, Case] | None = None) -> dict[str, Any]:
    """The case as a FHIR collection Bundle: CarePlan, Tasks, Consents, Provenance, Organizations.

    ``related`` holds other cases by id (the receivers of this case's hand-overs and the
    case that referred it), so each Task's status follows the answer.
    """
    related = related or {}
    pathway = registry.get_version(case.pathway_id, case.version)
    state = pathway.state(case.state)
    sectors = sorted({pathway.roles[r].sector for s in pathway.states for r in s.responsible})
    plan: dict[str, Any] = {
        "resourceType": "CarePlan", "id": _id(case.id),
        "identifier": [{"system": _CASE_SYSTEM, "value": case.id}],
        "instantiatesUri": [f"{PATHWAY_SYSTEM}:{pathway.id}:{pathway.version}"],
        "status": state.fhir_status.value if state.fhir_status else CAREPLAN_STATUS[state.outcome if state.terminal else None],
        "intent": "plan",
        "title": pathway.title.da,
        "description": state.label.da,
        "subject": {"identifier": {"system": "urn:pathways:citizen", "value": case.citizen}},
        "period": {"start": _time(case.history[0].at)} | ({"end": _time(case.entered_at)} if state.terminal else {}),
        "contributor": [_org(s) for s in sectors],
    }
    resources: list[dict[str, Any]] = [plan, *(_organisation(s, pathway) for s in sectors)]
    for e in case.history:
        if e.kind in (EventKind.FIRED, EventKind.ESCALATED) and e.link is not None:
            resources.append(referral_task(registry, case, e.link.case_id, related.get(e.link.case_id)))
    if case.referred_by is not None:
        sender = related.get(case.referred_by.case_id)
        if case.referred_by.trigger.startswith(_FHIR_TRIGGER):
            resources.append(_inbound_task(registry, case))
        elif sender is not None:
            resources.append(referral_task(registry, sender, case.id, case))
    resources += _consents(case, pathway)
    resources += [_provenance(case, e) for e in case.history]
    for r in resources:
        validate(r)
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def validate(resource: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a resource (or Bundle) with the FHIR models; return it as plain JSON.

    Raises:
        FhirError: naming the resource and each field that is wrong.
    """
    with needs("fhir", "FHIR (pathways.fhir)"):
        from fhir.resources.R4B import get_fhir_model_class
        from pydantic import ValidationError

    kind = resource.get("resourceType")
    try:
        model = get_fhir_model_class(str(kind))
    except (KeyError, ValueError):
        raise FhirError(f"{kind!r} is not a FHIR R4 resource type") from None
    try:
        obj = model.model_validate(dict(resource))
    except ValidationError as exc:
        where = f"{kind}/{resource.get('id', '?')}"
        details = "; ".join(f"{'.'.join(map(str, e['loc'])) or '$'}: {e['msg']}" for e in exc.errors())
        raise FhirError(f"{where} does not validate: {details}") from None
    out: dict[str, Any] = obj.model_dump(mode="json", exclude_none=True, by_alias=True)
    return out
