"""Mistakes in a designer's document (definition or scenario) as :class:`Problem` s.

One place for what every document reader shares: the path type of a place in a document,
"did you mean …?" hints, the translation of cattrs' nested errors and of YAML parser
errors into ``(path, message, hint)``, and a problem at a place with its line and column.
"""

from __future__ import annotations

import difflib
import enum
import os
import stat
import typing
import weakref
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Final, TypeVar

import attrs
import cattrs
import yaml
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)

from ._yaml import DocPath, Positioned, format_path, parse
from .errors import DocumentError, Problem
from .i18n import noun, tr

__all__ = [
    "MAX_FILE_BYTES",
    "DocPath",
    "Found",
    "Positions",
    "Unreadable",
    "decode",
    "did_you_mean",
    "explain",
    "parse_fields",
    "problem_at",
    "read_document",
    "read_fields",
    "read_text",
    "structure_fields",
    "yaml_problem",
]

Found = tuple[DocPath, str, str | None]
"""(place in the document, what is wrong, hint)."""


def did_you_mean(name: str, known: Iterable[str], what: str) -> str:
    """A hint naming the closest known name, or listing the known ones."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return tr("did you mean {name}?", name=repr(close[0]))
    if not known:
        return tr("no {thing} is declared; declare it first", thing=noun(what))
    listed = ", ".join(repr(k) for k in known[:12]) + (", …" if len(known) > 12 else "")
    return tr("known {things}: {listed}", things=noun(what, plural=True), listed=listed)


def problem_at(file: str, doc: Positioned, path: DocPath, message: str, hint: str | None = None) -> Problem:
    """A problem at ``path`` in ``doc``, with the line and column where it stands."""
    line, col = doc.position(path)
    return Problem(file, format_path(path), message, hint, line, col)


def parse_fields(
    text: str, file: str, error: type[DocumentError], not_mapping: str, start: str, *, if_empty: str | None = None,
) -> tuple[Positioned, list[Problem]]:
    """The document of ``text``, which must be a mapping of fields, and its keys written twice.

    ``not_mapping`` says what the document must be (``{got}`` names what it is instead) and
    ``start`` how to begin it; ``if_empty`` is said instead for an empty document, if given.

    Raises:
        error: the text is not YAML, or not a mapping (nothing more can be read from it).
    """
    try:
        doc = parse(text)
    except yaml.YAMLError as exc:
        raise error([yaml_problem(exc, file)]) from None
    if doc.data is None and if_empty is not None:
        raise error([Problem(file, "", if_empty, start, 1, 1)])
    if not isinstance(doc.data, dict):
        raise error([problem_at(file, doc, (), not_mapping.format(got=type(doc.data).__name__), start)])
    return doc, [problem_at(file, doc, d, f"key {d[-1]!r} appears twice", "remove or rename one of them") for d in doc.duplicates]


_T = TypeVar("_T")
_Doc = TypeVar("_Doc", bound=attrs.AttrsInstance)
"""A document read by :func:`read_fields`: an attrs class with a ``source`` field."""


class Positions:
    """The parsed document of each living object read from one (by ``id``), so later checks
    can name lines; an entry goes when its object is collected, so repeated loads do not pile up."""

    def __init__(self) -> None:
        self._docs: dict[int, Positioned] = {}

    def remember(self, obj: object, doc: Positioned) -> None:
        """Keep ``doc`` as long as ``obj`` lives."""
        self._docs[id(obj)] = doc
        weakref.finalize(obj, self._docs.pop, id(obj), None)

    def of(self, obj: object) -> Positioned | None:
        """The document ``obj`` was read from, if it was read from one."""
        return self._docs.get(id(obj))

    def problems(self, obj: object, file: str, found: Iterable[Found]) -> list[Problem]:
        """``found`` in ``obj`` as problems, at their lines if ``obj`` was read from a document."""
        doc = self.of(obj)
        return [problem_at(file, doc, p, m, h) if doc is not None else Problem(file, format_path(p), m, h) for p, m, h in found]


def structure_fields(
    converter: cattrs.Converter, doc: Positioned, file: str, cls: type[_T], problems: list[Problem], error: type[DocumentError],
) -> _T:
    """``doc`` as a ``cls``.

    Raises:
        error: with ``problems`` (found before) and every field that does not fit, at its place.
    """
    try:
        return converter.structure(doc.data, cls)
    except (ClassValidationError, IterableValidationError) as exc:
        raise error([*problems, *(problem_at(file, doc, p, m, h) for p, m, h in explain(exc, (), cls))]) from None


def read_fields(
    text: str, file: str, cls: type[_Doc], converter: cattrs.Converter, error: type[DocumentError], *,
    not_mapping: str, start: str, shape: Callable[[_Doc], Iterable[Found]], positions: Positions,
) -> _Doc:
    """``text``, a mapping of fields, as a ``cls`` whose ``source`` is ``file``: a journey or a scenario.

    Every problem is reported at once: YAML, keys written twice, fields that do not fit,
    a ``source`` written in the file (the file itself is the source), and what ``shape``
    finds in the result. ``positions`` keeps the document, so that checks against the
    definitions later can name lines (:meth:`Positions.problems`).

    Raises:
        error: with every problem found.
    """
    doc, problems = parse_fields(text, file, error, not_mapping, start)
    if "source" in doc.data:
        problems.append(problem_at(file, doc, ("source",), "unknown field 'source'", "remove it"))
    value: _Doc = attrs.evolve(typing.cast(Any, structure_fields(converter, doc, file, cls, problems, error)), source=file)
    problems.extend(problem_at(file, doc, p, m, h) for p, m, h in shape(value))
    if problems:
        raise error(problems)
    positions.remember(value, doc)
    return value


def yaml_problem(exc: yaml.YAMLError, file: str) -> Problem:
    """A YAML parser error as a problem with its line, column and a hint."""
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    col = mark.column + 1 if mark is not None else None
    what = getattr(exc, "problem", None) or str(exc)
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark is not None and context_mark.line + 1 != line:
        what += f", {context} that starts at line {context_mark.line + 1}"
    hint = getattr(exc, "hint", None)
    if hint is not None:  # a DocumentProblem: valid YAML that we refuse, with its own words
        return Problem(file, "", what, hint, line, col)
    return Problem(file, "", f"not valid YAML: {what}", _yaml_hint(what, context or ""), line, col)


def _yaml_hint(problem: str, context: str) -> str:
    """How to fix a parser error, for the mistakes designers make (libyaml's or PyYAML's words)."""
    if "'\\t'" in problem or "tab character" in problem:
        return "indent with spaces; YAML does not allow tabs"
    if "scanning an alias" in context:
        return "write '*' in quotes: YAML reads an unquoted * as an alias"
    return "check indentation and quoting"


MAX_FILE_BYTES: Final = 2_000_000
"""The default size limit of a definition or scenario file (the largest seed is ~25 kB)."""


class Unreadable(Exception):
    """A document file that cannot be read; ``problem`` says why (each reader raises its own error)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def read_document(path: Path, error: type[DocumentError], max_bytes: int = MAX_FILE_BYTES) -> str:
    """The text of a document file; ``error`` is the reader's own error.

    Raises:
        error: with the one problem of :func:`read_text` (missing, not a regular file, too big, not UTF-8).
    """
    try:
        return read_text(path, max_bytes)
    except Unreadable as exc:
        raise error([exc.problem]) from None


