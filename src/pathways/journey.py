"""Journeys: tests a designer writes in YAML beside the pathway, run on the real engine.

A journey follows one citizen through a pathway (and the pathways it hands over to) step
by step: who does what, a fact changes, time passes, a leader approves or refuses, other
citizens take every place. After each step the designer may say what they expect: the
state, that the action was refused and why, a pending approval, a deadline that fired, an
accepted hand-over, what a role may and may not do, that the citizen is not stuck.
:func:`run_journey` carries the steps out on :class:`~pathways.engine.Engine` with a manual
clock and reports, per step, what was expected and what happened, in Danish or English
(``pathways test journeys/``). The file format is in ``docs/journeys.md`` and
``schemas/journey.schema.json``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, assert_never

import attrs

from ._converter import format_duration, make_converter
from ._documents import Found, Positions, did_you_mean, read_document, read_fields
from ._yaml import dump
from .case import Actor, Case, Event, EventKind
from .clock import ManualClock
from .engine import Engine
from .errors import ActionRefused, JourneyError, Problem
from .graph import co_reachable, pathway_graph
from .i18n import Lang, role_name, state_name, tr, use_language
from .model import Pathway
from .registry import Registry

if TYPE_CHECKING:
    from ._story import Step as StoryStep
    from .stranding import Finding

__all__ = [
    "Expect",
    "Journey",
    "JourneyResult",
    "Runner",
    "Step",
    "StepResult",
    "from_counterexample",
    "load_journey",
    "load_journey_text",
    "run_journey",
    "save_journeys",
]

ACTIONS = ("do", "approve", "refuse", "set", "wait", "fill", "free")
"""The step keys that say what happens; a step has at most one (none: only expectations)."""

_NEEDS_ROLE = ("do", "approve", "refuse", "set")


@attrs.frozen
class Expect:
    """What the designer expects after a step; every field is optional."""

    state: str | None = attrs.field(default=None, metadata={"help": "the case is now in this state (id)"})
    refused: str | None = attrs.field(default=None, metadata={"help": "the step's action is refused with this reason code (role, guard, capacity, state, self_approval, ...)"})
    pending: str | None = attrs.field(default=None, metadata={"help": "an approval of this trigger is pending"})
    fired: str | None = attrs.field(default=None, metadata={"help": "while time passed, this deadline trigger fired (or 'timeout': an approval timed out)"})
    handed_over: str | None = attrs.field(default=None, metadata={"help": "a hand-over to this pathway was accepted"})
    may: tuple[str, ...] = attrs.field(default=(), metadata={"help": "the step's role may fire these triggers now"})
    may_not: Mapping[str, str] = attrs.field(factory=dict, metadata={"help": "trigger: reason code; the step's role may not fire it, for that reason"})
    stuck: bool | None = attrs.field(default=None, metadata={"help": "false: the citizen is not stranded (the case has ended, or staff or time can still lead it to an end, and someone may act or a deadline runs)"})
    deadline: bool | None = attrs.field(default=None, metadata={"help": "true: a deadline or an approval timeout is running for the case"})
    may_leave: bool | None = attrs.field(default=None, metadata={"help": "true: the citizen may leave by their own choice now"})


@attrs.frozen
class Step:
    """One thing that happens: exactly one of do, approve, refuse, set, wait, fill, free (or only expect)."""

    by: str | None = attrs.field(default=None, metadata={"help": "the role that acts (its sector follows from the pathway)"})
    person: str | None = attrs.field(default=None, metadata={"help": "who acts, e.g. nurse-2 (default: the role id and -1)"})
    case: str | None = attrs.field(default=None, metadata={"help": "the pathway whose case this step is about (default: the journey's pathway)"})
    do: str | None = attrs.field(default=None, metadata={"help": "fire this trigger (with an approval rule: ask for approval)"})
    approve: str | None = attrs.field(default=None, metadata={"help": "approve the pending request for this trigger"})
    refuse: str | None = attrs.field(default=None, metadata={"help": "refuse the pending request for this trigger"})
    reason: str | None = attrs.field(default=None, metadata={"help": "the words of a refusal, or what the citizen said when staff record a fact for them"})
    set: Mapping[str, bool] | None = attrs.field(default=None, metadata={"help": "facts that change, e.g. {consent_given: false}"})
    wait: timedelta | None = attrs.field(default=None, metadata={"help": "time passes (ISO-8601, e.g. PT8H); due deadlines fire"})
    fill: str | None = attrs.field(default=None, metadata={"help": "other citizens take every place of this resource"})
    free: str | None = attrs.field(default=None, metadata={"help": "the places other citizens took of this resource are free again"})
    note: str | None = attrs.field(default=None, metadata={"help": "what the step means, in the designer's words"})
    expect: Expect = attrs.field(default=Expect(), metadata={"help": "what should be true after the step"})

    @property
    def action(self) -> str | None:
        """The step's action key, or ``None`` for a step with only expectations."""
        given = [a for a in ACTIONS if getattr(self, a) is not None]
        return given[0] if given else None


