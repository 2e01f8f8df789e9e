"""Counterexamples: the steps that strand a citizen, told as a story and replayed on the engine.

A counterexample is written in terms any engine run can repeat: who fires what (a
synthesized person per role, ``nurse-1``), who approves, which facts change, when the
clock moves on and when other cases take every place. :meth:`Counterexample.replay`
drives the real :class:`~pathways.engine.Engine` through those steps, so a finding is
never just the checker's opinion.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime
from typing import Any, assert_never
from zoneinfo import ZoneInfo

import attrs

from ._converter import format_duration
from ._explore import (
    ACCEPTED,
    APPROVE,
    DEADLINE,
    DECLINED,
    FACT,
    FIRE,
    FREE,
    FULL,
    LEAVE,
    REFUSE,
    REQUEST,
    TIMEOUT,
    Code,
    Config,
    Space,
)
from .approvals import rule_of
from .case import Actor, Case
from .clock import ManualClock
from .engine import Engine
from .i18n import label, role_name, state_name, tr, weekday_time
from .model import (
    Handover,
    Intake,
    Label,
    Outcome,
    Pathway,
    Role,
    Sector,
    State,
    StateKind,
    Subject,
    Transition,
)
from .registry import Registry

__all__ = ["Counterexample", "Step"]

_KIND_NAMES = {
    FIRE: "fire", REQUEST: "request", APPROVE: "approve", REFUSE: "refuse", TIMEOUT: "timeout",
    DEADLINE: "deadline", FACT: "set_fact", FULL: "others_full", FREE: "others_free",
    ACCEPTED: "handover_accepted", DECLINED: "handover_declined", LEAVE: "leave",
}


@attrs.frozen
class Step:
    """One thing that happens to the case; ``kind`` says which fields matter.

    Kinds: ``fire``, ``leave``, ``request`` (ask for approval), ``approve``, ``refuse``,
    ``timeout`` and ``deadline`` (the clock moves on by ``after``), ``set_fact``,
    ``others_full`` / ``others_free`` (other cases take / free every place of
    ``resource``), ``handover_accepted`` / ``handover_declined`` (the receiving pathway
    answers), ``wait`` (time passes until ``at``; week-aware counterexamples only).
    """

    kind: str
    state: str
    dest: str
    trigger: str | None = None
    person: str | None = None
    role: str | None = None
    sector: str | None = None
    fact: str | None = None
    value: bool | None = None
    resource: str | None = None
    capacity: int | None = None
    after: str | None = None
    to: str | None = None
    citizen: bool = False
    """Whether ``role`` is the citizen's own (the story then says "the citizen")."""
    at: str | None = None
    """In a week-aware counterexample: the local time of the step, e.g. ``Monday 23:40``."""
    when: datetime | None = None
    """The same moment as an instant, for the replay's clock."""

    @property
    def actor(self) -> Actor | None:
        if self.person is None or self.role is None or self.sector is None:
            return None
        return Actor(self.person, self.role, self.sector)

    def words(self, pathway: Pathway | None = None) -> str:
        """This step in plain words (with its time, in a week-aware counterexample).

        With the ``pathway``, roles and states are named by their labels in the chosen
        language with the id after (``Sygeplejerske (Regionen) [nurse]``); else by id.
        """
        if self.kind == "wait":
            return tr("{at} the citizen is still in {state}", at=self.at, state=_state(pathway, self.state))
        said = self._words(pathway)
        return f"{self.at}: {said}" if self.at else said

    def _words(self, p: Pathway | None) -> str:
        if self.citizen or (p is not None and self.role is not None and p.is_citizen(self.role)):
            who = tr("the citizen")
        elif self.role is not None:
            who = role_name(p, self.role) if p is not None else f"{self.role} ({self.sector})"
        else:
            who = tr("someone")
        arrow = f" → {_state(p, self.dest)}" if self.dest != self.state else ""
        trigger = self.trigger
        k = self.kind
        if k in ("fire", "leave"):
            return tr("{who} fires `{trigger}`{arrow}", who=who, trigger=trigger, arrow=arrow)
        if k == "request":
            return tr("{who} asks for approval of `{trigger}`", who=who, trigger=trigger)
        if k == "approve":
            return tr("{who} ({person}) approves `{trigger}`{arrow}", who=who, person=self.person, trigger=trigger, arrow=arrow)
        if k == "refuse":
            return tr("{who} refuses `{trigger}`{arrow}", who=who, trigger=trigger, arrow=arrow)
        if k == "timeout":
            return tr("{after} pass without an answer; the approval of `{trigger}` times out{arrow}",
                      after=self.after, trigger=trigger, arrow=arrow)
        if k == "deadline":
            return tr("{after} pass; the deadline fires `{trigger}`{arrow}", after=self.after, trigger=trigger, arrow=arrow)
        if k == "set_fact":
            return tr("`{fact}` becomes {value}", fact=self.fact, value="true" if self.value else "false")
        resource = _resource(p, self.resource or "")
        if k == "others_full":
            return tr("all {capacity} places of {resource} are taken by others", capacity=self.capacity, resource=resource)
        if k == "others_free":
            return tr("a place of {resource} frees up", resource=resource)
        if k == "handover_accepted":
            return tr("`{to}` accepts the hand-over{arrow}", to=self.to, arrow=arrow)
        return tr("`{to}` declines the hand-over{arrow}", to=self.to, arrow=arrow)


