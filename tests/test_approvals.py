"""Approval rules: each rule object agrees with a brute-force reading of its rule, in people."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pathways import approvals
from pathways.approvals import rule_class, rule_of
from pathways.case import Actor, Approval
from pathways.model import ApprovalRule, Label, Pathway, Role, RuleKind, Sector, State, StateKind, Transition
from pathways.registry import Registry

L = Label("x", "x")
ROLES = {
    "nurse": Role("region", L),
    "psychiatrist": Role("region", L),
    "social_worker": Role("municipal", L),
    "leader_municipal": Role("municipal", L),
    "citizen": Role("citizen", L),
}
P = Pathway(
    id="p", version=1, title=L, description=L, initial="s",
    sectors={"region": Sector(L), "municipal": Sector(L), "citizen": Sector(L)},
    roles=ROLES,
    states=(State("s", StateKind.ACTIVE, L, ("nurse",)), State("done", StateKind.TERMINAL, L)),
    transitions=(Transition("go", ("s",), "done", ("nurse",)),),
)
PEOPLE = ["anna", "bo", "cai", "dina", "eli"]
AT = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def rules(draw: Any) -> ApprovalRule:
    kind = draw(st.sampled_from(list(RuleKind)))
    shape = rule_class(kind)
    if shape.uses_sectors:
        sectors = tuple(draw(st.lists(st.sampled_from(list(P.sectors)), min_size=1, unique=True)))
        roles = tuple(draw(st.lists(st.sampled_from(list(ROLES)), unique=True, max_size=3)))
        return ApprovalRule(kind, "s", roles=roles, sectors=sectors)
    roles = tuple(draw(st.lists(st.sampled_from(list(ROLES)), min_size=1, unique=True)))
    n = draw(st.integers(1, len(roles))) if shape.uses_n else None
    return ApprovalRule(kind, "s", roles=roles, n=n)


actors = st.builds(lambda person, role: Actor(person, role, ROLES[role].sector), st.sampled_from(PEOPLE), st.sampled_from(list(ROLES)))
given_approvals = st.lists(actors, max_size=6).map(lambda xs: [Approval(a, AT) for a in xs])


def may_approve(rule: ApprovalRule, role: str) -> bool:
    """Brute force: who may approve, read off the rule's documented meaning."""
    if rule.rule is RuleKind.ONE_PER_SECTOR:
        return ROLES[role].sector in rule.sectors and (not rule.roles or role in rule.roles)
    return role in rule.roles


def counts(rule: ApprovalRule, chosen: Sequence[Actor]) -> bool:
    """Whether these people, one approval each, satisfy the rule (brute force)."""
    if any(not may_approve(rule, a.role) for a in chosen):
        return False
    if rule.rule is RuleKind.ONE_PER_SECTOR:
        return {a.sector for a in chosen} == set(rule.sectors)
    covered = {a.role for a in chosen}
    if rule.rule is RuleKind.ALL_OF:
        return covered == set(rule.roles)
    if rule.rule is RuleKind.ANY_OF:
        return len(covered) >= 1
    assert rule.n is not None
    return len(covered) >= rule.n


def met_by_brute_force(rule: ApprovalRule, given: Sequence[Approval]) -> bool:
    """Some set of distinct people (each counted once, by their first approval) meets the rule."""
    first: dict[str, Actor] = {}
    for a in given:
        first.setdefault(a.actor.person, a.actor)
    people = list(first.values())
    return any(counts(rule, chosen) for k in range(len(people) + 1) for chosen in itertools.combinations(people, k))


@given(rules(), given_approvals)
def test_is_met_agrees_with_brute_force(rule: ApprovalRule, given: list[Approval]) -> None:
    assert approvals.is_met(rule, given) == met_by_brute_force(rule, given)


@given(rules())
def test_eligible_roles_are_exactly_those_the_rule_lets_approve(rule: ApprovalRule) -> None:
    assert set(rule_of(rule).eligible_roles(P)) == {r for r in ROLES if may_approve(rule, r)}


@given(rules(), given_approvals)
def test_the_mask_form_agrees_with_is_met(rule: ApprovalRule, given: list[Approval]) -> None:
    r = rule_of(rule)
    mask = r.mask(P)
    covered = r.covered(given)
    bits = sum(1 << i for i, k in enumerate(mask.keys) if k in covered)
    assert mask.met(bits) == r.is_met(given)
    assert mask.eligible == tuple(bool(r.roles_for(P, k)) for k in mask.keys)


@given(rules(), st.lists(actors, max_size=6), actors)
def test_the_engine_accepts_exactly_the_approvals_that_add_a_person_the_rule_still_needs(
    rule: ApprovalRule, before: list[Actor], requester: Actor,
) -> None:
    """Approvals admitted one by one through ``objection`` never count a person twice,
    never count the requester, and each one covers something not yet covered."""
    r = rule_of(rule)
    given: list[Approval] = []
    for actor in before:
        objection = r.objection(P, given, requester, actor)
        new_person = actor.person != requester.person and all(a.actor.person != actor.person for a in given)
        adds = may_approve(rule, actor.role) and r.key_of(actor) not in r.covered(given)
        assert (objection is None) == (new_person and adds)
        if objection is None:
            given.append(Approval(actor, AT))
    assert len({a.actor.person for a in given}) == len(given) == len(r.covered(given))
    assert requester.person not in {a.actor.person for a in given}


