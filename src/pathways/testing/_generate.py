"""Hypothesis strategies that generate valid pathway definitions (and pairs with a hand-over).

Every generated pathway passes the loader's cross-reference checks. With ``sound=True``
(the default) it is also built so that it strands nobody: a chain of unguarded "move on"
transitions owned by the responsible roles runs from the first state to ``done``, every
waiting state has a deadline whose escalation leads forward, every approval has a timeout
and a refusal path back to where the request was made, the shared place is taken only next
to an alternative, and the citizen can leave from every state to ``left`` with a follow-up
offer. Fault-seeded variants (:mod:`pathways.testing._faults`) start from these.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from ..approvals import rule_class
from ..model import (
    ANY_STATE,
    CITIZEN_ROLE,
    ApprovalRule,
    Deadline,
    Fact,
    Guard,
    Handover,
    Intake,
    Label,
    Outcome,
    Pathway,
    Resource,
    Role,
    RuleKind,
    Sector,
    State,
    StateKind,
    Transition,
)
from ..registry import Registry

__all__ = ["pathways_strategy", "registries", "sound_pathways", "valid_pathways"]

_SECTOR_LABELS = {
    "region": Label("Region (psykiatri)", "Region (psychiatry)"),
    "social": Label("Socialforvaltning", "Municipal social services"),
    "employment": Label("Jobcenter", "Municipal employment services"),
}
_CITIZENS_SIDE = "citizen"
"""The sector of the citizen's role (:data:`~pathways.model.CITIZEN_ROLE`) in generated pathways."""
_STAFF_ROLES: dict[str, tuple[str, ...]] = {
    "region": ("nurse", "psychiatrist", "leader_region"),
    "social": ("social_worker", "leader_social"),
    "employment": ("job_caseworker", "leader_employment"),
}
_FACTS = ("consent_given", "housing_support", "wants_work", "relatives_involved", "crisis_resolved")
DURATIONS = (timedelta(minutes=30), timedelta(hours=2), timedelta(hours=8), timedelta(days=1))
"""The deadlines and approval timeouts generated pathways use."""

RESOURCE = "places"
"""The id of the shared resource generated pathways take places of."""


def _label(name: str) -> Label:
    text = name.replace("_", " ")
    return Label(f"{text} (da)", text)