@attrs.frozen
class Journey:
    """A designer's test: one citizen's way through a pathway, step by step."""

    pathway: str = attrs.field(metadata={"help": "the pathway the citizen starts in"})
    steps: tuple[Step, ...] = attrs.field(metadata={"help": "what happens, in order"})
    name: str = attrs.field(default="", metadata={"help": "what this journey shows, in a line"})
    description: str = ""
    definitions: str = attrs.field(default="..", metadata={"help": "folder of definitions, relative to this file (default: the folder above)"})
    citizen: str = attrs.field(default="citizen-1", metadata={"help": "a pseudonym, never a CPR number"})
    facts: Mapping[str, bool] = attrs.field(factory=dict, metadata={"help": "the citizen's facts at the start"})
    start: datetime | None = attrs.field(default=None, metadata={"help": "when the journey starts (default 2026-01-05T16:00:00+00:00)"})
    source: str = attrs.field(default="<string>", eq=False, metadata={"schema": False})

    def definitions_path(self) -> Path:
        folder = Path(self.source).parent if self.source != "<string>" else Path(".")
        return folder / self.definitions


# -- loading ---------------------------------------------------------------------------

_converter = make_converter()

_POSITIONS = Positions()
"""The parsed document of each living journey."""


def load_journey(path: str | Path) -> Journey:
    """Load a journey file.

    Raises:
        JourneyError: with every problem in the file.
    """
    path = Path(path)
    return load_journey_text(read_document(path, JourneyError), str(path))


def load_journey_text(text: str, file: str = "<string>") -> Journey:
    """Load a journey from YAML text; ``file`` names it and anchors ``definitions``."""
    return read_fields(
        text, file, Journey, _converter, JourneyError, not_mapping="a journey must be a mapping of fields",
        start="start with 'pathway: my_pathway'", shape=_shape, positions=_POSITIONS,
    )


def _shape(j: Journey) -> Iterator[Found]:
    if not j.steps:
        yield (("steps",), "a journey needs at least one step", "add a step such as '- {by: nurse, do: admit}'")
    for i, s in enumerate(j.steps):
        given = [a for a in ACTIONS if getattr(s, a) is not None]
        if len(given) > 1:
            yield (("steps", i), f"a step does one thing, this one {', '.join(given)}", "split it into one step per action")
        if s.action in _NEEDS_ROLE and s.by is None:
            yield (("steps", i), f"'{s.action}' needs 'by:', the role that acts", "add e.g. 'by: nurse'")
        if s.expect.refused is not None and s.action not in _NEEDS_ROLE:
            yield (("steps", i, "expect", "refused"), "only an action by a role can be refused", "put 'refused:' on a do, approve, refuse or set step")


