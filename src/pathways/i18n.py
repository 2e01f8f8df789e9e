"""Danish and English for everything a designer reads: one gettext catalogue.

Designers in the houses work in Danish; the English text is the message id (gettext's
convention) and the Danish translation lives in ``locale/da/LC_MESSAGES/pathways.po``,
compiled to ``pathways.mo`` with Babel (``python scripts/messages.py``). A test keeps the
compiled catalogue current and checks that every marked message has a Danish text with
the same ``{placeholders}``.

Code marks a text with :func:`tr` and formats it with keywords; the language is the one
chosen with :func:`use_language` (the CLI's ``--lang``), else ``PATHWAYS_LANG``, else the
locale, else English. Labels from definition files (:class:`~pathways.model.Label`) are
picked with :func:`label`; roles and states are named by their labels with the id after,
e.g. ``Sygeplejerske (Regionspsykiatrien) [nurse]``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, assert_never

from .model import Label, Outcome, Pathway, StateKind

if TYPE_CHECKING:
    import gettext

__all__ = [
    "LANGUAGES",
    "Lang",
    "current_language",
    "default_language",
    "kind_name",
    "label",
    "noun",
    "outcome_name",
    "parse_language",
    "role_name",
    "state_name",
    "tr",
    "use_language",
    "weekday_time",
]

Lang = Literal["da", "en"]
LANGUAGES: tuple[Lang, ...] = ("da", "en")
"""The languages of the houses: Danish first, English beside it."""

DOMAIN = "pathways"

_chosen: ContextVar[Lang | None] = ContextVar("pathways_language", default=None)


def parse_language(text: str | None) -> Lang | None:
    """``da``, ``da_DK.UTF-8``, ``en-GB`` … → ``"da"`` / ``"en"``; anything else → ``None``."""
    if not text:
        return None
    head = text.strip().lower().replace("-", "_").split("_")[0].split(".")[0]
    for lang in LANGUAGES:
        if head == lang:
            return lang
    return None


def default_language() -> Lang:
    """``PATHWAYS_LANG``, then the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``), then English."""
    for name in ("PATHWAYS_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        lang = parse_language(os.environ.get(name))
        if lang is not None:
            return lang
    return _locale_language() or "en"


@cache
def _locale_language() -> Lang | None:
    """The process locale's language, asked once: every refusal and finding names its language."""
    import locale  # here, not at import: `import pathways` stays light

    with contextlib.suppress(ValueError):
        return parse_language(locale.getlocale()[0])
    return None


def current_language() -> Lang:
    """The language chosen with :func:`use_language`, else the process's default.

    The default is :func:`default_language`, read once at the first message: every
    refusal and finding asks for the language, and reading the environment each time cost
    a fifth of a simulation's run. A host changes the language with :func:`use_language`.
    """
    return _chosen.get() or _process_default()


@cache
def _process_default() -> Lang:
    return default_language()


@contextlib.contextmanager
def use_language(lang: Lang | str | None) -> Iterator[Lang]:
    """Speak ``lang`` inside the block (``None``: keep the language already chosen)."""
    chosen = parse_language(lang) if lang else _chosen.get()
    if lang and chosen is None:
        raise ValueError(f"unknown language {lang!r}: choose one of {', '.join(LANGUAGES)}")
    token = _chosen.set(chosen)
    try:
        yield current_language()
    finally:
        _chosen.reset(token)


@cache
def _translations(lang: Lang) -> gettext.NullTranslations:
    import gettext  # here, with importlib.resources (which loads tempfile): not at `import pathways`
    from importlib import resources

    if lang == "en":
        return gettext.NullTranslations()
    folder = resources.files("pathways") / "locale"
    with resources.as_file(folder) as localedir:
        return gettext.translation(DOMAIN, localedir=str(localedir), languages=[lang])


def tr(message: str, /, *, lang: Lang | None = None, **values: Any) -> str:
    """``message`` (English, the catalogue id) in the current language, formatted with ``values``."""
    text = _translations(lang or current_language()).gettext(message)
    return text.format(**values) if values else text


def label(text: Label, lang: Lang | None = None) -> str:
    """A definition's bilingual text in the current language."""
    return text.da if (lang or current_language()) == "da" else text.en