@attrs.frozen
class Counterexample:
    """The shortest sequence of steps from the start that leads into a finding."""

    pathway: str
    start: str
    title: str
    steps: tuple[Step, ...]
    ends_in: str
    ending: str
    """What is wrong at the end, e.g. ``nobody can act``."""
    handed_over: bool = False
    """Whether the run begins with a hand-over into the pathway's intake."""
    lead_in: Counterexample | None = None
    """For a run that begins with a hand-over: the sending pathway's shortest run to it."""
    started_at: datetime | None = None
    """Week-aware counterexamples: when the run starts (the replay's clock starts there)."""
    source: Pathway | None = attrs.field(default=None, eq=False, repr=False)
    """The pathway the run is in, so the story can name its roles and states by their labels."""
    facts: tuple[tuple[str, bool], ...] = ()
    """Facts the case starts with, other than their defaults (facts no role may set by hand)."""

    def story(self) -> str:
        """The counterexample as one short paragraph for a designer, in the chosen language."""
        p = self.source
        if self.lead_in is not None:
            lead = self.lead_in
            parts = [tr("the citizen arrives at {title} ({state})", title=lead._title(), state=_state(lead.source, lead.start))]
            parts += [s.words(lead.source) for s in lead.steps]
            parts.append(tr("{title} receives the hand-over in {state}", title=self._title(), state=_state(p, self.start)))
        else:
            when = tr(" on {when}", when=_local(self.started_at)) if self.started_at else ""
            title, start = self._title(), _state(p, self.start)
            parts = [_opening(p, self.handed_over, title=title, state=start, when=when)]
            parts[0] += "".join(tr(" with `{fact}` {value}", fact=f, value="true" if v else "false") for f, v in self.facts)
        parts += [s.words(p) for s in self.steps]
        ends_in = _state(p, self.ends_in)
        parts.append(tr("{ending} — stuck in {state}", ending=self.ending, state=ends_in) if self.ending
                     else tr("now in {state}", state=ends_in))
        return "; ".join(parts)

    def _title(self) -> str:
        return label(self.source.title) if self.source is not None else self.title

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            k: v for k, v in attrs.asdict(self, recurse=False).items() if k not in ("steps", "lead_in", "source")
        }
        data["steps"] = [attrs.asdict(s, filter=lambda a, v: v != a.default) for s in self.steps]
        data["lead_in"] = self.lead_in.to_json() if self.lead_in is not None else None
        if self.facts:
            data["facts"] = dict(self.facts)
        else:
            data.pop("facts", None)
        if self.started_at is not None:
            data["started_at"] = self.started_at.isoformat()
        else:
            data.pop("started_at", None)
        for step in data["steps"]:
            if "when" in step:
                step["when"] = step["when"].isoformat()
        data["story"] = self.story()
        return data

    def replay(self, source: Pathway | Registry) -> Case:
        """Drive a fresh :class:`Engine` (manual clock, in-memory places) through the steps.

        With a :attr:`lead_in` and a registry, the run starts in the real sending pathway
        and the hand-over starts this case. Other receiving pathways are stood in for by a
        minimal pathway that only accepts or declines (as is the sender without a lead-in),
        so the replay shows these pathways' behaviour alone. Returns the case at the end;
        its ``state`` is :attr:`ends_in`.
        """
        pathway = source if isinstance(source, Pathway) else source[self.pathway]
        lead = self.lead_in
        sender = source[lead.pathway] if lead is not None and isinstance(source, Registry) else _sender(pathway)
        real = {pathway.id, sender.id}
        stubs = {
            t.handover.to: _receiver(t.handover.to)
            for p in (pathway, sender) for t in p.transitions if t.handover and t.handover.to not in real
        }
        clock = ManualClock(self.started_at)
        ids = (f"case-{i}" for i in itertools.count(1))
        engine = Engine(Registry([pathway, *stubs.values(), sender]), clock=clock, new_id=lambda: next(ids))
        others: dict[str, int] = {}
        if lead is not None and isinstance(source, Registry):
            first = _run(engine, clock, engine.start(sender.id, "citizen-1", case_id="case-0"), sender, lead.steps, others)
        elif self.handed_over:
            first = engine.start(sender.id, "citizen-1", case_id="case-0")
            engine.fire(first, "refer", Actor("sender_staff-1", "sender_staff", "sender"))
        else:
            first = engine.start(pathway.id, "citizen-1", facts=dict(self.facts), case_id="case-0")
            return _run(engine, clock, first, pathway, self.steps, others)
        assert first.referral is not None
        return _run(engine, clock, engine.case(first.referral.case_id), pathway, self.steps, others)


