"""The houses' own goals, measured on cases: simulated ones or a store's real ones.

Seed 004 names what the houses are measured on: "Færre uhensigtsmæssige indlæggelser og
genindlæggelser i psykiatrien", "Flere borgere er i stand til at bo i eget hjem", "Flere kan
bevare tilknytning til uddannelse og beskæftigelse", "Bedre udnyttelse af de samlede
ressourcer". Where a pathway can show one, a designer marks the state with ``goal:`` (see
:class:`~pathways.model.Goal`); this module counts, per house:

- **admissions avoided**: cases that entered a state marked ``admission_avoided`` (a stay in
  an overnight place, treatment at home), and **admissions**: cases that entered a state
  marked ``admitted`` (the acute ward outside the house admitted the citizen);
- **readmissions within 30 days**: admissions of a citizen less than 30 days after that
  citizen's previous admission;
- **education or work**: cases that reached a state marked ``education_or_work``, with the
  ends of every pathway that has such a state (the job bridge's outcomes);
- **use of the places**: hours each shared resource (the 16 overnight places) was held,
  against its capacity over the period;
- **left without a follow-up offer**: cases that ended (completed or left by choice) in a
  terminal state with no ``follow_up`` — the house's goal is none.

A goal that none of the pathways the cases ran on can show (Copenhagen's seed describes no
overnight places and no job bridge) is ``None`` — "no such service" — never a zero that looks
measured. One function, :func:`measure`, serves the simulation report and ``pathways goals``
on a store alike, so the two cannot disagree on a meaning.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from .case import Case, EventKind
from .i18n import tr
from .model import Goal, Outcome, Pathway
from .registry import Registry

__all__ = ["READMISSION_WINDOW", "GoalCounts", "measure", "measure_by_house"]

READMISSION_WINDOW = timedelta(days=30)
"""An admission this soon after the citizen's previous one counts as a readmission."""

_ALL = "*"


@attrs.frozen
class GoalCounts:
    """The goals of one house (``house`` is ``*`` for cases of no named house)."""

    house: str
    cases: int
    citizens: int
    admissions_avoided: int | None
    """``None`` when none of the house's pathways can measure it (the house offers no such service)."""
    admissions: int | None
    readmissions: int | None
    education_or_work: int | None
    outcomes: Mapping[str, int]
    """Ends of the pathways that have an ``education_or_work`` state, as ``pathway.state``."""
    place_hours: Mapping[str, float]
    """Per shared resource of the house's pathways: hours its places were held in the period."""
    place_use: Mapping[str, float]
    """Per shared resource: ``place_hours`` over capacity times the period's hours (0 to 1)."""
    left_without_follow_up: tuple[str, ...]
    """Ids of cases that ended with no follow-up offer (should be none)."""

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self, recurse=False)
        data["left_without_follow_up"] = list(self.left_without_follow_up)
        data["outcomes"] = dict(self.outcomes)
        data["place_hours"] = dict(self.place_hours)
        data["place_use"] = dict(self.place_use)
        return data

    def rows(self) -> list[tuple[str, str]]:
        """The goals as (what, figure) rows for a table, in the seed's order and the current language."""
        rows = [
            (tr("admissions avoided (stays and treatment at home instead)"), _figure(self.admissions_avoided)),
            (tr("admissions (acute ward)"), _figure(self.admissions)),
            (tr("readmissions within {days} days", days=READMISSION_WINDOW.days), _figure(self.readmissions)),
            (tr("reached or kept education or work"), _figure(self.education_or_work)),
        ]
        rows += [(tr("  outcome {outcome}", outcome=k), str(v)) for k, v in sorted(self.outcomes.items())]
        for r in sorted(self.place_hours):
            share, hours = format(self.place_use[r], ".0%"), format(self.place_hours[r], ",.0f")
            rows.append((tr("use of {resource}", resource=r), tr("{share} ({hours} place-hours)", share=share, hours=hours)))
        rows.append((tr("left without a follow-up offer (goal: none)"), str(len(self.left_without_follow_up))))
        return rows


def _figure(count: int | None) -> str:
    return tr("no such service") if count is None else str(count)


def _house_of(pathway: Pathway) -> str | None:
    house = getattr(pathway, "house", None)
    return house if isinstance(house, str) and house else None


def measure_by_house(
    cases: Iterable[Case], registry: Registry, *, start: datetime | None = None, end: datetime | None = None
) -> dict[str, GoalCounts]:
    """:func:`measure` for each house whose pathways the cases ran on, by house id.

    A case of a pathway no house owns (room lending shared by both houses, the acute ward
    outside them) counts for the house of the case that handed the citizen over to it;
    started on its own, it counts under ``*``.
    """
    cases = list(cases)
    by_id = {c.id: c for c in cases}

    def house(case: Case, depth: int = 0) -> str:
        named = _house_of(registry.get_version(case.pathway_id, case.version))
        if named is not None:
            return named
        sender = by_id.get(case.referred_by.case_id) if case.referred_by is not None else None
        return house(sender, depth + 1) if sender is not None and depth < len(by_id) else _ALL

    groups: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        groups[house(case)].append(case)
    return {h: measure(group, registry, start=start, end=end, house=h) for h, group in sorted(groups.items())}


