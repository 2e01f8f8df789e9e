"""The house calendar: opening hours, shifts, working days and deadlines in local time.

Instants are aware datetimes (the engine keeps UTC); hours are written in the house's
wall-clock time (Europe/Copenhagen). Every question converts the instant to local time
with :mod:`zoneinfo`, so the two daylight-saving nights are handled by the time-zone
database: the night shift of the spring night is one hour shorter, of the autumn night
one hour longer, and ``PT1H`` is always one real hour. A public holiday runs on Sunday's
hours; a span over midnight belongs to the day it starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from typing import assert_never
from zoneinfo import ZoneInfo

from .model import Calendar, Counting, Deadline, Opening, Span

__all__ = [
    "DAY_NAMES",
    "DAY_SETS",
    "WEEK_MINUTES",
    "add_working_days",
    "covers",
    "days_of",
    "describe",
    "due",
    "in_force",
    "is_open",
    "next_open",
    "parse_span",
    "week_minutes",
]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_SETS: dict[str, tuple[int, ...]] = {
    "weekdays": (0, 1, 2, 3, 4),
    "weekends": (5, 6),
    "every_day": (0, 1, 2, 3, 4, 5, 6),
    **{name: (i,) for i, name in enumerate(DAY_NAMES)},
}
"""Every word a ``days:`` field accepts, and the weekdays (Monday = 0) it means."""

WEEK_MINUTES = 7 * 24 * 60
_SUNDAY = 6


def parse_span(text: object) -> Span:
    """``"16:00-24:00"`` → ``Span(960, 1440)``; ``"23:00-07:00"`` runs over midnight."""
    if not isinstance(text, str) or text.count("-") != 1:
        raise ValueError(f"expected hours as 'HH:MM-HH:MM' (e.g. '16:00-24:00'), got {text!r}")
    start, end = (_minute(part.strip(), text) for part in text.split("-"))
    if start == 1440:
        raise ValueError(f"hours {text!r} start at 24:00; write 00:00")
    if start == end:
        raise ValueError(f"hours {text!r} start and end at the same time; for the whole day write '00:00-24:00'")
    return Span(start, end)


def _minute(part: str, text: str) -> int:
    hh, sep, mm = part.partition(":")
    if not sep or not hh.isdigit() or not mm.isdigit() or len(mm) != 2:
        raise ValueError(f"expected hours as 'HH:MM-HH:MM' (e.g. '16:00-24:00'), got {text!r}")
    h, m = int(hh), int(mm)
    if h > 24 or m > 59 or (h == 24 and m):
        raise ValueError(f"{part!r} in {text!r} is not a time of day (00:00 to 24:00)")
    return h * 60 + m


def days_of(days: Iterable[str]) -> frozenset[int]:
    """The weekdays (Monday = 0) that ``days`` names; unknown words are ignored (the loader reports them)."""
    return frozenset(d for word in days for d in DAY_SETS.get(word, ()))


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _weekday(day: date, holidays: frozenset[date]) -> int:
    """The weekday whose hours apply on ``day``: a public holiday runs on Sunday's."""
    return _SUNDAY if day in holidays else day.weekday()


def covers(entries: Sequence[tuple[frozenset[int], Span]], day: int, minute: int, yesterday: int) -> list[int]:
    """Indexes of ``entries`` (weekdays, span) in force at ``minute`` of a day run as ``day``.

    ``yesterday`` is the weekday the previous day ran as (for spans over midnight).
    """
    out = []
    for i, (days, span) in enumerate(entries):
        if span.overnight:
            if (day in days and minute >= span.start) or (yesterday in days and minute < span.end):
                out.append(i)
        elif day in days and span.start <= minute < span.end:
            out.append(i)
    return out


def in_force(
    entries: Sequence[tuple[frozenset[int], Span]], zone: str | tzinfo, holidays: frozenset[date], when: datetime
) -> list[int]:
    """Indexes of ``entries`` (weekdays, span) in force at ``when``, read in ``zone``'s wall-clock
    time, a public holiday running on Sunday's hours (opening hours and shifts alike)."""
    local = when.astimezone(zone if isinstance(zone, tzinfo) else _zone(zone))
    day = local.date()
    return covers(
        entries, _weekday(day, holidays), local.hour * 60 + local.minute,
        _weekday(day - timedelta(days=1), holidays),
    )


def _entries(opening: Iterable[Opening]) -> list[tuple[frozenset[int], Span]]:
    return [(days_of(o.days), o.hours) for o in opening]


@cache
def _opening_entries(opening: tuple[Opening, ...]) -> list[tuple[frozenset[int], Span]]:
    """:func:`_entries` of a calendar's opening hours, computed once per calendar (the
    simulation asks millions of times)."""
    return _entries(opening)


