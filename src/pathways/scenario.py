"""Simulation scenarios: a YAML file that says who arrives, when, and how long things take.

A scenario is to :mod:`pathways.simulate` what a definition is to the engine: a frozen,
checked description. It is loaded with the same strict converter as definitions (unknown
keys are errors) and every mistake is reported at once, with file, line and a hint, as a
:class:`~pathways.errors.ScenarioError`. The reference is ``docs/simulation.md``.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import cattrs

from ._converter import make_converter, parse_duration
from ._documents import MAX_FILE_BYTES, DocPath, Found, Positions, did_you_mean, read_document, read_fields
from .errors import Problem, ScenarioError
from .registry import Registry

__all__ = [
    "WEEKDAYS",
    "Arrival",
    "Choices",
    "DistKind",
    "Distribution",
    "Durations",
    "Scenario",
    "Shift",
    "Work",
    "load_scenario",
    "load_scenario_text",
    "scenario_problems",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday names as scenarios write them; index = :meth:`datetime.weekday`."""


class DistKind(enum.Enum):
    """The shapes a step duration can take."""

    FIXED = "fixed"
    EXPONENTIAL = "exponential"
    UNIFORM = "uniform"
    TRIANGULAR = "triangular"
    LOGNORMAL = "lognormal"


_NEEDS: dict[DistKind, tuple[str, ...]] = {
    DistKind.FIXED: ("mean",),
    DistKind.EXPONENTIAL: ("mean",),
    DistKind.UNIFORM: ("low", "high"),
    DistKind.TRIANGULAR: ("low", "mode", "high"),
    DistKind.LOGNORMAL: ("median", "sigma"),
}


@attrs.frozen
class Distribution:
    """How long a step takes; a plain duration such as ``PT1H`` means ``fixed``.

    ``fixed``/``exponential`` use ``mean``; ``uniform`` ``low``/``high``; ``triangular``
    ``low``/``mode``/``high``; ``lognormal`` ``median`` and ``sigma`` (of the log).
    """

    dist: DistKind = DistKind.FIXED
    mean: timedelta | None = None
    low: timedelta | None = None
    high: timedelta | None = None
    mode: timedelta | None = None
    median: timedelta | None = None
    sigma: float | None = None

    def sample(self, rng: random.Random) -> float:
        """One duration in whole seconds (at least 1), drawn from ``rng``."""
        sec = _seconds
        kind = self.dist
        if kind is DistKind.FIXED:
            value = sec(self.mean)
        elif kind is DistKind.EXPONENTIAL:
            value = rng.expovariate(1.0 / max(sec(self.mean), 1.0))
        elif kind is DistKind.UNIFORM:
            value = rng.uniform(sec(self.low), sec(self.high))
        elif kind is DistKind.TRIANGULAR:
            value = rng.triangular(sec(self.low), sec(self.high), sec(self.mode))
        else:
            value = rng.lognormvariate(math.log(max(sec(self.median), 1.0)), self.sigma or 0.0)
        return float(max(1, round(value)))

    def mean_seconds(self) -> float:
        """The expected value, for documentation and sanity checks."""
        sec = _seconds
        kind = self.dist
        if kind in (DistKind.FIXED, DistKind.EXPONENTIAL):
            return sec(self.mean)
        if kind is DistKind.UNIFORM:
            return (sec(self.low) + sec(self.high)) / 2
        if kind is DistKind.TRIANGULAR:
            return (sec(self.low) + sec(self.mode) + sec(self.high)) / 3
        return sec(self.median) * math.exp((self.sigma or 0.0) ** 2 / 2)


def _seconds(delta: timedelta | None) -> float:
    return delta.total_seconds() if delta is not None else 0.0


@attrs.frozen
class Arrival:
    """Citizens arriving at a pathway: a Poisson stream, spread evenly over open hours.

    ``per_day`` is the mean number of arrivals on an open day (times ``weekday_factor``
    of that day, default 1). ``hours`` is ``[from, to)`` in the scenario's local hours
    (:attr:`Scenario.time_zone`); ``[16, 24]`` is Socialvagten's 16:00-24:00; ``from > to``
    wraps past midnight. A public holiday of the pathway's house counts as a Sunday, as
    in the house's calendar. ``facts`` gives the probability of each fact being true for
    these citizens (overrides the scenario mix).
    """

    pathway: str
    per_day: float
    hours: tuple[int, ...] = (0, 24)
    weekdays: tuple[str, ...] = WEEKDAYS
    weekday_factor: Mapping[str, float] = attrs.field(factory=dict)
    facts: Mapping[str, float] = attrs.field(factory=dict)


