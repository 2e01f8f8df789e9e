"""The stranding checker: can a pathway leave a citizen where nobody moves them on?

``check(pathway_or_registry)`` answers with a :class:`CheckResult` of :class:`Finding` s, one
per problem, each with the states and transitions involved, a message in plain words,
a fix, and a :class:`~pathways._story.Counterexample`: the shortest run from the start
into the problem, told as a story and replayable on the real engine.

Structural findings (dead ends, traps, unreachable states, owners, deadlines,
approvals, exits, hand-overs) come from the pathway graph (:mod:`pathways.graph`); the
context-dependent ones (guard gaps, capacity starvation, transitions that never fire)
from exploring the state space (:mod:`pathways._explore`) up to an explicit bound. When
the bound is reached the report says so with a ``bound_reached`` error: an incomplete
check never passes silently.

Leaving by the citizen's own choice does not count as moving the citizen on: a state
that only ends when the citizen gives up strands them. That exit is checked on its own
(``no_exit_by_choice``).

For the pathways of a house, :func:`check` then runs the week-aware proof
(:mod:`pathways.week`) on what the exploration reached: is someone holding a responsible
role on duty at every moment of the week? The findings of both proofs are one kind of
:class:`~pathways.findings.Finding`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import assert_never

import attrs

from . import _explore
from ._explore import Space
from ._story import Counterexample, Step, build, with_lead_in
from ._validate import validate
from .approvals import rule_of
from .case import Case
from .errors import DefinitionError, NoCounterexample
from .findings import CheckResult, Finding, FindingKind, Severity
from .graph import co_reachable, pathway_graph, reachable, traps
from .i18n import label, role_name, state_name, tr
from .loader import load_registry
from .model import Outcome, Pathway, Resource, StateKind, Subject, Transition
from .registry import Registry
from .week import check_week

__all__ = [
    "DEFAULT_BOUND",
    "CheckResult",
    "Counterexample",
    "Finding",
    "FindingKind",
    "Severity",
    "Step",
    "check",
    "replay_counterexample",
]

DEFAULT_BOUND = 1_000_000
"""Configurations explored per pathway before the check gives up (and says so)."""


def check(
    target: Pathway | Registry | str | Path, *, bound: int = DEFAULT_BOUND, week: bool = True,
) -> CheckResult:
    """Check one pathway, or every pathway of a registry and the hand-overs between them.

    The target is validated first, with the loader's own checks (:func:`~pathways.validate`):
    the checker explores only pathways that make sense, so a pathway built in Python
    with an unknown role or an impossible rule is refused, not half-checked.

    The time-free proof asks whether a *role* can move the citizen on. For the pathways
    of a house loaded in the registry (its calendar and staffing), the week-aware proof
    (:mod:`pathways.week`) then asks whether a *person* holding it is on duty at every
    moment of the week: ``unstaffed``, ``approval_out_of_hours``, ``handover_unanswered``
    and ``no_safety_net``. A pathway without a house that a house's service lists is
    checked under each such house. A lone pathway, or other pathways without a house, are
    checked time-free only.

    Args:
        target: a pathway, a registry, or a definition file or folder to load.
        bound: the most configurations explored per pathway; reaching it gives a
            ``bound_reached`` error instead of a silent pass.
        week: run the week-aware proof for the houses of a registry (``False``: roles
            only, as for pathways without a house; ``pathways check --no-week``).

    Raises:
        DefinitionError: ``target`` does not pass :func:`~pathways.validate` (every
            problem listed), or is a path whose definitions do not load.
    """
    if isinstance(target, str | Path):
        target = load_registry(target)  # validates as it loads
    else:
        problems = validate(target)
        if problems:
            raise DefinitionError(problems)
    if isinstance(target, Pathway):
        pathways: list[Pathway] = [target]
        resources: Mapping[str, Resource] = target.resources
        registry: Registry | None = None
    else:
        registry = target
        pathways = list(target.values())
        resources = target.resources()
    findings: list[Finding] = []
    spaces: dict[str, Space] = {}
    complete = True
    for p in pathways:
        space = spaces[p.id] = Space(p, resources, bound).explore()
        complete = complete and space.complete
        findings += _Checker(p, space).findings()
    houses: tuple[str, ...] = ()
    if registry is not None:
        findings = [_lead_in(f, registry, spaces) for f in findings]
        if week and registry.houses:
            findings += check_week(registry, spaces)
            houses = tuple(registry.houses)
    explored_sizes = {pid: len(s.parent) for pid, s in spaces.items()}
    return CheckResult(tuple(findings), explored_sizes, complete, bound, houses)


def _lead_in(finding: Finding, registry: Registry, spaces: Mapping[str, Space]) -> Finding:
    """A finding whose run begins with a hand-over, told from the sending pathway's start."""
    cx = finding.counterexample
    if cx is None or not cx.handed_over:
        return finding
    receiver = registry[finding.pathway]
    senders = [
        spaces[p.id] for p in registry.values()
        if p.id != receiver.id and p.id in spaces and any(t.handover and t.handover.to == receiver.id for t in p.transitions)
    ]
    return attrs.evolve(finding, counterexample=with_lead_in(cx, receiver, senders))