def _against(j: Journey, registry: Registry) -> Iterator[Found]:
    """Names in the journey that the definitions do not have."""
    if j.pathway not in registry:
        yield (("pathway",), f"unknown pathway {j.pathway!r}", did_you_mean(j.pathway, registry, "pathway"))
        return
    for i, s in enumerate(j.steps):
        pid = s.case or j.pathway
        if pid not in registry:
            yield (("steps", i, "case"), f"unknown pathway {pid!r}", did_you_mean(pid, registry, "pathway"))
            continue
        p = registry[pid]
        if s.by is not None and s.by not in p.roles:
            yield (("steps", i, "by"), f"pathway {pid!r} has no role {s.by!r}", did_you_mean(s.by, p.roles, "role"))
        for key in ("do", "approve", "refuse"):
            trigger = getattr(s, key)
            if trigger is not None and trigger not in p.triggers:
                yield (("steps", i, key), f"pathway {pid!r} has no trigger {trigger!r}", did_you_mean(trigger, p.triggers, "trigger"))
        for fact in s.set or {}:
            if fact not in p.facts:
                yield (("steps", i, "set", fact), f"pathway {pid!r} has no fact {fact!r}", did_you_mean(fact, p.facts, "fact"))
        if s.expect.state is not None and s.expect.state not in p.state_by_id:
            yield (("steps", i, "expect", "state"), f"pathway {pid!r} has no state {s.expect.state!r}", did_you_mean(s.expect.state, p.state_by_id, "state"))
    for fact in j.facts:
        if fact not in registry[j.pathway].facts:
            yield (("facts", fact), f"pathway {j.pathway!r} has no fact {fact!r}", did_you_mean(fact, registry[j.pathway].facts, "fact"))


def journey_problems(journey: Journey, registry: Registry) -> list[Problem]:
    """Problems between a journey and the definitions it runs on (unknown names)."""
    return _POSITIONS.problems(journey, journey.source, _against(journey, registry))


# -- running ---------------------------------------------------------------------------


@attrs.frozen
class StepResult:
    """One step as it went: what it did, what was expected, what happened."""

    index: int
    did: str
    expected: tuple[str, ...]
    happened: tuple[str, ...]
    failures: tuple[str, ...]
    note: str | None = None
    refused: str | None = None
    """The refusal code when the step's action was refused (expected or not)."""
    state: str | None = None
    """The state of the step's case afterwards."""

    @property
    def ok(self) -> bool:
        return not self.failures


@attrs.frozen
class JourneyResult:
    """A journey's run: each step's result, and the steps not run after a failure."""

    journey: Journey
    steps: tuple[StepResult, ...]
    not_run: int = 0
    problems: tuple[Problem, ...] = ()
    lang: Lang | None = None
    """The language the steps were told in (:meth:`to_text` speaks it too); ``None``: the current one."""

    @property
    def ok(self) -> bool:
        return not self.problems and all(s.ok for s in self.steps)

    def to_text(self) -> str:
        """Per step: a mark, what happened, and for a failure what was expected instead."""
        with use_language(self.lang):
            return self._text()

    def _text(self) -> str:
        title = self.journey.name or Path(self.journey.source).stem
        verdict = tr("passed") if self.ok else tr("FAILED")
        lines = [f"{verdict}: {title} ({self.journey.source})"]
        lines += [f"  {p}" for p in self.problems]
        for s in self.steps:
            mark = "✓" if s.ok else "✗"
            lines.append(f"  {mark} {s.index}. {s.did}")
            if s.note:
                lines.append(f"       {s.note}")
            if s.expected:
                lines.append("       " + tr("expected: {what}", what="; ".join(s.expected)))
            lines.append("       " + tr("happened: {what}", what="; ".join(s.happened)))
        if self.not_run:
            lines.append("  " + tr("{count} more steps not run after the failure", count=self.not_run))
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "journey": self.journey.name, "file": self.journey.source, "ok": self.ok, "not_run": self.not_run,
            "problems": [str(p) for p in self.problems],
            "steps": [attrs.asdict(s) | {"ok": s.ok} for s in self.steps],
        }