def _opening(p: Pathway | None, handed_over: bool, *, title: str, state: str, when: str) -> str:
    """How the run begins: a citizen arrives, or (``subject: organisation``) an organisation's request does."""
    subject = p.subject if p is not None else Subject.CITIZEN
    match subject:
        case Subject.CITIZEN:
            if handed_over:
                return tr("the citizen is handed over to {title} ({state}){when}", title=title, state=state, when=when)
            return tr("the citizen arrives at {title} ({state}){when}", title=title, state=state, when=when)
        case Subject.ORGANISATION:
            if handed_over:
                return tr("the organisation's request is handed over to {title} ({state}){when}",
                          title=title, state=state, when=when)
            return tr("the organisation's request arrives at {title} ({state}){when}", title=title, state=state, when=when)
        case _:
            assert_never(subject)


def _local(when: datetime) -> str:
    """An instant as the houses read it: ``Monday 23:40`` (``mandag 23:40``) in Copenhagen."""
    return weekday_time(when.astimezone(ZoneInfo("Europe/Copenhagen")))


def _state(pathway: Pathway | None, state: str) -> str:
    """A state as stories name it: ``Overnatning [staying]`` with the pathway, else its id."""
    return state_name(pathway, state) if pathway is not None else f"`{state}`"


def _resource(pathway: Pathway | None, resource: str) -> str:
    res = pathway.resources.get(resource) if pathway is not None else None
    return f"{label(res.label)} [{resource}]" if res is not None else f"`{resource}`"


def _run(
    engine: Engine, clock: ManualClock, case: Case, pathway: Pathway, steps: Iterable[Step], others: dict[str, int],
) -> Case:
    """Carry out ``steps`` on ``case``; ``others`` counts the places filled for other cases."""
    for step in steps:
        actor = step.actor
        if step.when is not None and step.kind not in ("timeout", "deadline") and step.when > clock.now():
            clock.set(step.when)
        if step.kind == "wait":
            continue
        if step.kind in ("fire", "leave", "request"):
            assert actor is not None and step.trigger is not None
            engine.fire(case, step.trigger, actor)
        elif step.kind == "approve":
            assert actor is not None
            engine.approve(case, actor)
        elif step.kind == "refuse":
            assert actor is not None
            engine.refuse(case, actor, reason="refused in the counterexample")
        elif step.kind in ("timeout", "deadline"):
            due = case.due_at(pathway)
            assert due is not None
            clock.set(due)
            engine.fire_due(cases=[case])
        elif step.kind == "set_fact":
            assert actor is not None and step.fact is not None and step.value is not None
            engine.set_fact(case, step.fact, step.value, actor, reason="recorded in the counterexample")
        elif step.kind in ("others_full", "others_free"):
            res = step.resource
            assert res is not None
            cap = engine.capacity(res)
            delta = cap - engine.in_use(res) if step.kind == "others_full" else -others.get(res, 0)
            engine.ledger.adjust(res, delta, cap)
            others[res] = others.get(res, 0) + delta
        else:
            assert case.referral is not None
            receiver = engine.case(case.referral.case_id)
            engine.fire(receiver, *_answer(engine.pathway_of(receiver), step.kind == "handover_accepted"))
    return case


