"""The testing kit's own behaviour: faults are really there, the machine catches broken engines."""

from collections import deque
from collections.abc import Mapping
from datetime import timedelta
from unittest import mock

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

from pathways import (
    Actor,
    Engine,
    ManualClock,
    PathwaysError,
    Registry,
    StateKind,
    UnknownPathway,
    approvals,
    load_text,
    validate,
)
from pathways.case import Case, Event
from pathways.engine import Reason
from pathways.model import Pathway, Transition
from pathways.testing import (
    FAULT_KINDS,
    Advance,
    Fault,
    Fire,
    assert_sound,
    can_finish,
    faulty_pathways,
    pathway_machine,
    perform,
    seeded_faults,
    sound_pathways,
)

DESK = """
id: desk
version: 1
title: {da: Skranke, en: Desk}
description: {da: d, en: d}
initial: asked
sectors:
  region: {label: {da: Region, en: Region}}
  social: {label: {da: Kommune, en: Municipality}}
  citizen: {label: {da: Borger, en: Citizen}}
roles:
  nurse: {sector: region, label: {da: Sygeplejerske, en: Nurse}}
  leader_region: {sector: region, label: {da: Leder, en: Leader}}
  leader_social: {sector: social, label: {da: Leder, en: Leader}}
  citizen: {sector: citizen, label: {da: Borger, en: Citizen}}
facts:
  consent_given: {label: {da: Samtykke, en: Consent}, default: true}
resources:
  places: {capacity: 1, label: {da: Pladser, en: Places}}
states:
  - {id: asked, kind: active, label: {da: a, en: a}, responsible: [nurse], deadline: {after: P1D, trigger: give_up}}
  - {id: staying, kind: active, label: {da: b, en: b}, responsible: [nurse]}
  - {id: done, kind: terminal, outcome: completed, label: {da: c, en: c}}
  - {id: left, kind: terminal, outcome: left_by_choice, label: {da: d, en: d}, follow_up: {da: x, en: x}}
transitions:
  - {trigger: admit, source: asked, dest: staying, roles: [nurse], guards: [consent_given], takes: places}
  - {trigger: admit_jointly, source: asked, dest: staying, roles: [nurse], takes: places,
     approval: {rule: all_of, roles: [leader_region, leader_social], on_refusal: asked, timeout: PT8H}}
  - {trigger: give_up, source: asked, dest: done, roles: [nurse]}
  - {trigger: discharge, source: staying, dest: done, roles: [nurse], releases: places}
  - {trigger: leave, source: "*", dest: left, roles: [citizen]}
"""

# Enough examples to find a planted bug every time; derandomized so the test is repeatable,
# and without shrinking: the first failure found already names the broken law.
HUNT = settings(
    max_examples=300, stateful_step_count=30, deadline=None, database=None, derandomize=True,
    phases=[Phase.explicit, Phase.generate],
)


def _desk() -> Pathway:
    return load_text(DESK, "desk.yaml")


def _reachable(p: Pathway) -> set[str]:
    seen, queue = {p.initial}, deque([p.initial])
    while queue:
        for t in p.transitions_from.get(queue.popleft(), ()):
            targets = [t.dest, *([t.approval.on_refusal] if t.approval else [])]
            for dest in targets:
                if dest not in seen:
                    seen.add(dest)
                    queue.append(dest)
    return seen


def _way(p: Pathway, state: str, trigger: str) -> Transition:
    t = p.find(state, trigger)
    assert t is not None, f"no {trigger!r} from {state!r}"
    return t


def _moves_on(p: Pathway, state: str) -> list[str]:
    """Triggers from ``state`` that staff fire (the citizen's leave excluded)."""
    return [t.trigger for t in p.transitions_from.get(state, ()) if not p.is_leaving(t)]


# -- fault-seeded definitions ---------------------------------------------------------------


@pytest.mark.parametrize("kind", FAULT_KINDS)
@settings(max_examples=15)
@given(data=st.data())
def test_each_seeded_fault_sits_in_a_state_the_citizen_can_reach(kind: str, data: st.DataObject) -> None:
    fault: Fault = data.draw(seeded_faults(kind))
    assert fault.kind == kind
    p = fault.pathway
    if kind == "no_exit_by_choice" and fault.states == ("left",):
        assert p.state("left").follow_up is None
        return
    assert set(fault.states) <= _reachable(p)