@attrs.frozen
class Shift:
    """``count`` people in ``role`` present during ``hours`` on ``weekdays`` (local hours).

    A scenario's shifts for a role replace the house file's staffing of that role (in
    ``house``, or in every house when ``house`` is not given).
    """

    role: str
    count: int = 1
    hours: tuple[int, ...] = (0, 24)
    weekdays: tuple[str, ...] = WEEKDAYS
    house: str | None = None


@attrs.frozen
class Work:
    """How long the person who acts is busy with the citizen: staff help one citizen at a time.

    A staff member's step is a wait (``durations.states``/``triggers``/``default``: the time
    until the act), a queue (until a person of the role is free) and the act, after which
    the person stays busy with this citizen for the work time. ``triggers`` per ``trigger``
    or ``pathway.trigger``; ``approval`` is answering a request for approval.
    """

    default: Distribution = Distribution(DistKind.EXPONENTIAL, mean=timedelta(minutes=20))
    triggers: Mapping[str, Distribution] = attrs.field(factory=dict)
    approval: Distribution = Distribution(DistKind.FIXED, mean=timedelta(minutes=10))


@attrs.frozen
class Durations:
    """Step durations: per ``pathway.trigger``/``trigger``, else per ``pathway.state``/``state``.

    ``approval`` is how long a present leader takes to answer a request; ``retry`` is
    how long a case waits before looking again when nobody present can move it.
    """

    default: Distribution = Distribution(DistKind.EXPONENTIAL, mean=timedelta(hours=1))
    states: Mapping[str, Distribution] = attrs.field(factory=dict)
    triggers: Mapping[str, Distribution] = attrs.field(factory=dict)
    approval: Distribution = Distribution(DistKind.EXPONENTIAL, mean=timedelta(minutes=30))
    retry: timedelta = timedelta(minutes=30)
    work: Work = Work()


@attrs.frozen
class Choices:
    """Probabilities of the choices people make; each in ``[0, 1]``.

    ``leave``: at each decision, the citizen leaves by own choice (where they may).
    ``refuse``: a leader refuses a request for approval. ``decline``: an intake declines
    a hand-over. ``escalate``: staff fire a state's deadline trigger before it is due.
    ``weights``: relative weight of the other triggers (``trigger`` or ``pathway.trigger``,
    default 1; 0 means never chosen by staff).
    """

    leave: float = 0.02
    refuse: float = 0.1
    decline: float = 0.1
    escalate: float = 0.0
    weights: Mapping[str, float] = attrs.field(factory=dict)


@attrs.frozen
class Scenario:
    """A simulated period of a house: arrivals, the citizen mix, staff, durations, choices."""

    name: str
    start: datetime
    period: timedelta
    arrivals: tuple[Arrival, ...]
    seed: int = 0
    description: str = ""
    definitions: str = "definitions"
    """Folder of definitions, relative to the scenario file."""
    mix: Mapping[str, float] = attrs.field(factory=dict)
    """Probability that each fact is true for an arriving citizen."""
    durations: Durations = Durations()
    staff: tuple[Shift, ...] = ()
    capacities: Mapping[str, int] = attrs.field(factory=dict)
    """Override the capacity of shared resources, e.g. ``overnight_places: 20``."""
    choices: Choices = Choices()
    livelock_repeats: int = 5
    """A case whose history ends in this many rounds of the same steps in one state is livelocked."""
    time_zone: str | None = None
    """The zone of the hours in ``arrivals`` and ``staff`` (e.g. ``Europe/Copenhagen``);
    default: the houses' zone, else the offset of ``start``."""
    source: str = attrs.field(default="<string>", eq=False, metadata={"schema": False})
    """The file the scenario came from (set by the loader)."""

    @property
    def end(self) -> datetime:
        return self.start + self.period

    def definitions_path(self) -> Path:
        """The definitions folder, resolved against the scenario file's folder."""
        folder = Path(self.source).parent if self.source != "<string>" else Path(".")
        return folder / self.definitions


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _strict_float(value: Any, _: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)


def _make_converter() -> cattrs.Converter:
    conv = make_converter()
    conv.register_structure_hook(float, _strict_float)
    base = cattrs.gen.make_dict_structure_fn(Distribution, conv, _cattrs_forbid_extra_keys=True)

    def distribution(value: Any, cls: Any) -> Distribution:
        if isinstance(value, str):
            return Distribution(DistKind.FIXED, mean=parse_duration(value))
        return base(value, cls)

    conv.register_structure_hook(Distribution, distribution)
    return conv


_converter = _make_converter()

_POSITIONS = Positions()
"""The parsed document of each living scenario, so checks against definitions can name lines."""


