"""Every error `pathways` raises, under one root.

Host applications catch :class:`PathwaysError` to handle all of them, or a branch to
handle one concern. Messages say what was tried, where, what was found and how to fix it;
they never contain the values of a case's context (privacy). Errors carry their data as
attributes, so a host branches on data, never on message text: a refusal carries the
case, pathway, state, trigger, actor and the :class:`~pathways.refusals.Reason` values
the engine's checks produced (the same ones ``Engine.why_not`` returns); a document error
carries every :class:`Problem`.

::

    PathwaysError
    ├── DocumentError            a file is wrong (carries every Problem at once in .problems)
    │   ├── DefinitionError      … a pathway definition file
    │   ├── ScenarioError        … a simulation scenario file
    │   └── JourneyError         … a journey file (a designer's test)
    ├── UnknownPathway           no loaded pathway has that id (and version)
    ├── UnknownCase              the engine or store holds no case with that id
    ├── InvalidArgument          an argument has the wrong type or is out of range (.argument); nothing was written
    ├── ActionRefused            an actor's action was not carried out; nothing changed
    │   ├── UnknownTrigger       the trigger does not exist in this pathway
    │   ├── WrongState           the trigger exists but not from the case's current state
    │   ├── NotPermitted         the actor's role or sector may not fire this
    │   ├── GuardFailed          a named guard over the case's context is false
    │   ├── NoCapacity           every place of a shared resource is taken
    │   ├── CaseClosed           the case is in a terminal state
    │   ├── ServiceClosed        the pathway's service is closed, so no case can start now
    │   └── ApprovalRefused      an approval or refusal that the rule does not accept
    │       ├── NoPendingApproval   nothing awaits approval on this case
    │       ├── SelfApproval        the requester tried to approve their own request
    │       ├── DuplicateApproval   this person has already approved
    │       └── NotAnApprover       the actor's role/sector is not part of the rule
    ├── CapacityError            releasing more places than were taken (a bug in the caller)
    ├── SnapshotError            a snapshot cannot be restored (malformed, other version)
    ├── NoCounterexample         a checker finding has no run to replay (e.g. an unreachable state)
    ├── RenderError              a diagram or report cannot be rendered (e.g. Graphviz is missing)
    ├── MissingExtra             a feature's optional dependencies are not installed (names the extra)
    └── StoreError               durable storage failed (see pathways.store)
        ├── StoreUnreachable     the database cannot be opened or reached (.url)
        ├── NotAStore            the database holds something other than a pathways store (.url)
        ├── SchemaTooNew         the store was written by a newer pathways (.url, .found, .supported)
        ├── UnreadableCase       a stored case cannot be read back (.case_id); run 'audit verify'
        └── ConcurrentUpdate     another writer changed the case first; re-read and retry

``ActionRefused`` and ``CapacityError`` raised by the engine carry ``case_id``, ``pathway``
(its id), ``state``, ``trigger``, ``actor`` and ``reasons``; ``code`` is the first
reason's :class:`~pathways.refusals.RefusalCode`. A refusal raised below the engine (a
place the database found taken) carries ``None`` for what it does not know.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, cast

import attrs

from .refusals import Reason, RefusalCode

if TYPE_CHECKING:
    from .case import Actor

__all__ = [
    "ActionRefused",
    "ApprovalRefused",
    "CapacityError",
    "CaseClosed",
    "ConcurrentUpdate",
    "DefinitionError",
    "DocumentError",
    "DuplicateApproval",
    "GuardFailed",
    "InvalidArgument",
    "JourneyError",
    "MissingExtra",
    "NoCapacity",
    "NoCounterexample",
    "NoPendingApproval",
    "NotAStore",
    "NotAnApprover",
    "NotPermitted",
    "PathwaysError",
    "Problem",
    "RenderError",
    "ScenarioError",
    "SchemaTooNew",
    "SelfApproval",
    "ServiceClosed",
    "SnapshotError",
    "StoreError",
    "StoreUnreachable",
    "UnknownCase",
    "UnknownPathway",
    "UnknownTrigger",
    "UnreadableCase",
    "WrongState",
    "refusal",
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


class DocumentError(PathwaysError):
    """A file is wrong; ``problems`` lists every mistake found, in document order."""

    document: ClassVar[str] = "document"
    """What the header calls the file(s), e.g. ``pathway definitions``."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        from .i18n import noun, tr  # here, not at the top: the catalogue's module imports the model

        self.problems: tuple[Problem, ...] = tuple(problems)
        count = len(self.problems)
        document = noun(self.document)
        header = tr("1 problem in {document}:", document=document) if count == 1 else tr("{count} problems in {document}:", count=count, document=document)
        super().__init__("\n".join([header, *(f"  {p}" for p in self.problems)]))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))


