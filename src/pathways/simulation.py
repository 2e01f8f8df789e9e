"""Simulate a house: citizens arrive and move through the real pathways on the real engine.

The simulation owns no semantics. Every move is an :class:`~pathways.engine.Engine` call
(``fire``, ``approve``, ``refuse``, ``fire_due``) on a :class:`~pathways.clock.ManualClock`
driven by the SimPy clock, so permissions, guards, approvals, capacity and deadlines are
exactly those of production. The simulation only decides *who* is present (shifts),
*what* they choose (scenario probabilities) and *when* (step durations).

Counting: every case ends in exactly one bucket, so ``started == completed + left + open
+ stranded + livelocked`` holds per pathway and overall. ``completed`` counts both terminal outcomes
``completed`` and ``handed_over``; ``handed_over`` is reported as well, as a part of
``completed``. A case is *stranded* when it is not in a terminal state and nobody in the
scenario could ever move it on: no deadline or approval timeout is pending, no hand-over
answer is awaited, and no transition other than the citizen leaving by own choice is
open to any staffed role (a transition blocked only by a full resource is not stranded:
a place may free up). Each stranded case comes with its story (its history in words).
A case is *livelocked* when it is not ended and its history ends in the same round of
steps in one state, repeated ``livelock_repeats`` times (the same request timing out
again and again, the same self-loop): someone moves it, but never on. It comes with its
story too.

Determinism: one :class:`random.Random` seeded from the scenario (or ``seed=``), case ids
``case-000001``… from a counter, whole-second times: the same scenario and seed give the
same result.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Generator, Iterable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any, assert_never
from zoneinfo import ZoneInfo

import attrs

from . import approvals, calendar
from ._extras import needs
from ._roster import Duty, Pool, Roster
from .case import Actor, Case, ClockReason, Event, EventKind
from .clock import ManualClock
from .engine import Engine
from .errors import ActionRefused, CapacityError, ScenarioError, ServiceClosed
from .goals import GoalCounts, measure_by_house
from .i18n import Lang, role_name, state_name, tr, use_language
from .loader import load_registry
from .model import Outcome, Pathway, Span, Transition
from .refusals import RefusalCode
from .registry import Registry
from .scenario import WEEKDAYS, Arrival, Distribution, Scenario, scenario_problems

with needs("simulate", "simulation (pathways.simulation)"):
    import simpy

    from ._workload import HOURS_OF_WEEK, Pick, Workload  # builds on simpy

__all__ = [
    "Livelock",
    "PathwayResult",
    "RoleLoad",
    "Simulation",
    "SimulationResult",
    "Stranded",
    "WaitStats",
    "simulate",
]

Progress = Callable[[float], None]
"""Called with the simulated fraction of the period done, from 0.0 to 1.0."""

_MOVES = frozenset(
    {EventKind.FIRED, EventKind.ESCALATED, EventKind.REFUSED, EventKind.HANDOVER_ACCEPTED, EventKind.HANDOVER_DECLINED}
)


@attrs.frozen
class WaitStats:
    """Durations in seconds: how many, median, 90th percentile (nearest rank) and max."""

    count: int
    median: float
    p90: float
    max: float

    @classmethod
    def of(cls, values: Iterable[float]) -> WaitStats:
        data = sorted(values)
        if not data:
            return cls(0, 0.0, 0.0, 0.0)
        p90 = data[max(0, math.ceil(0.9 * len(data)) - 1)]
        return cls(len(data), float(statistics.median(data)), float(p90), float(data[-1]))


@attrs.frozen
class Stranded:
    """A case nobody can move on: where, since when, and its story."""

    case_id: str
    pathway: str
    state: str
    since: datetime
    story: tuple[str, ...]


@attrs.frozen
class Livelock:
    """A case that repeats the same steps without progress until the end of the period.

    The repeated steps stay in one state: the same request made and timed out again and
    again, or the same self-loop fired again and again. ``cycle`` is one round of them in
    words, ``story`` the history before the loop, then the loop once and how often it ran.
    """

    case_id: str
    pathway: str
    state: str
    since: datetime
    """When the first repeated round began."""
    repeats: int
    cycle: tuple[str, ...]
    story: tuple[str, ...]


@attrs.frozen
class RoleLoad:
    """How busy one role's people were (in one house), and how long citizens waited for them.

    Staff help one citizen at a time; ``queue`` is the wait from the moment an act was due
    until a person of the role was free (seconds, every act counted, most are 0).
    """

    house: str
    """The house id; ``""`` for pathways of no house."""
    role: str
    acts: int
    """Acts (transitions fired, approvals answered) done by people of the role."""
    duty_hours: float
    """Person-hours on duty over the period."""
    busy_hours: float
    """Person-hours on duty and busy with a citizen."""
    overtime_hours: float
    """Person-hours busy after the shift had ended (finishing with a citizen)."""
    queue: WaitStats
    by_hour: tuple[float | None, ...]
    """Utilisation (busy / on duty) per hour of the week in local time, Monday 00-01 first;
    ``None`` where nobody of the role is ever on duty at that hour."""

    @property
    def utilisation(self) -> float:
        """Busy / on duty over the whole period (0 when nobody was on duty)."""
        return self.busy_hours / self.duty_hours if self.duty_hours else 0.0


@attrs.frozen
class PathwayResult:
    """Counts for one pathway (or ``*`` for the whole house)."""

    pathway: str
    started: int
    completed: int
    handed_over: int
    """Part of ``completed``: cases that ended handed over to another pathway."""
    left: int
    open: int
    stranded: int
    livelocked: int
    """Not ended, and repeating the same steps without progress (see :class:`Livelock`)."""
    deadlines_fired: int
    approval_timeouts: int
    waits: Mapping[str, WaitStats]
    """Time spent in each state (entered → left for another state), finished stays only."""


@attrs.frozen
class SimulationResult:
    """Everything a simulation run found; :meth:`to_json` for tools."""

    scenario: str
    seed: int
    start: datetime
    end: datetime
    overall: PathwayResult
    pathways: Mapping[str, PathwayResult]
    approvals: Mapping[str, WaitStats]
    """Request → answer (approved and fired, or refused/timed out), per ``pathway.trigger``."""
    occupancy: Mapping[str, tuple[tuple[float, int], ...]]
    """Per resource: (hours since start, places in use) at every change."""
    capacity: Mapping[str, int]
    peak: Mapping[str, int]
    turned_away: Mapping[str, tuple[int, ...]]
    """Per resource, by hour of day: how many times a case found every place taken."""
    flows: Mapping[str, int]
    """Hand-overs ``from->to`` and their answers ``from->to:accepted|declined``."""
    steps: int
    """Engine events recorded (each a citizen-step)."""
    stranded_cases: tuple[Stranded, ...]
    defects: tuple[str, ...] = ()
    """Engine errors the definitions caused (not refusals), each with the first case it hit."""
    closed_arrivals: Mapping[str, int] = attrs.field(factory=dict)
    """Per pathway: arrivals the scenario sent while its service was closed (the house's
    opening hours). They start no case: the citizen is turned away to the house's safety
    net. A count here says the scenario's hours and the house's disagree."""
    goals: Mapping[str, GoalCounts] = attrs.field(factory=dict)
    """The houses' goals (seed 004) per house, measured on the simulated cases."""
    livelocks: tuple[Livelock, ...] = ()
    """Every livelocked case with its story."""
    arrivals: Mapping[str, int] = attrs.field(factory=dict)
    """Per pathway: citizens the scenario's arrival streams sent (started, or turned away while closed)."""
    roles: Mapping[str, RoleLoad] = attrs.field(factory=dict)
    """Per role (``house/role``; a bare ``role`` for pathways of no house): utilisation and queues."""

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: times as ISO strings, durations in seconds."""

        def pr(r: PathwayResult) -> dict[str, Any]:
            data = attrs.asdict(r, recurse=False)
            data["waits"] = {k: attrs.asdict(v) for k, v in r.waits.items()}
            return data

        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "overall": pr(self.overall),
            "pathways": {k: pr(v) for k, v in self.pathways.items()},
            "approvals": {k: attrs.asdict(v) for k, v in self.approvals.items()},
            "occupancy": {k: [list(p) for p in v] for k, v in self.occupancy.items()},
            "capacity": dict(self.capacity),
            "peak": dict(self.peak),
            "turned_away": {k: list(v) for k, v in self.turned_away.items()},
            "flows": dict(self.flows),
            "steps": self.steps,
            "stranded_cases": [
                {"case_id": s.case_id, "pathway": s.pathway, "state": s.state, "since": s.since.isoformat(),
                 "story": list(s.story)}
                for s in self.stranded_cases
            ],
            "defects": list(self.defects),
            "closed_arrivals": dict(self.closed_arrivals),
            "arrivals": dict(self.arrivals),
            "livelocks": [
                {"case_id": x.case_id, "pathway": x.pathway, "state": x.state, "since": x.since.isoformat(),
                 "repeats": x.repeats, "cycle": list(x.cycle), "story": list(x.story)}
                for x in self.livelocks
            ],
            "roles": {
                k: {**{f: getattr(r, f) for f in ("house", "role", "acts", "duty_hours", "busy_hours", "overtime_hours")},
                    "utilisation": r.utilisation, "queue": attrs.asdict(r.queue), "by_hour": list(r.by_hour)}
                for k, r in self.roles.items()
            },
            "goals": {house: g.to_json() for house, g in self.goals.items()},
        }


def simulate(
    scenario: Scenario,
    registry: Registry | None = None,
    *,
    seed: int | None = None,
    progress: Progress | None = None,
    lang: Lang | None = None,
) -> SimulationResult:
    """Run ``scenario`` (on ``registry``, else its ``definitions`` folder) and return the result.

    ``lang`` (default: the current language) is the language of the stories and defects.
    """
    sim = Simulation(scenario, registry, seed=seed)
    return sim.run(progress, lang=lang)


def _with_capacities(registry: Registry, capacities: Mapping[str, int]) -> Registry:
    """A registry whose shared resources have the scenario's capacities."""
    if not capacities:
        return registry
    out = Registry()
    for p in registry.versions():
        resources = {
            r: attrs.evolve(res, capacity=capacities.get(r, res.capacity)) for r, res in p.resources.items()
        }
        out.add(attrs.evolve(p, resources=resources))
    return out


