"""What the checker reports: findings of named kinds, and the result of one check.

One module for the vocabulary that both proofs share — the time-free one
(:mod:`pathways.stranding`: can a *role* move the citizen on?) and the week-aware one
(:mod:`pathways.week`: is a *person* holding it on duty?) — so a finding is one concept,
whichever proof found it. Each kind has a page in ``docs/findings/<kind>.md``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, assert_never

import attrs

from ._story import Counterexample
from .i18n import current_language, tr

__all__ = ["CheckResult", "Finding", "FindingKind", "Severity"]


class Severity(enum.Enum):
    """Errors strand citizens (``ok`` is false); warnings are dead design."""

    ERROR = "error"
    WARNING = "warning"

    @property
    def word(self) -> str:
        """The severity as the text report heads a finding: ``ERROR`` (``FEJL``)."""
        match self:
            case Severity.ERROR:
                return tr("ERROR")
            case Severity.WARNING:
                return tr("WARNING")
            case _ as unreachable:
                assert_never(unreachable)


class FindingKind(enum.Enum):
    """The ways a pathway can strand a citizen (see ``docs/findings/``)."""

    DEAD_END = "dead_end"
    TRAP = "trap"
    NO_OWNER = "no_owner"
    WAIT_WITHOUT_DEADLINE = "wait_without_deadline"
    UNSATISFIABLE_APPROVAL = "unsatisfiable_approval"
    GUARD_GAP = "guard_gap"
    CAPACITY_STARVATION = "capacity_starvation"
    HANDOVER_GAP = "handover_gap"
    NO_EXIT_BY_CHOICE = "no_exit_by_choice"
    UNREACHABLE_STATE = "unreachable_state"
    DEAD_TRANSITION = "dead_transition"
    BOUND_REACHED = "bound_reached"
    UNSTAFFED = "unstaffed"
    APPROVAL_OUT_OF_HOURS = "approval_out_of_hours"
    HANDOVER_UNANSWERED = "handover_unanswered"
    NO_SAFETY_NET = "no_safety_net"

    @property
    def severity(self) -> Severity:
        """Unreachable states and dead transitions are dead design; everything else strands a citizen."""
        match self:
            case FindingKind.UNREACHABLE_STATE | FindingKind.DEAD_TRANSITION:
                return Severity.WARNING
            case (
                FindingKind.DEAD_END | FindingKind.TRAP | FindingKind.NO_OWNER | FindingKind.WAIT_WITHOUT_DEADLINE
                | FindingKind.UNSATISFIABLE_APPROVAL | FindingKind.GUARD_GAP | FindingKind.CAPACITY_STARVATION
                | FindingKind.HANDOVER_GAP | FindingKind.NO_EXIT_BY_CHOICE | FindingKind.BOUND_REACHED
                | FindingKind.UNSTAFFED | FindingKind.APPROVAL_OUT_OF_HOURS | FindingKind.HANDOVER_UNANSWERED
                | FindingKind.NO_SAFETY_NET
            ):
                return Severity.ERROR
            case _ as unreachable:
                assert_never(unreachable)

    @property
    def title(self) -> str:
        """The kind in words, in the chosen language (``Dead end``, ``Blindgyde``)."""
        match self:
            case FindingKind.DEAD_END:
                return tr("Dead end")
            case FindingKind.TRAP:
                return tr("Trap")
            case FindingKind.NO_OWNER:
                return tr("No owner")
            case FindingKind.WAIT_WITHOUT_DEADLINE:
                return tr("Waiting without deadline")
            case FindingKind.UNSATISFIABLE_APPROVAL:
                return tr("Unsatisfiable approval")
            case FindingKind.GUARD_GAP:
                return tr("Guard gap")
            case FindingKind.CAPACITY_STARVATION:
                return tr("Capacity starvation")
            case FindingKind.HANDOVER_GAP:
                return tr("Hand-over gap")
            case FindingKind.NO_EXIT_BY_CHOICE:
                return tr("No exit by choice")
            case FindingKind.UNREACHABLE_STATE:
                return tr("Unreachable state")
            case FindingKind.DEAD_TRANSITION:
                return tr("Dead transition")
            case FindingKind.BOUND_REACHED:
                return tr("Bound reached")
            case FindingKind.UNSTAFFED:
                return tr("Unstaffed")
            case FindingKind.APPROVAL_OUT_OF_HOURS:
                return tr("Approval out of hours")
            case FindingKind.HANDOVER_UNANSWERED:
                return tr("Hand-over unanswered")
            case FindingKind.NO_SAFETY_NET:
                return tr("No safety net")
            case _ as unreachable:
                assert_never(unreachable)

    @property
    def week(self) -> bool:
        """Found by the week-aware proof (who is on duty when), which needs a house."""
        match self:
            case (
                FindingKind.UNSTAFFED | FindingKind.APPROVAL_OUT_OF_HOURS | FindingKind.HANDOVER_UNANSWERED
                | FindingKind.NO_SAFETY_NET
            ):
                return True
            case (
                FindingKind.DEAD_END | FindingKind.TRAP | FindingKind.NO_OWNER | FindingKind.WAIT_WITHOUT_DEADLINE
                | FindingKind.UNSATISFIABLE_APPROVAL | FindingKind.GUARD_GAP | FindingKind.CAPACITY_STARVATION
                | FindingKind.HANDOVER_GAP | FindingKind.NO_EXIT_BY_CHOICE | FindingKind.UNREACHABLE_STATE
                | FindingKind.DEAD_TRANSITION | FindingKind.BOUND_REACHED
            ):
                return False
            case _ as unreachable:
                assert_never(unreachable)


@attrs.frozen
class Finding:
    """One problem in one pathway (for ``no_safety_net``: in one house), with the run that shows it."""

    kind: FindingKind
    pathway: str
    """The pathway's id; for a house-wide finding (``no_safety_net``), the house's id."""
    states: tuple[str, ...]
    transitions: tuple[str, ...]
    message: str
    fix: str
    counterexample: Counterexample | None = None
    house: str | None = None
    """For a week-aware finding in a pathway shared by houses (no ``house:``): the house whose
    calendar and staffing it was checked with (each house that lists it is checked alone)."""

    @property
    def severity(self) -> Severity:
        """The kind's severity (:attr:`FindingKind.severity`): an error strands citizens."""
        return self.kind.severity

    def to_json(self) -> dict[str, Any]:
        """The finding as JSON: ids and kinds stay the same in every language; ``title``,
        ``message``, ``fix`` and the counterexample's ``story`` are in the chosen one."""
        return {
            "kind": self.kind.value,
            "title": self.kind.title,
            "severity": self.severity.value,
            "pathway": self.pathway,
            "house": self.house,
            "states": list(self.states),
            "transitions": list(self.transitions),
            "message": self.message,
            "fix": self.fix,
            "counterexample": self.counterexample.to_json() if self.counterexample else None,
        }

    def to_text(self) -> str:
        head = tr("{severity} {kind} in {pathway}", severity=self.severity.word, kind=self.kind.value, pathway=self.pathway)
        if self.states:
            head += ": " + ", ".join(f"`{s}`" for s in self.states)
        lines = [head, f"  {self.message}"]
        if self.counterexample is not None:
            lines.append(tr("  how: {story}", story=self.counterexample.story()))
        lines.append(tr("  fix: {fix}", fix=self.fix))
        return "\n".join(lines)