def _uniq(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


class _Draft:
    """A pathway under construction; frozen into a :class:`Pathway` at the end."""

    def __init__(self, pid: str) -> None:
        self.pid = pid
        self.sectors: dict[str, Sector] = {}
        self.roles: dict[str, Role] = {}
        self.facts: dict[str, Fact] = {}
        self.resources: dict[str, Resource] = {}
        self.states: list[State] = []
        self.transitions: list[Transition] = []
        self.intake: Intake | None = None

    @property
    def staff(self) -> list[str]:
        """Every role but the citizen's."""
        return [r for r in self.roles if r != CITIZEN_ROLE]

    def staff_sectors(self) -> list[str]:
        return list(dict.fromkeys(self.roles[r].sector for r in self.staff))

    def freeze(self, title: Label) -> Pathway:
        return Pathway(
            id=self.pid,
            version=1,
            title=title,
            description=Label("Genereret forløb til test", "Generated pathway for tests"),
            initial=self.states[0].id,
            sectors=dict(self.sectors),
            roles=dict(self.roles),
            states=tuple(self.states),
            transitions=tuple(self.transitions),
            facts=dict(self.facts),
            resources=dict(self.resources),
            intake=self.intake,
        )


def _roles_of(draw: Any, pool: Sequence[str], *, min_size: int = 1, max_size: int = 2) -> tuple[str, ...]:
    return tuple(draw(st.lists(st.sampled_from(list(pool)), min_size=min_size, max_size=max_size, unique=True)))


def _approval(draw: Any, d: _Draft, on_refusal: str, *, sound: bool) -> ApprovalRule:
    """One satisfiable approval rule of any kind, shaped by what its kind reads."""
    staff = d.staff
    kind = draw(st.sampled_from(list(RuleKind)))
    shape = rule_class(kind)
    timeout = draw(st.sampled_from(DURATIONS)) if sound else draw(st.none() | st.sampled_from(DURATIONS))
    if shape.uses_sectors:
        sectors = _roles_of(draw, d.staff_sectors())
        roles: tuple[str, ...] = ()
        if draw(st.booleans()):
            roles = tuple(draw(st.sampled_from([r for r in staff if d.roles[r].sector == s])) for s in sectors)
        return ApprovalRule(kind, on_refusal, roles=roles, sectors=sectors, timeout=timeout)
    among = _roles_of(draw, staff, max_size=3 if shape.uses_n else 2)
    n = draw(st.integers(1, len(among))) if shape.uses_n else None
    return ApprovalRule(kind, on_refusal, roles=among, n=n, timeout=timeout)


def _guards(draw: Any, d: _Draft, max_size: int = 2) -> tuple[Guard, ...]:
    if not d.facts:
        return ()
    facts = draw(st.lists(st.sampled_from(list(d.facts)), unique=True, max_size=max_size))
    return tuple(Guard(f, negated=draw(st.booleans())) for f in facts)


@st.composite
def _pathway(
    draw: Any,
    pid: str,
    *,
    min_states: int,
    max_states: int,
    max_extra: int,
    max_facts: int,
    capacity: int | None,
    sound: bool,
    intake: bool = False,
    handover_to: str | None = None,
) -> Pathway:
    d = _Draft(pid)
    sectors = ["region", *draw(st.lists(st.sampled_from(["social", "employment"]), unique=True, max_size=2))]
    for sec in sectors:
        d.sectors[sec] = Sector(_SECTOR_LABELS[sec])
        chosen = draw(st.lists(st.sampled_from(_STAFF_ROLES[sec]), min_size=1, unique=True))
        for role in sorted(chosen, key=_STAFF_ROLES[sec].index):
            d.roles[role] = Role(sec, _label(role))
    d.sectors[_CITIZENS_SIDE] = Sector(Label("Borger", "Citizen"))
    d.roles[CITIZEN_ROLE] = Role(_CITIZENS_SIDE, Label("Borger", "Citizen"))
    for fact in draw(st.lists(st.sampled_from(_FACTS), unique=True, max_size=max_facts)):
        d.facts[fact] = Fact(_label(fact), default=draw(st.booleans()))
    if capacity is not None:
        d.resources[RESOURCE] = Resource(capacity, Label("Overnatningspladser", "Overnight places"))
    staff = d.staff

    n = draw(st.integers(min_states, max_states))
    ids = [f"s{i}" for i in range(n)]
    forward = {sid: [*ids[i + 1 :], "done"] for i, sid in enumerate(ids)}
    states: dict[str, State] = {}
    for i, sid in enumerate(ids):
        kind = draw(st.sampled_from([StateKind.ACTIVE, StateKind.WAITING]))
        responsible = _roles_of(draw, staff)
        wants_deadline = kind is StateKind.WAITING if sound else draw(st.booleans())
        deadline = None
        if wants_deadline or draw(st.integers(0, 3)) == 0:
            deadline = Deadline(draw(st.sampled_from(DURATIONS)), f"escalate_{i}")
            dest = draw(st.sampled_from(forward[sid] if sound else [*ids, "done"]))
            d.transitions.append(Transition(f"escalate_{i}", (sid,), dest, roles=responsible[:1]))
        states[sid] = State(sid, kind, _label(f"step {i}"), responsible, deadline)
        # The owner's way on: unguarded, no approval, no place needed.
        owner = draw(st.sampled_from(responsible))
        d.transitions.append(Transition(f"next_{i}", (sid,), forward[sid][0], roles=_uniq([owner, *_roles_of(draw, staff, min_size=0, max_size=1)])))

    if intake:
        responsible = _roles_of(draw, staff)
        states["intake"] = State(
            "intake", StateKind.WAITING, Label("Modtagelse", "Intake"), responsible,
            Deadline(draw(st.sampled_from(DURATIONS)), "decline"),
        )
        d.transitions.append(Transition("accept", ("intake",), ids[0], roles=responsible[:1]))
        d.transitions.append(Transition("decline", ("intake",), "done", roles=responsible[:1]))
        d.intake = Intake("intake", "accept", "decline")

    if capacity is not None:
        k = draw(st.integers(0, n - 1))
        responsible = _roles_of(draw, staff)
        states["staying"] = State("staying", StateKind.ACTIVE, Label("Overnatter", "Staying overnight"), responsible)
        approval = _approval(draw, d, ids[k], sound=sound) if draw(st.booleans()) else None
        d.transitions.append(Transition("admit", (ids[k],), "staying", roles=_roles_of(draw, staff), guards=_guards(draw, d, 1), approval=approval, takes=RESOURCE))
        dest = draw(st.sampled_from(forward[ids[k]]))
        d.transitions.append(Transition("discharge", ("staying",), dest, roles=_uniq([responsible[0], *_roles_of(draw, staff, min_size=0, max_size=1)]), releases=RESOURCE))

    if handover_to is not None:
        k = draw(st.integers(0, n - 1))
        responsible = states[ids[k]].responsible
        states["referred"] = State(
            "referred", StateKind.WAITING, Label("Henvist, afventer svar", "Referred, awaiting answer"), responsible,
            Deadline(draw(st.sampled_from(DURATIONS)), "chase"),
        )
        d.transitions.append(Transition("refer", (ids[k],), "referred", roles=responsible[:1], handover=Handover(handover_to, "handed_over", ids[k])))
        d.transitions.append(Transition("chase", ("referred",), ids[k], roles=responsible[:1]))

    for j in range(draw(st.integers(0, max_extra))):
        source = _roles_of(draw, ids)
        dest = draw(st.sampled_from([*ids, "done"]))
        on_refusal = source[0] if len(source) == 1 else "done"
        approval = _approval(draw, d, on_refusal, sound=sound) if draw(st.integers(0, 2)) == 0 else None
        sets = draw(st.dictionaries(st.sampled_from(list(d.facts)), st.booleans(), max_size=1)) if d.facts else {}
        d.transitions.append(Transition(f"extra_{j}", source, dest, roles=_roles_of(draw, staff), guards=_guards(draw, d), approval=approval, sets=sets))

    d.states = [states[s] for s in ids] + [states[s] for s in ("intake", "staying", "referred") if s in states]
    d.states.append(State("done", StateKind.TERMINAL, Label("Afsluttet", "Completed"), outcome=Outcome.COMPLETED))
    if handover_to is not None:
        d.states.append(State("handed_over", StateKind.TERMINAL, Label("Overdraget", "Handed over"), outcome=Outcome.HANDED_OVER))
    d.states.append(
        State("left", StateKind.TERMINAL, Label("Gået efter eget valg", "Left by own choice"),
              outcome=Outcome.LEFT_BY_CHOICE, follow_up=Label("Tilbud om opfølgende samtale", "Offer of a follow-up talk")),
    )
    d.transitions.append(Transition("leave", (ANY_STATE,), "left", roles=(CITIZEN_ROLE,)))
    title = draw(st.sampled_from([Label("Genereret forløb", "Generated pathway"), Label("Åben rådgivning: ø/æ/å", "Open counselling")]))
    return d.freeze(title)


def pathways_strategy(
    *,
    pathway_id: str = "generated",
    min_states: int = 1,
    max_states: int = 5,
    max_extra: int = 3,
    max_facts: int = 3,
    max_capacity: int | None = 3,
    sound: bool = True,
    intake: bool = False,
) -> st.SearchStrategy[Pathway]:
    """Valid pathways: roles in sectors, active and waiting states, guards over facts,
    approvals of all three rules with timeouts and refusal paths, a shared resource of
    small capacity, deadlines with unconditional escalations, and the citizen's ``leave``.

    Args:
        min_states, max_states: bounds on the number of non-terminal steps (``s0``, ``s1``…);
            ``staying`` (the place) and terminal states ``done``/``left`` come on top.
        max_extra: at most this many extra transitions (guarded, with approvals, setting facts).
        max_facts: at most this many facts for guards.
        max_capacity: the shared resource ``places`` gets a capacity in 1..max; ``None``
            for pathways without a resource (some generated ones have none anyway).
        sound: build so that no citizen can be stranded; ``False`` allows valid but
            unsound shapes (waiting without deadline, escalations backwards, approvals
            without timeout).
        intake: give the pathway an intake (``intake`` state, ``accept``/``decline``).
    """
    if min_states < 1 or max_states < min_states:
        raise ValueError(f"need 1 <= min_states <= max_states, got {min_states}..{max_states}")
    capacities: st.SearchStrategy[int | None] = st.just(None)
    if max_capacity is not None:
        capacities = st.none() | st.integers(1, max_capacity)
    return capacities.flatmap(
        lambda cap: _pathway(
            pathway_id, min_states=min_states, max_states=max_states, max_extra=max_extra,
            max_facts=max_facts, capacity=cap, sound=sound, intake=intake,
        )
    )


def valid_pathways(**bounds: Any) -> st.SearchStrategy[Pathway]:
    """Pathways that load without problems but may strand citizens (``sound=False``)."""
    return pathways_strategy(sound=False, **bounds)


def sound_pathways(**bounds: Any) -> st.SearchStrategy[Pathway]:
    """Pathways built so that no citizen can be stranded (``sound=True``)."""
    return pathways_strategy(sound=True, **bounds)


def registries(
    *,
    max_states: int = 4,
    max_extra: int = 2,
    max_facts: int = 2,
    max_capacity: int = 3,
    sound: bool = True,
) -> st.SearchStrategy[Registry]:
    """Two pathways, ``sender`` → ``receiver``, joined by a hand-over and sharing ``places``.

    The sender's ``refer`` waits in ``referred`` (its roles stay responsible, with a
    deadline ``chase`` back) until the receiver's ``intake`` accepts (→ ``handed_over``) or
    declines (→ back where the referral was made).
    """

    @st.composite
    def build(draw: Any) -> Registry:
        capacity = draw(st.integers(1, max_capacity))
        kw: dict[str, Any] = {"min_states": 1, "max_states": max_states, "max_extra": max_extra, "max_facts": max_facts, "capacity": capacity, "sound": sound}
        sender = draw(_pathway("sender", handover_to="receiver", **kw))
        receiver = draw(_pathway("receiver", intake=True, **kw))
        return Registry([sender, receiver])

    return build()
