"""Typed values at every entry: what the engine's and the stores' verbs accept.

A form value passed straight through (``"false"`` for a fact) used to satisfy a guard in
memory and poison a stored case; a number for a person's id was stored and later read as
tampering. Every verb checks its arguments here first and raises
:class:`~pathways.errors.InvalidArgument` naming the argument, before anything is read or
written. Ids follow :mod:`pathways._limits` (what the store can hold); people's ids are
compared in a normalised form (:func:`person_key`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ._limits import MAX_CASE_ID, MAX_ID, id_problem
from .case import Actor, Case, Link
from .errors import InvalidArgument

__all__ = [
    "MAX_TEXT",
    "actor",
    "case_ref",
    "check_action",
    "check_due",
    "check_set_fact",
    "check_start",
    "facts",
    "flag",
    "ident",
    "limit",
    "link",
    "person_key",
    "text",
    "when",
]

MAX_TEXT = 10_000
"""The longest free text (a reason) a verb accepts."""


def _type(value: object) -> str:
    return type(value).__name__


def ident(value: object, argument: str, *, limit: int = MAX_ID, optional: bool = False) -> None:
    """An id: text of 1 to ``limit`` characters without spaces or control characters."""
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise InvalidArgument(argument, f"an id (text of 1 to {limit} characters)", _type(value))
    if id_problem(value, limit) is not None:
        got = "empty text" if not value else f"text of {len(value)} characters" if len(value) > limit else "text with a space or control character"
        raise InvalidArgument(argument, f"an id of 1 to {limit} characters without spaces or control characters", got)


def case_ref(value: object, argument: str = "case") -> None:
    """A case object or a case id."""
    if not isinstance(value, Case):
        ident(value, argument, limit=MAX_CASE_ID)


def actor(value: object, argument: str = "actor", *, optional: bool = False) -> None:
    """An :class:`Actor` whose person, role and sector are ids."""
    if value is None and optional:
        return
    if not isinstance(value, Actor):
        raise InvalidArgument(argument, "an Actor(person, role, sector)", _type(value))
    for part in ("person", "role", "sector"):
        ident(getattr(value, part), f"{argument}.{part}")


def flag(value: object, argument: str) -> None:
    """True or False, nothing else (not ``"false"``, not 0)."""
    if not isinstance(value, bool):
        raise InvalidArgument(argument, "True or False", _type(value))


def facts(value: object, argument: str = "facts") -> None:
    """``None`` or a mapping of fact ids to True/False."""
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise InvalidArgument(argument, "a mapping of fact ids to True or False", _type(value))
    for key, item in value.items():
        ident(key, f"{argument} key")
        flag(item, f"{argument}[{key!r}]")


def text(value: object, argument: str, *, optional: bool = True) -> None:
    """Free text (a reason) without NUL characters, at most :data:`MAX_TEXT` characters."""
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise InvalidArgument(argument, "text" + (" or None" if optional else ""), _type(value))
    if "\x00" in value or len(value) > MAX_TEXT:
        raise InvalidArgument(argument, f"text of at most {MAX_TEXT:,} characters without NUL", f"{len(value):,} characters")


def when(value: object, argument: str = "now", *, optional: bool = True) -> None:
    """An aware datetime (a naive one has no place on the timeline)."""
    if value is None and optional:
        return
    if not isinstance(value, datetime):
        raise InvalidArgument(argument, "an aware datetime", _type(value))
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidArgument(argument, "an aware datetime (with a time zone)", "a naive datetime")


def limit(value: object, argument: str = "limit") -> None:
    """``None`` or a whole number of at least 0."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgument(argument, "None or a whole number of at least 0", _type(value) if not isinstance(value, int) else str(value))


def link(value: object, argument: str = "sender") -> None:
    """A :class:`Link` naming a case id and a trigger."""
    if not isinstance(value, Link):
        raise InvalidArgument(argument, "a Link(case_id, trigger)", _type(value))
    for part in ("case_id", "trigger"):  # the sender's own names (e.g. FHIR references): text, not our ids
        text(getattr(value, part), f"{argument}.{part}", optional=False)


def person_key(person: str) -> str:
    """How people are compared (four-eyes, the citizen's own case): Unicode NFKC, case-folded.

    ``P-2`` and ``p-2`` are one person; ids cannot hold spaces (see :func:`ident`), so
    ``" p-1"`` is refused rather than taken for ``p-1``.
    """
    return unicodedata.normalize("NFKC", person).casefold()


def check_start(pathway_id: Any, citizen: Any, facts_: Any, actor_: Any, case_id: Any) -> None:
    """The arguments of ``start`` and ``receive``."""
    ident(pathway_id, "pathway_id")
    ident(citizen, "citizen")
    facts(facts_)
    actor(actor_, optional=True)
    ident(case_id, "case_id", limit=MAX_CASE_ID, optional=True)


def check_action(case: Any, actor_: Any, reason: Any = None, *, reason_required: bool = False) -> None:
    """The arguments of ``fire``, ``approve``, ``refuse``, ``options`` and ``why_not``."""
    case_ref(case)
    actor(actor_)
    text(reason, "reason", optional=not reason_required)


def check_set_fact(case: Any, fact: Any, value: Any, actor_: Any, reason: Any) -> None:
    """The arguments of ``set_fact``."""
    case_ref(case)
    ident(fact, "fact")
    flag(value, "value")
    actor(actor_)
    text(reason, "reason")


def check_due(now: Any, cases: Any, limit_: Any) -> None:
    """The arguments of ``fire_due``."""
    when(now)
    limit(limit_)
    if cases is not None and (isinstance(cases, str | bytes) or not hasattr(cases, "__iter__")):
        raise InvalidArgument("cases", "None or a collection of cases or case ids", _type(cases))