@settings(max_examples=15)
@given(seeded_faults("dead_end"))
def test_a_dead_end_is_a_state_only_the_citizen_can_leave(fault: Fault) -> None:
    (state,) = fault.states
    assert _moves_on(fault.pathway, state) == []
    assert [t.trigger for t in fault.pathway.transitions_from[state]] == ["leave"]


@settings(max_examples=15)
@given(seeded_faults("trap"))
def test_a_trap_is_a_loop_whose_only_exit_is_the_citizen_leaving(fault: Fault) -> None:
    p = fault.pathway
    for state in fault.states:
        assert {_way(p, state, t).dest for t in _moves_on(p, state)} <= set(fault.states)
    assert not set(fault.states) & can_finish(p)


@settings(max_examples=15)
@given(seeded_faults("no_owner"))
def test_no_owner_means_nobody_responsible_or_the_responsible_can_fire_nothing(fault: Fault) -> None:
    p = fault.pathway
    state = p.state(fault.states[0])
    can_fire = {r for t in p.transitions_from[state.id] for r in t.roles}
    assert not state.responsible or not set(state.responsible) & can_fire


@settings(max_examples=15)
@given(seeded_faults("wait_without_deadline"))
def test_a_wait_without_deadline_has_none_or_one_that_leads_back_into_itself(fault: Fault) -> None:
    state = fault.pathway.state(fault.states[0])
    assert state.kind is StateKind.WAITING
    if state.deadline is not None:
        assert _way(fault.pathway, state.id, state.deadline.trigger).dest == state.id


@settings(max_examples=15)
@given(seeded_faults("unsatisfiable_approval"))
def test_an_unsatisfiable_approval_is_the_citizen_asking_what_only_the_citizen_could_approve(fault: Fault) -> None:
    p = fault.pathway
    t = _way(p, fault.states[0], fault.triggers[0])
    assert t.approval is not None and p.citizen_role is not None
    assert t.roles == (p.citizen_role,)
    assert approvals.eligible_roles(t.approval, p) == (p.citizen_role,)
    assert validate(fault.registry) == []


@settings(max_examples=15)
@given(seeded_faults("guard_gap"))
def test_a_guard_gap_guards_every_way_on_by_a_fact_that_starts_false(fault: Fault) -> None:
    p = fault.pathway
    ways = [_way(p, fault.states[0], t) for t in _moves_on(p, fault.states[0])]
    facts = {g.fact for t in ways for g in t.guards if not g.negated}
    assert ways and all(t.guards for t in ways)
    assert len(facts) == 1 and not p.facts[facts.pop()].default


@settings(max_examples=15)
@given(seeded_faults("capacity_starvation"))
def test_capacity_starvation_is_a_queue_whose_only_way_on_takes_a_place(fault: Fault) -> None:
    p = fault.pathway
    (state,) = fault.states
    assert [_way(p, state, t).takes for t in _moves_on(p, state)] == ["places"]
    assert p.state(state).deadline is None


@settings(max_examples=15)
@given(seeded_faults("handover_gap"))
def test_a_handover_gap_leaves_the_referral_unowned_or_unchased(fault: Fault) -> None:
    sender = fault.pathway
    refer = next(t for t in sender.transitions if t.trigger == "refer")
    assert refer.handover is not None and refer.dest == "referred"
    waiting = sender.state("referred")
    assert waiting.responsible == () or waiting.deadline is None
    assert set(fault.registry) == {"sender", "receiver"}


@settings(max_examples=15)
@given(seeded_faults("no_exit_by_choice"))
def test_no_exit_by_choice_removes_leaving_somewhere_or_its_follow_up(fault: Fault) -> None:
    p = fault.pathway
    (state,) = fault.states
    if state == "left":
        assert p.state("left").follow_up is None
    else:
        assert p.find(state, "leave") is None


WEEK_KINDS = ("unstaffed", "approval_out_of_hours", "handover_unanswered", "no_safety_net")


