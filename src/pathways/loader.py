"""Definition files (YAML) → :class:`~pathways.model.Pathway`, with precise errors.

Every mistake in every file is collected and raised together as one
:class:`~pathways.errors.DefinitionError`, each with file, line, place in the document,
what is wrong and a hint.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
import yaml
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError

from . import _validate
from ._converter import converter
from ._yaml import Positioned, format_path, parse
from .errors import DefinitionError, Problem
from .model import Pathway
from .registry import Registry

__all__ = ["load_file", "load_registry", "load_text"]

_DocPath = tuple[str | int, ...]


def load_text(text: str, file: str = "<string>") -> Pathway:
    """Load one pathway from YAML text; ``file`` names it in error messages."""
    pathway, problems = _load(text, file)
    if problems or pathway is None:
        raise DefinitionError(problems)
    return pathway


def load_file(path: str | Path) -> Pathway:
    """Load one definition file."""
    path = Path(path)
    return load_text(_read(path), str(path))


def load_registry(sources: str | Path | Iterable[str | Path]) -> Registry:
    """Load a folder of ``*.yaml`` files (or the given files) and check them together.

    Raises:
        DefinitionError: with every problem in every file, and the problems between
            files (duplicate pathway ids, hand-overs to unknown pathways, shared
            resources declared with different capacities).
    """
    files = list(_files(sources))
    problems: list[Problem] = []
    loaded: list[tuple[str, Positioned, Pathway]] = []
    if not files:
        problems.append(Problem(str(sources), "", "no definition files found", "put pathway definitions in *.yaml files"))
    for f in files:
        try:
            text = _read(f)
        except DefinitionError as exc:
            problems.extend(exc.problems)
            continue
        doc, pathway, found = _load_positioned(text, str(f))
        problems.extend(found)
        if pathway is not None and doc is not None:
            loaded.append((str(f), doc, pathway))
    problems.extend(_between_files(loaded))
    if problems:
        raise DefinitionError(problems)
    return Registry(p for _, _, p in loaded)


def _files(sources: str | Path | Iterable[str | Path]) -> Iterator[Path]:
    items = [sources] if isinstance(sources, str | Path) else list(sources)
    for item in items:
        p = Path(item)
        if p.is_dir():
            yield from sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
        else:
            yield p


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DefinitionError([Problem(str(path), "", "file not found", "check the path")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError([Problem(str(path), "", f"cannot read file: {exc}", "save it as UTF-8 text")]) from None


def _load(text: str, file: str) -> tuple[Pathway | None, list[Problem]]:
    _, pathway, problems = _load_positioned(text, file)
    return pathway, problems


def _load_positioned(text: str, file: str) -> tuple[Positioned | None, Pathway | None, list[Problem]]:
    try:
        doc = parse(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        col = mark.column + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or str(exc)
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark is not None and context_mark.line + 1 != line:
            what += f", {context} that starts at line {context_mark.line + 1}"
        hint = "indent with spaces; YAML does not allow tabs" if "'\\t'" in what else "check indentation and quoting"
        return None, None, [Problem(file, "", f"not valid YAML: {what}", hint, line, col)]

    def at(path: _DocPath, message: str, hint: str | None = None) -> Problem:
        line, col = doc.position(path)
        return Problem(file, format_path(path), message, hint, line, col)

    if doc.data is None:
        return doc, None, [Problem(file, "", "the file is empty", "start with 'id: my_pathway'", 1, 1)]
    if not isinstance(doc.data, dict):
        return doc, None, [at((), f"a definition must be a mapping of fields, got {type(doc.data).__name__}", "start with 'id: my_pathway'")]
    problems = [at(d, f"key {d[-1]!r} appears twice", "remove or rename one of them") for d in doc.duplicates]
    try:
        pathway = converter.structure(doc.data, Pathway)
    except (ClassValidationError, IterableValidationError) as exc:
        problems.extend(at(path, msg, hint) for path, msg, hint in _explain(exc, (), Pathway))
        return doc, None, problems
    problems.extend(at(path, msg, hint) for path, msg, hint in _validate.problems(pathway))
    problems.sort(key=_by_position)
    return doc, (None if problems else pathway), problems


def _by_position(problem: Problem) -> tuple[int, int]:
    """Sort a file's problems top to bottom, as a designer reads the file."""
    return (problem.line or 0, problem.column or 0)


def _explain(exc: BaseException, path: _DocPath, cls: Any) -> Iterator[_validate.Found]:
    """Turn cattrs' nested exception groups into (path, message, hint) triples."""
    if isinstance(exc, IterableValidationError):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            yield from _explain(sub, (*path, note.index), note.type)
        for sub in without:
            yield from _explain(sub, path, cls)
    elif isinstance(exc, ClassValidationError):
        attr_notes, without_notes = exc.group_exceptions()
        for sub, attr_note in attr_notes:
            yield from _explain(sub, (*path, attr_note.name), attr_note.type)
        for sub in without_notes:
            yield from _explain(sub, path, cls)
    elif isinstance(exc, ForbiddenExtraKeysError):
        fields = [a.name for a in attrs.fields(exc.cl)]
        for key in sorted(exc.extra_fields):
            yield ((*path, key), f"unknown field {key!r}", _validate.did_you_mean(key, fields, "field"))
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


def _between_files(loaded: list[tuple[str, Positioned, Pathway]]) -> Iterator[Problem]:
    """Problems that only show when the files are read together."""

    def at(file: str, doc: Positioned, path: _DocPath, message: str, hint: str | None) -> Problem:
        line, col = doc.position(path)
        return Problem(file, format_path(path), message, hint, line, col)

    first: dict[tuple[str, int], str] = {}
    by_id = {p.id: p for _, _, p in loaded}
    capacities: dict[str, tuple[int, str]] = {}
    for file, doc, p in loaded:
        if p.key in first:
            yield at(file, doc, ("id",), f"pathway {p.id!r} version {p.version} is also defined in {first[p.key]}", "give it a new version number or another id")
        first.setdefault(p.key, file)
        for res_id, res in p.resources.items():
            if res_id in capacities and capacities[res_id][0] != res.capacity:
                cap, where = capacities[res_id]
                yield at(file, doc, ("resources", res_id, "capacity"), f"shared resource {res_id!r} has capacity {res.capacity} here but {cap} in {where}", "pathways that share a resource must agree on its capacity")
            capacities.setdefault(res_id, (res.capacity, file))
        for i, t in enumerate(p.transitions):
            if t.handover is None:
                continue
            path: _DocPath = ("transitions", i, "handover", "to")
            target = by_id.get(t.handover.to)
            if target is None:
                yield at(file, doc, path, f"hand-over to unknown pathway {t.handover.to!r}", _validate.did_you_mean(t.handover.to, by_id, "pathway"))
            elif target.intake is None:
                yield at(file, doc, path, f"pathway {target.id!r} has no intake, so it cannot receive a hand-over", f"add an 'intake:' section to {target.id!r}")
            elif target.intake.accepts_from and p.id not in target.intake.accepts_from:
                yield at(file, doc, path, f"pathway {target.id!r} does not accept hand-overs from {p.id!r}", f"add {p.id!r} to its intake.accepts_from")