def measure(
    cases: Iterable[Case], registry: Registry, *, start: datetime | None = None, end: datetime | None = None,
    house: str = _ALL,
) -> GoalCounts:
    """Count the goals over ``cases`` (each with its history) between ``start`` and ``end``.

    Args:
        cases: cases with their histories; hand-overs are separate cases of the same citizen.
        registry: the definitions the cases ran on (every version they name).
        start, end: the period for the use of places; by default the first and last event.
    """
    cases = list(cases)
    offered = {(c.pathway_id, c.version) for c in cases}
    pathways = [registry.get_version(pid, version) for pid, version in sorted(offered)]
    goals = {s.goal for p in pathways for s in p.states if s.goal is not None}
    entered: dict[Goal, list[tuple[str, datetime]]] = defaultdict(list)
    outcomes: dict[str, int] = defaultdict(int)
    held: dict[str, float] = defaultdict(float)
    silent: list[str] = []
    times = [e.at for c in cases for e in c.history]
    start = start or (min(times) if times else None)
    end = end or (max(times) if times else None)
    bridges = {p.id for p in pathways if any(s.goal is Goal.EDUCATION_OR_WORK for s in p.states)}
    for case in cases:
        pathway = registry.get_version(case.pathway_id, case.version)
        seen: set[Goal] = set()
        for event in case.history:
            state = pathway.state_by_id.get(event.to_state)
            if state is not None and state.goal is not None and state.goal not in seen and event.to_state != event.from_state:
                seen.add(state.goal)
                entered[state.goal].append((case.citizen, event.at))
        for resource, hours in _held_hours(case, pathway, end).items():
            held[resource] += hours
        here = pathway.state(case.state)
        if here.terminal:
            if pathway.id in bridges:
                outcomes[f"{pathway.id}.{here.id}"] += 1
            if here.outcome in (Outcome.COMPLETED, Outcome.LEFT_BY_CHOICE) and here.follow_up is None:
                silent.append(case.id)
    period_hours = (end - start).total_seconds() / 3600 if start and end and end > start else 0.0
    used = {r for p in pathways for r in p.resources}
    capacities = {r: res for r, res in registry.resources().items() if r in used}
    use = {
        r: (held.get(r, 0.0) / (capacities[r].capacity * period_hours) if period_hours else 0.0)
        for r in sorted(capacities)
    }
    return GoalCounts(
        house=house,
        cases=len(cases),
        citizens=len({c.citizen for c in cases}),
        admissions_avoided=len(entered[Goal.ADMISSION_AVOIDED]) if Goal.ADMISSION_AVOIDED in goals else None,
        admissions=len(entered[Goal.ADMITTED]) if Goal.ADMITTED in goals else None,
        readmissions=_readmissions(entered[Goal.ADMITTED]) if Goal.ADMITTED in goals else None,
        education_or_work=len(entered[Goal.EDUCATION_OR_WORK]) if Goal.EDUCATION_OR_WORK in goals else None,
        outcomes=dict(sorted(outcomes.items())),
        place_hours={r: held.get(r, 0.0) for r in sorted(capacities)},
        place_use=use,
        left_without_follow_up=tuple(sorted(silent)),
    )


def _readmissions(admissions: list[tuple[str, datetime]]) -> int:
    by_citizen: dict[str, list[datetime]] = defaultdict(list)
    for citizen, at in admissions:
        by_citizen[citizen].append(at)
    count = 0
    for times in by_citizen.values():
        times.sort()
        count += sum(1 for a, b in itertools.pairwise(times) if b - a < READMISSION_WINDOW)
    return count


def _held_hours(case: Case, pathway: Pathway, end: datetime | None) -> Mapping[str, float]:
    """Hours the case held each resource: from the move that took a place to the one that gave it back."""
    since: dict[str, list[datetime]] = defaultdict(list)
    hours: dict[str, float] = defaultdict(float)

    def give_back(resource: str, at: datetime) -> None:
        if since[resource]:
            hours[resource] += (at - since[resource].pop()).total_seconds() / 3600

    for event in case.history:
        if event.kind in (EventKind.FIRED, EventKind.ESCALATED) and event.trigger is not None:
            t = pathway.find(event.from_state, event.trigger)
            if t is not None and t.takes is not None:
                since[t.takes].append(event.at)
            if t is not None and t.releases is not None:
                give_back(t.releases, event.at)
        state = pathway.state_by_id.get(event.to_state)
        if state is not None and state.terminal:
            for resource in list(since):
                while since[resource]:
                    give_back(resource, event.at)
    if end is not None:
        for resource in list(since):
            while since[resource]:
                give_back(resource, max(end, since[resource][-1]))
    return hours