def role_name(pathway: Pathway, role: str, *, with_id: bool = True, lang: Lang | None = None) -> str:
    """``Sygeplejerske (Regionspsykiatrien) [nurse]``: the role's label, its sector's (unless the same), then the id."""
    r = pathway.roles.get(role)
    if r is None:
        return role
    sector = pathway.sectors.get(r.sector)
    text = label(r.label, lang)
    if sector is not None and label(sector.label, lang) != text:  # "Borger (Borger)" says nothing twice
        text += f" ({label(sector.label, lang)})"
    return f"{text} [{role}]" if with_id else text


def state_name(pathway: Pathway, state: str, *, with_id: bool = True, lang: Lang | None = None) -> str:
    """``Overnatning [staying]``: the state's label, then the id."""
    s = pathway.state_by_id.get(state)
    if s is None:
        return state
    text = label(s.label, lang)
    return f"{text} [{state}]" if with_id else text


def kind_name(kind: StateKind, lang: Lang | None = None) -> str:
    """A state kind in words: being helped, waiting, ended."""
    match kind:
        case StateKind.ACTIVE:
            return tr("active", lang=lang)
        case StateKind.WAITING:
            return tr("waiting", lang=lang)
        case StateKind.TERMINAL:
            return tr("terminal", lang=lang)
        case other:  # pragma: no cover - mypy names a new kind here
            assert_never(other)


def outcome_name(outcome: Outcome, lang: Lang | None = None) -> str:
    """How a terminal state ends the pathway, in words."""
    match outcome:
        case Outcome.COMPLETED:
            return tr("completed", lang=lang)
        case Outcome.HANDED_OVER:
            return tr("handed over", lang=lang)
        case Outcome.LEFT_BY_CHOICE:
            return tr("left by own choice", lang=lang)
        case other:  # pragma: no cover - mypy names a new outcome here
            assert_never(other)


def noun(what: str, *, plural: bool = False, lang: Lang | None = None) -> str:
    """The name of a kind of thing in a message ("role", "roles", "journey"); unknown words pass through."""
    match (what, plural):
        case ("field", False):
            return tr("field", lang=lang)
        case ("field", True):
            return tr("fields", lang=lang)
        case ("role", False):
            return tr("role", lang=lang)
        case ("role", True):
            return tr("roles", lang=lang)
        case ("state", False):
            return tr("state", lang=lang)
        case ("state", True):
            return tr("states", lang=lang)
        case ("fact", False):
            return tr("fact", lang=lang)
        case ("fact", True):
            return tr("facts", lang=lang)
        case ("trigger", False):
            return tr("trigger", lang=lang)
        case ("trigger", True):
            return tr("triggers", lang=lang)
        case ("sector", False):
            return tr("sector", lang=lang)
        case ("sector", True):
            return tr("sectors", lang=lang)
        case ("pathway", False):
            return tr("pathway", lang=lang)
        case ("pathway", True):
            return tr("pathways", lang=lang)
        case ("resource", False):
            return tr("resource", lang=lang)
        case ("resource", True):
            return tr("resources", lang=lang)
        case ("pathway definitions", False):
            return tr("pathway definitions", lang=lang)
        case ("simulation scenario", False):
            return tr("simulation scenario", lang=lang)
        case ("journey", False):
            return tr("journey", lang=lang)
        case (_, True):
            return f"{what}s"
        case _:
            return what


def weekday_time(when: datetime, lang: Lang | None = None) -> str:
    """``Monday 23:40`` / ``mandag 23:40``: a local time as the houses read it (``when`` is already local)."""
    return f"{_weekday(when.weekday(), lang)} {when:%H:%M}"


def _weekday(day: int, lang: Lang | None) -> str:
    match day:
        case 0:
            return tr("Monday", lang=lang)
        case 1:
            return tr("Tuesday", lang=lang)
        case 2:
            return tr("Wednesday", lang=lang)
        case 3:
            return tr("Thursday", lang=lang)
        case 4:
            return tr("Friday", lang=lang)
        case 5:
            return tr("Saturday", lang=lang)
        case _:
            return tr("Sunday", lang=lang)
