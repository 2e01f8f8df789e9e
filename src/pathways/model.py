"""The declarative model of a pathway: frozen `attrs` classes, no I/O.

A :class:`Pathway` is what a designer writes in a definition file, after loading and
checking. It never changes at run time; a case's runtime state lives in
:mod:`pathways.case`. Ids are plain strings; lookups by id are on :class:`Pathway`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, timedelta
from functools import cached_property

import attrs

__all__ = [
    "ANY_STATE",
    "CITIZEN_ROLE",
    "ApprovalRule",
    "Calendar",
    "CarePlanStatus",
    "Counting",
    "Deadline",
    "Fact",
    "FactAccess",
    "Goal",
    "Guard",
    "Handover",
    "Intake",
    "Label",
    "Opening",
    "Outcome",
    "Pathway",
    "Resource",
    "Role",
    "RuleKind",
    "Sector",
    "Span",
    "State",
    "StateKind",
    "Subject",
    "Transition",
]

ANY_STATE = "*"
"""A transition ``source`` that means every non-terminal state (e.g. the citizen leaves)."""

CITIZEN_ROLE = "citizen"
"""The id of the role that is the citizen when no role of a pathway is marked ``citizen: true``."""


@attrs.frozen
class Label:
    """A text in Danish and English; Danish is the houses' working language."""

    da: str
    en: str


class StateKind(enum.Enum):
    """What a citizen is doing in a state: being helped, waiting, or done."""

    ACTIVE = "active"
    WAITING = "waiting"
    TERMINAL = "terminal"


class Outcome(enum.Enum):
    """How a terminal state ends the pathway; all of them are proper ends."""

    COMPLETED = "completed"
    HANDED_OVER = "handed_over"
    LEFT_BY_CHOICE = "left_by_choice"


class CarePlanStatus(enum.Enum):
    """The FHIR CarePlan status a state maps to, when the default (by outcome) does not fit.

    The codes are FHIR R4's (``entered-in-error`` is for records made by mistake, never a
    state of a pathway); see :mod:`pathways.fhir`.
    """

    DRAFT = "draft"
    ACTIVE = "active"
    ON_HOLD = "on-hold"
    REVOKED = "revoked"
    COMPLETED = "completed"
    UNKNOWN = "unknown"


class Goal(enum.Enum):
    """What reaching a state counts towards among the houses' goals (seed 004); see
    :mod:`pathways.goals`."""

    ADMISSION_AVOIDED = "admission_avoided"
    """A stay or treatment at home instead of an admission ("som alternativ til indlæggelse")."""
    ADMITTED = "admitted"
    """The citizen was admitted to hospital psychiatry (the acute ward outside the house)."""
    EDUCATION_OR_WORK = "education_or_work"
    """The citizen reached or kept education or work (the job bridge, a peer hired)."""


class RuleKind(enum.Enum):
    """The shapes of a shared-leadership approval rule; what each means is :mod:`pathways.approvals`."""

    ALL_OF = "all_of"
    """One approval from each listed role."""
    ANY_OF = "any_of"
    """One approval from any one of the listed roles."""
    N_OF = "n_of"
    """Approvals from ``n`` different listed roles (so from ``n`` different people)."""
    ONE_PER_SECTOR = "one_per_sector"
    """One approval from each listed sector (from ``roles`` if given)."""


class Subject(enum.Enum):
    """Who a pathway is about: whose request must never be stranded.

    A citizen may always leave by their own choice (the Psychiatry Act does not apply in
    the houses). An organisation (a user or relatives' organisation borrowing a room) is a
    subject of its own: it is not a citizen, so nobody demands a citizen's exit there, but
    its request must still reach a proper end.
    """

    CITIZEN = "citizen"
    ORGANISATION = "organisation"


@attrs.frozen
class Sector:
    """An organisation whose staff work in the house (region, municipality, …)."""

    label: Label


@attrs.frozen
class Role:
    """A kind of actor; every role belongs to exactly one sector.

    One role of a pathway is *the citizen* (see :attr:`Pathway.citizen_role`): the
    person the case is about, who can always leave by choice. Relatives and the
    citizen's network are other roles, usually of the same sector (the citizen's side).
    """

    sector: str
    label: Label
    citizen: bool = False
    """Marks this role as the citizen; without a mark, the role with id ``citizen`` is."""


