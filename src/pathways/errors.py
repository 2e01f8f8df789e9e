"""Every error `pathways` raises, under one root.

Host applications catch :class:`PathwaysError` to handle all of them, or a branch to
handle one concern. Messages say what was tried, where, what was found and how to fix it;
they never contain the values of a case's context (privacy).

::

    PathwaysError
    ├── DefinitionError          a definition file is wrong (carries every Problem at once)
    ├── UnknownPathway           no loaded pathway has that id (and version)
    ├── UnknownCase              the engine or store holds no case with that id
    ├── ActionRefused            an actor's action was not carried out; nothing changed
    │   ├── UnknownTrigger       the trigger does not exist in this pathway
    │   ├── WrongState           the trigger exists but not from the case's current state
    │   ├── NotPermitted         the actor's role or sector may not fire this
    │   ├── GuardFailed          a named guard over the case's context is false
    │   ├── NoCapacity           every place of a shared resource is taken
    │   ├── CaseClosed           the case is in a terminal state
    │   └── ApprovalRefused      an approval or refusal that the rule does not accept
    │       ├── NoPendingApproval   nothing awaits approval on this case
    │       ├── SelfApproval        the requester tried to approve their own request
    │       ├── DuplicateApproval   this person has already approved
    │       └── NotAnApprover       the actor's role/sector is not part of the rule
    ├── CapacityError            releasing more places than were taken (a bug in the caller)
    ├── SnapshotError            a snapshot cannot be restored (malformed, other version)
    ├── NoCounterexample         a checker finding has no run to replay (e.g. an unreachable state)
    ├── ScenarioError            a simulation scenario file is wrong (carries every Problem at once)
    ├── JourneyError             a journey file is wrong (carries every Problem at once)
    ├── RenderError              a diagram or report cannot be rendered (e.g. Graphviz is missing)
    └── StoreError               durable storage failed (see pathways.store)
        └── ConcurrentUpdate     another writer changed the case first; re-read and retry
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

__all__ = [
    "ActionRefused",
    "ApprovalRefused",
    "CapacityError",
    "CaseClosed",
    "ConcurrentUpdate",
    "DefinitionError",
    "DuplicateApproval",
    "GuardFailed",
    "JourneyError",
    "NoCapacity",
    "NoCounterexample",
    "NoPendingApproval",
    "NotAnApprover",
    "NotPermitted",
    "PathwaysError",
    "Problem",
    "RenderError",
    "ScenarioError",
    "SelfApproval",
    "SnapshotError",
    "StoreError",
    "UnknownCase",
    "UnknownPathway",
    "UnknownTrigger",
    "WrongState",
]


class PathwaysError(Exception):
    """The root of every error this library raises."""


@attrs.frozen
class Problem:
    """One mistake in a definition file: where it is, what is wrong, how to fix it.

    ``path`` is the place in the document, e.g. ``transitions[3].approval.roles[1]``;
    ``line`` and ``column`` are 1-based, or ``None`` when the place has no position
    (a missing key is reported at its parent's position).
    """

    file: str
    path: str
    message: str
    hint: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.path or '(document)'}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class DefinitionError(PathwaysError):
    """One or more definition files are wrong; ``problems`` lists every mistake found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        count = len(self.problems)
        header = f"{count} problem{'s' if count != 1 else ''} in pathway definitions:"
        super().__init__("\n".join([header, *(f"  {p}" for p in self.problems)]))


class UnknownPathway(PathwaysError):
    """No loaded pathway has the requested id (or version)."""


class UnknownCase(PathwaysError):
    """No case with the requested id is known."""


class ActionRefused(PathwaysError):
    """An action was refused; the case is unchanged. ``reason`` is a short machine code."""

    reason = "refused"


class UnknownTrigger(ActionRefused):
    """The trigger is not defined in the case's pathway."""

    reason = "unknown_trigger"


class WrongState(ActionRefused):
    """The trigger is defined, but not from the state the case is in."""

    reason = "state"


class NotPermitted(ActionRefused):
    """The actor's role (or sector) may not fire this transition."""

    reason = "role"


class GuardFailed(ActionRefused):
    """A guard over the case's context does not hold."""

    reason = "guard"


class NoCapacity(ActionRefused):
    """Every place of the shared resource the transition takes is in use."""

    reason = "capacity"


class CaseClosed(ActionRefused):
    """The case has reached a terminal state; nothing more can happen to it."""

    reason = "closed"


class ApprovalRefused(ActionRefused):
    """An approval or refusal was not accepted by the approval rule."""

    reason = "approval"


class NoPendingApproval(ApprovalRefused):
    """There is no pending approval request on the case."""

    reason = "no_pending_approval"


class SelfApproval(ApprovalRefused):
    """The person who requested the transition tried to approve it (four-eyes)."""

    reason = "self_approval"


class DuplicateApproval(ApprovalRefused):
    """The same person tried to approve the same request twice."""

    reason = "duplicate_approval"


class NotAnApprover(ApprovalRefused):
    """The actor's role or sector cannot give this approval, or it is no longer needed."""

    reason = "not_an_approver"


class CapacityError(PathwaysError):
    """More places were released than taken: the ledger would go negative."""


class SnapshotError(PathwaysError):
    """A snapshot is malformed or belongs to another pathway version."""


class ScenarioError(PathwaysError):
    """A simulation scenario is wrong; ``problems`` lists every mistake found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        count = len(self.problems)
        header = f"{count} problem{'s' if count != 1 else ''} in simulation scenario:"
        super().__init__("\n".join([header, *(f"  {p}" for p in self.problems)]))


class JourneyError(PathwaysError):
    """A journey file (a designer's test) is wrong; ``problems`` lists every mistake found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        count = len(self.problems)
        header = f"{count} problem{'s' if count != 1 else ''} in journey:"
        super().__init__("\n".join([header, *(f"  {p}" for p in self.problems)]))


class RenderError(PathwaysError):
    """A diagram or report cannot be rendered, e.g. Graphviz ``dot`` is not installed."""


class NoCounterexample(PathwaysError):
    """A stranding finding has no counterexample to replay (nothing leads into it)."""


class StoreError(PathwaysError):
    """Durable storage failed; the message says which database and what to do."""


class ConcurrentUpdate(StoreError):
    """Another writer changed the case since it was read; re-read it and try again."""