@pytest.mark.parametrize("kind", WEEK_KINDS)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_a_week_fault_is_a_matter_of_time_only_and_its_story_replays(kind: str, data: st.DataObject) -> None:
    """Roles alone strand nobody; over the week the fault shows, and its counterexample replays with a clock."""
    from pathways.stranding import check

    fault: Fault = data.draw(seeded_faults(kind))
    (house,) = fault.registry.houses.values()
    assert check(fault.registry, week=False).ok
    report = check(fault.registry)
    assert report.week == (house.id,)
    for f in report.errors:
        if f.counterexample is not None:
            assert f.counterexample.started_at is not None
            assert f.counterexample.replay(fault.registry).state == f.counterexample.ends_in, f.to_text()


@settings(max_examples=10, deadline=None)
@given(seeded_faults("unstaffed"))
def test_unstaffed_puts_a_desk_in_the_hands_of_day_staff(fault: Fault) -> None:
    (state,) = fault.states
    (house,) = fault.registry.houses.values()
    assert fault.pathway.state(state).responsible == ("day_worker",)
    assert [(s.days, str(s.hours)) for s in house.staffing["day_worker"]] == [(("weekdays",), "08:00-16:00")]


@settings(max_examples=10, deadline=None)
@given(seeded_faults("approval_out_of_hours"))
def test_approval_out_of_hours_needs_a_day_leader_within_hours(fault: Fault) -> None:
    (trigger,) = fault.triggers
    t = _way(fault.pathway, fault.states[0], trigger)
    assert t.approval is not None and t.approval.roles == ("day_leader",)
    assert t.approval.timeout is not None and t.approval.timeout <= timedelta(hours=8)


@settings(max_examples=10, deadline=None)
@given(seeded_faults("handover_unanswered"))
def test_handover_unanswered_opens_the_receiver_in_the_daytime_only(fault: Fault) -> None:
    (house,) = fault.registry.houses.values()
    assert [str(o.hours) for o in house.services["service_receiver"].open] == ["08:00-16:00"]
    assert fault.states == ("referred",) and fault.triggers == ("refer",)


@settings(max_examples=10, deadline=None)
@given(seeded_faults("no_safety_net"))
def test_no_safety_net_leaves_no_service_without_referral(fault: Fault) -> None:
    (house,) = fault.registry.houses.values()
    assert not any(s.without_referral for s in house.services.values())
    assert fault.states == fault.triggers == ()


def test_faulty_pathways_are_registries_and_unknown_kinds_are_named() -> None:
    with pytest.raises(ValueError, match="unknown fault kind 'dead_ends'; known kinds: dead_end, trap, "):
        faulty_pathways("dead_ends")

    @settings(max_examples=3)
    @given(faulty_pathways("trap"))
    def drawn(registry: Registry) -> None:
        assert isinstance(registry, Registry) and len(registry) == 1

    drawn()


# -- the checker agrees with the seeded faults ---------------------------------------------


@pytest.mark.parametrize("kind", FAULT_KINDS)
@settings(max_examples=10)
@given(data=st.data())
def test_the_checker_flags_each_seeded_fault_with_its_kind_and_nothing_unrelated(kind: str, data: st.DataObject) -> None:
    from pathways.stranding import check

    fault: Fault = data.draw(seeded_faults(kind))
    found = {f.kind.value for f in check(fault.registry).errors}
    assert kind in found
    assert found <= {kind, *fault.also}


@settings(max_examples=15)
@given(sound_pathways())
def test_sound_pathways_pass_assert_sound(p: Pathway) -> None:
    assert_sound(p)


# -- assert_sound ------------------------------------------------------------------------------


def test_assert_sound_fails_with_the_finding_and_its_story() -> None:
    stuck = DESK.replace("  - {trigger: discharge, source: staying, dest: done, roles: [nurse], releases: places}\n", "")
    with pytest.raises(AssertionError) as failure:
        assert_sound(load_text(stuck))
    text = str(failure.value)
    assert text.startswith("ERROR dead_end in desk: `staying`\n")
    assert "Nurse (Region) [nurse] fires `admit` → b [staying]; nobody can move the citizen on — stuck in b [staying]" in text


def test_assert_sound_passes_on_a_sound_pathway() -> None:
    assert_sound(_desk())



# -- actions and the machine ------------------------------------------------------------------


