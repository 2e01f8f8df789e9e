"""Why an action is refused, as data: one code and words, from the check to the host.

The engine's checks produce :class:`Reason` values; :meth:`Engine.why_not
<pathways.engine.Engine.why_not>` returns them as they are, and a refused verb raises an
:class:`~pathways.errors.ActionRefused` that carries the very same values in
``.reasons``. A host (a web page, a simulation) branches on :class:`RefusalCode`, never
on message text. The codes are strings too (``RefusalCode.GUARD == "guard"``), so they
travel as JSON unchanged.
"""

from __future__ import annotations

import enum

import attrs

__all__ = ["Reason", "RefusalCode"]


class RefusalCode(enum.StrEnum):
    """What stands in the way of an action; the first reason decides the exception class."""

    UNKNOWN_TRIGGER = "unknown_trigger"
    """The pathway has no such trigger (:class:`~pathways.errors.UnknownTrigger`)."""
    STATE = "state"
    """The trigger exists, but not from the case's state (:class:`~pathways.errors.WrongState`)."""
    CLOSED = "closed"
    """The case has ended (:class:`~pathways.errors.CaseClosed`)."""
    SERVICE_CLOSED = "service_closed"
    """The pathway's service is closed, so no case can start now (:class:`~pathways.errors.ServiceClosed`)."""
    ROLE = "role"
    """The actor's role is not in the pathway or may not do this (:class:`~pathways.errors.NotPermitted`)."""
    SECTOR = "sector"
    """The actor claims a role from another sector (:class:`~pathways.errors.NotPermitted`)."""
    GUARD = "guard"
    """A guard over the case's facts is false (:class:`~pathways.errors.GuardFailed`)."""
    CAPACITY = "capacity"
    """Every place of a shared resource is taken (:class:`~pathways.errors.NoCapacity`)."""
    RELEASE = "release"
    """The transition releases a place the case does not hold (:class:`~pathways.errors.CapacityError`)."""
    PENDING = "pending"
    """The transition already awaits approval (:class:`~pathways.errors.ActionRefused`)."""
    NO_PENDING_APPROVAL = "no_pending_approval"
    """Nothing awaits approval (:class:`~pathways.errors.NoPendingApproval`)."""
    SELF_APPROVAL = "self_approval"
    """The requester tried to approve their own request (:class:`~pathways.errors.SelfApproval`)."""
    DUPLICATE_APPROVAL = "duplicate_approval"
    """This person has already approved (:class:`~pathways.errors.DuplicateApproval`)."""
    NOT_AN_APPROVER = "not_an_approver"
    """The rule does not take (or no longer needs) this approval (:class:`~pathways.errors.NotAnApprover`)."""
    FACT_PERMISSION = "fact_permission"
    """The actor's role may not change this fact (the fact's ``set_by``/``recorded_by``; :class:`~pathways.errors.NotPermitted`)."""
    REASON_REQUIRED = "reason_required"
    """The role records the fact on the citizen's word and gave no reason (:class:`~pathways.errors.NotPermitted`)."""
    NOT_OWN_CASE = "not_own_case"
    """A citizen acts on a case that is not their own (:class:`~pathways.errors.NotPermitted`)."""
    UNKNOWN_FACT = "unknown_fact"
    """The pathway has no such fact (:class:`~pathways.errors.ActionRefused`)."""
    CASE_EXISTS = "case_exists"
    """A case with that id already exists (:class:`~pathways.errors.ActionRefused`)."""
    REFUSED = "refused"
    """Refused for another reason (an :class:`~pathways.errors.ActionRefused` raised without reasons)."""


@attrs.frozen
class Reason:
    """Why an action is not possible: a :class:`RefusalCode` and words for people.

    The words are in the language chosen when the engine made the reason
    (:func:`pathways.i18n.use_language`); the code is the same in every language.
    """

    code: RefusalCode
    message: str