class FactAccess(enum.Enum):
    """What a role may do with a fact through ``set_fact``; see :meth:`Pathway.fact_access`."""

    SET = "set"
    """Set it (the citizen's own statement, or a record of the role's own work)."""
    RECORD = "record"
    """Record it on the citizen's word, always with a reason (kept in the event)."""
    NONE = "none"
    """Not change it at all; only the pathway's transitions (``sets``) and hand-overs do."""


@attrs.frozen
class Fact:
    """A named yes/no fact in a case's context, e.g. ``consent_given``.

    ``set_by`` and ``recorded_by`` say who may change it with ``set_fact``: consent is the
    citizen's to give (``set_by: [citizen]``), and staff may only record what the citizen
    said, with a reason (``recorded_by: [nurse]``). A fact without either has no rule:
    staff may set it, the citizen's side may not (see :meth:`Pathway.fact_access`).
    """

    label: Label
    default: bool = False
    set_by: tuple[str, ...] | None = None
    """The roles that may set it; ``[]``: none (only transitions and hand-overs set it)."""
    recorded_by: tuple[str, ...] | None = None
    """The roles that may record it on the citizen's word, each time with a reason."""

    @property
    def has_rule(self) -> bool:
        """Whether the definition says who may set it (else the default applies)."""
        return self.set_by is not None or self.recorded_by is not None


@attrs.frozen
class Resource:
    """A shared, limited resource such as the 16 overnight places.

    Pathways that name the same resource id share one pool of places.
    """

    capacity: int
    label: Label


@attrs.frozen
class Guard:
    """A condition on one fact: ``consent_given`` or ``not consent_given``."""

    fact: str
    negated: bool = False

    def holds(self, context: Mapping[str, bool]) -> bool:
        return bool(context.get(self.fact, False)) != self.negated

    def __str__(self) -> str:
        return f"not {self.fact}" if self.negated else self.fact


class Counting(enum.Enum):
    """How a deadline's ``after`` is counted: on the wall clock or on the house calendar."""

    TIME = "time"
    """Elapsed time, e.g. ``PT1H`` is one real hour (daylight saving included)."""
    WORKING_DAYS = "working_days"
    """Whole working days (Monday to Friday, not a public holiday): ``P2D`` passes at the
    end of the second working day after the day the wait began."""
    OPENING_HOURS = "opening_hours"
    """Only time while the pathway's service is open counts."""
    UNTIL_CLOSING = "until_closing"
    """Elapsed time, but at the latest when the pathway's service closes (at once if it
    is closed when the wait begins): a state that is held only while the service is open,
    e.g. Socialvagten's conversation, whose citizen the Udrykningsteam takes at 24:00."""


@attrs.frozen
class Deadline:
    """How long a citizen may stay in a state before ``trigger`` fires by itself."""

    after: timedelta
    trigger: str
    counted: Counting = Counting.TIME


@attrs.frozen
class State:
    """A place in the pathway where a citizen can be."""

    id: str
    kind: StateKind
    label: Label
    responsible: tuple[str, ...] = ()
    deadline: Deadline | None = None
    outcome: Outcome | None = None
    follow_up: Label | None = None
    """For terminal states: the follow-up offer the citizen leaves with."""
    goal: Goal | None = None
    """Which of the houses' goals a case reaching this state counts towards."""
    fhir_status: CarePlanStatus | None = None
    """The FHIR CarePlan status of a case here; ``None``: by outcome (see :mod:`pathways.fhir`)."""

    @property
    def terminal(self) -> bool:
        return self.kind is StateKind.TERMINAL


@attrs.frozen
class ApprovalRule:
    """Shared-leadership approval that a transition needs before it fires.

    Approvals come from distinct people; the requester never approves their own
    request. On refusal (or when ``timeout`` passes) the case goes to ``on_refusal``.
    """

    rule: RuleKind
    on_refusal: str
    roles: tuple[str, ...] = ()
    n: int | None = None
    sectors: tuple[str, ...] = ()
    timeout: timedelta | None = None


@attrs.frozen
class Handover:
    """A referral to another pathway that its intake must accept.

    Until the receiving side accepts, the sending case waits in the transition's
    destination and its roles stay responsible; then it moves to ``accepted`` or
    ``declined``.
    """

    to: str
    accepted: str
    declined: str