def _answer(receiver: Pathway, accept: bool) -> tuple[str, Actor]:
    """The trigger and actor with which a receiving pathway (or its stand-in) answers a hand-over."""
    intake = receiver.intake
    assert intake is not None, "validated: a hand-over goes to a pathway with an intake"
    trigger = intake.accept if accept else intake.decline
    t = receiver.find(intake.state, trigger)
    person, role, sector = _actor_for(receiver, t.roles if t is not None else ())
    assert person is not None and role is not None and sector is not None
    return trigger, Actor(person, role, sector)


def _receiver(pathway_id: str) -> Pathway:
    """A stand-in receiving pathway that can only accept or decline a hand-over."""
    label = Label("modtager", "receiver")
    return Pathway(
        id=pathway_id, version=1, title=label, description=label, initial="intake",
        sectors={"receiver": Sector(label)}, roles={"receiver_staff": Role("receiver", label)},
        states=(
            State("intake", StateKind.WAITING, label, responsible=("receiver_staff",)),
            State("accepted", StateKind.TERMINAL, label, outcome=Outcome.COMPLETED),
            State("declined", StateKind.TERMINAL, label, outcome=Outcome.COMPLETED),
        ),
        transitions=(
            Transition("accept", ("intake",), "accepted", roles=("receiver_staff",)),
            Transition("decline", ("intake",), "declined", roles=("receiver_staff",)),
        ),
        intake=Intake("intake", "accept", "decline"),
    )


def _sender(receiver: Pathway) -> Pathway:
    """A stand-in sending pathway whose only move is to hand the citizen over to ``receiver``."""
    label = Label("afsender", "sender")
    return Pathway(
        id=f"{receiver.id}__sender", version=1, title=label, description=label, initial="start",
        sectors={"sender": Sector(label)}, roles={"sender_staff": Role("sender", label)},
        states=(
            State("start", StateKind.ACTIVE, label, responsible=("sender_staff",)),
            State("waiting", StateKind.WAITING, label, responsible=("sender_staff",)),
            State("done", StateKind.TERMINAL, label, outcome=Outcome.COMPLETED),
        ),
        transitions=(
            Transition(
                "refer", ("start",), "waiting", roles=("sender_staff",),
                handover=Handover(receiver.id, "done", "done"),
            ),
        ),
    )


def _actor_for(pathway: Pathway, roles: tuple[str, ...], n: int = 1) -> tuple[str | None, str | None, str | None]:
    for r in roles:
        if r in pathway.roles:
            return f"{r}-{n}", r, pathway.roles[r].sector
    return None, None, None


def _approver(pathway: Pathway, t: Transition, key: int, n: int) -> tuple[str | None, str | None, str | None]:
    """A person who covers key number ``key`` of the approval of ``t``."""
    assert t.approval is not None
    rule = rule_of(t.approval)
    return _actor_for(pathway, rule.roles_for(pathway, rule.keys[key]), n)


def _eligible_any(pathway: Pathway, t: Transition, n: int) -> tuple[str | None, str | None, str | None]:
    """A person who may answer the request for ``t`` (approve or refuse)."""
    assert t.approval is not None
    rule = rule_of(t.approval)
    for key in rule.keys:
        found = _actor_for(pathway, rule.roles_for(pathway, key), n)
        if found[0] is not None:
            return found
    return None, None, None


def build(space: Space, cfg: Config, ending: str, ends_in: str | None = None) -> Counterexample:
    """The counterexample for the shortest explored path to ``cfg``."""
    p = space.pathway
    ids = space.state_ids
    steps: list[Step] = []
    approvals = 0
    start, path = space.path(cfg)
    for before, code, after in path:
        steps.append(_as_citizen(p, _step(space, code, before, after, approvals)))
        approvals = approvals + 1 if code[0] == APPROVE else 0 if code[0] == REQUEST else approvals
    first = ids[start[0]]
    given = tuple(
        (f, bool(start[1] >> i & 1)) for i, f in enumerate(space.facts)
        if not space.settable[i] and bool(start[1] >> i & 1) != p.facts[f].default
    )
    return Counterexample(
        p.id, first, p.title.en, tuple(steps), ends_in or ids[cfg[0]], ending, handed_over=first != p.initial, source=p, facts=given,
    )


