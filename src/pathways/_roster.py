"""Who is on duty, instant by instant, over a simulated period: the house's staffing in local time.

A simulation needs to know which people hold a role at every moment. Shifts are written
in a house's wall-clock time (Europe/Copenhagen): a 16:00-24:00 shift is 15:00-23:00 UTC
in winter and 14:00-22:00 UTC in summer, and a public holiday runs on Sunday's hours.
The roster turns shifts into a timeline once, before the run: the instants (seconds
since the start) at which anybody comes or goes, and who is there in between. Looking
up who is present is then a list index, and "when does anything change next" is the
next instant of the timeline.

People are counted per *pool*: a role in one house (``("aarhus", "nurse")``); pathways of
no house share the pool ``("", role)``. The people of a shift are named ``role-1``,
``role-2``… in the order the shifts are listed, so a person keeps their name shift after
shift (and a name is what four-eyes approvals compare).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta, tzinfo

import attrs

from .calendar import in_force
from .model import Span

Pool = tuple[str, str]
"""``(house id or "", role)``: the people who may be asked to act in that role."""


@attrs.frozen
class Duty:
    """``people`` on duty on ``days`` (Monday = 0) during ``hours``, in ``zone`` with ``holidays``."""

    days: frozenset[int]
    hours: Span
    people: int
    zone: tzinfo
    holidays: frozenset[date] = frozenset()


class Roster:
    """The timeline of who is present per pool over ``[start, start + seconds)``."""

    def __init__(self, duties: Mapping[Pool, Sequence[Duty]], start: datetime, seconds: float) -> None:
        self.pools: tuple[Pool, ...] = tuple(sorted(duties))
        names: dict[Pool, list[tuple[str, ...]]] = {}
        for pool in self.pools:
            n = 0
            names[pool] = []
            for duty in duties[pool]:
                names[pool].append(tuple(f"{pool[1]}-{n + k}" for k in range(1, duty.people + 1)))
                n += duty.people
        moments = sorted({0.0, *(t for t in _boundaries(duties, start, seconds) if 0.0 < t < seconds)})
        self.times: list[float] = []
        self.present: list[dict[Pool, tuple[str, ...]]] = []
        for t in moments:
            at = start + timedelta(seconds=t)
            slot = {pool: people for pool in self.pools if (people := _people(duties[pool], names[pool], at))}
            if not self.present or slot != self.present[-1]:
                self.times.append(t)
                self.present.append(slot)
        self.ever: frozenset[Pool] = frozenset(p for slot in self.present for p in slot)
        """The pools that have somebody on duty at some moment of the period."""
        self._index = 0

    def segment(self, t: float) -> int:
        """The index of the timeline segment holding ``t`` (fast when ``t`` only grows)."""
        i = self._index
        times = self.times
        if times[i] <= t and (i + 1 == len(times) or t < times[i + 1]):
            return i
        i = bisect.bisect_right(times, t) - 1
        self._index = max(i, 0)
        return self._index

    def at(self, pool: Pool, t: float) -> tuple[str, ...]:
        """The people of ``pool`` present at ``t`` seconds since the start."""
        return self.present[self.segment(t)].get(pool, ())

    def next_change(self, t: float) -> float:
        """Seconds from ``t`` until anybody comes or goes (infinite when nobody ever does again)."""
        i = self.segment(t) + 1
        return self.times[i] - t if i < len(self.times) else float("inf")

    def leaves(self, pool: Pool, person: str, t: float) -> float:
        """When (seconds since the start) ``person``, present at ``t``, goes off duty; infinite if never."""
        for i in range(self.segment(t) + 1, len(self.times)):
            if person not in self.present[i].get(pool, ()):
                return self.times[i]
        return float("inf")

    def spans(self, end: float) -> Iterator[tuple[float, float, Mapping[Pool, tuple[str, ...]]]]:
        """Each segment as ``(from, to, present)``, the last one ending at ``end``."""
        for i, t in enumerate(self.times):
            yield t, self.times[i + 1] if i + 1 < len(self.times) else end, self.present[i]


def _people(duties: Sequence[Duty], names: Sequence[tuple[str, ...]], at: datetime) -> tuple[str, ...]:
    out: list[str] = []
    for duty, people in zip(duties, names, strict=True):
        if in_force([(duty.days, duty.hours)], duty.zone, duty.holidays, at):
            out += people
    return tuple(out)


def _boundaries(duties: Mapping[Pool, Sequence[Duty]], start: datetime, seconds: float) -> Iterator[float]:
    """Every instant (seconds since ``start``) at which a shift may begin or end: each local
    day's midnight and the start and end minute of every shift, in each zone."""
    minutes: dict[tzinfo, set[int]] = {}
    for shifts in duties.values():
        for d in shifts:
            minutes.setdefault(d.zone, {0}).update({d.hours.start % 1440, d.hours.end % 1440})
    end = start + timedelta(seconds=seconds)
    for zone, marks in minutes.items():
        day = start.astimezone(zone).date() - timedelta(days=1)
        last = end.astimezone(zone).date() + timedelta(days=1)
        while day <= last:
            for m in marks:
                local = datetime(day.year, day.month, day.day, m // 60, m % 60, tzinfo=zone)
                yield (local - start).total_seconds()
            day += timedelta(days=1)
