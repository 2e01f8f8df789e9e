"""Shared-leadership approval rules: what each rule kind means, defined once.

:func:`rule_of` turns an :class:`~pathways.model.ApprovalRule` into the object of its
kind (:class:`AllOf`, :class:`AnyOf`, :class:`NOf`, :class:`OnePerSector`). Everything
that has to know what a rule means asks that object: the engine (may this actor approve,
is the rule met), the checker and its state-space explorer (the rule as bit masks), the
counterexample stories, the loader's validation and the testing kit. :func:`rule_class` is
the only place that dispatches on :class:`~pathways.model.RuleKind`, with ``match`` and
:func:`typing.assert_never`, so mypy names a kind that is not handled.

Every kind has the same shape: a rule lists *keys* (roles, or sectors for
``one_per_sector``); an approver covers the key of their role; the rule is met when
``needed`` different keys are covered. Approvals are counted in *distinct people*: a
person counts once (in the role of their first approval), and the requester never
approves their own request (four-eyes). People are compared by
:func:`~pathways._arguments.person_key` (``P-2`` and ``p-2`` are one person). As one person holds one role per approval and a
covered key cannot be covered again, ``needed`` keys always mean ``needed`` people.
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Iterator, Sequence
from typing import ClassVar, assert_never

import attrs

from ._arguments import person_key
from .case import Actor, Approval
from .i18n import noun, tr
from .model import ApprovalRule, Pathway, RuleKind
from .refusals import RefusalCode

__all__ = [
    "AllOf",
    "AnyOf",
    "Mask",
    "NOf",
    "OnePerSector",
    "Rule",
    "describe",
    "eligible_roles",
    "is_met",
    "objection",
    "open_slots",
    "rule_class",
    "rule_of",
]

Found = tuple[tuple[str | int, ...], str, str | None]
"""A problem in a rule: (place under the approval, what is wrong, hint)."""


@attrs.frozen
class Mask:
    """A rule as bit masks, for the state-space explorer's inner loop.

    Key ``k`` of the rule is bit ``1 << k``; ``eligible[k]`` says whether any role of
    the pathway can cover it.
    """

    keys: tuple[str, ...]
    eligible: tuple[bool, ...]
    needed: int

    def met(self, covered: int) -> bool:
        """Whether the keys whose bits are set in ``covered`` meet the rule."""
        return covered.bit_count() >= self.needed


class Rule(abc.ABC):
    """What one approval rule means; one subclass per :class:`~pathways.model.RuleKind`."""

    kind: ClassVar[RuleKind]
    key_name: ClassVar[str]
    """What a key is, in words: ``role`` or ``sector``."""
    uses_n: ClassVar[bool] = False
    """Whether the rule reads ``n`` (how many of the listed roles)."""
    uses_sectors: ClassVar[bool] = False
    """Whether the rule's keys are ``sectors`` (``roles`` then only narrow who may approve)."""

    def __init__(self, spec: ApprovalRule) -> None:
        self.spec = spec

    # -- what each kind defines -----------------------------------------------------------

    @property
    @abc.abstractmethod
    def keys(self) -> tuple[str, ...]:
        """What must be covered, each listed once, in the order the rule lists them."""

    @property
    @abc.abstractmethod
    def needed(self) -> int:
        """How many different keys (so how many different people) must approve."""

    @abc.abstractmethod
    def key_of(self, actor: Actor) -> str | None:
        """The key an approval by ``actor`` covers; ``None`` if it does not count."""

    @abc.abstractmethod
    def role_key(self, pathway: Pathway, role: str) -> str | None:
        """The key a holder of ``role`` covers in ``pathway``; ``None`` if they may not approve."""

    @abc.abstractmethod
    def describe(self) -> str:
        """The rule in words, e.g. ``all of: leder_region, leder_kommune``."""

    @abc.abstractmethod
    def kind_problems(self, pathway: Pathway) -> Iterator[Found]:
        """What is impossible or missing in this kind of rule (for the loader's validation)."""

    # -- the same for every kind ------------------------------------------------------------

    def candidates(self, pathway: Pathway) -> tuple[str, ...]:
        """The roles the rule draws approvers from: its ``roles``, or all roles if none are listed."""
        return self.spec.roles

    def eligible_roles(self, pathway: Pathway) -> tuple[str, ...]:
        """The roles of ``pathway`` whose holders may approve under this rule."""
        return tuple(
            r for r in dict.fromkeys(self.candidates(pathway))
            if r in pathway.roles and self.role_key(pathway, r) is not None
        )

    def roles_for(self, pathway: Pathway, key: str) -> tuple[str, ...]:
        """The roles of ``pathway`` whose holders cover ``key``."""
        return tuple(r for r in self.eligible_roles(pathway) if self.role_key(pathway, r) == key)

    def covered(self, approvals: Sequence[Approval]) -> set[str]:
        """The keys the approvals cover, counting each person once."""
        seen: set[str] = set()
        out: set[str] = set()
        for a in approvals:
            person = person_key(a.actor.person)
            if person in seen:
                continue
            seen.add(person)
            key = self.key_of(a.actor)
            if key is not None:
                out.add(key)
        return out

    def is_met(self, approvals: Sequence[Approval]) -> bool:
        """Whether ``approvals`` satisfy the rule."""
        return len(self.covered(approvals)) >= self.needed

    def open_slots(self, pathway: Pathway, approvals: Sequence[Approval]) -> tuple[tuple[str, str], ...]:
        """The (role, sector) pairs that could still give a needed approval; empty when met.

        A leader's inbox is built from these: a role whose key (its role, or its sector
        for ``one_per_sector``) has already approved is no longer asked.
        """
        if self.is_met(approvals):
            return ()
        covered = self.covered(approvals)
        return tuple(
            (r, pathway.roles[r].sector) for r in self.eligible_roles(pathway) if self.role_key(pathway, r) not in covered
        )

    def objection(
        self, pathway: Pathway, approvals: Sequence[Approval], requested_by: Actor, actor: Actor,
    ) -> tuple[RefusalCode, str] | None:
        """Why ``actor`` may not approve now, as ``(code, words)``; ``None`` if they may.

        Codes: ``SELF_APPROVAL``, ``DUPLICATE_APPROVAL``, ``NOT_AN_APPROVER``.
        """
        person = person_key(actor.person)
        if person == person_key(requested_by.person):
            return (RefusalCode.SELF_APPROVAL, tr(
                "{person} requested this and cannot also approve it (four-eyes)", person=actor.person,
            ))
        if any(person_key(a.actor.person) == person for a in approvals):
            return (RefusalCode.DUPLICATE_APPROVAL, tr("{person} has already approved this request", person=actor.person))
        if actor.role not in self.eligible_roles(pathway):
            return (RefusalCode.NOT_AN_APPROVER, tr(
                "role {role} is not among the approvers ({rule})", role=repr(actor.role), rule=self.describe(),
            ))
        key = self.key_of(actor)
        if key is None or key in self.covered(approvals):
            shown = key if key is not None else actor.role
            return (RefusalCode.NOT_AN_APPROVER, tr(
                "{what} {key} has already approved; the rule needs {rule}",
                what=noun(self.key_name), key=repr(shown), rule=self.describe(),
            ))
        return None

    def mask(self, pathway: Pathway) -> Mask:
        """The rule as bit masks over its keys (see :class:`Mask`)."""
        eligible = {self.role_key(pathway, r) for r in self.eligible_roles(pathway)}
        return Mask(self.keys, tuple(k in eligible for k in self.keys), self.needed)

    def can_be_met_by(self, pathway: Pathway, roles: Sequence[str]) -> bool:
        """Whether holders of ``roles`` alone (one person per key) could meet the rule."""
        return len({self.role_key(pathway, r) for r in roles if r in self.eligible_roles(pathway)}) >= self.needed

    def problems(self, pathway: Pathway) -> Iterator[Found]:
        """Every mistake in the rule, as places under the approval (for the loader's validation)."""
        spec = self.spec
        name = self.kind.value
        yield from self.kind_problems(pathway)
        if not self.uses_n and spec.n is not None:
            yield (("n",), f"'n' only applies to rule 'n_of', not {name!r}", "remove 'n' or use 'rule: n_of'")
        if not self.uses_sectors and spec.sectors:
            yield (("sectors",), f"'sectors' only applies to rule 'one_per_sector', not {name!r}",
                   "remove 'sectors' or use 'rule: one_per_sector'")