def run_journey(journey: Journey, registry: Registry | None = None, *, lang: Lang | None = None) -> JourneyResult:
    """Run the journey's steps on a fresh engine; stops at the first step that fails.

    What each step did, expected and saw (the engine's refusal reasons too) is told in
    ``lang`` (default: the current language, :func:`~pathways.i18n.use_language`).
    """
    with use_language(lang) as chosen:
        return attrs.evolve(_run_journey(journey, registry), lang=chosen)


def _run_journey(journey: Journey, registry: Registry | None) -> JourneyResult:
    if registry is None:
        from .loader import load_registry

        registry = load_registry(journey.definitions_path())
    problems = journey_problems(journey, registry)
    if problems:
        return JourneyResult(journey, (), len(journey.steps), tuple(problems))
    run = Runner(journey, registry)
    results: list[StepResult] = []
    for i, step in enumerate(journey.steps, start=1):
        result = run.step(i, step)
        results.append(result)
        if not result.ok:
            return JourneyResult(journey, tuple(results), len(journey.steps) - i)
    return JourneyResult(journey, tuple(results))


def reason_words(code: str) -> str:
    """A refusal code in the designer's words (the code stays beside it for searching)."""
    match code:
        case "role":
            return tr("this role may not do it")
        case "sector":
            return tr("the person does not work in the role's sector")
        case "guard":
            return tr("a condition does not hold")
        case "capacity":
            return tr("every place is taken")
        case "state":
            return tr("not possible in this state")
        case "closed":
            return tr("the case has ended")
        case "pending":
            return tr("it already awaits approval")
        case "self_approval":
            return tr("nobody approves their own request")
        case "duplicate_approval":
            return tr("this person has already approved")
        case "not_an_approver":
            return tr("this role cannot give this approval")
        case "no_pending_approval":
            return tr("nothing awaits approval")
        case "unknown_trigger":
            return tr("the pathway has no such action")
        case "release":
            return tr("it releases a place the case does not hold")
        case "fact_permission":
            return tr("this role may not set this fact")
        case "reason_required":
            return tr("staff recording the citizen's word give a reason")
        case "not_own_case":
            return tr("a citizen acts only on their own case")
        case _:
            return code


def _refused_text(code: str, detail: str) -> str:
    """``refused (guard: a condition does not hold) — guard 'consent' does not hold``: an unexpected refusal
    with its code, its words and the engine's reasons (an expected one reads as it was expected)."""
    return tr("refused ({code}: {words}) — {detail}", code=code, words=reason_words(code), detail=detail)


def _refusal_detail(exc: ActionRefused) -> str:
    """The engine's reasons for a refusal, in the language the engine spoke (who and where the step already says)."""
    return "; ".join(dict.fromkeys(r.message for r in exc.reasons))


def _refusal_code(exc: ActionRefused) -> str:
    """The refusal's machine code as a string (a :class:`~pathways.refusals.RefusalCode` value)."""
    return exc.code.value