class DefinitionError(DocumentError):
    """One or more definition files are wrong; ``problems`` lists every mistake found."""

    document = "pathway definitions"


class ScenarioError(DocumentError):
    """A simulation scenario is wrong; ``problems`` lists every mistake found."""

    document = "simulation scenario"


class JourneyError(DocumentError):
    """A journey file (a designer's test) is wrong; ``problems`` lists every mistake found."""

    document = "journey"


class UnknownPathway(PathwaysError):
    """No loaded pathway has the requested id (or version)."""


class InvalidArgument(PathwaysError):
    """An argument to the engine or a store has the wrong type or is out of range.

    Raised before anything is read or written: a form value ``"false"`` for a fact, a
    number for a person's id, a naive time. ``argument`` names the parameter,
    ``expected`` says what it must be, ``got`` names the type (never the value: it may be
    a citizen's data).
    """

    def __init__(self, argument: str, expected: str, got: str) -> None:
        super().__init__(f"{argument} must be {expected}, got {got}")
        self.argument, self.expected, self.got = argument, expected, got


class UnknownCase(PathwaysError):
    """No case with the requested id is known."""


_CLASS_OF: dict[RefusalCode, type[_Refusal]] = {}
"""The class a refusal raises, by the code of its first reason (filled by the classes' ``codes``)."""


class _Refusal(PathwaysError):
    """The data every refusal carries; see :class:`ActionRefused`."""

    default_code: ClassVar[RefusalCode]
    """The code of a refusal raised with no reasons (e.g. by a ledger or a store)."""

    def __init_subclass__(cls, *, codes: Sequence[RefusalCode] = (), **kwargs: Any) -> None:
        """A refusal class names the codes it is raised for (``class X(ActionRefused, codes=…)``).

        That is the one place that ties codes to classes: :func:`refusal` picks the class
        of the first reason's code, and the first code is the class's ``default_code``.
        """
        super().__init_subclass__(**kwargs)
        if codes:
            cls.default_code = codes[0]
        for code in codes:
            if code in _CLASS_OF:  # pragma: no cover - fails at import
                raise TypeError(f"refusal code {code.value!r} already raises {_CLASS_OF[code].__name__}")
            _CLASS_OF[code] = cls

    def __init__(
        self,
        message: str,
        *,
        case_id: str | None = None,
        pathway: str | None = None,
        state: str | None = None,
        trigger: str | None = None,
        actor: Actor | None = None,
        reasons: Sequence[Reason] = (),
    ) -> None:
        super().__init__(message)
        self.case_id = case_id
        self.pathway = pathway
        self.state = state
        self.trigger = trigger
        self.actor = actor
        self.reasons: tuple[Reason, ...] = tuple(reasons) or (Reason(self.default_code, message),)

    @property
    def code(self) -> RefusalCode:
        """The first reason's code (the one that chose this class)."""
        return self.reasons[0].code

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), str(self), dict(vars(self))))


def _rebuild(cls: type[PathwaysError], message: str, data: dict[str, Any]) -> PathwaysError:
    """Unpickle an error that carries data (e.g. sent back from a worker process)."""
    return cls(message, **data)


class ActionRefused(
    _Refusal, codes=[RefusalCode.REFUSED, RefusalCode.PENDING, RefusalCode.UNKNOWN_FACT, RefusalCode.CASE_EXISTS]
):
    """An action was refused; the case is unchanged.

    Attributes: ``case_id``, ``pathway`` (id), ``state``, ``trigger``, ``actor`` (each
    ``None`` where it does not apply) and ``reasons``, a tuple of
    :class:`~pathways.refusals.Reason`; ``code`` is the first reason's code.
    """


class UnknownTrigger(ActionRefused, codes=[RefusalCode.UNKNOWN_TRIGGER]):
    """The trigger is not defined in the case's pathway."""


class WrongState(ActionRefused, codes=[RefusalCode.STATE]):
    """The trigger is defined, but not from the state the case is in."""


class NotPermitted(
    ActionRefused,
    codes=[RefusalCode.ROLE, RefusalCode.SECTOR, RefusalCode.FACT_PERMISSION, RefusalCode.REASON_REQUIRED, RefusalCode.NOT_OWN_CASE],
):
    """The actor may not do this: their role or sector, a fact they may not set, another citizen's case."""


class GuardFailed(ActionRefused, codes=[RefusalCode.GUARD]):
    """A guard over the case's context does not hold."""


class NoCapacity(ActionRefused, codes=[RefusalCode.CAPACITY]):
    """Every place of the shared resource the transition takes is in use."""