class _ByRole(Rule):
    """Rules whose keys are the listed roles."""

    key_name = "role"

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.spec.roles))

    def key_of(self, actor: Actor) -> str | None:
        return actor.role if actor.role in self.spec.roles else None

    def role_key(self, pathway: Pathway, role: str) -> str | None:
        return role if role in self.spec.roles else None

    roles_are: ClassVar[str] = "the roles that may approve"
    """What the listed roles are, in the problem of a rule that lists none."""

    def kind_problems(self, pathway: Pathway) -> Iterator[Found]:
        if not self.spec.roles:
            yield (("roles",), f"rule {self.kind.value!r} needs {self.roles_are}", "add e.g. 'roles: [leader_a, leader_b]'")


class AllOf(_ByRole):
    """One approval from each listed role."""

    kind = RuleKind.ALL_OF
    roles_are = "the roles whose approval is required"

    @property
    def needed(self) -> int:
        return len(self.keys)

    def describe(self) -> str:
        return tr("all of: {roles}", roles=", ".join(self.spec.roles))


class AnyOf(_ByRole):
    """One approval from any one of the listed roles."""

    kind = RuleKind.ANY_OF

    @property
    def needed(self) -> int:
        return 1

    def describe(self) -> str:
        return tr("any of: {roles}", roles=", ".join(self.spec.roles))