def is_open(calendar: Calendar | None, when: datetime) -> bool:
    """Whether the pathway's service is open at ``when`` (no calendar or no hours: always)."""
    if calendar is None or not calendar.opening:
        return True
    return bool(in_force(_opening_entries(calendar.opening), calendar.time_zone, calendar.public_holidays, when))


def on_duty(entries: Sequence[tuple[frozenset[int], Span, int]], zone: str, holidays: frozenset[date], when: datetime) -> int:
    """People on duty at ``when`` from shifts given as (weekdays, span, people)."""
    found = in_force([(d, s) for d, s, _ in entries], zone, holidays, when)
    return sum(entries[i][2] for i in found)


def next_open(calendar: Calendar, when: datetime) -> datetime | None:
    """The first instant at or after ``when`` at which the service is open (within 9 days)."""
    step = timedelta(minutes=15)
    probe = when.astimezone(UTC)
    probe = probe - timedelta(minutes=probe.minute % 15, seconds=probe.second, microseconds=probe.microsecond)
    for _ in range(9 * 24 * 4):
        if probe >= when and is_open(calendar, probe):
            return probe
        probe += step
    return None


def describe(opening: Iterable[Opening]) -> str:
    """Opening hours in words, e.g. ``every_day 16:00-24:00; weekdays 09:00-15:00``."""
    return "; ".join(f"{'/'.join(o.days)} {o.hours}" for o in opening) or "around the clock"


def add_working_days(calendar: Calendar, start: datetime, days: int) -> datetime:
    """The end (24:00 local) of the ``days``-th working day after the day of ``start``.

    Working days are Monday to Friday that are not public holidays.
    """
    zone = _zone(calendar.time_zone)
    day = start.astimezone(zone).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in calendar.public_holidays:
            counted += 1
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return end.astimezone(start.tzinfo or UTC)


def _add_opening_hours(calendar: Calendar, start: datetime, amount: timedelta) -> datetime:
    """``start`` plus ``amount`` of time during which the service is open (minute steps)."""
    if not calendar.opening:
        return start + amount
    left = amount
    step = timedelta(minutes=1)
    probe = start
    for _ in range(60 * 24 * 400):
        if left <= timedelta(0):
            return probe
        if is_open(calendar, probe):
            left -= step
        probe += step
    return probe  # pragma: no cover - a service open less than a minute a year


def _until_closing(calendar: Calendar, start: datetime, amount: timedelta) -> datetime:
    """``start`` plus ``amount``, or the first minute the service is closed, whichever comes first.

    Minutes are counted from ``start`` (``start``, ``start + 1 min``, …). Whether the
    service is open changes only where an opening span starts or ends, or at a local
    midnight (a public holiday runs on Sunday's hours), so only those instants are
    looked at, not every minute of the wait.
    """
    end = start + amount
    if not is_open(calendar, start):
        return start
    step = timedelta(minutes=1)
    for change in _changes(calendar, start, end):
        if not is_open(calendar, change):
            probe = start + step * -((start - change) // step)  # the first whole minute from start at or after it
            if probe >= end:
                return end
            if not is_open(calendar, probe):
                return probe
    return end


def _changes(calendar: Calendar, start: datetime, end: datetime) -> Iterator[datetime]:
    """Every instant in ``(start, end)`` at which the service may open or close, in order."""
    zone = _zone(calendar.time_zone)
    marks = sorted({0, *(m % 1440 for o in calendar.opening for m in (o.hours.start, o.hours.end))})
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    while day <= last:
        for m in marks:
            at = datetime(day.year, day.month, day.day, m // 60, m % 60, tzinfo=zone)
            if start < at < end:
                yield at
        day += timedelta(days=1)


def due(deadline: Deadline, calendar: Calendar | None, start: datetime) -> datetime:
    """When ``deadline`` passes for a wait that began at ``start``."""
    match deadline.counted:
        case Counting.TIME:
            return start + deadline.after
        case Counting.WORKING_DAYS:
            if calendar is None:
                return start + deadline.after
            return add_working_days(calendar, start, deadline.after.days)
        case Counting.OPENING_HOURS:
            if calendar is None:
                return start + deadline.after
            return _add_opening_hours(calendar, start, deadline.after)
        case Counting.UNTIL_CLOSING:
            if calendar is None:
                return start + deadline.after
            return _until_closing(calendar, start, deadline.after)
        case _ as unreachable:
            assert_never(unreachable)


def week_minutes(entries: Sequence[tuple[frozenset[int], Span]]) -> Iterator[int]:
    """The minutes of a reference week (Monday 00:00 = 0) at which an entry starts or ends."""
    seen: set[int] = {0}
    for days, span in entries:
        for d in days:
            seen.add((d * 1440 + span.start) % WEEK_MINUTES)
            end = span.end + (1440 if span.overnight else 0)
            seen.add((d * 1440 + end) % WEEK_MINUTES)
    yield from sorted(seen)