class CaseClosed(ActionRefused, codes=[RefusalCode.CLOSED]):
    """The case has reached a terminal state; nothing more can happen to it."""


class ServiceClosed(ActionRefused, codes=[RefusalCode.SERVICE_CLOSED]):
    """The pathway's service is closed now; its hours say when a case can start.

    A citizen arriving out of hours is met by the house's safety net (the services open
    without referral), not by this pathway.
    """

    def __init__(
        self, message: str, *, service: str = "", hours: str = "", opens_at: datetime | None = None, **refusal: Any,
    ) -> None:
        super().__init__(message, **refusal)
        self.service = service
        """The house's service that starts the pathway's cases."""
        self.hours = hours
        """Its opening hours in words, e.g. ``every_day 16:00-24:00``."""
        self.opens_at = opens_at
        """When it opens again (``None`` if not within nine days)."""


class ApprovalRefused(ActionRefused):
    """An approval or refusal was not accepted by the approval rule."""

    default_code = RefusalCode.NOT_AN_APPROVER


class NoPendingApproval(ApprovalRefused, codes=[RefusalCode.NO_PENDING_APPROVAL]):
    """There is no pending approval request on the case."""


class SelfApproval(ApprovalRefused, codes=[RefusalCode.SELF_APPROVAL]):
    """The person who requested the transition tried to approve it (four-eyes)."""


class DuplicateApproval(ApprovalRefused, codes=[RefusalCode.DUPLICATE_APPROVAL]):
    """The same person tried to approve the same request twice."""


class NotAnApprover(ApprovalRefused, codes=[RefusalCode.NOT_AN_APPROVER]):
    """The actor's role or sector cannot give this approval, or it is no longer needed."""


class CapacityError(_Refusal, codes=[RefusalCode.RELEASE]):
    """More places were released than taken: the ledger would go negative.

    A defect in a pathway or a caller, not a user's mistake; raised by the engine it
    carries the same data as :class:`ActionRefused`.
    """


_missing = [code.value for code in RefusalCode if code not in _CLASS_OF]
if _missing:  # pragma: no cover - fails at import, so a new code cannot be forgotten
    raise TypeError(f"no refusal class names the code(s) {', '.join(_missing)}: add them to a class's codes")


def refusal(
    message: str,
    reasons: Sequence[Reason],
    *,
    case_id: str | None = None,
    pathway: str | None = None,
    state: str | None = None,
    trigger: str | None = None,
    actor: Actor | None = None,
) -> ActionRefused | CapacityError:
    """The exception for ``reasons`` (the first decides its class), carrying them as data."""
    made = _CLASS_OF[reasons[0].code](message, case_id=case_id, pathway=pathway, state=state, trigger=trigger, actor=actor, reasons=reasons)
    return cast("ActionRefused | CapacityError", made)  # the two branches of _Refusal


class SnapshotError(PathwaysError):
    """A snapshot is malformed or belongs to another pathway version."""


class RenderError(PathwaysError):
    """A diagram or report cannot be rendered, e.g. Graphviz ``dot`` is not installed."""


class MissingExtra(PathwaysError):
    """A feature needs an optional dependency that is not installed.

    ``extra`` is the name to install (``pip install 'care-pathways[store]'``), ``module``
    the package that is missing and ``feature`` what needed it.
    """

    def __init__(self, extra: str, module: str, feature: str) -> None:
        self.extra, self.module, self.feature = extra, module, feature
        super().__init__(
            f"{feature} needs the optional package {module!r}, which is not installed; "
            f"install it with: pip install 'care-pathways[{extra}]'"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (MissingExtra, (self.extra, self.module, self.feature))


class NoCounterexample(PathwaysError):
    """A stranding finding has no counterexample to replay (nothing leads into it)."""


class StoreError(PathwaysError):
    """Durable storage failed; the message says which database and what to do."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), str(self), dict(vars(self))))


class StoreUnreachable(StoreError):
    """The database cannot be opened or reached (server down, wrong password, bad file)."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class NotAStore(StoreError):
    """The database exists but holds something other than a pathways store."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class SchemaTooNew(StoreError):
    """The store's schema is newer than this pathways understands; upgrade the package."""

    def __init__(self, message: str, *, url: str, found: int, supported: int) -> None:
        super().__init__(message)
        self.url = url
        self.found = found
        self.supported = supported


class UnreadableCase(StoreError):
    """A stored case cannot be read back (damaged row or history); run ``pathways audit verify``."""

    def __init__(self, message: str, *, case_id: str | None) -> None:
        super().__init__(message)
        self.case_id = case_id


class ConcurrentUpdate(StoreError):
    """Another writer changed the case since it was read; re-read it and try again."""