class Runner:
    """The engine, the clock and the cases of one journey run, stepped one step at a time.

    :func:`run_journey` drives it through a file's steps; the playground drives it by clicks.
    """

    def __init__(self, journey: Journey, registry: Registry) -> None:
        self.journey = journey
        self.registry = registry
        start = journey.start or datetime(2026, 1, 5, 16, 0, tzinfo=UTC)
        self.clock = ManualClock(start)
        ids = (f"case-{n}" for n in itertools.count(1))
        self.engine = Engine(registry, clock=self.clock, new_id=lambda: next(ids))
        self.first = self.engine.start(journey.pathway, journey.citizen, facts=journey.facts, case_id="case-0")
        self.others: dict[str, int] = {}

    def case_for(self, step: Step) -> Case:
        """The newest case of the step's pathway (a hand-over starts one)."""
        pid = step.case or self.journey.pathway
        cases = [c for c in self.engine.cases.values() if c.pathway_id == pid]
        if not cases:
            raise LookupError(tr("no case in {pathway} yet: a hand-over to it must come first", pathway=pid))
        return cases[-1]

    def actor(self, step: Step, pathway: Pathway) -> Actor:
        assert step.by is not None
        default = self.journey.citizen if pathway.is_citizen(step.by) else f"{step.by}-1"  # the citizen acts on their own case
        return Actor(step.person or default, step.by, pathway.roles[step.by].sector)

    def step(self, index: int, step: Step) -> StepResult:
        try:
            case = self.case_for(step)
        except LookupError as exc:
            return StepResult(index, self._describe(step, None), (), (str(exc),), (str(exc),), step.note)
        pathway = self.engine.pathway_of(case)
        did = self._describe(step, pathway)
        events: list[Event] = []
        refused: tuple[str, str] | None = None
        try:
            events = self._act(step, case, pathway)
        except ActionRefused as exc:
            refused = (_refusal_code(exc), _refusal_detail(exc))
        expected, happened, failures = [], [], []
        for want, saw, ok in self._compare(step, case, pathway, events, refused):
            if want is not None:
                expected.append(want)
            happened.append(saw)
            if not ok:
                failures.append(saw)
        if not happened:
            happened.append(tr("in {state}", state=state_name(pathway, case.state)))
        return StepResult(
            index, did, tuple(expected), tuple(dict.fromkeys(happened)), tuple(failures), step.note,
            refused[0] if refused else None, case.state,
        )

    def _act(self, step: Step, case: Case, pathway: Pathway) -> list[Event]:
        e = self.engine
        match step.action:
            case "do":
                assert step.do is not None
                return e.fire(case, step.do, self.actor(step, pathway))
            case "approve":
                self._pending_is(case, step.approve)
                return e.approve(case, self.actor(step, pathway))
            case "refuse":
                self._pending_is(case, step.refuse)
                return e.refuse(case, self.actor(step, pathway), reason=step.reason or tr("refused in the journey"))
            case "set":
                assert step.set is not None
                out: list[Event] = []
                for fact, value in step.set.items():
                    out += e.set_fact(case, fact, value, self.actor(step, pathway), reason=step.reason)
                return out
            case "wait":
                assert step.wait is not None
                self.clock.advance(step.wait)
                return e.fire_due()
            case "fill" | "free":
                res = step.fill or step.free
                assert res is not None
                cap = e.capacity(res)
                delta = cap - e.in_use(res) if step.fill else -self.others.get(res, 0)
                e.ledger.adjust(res, delta, cap)
                self.others[res] = self.others.get(res, 0) + delta
                return []
            case None:
                return []
            case other:  # pragma: no cover - ACTIONS lists every key
                raise AssertionError(other)

    @staticmethod
    def _pending_is(case: Case, trigger: str | None) -> None:
        from .errors import NoPendingApproval

        if case.pending is not None and trigger is not None and case.pending.trigger != trigger:
            raise NoPendingApproval(tr("the pending request is for '{pending}', not '{trigger}'", pending=case.pending.trigger, trigger=trigger))

    def _describe(self, step: Step, pathway: Pathway | None) -> str:
        who = role_name(pathway, step.by) if pathway is not None and step.by else (step.by or "")
        if step.person:
            who += f" ({step.person})"
        match step.action:
            case "do":
                return tr("{who} does '{trigger}'", who=who, trigger=step.do)
            case "approve":
                return tr("{who} approves '{trigger}'", who=who, trigger=step.approve)
            case "refuse":
                return tr("{who} refuses '{trigger}'", who=who, trigger=step.refuse)
            case "set":
                yes, no = tr("yes"), tr("no")
                facts = ", ".join(f"{k} = {yes if v else no}" for k, v in (step.set or {}).items())
                return tr("{who} records {facts}", who=who, facts=facts)
            case "wait":
                assert step.wait is not None
                return tr("{duration} pass", duration=format_duration(step.wait))
            case "fill":
                return tr("other citizens take every place of '{resource}'", resource=step.fill)
            case "free":
                return tr("the places of '{resource}' taken by others are free again", resource=step.free)
            case _:
                return tr("look at the case")

    def _compare(
        self, step: Step, case: Case, pathway: Pathway, events: list[Event], refused: tuple[str, str] | None,
    ) -> Iterable[tuple[str | None, str, bool]]:
        """(expected, happened, ok) for every expectation of the step, and an unexpected refusal."""
        x = step.expect
        if x.refused is not None:
            want = tr("refused ({code}: {words})", code=x.refused, words=reason_words(x.refused))
            if refused is None:
                yield want, tr("carried out"), False
            else:
                yield want, want if refused[0] == x.refused else _refused_text(*refused), refused[0] == x.refused
        elif refused is not None:
            yield None, _refused_text(*refused), False
        if x.state is not None:
            yield (tr("in {state}", state=state_name(pathway, x.state)),
                   tr("in {state}", state=state_name(pathway, case.state)), case.state == x.state)
        if x.pending is not None:
            now = case.pending.trigger if case.pending is not None else None
            yield (tr("approval of '{trigger}' pending", trigger=x.pending),
                   tr("approval of '{trigger}' pending", trigger=now) if now else tr("no approval pending"), now == x.pending)
        if x.fired is not None:
            fired = [e.trigger or "" for e in events if e.kind is EventKind.ESCALATED]
            fired += ["timeout" for e in events if e.kind is EventKind.REFUSED and e.actor is None]
            yield (tr("deadline fired: {trigger}", trigger=x.fired),
                   tr("deadline fired: {trigger}", trigger=", ".join(fired)) if fired else tr("no deadline fired"), x.fired in fired)
        if x.handed_over is not None:
            accepted = [self.engine.case(e.link.case_id).pathway_id for e in self._all_events() if e.kind is EventKind.HANDOVER_ACCEPTED and e.link]
            yield (tr("hand-over to {pathway} accepted", pathway=x.handed_over),
                   tr("hand-overs accepted: {pathways}", pathways=", ".join(accepted) or "-"), x.handed_over in accepted)
        if x.may or x.may_not:
            yield from self._options(step, case, pathway)
        if x.stuck is not None:
            stuck = self._stuck(case, pathway)
            yield (tr("stuck") if x.stuck else tr("not stuck"), tr("stuck") if stuck else tr("not stuck"), stuck == x.stuck)
        if x.deadline is not None:
            due = case.due_at(pathway)
            yield (tr("a deadline runs") if x.deadline else tr("no deadline runs"),
                   tr("a deadline runs") if due is not None else tr("no deadline runs"), (due is not None) == x.deadline)
        if x.may_leave is not None:
            free = self._may_leave(case, pathway)
            yield (tr("the citizen may leave") if x.may_leave else tr("the citizen may not leave"),
                   tr("the citizen may leave") if free else tr("the citizen may not leave"), free == x.may_leave)

    def _options(self, step: Step, case: Case, pathway: Pathway) -> Iterator[tuple[str | None, str, bool]]:
        if step.by is None:
            yield None, tr("'may' and 'may_not' need 'by:', the role to ask about"), False
            return
        options = {o.trigger: o for o in self.engine.options(case, self.actor(step, pathway)) if o.kind == "fire"}
        for trigger in step.expect.may:
            o = options.get(trigger)
            codes = [r.code for r in o.reasons] if o is not None else ["state"]
            yield (tr("may '{trigger}'", trigger=trigger),
                   tr("may '{trigger}'", trigger=trigger) if not codes else tr("may not '{trigger}' ({codes})", trigger=trigger, codes=", ".join(codes)),
                   not codes)
        for trigger, code in step.expect.may_not.items():
            o = options.get(trigger)
            codes = [r.code for r in o.reasons] if o is not None else ["state"]
            yield (tr("may not '{trigger}' ({codes})", trigger=trigger, codes=code),
                   tr("may '{trigger}'", trigger=trigger) if not codes else tr("may not '{trigger}' ({codes})", trigger=trigger, codes=", ".join(codes)),
                   code in codes)

    def _stuck(self, case: Case, pathway: Pathway) -> bool:
        """Not ended, and either no end is reachable without the citizen giving up, or
        nothing is due by itself and no role of the pathway may do anything now."""
        if pathway.state(case.state).terminal:
            return False
        ends = [s.id for s in pathway.states if s.terminal and s.id not in pathway.exits_by_choice]
        if case.state not in co_reachable(pathway_graph(pathway, progress=True), ends):
            return True
        if case.due_at(pathway) is not None or case.referral is not None:
            return False
        for role_id, role in pathway.roles.items():
            actor = Actor(case.citizen if pathway.is_citizen(role_id) else f"{role_id}-9", role_id, role.sector)
            if any(o.allowed and o.dest not in pathway.exits_by_choice for o in self.engine.options(case, actor)):
                return False
        return True

    def _may_leave(self, case: Case, pathway: Pathway) -> bool:
        """The citizen (their own role) may now fire a transition that leaves by choice."""
        role_id = pathway.citizen_role
        if role_id is None:
            return False
        actor = Actor(case.citizen, role_id, pathway.roles[role_id].sector)
        return any(o.allowed and o.kind == "fire" and o.dest in pathway.exits_by_choice for o in self.engine.options(case, actor))

    def _all_events(self) -> Iterator[Event]:
        for c in self.engine.cases.values():
            yield from c.history


