"""Cross-reference checks on a structured pathway: every name must point somewhere.

cattrs checks the shape of a document; this module checks its meaning one level up
(unknown names, duplicates, impossible rules). Deeper questions — can a citizen get
stuck? — belong to :mod:`pathways.check`. Every check reports every problem it sees.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ._documents import DocPath, Found, did_you_mean
from ._limits import MAX_DURATION, MAX_INT, id_problem
from .i18n import noun, tr
from .model import ANY_STATE, Pathway, RuleKind, StateKind


def _unknown(path: DocPath, name: str, known: Iterable[str], what: str) -> Found:
    return (path, tr("unknown {thing} {name}", thing=noun(what), name=repr(name)), did_you_mean(name, known, what))


def problems(p: Pathway) -> Iterator[Found]:
    """Every cross-reference problem in ``p``, in document order."""
    yield from _storable(p)
    if not 1 <= p.phase <= MAX_INT:
        yield (("phase",), f"phase must be at least 1, got {p.phase}", "1 is the house's opening phase; write 2 for a later phase")
    yield from _roles(p)
    yield from _states(p)
    yield from _transitions(p)
    yield from _intake(p)


_ID_HINT = "use letters, digits and '_', e.g. 'overnight_stay'"


def _storable(p: Pathway) -> Iterator[Found]:
    """Ids and numbers the case store can hold (see :mod:`pathways._limits`)."""
    named: list[tuple[DocPath, str]] = [(("id",), p.id)]
    for key in ("sectors", "roles", "facts", "resources"):
        named += [((key, name), name) for name in getattr(p, key)]
    named += [(("states", i, "id"), s.id) for i, s in enumerate(p.states)]
    named += [(("transitions", i, "trigger"), t.trigger) for i, t in enumerate(p.transitions)]
    for path, name in named:
        if (why := id_problem(name)) is not None:
            yield (path, f"{why}: {name[:40]!r}", _ID_HINT)
    if not 1 <= p.version <= MAX_INT:
        yield (("version",), f"version must be between 1 and {MAX_INT:,}, got {p.version}", "number versions 1, 2, 3, …")
    for res_id, res in p.resources.items():
        if res.capacity > MAX_INT:
            yield (("resources", res_id, "capacity"), f"capacity can be at most {MAX_INT:,}, got {res.capacity}", "give the resource its real number of places")
    longest = f"at most {MAX_DURATION.days:,} days"
    for i, s in enumerate(p.states):
        if s.deadline is not None and s.deadline.after > MAX_DURATION:
            yield (("states", i, "deadline", "after"), f"a deadline can be {longest}", "write a shorter duration, e.g. 'P30D'")
    for i, t in enumerate(p.transitions):
        if t.approval is not None and t.approval.timeout is not None and t.approval.timeout > MAX_DURATION:
            yield (("transitions", i, "approval", "timeout"), f"an approval timeout can be {longest}", "write a shorter duration, e.g. 'P2D'")


def _roles(p: Pathway) -> Iterator[Found]:
    for role_id, role in p.roles.items():
        if role.sector not in p.sectors:
            yield _unknown(("roles", role_id, "sector"), role.sector, p.sectors, "sector")
    for res_id, res in p.resources.items():
        if res.capacity < 1:
            yield (("resources", res_id, "capacity"), f"capacity must be at least 1, got {res.capacity}", "a resource without places can never be taken; give it its real number of places")


def _states(p: Pathway) -> Iterator[Found]:
    seen: dict[str, int] = {}
    for i, s in enumerate(p.states):
        if s.id in seen:
            yield (("states", i, "id"), f"state id {s.id!r} is already used by states[{seen[s.id]}]", "give every state its own id")
        seen.setdefault(s.id, i)
        if s.id == ANY_STATE:
            yield (("states", i, "id"), "'*' is reserved for 'every state' in transition sources", "choose another id")
        for j, r in enumerate(s.responsible):
            if r not in p.roles:
                yield _unknown(("states", i, "responsible", j), r, p.roles, "role")
        if s.terminal:
            if s.outcome is None:
                yield (("states", i), f"terminal state {s.id!r} has no outcome", "add 'outcome: completed', 'handed_over' or 'left_by_choice'")
            if s.deadline is not None:
                yield (("states", i, "deadline"), f"terminal state {s.id!r} cannot have a deadline", "remove the deadline; nothing happens after a terminal state")
        elif s.outcome is not None:
            yield (("states", i, "outcome"), f"only terminal states have an outcome; {s.id!r} is {s.kind.value}", "remove 'outcome' or make the state 'kind: terminal'")
        if s.deadline is not None and not s.terminal:
            yield from _deadline(p, i)
    if p.initial not in seen:
        yield _unknown(("initial",), p.initial, seen, "state")


def _deadline(p: Pathway, i: int) -> Iterator[Found]:
    s = p.states[i]
    assert s.deadline is not None
    path = ("states", i, "deadline", "trigger")
    if s.deadline.after.total_seconds() <= 0:
        yield (("states", i, "deadline", "after"), "a deadline must be longer than zero", "write e.g. 'PT8H'")
    t = p.find(s.id, s.deadline.trigger)
    if t is None:
        yield (path, f"deadline trigger {s.deadline.trigger!r} is not a transition from state {s.id!r}", _trigger_hint(p, s.id, s.deadline.trigger))
    elif t.guards or t.approval or t.takes:
        blocking = [f"has guard '{g}'" for g in t.guards]
        blocking += ["needs an approval"] if t.approval else []
        blocking += [f"takes a place of {t.takes!r}"] if t.takes else []
        said = ", ".join(blocking[:-1]) + " and " + blocking[-1] if len(blocking) > 1 else blocking[0]
        yield (path, f"the escalation {t.trigger!r} could be blocked when the deadline passes: it {said}", "make the escalation an unconditional transition")


def _transitions(p: Pathway) -> Iterator[Found]:
    states = p.state_by_id
    pairs: dict[tuple[str, str], int] = {}
    for i, t in enumerate(p.transitions):
        here: DocPath = ("transitions", i)
        if not t.source:
            yield ((*here, "source"), "a transition needs at least one source state", "name the state(s) it leaves, or '*' for every non-terminal state")
        for j, src in enumerate(t.source):
            if src != ANY_STATE and src not in states:
                yield _unknown((*here, "source", j), src, states, "state")
            elif src in states and states[src].terminal:
                yield ((*here, "source", j), f"transition {t.trigger!r} leaves terminal state {src!r}", "terminal states end the pathway; use an active or waiting state")
        for src in dict.fromkeys(p.sources_of(t)):
            if (t.trigger, src) in pairs:
                yield ((*here, "trigger"), f"trigger {t.trigger!r} from state {src!r} is already defined by transitions[{pairs[(t.trigger, src)]}]", "use a different trigger name for one of them")
            pairs.setdefault((t.trigger, src), i)
        if t.dest not in states:
            yield _unknown((*here, "dest"), t.dest, states, "state")
        if not t.roles:
            yield ((*here, "roles"), f"no role may fire {t.trigger!r}", "list the roles that may fire it")
        for j, r in enumerate(t.roles):
            if r not in p.roles:
                yield _unknown((*here, "roles", j), r, p.roles, "role")
        for j, g in enumerate(t.guards):
            if g.fact not in p.facts:
                yield _unknown((*here, "guards", j), g.fact, p.facts, "fact")
        for fact in t.sets:
            if fact not in p.facts:
                yield _unknown((*here, "sets", fact), fact, p.facts, "fact")
        for key in ("takes", "releases"):
            res = getattr(t, key)
            if res is not None and res not in p.resources:
                yield _unknown((*here, key), res, p.resources, "resource")
        if t.approval is not None:
            yield from _approval(p, i)
        if t.handover is not None:
            for key in ("accepted", "declined"):
                target = getattr(t.handover, key)
                if target not in states:
                    yield _unknown((*here, "handover", key), target, states, "state")
            if t.dest in states and states[t.dest].kind is not StateKind.WAITING:
                yield ((*here, "dest"), f"a hand-over waits for the receiving side, so {t.dest!r} must be a waiting state", "make the destination 'kind: waiting' and keep its responsible roles")


def _approval(p: Pathway, i: int) -> Iterator[Found]:
    t = p.transitions[i]
    a = t.approval
    assert a is not None
    here: DocPath = ("transitions", i, "approval")
    for j, r in enumerate(a.roles):
        if r not in p.roles:
            yield _unknown((*here, "roles", j), r, p.roles, "role")
    for j, sec in enumerate(a.sectors):
        if sec not in p.sectors:
            yield _unknown((*here, "sectors", j), sec, p.sectors, "sector")
        elif all(r in p.roles for r in a.roles) and not any(p.roles[r].sector == sec for r in (a.roles or p.roles)):
            yield ((*here, "sectors", j), f"no role in sector {sec!r} can approve", f"add a role of sector {sec!r} to the approval's roles")
    if a.on_refusal not in p.state_by_id:
        yield _unknown((*here, "on_refusal"), a.on_refusal, p.state_by_id, "state")
    if a.rule is RuleKind.ALL_OF and not a.roles:
        yield ((*here, "roles"), "rule 'all_of' needs the roles whose approval is required", "add e.g. 'roles: [leader_a, leader_b]'")
    if a.rule is RuleKind.N_OF:
        if not a.roles:
            yield ((*here, "roles"), "rule 'n_of' needs the roles that may approve", "add e.g. 'roles: [leader_a, leader_b]'")
        if a.n is None:
            yield (here, "rule 'n_of' needs 'n', the number of approvals required", "add e.g. 'n: 2'")
        elif a.n < 1:
            yield ((*here, "n"), f"n must be at least 1, got {a.n}", "n is how many different roles must approve")
        elif a.n > len(a.roles):
            yield ((*here, "n"), f"n_of needs {a.n} approvals from different roles but only {len(a.roles)} role(s) are listed, so it can never be met", f"lower n to at most {len(a.roles)} or list more roles")
    if a.rule is RuleKind.ONE_PER_SECTOR and not a.sectors:
        yield ((*here, "sectors"), "rule 'one_per_sector' needs the sectors that must each approve", f"add e.g. 'sectors: [{', '.join(p.sectors)}]'")
    if a.rule is not RuleKind.N_OF and a.n is not None:
        yield ((*here, "n"), f"'n' only applies to rule 'n_of', not {a.rule.value!r}", "remove 'n' or use 'rule: n_of'")
    if a.rule is not RuleKind.ONE_PER_SECTOR and a.sectors:
        yield ((*here, "sectors"), f"'sectors' only applies to rule 'one_per_sector', not {a.rule.value!r}", "remove 'sectors' or use 'rule: one_per_sector'")


def _intake(p: Pathway) -> Iterator[Found]:
    if p.intake is None:
        return
    here: DocPath = ("intake",)
    if p.intake.state not in p.state_by_id:
        yield _unknown((*here, "state"), p.intake.state, p.state_by_id, "state")
        return
    for key in ("accept", "decline"):
        trig = getattr(p.intake, key)
        if p.find(p.intake.state, trig) is None:
            yield ((*here, key), f"{key} trigger {trig!r} is not a transition from intake state {p.intake.state!r}", _trigger_hint(p, p.intake.state, trig))


def _trigger_hint(p: Pathway, state: str, trigger: str) -> str:
    """Did-you-mean among the triggers that leave ``state``, or how to add one."""
    known = [t.trigger for t in p.transitions_from.get(state, ())]
    if not known:
        return f"no transition leaves {state!r}; add one with 'trigger: {trigger}'"
    return did_you_mean(trigger, known, "trigger")