def read_text(path: Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The text of a regular UTF-8 file of at most ``max_bytes`` bytes.

    Anything else is refused before it is read: a FIFO would block for ever and
    ``/dev/zero`` never ends, so the file is opened without blocking and checked with
    ``fstat`` (a symbolic link is followed, then judged by what it points at).

    Raises:
        Unreadable: with the problem (missing, not a regular file, too big, not UTF-8).
    """
    name = str(path)

    def refuse(message: str, hint: str, line: int | None = None, column: int | None = None) -> Unreadable:
        return Unreadable(Problem(name, "", message, hint, line, column))

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise refuse("file not found", "check the path") from None
    except OSError as exc:
        raise refuse(f"cannot read file: {exc.strerror or type(exc).__name__}", "check the path and its permissions") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((k for test, k in _KINDS if test(info.st_mode)), "not a regular file")
            raise refuse(f"not a regular file: it is {kind}", "point at the definition file itself")
        limit = f"more than the limit of {max_bytes:,} bytes"
        hint = "split it into several files, or raise the limit (max_bytes)"
        if info.st_size > max_bytes:
            raise refuse(f"the file is {info.st_size:,} bytes, {limit}", hint)
        chunks, size = [], 0
        while chunk := os.read(fd, min(1 << 20, max_bytes + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise refuse(f"the file grew while it was read to {limit}", hint)
    except OSError as exc:
        raise refuse(f"cannot read file: {exc.strerror or type(exc).__name__}", "check the path and its permissions") from None
    finally:
        os.close(fd)
    return decode(b"".join(chunks), name)


def decode(data: bytes, name: str) -> str:
    """UTF-8 text (a byte-order mark is dropped); a wrong byte is reported at its line and column."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Unreadable(Problem(name, "", "the file is UTF-16 text, not UTF-8", "save it as UTF-8 (most editors: 'Save with encoding')", 1, 1))
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        column = len(data[line_start:exc.start].decode("utf-8", "replace")) + 1
        raise Unreadable(Problem(
            name, "", f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be read",
            "save the file as UTF-8 (most editors: 'Save with encoding'); æ, ø and å are fine in UTF-8", line, column,
        )) from None


def explain(exc: BaseException, path: DocPath, cls: Any) -> Iterator[Found]:
    """Turn cattrs' nested exception groups into (path, message, hint) triples."""
    if isinstance(exc, IterableValidationError | ClassValidationError):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            step = note.index if isinstance(note, IterableValidationNote) else note.name
            yield from explain(sub, (*path, step), note.type)
        for sub in without:
            yield from explain(sub, path, cls)
    elif isinstance(exc, ForbiddenExtraKeysError):
        fields = [a.name for a in attrs.fields(exc.cl)]
        for key in sorted(exc.extra_fields):
            yield ((*path, key), tr("unknown field {key}", key=repr(key)), did_you_mean(key, fields, "field"))
    elif isinstance(exc, KeyError):
        name = path[-1] if path else "?"
        yield (path, tr("required field {name} is missing", name=repr(name)), tr("add '{name}:'", name=name))
    elif isinstance(exc, ValueError) and (enum_cls := _enum_of(cls)) is not None:
        cls = enum_cls
        allowed = ", ".join(repr(m.value) for m in cls)
        found = str(exc).split(" is not a valid")[0]
        yield (path, tr("expected one of {allowed}, got {found}", allowed=allowed, found=found), None)
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