def journeys_in(paths: Iterable[str | Path]) -> list[Path]:
    """The journey files among ``paths`` (files, or folders searched for ``*.yaml``)."""
    out: list[Path] = []
    for item in paths:
        p = Path(item)
        out += sorted([*p.rglob("*.yaml"), *p.rglob("*.yml")]) if p.is_dir() else [p]
    return out



# -- counterexamples as journeys --------------------------------------------------------


def from_counterexample(finding: Finding, registry: Registry, definitions: str = "..") -> dict[str, Any] | None:
    """A checker finding's counterexample as a journey document that ends in ``stuck: false``.

    The journey fails while the pathway strands the citizen there and passes once the
    designer has fixed it, so a fixed stranding stays fixed. ``None`` when the finding has
    no counterexample, its run begins with a hand-over from a pathway the checker did
    not name (a journey starts at a pathway's start), or it is a week-aware finding.
    """
    cx = finding.counterexample
    expect = _fixed(finding, registry[cx.pathway]) if cx is not None else None
    if cx is None or expect is None or (cx.handed_over and cx.lead_in is None):
        return None
    steps: list[dict[str, Any]] = []
    if cx.lead_in is not None:
        steps += [_journey_step(s, None, registry) for s in cx.lead_in.steps]
        steps += [_journey_step(s, cx.pathway, registry) for s in cx.steps]
        start = cx.lead_in.pathway
    else:
        steps += [_journey_step(s, None, registry) for s in cx.steps]
        start = cx.pathway
    steps.append({"case": cx.pathway} if cx.lead_in is not None else {})
    steps[-1]["expect"] = expect
    steps[-1]["note"] = f"{finding.message} ({finding.kind.value})"
    steps = [{k: v for k, v in s.items() if v is not None} for s in steps]
    return {
        "name": tr("{pathway}: {kind} must not strand the citizen", pathway=finding.pathway, kind=finding.kind.value),
        "description": cx.story(),
        "pathway": start,
        "definitions": definitions,
        "steps": steps,
    }