def replay_counterexample(source: Pathway | Registry, finding: Finding) -> Case:
    """Replay a finding's counterexample on the real engine; returns the final case.

    Raises:
        NoCounterexample: the finding has no counterexample (e.g. an unreachable state).
    """
    if finding.counterexample is None:
        raise NoCounterexample(tr(
            "the {kind} finding in {pathway} ({states}) has no counterexample to replay: no run leads into it; "
            "replay findings whose 'counterexample' is set",
            kind=finding.kind.value, pathway=repr(finding.pathway), states=", ".join(finding.states) or tr("no state"),
        ))
    return finding.counterexample.replay(source)


class _Checker:
    """The findings for one pathway, from its graph and its explored space."""

    def __init__(self, p: Pathway, space: Space) -> None:
        self.p = p
        self.space = space
        self.full = pathway_graph(p)
        self.prog = pathway_graph(p, progress=True)
        self.reach = reachable(self.full, p.initial)
        if p.intake is not None and p.intake.state in p.state_by_id:
            self.reach |= reachable(self.full, p.intake.state)
        terminals = [s.id for s in p.states if s.terminal]
        self.co = co_reachable(self.prog, terminals)
        self.stuck = {s for s in self.reach if s not in self.co and not p.state(s).terminal}
        self.order = [s.id for s in p.states]

    def findings(self) -> list[Finding]:
        out = [
            *self._dead_ends_and_traps(),
            *self._no_owner(),
            *self._waits(),
            *self._approvals(),
            *self._handovers(),
            *self._exits(),
            *self._explored(),
            *self._unreachable(),
        ]
        seen: set[tuple[FindingKind, tuple[str, ...], tuple[str, ...]]] = set()
        unique = []
        for f in out:
            key = (f.kind, f.states, f.transitions)
            if key not in seen:
                seen.add(key)
                unique.append(f)
        return unique

    # -- helpers ---------------------------------------------------------------------

    def _s(self, state: str) -> str:
        """A state as findings name it: its label in the chosen language, then its id."""
        return state_name(self.p, state)

    def _ss(self, states: Iterable[str], sep: str = ", ") -> str:
        return sep.join(map(self._s, states))

    def _rs(self, roles: Iterable[str]) -> str:
        """Roles (or, in a per-sector rule, sectors) by their labels, then their ids."""
        return ", ".join(role_name(self.p, r) if r in self.p.roles else self._sector(r) for r in roles)

    def _sector(self, sector: str) -> str:
        sec = self.p.sectors.get(sector)
        return f"{label(sec.label)} [{sector}]" if sec is not None else sector

    def _resource(self, resource: str) -> str:
        res = self.p.resources.get(resource)
        return f"{label(res.label)} [{resource}]" if res is not None else resource

    def _reachable_states(self) -> list[str]:
        return [s for s in self.order if s in self.reach]

    def _cx(self, state: str, ending: str) -> Counterexample | None:
        cfg = self.space.first_in(state)
        return build(self.space, cfg, ending) if cfg is not None else None

    def _finding(
        self, kind: FindingKind, states: Iterable[str], transitions: Iterable[str], message: str, fix: str,
        *, ending: str = "", at: str | None = None,
    ) -> Finding:
        states = tuple(states)
        where = at if at is not None else (states[0] if states else None)
        cx = self._cx(where, ending) if where is not None else None
        return Finding(kind, self.p.id, states, tuple(transitions), message, fix, cx)

    # -- structural ------------------------------------------------------------------

    def _dead_ends_and_traps(self) -> Iterator[Finding]:
        for s in self._reachable_states():
            if s in self.stuck and self.prog.out_degree(s) == 0:
                yield self._finding(
                    FindingKind.DEAD_END, [s], [],
                    tr("state {state} is not terminal, but no transition, deadline or hand-over answer leads out of it "
                       "(other than the citizen leaving)", state=self._s(s)),
                    tr("add a transition from {state} towards a terminal state, or make {state} terminal with an outcome",
                       state=self._s(s)),
                    ending=tr("nobody can move the citizen on"),
                )
        for comp in traps(self.prog, self.stuck):
            states = [s for s in self.order if s in comp]
            triggers = sorted({t.trigger for t in self.p.transitions if t.dest in comp and set(self.p.sources_of(t)) & set(comp)})
            yield self._finding(
                FindingKind.TRAP, states, triggers,
                tr("the citizen can go round {loop} for ever: no transition leads from these states to any terminal state",
                   loop=self._ss(states, " → ")),
                tr("add a way out of the loop, e.g. a transition or deadline escalation to a terminal state or a hand-over"),
                ending=tr("the loop has no exit"),
            )

    def _actors_in(self, state: str) -> set[str]:
        roles: set[str] = set()
        for t in self.p.transitions_from.get(state, ()):
            roles.update(t.roles)
            if t.approval is not None:
                roles.update(rule_of(t.approval).eligible_roles(self.p))
        return roles

    def _no_owner(self) -> Iterator[Finding]:
        for s in self._reachable_states():
            state = self.p.state(s)
            if state.terminal:
                continue
            if not state.responsible:
                yield self._finding(
                    FindingKind.NO_OWNER, [s], [],
                    tr("nobody is responsible for the citizen in {state}", state=self._s(s)),
                    tr("name the responsible roles of {state} (responsible: [...])", state=self._s(s)),
                    ending=tr("no role is responsible"),
                )
            elif not set(state.responsible) & self._actors_in(s):
                yield self._finding(
                    FindingKind.NO_OWNER, [s], [],
                    tr("the roles responsible in {state} ({roles}) can fire nothing there",
                       state=self._s(s), roles=self._rs(state.responsible)),
                    tr("let a responsible role fire a transition from {state}, or make a role that can act there responsible",
                       state=self._s(s)),
                    ending=tr("the responsible roles cannot act"),
                )

    def _handover_dests(self) -> set[str]:
        return {t.dest for t in self.p.transitions if t.handover is not None}

    def _waits(self) -> Iterator[Finding]:
        handover_dests = self._handover_dests()
        for s in self._reachable_states():
            state = self.p.state(s)
            if state.kind is not StateKind.WAITING:
                continue
            if state.deadline is None:
                if s not in handover_dests:
                    yield self._finding(
                        FindingKind.WAIT_WITHOUT_DEADLINE, [s], [],
                        tr("the citizen waits in {state} with no deadline: nothing happens if nobody answers", state=self._s(s)),
                        tr("give {state} a deadline whose escalation leads somewhere else (deadline: {{after: P1D, trigger: ...}})",
                           state=self._s(s)),
                        ending=tr("nobody answers and no deadline passes"),
                    )
                continue
            chain, cur = [s], s
            while True:
                cur_state = self.p.state(cur)
                t = self.p.find(cur, cur_state.deadline.trigger) if cur_state.deadline else None
                if t is None:
                    break
                if t.dest == s:
                    yield self._finding(
                        FindingKind.WAIT_WITHOUT_DEADLINE, [*chain], [self.p.state(c).deadline.trigger for c in chain],  # type: ignore[union-attr]
                        tr("when the deadline of {state} passes, the escalation leads back into the same wait{forgotten}, "
                           "so the wait never ends", state=self._s(s),
                           forgotten=tr(" (and the pending hand-over is forgotten)") if s in handover_dests else ""),
                        tr("let the escalation of {state} lead to another state (a leader's decision, an alternative, an exit)",
                           state=self._s(s)),
                        ending=tr("the deadline only restarts the wait"),
                    )
                    break
                if t.dest in chain or self.p.state(t.dest).kind is not StateKind.WAITING:
                    break
                chain.append(t.dest)
                cur = t.dest

    def _fired(self) -> Iterator[tuple[Transition, list[str]]]:
        """Each transition that a run can fire, with the reached states it fires from."""
        for t in self.p.transitions:
            if sources := [s for s in self.p.sources_of(t) if s in self.reach]:
                yield t, sources

    def _approvals(self) -> Iterator[Finding]:
        """Rules nobody can meet in a run (four-eyes), and refusals that lead nowhere.

        What the definition gets wrong on its face (unknown roles, impossible ``n``) is
        :func:`~pathways.validate`'s; :func:`check` refuses such a pathway.
        """
        for t, sources in self._fired():
            a = t.approval
            if a is None:
                continue
            problems = self._four_eyes(t)
            refusal_only = not problems
            if a.on_refusal in self.stuck:
                problems.append(tr("a refusal leads to {state}, from which nobody can move the citizen on", state=self._s(a.on_refusal)))
            else:
                refusal_only = False
            if problems:
                where = [a.on_refusal] if refusal_only and a.on_refusal not in sources else []
                yield self._finding(
                    FindingKind.UNSATISFIABLE_APPROVAL, [*sources, *where], [t.trigger],
                    tr("the approval of `{trigger}` can never work: {problems}", trigger=t.trigger, problems="; ".join(problems)),
                    tr("make the rule possible for roles that exist and may act there, and let a refusal lead to a state with a way on"),
                    ending=tr("the refusal leads nowhere") if refusal_only else tr(
                        "nobody can give the approval of `{trigger}`", trigger=t.trigger),
                    at=a.on_refusal if refusal_only else None,
                )

    def _four_eyes(self, t: Transition) -> list[str]:
        """A rule that needs the citizen's approval of the citizen's own request.

        A case has one citizen, so a citizen role is held by a single person, and the
        requester never approves their own request.
        """
        p, a = self.p, t.approval
        assert a is not None
        if not t.roles or not all(p.is_citizen(r) for r in t.roles):
            return []
        rule = rule_of(a)
        others = [r for r in rule.eligible_roles(p) if not p.is_citizen(r)]
        if rule.can_be_met_by(p, others):
            return []
        only_citizen = [k for k in rule.keys if (holders := rule.roles_for(p, k)) and all(map(p.is_citizen, holders))]
        return [tr("four-eyes: it needs the approval of {roles}, which only the citizen can give, "
                   "and the citizen is the one who asks (nobody approves their own request)", roles=self._rs(only_citizen))]

    def _handovers(self) -> Iterator[Finding]:
        p = self.p
        for t, sources in self._fired():
            h = t.handover
            if h is None:
                continue
            problems = []
            # The citizen may start a hand-over (self-admission under a contract), but the
            # citizen is nobody's keeper: then the pathway's staff stay responsible.
            staff = [r for r in t.roles if not p.is_citizen(r)]
            senders = {p.roles[r].sector for r in staff}
            dest = p.state(t.dest)
            keepers = [r for r in dest.responsible if not p.is_citizen(r)]
            if senders and not any(p.roles[r].sector in senders for r in keepers):
                problems.append(tr(
                    "while waiting in {state} no role of the sending sector ({sectors}) is responsible",
                    state=self._s(t.dest), sectors=", ".join(map(self._sector, sorted(senders))),
                ))
            elif not keepers:
                problems.append(tr("while waiting in {state} no member of staff is responsible", state=self._s(t.dest)))
            if dest.deadline is None:
                problems.append(tr("the wait in {state} for the answer has no deadline", state=self._s(t.dest)))
            declined = p.state(h.declined)
            if declined.terminal and declined.outcome is Outcome.HANDED_OVER:
                problems.append(tr("a declined hand-over ends in {state}, recorded as handed over although nobody took the citizen",
                                   state=self._s(h.declined)))
            elif h.declined in self.stuck:
                problems.append(tr("a declined hand-over leads to {state}, from which nobody can move the citizen on",
                                   state=self._s(h.declined)))
            if problems:
                yield self._finding(
                    FindingKind.HANDOVER_GAP, [*sources, t.dest], [t.trigger],
                    tr("the hand-over `{trigger}` to {receiver} has a gap: {problems}",
                       trigger=t.trigger, receiver=repr(h.to), problems="; ".join(problems)),
                    tr("keep a role of the sending sector responsible in the waiting state, give it a deadline, "
                       "and let a refusal lead back to care in the sending pathway"),
                    ending=tr("the receiving side has not taken over and the sending side has let go"),
                    at=t.dest,
                )

    def _exits(self) -> Iterator[Finding]:
        p = self.p
        match p.subject:
            case Subject.ORGANISATION:
                # Not a citizen: nobody is held anywhere, so no exit by choice is owed. That
                # the request still reaches a proper end is proved without that exit (the
                # dead-end, trap, owner and wait findings ignore leaving by choice).
                return
            case Subject.CITIZEN:
                pass
            case _ as unreachable:
                assert_never(unreachable)
        none: list[str] = []
        silent: list[str] = []
        for s in self._reachable_states():
            if p.state(s).terminal:
                continue
            exits = [t for t in p.transitions_from.get(s, ()) if p.is_free_exit(t)]
            if not exits:
                none.append(s)
            elif not any(p.state(t.dest).follow_up is not None for t in exits):
                silent.append(s)
        fix = tr("add a transition from '*' that a citizen role fires, without guards or approval, to a terminal state "
                 "with 'outcome: left_by_choice' and a follow_up offer")
        if none:
            yield self._finding(
                FindingKind.NO_EXIT_BY_CHOICE, none, [],
                tr("the citizen cannot choose to leave from {states} "
                   "(the Psychiatry Act does not apply in the houses: leaving must always be possible)", states=self._ss(none)),
                fix, ending=tr("the citizen wants to leave but cannot"),
            )
        if silent:
            yield self._finding(
                FindingKind.NO_EXIT_BY_CHOICE, silent, [],
                tr("leaving from {states} ends without a follow-up offer", states=self._ss(silent)),
                tr("give the left_by_choice terminal a follow_up offer (follow_up: {{da: ..., en: ...}})"),
                ending=tr("the citizen leaves with no follow-up offer"),
            )

    def _unreachable(self) -> Iterator[Finding]:
        for s in self.order:
            if s not in self.reach:
                yield self._finding(
                    FindingKind.UNREACHABLE_STATE, [s], [],
                    tr("no sequence of transitions from {initial} reaches {state}", initial=self._s(self.p.initial), state=self._s(s)),
                    tr("add a transition into {state} or remove it", state=self._s(s)),
                )

    # -- explored --------------------------------------------------------------------

    def _explored(self) -> Iterator[Finding]:
        space = self.space
        ids = space.state_ids
        if not space.complete:
            yield Finding(
                FindingKind.BOUND_REACHED, self.p.id, (), (),
                tr("the state space of {pathway} has more than {bound} configurations; guard gaps, capacity "
                   "starvation and dead transitions were not fully checked", pathway=repr(self.p.id), bound=space.bound),
                tr("raise the bound (--bound N), or split the pathway / reduce the facts its guards read"), None,
            )
        structural = {s for s in self.stuck if self.prog.out_degree(s) == 0}
        for why, cfg in space.stuck:
            s = ids[cfg[0]]
            t_out = [t for t in self.p.transitions_from.get(s, ()) if not self.p.is_leaving(t)]
            if why == _explore.STUCK_CAPACITY:
                needs = sorted({t.takes for t in t_out if t.takes})
                yield self._at(
                    FindingKind.CAPACITY_STARVATION, cfg, [t.trigger for t in t_out if t.takes],
                    tr("in {state} the only way on needs a place of {resources}; when all are taken there is no "
                       "alternative and no deadline", state=self._s(s), resources=", ".join(map(self._resource, needs))),
                    tr("add a deadline to {state} whose escalation offers an alternative (ambulant team, walk-in), or an "
                       "alternative transition that needs no place", state=self._s(s)),
                    tr("all places are taken; nobody can act"),
                )
            elif why == _explore.STUCK_GUARD:
                read = {g.fact for t in t_out for g in t.guards}
                facts = ", ".join(
                    f"{f}={'true' if cfg[1] >> i & 1 else 'false'}" for i, f in enumerate(space.facts) if f in read
                )
                yield self._at(
                    FindingKind.GUARD_GAP, cfg, [t.trigger for t in t_out],
                    tr("in {state} every way on is guarded, and with {facts} none is enabled",
                       state=self._s(s), facts=facts or tr("these facts")),
                    tr("add a transition from {state} for the uncovered case (e.g. consent withdrawn), or a deadline", state=self._s(s)),
                    tr("no guard holds; nobody can act"),
                )
            elif why == _explore.STUCK_APPROVAL:
                t = self.p.transitions[cfg[2]]
                yield self._at(
                    FindingKind.UNSATISFIABLE_APPROVAL, cfg, [t.trigger],
                    tr("in {state} the request for `{trigger}` waits for approvals that nobody can give "
                       "(or that would need a place or guard that is missing), with no timeout and no deadline",
                       state=self._s(s), trigger=t.trigger),
                    tr("let roles of the pathway approve `{trigger}`, and give the approval a timeout", trigger=t.trigger),
                    tr("nobody can answer the request for `{trigger}`", trigger=t.trigger),
                )
            elif why == _explore.STUCK_REFERRAL:
                yield self._at(
                    FindingKind.HANDOVER_GAP, cfg, [t.trigger for t in self.p.transitions if t.handover and t.dest == s],
                    tr("the citizen is in {state}, which waits for a hand-over answer, but no hand-over is pending any more, "
                       "so no answer can come", state=self._s(s)),
                    tr("do not re-enter {state} without a new hand-over; let its escalation lead elsewhere", state=self._s(s)),
                    tr("nobody will answer"),
                )
            elif s not in structural:
                yield self._at(
                    FindingKind.DEAD_END, cfg, [t.trigger for t in t_out],
                    tr("in {state} nobody can move the citizen on: {why}",
                       state=self._s(s), why="; ".join(self._why_not(t, cfg) for t in t_out)),
                    tr("let a role of the pathway fire a transition from {state}", state=self._s(s)),
                    tr("nobody can move the citizen on"),
                )
        if space.complete:
            for i, t in enumerate(self.p.transitions):
                if i in space.fired:
                    continue
                cause = (tr("its source states are never reached") if not set(self.p.sources_of(t)) & self.reach
                         else tr("its guards, roles or places are never all satisfied where it starts"))
                yield Finding(
                    FindingKind.DEAD_TRANSITION, self.p.id, tuple(self.p.sources_of(t)), (t.trigger,),
                    tr("transition `{trigger}` → {dest} can never fire: {cause}", trigger=t.trigger, dest=self._s(t.dest), cause=cause),
                    tr("fix its guards, roles or places, or remove it"), None,
                )

    def _why_not(self, t: Transition, cfg: _explore.Config) -> str:
        if not any(r in self.p.roles for r in t.roles):
            return tr("no role of the pathway may fire `{trigger}`", trigger=t.trigger)
        if t.releases in self.space.resources and cfg[4][self.space.resources.index(t.releases)] < 1:
            return tr("`{trigger}` releases a place of {resource} that the case does not hold",
                      trigger=t.trigger, resource=self._resource(t.releases))
        return tr("`{trigger}` cannot fire", trigger=t.trigger)

    def _at(self, kind: FindingKind, cfg: _explore.Config, triggers: list[str], message: str, fix: str, ending: str) -> Finding:
        s = self.space.state_ids[cfg[0]]
        return Finding(kind, self.p.id, (s,), tuple(triggers), message, fix, build(self.space, cfg, ending))
