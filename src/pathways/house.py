"""A psychiatry house: what belongs to the house and not to one pathway.

Its sectors and roles (declared once for every pathway of the house), its shared
resources (the 16 overnight places), its calendar (time zone, public holidays, opening
hours per service) and its staffing (per role, shifts with the number of people on
duty). A pathway names its house (``house: aarhus``) and uses the house's vocabulary;
the loader gives each pathway its house's :class:`~pathways.model.Calendar`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import cached_property

import attrs

from . import calendar
from .model import Calendar, Label, Opening, Resource, Role, Sector, Span

__all__ = ["House", "Service", "Shift"]


@attrs.frozen
class Service:
    """A service of the house with its opening hours (none: around the clock).

    ``pathways`` are the pathways whose cases the service starts: none can start while
    it is closed. ``without_referral`` services take a citizen in acute crisis with no
    referral and no appointment: together they are the house's safety net.

    An ``external`` service is not run by the house (the region's psychiatric emergency
    room): the house refers to it and may count it in its safety net, but it lists only
    ``external: true`` pathways, whose cases arrive by hand-over.
    """

    label: Label
    pathways: tuple[str, ...] = ()
    open: tuple[Opening, ...] = ()
    without_referral: bool = False
    external: bool = False


@attrs.frozen
class Shift:
    """``people`` holding a role are on duty on ``days`` during ``hours``.

    ``on_call`` people are reachable by phone (they may approve) but are not in the
    house (they are not responsible for a citizen there).
    """

    days: tuple[str, ...]
    hours: Span
    people: int = 1
    on_call: bool = False


@attrs.frozen(hash=False)
class House:
    """One house, as written in its house file (``definitions/houses/<id>.yaml``)."""

    house: str
    """The house's id, which pathways name."""
    title: Label
    time_zone: str
    sectors: Mapping[str, Sector]
    roles: Mapping[str, Role]
    resources: Mapping[str, Resource] = attrs.field(factory=dict)
    public_holidays: tuple[date, ...] = ()
    services: Mapping[str, Service] = attrs.field(factory=dict)
    staffing: Mapping[str, tuple[Shift, ...]] = attrs.field(factory=dict)
    phases: tuple[int, ...] = (1,)
    """The phases the house has taken into use: 1 is its opening; a pathway of a later
    phase (``phase: 2``, the health clinic of seed 000 section 3) belongs to the house
    only when its phase is listed here."""

    @property
    def id(self) -> str:
        return self.house

    @cached_property
    def holidays(self) -> frozenset[date]:
        return frozenset(self.public_holidays)

    def service_of(self, pathway_id: str) -> tuple[str, Service] | None:
        """The service that starts the pathway's cases, if the house names one."""
        for sid, service in self.services.items():
            if pathway_id in service.pathways:
                return sid, service
        return None

    def calendar_for(self, pathway_id: str) -> Calendar:
        """The calendar a pathway of this house runs on."""
        found = self.service_of(pathway_id)
        return Calendar(
            self.time_zone, self.holidays,
            found[1].open if found else (), found[0] if found else None,
        )

    @cached_property
    def _shifts(self) -> Mapping[str, tuple[tuple[frozenset[int], Span, int], ...]]:
        return {
            role: tuple((calendar.days_of(s.days), s.hours, s.people) for s in shifts if not s.on_call)
            for role, shifts in self.staffing.items()
        }

    @cached_property
    def _reachable(self) -> Mapping[str, tuple[tuple[frozenset[int], Span, int], ...]]:
        return {
            role: tuple((calendar.days_of(s.days), s.hours, s.people) for s in shifts)
            for role, shifts in self.staffing.items()
        }

    def staffed(self, role: str) -> bool:
        """Whether the house plans staff for ``role`` (citizens' roles have no shifts)."""
        return role in self.staffing

    def on_duty(self, role: str, when: datetime, *, on_call: bool = False) -> int:
        """People holding ``role`` on duty in the house at ``when`` (with ``on_call``: also by phone)."""
        shifts = (self._reachable if on_call else self._shifts).get(role, ())
        return calendar.on_duty(shifts, self.time_zone, self.holidays, when)