@pytest.mark.parametrize(("rule", "words"), [
    (ApprovalRule(RuleKind.ALL_OF, "s", roles=("nurse", "social_worker")), "all of: nurse, social_worker"),
    (ApprovalRule(RuleKind.ANY_OF, "s", roles=("nurse", "social_worker")), "any of: nurse, social_worker"),
    (ApprovalRule(RuleKind.N_OF, "s", roles=("nurse", "social_worker", "psychiatrist"), n=2), "2 of: nurse, social_worker, psychiatrist"),
    (ApprovalRule(RuleKind.ONE_PER_SECTOR, "s", sectors=("region", "municipal")), "one from each sector: region, municipal"),
    (ApprovalRule(RuleKind.ONE_PER_SECTOR, "s", sectors=("region",), roles=("psychiatrist",)),
     "one from each sector: region (roles: psychiatrist)"),
])
def test_each_rule_in_words(rule: ApprovalRule, words: str) -> None:
    assert approvals.describe(rule) == words


def test_every_rule_kind_has_its_object() -> None:
    assert {rule_class(kind).kind for kind in RuleKind} == set(RuleKind)


class TestObjections:
    RULE = ApprovalRule(RuleKind.ONE_PER_SECTOR, "s", sectors=("region", "municipal"))
    ASKS = Actor("anna", "nurse", "region")

    def test_the_requester_cannot_approve(self) -> None:
        assert approvals.objection(self.RULE, P, [], self.ASKS, self.ASKS) == (
            "self_approval", "anna requested this and cannot also approve it (four-eyes)")

    def test_one_person_approves_once(self) -> None:
        bo = Actor("bo", "psychiatrist", "region")
        assert approvals.objection(self.RULE, P, [Approval(bo, AT)], self.ASKS, bo) == (
            "duplicate_approval", "bo has already approved this request")

    def test_a_covered_sector_needs_nobody_else(self) -> None:
        given = [Approval(Actor("bo", "psychiatrist", "region"), AT)]
        assert approvals.objection(self.RULE, P, given, self.ASKS, Actor("cai", "nurse", "region")) == (
            "not_an_approver", "sector 'region' has already approved; the rule needs one from each sector: region, municipal")

    def test_a_role_outside_the_rule_is_no_approver(self) -> None:
        rule = ApprovalRule(RuleKind.ANY_OF, "s", roles=("psychiatrist",))
        assert approvals.objection(rule, P, [], self.ASKS, Actor("cai", "social_worker", "municipal")) == (
            "not_an_approver", "role 'social_worker' is not among the approvers (any of: psychiatrist)")


ANY_OF_DESK = """\
id: desk
version: 1
title: {da: Skranke, en: Desk}
description: {da: d, en: d}
initial: asked
sectors:
  region: {label: {da: Region, en: Region}}
  kommune: {label: {da: Kommune, en: Municipality}}
  citizen: {label: {da: Borger, en: Citizen}}
roles:
  nurse: {sector: region, label: {da: Sygeplejerske, en: Nurse}}
  leader_region: {sector: region, label: {da: Leder, en: Regional leader}}
  leader_municipality: {sector: kommune, label: {da: Leder, en: Municipal leader}}
  citizen: {sector: citizen, label: {da: Borger, en: Citizen}}
states:
  - {id: asked, kind: active, label: {da: a, en: a}, responsible: [nurse]}
  - {id: granted, kind: terminal, outcome: completed, label: {da: g, en: g}}
  - {id: left, kind: terminal, outcome: left_by_choice, label: {da: l, en: l}, follow_up: {da: f, en: f}}
transitions:
  - trigger: grant
    source: asked
    dest: granted
    roles: [nurse]
    approval: {rule: any_of, roles: [leader_region, leader_municipality], on_refusal: asked, timeout: PT12H}
  - {trigger: leave, source: '*', dest: left, roles: [citizen]}
"""


class TestAnyOf:
    def test_one_approval_from_either_listed_role_fires_the_transition(self) -> None:
        from pathways import Engine, load_text

        for leader in (Actor("lea", "leader_region", "region"), Actor("mo", "leader_municipality", "kommune")):
            engine = Engine(Registry([load_text(ANY_OF_DESK)]))
            case = engine.start("desk", "c-1")
            engine.fire(case, "grant", Actor("nina", "nurse", "region"))
            engine.approve(case, leader)
            assert case.state == "granted"

    def test_other_roles_are_no_approvers_and_the_requester_never_approves(self) -> None:
        from pathways import Engine, NotAnApprover, SelfApproval, load_text

        leaders_may_ask = ANY_OF_DESK.replace("roles: [nurse]\n    approval", "roles: [nurse, leader_region]\n    approval")
        engine = Engine(Registry([load_text(leaders_may_ask)]))
        case = engine.start("desk", "c-1")
        lea = Actor("lea", "leader_region", "region")
        engine.fire(case, "grant", lea)
        with pytest.raises(NotAnApprover):
            engine.approve(case, Actor("nils", "nurse", "region"))
        with pytest.raises(SelfApproval):
            engine.approve(case, lea)
        assert case.state == "asked"
        engine.approve(case, Actor("lars", "leader_region", "region"))
        assert case.state == "granted"

    def test_the_checker_explores_it_and_finds_nothing_wrong(self) -> None:
        from pathways import check, load_text

        assert check(load_text(ANY_OF_DESK)).findings == ()
