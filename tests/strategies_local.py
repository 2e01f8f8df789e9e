"""Hypothesis strategies for small *valid* pathways, local to the loader tests.

They build a pathway that the loader must accept, so a round trip through YAML can be
checked against it. Deliberately independent of ``pathways.testing`` (written
separately) so a bug there cannot hide a bug in the loader or vice versa.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from pathways import (
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
from pathways.approvals import rule_class

__all__ = ["labels", "pathways"]

# Words YAML would read as something else if they were not quoted on the way out.
_TRICKY = ["yes", "no", "null", "~", "123", "1e3", "true", "on", "- x", ": y", "# z", "'q'", '"d"', ""]
_TEXT = st.one_of(
    st.sampled_from(_TRICKY),
    st.text(alphabet="abcæøåABCÆØÅ 0123-_:#,.!?'\"\n", max_size=12),
)

labels = st.builds(Label, da=_TEXT, en=_TEXT)
"""A Danish/English label, including text YAML would misread if unquoted."""

durations = st.integers(min_value=1, max_value=60 * 60 * 24 * 30).map(lambda s: timedelta(seconds=s))


def _subset(draw: Any, items: list[str], *, min_size: int = 0) -> tuple[str, ...]:
    if not items:
        return ()
    return tuple(draw(st.lists(st.sampled_from(items), min_size=min_size, max_size=len(items), unique=True)))


def _approval(draw: Any, roles: dict[str, Role], state_ids: list[str]) -> ApprovalRule:
    role_ids = list(roles)
    kind = draw(st.sampled_from(RuleKind))
    on_refusal = draw(st.sampled_from(state_ids))
    timeout = draw(st.none() | durations)
    shape = rule_class(kind)  # what the kind reads: sectors, or roles (and n)
    if shape.uses_sectors:
        with_roles = sorted({r.sector for r in roles.values()})
        return ApprovalRule(kind, on_refusal, sectors=_subset(draw, with_roles, min_size=1), timeout=timeout)
    chosen = _subset(draw, role_ids, min_size=1)
    n = draw(st.integers(min_value=1, max_value=len(chosen))) if shape.uses_n else None
    return ApprovalRule(kind, on_refusal, roles=chosen, n=n, timeout=timeout)


@st.composite
def pathways(draw: Any) -> Pathway:
    """A small pathway that passes every check of the loader."""
    sector_ids = [f"sec{i}" for i in range(draw(st.integers(1, 3)))]
    sectors = {s: Sector(draw(labels)) for s in sector_ids}
    roles = {f"role{i}": Role(draw(st.sampled_from(sector_ids)), draw(labels)) for i in range(draw(st.integers(1, 4)))}
    role_ids = list(roles)
    facts = {f"fact{i}": Fact(draw(labels), draw(st.booleans())) for i in range(draw(st.integers(0, 3)))}
    resources = {f"res{i}": Resource(draw(st.integers(1, 20)), draw(labels)) for i in range(draw(st.integers(0, 2)))}

    live = [f"s{i}" for i in range(draw(st.integers(1, 4)))]
    ends = [f"end{i}" for i in range(draw(st.integers(1, 3)))]
    everything = live + ends
    kinds = {s: draw(st.sampled_from([StateKind.ACTIVE, StateKind.WAITING])) for s in live}

    # Every live state gets a plain way out, usable as its escalation.
    transitions = [
        Transition(f"exit_{s}", (s,), draw(st.sampled_from(ends)), roles=_subset(draw, role_ids, min_size=1))
        for s in live
    ]
    intake = None
    if draw(st.booleans()):
        transitions += [
            Transition("accept_in", (live[0],), draw(st.sampled_from(everything)), roles=(role_ids[0],)),
            Transition("decline_in", (live[0],), draw(st.sampled_from(ends)), roles=(role_ids[0],)),
        ]
        intake = Intake(live[0], "accept_in", "decline_in", accepts_from=_subset(draw, ["walk_in", "counselling"]))
    waiting = [s for s in live if kinds[s] is StateKind.WAITING]
    for j in range(draw(st.integers(0, 4))):
        handover = None
        dest = draw(st.sampled_from(everything))
        if waiting and draw(st.booleans()):
            dest = draw(st.sampled_from(waiting))
            handover = Handover("other", draw(st.sampled_from(everything)), draw(st.sampled_from(everything)))
        fact_ids = list(facts)
        transitions.append(
            Transition(
                f"go{j}",
                draw(st.just(("*",)) | st.lists(st.sampled_from(live), min_size=1, max_size=2, unique=True).map(tuple)),
                dest,
                roles=_subset(draw, role_ids, min_size=1),
                guards=tuple(Guard(f, draw(st.booleans())) for f in _subset(draw, fact_ids)),
                approval=_approval(draw, roles, everything) if draw(st.booleans()) else None,
                takes=draw(st.none() | st.sampled_from(list(resources))) if resources else None,
                releases=draw(st.none() | st.sampled_from(list(resources))) if resources else None,
                sets={f: draw(st.booleans()) for f in _subset(draw, fact_ids)},
                handover=handover,
                label=draw(st.none() | labels),
            )
        )

    states = [
        State(
            s,
            kinds[s],
            draw(labels),
            responsible=_subset(draw, role_ids, min_size=1),
            deadline=Deadline(draw(durations), f"exit_{s}") if draw(st.booleans()) else None,
        )
        for s in live
    ] + [
        State(e, StateKind.TERMINAL, draw(labels), outcome=draw(st.sampled_from(Outcome)), follow_up=draw(st.none() | labels))
        for e in ends
    ]
    return Pathway(
        id=draw(st.sampled_from(["walk_in", "overnight_stay", "job_bridge", "p"])),
        version=draw(st.integers(1, 1000)),
        title=draw(labels),
        description=draw(labels),
        initial=draw(st.sampled_from(live)),
        sectors=sectors,
        roles=roles,
        states=tuple(draw(st.permutations(states))),
        transitions=tuple(transitions),
        facts=facts,
        resources=resources,
        intake=intake,
    )
