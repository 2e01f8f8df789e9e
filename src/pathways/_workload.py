"""Staff help one citizen at a time: who is free, who waits for whom, and how busy each role was.

The simulation asks for a person when a staff member's act is due. A free person on duty
in one of the acting roles (a *pool*, see :mod:`pathways._roster`) takes it at once and is
busy with that citizen for the act's work time; when everybody is busy the request waits
in a first-come, first-served queue shared by the pools it asks. A person who comes on
duty or gets free serves the queue. A request is answered ``None`` (the case decides
again) when nobody of its pools is on duty any more, or when the free people cannot do
the act for this case (four-eyes: the requester may not approve) and nobody else is
merely busy.

Busy time is counted per pool and hour of the week (local time): time on duty and busy
is *work*, time busy after the person's shift ended (finishing a conversation) is
*overtime*. Work never exceeds the people on duty, hour by hour, so utilisation is at most 1.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import simpy

from ._roster import Pool, Roster

Pick = Callable[[Pool, str], Any]
"""Given a free person of a pool: the actor to act as, or ``None`` if they cannot act here."""

HOURS_OF_WEEK = 168


@attrs.define(eq=False)
class Request:
    """One case waiting for a person of ``pools``; ``event`` succeeds with ``(pool, actor)`` or ``None``."""

    pools: tuple[Pool, ...]
    pick: Pick
    event: simpy.Event
    since: float
    done: bool = False
    served: tuple[Pool, str] | None = None


class Workload:
    """Free and busy people, the queues, and busy time per pool and hour of the week.

    Args:
        env: the simulation's clock.
        roster: who is on duty when.
        slot_of_hour: for each hour since the start, its hour of the week in local time
            (Monday 00:00-01:00 = 0).
    """

    def __init__(self, env: simpy.Environment, roster: Roster, slot_of_hour: Sequence[int]) -> None:
        self.env = env
        self.roster = roster
        self.slot_of_hour = slot_of_hour
        self.busy: set[tuple[Pool, str]] = set()
        self.queues: dict[Pool, list[Request]] = defaultdict(list)
        self.worked: dict[Pool, list[float]] = defaultdict(lambda: [0.0] * HOURS_OF_WEEK)
        self.overtime: dict[Pool, float] = defaultdict(float)
        self.waits: dict[Pool, list[float]] = defaultdict(list)
        """Per pool that served them: how long each served request waited for a free person."""

    # -- asking for a person ---------------------------------------------------------

    def request(self, pools: Sequence[Pool], pick: Pick) -> Request:
        """Ask for a person now; the request is answered at once if somebody is free."""
        req = Request(tuple(pools), pick, self.env.event(), self.env.now)
        if not self._try(req):
            for pool in req.pools:
                self.queues[pool].append(req)
        return req

    def cancel(self, req: Request) -> None:
        """The case no longer waits (it was moved on, or a deadline came first)."""
        if not req.done:
            req.done = True
        elif req.served is not None:  # served in the same instant: nothing was done yet
            self.release(*req.served, self.env.now)

    def hold(self, pool: Pool, person: str, seconds: float) -> None:
        """``person`` is busy with the citizen for ``seconds`` from now, then free again."""
        since = self.env.now
        self.env.timeout(seconds).callbacks.append(lambda _: self.release(pool, person, since))

    def release(self, pool: Pool, person: str, since: float) -> None:
        """``person`` is free again; count the time since ``since`` and serve the queue."""
        now = self.env.now
        self.busy.discard((pool, person))
        off = self.roster.leaves(pool, person, since)
        self._count(pool, since, min(now, off))
        if now > off:
            self.overtime[pool] += now - off
        self.serve(pool)

    def serve(self, pool: Pool) -> None:
        """Hand free people of ``pool`` to the requests waiting for them, first come first."""
        queue = self.queues.get(pool)
        if not queue:
            return
        for req in queue:
            if not req.done:
                self._try(req)
        queue[:] = [r for r in queue if not r.done]

    def shift_change(self) -> None:
        """People came or went: serve every queue (and answer requests nobody can take any more)."""
        for pool in list(self.queues):
            self.serve(pool)

    def _try(self, req: Request) -> bool:
        """Serve ``req`` now if possible; ``True`` when it is answered (with a person or ``None``)."""
        now = self.env.now
        busy = False
        for pool in req.pools:
            for person in self.roster.at(pool, now):
                if (pool, person) in self.busy:
                    busy = True
                    continue
                actor = req.pick(pool, person)
                if actor is None:
                    continue
                self.busy.add((pool, person))
                req.done, req.served = True, (pool, person)
                self.waits[pool].append(now - req.since)
                req.event.succeed((pool, actor))
                return True
        if busy:
            return False  # somebody who might do it is busy: wait in the queue
        req.done = True
        req.event.succeed(None)
        return True

    # -- counting ----------------------------------------------------------------------

    def _count(self, pool: Pool, start: float, end: float) -> None:
        add_hours(self.worked[pool], self.slot_of_hour, start, end, 1)

    def on_duty(self, end: float) -> dict[Pool, list[float]]:
        """Per pool, person-seconds on duty per hour of the week over ``[0, end)``."""
        out: dict[Pool, list[float]] = defaultdict(lambda: [0.0] * HOURS_OF_WEEK)
        for start, stop, present in self.roster.spans(end):
            for pool, people in present.items():
                add_hours(out[pool], self.slot_of_hour, start, stop, len(people))
        return out


def add_hours(into: list[float], slot_of_hour: Sequence[int], start: float, end: float, people: int) -> None:
    """Add ``people`` times the seconds of ``[start, end)`` to the hours of the week they fall in."""
    t = start
    while t < end:
        k = int(t // 3600)
        stop = min(end, (k + 1) * 3600.0)
        into[slot_of_hour[min(k, len(slot_of_hour) - 1)]] += (stop - t) * people
        t = stop