def _as_citizen(pathway: Pathway, step: Step) -> Step:
    """``step``, marked when its actor acts in the citizen's own role."""
    return attrs.evolve(step, citizen=True) if step.role is not None and pathway.is_citizen(step.role) else step


def _step(space: Space, code: Code, before: Config, after: Config, approvals: int) -> Step:
    p = space.pathway
    kind, i, extra = code
    state, dest = space.state_ids[before[0]], space.state_ids[after[0]]
    name = _KIND_NAMES[kind]
    if kind in (FIRE, LEAVE, REQUEST):
        t = p.transitions[i]
        return Step(name, state, dest, t.trigger, *_actor_for(p, t.roles))
    if kind in (APPROVE, REFUSE):
        t = p.transitions[i]
        who = _approver(p, t, extra, approvals + 2) if kind == APPROVE else _eligible_any(p, t, approvals + 2)
        return Step(name, state, dest, t.trigger, *who)
    if kind in (TIMEOUT, DEADLINE):
        t = p.transitions[i]
        if kind == TIMEOUT:
            assert t.approval is not None and t.approval.timeout is not None
            after_text = format_duration(t.approval.timeout)
        else:
            deadline = p.state(state).deadline
            assert deadline is not None
            after_text = format_duration(deadline.after)
        return Step(name, state, dest, t.trigger, after=after_text)
    if kind == FACT:
        person, role, sector = _actor_for(p, p.setters(space.facts[i]))
        return Step(name, state, dest, None, person, role, sector, fact=space.facts[i], value=bool(extra))
    if kind in (FULL, FREE):
        return Step(name, state, dest, resource=space.resources[i], capacity=space.capacity[i])
    t = p.transitions[i]
    assert t.handover is not None
    return Step(name, state, dest, t.trigger, to=t.handover.to)


def with_lead_in(cx: Counterexample, receiver: Pathway, senders: Iterable[Space]) -> Counterexample:
    """``cx`` (which begins with a hand-over into ``receiver``) with the shortest run of a
    sending pathway up to that hand-over, when one exists and replays faithfully.

    The hand-over carries the facts both pathways know; where they differ from the
    receiver's defaults (which the receiver's exploration starts from), the run sets them
    back first, as explicit steps. A sender that still holds places the receiver uses, or
    that the receiver hands back to, keeps the stand-in sender instead.
    """
    best: tuple[int, Space, Config] | None = None
    for space in senders:
        found = space.first_referral(receiver.id)
        if found is None or space.pathway.id in {t.handover.to for t in receiver.transitions if t.handover}:
            continue
        _, path = space.path(found)
        if found[4] and any(h and r in receiver.resources for h, r in zip(found[4], space.resources, strict=True)):
            continue
        if best is None or len(path) < best[0]:
            best = (len(path), space, found)
    if best is None:
        return cx
    _, space, found = best
    lead = build(space, found, "", ends_in=space.state_ids[found[0]])
    carried = _context_after(space, found)
    resets = []
    for fact, value in carried.items():
        if fact in receiver.facts and receiver.facts[fact].default != value:
            if not receiver.setters(fact):
                return cx  # no role may set it back: the stand-in sender, which carries nothing, tells it
            person, role, sector = _actor_for(receiver, receiver.setters(fact))
            resets.append(_as_citizen(receiver, Step("set_fact", cx.start, cx.start, None, person, role, sector, fact=fact,
                                                     value=receiver.facts[fact].default)))
    return attrs.evolve(cx, steps=(*resets, *cx.steps), lead_in=lead)


def _context_after(space: Space, cfg: Config) -> dict[str, bool]:
    """The case's facts at ``cfg`` on its shortest path: defaults, ``sets`` of moves, fact changes."""
    p = space.pathway
    ctx = {f: fact.default for f, fact in p.facts.items()}
    _, path = space.path(cfg)
    for _before, (kind, i, value), after in path:
        if kind in (FIRE, LEAVE, DEADLINE) or (kind == APPROVE and after[2] == -1):
            ctx.update(p.transitions[i].sets)
        elif kind == FACT:
            ctx[space.facts[i]] = bool(value)
    return ctx
