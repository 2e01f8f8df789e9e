"""Validation: the one set of checks that a pathway (or a registry of them) makes sense.

cattrs checks the shape of a document; this module checks its meaning one level up
(unknown names, duplicates, impossible rules) and, for a registry, between pathways
(hand-overs to pathways that cannot receive them, shared places of different sizes).
The loader runs these checks on every file it reads (and gives each problem its line);
:func:`pathways.check` runs :func:`validate` before it explores, so a pathway built in
Python is held to the same rules. Deeper questions — can a citizen get stuck? — belong
to :mod:`pathways.stranding`. Every check reports every problem it sees, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._documents import DocPath, Found, did_you_mean
from ._limits import MAX_DURATION, MAX_INT, id_problem
from ._yaml import format_path
from .approvals import rule_of
from .calendar import DAY_SETS
from .errors import Problem
from .house import House
from .i18n import noun, tr
from .model import ANY_STATE, Counting, Pathway, StateKind
from .registry import Registry

__all__ = ["between", "deadline_counting", "house_problems", "problems", "validate"]

_V = TypeVar("_V")


def validate(target: Pathway | Registry) -> list[Problem]:
    """Every mistake in a pathway, or in every pathway of a registry and between them.

    A lone pathway cannot know the pathways it hands over to: hand-overs are checked
    when it is validated in a registry.

    The checks are the loader's, so a pathway built in Python meets the same rules as
    one read from a file. A problem names the pathway as ``<pathway ID vN>`` in place
    of a file (there are no lines to point at); its ``path`` is the place in the
    definition, e.g. ``transitions[3].approval.roles[1]``. An empty list means valid.
    """
    if isinstance(target, Pathway):
        return [Problem(_name(target), format_path(path), message, hint) for path, message, hint in problems(target)]
    pathways = target.versions()
    out = [
        Problem(_name(p), format_path(path), message, hint)
        for p in pathways for path, message, hint in problems(p)
    ]
    out += [
        Problem(_name(pathways[i]), format_path(path), message, hint)
        for i, (path, message, hint) in between(pathways, lambda i: _name(pathways[i]))
    ]
    return out


def _name(p: Pathway) -> str:
    return f"<pathway {p.id} v{p.version}>"


def _unknown(path: DocPath, name: str, known: Iterable[str], what: str) -> Found:
    return (path, tr("unknown {thing} {name}", thing=noun(what), name=repr(name)), did_you_mean(name, known, what))


def problems(p: Pathway) -> Iterator[Found]:
    """Every cross-reference problem in ``p``, in document order."""
    yield from _storable(p)
    if not 1 <= p.phase <= MAX_INT:
        yield (("phase",), f"phase must be at least 1, got {p.phase}", "1 is the house's opening phase; write 2 for a later phase")
    yield from _roles(p)
    yield from _facts(p)
    yield from _states(p)
    yield from _transitions(p)
    yield from _intake(p)
    yield from deadline_counting(p)


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
    citizen: str | None = None
    for role_id, role in p.roles.items():
        if role.sector not in p.sectors:
            yield _unknown(("roles", role_id, "sector"), role.sector, p.sectors, "sector")
        if role.citizen and citizen is not None:
            yield (("roles", role_id, "citizen"), f"role {role_id!r} is marked as the citizen, but {citizen!r} already is",
                   "a case has one citizen: mark one role 'citizen: true'; relatives and the network are other roles")
        elif role.citizen:
            citizen = role_id
    for res_id, res in p.resources.items():
        if res.capacity < 1:
            yield (("resources", res_id, "capacity"), f"capacity must be at least 1, got {res.capacity}", "a resource without places can never be taken; give it its real number of places")


def _facts(p: Pathway) -> Iterator[Found]:
    """Who may set each fact: roles that exist, each in one list, the citizen never "recorded"."""
    for fact_id, fact in p.facts.items():
        here: DocPath = ("facts", fact_id)
        set_by = fact.set_by or ()
        for key in ("set_by", "recorded_by"):
            for j, r in enumerate(getattr(fact, key) or ()):
                if r not in p.roles:
                    yield _unknown((*here, key, j), r, p.roles, "role")
        for j, r in enumerate(fact.recorded_by or ()):
            if r in set_by:
                yield ((*here, "recorded_by", j),
                       tr("role {role} may both set {fact} and record it", role=repr(r), fact=repr(fact_id)),
                       tr("keep {role} in one list: 'recorded_by' when it records the citizen's word (with a reason), else 'set_by'", role=repr(r)))
            elif p.is_citizen(r):
                yield ((*here, "recorded_by", j),
                       tr("the citizen states {fact} themself; 'recorded_by' is for staff recording the citizen's word", fact=repr(fact_id)),
                       tr("move {role} to 'set_by'", role=repr(r)))
            elif r in p.citizen_side:
                yield ((*here, "recorded_by", j),
                       tr("role {role} is on the citizen's side, and only staff record the citizen's word", role=repr(r)),
                       tr("remove {role}: a relative does not speak for the citizen; what a relative says is a fact of its own", role=repr(r)))


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
    if a.on_refusal not in p.state_by_id:
        yield _unknown((*here, "on_refusal"), a.on_refusal, p.state_by_id, "state")
    for path, message, hint in rule_of(a).problems(p):
        yield ((*here, *path), message, hint)


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


def between(pathways: Sequence[Pathway], name: Callable[[int], str]) -> Iterator[tuple[int, Found]]:
    """Problems that only show when pathways are read together, as (index of the pathway, found).

    ``name(i)`` says where pathway ``i`` comes from (its file), for messages that point
    at another one. A hand-over goes to the newest version of its receiving pathway.
    """
    first: dict[tuple[str, int], int] = {}
    newest: dict[str, Pathway] = {}
    for p in pathways:
        if p.id not in newest or p.version >= newest[p.id].version:
            newest[p.id] = p
    capacities: dict[str, tuple[int, int]] = {}
    sectors: dict[str, tuple[str, int]] = {}
    for i, p in enumerate(pathways):
        if p.key in first:
            yield i, (("id",), f"pathway {p.id!r} version {p.version} is also defined in {name(first[p.key])}",
                      "give it a new version number or another id")
        first.setdefault(p.key, i)
        for res_id, here, cap, where in _disagreeing(capacities, i, {r: res.capacity for r, res in p.resources.items()}):
            yield i, (("resources", res_id, "capacity"),
                      f"shared resource {res_id!r} has capacity {here} here but {cap} in {name(where)}",
                      "pathways that share a resource must agree on its capacity")
        if p.house is None:
            for role_id, sector, sec, where in _disagreeing(sectors, i, {r: role.sector for r, role in p.roles.items()}):
                yield i, (("roles", role_id, "sector"),
                          f"role {role_id!r} belongs to sector {sector!r} here but to {sec!r} in {name(where)}",
                          "a role belongs to one sector in the whole house; declare the roles once in a house file")
        for j, t in enumerate(p.transitions):
            if t.handover is None:
                continue
            path: DocPath = ("transitions", j, "handover", "to")
            target = newest.get(t.handover.to)
            if target is None:
                yield i, (path, f"hand-over to unknown pathway {t.handover.to!r}", did_you_mean(t.handover.to, newest, "pathway"))
            elif target.intake is None:
                yield i, (path, f"pathway {target.id!r} has no intake, so it cannot receive a hand-over",
                          f"add an 'intake:' section to {target.id!r}")
            elif target.intake.accepts_from and p.id not in target.intake.accepts_from:
                yield i, (path, f"pathway {target.id!r} does not accept hand-overs from {p.id!r}",
                          f"add {p.id!r} to its intake.accepts_from")


def _disagreeing(first: dict[str, tuple[_V, int]], i: int, values: Mapping[str, _V]) -> Iterator[tuple[str, _V, _V, int]]:
    """Each name whose value in file ``i`` differs from its first definition, as (name, value here,
    first value, file of the first); ``first`` learns the names seen for the first time."""
    for key, value in values.items():
        if key in first and first[key][0] != value:
            yield key, value, *first[key]
        first.setdefault(key, (value, i))


def _days(path: DocPath, days: tuple[str, ...]) -> Iterator[Found]:
    if not days:
        yield (path, "no days are named", "write e.g. 'days: every_day' or 'days: [mon, tue]'")
    for j, word in enumerate(days):
        if word not in DAY_SETS:
            yield ((*path, j) if len(days) > 1 else path, f"unknown day {word!r}", did_you_mean(word, DAY_SETS, "day"))


def house_problems(h: House) -> Iterator[Found]:
    """Every problem inside one house file, in document order."""
    try:
        ZoneInfo(h.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        yield (("time_zone",), f"unknown time zone {h.time_zone!r}", "write an IANA time zone such as 'Europe/Copenhagen'")
    for j, phase in enumerate(h.phases):
        if not 1 <= phase <= MAX_INT:
            yield (("phases", j), f"a phase is a whole number from 1 (the opening), got {phase}", "write e.g. 'phases: [1, 2]'")
    if 1 not in h.phases:
        yield (("phases",), "the house's phases leave out 1, its opening phase", "write e.g. 'phases: [1, 2]'")
    for sec_id, _ in h.sectors.items():
        if sec_id == ANY_STATE:
            yield (("sectors", sec_id), "'*' is not a sector id", "choose another id")
    for role_id, role in h.roles.items():
        if role.sector not in h.sectors:
            yield _unknown(("roles", role_id, "sector"), role.sector, h.sectors, "sector")
    for res_id, res in h.resources.items():
        if res.capacity < 1:
            yield (("resources", res_id, "capacity"), f"capacity must be at least 1, got {res.capacity}", "a resource without places can never be taken; give it its real number of places")
    seen: dict[str, str] = {}
    for sid, service in h.services.items():
        for i, o in enumerate(service.open):
            yield from _days(("services", sid, "open", i, "days"), o.days)
        for j, pid in enumerate(service.pathways):
            if pid in seen:
                yield (("services", sid, "pathways", j), f"pathway {pid!r} is already started by service {seen[pid]!r}", "a pathway belongs to one service; remove it from one of them")
            seen.setdefault(pid, sid)
    for role_id, shifts in h.staffing.items():
        if role_id not in h.roles:
            yield _unknown(("staffing", role_id), role_id, h.roles, "role")
        for i, shift in enumerate(shifts):
            yield from _days(("staffing", role_id, i, "days"), shift.days)
            if shift.people < 1:
                yield (("staffing", role_id, i, "people"), f"a shift needs at least 1 person, got {shift.people}", "remove the shift if nobody is on duty then")


def deadline_counting(p: Pathway) -> Iterator[Found]:
    """Deadlines counted on the house calendar need a calendar, and whole days for working days."""
    for i, s in enumerate(p.states):
        d = s.deadline
        if d is None or d.counted is Counting.TIME:
            continue
        path: DocPath = ("states", i, "deadline", "counted")
        if p.calendar is None:
            yield (path, f"a deadline counted in {d.counted.value} needs the house calendar, but {p.id!r} names no house", "add 'house: <id>' to the pathway, or count the deadline in time")
        elif d.counted is Counting.WORKING_DAYS and (d.after.days < 1 or d.after % timedelta(days=1)):
            yield (("states", i, "deadline", "after"), "a deadline in working days must be whole days", "write e.g. 'after: P2D'")
        elif d.counted is Counting.OPENING_HOURS and not p.calendar.opening:
            yield (path, f"a deadline counted in opening hours, but {p.id!r} has no opening hours in its house", "name the pathway in a service with 'open:' hours, or count the deadline in time")
        elif d.counted is Counting.UNTIL_CLOSING and not p.calendar.opening:
            yield (path, f"a deadline counted until closing, but {p.id!r} has no opening hours in its house", "name the pathway in a service with 'open:' hours, or count the deadline in time")