class NOf(_ByRole):
    """Approvals from ``n`` different listed roles (so from ``n`` different people)."""

    kind = RuleKind.N_OF
    uses_n = True

    @property
    def needed(self) -> int:
        return self.spec.n or 0

    def describe(self) -> str:
        return tr("{n} of: {roles}", n=self.spec.n, roles=", ".join(self.spec.roles))

    def kind_problems(self, pathway: Pathway) -> Iterator[Found]:
        spec = self.spec
        yield from super().kind_problems(pathway)
        if spec.n is None:
            yield ((), "rule 'n_of' needs 'n', the number of approvals required", "add e.g. 'n: 2'")
        elif spec.n < 1:
            yield (("n",), f"n must be at least 1, got {spec.n}", "n is how many different roles must approve")
        elif spec.roles and spec.n > len(self.keys):
            yield (("n",), f"n_of needs {spec.n} approvals from different roles but only {len(self.keys)} role(s) are listed, "
                   "so it can never be met", f"lower n to at most {len(self.keys)} or list more roles")


class OnePerSector(Rule):
    """One approval from each listed sector, by a holder of one of ``roles`` if given."""

    kind = RuleKind.ONE_PER_SECTOR
    key_name = "sector"
    uses_sectors = True

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.spec.sectors))

    @property
    def needed(self) -> int:
        return len(self.keys)

    def candidates(self, pathway: Pathway) -> tuple[str, ...]:
        return self.spec.roles or tuple(pathway.roles)

    def key_of(self, actor: Actor) -> str | None:
        if self.spec.roles and actor.role not in self.spec.roles:
            return None
        return actor.sector if actor.sector in self.spec.sectors else None

    def role_key(self, pathway: Pathway, role: str) -> str | None:
        r = pathway.roles.get(role)
        if r is None or (self.spec.roles and role not in self.spec.roles):
            return None
        return r.sector if r.sector in self.spec.sectors else None

    def describe(self) -> str:
        text = tr("one from each sector: {sectors}", sectors=", ".join(self.spec.sectors))
        return text + (tr(" (roles: {roles})", roles=", ".join(self.spec.roles)) if self.spec.roles else "")

    def kind_problems(self, pathway: Pathway) -> Iterator[Found]:
        spec = self.spec
        if not spec.sectors:
            yield (("sectors",), "rule 'one_per_sector' needs the sectors that must each approve",
                   f"add e.g. 'sectors: [{', '.join(pathway.sectors)}]'")
        if any(r not in pathway.roles for r in spec.roles):
            return  # an unknown role is reported on its own; what it could approve is unknown
        for j, sec in enumerate(spec.sectors):
            if sec in pathway.sectors and not self.roles_for(pathway, sec):
                yield (("sectors", j), f"no role in sector {sec!r} can approve", f"add a role of sector {sec!r} to the approval's roles")


def rule_class(kind: RuleKind) -> type[Rule]:
    """The class that defines what rules of ``kind`` mean: the one dispatch on :class:`RuleKind`."""
    match kind:
        case RuleKind.ALL_OF:
            return AllOf
        case RuleKind.ANY_OF:
            return AnyOf
        case RuleKind.N_OF:
            return NOf
        case RuleKind.ONE_PER_SECTOR:
            return OnePerSector
        case unhandled:
            assert_never(unhandled)


@functools.lru_cache(maxsize=4096)
def rule_of(spec: ApprovalRule) -> Rule:
    """The object that knows what ``spec`` means (cached: rules are immutable)."""
    return rule_class(spec.rule)(spec)


def eligible_roles(rule: ApprovalRule, pathway: Pathway) -> tuple[str, ...]:
    """The roles whose holders may approve under ``rule``."""
    return rule_of(rule).eligible_roles(pathway)


def is_met(rule: ApprovalRule, approvals: Sequence[Approval]) -> bool:
    """Whether ``approvals`` satisfy ``rule``."""
    return rule_of(rule).is_met(approvals)


def open_slots(rule: ApprovalRule, pathway: Pathway, approvals: Sequence[Approval]) -> tuple[tuple[str, str], ...]:
    """The (role, sector) pairs that could still give a needed approval (see :meth:`Rule.open_slots`)."""
    return rule_of(rule).open_slots(pathway, approvals)


def objection(
    rule: ApprovalRule,
    pathway: Pathway,
    approvals: Sequence[Approval],
    requested_by: Actor,
    actor: Actor,
) -> tuple[RefusalCode, str] | None:
    """Why ``actor`` may not approve now, as ``(code, words)``; ``None`` if they may (see :meth:`Rule.objection`)."""
    return rule_of(rule).objection(pathway, approvals, requested_by, actor)


def describe(rule: ApprovalRule) -> str:
    """The rule in words, e.g. ``all of: leder_region, leder_kommune``."""
    return rule_of(rule).describe()