@attrs.frozen
class CheckResult:
    """Everything :func:`~pathways.check` found; ``ok`` when there is no error."""

    findings: tuple[Finding, ...]
    explored: Mapping[str, int]
    """Configurations explored per pathway."""
    complete: bool
    bound: int
    week: tuple[str, ...] = ()
    """The houses whose pathways were also checked over the week (empty: time-free only)."""

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    def of_kind(self, kind: FindingKind) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.kind is kind)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "lang": current_language(),
            "complete": self.complete,
            "bound": self.bound,
            "explored": dict(self.explored),
            "week": list(self.week),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [f.to_json() for f in self.findings],
        }

    def to_text(self) -> str:
        blocks = [f.to_text() for f in self.findings]
        size = sum(self.explored.values())
        blocks.append(
            tr("{verdict}: {errors} error(s), {warnings} warning(s) in {pathways} pathway(s); {size} configurations explored",
               verdict=tr("OK") if self.ok else tr("STRANDING"), errors=len(self.errors), warnings=len(self.warnings),
               pathways=len(self.explored), size=size)
            + ("" if self.complete else tr(" (incomplete: bound {bound} reached)", bound=self.bound))
            + (tr("; the week checked for {houses}", houses=", ".join(self.week)) if self.week else "")
        )
        return "\n\n".join(blocks)