@attrs.frozen
class Intake:
    """How a pathway receives hand-overs: where they arrive and which triggers answer."""

    state: str
    accept: str
    decline: str
    accepts_from: tuple[str, ...] = ()


@attrs.frozen
class Transition:
    """A move from one of ``source`` to ``dest``, fired by ``trigger`` by one of ``roles``."""

    trigger: str
    source: tuple[str, ...]
    dest: str
    roles: tuple[str, ...] = ()
    guards: tuple[Guard, ...] = ()
    approval: ApprovalRule | None = None
    takes: str | None = None
    releases: str | None = None
    sets: Mapping[str, bool] = attrs.field(factory=dict, hash=False)
    handover: Handover | None = None
    label: Label | None = None


@attrs.frozen(hash=False)
class Pathway:
    """One care pathway, as designed; immutable and shared by all its cases."""

    id: str
    version: int
    title: Label
    description: Label
    initial: str
    sectors: Mapping[str, Sector] = attrs.field(factory=dict)
    """Empty when the house declares them (the loader fills them in)."""
    roles: Mapping[str, Role] = attrs.field(factory=dict)
    states: tuple[State, ...] = attrs.field(kw_only=True)
    transitions: tuple[Transition, ...] = attrs.field(kw_only=True)
    facts: Mapping[str, Fact] = attrs.field(factory=dict)
    resources: Mapping[str, Resource] = attrs.field(factory=dict)
    intake: Intake | None = None
    subject: Subject = Subject.CITIZEN
    """Who the pathway is about; see :class:`Subject`."""
    phase: int = 1
    """The house's phase the service belongs to: 1 is the opening, a later phase is
    enabled by a house explicitly (seed 000, section 3: the health clinic)."""
    external: bool = False
    """A receiver outside the house (the acute ward): only its intake and answers are
    modelled, and no house offers it as a service of its own."""
    house: str | None = None
    """The house whose sectors, roles, resources and calendar the pathway uses."""
    calendar: Calendar | None = attrs.field(default=None, eq=False, repr=False, metadata={"schema": False})
    """Set by the loader from the house file (never written in a pathway file)."""

    @cached_property
    def state_by_id(self) -> Mapping[str, State]:
        return {s.id: s for s in self.states}

    def state(self, state_id: str) -> State:
        return self.state_by_id[state_id]

    def sources_of(self, transition: Transition) -> tuple[str, ...]:
        """The concrete source states of a transition (``*`` expanded)."""
        if ANY_STATE in transition.source:
            return tuple(s.id for s in self.states if not s.terminal)
        return transition.source

    @cached_property
    def transitions_from(self) -> Mapping[str, tuple[Transition, ...]]:
        """Outgoing transitions per state id, in definition order."""
        out: dict[str, list[Transition]] = {s.id: [] for s in self.states}
        for t in self.transitions:
            for src in self.sources_of(t):
                out.setdefault(src, []).append(t)
        return {k: tuple(v) for k, v in out.items()}

    def find(self, state_id: str, trigger: str) -> Transition | None:
        """The transition fired by ``trigger`` from ``state_id``, if any."""
        for t in self.transitions_from.get(state_id, ()):
            if t.trigger == trigger:
                return t
        return None

    @cached_property
    def citizen_role(self) -> str | None:
        """The id of the role that is the citizen, or ``None`` if the pathway has none.

        The role marked ``citizen: true`` (the first, if a mistake marks several), else
        the role with id :data:`CITIZEN_ROLE` (``citizen``). A case has one citizen, so this
        role is held by one person. A pathway whose subject is an organisation has no
        citizen, even where its house declares a citizen role for its other services.
        """
        if self.subject is Subject.ORGANISATION:
            return None
        marked = [r for r, role in self.roles.items() if role.citizen]
        if marked:
            return marked[0]
        return CITIZEN_ROLE if CITIZEN_ROLE in self.roles else None

    def is_citizen(self, role: str) -> bool:
        """Whether ``role`` is the citizen's own role (not a relative's, not staff's)."""
        return role == self.citizen_role

    @cached_property
    def citizen_side(self) -> frozenset[str]:
        """The citizen's role and the roles of its sector (relatives, the network); empty without a citizen."""
        citizen = self.citizen_role
        if citizen is None or citizen not in self.roles:
            return frozenset()
        sector = self.roles[citizen].sector
        return frozenset(r for r, role in self.roles.items() if r == citizen or role.sector == sector)

    @cached_property
    def with_the_case(self) -> frozenset[str]:
        """The roles that come with the case and need no shift: the citizen's side, or, in a
        pathway about an organisation, the organisation's own roles (those that may withdraw
        its request). The week-aware proof and the simulation count them as always there."""
        if self.subject is Subject.ORGANISATION:
            return frozenset(r for t in self.transitions if self.is_leaving(t) for r in t.roles)
        return self.citizen_side

    def fact_access(self, fact: str, role: str) -> FactAccess:
        """What holders of ``role`` may do with ``fact`` through ``set_fact``: the one rule.

        A fact with a rule: the roles in ``set_by`` set it, those in ``recorded_by`` record
        it with a reason, nobody else changes it. A fact without a rule: every role of the
        pathway that is not on the citizen's side (:attr:`citizen_side`) sets it. That
        default keeps the team's own records (housing support granted, a place found)
        working, and it closes the hole that matters: neither the citizen nor a relative
        can give the citizen something only staff decide (a contract, an assessment). A
        fact that is the citizen's own statement (consent, a wish) must say so with
        ``set_by``; ``docs/definition-reference.md`` explains the choice.
        """
        f = self.facts.get(fact)
        if f is None or role not in self.roles:
            return FactAccess.NONE
        if not f.has_rule:
            return FactAccess.NONE if role in self.citizen_side else FactAccess.SET
        if role in (f.set_by or ()):
            return FactAccess.SET
        if role in (f.recorded_by or ()):
            return FactAccess.RECORD
        return FactAccess.NONE

    def setters(self, fact: str) -> tuple[str, ...]:
        """The roles that may change ``fact`` with ``set_fact``: those that set it, then those that record it."""
        access = {r: self.fact_access(fact, r) for r in self.roles}
        return tuple(r for r, a in access.items() if a is FactAccess.SET) + tuple(
            r for r, a in access.items() if a is FactAccess.RECORD
        )

    @cached_property
    def exits_by_choice(self) -> frozenset[str]:
        """The terminal states whose outcome is ``left_by_choice``."""
        return frozenset(s.id for s in self.states if s.outcome is Outcome.LEFT_BY_CHOICE)

    def is_leaving(self, transition: Transition) -> bool:
        """Whether ``transition`` is leaving by choice: it ends in a ``left_by_choice`` terminal.

        Leaving by choice is a proper end, but it does not move the citizen on: the
        checker, the simulation and the testing kit leave these transitions out when they
        ask whether staff or time can bring a citizen to an end.
        """
        return transition.dest in self.exits_by_choice

    def is_free_exit(self, transition: Transition) -> bool:
        """Whether ``transition`` lets the citizen leave by choice whenever they want.

        It leaves by choice, the citizen's role may fire it, and nothing can stop it: no
        guard, no approval, no place to take (the Psychiatry Act does not apply in the
        houses).
        """
        return (
            self.is_leaving(transition)
            and not transition.guards
            and transition.approval is None
            and transition.takes is None
            and any(self.is_citizen(r) for r in transition.roles)
        )

    @cached_property
    def triggers(self) -> frozenset[str]:
        return frozenset(t.trigger for t in self.transitions)

    @property
    def key(self) -> tuple[str, int]:
        """``(id, version)``: what a case is bound to."""
        return (self.id, self.version)


@attrs.frozen
class Span:
    """A span of local wall-clock time in one day, in minutes from midnight.

    ``end <= start`` runs over midnight (``23:00-07:00``); ``00:00-24:00`` is the whole day.
    """

    start: int
    end: int

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def __str__(self) -> str:
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"


@attrs.frozen
class Opening:
    """Hours on some days: ``{days: every_day, hours: "16:00-24:00"}``.

    ``days`` names weekdays (``mon`` … ``sun``) or ``weekdays``, ``weekends``,
    ``every_day``. A public holiday runs on Sunday's hours. A span over midnight belongs
    to the day it starts.
    """

    days: tuple[str, ...]
    hours: Span


@attrs.frozen
class Calendar:
    """What a pathway knows of time: its house's zone and holidays, its service's hours.

    ``opening`` empty means open around the clock.
    """

    time_zone: str
    public_holidays: frozenset[date] = frozenset()
    opening: tuple[Opening, ...] = ()
    service: str | None = None