def test_perform_advances_a_manual_clock_and_fires_what_is_due() -> None:
    engine = Engine(Registry([_desk()]), clock=ManualClock())
    case = engine.start("desk", "c-1")
    assert perform(engine, case, Advance(timedelta(hours=23))) == []
    (event,) = perform(engine, case, Advance(timedelta(hours=1)))
    assert (event.kind.value, event.trigger, case.state) == ("escalated", "give_up", "done")


def test_perform_refuses_to_advance_a_clock_it_cannot_move() -> None:
    engine = Engine(Registry([_desk()]))
    case = engine.start("desk", "c-1")
    with pytest.raises(PathwaysError, match="advancing time needs an engine with a ManualClock"):
        perform(engine, case, Advance(timedelta(minutes=1)))


def test_perform_fires_as_the_actor() -> None:
    engine = Engine(Registry([_desk()]), clock=ManualClock())
    case = engine.start("desk", "c-1")
    perform(engine, case, Fire("admit", Actor("anna", "nurse", "region")))
    assert (case.state, case.holds) == ("staying", {"places": 1})


def test_can_finish_follows_transitions_and_refusals() -> None:
    assert can_finish(_desk()) == frozenset({"asked", "staying", "done", "left"})


def test_the_machine_rejects_unknown_start_pathways_and_zero_capacity() -> None:
    with pytest.raises(UnknownPathway, match="no pathway 'nope' is loaded"):
        pathway_machine(_desk(), start=["nope"])
    with pytest.raises(ValueError, match="capacity must be at least 1, got 0"):
        pathway_machine(_desk(), capacity=0)


def test_the_machine_passes_on_the_real_engine() -> None:
    run_state_machine_as_test(pathway_machine(_desk()), settings=settings(HUNT, max_examples=60))


class _NoRoleCheck(Engine):
    """Forgets to check the actor's role."""

    def _refusals(self, case: Case, pathway: Pathway, t: Transition, actor: Actor) -> list[Reason]:
        return [r for r in super()._refusals(case, pathway, t, actor) if r.code not in ("role", "sector")]


class _NoFourEyes(Engine):
    """Lets anyone approve, including the requester and people who approved already."""

    def approve(self, case: Case | str, actor: Actor, *, reason: str | None = None) -> list[Event]:
        with mock.patch.object(approvals, "objection", lambda *args: None):
            return super().approve(case, actor, reason=reason)


class _LedgerForgets(Engine):
    """Never tells the ledger about places taken or freed."""

    def _reserve(self, before: Mapping[str, int], after: Mapping[str, int]) -> None:
        return None


class _QuietFacts(Engine):
    """Changes a fact without recording an event."""

    def set_fact(self, case: Case | str, fact: str, value: bool, actor: Actor, *, reason: str | None = None) -> list[Event]:
        self._resolve(case).context[fact] = value
        return []


class _GuardBlind(Engine):
    """Ignores guards."""

    def _refusals(self, case: Case, pathway: Pathway, t: Transition, actor: Actor) -> list[Reason]:
        return [r for r in super()._refusals(case, pathway, t, actor) if r.code != "guard"]


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (_NoRoleCheck, "moved without permission"),
        (_NoFourEyes, "approved (their own request|twice)|refused a request they had made"),
        (_LedgerForgets, "the ledger counts 0 places of 'places' in use, but cases hold 1"),
        (_QuietFacts, "changed without an event|succeeded but recorded nothing"),
        (_GuardBlind, "guard\\(s\\) consent_given did not hold|transitions refused 'admit' although every check passed"),
    ],
)
def test_the_machine_catches_a_broken_engine(broken: type[Engine], message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        run_state_machine_as_test(pathway_machine(_desk(), engine=broken), settings=HUNT)


def test_the_machine_finds_a_citizen_stranded_in_a_dead_end() -> None:
    stuck = DESK.replace("  - {trigger: discharge, source: staying, dest: done, roles: [nurse], releases: places}\n", "")
    with pytest.raises(AssertionError, match="stranded: from 'staying' in 'desk' nothing but the citizen leaving leads to an end"):
        run_state_machine_as_test(pathway_machine(load_text(stuck)), settings=HUNT)