def load_scenario(path: str | Path, *, max_bytes: int = MAX_FILE_BYTES) -> Scenario:
    """Load a scenario file.

    Raises:
        ScenarioError: with every problem in the file.
    """
    path = Path(path)
    return load_scenario_text(read_document(path, ScenarioError, max_bytes), str(path))


def load_scenario_text(text: str, file: str = "<string>") -> Scenario:
    """Load a scenario from YAML text; ``file`` names it in messages and anchors ``definitions``."""
    return read_fields(
        text, file, Scenario, _converter, ScenarioError, not_mapping="a scenario must be a mapping of fields",
        start="start with 'name: my scenario'", shape=_shape, positions=_POSITIONS,
    )


def scenario_problems(scenario: Scenario, registry: Registry) -> list[Problem]:
    """Problems between a scenario and the definitions it runs on (unknown names)."""
    return _POSITIONS.problems(scenario, scenario.source, _against(scenario, registry))


def _prob(path: DocPath, value: float) -> Iterator[Found]:
    if not 0.0 <= value <= 1.0:
        yield (path, f"a probability must be between 0 and 1, got {value}", None)


def _hours(path: DocPath, hours: tuple[int, ...]) -> Iterator[Found]:
    if len(hours) != 2 or not all(0 <= h <= 24 for h in hours) or hours[0] == hours[1]:
        yield (path, f"hours must be [from, to] with 0 <= hour <= 24 and from != to, got {list(hours)}",
               "write e.g. [16, 24] for 16:00-24:00, or [16, 8] for an evening-and-night shift")


def _days(path: DocPath, days: tuple[str, ...] | Mapping[str, float]) -> Iterator[Found]:
    for i, d in enumerate(days):
        if d not in WEEKDAYS:
            yield ((*path, i) if isinstance(days, tuple) else (*path, d), f"unknown weekday {d!r}",
                   did_you_mean(d, WEEKDAYS, "weekday"))


def _dist(path: DocPath, d: Distribution) -> Iterator[Found]:
    needed = _NEEDS[d.dist]
    for name in needed:
        if getattr(d, name) is None:
            yield ((*path, name), f"a {d.dist.value} distribution needs {name!r}", f"add '{name}:'")
    for a in attrs.fields(Distribution):
        if a.name != "dist" and a.name not in needed and getattr(d, a.name) is not None:
            yield ((*path, a.name), f"{a.name!r} does not apply to a {d.dist.value} distribution",
                   f"a {d.dist.value} distribution takes {', '.join(needed)}")
    if d.dist is DistKind.UNIFORM and d.low is not None and d.high is not None and d.low > d.high:
        yield (path, "low must not be greater than high", None)
    if d.dist is DistKind.TRIANGULAR and None not in (d.low, d.mode, d.high):
        assert d.low is not None and d.mode is not None and d.high is not None
        if not d.low <= d.mode <= d.high:
            yield (path, "a triangular distribution needs low <= mode <= high", None)
    if d.sigma is not None and d.sigma < 0:
        yield ((*path, "sigma"), f"sigma must not be negative, got {d.sigma}", None)


def _shape(s: Scenario) -> Iterator[Found]:
    """Checks that need no definitions: ranges, weekdays, distributions."""
    if s.start.tzinfo is None:
        yield (("start",), f"start {s.start.isoformat()} has no time zone",
               "write it with an offset, e.g. 2026-01-05T00:00:00+01:00")
    if s.time_zone is not None and not _known_zone(s.time_zone):
        yield (("time_zone",), f"unknown time zone {s.time_zone!r}", "write an IANA name, e.g. Europe/Copenhagen")
    if s.livelock_repeats < 2:
        yield (("livelock_repeats",), f"livelock_repeats must be at least 2, got {s.livelock_repeats}",
               "a loop is a round of steps seen at least twice, e.g. 5")
    if s.period <= timedelta(0):
        yield (("period",), "the period must be longer than zero", "e.g. P7D or P365D")
    if not s.arrivals:
        yield (("arrivals",), "no arrivals: nobody would be simulated", "add at least one arrival pattern")
    for i, a in enumerate(s.arrivals):
        if a.per_day < 0:
            yield (("arrivals", i, "per_day"), f"per_day must not be negative, got {a.per_day}", None)
        yield from _hours(("arrivals", i, "hours"), a.hours)
        yield from _days(("arrivals", i, "weekdays"), a.weekdays)
        yield from _days(("arrivals", i, "weekday_factor"), a.weekday_factor)
        for fact, p in a.facts.items():
            yield from _prob(("arrivals", i, "facts", fact), p)
    for fact, p in s.mix.items():
        yield from _prob(("mix", fact), p)
    for i, sh in enumerate(s.staff):
        if sh.count < 1:
            yield (("staff", i, "count"), f"count must be at least 1, got {sh.count}", "remove the shift instead")
        yield from _hours(("staff", i, "hours"), sh.hours)
        yield from _days(("staff", i, "weekdays"), sh.weekdays)
    for name in ("leave", "refuse", "decline", "escalate"):
        yield from _prob(("choices", name), getattr(s.choices, name))
    for key, w in s.choices.weights.items():
        if w < 0:
            yield (("choices", "weights", key), f"a weight must not be negative, got {w}", None)
    yield from _dist(("durations", "default"), s.durations.default)
    yield from _dist(("durations", "approval"), s.durations.approval)
    for group in ("states", "triggers"):
        for key, d in getattr(s.durations, group).items():
            yield from _dist(("durations", group, key), d)
    yield from _dist(("durations", "work", "default"), s.durations.work.default)
    yield from _dist(("durations", "work", "approval"), s.durations.work.approval)
    for key, d in s.durations.work.triggers.items():
        yield from _dist(("durations", "work", "triggers", key), d)
    if s.durations.retry <= timedelta(0):
        yield (("durations", "retry"), "retry must be longer than zero", "e.g. PT30M")
    for res, cap in s.capacities.items():
        if cap < 1:
            yield (("capacities", res), f"capacity must be at least 1, got {cap}", None)


