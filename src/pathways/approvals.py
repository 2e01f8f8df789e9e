"""Shared-leadership approval rules as pure functions over (rule, approvals, actor).

A rule is met by approvals from *distinct people*; the requester never counts
(four-eyes). ``all_of`` needs one approval per listed role, ``n_of`` needs approvals
from ``n`` different listed roles, ``one_per_sector`` one approval per listed sector.
"""

from __future__ import annotations

from collections.abc import Sequence

from .case import Actor, Approval
from .model import ApprovalRule, Pathway, RuleKind
from .refusals import RefusalCode

__all__ = ["describe", "eligible_roles", "is_met", "objection", "open_slots"]


def eligible_roles(rule: ApprovalRule, pathway: Pathway) -> tuple[str, ...]:
    """The roles whose holders may approve under ``rule``."""
    if rule.rule is RuleKind.ONE_PER_SECTOR:
        pool = rule.roles or tuple(pathway.roles)
        return tuple(r for r in pool if pathway.roles[r].sector in rule.sectors)
    return rule.roles


def _covered(rule: ApprovalRule, approvals: Sequence[Approval]) -> set[str]:
    """What the approvals so far have covered: roles, or sectors for one_per_sector."""
    if rule.rule is RuleKind.ONE_PER_SECTOR:
        return {a.actor.sector for a in approvals}
    return {a.actor.role for a in approvals}


def is_met(rule: ApprovalRule, approvals: Sequence[Approval]) -> bool:
    """Whether ``approvals`` satisfy ``rule``."""
    covered = _covered(rule, approvals)
    if rule.rule is RuleKind.ALL_OF:
        return covered >= set(rule.roles)
    if rule.rule is RuleKind.N_OF:
        return len(covered & set(rule.roles)) >= (rule.n or 0)
    return covered >= set(rule.sectors)


def open_slots(rule: ApprovalRule, pathway: Pathway, approvals: Sequence[Approval]) -> tuple[tuple[str, str], ...]:
    """The (role, sector) pairs that could still give a needed approval; empty when met.

    A leader's inbox is built from these: a role whose own role (or, for
    ``one_per_sector``, whose sector) has already approved is no longer asked.
    """
    if is_met(rule, approvals):
        return ()
    covered = _covered(rule, approvals)
    by_sector = rule.rule is RuleKind.ONE_PER_SECTOR
    return tuple(
        (r, pathway.roles[r].sector)
        for r in eligible_roles(rule, pathway)
        if (pathway.roles[r].sector if by_sector else r) not in covered
    )


def objection(
    rule: ApprovalRule,
    pathway: Pathway,
    approvals: Sequence[Approval],
    requested_by: Actor,
    actor: Actor,
) -> tuple[RefusalCode, str] | None:
    """Why ``actor`` may not approve now, as ``(code, words)``; ``None`` if they may.

    Codes: ``SELF_APPROVAL``, ``DUPLICATE_APPROVAL``, ``NOT_AN_APPROVER``.
    """
    if actor.person == requested_by.person:
        return (RefusalCode.SELF_APPROVAL, f"{actor.person} requested this and cannot also approve it (four-eyes)")
    if any(a.actor.person == actor.person for a in approvals):
        return (RefusalCode.DUPLICATE_APPROVAL, f"{actor.person} has already approved this request")
    if actor.role not in eligible_roles(rule, pathway):
        return (RefusalCode.NOT_AN_APPROVER, f"role {actor.role!r} is not among the approvers ({describe(rule)})")
    key = actor.sector if rule.rule is RuleKind.ONE_PER_SECTOR else actor.role
    if key in _covered(rule, approvals):
        what = "sector" if rule.rule is RuleKind.ONE_PER_SECTOR else "role"
        return (RefusalCode.NOT_AN_APPROVER, f"{what} {key!r} has already approved; the rule needs {describe(rule)}")
    return None


def describe(rule: ApprovalRule) -> str:
    """The rule in words, e.g. ``all of: leder_region, leder_kommune``."""
    if rule.rule is RuleKind.ALL_OF:
        return "all of: " + ", ".join(rule.roles)
    if rule.rule is RuleKind.N_OF:
        return f"{rule.n} of: " + ", ".join(rule.roles)
    text = "one from each sector: " + ", ".join(rule.sectors)
    return text + (f" (roles: {', '.join(rule.roles)})" if rule.roles else "")
