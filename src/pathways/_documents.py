"""Mistakes in a designer's document (definition or scenario) as :class:`Problem` s.

One place for what every document reader shares: the path type of a place in a document,
"did you mean …?" hints, the translation of cattrs' nested errors and of YAML parser
errors into ``(path, message, hint)``, and a problem at a place with its line and column.
"""

from __future__ import annotations

import difflib
import enum
import typing
from collections.abc import Iterable, Iterator
from typing import Any

import attrs
import yaml
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError

from ._yaml import DocPath, Positioned, format_path
from .errors import Problem

__all__ = ["DocPath", "Found", "did_you_mean", "explain", "problem_at", "yaml_problem"]

Found = tuple[DocPath, str, str | None]
"""(place in the document, what is wrong, hint)."""


def did_you_mean(name: str, known: Iterable[str], what: str) -> str:
    """A hint naming the closest known name, or listing the known ones."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    if not known:
        return f"no {what} is declared; declare it first"
    listed = ", ".join(repr(k) for k in known[:12]) + (", …" if len(known) > 12 else "")
    return f"known {what}s: {listed}"


def problem_at(file: str, doc: Positioned, path: DocPath, message: str, hint: str | None = None) -> Problem:
    """A problem at ``path`` in ``doc``, with the line and column where it stands."""
    line, col = doc.position(path)
    return Problem(file, format_path(path), message, hint, line, col)


def yaml_problem(exc: yaml.YAMLError, file: str) -> Problem:
    """A YAML parser error as a problem with its line, column and a hint."""
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    col = mark.column + 1 if mark is not None else None
    what = getattr(exc, "problem", None) or str(exc)
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark is not None and context_mark.line + 1 != line:
        what += f", {context} that starts at line {context_mark.line + 1}"
    hint = "indent with spaces; YAML does not allow tabs" if "'\\t'" in what else "check indentation and quoting"
    return Problem(file, "", f"not valid YAML: {what}", hint, line, col)


def explain(exc: BaseException, path: DocPath, cls: Any) -> Iterator[Found]:
    """Turn cattrs' nested exception groups into (path, message, hint) triples."""
    if isinstance(exc, IterableValidationError):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            yield from explain(sub, (*path, note.index), note.type)
        for sub in without:
            yield from explain(sub, path, cls)
    elif isinstance(exc, ClassValidationError):
        attr_notes, without_notes = exc.group_exceptions()
        for sub, attr_note in attr_notes:
            yield from explain(sub, (*path, attr_note.name), attr_note.type)
        for sub in without_notes:
            yield from explain(sub, path, cls)
    elif isinstance(exc, ForbiddenExtraKeysError):
        fields = [a.name for a in attrs.fields(exc.cl)]
        for key in sorted(exc.extra_fields):
            yield ((*path, key), f"unknown field {key!r}", did_you_mean(key, fields, "field"))
    elif isinstance(exc, KeyError):
        name = path[-1] if path else "?"
        yield (path, f"required field {name!r} is missing", f"add '{name}:'")
    elif isinstance(exc, ValueError) and (enum_cls := _enum_of(cls)) is not None:
        cls = enum_cls
        allowed = ", ".join(repr(m.value) for m in cls)
        found = str(exc).split(" is not a valid")[0]
        yield (path, f"expected one of {allowed}, got {found}", None)
    elif isinstance(exc, ValueError | TypeError):
        expected = _type_name(cls)
        text = str(exc)
        if isinstance(exc, TypeError) or not text:
            text = f"expected {expected}"
        yield (path, text, None)
    else:  # pragma: no cover - cattrs raises only the kinds above
        yield (path, f"{type(exc).__name__}: {exc}", None)


def _enum_of(cls: Any) -> type[enum.Enum] | None:
    """The enum class of ``cls`` or of an optional ``cls | None``, else ``None``."""
    for candidate in (cls, *typing.get_args(cls)):
        if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
            return candidate
    return None


def _type_name(cls: Any) -> str:
    if attrs.has(cls):
        return f"a mapping with fields {', '.join(a.name for a in attrs.fields(cls))}"
    origin = typing.get_origin(cls)
    if origin is not None:
        return "a mapping" if "Mapping" in str(origin) or origin is dict else "a list"
    return getattr(cls, "__name__", str(cls))