def _fixed(finding: Finding, pathway: Pathway) -> dict[str, Any] | None:
    """What is true at the end of the run once the finding is fixed (``None``: a journey cannot say).

    A journey's engine knows roles, not who is on duty, so the week-aware findings
    (``unstaffed``, ...) have no journey: their counterexamples replay with
    :meth:`~pathways.Counterexample.replay` instead.
    """
    from .findings import FindingKind

    match finding.kind:
        case FindingKind.WAIT_WITHOUT_DEADLINE:
            return {"deadline": True}
        case FindingKind.NO_EXIT_BY_CHOICE:
            return {"may_leave": True}
        case (
            FindingKind.DEAD_END | FindingKind.TRAP | FindingKind.NO_OWNER | FindingKind.UNSATISFIABLE_APPROVAL
            | FindingKind.GUARD_GAP | FindingKind.CAPACITY_STARVATION | FindingKind.HANDOVER_GAP
            | FindingKind.UNREACHABLE_STATE | FindingKind.DEAD_TRANSITION | FindingKind.BOUND_REACHED
        ):
            return {"stuck": False}
        case (
            FindingKind.UNSTAFFED | FindingKind.APPROVAL_OUT_OF_HOURS | FindingKind.HANDOVER_UNANSWERED
            | FindingKind.NO_SAFETY_NET
        ):
            return None
        case _ as unreachable:
            assert_never(unreachable)


