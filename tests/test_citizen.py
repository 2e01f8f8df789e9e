"""The citizen and leaving by choice: one definition on the model, used by the checker and stories."""

from __future__ import annotations

import attrs
import pytest

from pathways import DefinitionError, Registry, check, load_registry, load_text, validate
from pathways.model import CITIZEN_ROLE, Subject
from pathways.stranding import FindingKind

DEFINITION = """\
id: desk
version: 1
title: {da: Skranke, en: Desk}
description: {da: d, en: d}
initial: talk
sectors:
  region: {label: {da: Region, en: Region}}
  side: {label: {da: Borgerens side, en: The citizen's side}}
roles:
  nurse: {sector: region, label: {da: Sygeplejerske, en: Nurse}}
  relative: {sector: side, label: {da: Pårørende, en: Relative}}
%(citizen)s
states:
  - {id: talk, kind: active, label: {da: t, en: t}, responsible: [nurse]}
  - {id: done, kind: terminal, outcome: completed, label: {da: d, en: d}}
  - {id: left, kind: terminal, outcome: left_by_choice, label: {da: l, en: l}, follow_up: {da: f, en: f}}
transitions:
  - {trigger: finish, source: talk, dest: done, roles: [nurse]}
  - {trigger: leave, source: '*', dest: left, roles: [%(leaver)s]}
"""


def desk(citizen: str = "  citizen: {sector: side, label: {da: Borger, en: Citizen}}", leaver: str = "citizen") -> str:
    return DEFINITION % {"citizen": citizen, "leaver": leaver}


class TestWhoIsTheCitizen:
    def test_without_a_mark_the_role_with_id_citizen_is_the_citizen(self) -> None:
        p = load_text(desk())
        assert (p.citizen_role, CITIZEN_ROLE) == ("citizen", "citizen")
        assert [r for r in p.roles if p.is_citizen(r)] == ["citizen"]

    def test_a_marked_role_is_the_citizen_whatever_its_id(self) -> None:
        p = load_text(desk("  borger: {sector: side, citizen: true, label: {da: Borger, en: Citizen}}", "borger"))
        assert p.citizen_role == "borger"
        assert not p.is_citizen("relative")
        assert check(p).ok

    def test_a_mark_wins_over_the_default_id(self) -> None:
        p = load_text(desk("  citizen: {sector: side, label: {da: B, en: C}}\n"
                           "  borger: {sector: side, citizen: true, label: {da: Borger, en: Citizen}}"))
        assert p.citizen_role == "borger"

    def test_a_pathway_without_the_role_has_no_citizen(self) -> None:
        p = load_text(desk("", "relative"))
        assert p.citizen_role is None
        assert not p.is_citizen("relative")

    def test_two_marked_roles_are_one_mistake(self) -> None:
        text = desk("  a: {sector: side, citizen: true, label: {da: A, en: A}}\n"
                    "  b: {sector: side, citizen: true, label: {da: B, en: B}}", "a")
        with pytest.raises(DefinitionError) as raised:
            load_text(text, "desk.yaml")
        assert [str(p) for p in raised.value.problems] == [
            "desk.yaml:13:21: roles.b.citizen: role 'b' is marked as the citizen, but 'a' already is (a case has one "
            "citizen: mark one role 'citizen: true'; relatives and the network are other roles)"
        ]

    def test_every_seed_definition_about_a_citizen_has_the_default_citizen_role(self) -> None:
        seeds = load_registry("definitions").values()
        assert {p.citizen_role for p in seeds if p.subject is Subject.CITIZEN} == {"citizen"}
        assert {p.citizen_role for p in seeds if p.subject is Subject.ORGANISATION} == {None}


class TestLeavingByChoice:
    def test_leaving_is_a_move_into_a_left_by_choice_terminal(self) -> None:
        p = load_text(desk())
        assert p.exits_by_choice == frozenset({"left"})
        assert [t.trigger for t in p.transitions if p.is_leaving(t)] == ["leave"]
        assert [t.trigger for t in p.transitions if p.is_free_exit(t)] == ["leave"]

    def test_a_relative_leaving_is_no_exit_for_the_citizen(self) -> None:
        p = load_text(desk(leaver="relative"))
        leave = p.transitions[-1]
        assert p.is_leaving(leave) and not p.is_free_exit(leave)
        f = check(p).of_kind(FindingKind.NO_EXIT_BY_CHOICE)[0]
        assert f.message == ("the citizen cannot choose to leave from `talk` (the Psychiatry Act does not apply in "
                             "the houses: leaving must always be possible)")

    def test_a_guarded_exit_is_not_free(self) -> None:
        p = load_text(desk())
        leave = attrs.evolve(p.transitions[-1], takes="places")
        assert p.is_leaving(leave) and not p.is_free_exit(leave)

    def test_stories_call_the_citizen_the_citizen_and_a_relative_by_role(self) -> None:
        p = load_text(desk(leaver="citizen, relative").replace("- {trigger: finish, source: talk, dest: done, roles: [nurse]}\n",
                                                               "- {trigger: finish, source: talk, dest: talk, roles: [nurse]}\n"))
        story = check(p).errors[0].to_text()
        assert "the citizen arrives at Desk (`talk`)" in story


class TestValidate:
    def test_a_valid_pathway_or_registry_has_no_problems(self) -> None:
        p = load_text(desk())
        assert validate(p) == []
        assert validate(Registry([p])) == []

    def test_a_pathway_built_in_python_is_named_by_id_and_version(self) -> None:
        p = load_text(desk())
        broken = attrs.evolve(p, initial="nowhere")
        assert [str(problem) for problem in validate(broken)] == [
            "<pathway desk v1>: initial: unknown state 'nowhere' (known states: 'done', 'left', 'talk')"
        ]
        with pytest.raises(DefinitionError) as raised:
            check(broken)
        assert raised.value.problems == tuple(validate(broken))