def _against(s: Scenario, registry: Registry) -> Iterator[Found]:
    """Names in the scenario that the definitions do not have."""
    known = set(registry)
    roles = {r for p in registry.values() for r in p.roles}
    facts = {f for p in registry.values() for f in p.facts}
    for i, a in enumerate(s.arrivals):
        if a.pathway not in known:
            yield (("arrivals", i, "pathway"), f"unknown pathway {a.pathway!r}", did_you_mean(a.pathway, registry, "pathway"))
            continue
        for fact in a.facts:
            if fact not in registry[a.pathway].facts:
                yield (("arrivals", i, "facts", fact), f"pathway {a.pathway!r} has no fact {fact!r}",
                       did_you_mean(fact, registry[a.pathway].facts, "fact"))
    for fact in s.mix:
        if fact not in facts:
            yield (("mix", fact), f"no pathway has a fact {fact!r}", did_you_mean(fact, facts, "fact"))
    side = {r for p in registry.values() for r in p.roles if r in p.with_the_case}
    side -= {r for p in registry.values() for r in p.roles if r not in p.with_the_case}
    for i, sh in enumerate(s.staff):
        if sh.role not in roles:
            yield (("staff", i, "role"), f"no pathway has a role {sh.role!r}", did_you_mean(sh.role, roles, "role"))
        elif sh.role in side:
            yield (("staff", i, "role"), f"role {sh.role!r} is there with the case (the citizen's side, or the organisation "
                   "the pathway is about): it has no shifts", "remove the shift")
        if sh.house is not None and sh.house not in registry.houses:
            yield (("staff", i, "house"), f"unknown house {sh.house!r}", did_you_mean(sh.house, registry.houses, "house"))
    resources = registry.resources()
    for res in s.capacities:
        if res not in resources:
            yield (("capacities", res), f"no pathway has a resource {res!r}", did_you_mean(res, resources, "resource"))
    for group, names in (
        ("states", lambda p: [st.id for st in p.states]),
        ("triggers", lambda p: list(p.triggers)),
    ):
        for key in getattr(s.durations, group):
            yield from _name(("durations", group, key), key, registry, names, group[:-1])
    for key in s.durations.work.triggers:
        yield from _name(("durations", "work", "triggers", key), key, registry, lambda p: list(p.triggers), "trigger")
    for key in s.choices.weights:
        yield from _name(("choices", "weights", key), key, registry, lambda p: list(p.triggers), "trigger")


def _name(path: DocPath, key: str, registry: Registry, names: Any, what: str) -> Iterator[Found]:
    """``pathway.name`` must exist in that pathway; a bare ``name`` in some pathway."""
    if "." in key:
        pid, name = key.split(".", 1)
        if pid not in set(registry):
            yield (path, f"unknown pathway {pid!r}", did_you_mean(pid, registry, "pathway"))
        elif name not in names(registry[pid]):
            yield (path, f"pathway {pid!r} has no {what} {name!r}", did_you_mean(name, names(registry[pid]), what))
        return
    every = {n for p in registry.values() for n in names(p)}
    if key not in every:
        yield (path, f"no pathway has a {what} {key!r}", did_you_mean(key, every, what))
