"""Property tests that hold the checker honest on random small pathways.

* its dead-end / trap verdict agrees with a brute-force search written here, separately;
* a fault injected into any pathway is always flagged with its kind;
* every counterexample replays on the real engine and ends where the finding says.

The strategy is local on purpose: a bug in a shared generator must not hide a bug in
the checker. The number of examples follows the hypothesis profile (see ``conftest.py``).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pathways._explore import Space
from pathways._story import build
from pathways.model import (
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
from pathways.registry import Registry
from pathways.stranding import FindingKind, check

# Checking one small pathway takes milliseconds, so these run ten times the examples of the
# hypothesis profile (dev: 150, ci: 600); PATHWAYS_CHECK_EXAMPLES overrides.
EXAMPLES = int(os.environ.get("PATHWAYS_CHECK_EXAMPLES", "0")) or 10 * (settings().max_examples or 15)
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

L = Label("x", "x")
SECTORS = {"region": Sector(L), "municipal": Sector(L), "citizen": Sector(L)}
ROLES = {
    "nurse": Role("region", L),
    "social": Role("municipal", L),
    "leader_region": Role("region", L),
    "leader_municipal": Role("municipal", L),
    "citizen": Role("citizen", L),
    "night_lead": Role("region", L),
}
STAFF = ["nurse", "social"]


@st.composite
def pathways(draw: Any, *, places: bool = True, guards: bool = True, approvals: bool = True) -> Pathway:
    """A small valid pathway: 1 to 4 working states, two terminals, optional leave, deadlines,
    guards over two facts, one shared resource, approvals and a hand-over."""
    n = draw(st.integers(1, 4))
    work = [f"s{i}" for i in range(n)]
    kinds = [draw(st.sampled_from([StateKind.ACTIVE, StateKind.WAITING])) for _ in work]
    ends = ["done", "left"]
    everything = work + ends
    transitions: list[Transition] = []
    for i in range(draw(st.integers(0, 7))):
        source = draw(st.sampled_from(work))
        dest = draw(st.sampled_from(everything))
        roles = tuple(draw(st.lists(st.sampled_from(STAFF), min_size=1, max_size=2, unique=True)))
        gs: tuple[Guard, ...] = ()
        if guards:
            gs = tuple(draw(st.lists(st.builds(Guard, st.sampled_from(["f0", "f1"]), st.booleans()), max_size=1)))
        takes = releases = None
        if places:
            takes = draw(st.sampled_from([None, None, "places"]))
            releases = draw(st.sampled_from([None, None, "places"]))
        approval = None
        if approvals and draw(st.integers(0, 4)) == 0:
            rule = draw(st.sampled_from([RuleKind.ALL_OF, RuleKind.N_OF, RuleKind.ONE_PER_SECTOR]))
            timeout = draw(st.sampled_from([None, timedelta(hours=1), timedelta(hours=5)]))
            refusal = draw(st.sampled_from(everything))
            approvers = draw(st.sampled_from([("leader_region", "leader_municipal"), ("leader_region",)]))
            if rule is RuleKind.ONE_PER_SECTOR:
                approval = ApprovalRule(rule, refusal, roles=("leader_region", "leader_municipal")[: 2 if len(approvers) > 1 else 0],
                                        sectors=("region", "municipal"), timeout=timeout)
            else:
                approval = ApprovalRule(rule, refusal, roles=approvers, n=1 if rule is RuleKind.N_OF else None,
                                        timeout=timeout)
        handover = None
        if dest in work and kinds[work.index(dest)] is StateKind.WAITING and draw(st.integers(0, 3)) == 0:
            handover = Handover("other", draw(st.sampled_from(everything)), draw(st.sampled_from(everything)))
        transitions.append(Transition(f"t{i}", (source,), dest, roles, gs, approval, takes, releases, handover=handover))
    states = []
    for s, kind in zip(work, kinds, strict=True):
        deadline = None
        if draw(st.booleans()):
            dest = draw(st.sampled_from(everything))
            releases = draw(st.sampled_from([None, "places"])) if places else None
            # an escalation fired by a role responsible nowhere (check() refuses a role the pathway lacks)
            fired_by = draw(st.sampled_from([("nurse",), ("night_lead",)]))
            transitions.append(Transition(f"esc_{s}", (s,), dest, fired_by, releases=releases))
            deadline = Deadline(draw(st.sampled_from([timedelta(hours=2), timedelta(hours=5)])), f"esc_{s}")
        responsible = tuple(draw(st.lists(st.sampled_from(STAFF), max_size=2, unique=True)))
        states.append(State(s, kind, L, responsible, deadline))
    states.append(State("done", StateKind.TERMINAL, L, outcome=Outcome.COMPLETED))
    states.append(State("left", StateKind.TERMINAL, L, outcome=Outcome.LEFT_BY_CHOICE, follow_up=L))
    if draw(st.booleans()):
        transitions.append(Transition("leave", ("*",), "left", ("citizen",)))
    return Pathway(
        id="p", version=1, title=L, description=L, initial="s0", sectors=SECTORS, roles=ROLES,
        states=tuple(states), transitions=tuple(transitions),
        facts={"f0": Fact(L, draw(st.booleans())), "f1": Fact(L, draw(st.booleans()))},
        resources={"places": Resource(draw(st.integers(1, 2)), L)},
    )


def brute_force_stuck(p: Pathway) -> set[str]:
    """Reachable working states from which no terminal can be reached without the citizen leaving.

    Written without networkx and without :mod:`pathways.graph`: a plain search per state.
    """
    terminal = {s.id for s in p.states if s.kind is StateKind.TERMINAL}
    working = [s.id for s in p.states if s.id not in terminal]
    every: dict[str, set[str]] = {s.id: set() for s in p.states}
    on: dict[str, set[str]] = {s.id: set() for s in p.states}
    for t in p.transitions:
        sources = working if "*" in t.source else list(t.source)
        edges = [(s, t.dest) for s in sources]
        if t.approval is not None:
            edges += [(s, t.approval.on_refusal) for s in sources]
        if t.handover is not None:
            edges += [(t.dest, t.handover.accepted), (t.dest, t.handover.declined)]
        for a, b in edges:
            every[a].add(b)
            if t.dest != "left":  # the citizen leaving is not a way on
                on[a].add(b)

    def search(moves: dict[str, set[str]], start: str) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            for nxt in moves[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    return {s for s in search(every, p.initial) if s not in terminal and not search(on, s) & terminal}


@SETTINGS
@given(pathways(places=False))
def test_dead_end_and_trap_verdict_agrees_with_brute_force(p: Pathway) -> None:
    report = check(p)
    flagged = {s for f in (*report.of_kind(FindingKind.DEAD_END), *report.of_kind(FindingKind.TRAP)) for s in f.states}
    stuck = brute_force_stuck(p)
    # no false alarm: every flagged state is really stuck
    assert flagged <= stuck, report.to_text()
    # no missed stranding: stranding exists exactly when something is flagged
    assert bool(flagged) == bool(stuck), report.to_text()


@SETTINGS
@given(pathways())
def test_every_counterexample_replays_on_the_engine_and_ends_where_it_says(p: Pathway) -> None:
    report = check(p)
    assert report.complete
    for f in report.findings:
        if f.counterexample is None:
            continue
        case = f.counterexample.replay(p)
        assert case.state == f.counterexample.ends_in, f.to_text()
        assert f.counterexample.ends_in in f.states, f.to_text()


def _inject(p: Pathway, kind: FindingKind) -> tuple[Pathway, str]:
    """``p`` with one fault of ``kind`` added next to its start; returns it and the faulty state."""
    extra: list[State] = []
    more: list[Transition] = []
    fault = "fault"
    if kind is FindingKind.DEAD_END:
        extra.append(State(fault, StateKind.ACTIVE, L, ("nurse",)))
    elif kind is FindingKind.TRAP:
        extra += [State(fault, StateKind.ACTIVE, L, ("nurse",)), State("fault2", StateKind.ACTIVE, L, ("nurse",))]
        more += [Transition("ping", (fault,), "fault2", ("nurse",)), Transition("pong", ("fault2",), fault, ("nurse",))]
    elif kind is FindingKind.NO_OWNER:
        extra.append(State(fault, StateKind.ACTIVE, L, ()))
        more.append(Transition("close_fault", (fault,), "done", ("nurse",)))
    elif kind is FindingKind.WAIT_WITHOUT_DEADLINE:
        extra.append(State(fault, StateKind.WAITING, L, ("nurse",)))
        more.append(Transition("close_fault", (fault,), "done", ("nurse",)))
    elif kind is FindingKind.GUARD_GAP:
        extra.append(State(fault, StateKind.ACTIVE, L, ("nurse",)))
        more.append(Transition("close_fault", (fault,), "done", ("nurse",), (Guard("f0"),)))
    elif kind is FindingKind.CAPACITY_STARVATION:
        extra.append(State(fault, StateKind.ACTIVE, L, ("nurse",)))
        more.append(Transition("close_fault", (fault,), "done", ("nurse",), takes="places"))
    elif kind is FindingKind.UNREACHABLE_STATE:
        extra.append(State(fault, StateKind.ACTIVE, L, ("nurse",)))
        more.append(Transition("close_fault", (fault,), "done", ("nurse",)))
        return attrs.evolve(p, states=(*p.states, *extra), transitions=(*p.transitions, *more)), fault
    more.append(Transition("into_fault", (p.initial,), fault, ("nurse",)))
    return attrs.evolve(p, states=(*p.states, *extra), transitions=(*p.transitions, *more)), fault


INJECTABLE = [
    FindingKind.DEAD_END, FindingKind.TRAP, FindingKind.NO_OWNER, FindingKind.WAIT_WITHOUT_DEADLINE,
    FindingKind.GUARD_GAP, FindingKind.CAPACITY_STARVATION, FindingKind.UNREACHABLE_STATE,
]


@SETTINGS
@given(pathways(), st.sampled_from(INJECTABLE))
def test_an_injected_fault_is_always_flagged_with_its_kind(p: Pathway, kind: FindingKind) -> None:
    faulty, state = _inject(p, kind)
    report = check(faulty)
    assert any(state in f.states for f in report.of_kind(kind)), report.to_text()


@SETTINGS
@given(pathways())
def test_removing_every_way_to_leave_is_flagged(p: Pathway) -> None:
    kept = tuple(t for t in p.transitions if not p.is_free_exit(t))  # escalations into `left` stay: deadlines need them
    report = check(attrs.evolve(p, transitions=kept))
    assert report.of_kind(FindingKind.NO_EXIT_BY_CHOICE) != ()


@SETTINGS
@given(pathways())
def test_the_explorer_models_the_engine_exactly(p: Pathway) -> None:
    """The shortest run to an explored configuration replays to exactly that configuration."""
    space = Space(p, p.resources, 100_000).explore()
    for code in list(space.parent)[-60:]:
        cfg = space.decode(code)
        assert space.encode(cfg) == code
        cx = build(space, cfg, "")
        case = cx.replay(p)
        assert case.state == space.state_ids[cfg[0]], cx.story()
        if p.state(case.state).kind is StateKind.TERMINAL:
            continue
        assert case.holds.get("places", 0) == (cfg[4][0] if cfg[4] else 0), cx.story()
        assert (case.pending.trigger if case.pending else None) == (p.transitions[cfg[2]].trigger if cfg[2] >= 0 else None)
        assert (case.referral is not None) == (cfg[6] >= 0), cx.story()
        assert [case.context[f] for f in space.facts] == [bool(cfg[1] >> i & 1) for i in range(len(space.facts))]


@st.composite
def registries(draw: Any) -> Registry:
    """A sender ``p`` whose hand-overs go to ``other``: a random pathway with an intake in front.

    Both know the facts f0 and f1 (with their own defaults), so hand-overs carry facts.
    """
    sender = draw(pathways())
    body = draw(pathways())
    intake = State("intake", StateKind.WAITING, L, ("nurse",), Deadline(timedelta(hours=3), "decline"))
    back = tuple(  # the sender has no intake, so the receiver's waits are plain waits
        attrs.evolve(t, handover=None) for t in body.transitions
    )
    receiver = attrs.evolve(
        body, id="other", states=(intake, *body.states), resources=sender.resources,
        transitions=(
            Transition("accept", ("intake",), body.initial, ("nurse",)),
            Transition("decline", ("intake",), "done", ("nurse",)),
            *back,
        ),
        intake=Intake("intake", "accept", "decline"),
    )
    return Registry([sender, receiver])


@SETTINGS
@given(registries())
def test_every_counterexample_across_a_hand_over_replays_on_the_engine(registry: Registry) -> None:
    report = check(registry)
    for f in report.findings:
        if f.counterexample is None:
            continue
        case = f.counterexample.replay(registry)
        assert case.state == f.counterexample.ends_in, f.to_text()
        assert case.pathway_id == f.pathway
