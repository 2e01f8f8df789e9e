"""Definition files (YAML) → :class:`~pathways.model.Pathway`, with precise errors.

Every mistake in every file is collected and raised together as one
:class:`~pathways.errors.DefinitionError`, each with file, line, place in the document,
what is wrong and a hint.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import yaml
from cattrs.errors import ClassValidationError, IterableValidationError

from . import _validate
from ._converter import converter
from ._documents import (
    MAX_FILE_BYTES,
    DocPath,
    Unreadable,
    explain,
    problem_at,
    read_document,
    yaml_problem,
)
from ._yaml import Positioned, parse
from .errors import DefinitionError, Problem
from .model import Pathway
from .registry import Registry

__all__ = ["MAX_FILE_BYTES", "load_file", "load_registry", "load_text"]


def load_text(text: str, file: str = "<string>", *, max_bytes: int = MAX_FILE_BYTES) -> Pathway:
    """Load one pathway from YAML text; ``file`` names it in error messages."""
    if len(text) > max_bytes:
        raise DefinitionError([Problem(file, "", f"the text is {len(text):,} characters, more than the limit of {max_bytes:,}", "split it into several files, or raise the limit (max_bytes)")])
    pathway, problems = _load(text, file)
    if problems or pathway is None:
        raise DefinitionError(problems)
    return pathway


def load_file(path: str | Path, *, max_bytes: int = MAX_FILE_BYTES) -> Pathway:
    """Load one definition file (a regular UTF-8 file of at most ``max_bytes`` bytes)."""
    path = Path(path)
    return load_text(_read(path, max_bytes), str(path), max_bytes=max_bytes)


def load_registry(sources: str | Path | Iterable[str | Path] | None = None, *, max_bytes: int = MAX_FILE_BYTES) -> Registry:
    """Load a folder of ``*.yaml`` files (or the given files) and check them together.

    Without ``sources``: ``./definitions`` when the current folder has one, else the
    houses' six pathways that ship with the package.

    Only regular files of at most ``max_bytes`` bytes are read (FIFOs, devices and
    oversized files are refused before reading), so a hostile folder cannot stop a host.

    Raises:
        DefinitionError: with every problem in every file, and the problems between
            files (duplicate pathway ids, hand-overs to unknown pathways, shared
            resources declared with different capacities).
    """
    if sources is None:
        from ._bundled import default_definitions

        sources = default_definitions()
    files = list(_files(sources))
    problems: list[Problem] = []
    loaded: list[tuple[str, Positioned, Pathway]] = []
    if not files:
        problems.append(Problem(str(sources), "", "no definition files found", "put pathway definitions in *.yaml files"))
    for f in files:
        try:
            text = _read(f, max_bytes)
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


def _read(path: Path, max_bytes: int) -> str:
    try:
        return read_document(path, max_bytes)
    except Unreadable as exc:
        raise DefinitionError([exc.problem]) from None


def _load(text: str, file: str) -> tuple[Pathway | None, list[Problem]]:
    _, pathway, problems = _load_positioned(text, file)
    return pathway, problems


def _load_positioned(text: str, file: str) -> tuple[Positioned | None, Pathway | None, list[Problem]]:
    try:
        doc = parse(text)
    except yaml.YAMLError as exc:
        return None, None, [yaml_problem(exc, file)]

    def at(path: DocPath, message: str, hint: str | None = None) -> Problem:
        return problem_at(file, doc, path, message, hint)

    if doc.data is None:
        return doc, None, [Problem(file, "", "the file is empty", "start with 'id: my_pathway'", 1, 1)]
    if not isinstance(doc.data, dict):
        return doc, None, [at((), f"a definition must be a mapping of fields, got {type(doc.data).__name__}", "start with 'id: my_pathway'")]
    problems = [at(d, f"key {d[-1]!r} appears twice", "remove or rename one of them") for d in doc.duplicates]
    try:
        pathway = converter.structure(doc.data, Pathway)
    except (ClassValidationError, IterableValidationError) as exc:
        problems.extend(at(path, msg, hint) for path, msg, hint in explain(exc, (), Pathway))
        return doc, None, problems
    problems.extend(at(path, msg, hint) for path, msg, hint in _validate.problems(pathway))
    problems.sort(key=_by_position)
    return doc, (None if problems else pathway), problems


def _by_position(problem: Problem) -> tuple[int, int]:
    """Sort a file's problems top to bottom, as a designer reads the file."""
    return (problem.line or 0, problem.column or 0)


def _between_files(loaded: list[tuple[str, Positioned, Pathway]]) -> Iterator[Problem]:
    """Problems that only show when the files are read together, at their place in the file."""
    for i, (path, message, hint) in _validate.between([p for _, _, p in loaded], lambda i: loaded[i][0]):
        file, doc, _ = loaded[i]
        yield problem_at(file, doc, path, message, hint)