@attrs.frozen
class _Step:
    """What a case does next: wait ``delay``, then ``act`` as ``actor`` (the citizen's side)
    or as a free person of ``pools`` whom ``pick`` accepts, who is then busy for ``work``."""

    delay: float
    act: Callable[[Actor], list[Event]] | None = None
    actor: Actor | None = None
    pools: tuple[Pool, ...] = ()
    pick: Pick | None = None
    work: Distribution | None = None


class Simulation:
    """One run of a scenario. ``engine`` holds every case afterwards, for inspection.

    Args:
        scenario: what to simulate.
        registry: the pathways; loaded from ``scenario.definitions_path()`` when omitted.
        seed: overrides ``scenario.seed``.

    Raises:
        ScenarioError: the scenario names pathways, roles, facts or states the
            definitions do not have.
    """

    def __init__(self, scenario: Scenario, registry: Registry | None = None, *, seed: int | None = None) -> None:
        if registry is None:
            registry = load_registry(scenario.definitions_path())
        problems = scenario_problems(scenario, registry)
        if problems:
            raise ScenarioError(problems)
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.rng = random.Random(self.seed)
        self.registry = _with_capacities(registry, scenario.capacities)
        self.clock = ManualClock(scenario.start)
        ids = itertools.count(1)
        self.engine = Engine(self.registry, clock=self.clock, new_id=lambda: f"case-{next(ids):06d}")
        self.env = simpy.Environment()
        self._citizens = itertools.count(1)
        self._procs: dict[str, simpy.Process] = {}
        self._sleeping: set[str] = set()
        self._stranded: dict[str, Stranded] = {}
        self._livelocks: dict[str, Livelock] = {}
        self._actors: dict[tuple[str, str, str], Actor] = {}
        self._resources = sorted(self.registry.resources())
        self._occupancy: dict[str, list[tuple[float, int]]] = {r: [(0.0, 0)] for r in self._resources}
        self._turned_away: dict[str, list[int]] = {r: [0] * 24 for r in self._resources}
        self._flows: Counter[str] = Counter()
        self._steps = 0
        self._found_full = False
        self._defects: dict[str, str] = {}
        self._closed_arrivals: Counter[str] = Counter()
        self._arrived: Counter[str] = Counter()
        self.zone = _zone(scenario, self.registry)
        """The zone of the scenario's hours: its ``time_zone``, else the houses', else the start's offset."""
        self._pools: dict[tuple[str, int, str], Pool | None] = {}
        total = scenario.period.total_seconds()
        self._local_hours = [(scenario.start + timedelta(hours=k)).astimezone(self.zone) for k in range(math.ceil(total / 3600))]
        self.roster = Roster(self._duties(), scenario.start, total)
        """Who is on duty when: the house's staffing, or the scenario's shifts where it gives them."""
        self._work = Workload(self.env, self.roster, [h.weekday() * 24 + h.hour for h in self._local_hours])

    # -- running -----------------------------------------------------------------

    def run(self, progress: Progress | None = None, *, lang: Lang | None = None) -> SimulationResult:
        """Simulate the whole period and count the outcome.

        The stories of stranded and livelocked cases and the defects are told while the
        engine runs, in ``lang`` (default: the current language, :func:`~pathways.i18n.use_language`).
        """
        with use_language(lang):
            return self._run(progress)

    def _run(self, progress: Progress | None) -> SimulationResult:
        total = self.scenario.period.total_seconds()
        for arrival_index in range(len(self.scenario.arrivals)):
            self.env.process(self._arrivals(arrival_index, total))
        if progress is not None:
            self.env.process(self._ticker(progress, total))
        self.env.process(self._shift_changes())
        self.env.run(until=total)
        self.clock.set(self.scenario.end)
        if progress is not None:
            progress(1.0)
        return self._result()

    def _ticker(self, progress: Progress, total: float) -> Generator[simpy.Event, Any, None]:
        step = max(total / 100, 3600.0)
        while True:
            progress(min(self.env.now / total, 1.0))
            yield self.env.timeout(step)

    def _now(self) -> datetime:
        """Move the engine's clock to the simulation's time and return it."""
        return self.clock.set(self.scenario.start + timedelta(seconds=self.env.now))

    def _arrivals(self, index: int, total: float) -> Generator[simpy.Event, Any, None]:
        """A Poisson stream, hour by hour, with the rate of that local hour and weekday."""
        rates = self._rates(self.scenario.arrivals[index])
        for k, rate in enumerate(rates):
            if rate <= 0:
                continue  # closed or quiet hours cost no simulation event
            hour = k * 3600.0
            offset = self.rng.expovariate(rate) * 3600
            while offset < 3600 and hour + offset < total:
                yield self.env.timeout(hour + float(int(offset)) - self.env.now)
                self._arrive(index)
                offset += self.rng.expovariate(rate) * 3600

    def _rates(self, arrival: Arrival) -> list[float]:
        """Expected arrivals in each hour of the period, read in local time.

        A public holiday of the pathway's house counts as a Sunday (as the house's
        calendar does), so a weekday stream sends nobody to a service closed that day.
        """
        cal = self.registry[arrival.pathway].calendar
        holidays = cal.public_holidays if cal is not None else frozenset()
        per_hour = arrival.per_day / _window_length(arrival.hours)
        out = []
        for local in self._local_hours:
            day = WEEKDAYS[6 if local.date() in holidays else local.weekday()]
            open_ = day in arrival.weekdays and _in_window(arrival.hours, local.hour)
            out.append(per_hour * arrival.weekday_factor.get(day, 1.0) if open_ else 0.0)
        return out

    def _arrive(self, index: int) -> None:
        arrival = self.scenario.arrivals[index]
        pathway = self.registry[arrival.pathway]
        self._arrived[pathway.id] += 1
        facts = {}
        for fact in pathway.facts:
            p = arrival.facts.get(fact, self.scenario.mix.get(fact))
            if p is not None:
                facts[fact] = self.rng.random() < p
        self._now()
        try:
            case = self.engine.start(pathway.id, f"citizen-{next(self._citizens):06d}", facts=facts)
        except ServiceClosed:
            self._closed_arrivals[pathway.id] += 1
            return
        self._steps += 1
        self._spawn(case)

    def _spawn(self, case: Case) -> None:
        self._procs[case.id] = self.env.process(self._live(case))

    def _live(self, case: Case) -> Generator[simpy.Event, Any, None]:
        """One case's life: decide, wait the step's duration, get a free person, act; repeat."""
        pathway = self.engine.pathway_of(case)
        while not pathway.state(case.state).terminal:
            now = self._now()
            due = case.due_at(pathway)
            if due is not None and due <= now:
                self._after(case, self.engine.fire_due(now, cases=[case]))
                continue
            step = self._decide(case, pathway, now)
            if step.act is None and self._stuck(case, pathway):
                self._stranded.setdefault(case.id, self._story(case, pathway, now))
                wake: simpy.Event = self.env.event()
            else:
                self._stranded.pop(case.id, None)
                until_due = (due - now).total_seconds() if due is not None else math.inf
                if until_due < step.delay:
                    step = _Step(until_due)
                wake = self.env.timeout(step.delay)
            woken = yield from self._sleep(case, wake)
            if not woken or step.act is None:
                continue
            actor, served = step.actor, None
            if actor is None:
                served = yield from self._staff(case, pathway, step)
                if served is None:
                    continue  # nobody of the role is there any more, or the case was moved on: decide again
                actor = served[1]
            self._now()
            events: list[Event] | None = None
            try:
                events = step.act(actor)
            except ActionRefused:
                pass  # the world changed while the step took its time; decide again
            except CapacityError as exc:  # the ledger refused what the engine allowed
                self._defects.setdefault(str(exc).replace(case.id, "<case>"), case.id)
            if served is not None:
                if events:
                    assert step.work is not None
                    self._work.hold(served[0], actor.person, step.work.sample(self.rng))
                else:
                    self._work.release(served[0], actor.person, self.env.now)
            if events is not None:
                self._after(case, events)

    def _sleep(self, case: Case, event: simpy.Event) -> Generator[simpy.Event, Any, bool]:
        """Wait for ``event``; ``False`` when another case changed this one first."""
        self._sleeping.add(case.id)
        try:
            yield event
        except simpy.Interrupt:
            return False
        finally:
            self._sleeping.discard(case.id)
        return True

    def _staff(self, case: Case, pathway: Pathway, step: _Step) -> Generator[simpy.Event, Any, tuple[Pool, Actor] | None]:
        """A free person of the step's roles, queueing while all are busy (until the case's deadline)."""
        assert step.pick is not None
        req = self._work.request(step.pools, step.pick)
        if not req.event.triggered:
            due = case.due_at(pathway)
            wait: simpy.Event = req.event
            if due is not None:
                wait = req.event | self.env.timeout(max(0.0, (due - self._now()).total_seconds()))
            woken = yield from self._sleep(case, wait)
            if not woken or not req.event.triggered:
                self._work.cancel(req)
                return None
        served: tuple[Pool, Actor] | None = req.event.value
        return served

    def _shift_changes(self) -> Generator[simpy.Event, Any, None]:
        """At every moment people come or go, newcomers serve the queues."""
        for t in self.roster.times[1:]:
            yield self.env.timeout(t - self.env.now)
            self._now()
            self._work.shift_change()

    def _after(self, case: Case, events: list[Event]) -> None:
        """Book-keeping after an engine call: new cases, woken senders, occupancy, flows."""
        self._steps += len(events)
        for e in events:
            if e.case_id == case.id:
                if e.kind is EventKind.FIRED and e.link is not None:
                    receiver = self.engine.cases[e.link.case_id].pathway_id
                    self._flows[f"{case.pathway_id}->{receiver}"] += 1
                continue
            other = self.engine.cases[e.case_id]
            if e.kind is EventKind.STARTED and e.case_id not in self._procs:
                self._spawn(other)
            elif e.kind in (EventKind.HANDOVER_ACCEPTED, EventKind.HANDOVER_DECLINED):
                answer = "accepted" if e.kind is EventKind.HANDOVER_ACCEPTED else "declined"
                self._flows[f"{other.pathway_id}->{case.pathway_id}:{answer}"] += 1
            if e.case_id in self._sleeping:
                self._sleeping.discard(e.case_id)
                self._procs[e.case_id].interrupt("changed by another case")
        for res in self._resources:
            series = self._occupancy[res]
            used = self.engine.in_use(res)
            if used != series[-1][1]:
                series.append((self.env.now / 3600, used))

    # -- deciding ----------------------------------------------------------------

    def _decide(self, case: Case, pathway: Pathway, now: datetime) -> _Step:
        """What happens next and after how long; no ``act`` when nobody present can act."""
        choices = self.scenario.choices
        if case.pending is not None:
            found = self._approvers(case, pathway, now)
            if found is None:
                return _Step(self._until_shift_change())
            delay = self.scenario.durations.approval.sample(self.rng)
            refuse = self.rng.random() < choices.refuse

            def answer(actor: Actor) -> list[Event]:
                if refuse:
                    return self.engine.refuse(case, actor, reason="refused in simulation")
                return self.engine.approve(case, actor)

            if self._pool(pathway, found.role) is None:
                return _Step(delay, answer, actor=found)
            t = pathway.find(case.state, case.pending.trigger)
            assert t is not None and t.approval is not None
            roles = approvals.eligible_roles(t.approval, pathway)
            return _Step(delay, answer, pools=self._pools_of(pathway, roles), pick=self._approver(case, pathway),
                         work=self.scenario.durations.work.approval)
        self._found_full = False
        leave: list[tuple[Transition, Actor]] = []
        escalate: list[tuple[Transition, Actor]] = []
        decline: list[tuple[Transition, Actor]] = []
        normal: list[tuple[Transition, Actor]] = []
        weights: list[float] = []
        state = pathway.state(case.state)
        deadline_trigger = state.deadline.trigger if state.deadline else None
        intake = pathway.intake if pathway.intake and pathway.intake.state == case.state else None
        for t in pathway.transitions_from.get(case.state, ()):
            able = self._able(case, pathway, t, now)
            if able is None:
                continue
            if pathway.is_leaving(t):
                leave.append((t, able))
            elif t.trigger == deadline_trigger:
                escalate.append((t, able))
            elif intake is not None and t.trigger == intake.decline:
                decline.append((t, able))
            elif (w := self._weight(pathway, t)) > 0:
                normal.append((t, able))
                weights.append(w)
        rng = self.rng
        pick: tuple[Transition, Actor] | None = None
        if leave and rng.random() < choices.leave:
            pick = rng.choice(leave)
        elif escalate and rng.random() < choices.escalate:
            pick = rng.choice(escalate)
        elif decline and (not normal or rng.random() < choices.decline):
            pick = rng.choice(decline)
        elif normal:
            pick = rng.choices(normal, weights)[0]
        if pick is None:
            # a full resource may free up at any time; otherwise only a new shift changes anything
            return _Step(self.scenario.durations.retry.total_seconds() if self._found_full else self._until_shift_change())
        t, actor = pick
        trigger = t.trigger

        def fire(who: Actor) -> list[Event]:
            return self.engine.fire(case, trigger, who)

        delay = self._duration(pathway, case.state, trigger).sample(rng)
        if self._pool(pathway, actor.role) is None:
            return _Step(delay, fire, actor=actor)

        def may_fire(pool: Pool, person: str) -> Actor | None:
            self._now()
            who = self._actor(pathway, person, pool[1])
            return None if self.engine.why_not(case, trigger, who) else who

        return _Step(delay, fire, pools=self._pools_of(pathway, t.roles), pick=may_fire, work=self._work_time(pathway, trigger))

    def _approver(self, case: Case, pathway: Pathway) -> Pick:
        """Whether a free person may answer the case's pending request (the engine says so)."""

        def able(pool: Pool, person: str) -> Actor | None:
            self._now()
            who = self._actor(pathway, person, pool[1])
            return who if any(o.kind == "approve" and o.allowed for o in self.engine.options(case, who)) else None

        return able

    def _pools_of(self, pathway: Pathway, roles: Iterable[str]) -> tuple[Pool, ...]:
        """The staff pools of ``roles`` (the citizen's side has none)."""
        return tuple(dict.fromkeys(p for r in roles if r in pathway.roles and (p := self._pool(pathway, r)) is not None))

    def _work_time(self, pathway: Pathway, trigger: str) -> Distribution:
        work = self.scenario.durations.work
        return work.triggers.get(f"{pathway.id}.{trigger}", work.triggers.get(trigger, work.default))

    def _able(self, case: Case, pathway: Pathway, t: Transition, now: datetime) -> Actor | None:
        """A present person who may fire ``t`` now (the engine says so), or ``None``."""
        for role in t.roles:
            people = self._present(role, case)
            if not people:
                continue
            actor = self._actor(pathway, people[self.rng.randrange(len(people))], role)
            reasons = self.engine.why_not(case, t.trigger, actor)
            if not reasons:
                return actor
            if t.takes and [r.code for r in reasons] == [RefusalCode.CAPACITY]:
                self._turned_away[t.takes][self._local_hours[int(self.env.now // 3600)].hour] += 1
                self._found_full = True
            for r in reasons:
                if r.code is RefusalCode.RELEASE:  # the definition releases a place the case never took
                    self._defects.setdefault(r.message, case.id)
        return None

    def _approvers(self, case: Case, pathway: Pathway, now: datetime) -> Actor | None:
        """A present person, picked at random, whose approval the engine would accept now."""
        assert case.pending is not None
        t = pathway.find(case.state, case.pending.trigger)
        assert t is not None and t.approval is not None
        people = [(role, person) for role in approvals.eligible_roles(t.approval, pathway)
                  for person in self._present(role, case)]
        self.rng.shuffle(people)
        for role, person in people:
            actor = self._actor(pathway, person, role)
            if any(o.kind == "approve" and o.allowed for o in self.engine.options(case, actor)):
                return actor
        return None

    def _weight(self, pathway: Pathway, t: Transition) -> float:
        w = self.scenario.choices.weights
        return w.get(f"{pathway.id}.{t.trigger}", w.get(t.trigger, 1.0))

    def _duration(self, pathway: Pathway, state: str, trigger: str) -> Distribution:
        d = self.scenario.durations
        for table, key in ((d.triggers, trigger), (d.states, state)):
            found = table.get(f"{pathway.id}.{key}", table.get(key))
            if found is not None:
                return found
        return d.default

    def _stuck(self, case: Case, pathway: Pathway) -> bool:
        """Nobody in the scenario could ever move this case on (see the module docstring)."""
        if case.due_at(pathway) is not None:
            return False
        if case.referral is not None:
            receiver = self.engine.cases.get(case.referral.case_id)
            if receiver is not None and not self.engine.pathway_of(receiver).state(receiver.state).terminal:
                return False
        if case.pending is not None:
            return not any(self._could_approve(case, pathway, role) for role in pathway.roles if self._staffed(pathway, role))
        for t in pathway.transitions_from.get(case.state, ()):
            if pathway.is_leaving(t):
                continue
            for role in t.roles:
                if role not in pathway.roles or not self._staffed(pathway, role):
                    continue
                actor = self._actor(pathway, f"anyone-{role}", role)
                codes = {r.code for r in self.engine.why_not(case, t.trigger, actor)}
                if codes <= {RefusalCode.CAPACITY}:
                    return False
        return True

    def _could_approve(self, case: Case, pathway: Pathway, role: str) -> bool:
        actor = self._actor(pathway, f"anyone-{role}", role)
        return any(o.kind == "approve" and o.allowed for o in self.engine.options(case, actor))

    def _story(self, case: Case, pathway: Pathway, now: datetime) -> Stranded:
        """The case's history in words, and why nobody can move it on."""
        lines = [_describe(e, pathway, self.zone) for e in case.history]
        for t in pathway.transitions_from.get(case.state, ()):
            if pathway.is_leaving(t):
                continue
            why = []
            for role in t.roles:
                if role in pathway.roles and not self._staffed(pathway, role):
                    why.append(tr("nobody in the role {role} is on any shift", role=role_name(pathway, role)))
                elif role in pathway.roles:
                    actor = self._actor(pathway, f"anyone-{role}", role)
                    why += [r.message for r in self.engine.why_not(case, t.trigger, actor)]
            lines.append("  " + tr("'{trigger}' is not possible: {why}", trigger=t.trigger,
                                   why="; ".join(dict.fromkeys(why)) or tr("no role may fire it")))
        lines.append(tr("stranded in {state}: no deadline, no pending answer, and nobody can move the case on",
                        state=state_name(pathway, case.state)))
        return Stranded(case.id, pathway.id, case.state, now, tuple(lines))

    # -- staff ---------------------------------------------------------------------

    def _duties(self) -> dict[Pool, list[Duty]]:
        """Per pool, its shifts: the scenario's for the role if it gives any, else the house's.

        Without any ``staff`` in the scenario, a role the house does not staff (and every
        role of a pathway without a house) has two people at all times.
        """
        scenario, houses = self.scenario, self.registry.houses
        pools = {pool for p in self.registry.versions() for r in p.roles if (pool := self._pool(p, r)) is not None}
        out: dict[Pool, list[Duty]] = {}
        for house_id, role in sorted(pools):
            house = houses.get(house_id)
            holidays = house.holidays if house is not None else frozenset()
            mine = [sh for sh in scenario.staff if sh.role == role and sh.house in (None, house_id or None)]
            if mine:
                out[(house_id, role)] = [
                    Duty(frozenset(WEEKDAYS.index(d) for d in sh.weekdays), Span(sh.hours[0] * 60, sh.hours[1] * 60),
                         sh.count, self.zone, holidays)
                    for sh in mine
                ]
            elif house is not None and role in house.staffing:
                zone = ZoneInfo(house.time_zone)
                out[(house_id, role)] = [
                    Duty(calendar.days_of(s.days), s.hours, s.people, zone, holidays)
                    for s in house.staffing[role] if not s.on_call
                ]
            elif not scenario.staff:
                out[(house_id, role)] = [Duty(frozenset(range(7)), Span(0, 1440), 2, self.zone, holidays)]
        return out

    def _pool(self, pathway: Pathway, role: str) -> Pool | None:
        """Whose people act in ``role`` for a case of ``pathway``; ``None`` for a role that is
        there with the case (:attr:`~pathways.model.Pathway.with_the_case`): everybody else comes
        from a pool of staff."""
        key = (pathway.id, pathway.version, role)
        if key not in self._pools:
            if role in pathway.with_the_case:
                self._pools[key] = None
            else:
                house = pathway.house if pathway.house in self.registry.houses else None
                self._pools[key] = (house or "", role)
        return self._pools[key]

    def _staffed(self, pathway: Pathway, role: str) -> bool:
        """Somebody holds ``role`` for this pathway at some moment of the period."""
        pool = self._pool(pathway, role)
        return pool is None or pool in self.roster.ever

    def _until_shift_change(self) -> float:
        """Seconds until the staff present change (capped just past the end of the period)."""
        return min(self.roster.next_change(self.env.now), self.scenario.period.total_seconds() - self.env.now + 1)

    def on_shift(self, role: str, at: datetime, house: str | None = None) -> tuple[str, ...]:
        """The staff (person ids) in ``role`` (of ``house``) who are present at ``at``."""
        return self.roster.at((house or "", role), (at - self.scenario.start).total_seconds())

    def _present(self, role: str, case: Case) -> tuple[str, ...]:
        pathway = self.engine.pathway_of(case)
        pool = self._pool(pathway, role)
        if pool is None:
            return (case.citizen,) if pathway.is_citizen(role) else (f"{case.citizen}/{role}",)
        return self.roster.at(pool, self.env.now)

    def _actor(self, pathway: Pathway, person: str, role: str) -> Actor:
        key = (pathway.id, person, role)
        actor = self._actors.get(key)
        if actor is None:
            sector = pathway.roles[role].sector if role in pathway.roles else "?"
            actor = self._actors[key] = Actor(person, role, sector)
        return actor

    # -- counting ------------------------------------------------------------------

    def _result(self) -> SimulationResult:
        by_pathway: dict[str, list[Case]] = defaultdict(list)
        self._livelocks = {}
        for case in self.engine.cases.values():
            by_pathway[case.pathway_id].append(case)
            if case.id not in self._stranded and not self._closed(case.id):
                found = _livelock(case, self.engine.pathway_of(case), self.scenario.livelock_repeats, self.zone)
                if found is not None:
                    self._livelocks[case.id] = found
        answered: dict[str, list[float]] = defaultdict(list)
        results = {pid: self._count(pid, cases, answered) for pid, cases in sorted(by_pathway.items())}
        overall_waits: dict[str, WaitStats] = {}
        for pid, r in results.items():
            overall_waits.update({f"{pid}.{s}": w for s, w in r.waits.items()})
        totals = {
            f: sum(getattr(r, f) for r in results.values())
            for f in ("started", "completed", "handed_over", "left", "open", "stranded", "livelocked", "deadlines_fired",
                      "approval_timeouts")
        }
        overall = PathwayResult("*", waits=overall_waits, **totals)
        return SimulationResult(
            scenario=self.scenario.name,
            seed=self.seed,
            start=self.scenario.start,
            end=self.scenario.end,
            overall=overall,
            pathways=results,
            approvals={k: WaitStats.of(v) for k, v in sorted(answered.items())},
            occupancy={r: tuple(v) for r, v in self._occupancy.items()},
            capacity={r: self.engine.capacity(r) for r in self._resources},
            peak={r: max(n for _, n in v) for r, v in self._occupancy.items()},
            turned_away={r: tuple(v) for r, v in self._turned_away.items()},
            flows=dict(sorted(self._flows.items())),
            steps=self._steps,
            stranded_cases=tuple(s for cid, s in sorted(self._stranded.items()) if not self._closed(cid)),
            defects=tuple(tr("{defect} (first: {case})", defect=text, case=cid) for text, cid in self._defects.items()),
            closed_arrivals=dict(sorted(self._closed_arrivals.items())),
            goals=measure_by_house(self.engine.cases.values(), self.registry, start=self.scenario.start, end=self.scenario.end),
            livelocks=tuple(x for _, x in sorted(self._livelocks.items())),
            arrivals=dict(sorted(self._arrived.items())),
            roles=self._roles(),
        )

    def _roles(self) -> dict[str, RoleLoad]:
        """Utilisation and queues of the roles of the houses whose pathways had cases."""
        used = {id(p): p for p in map(self.engine.pathway_of, self.engine.cases.values())}.values()
        houses = {pool[0] for p in used for r in p.roles if (pool := self._pool(p, r)) is not None}
        work = self._work
        duty = work.on_duty(self.scenario.period.total_seconds())
        out: dict[str, RoleLoad] = {}
        for pool in sorted(self.roster.ever):
            if pool[0] not in houses:
                continue
            worked, present = work.worked.get(pool, [0.0] * HOURS_OF_WEEK), duty[pool]
            by_hour = tuple(round(w / d, 4) if d else None for w, d in zip(worked, present, strict=True))
            out[f"{pool[0]}/{pool[1]}" if pool[0] else pool[1]] = RoleLoad(
                pool[0], pool[1], len(work.waits.get(pool, ())), round(sum(present) / 3600, 2), round(sum(worked) / 3600, 2),
                round(work.overtime.get(pool, 0.0) / 3600, 2), WaitStats.of(work.waits.get(pool, ())), by_hour,
            )
        return out

    def _closed(self, case_id: str) -> bool:
        case = self.engine.cases[case_id]
        return self.engine.pathway_of(case).state(case.state).terminal

    def _count(self, pid: str, cases: list[Case], answered: dict[str, list[float]]) -> PathwayResult:
        outcomes: Counter[str] = Counter()
        waits: dict[str, list[float]] = defaultdict(list)
        deadlines = timeouts = 0
        for case in cases:
            pathway = self.engine.pathway_of(case)
            state = pathway.state(case.state)
            if state.id in pathway.exits_by_choice:
                outcomes["left"] += 1
            elif state.terminal:
                outcomes["completed"] += 1
                outcomes["handed_over"] += state.outcome is Outcome.HANDED_OVER
            elif case.id in self._stranded:
                outcomes["stranded"] += 1
            elif case.id in self._livelocks:
                outcomes["livelocked"] += 1
            else:
                outcomes["open"] += 1
            current, entered = case.history[0].to_state, case.history[0].at
            requested: datetime | None = None
            for e in case.history[1:]:
                if e.kind is EventKind.ESCALATED:
                    deadlines += 1
                if e.kind is EventKind.REFUSED and e.actor is None:
                    timeouts += 1
                if e.kind is EventKind.REQUESTED:
                    requested = e.at
                elif requested is not None and (e.kind is EventKind.REFUSED or (e.kind is EventKind.FIRED and e.approvals)):
                    answered[f"{pid}.{e.trigger}"].append((e.at - requested).total_seconds())
                    requested = None
                if e.kind in _MOVES and e.to_state != current:
                    waits[current].append((e.at - entered).total_seconds())
                    current, entered = e.to_state, e.at
                    requested = None
        return PathwayResult(
            pid, len(cases), outcomes["completed"], outcomes["handed_over"], outcomes["left"], outcomes["open"],
            outcomes["stranded"], outcomes["livelocked"], deadlines, timeouts, {s: WaitStats.of(v) for s, v in sorted(waits.items())},
        )


_LONGEST_ROUND = 4
"""Livelocks are looked for in rounds of at most this many steps (request, timeout, …)."""

_STORY_HEAD = 20
"""A livelock's story keeps at most this many steps from before the loop."""


def _livelock(case: Case, pathway: Pathway, repeats: int, zone: tzinfo) -> Livelock | None:
    """The loop ``case`` ends in, if the same round of steps, all in its current state,
    repeats at least ``repeats`` times at the end of its history, and the round is the
    house's doing (a staff act, a deadline or a timeout), not only the citizen's side's."""
    tail: list[Event] = []
    for e in reversed(case.history):
        if e.kind is EventKind.STARTED or e.from_state != case.state or e.to_state != case.state:
            break
        tail.append(e)
    tail.reverse()
    signs = [(e.kind, e.trigger, e.actor is None) for e in tail]
    for length in range(1, _LONGEST_ROUND + 1):
        if len(signs) < length * repeats:
            return None
        pattern, end, rounds = signs[-length:], len(signs), 0
        while end >= length and signs[end - length:end] == pattern:
            rounds, end = rounds + 1, end - length
        if rounds >= repeats:
            first = len(case.history) - len(tail) + end
            side = pathway.citizen_side
            if all(e.actor is not None and e.actor.role in side for e in case.history[first:first + length]):
                return None  # the citizen repeating their own move (inviting relatives again) is their choice
            before = [_describe(e, pathway, zone) for e in case.history[:first]]
            if len(before) > _STORY_HEAD:
                skipped = tr("… {count} more steps …", count=len(before) - _STORY_HEAD)
                before = [*before[:_STORY_HEAD // 2], skipped, *before[-_STORY_HEAD // 2:]]
            cycle = tuple(_describe(e, pathway, zone) for e in case.history[first:first + length])
            start, last = case.history[first].at.astimezone(zone), case.history[-1].at.astimezone(zone)
            story = (
                *before,
                tr("then {rounds} times the same {length} step(s), from {start} to {end}; the first round:",
                   rounds=rounds, length=length, start=start.strftime("%Y-%m-%d %H:%M"), end=last.strftime("%Y-%m-%d %H:%M")),
                *(f"  {line}" for line in cycle),
                tr("livelock in {state}: the same steps repeat without progress (still at the end of the period)",
                   state=state_name(pathway, case.state)),
            )
            return Livelock(case.id, pathway.id, case.state, case.history[first].at, rounds, cycle, story)
    return None


def _zone(scenario: Scenario, registry: Registry) -> tzinfo:
    """The scenario's ``time_zone``, else the one zone of the houses, else the start's offset."""
    if scenario.time_zone is not None:
        return ZoneInfo(scenario.time_zone)
    zones = {h.time_zone for h in registry.houses.values()}
    if len(zones) == 1:
        return ZoneInfo(zones.pop())
    assert scenario.start.tzinfo is not None  # the scenario loader demands an offset
    return scenario.start.tzinfo


def _in_window(hours: tuple[int, ...], hour: int) -> bool:
    start, end = hours
    return start <= hour < end if start < end else (hour >= start or hour < end)


def _window_length(hours: tuple[int, ...]) -> int:
    start, end = hours
    return end - start if start < end else 24 - start + end


def _describe(e: Event, pathway: Pathway, zone: tzinfo | None = None) -> str:
    """One step of a case's history in words: when, what, by whom (role by its label), where to."""
    when = e.at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if zone is not None else e.at.strftime("%Y-%m-%d %H:%M")
    who = f"{role_name(pathway, e.actor.role)} ({e.actor.person})" if e.actor else None
    if e.kind is EventKind.STARTED:
        state = state_name(pathway, e.to_state)
        return tr("{when} started in {state} by {who}", when=when, state=state, who=who) if who else \
            tr("{when} started in {state}", when=when, state=state)
    if e.kind is EventKind.FACT_SET:
        yes, no = tr("yes"), tr("no")
        facts = ", ".join(f"{k} = {yes if v else no}" for k, v in e.facts.items())
        return tr("{when} {who} records {facts}", when=when, who=who, facts=facts) if who else \
            tr("{when} facts set: {facts}", when=when, facts=facts)
    if e.from_state != e.to_state:
        move = f"{state_name(pathway, e.from_state or '')} → {state_name(pathway, e.to_state)}"
    else:
        move = tr("stays in {state}", state=state_name(pathway, e.to_state))
    kind, trigger = _kind_words(e.kind), e.trigger or ""
    text = tr("{when} {kind} '{trigger}' by {who}: {move}", when=when, kind=kind, trigger=trigger, who=who, move=move) if who \
        else tr("{when} {kind} '{trigger}': {move}", when=when, kind=kind, trigger=trigger, move=move)
    return f"{text} ({_reason_words(e.reason)})" if e.reason else text


def _kind_words(kind: EventKind) -> str:
    """What an event records, in words (the story's verb)."""
    match kind:
        case EventKind.STARTED:
            return tr("started")
        case EventKind.FIRED:
            return tr("fired")
        case EventKind.ESCALATED:
            return tr("escalated")
        case EventKind.REQUESTED:
            return tr("requested")
        case EventKind.APPROVED:
            return tr("approved")
        case EventKind.REFUSED:
            return tr("refused")
        case EventKind.FACT_SET:
            return tr("facts set")
        case EventKind.HANDOVER_ACCEPTED:
            return tr("hand-over accepted")
        case EventKind.HANDOVER_DECLINED:
            return tr("hand-over declined")
        case other:  # pragma: no cover - mypy names a new kind here
            assert_never(other)


def _reason_words(reason: str) -> str:
    """The engine's own reasons in the current language; a person's words stay as they wrote them."""
    if reason == ClockReason.APPROVAL_TIMED_OUT.value:
        return tr("approval timed out")
    if reason == ClockReason.DEADLINE_PASSED.value:
        return tr("deadline passed")
    return reason