def _journey_step(s: StoryStep, case: str | None, registry: Registry) -> dict[str, Any]:
    out: dict[str, Any] = {"case": case}
    match s.kind:
        case "fire" | "leave" | "request":
            out |= {"by": s.role, "person": s.person, "do": s.trigger}
        case "approve":
            out |= {"by": s.role, "person": s.person, "approve": s.trigger}
        case "refuse":
            out |= {"by": s.role, "person": s.person, "refuse": s.trigger}
        case "timeout" | "deadline":
            out |= {"wait": s.after}
        case "set_fact":
            out |= {"by": s.role, "person": s.person, "set": {s.fact: s.value}}
        case "others_full":
            out |= {"fill": s.resource}
        case "others_free":
            out |= {"free": s.resource}
        case _:  # handover_accepted / handover_declined: the receiving pathway answers
            receiver = registry.get(s.to) if s.to is not None else None
            intake = receiver.intake if receiver is not None else None
            if receiver is None or intake is None:
                return out | {"note": tr("{pathway} answers the hand-over", pathway=s.to)}
            trigger = intake.accept if s.kind == "handover_accepted" else intake.decline
            t = receiver.find(intake.state, trigger)
            role = next((r for r in (t.roles if t else ()) if r in receiver.roles), None)
            out = {"case": s.to, "by": role, "do": trigger}
    return out


def save_journeys(findings: Iterable[Finding], registry: Registry, folder: str | Path, definitions: str | Path) -> list[Path]:
    """Write each finding's counterexample as a journey file into ``folder``; returns the files."""
    import os

    from .schema import schema_path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    schemas = next((p / "schemas" for p in [folder.resolve(), *folder.resolve().parents] if (p / "schemas" / "journey.schema.json").exists()), None)
    schema = Path(os.path.relpath(schemas / "journey.schema.json", folder.resolve())) if schemas else schema_path("journey")
    rel_definitions = os.path.relpath(Path(definitions).resolve(), folder.resolve())
    for n, finding in enumerate(findings, start=1):
        doc = from_counterexample(finding, registry, rel_definitions)
        if doc is None:
            continue
        path = folder / f"{n:02d}-{finding.pathway}-{finding.kind.value}.yaml"
        body = dump(doc, width=110)
        path.write_text(f"# yaml-language-server: $schema={schema.as_posix()}\n{body}", encoding="utf-8")
        written.append(path)
    return written
