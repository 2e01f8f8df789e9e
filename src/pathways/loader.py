"""Definition files (YAML) → :class:`~pathways.model.Pathway`, with precise errors.

Every mistake in every file is collected and raised together as one
:class:`~pathways.errors.DefinitionError`, each with file, line, place in the document,
what is wrong and a hint.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import attrs

from . import _validate
from ._converter import converter
from ._documents import (
    MAX_FILE_BYTES,
    DocPath,
    did_you_mean,
    parse_fields,
    problem_at,
    read_document,
    structure_fields,
)
from ._yaml import Positioned
from .errors import DefinitionError, Problem
from .house import House
from .model import Pathway
from .registry import Registry

__all__ = ["MAX_FILE_BYTES", "load_file", "load_house", "load_registry", "load_text"]

HOUSES_FOLDER = "houses"
"""Inside a definitions folder, the folder of house files."""

_Loaded = tuple[str, Positioned, Pathway]
_HouseFile = tuple[House, str, Positioned | None]


def load_text(text: str, file: str = "<string>", *, max_bytes: int = MAX_FILE_BYTES, houses: Iterable[House] = ()) -> Pathway:
    """Load one pathway from YAML text; ``file`` names it in error messages.

    A pathway that names its house (``house: aarhus``) needs that house in ``houses``.
    """
    if len(text) > max_bytes:
        raise DefinitionError([Problem(file, "", f"the text is {len(text):,} characters, more than the limit of {max_bytes:,}", "split it into several files, or raise the limit (max_bytes)")])
    known = {h.id: (h, "", None) for h in houses}
    doc, pathway, problems = _load_positioned(text, file)
    if pathway is not None and doc is not None:
        pathway, found = _with_house(pathway, doc, file, known)
        problems += found
    if problems or pathway is None:
        raise DefinitionError(problems)
    return pathway


def load_file(path: str | Path, *, max_bytes: int = MAX_FILE_BYTES) -> Pathway:
    """Load one definition file (a regular UTF-8 file of at most ``max_bytes`` bytes).

    A pathway that names its house finds the house file in ``houses/`` beside it.
    """
    path = Path(path)
    text = read_document(path, DefinitionError, max_bytes)
    houses = [load_house(f, max_bytes=max_bytes) for f in sorted((path.parent / HOUSES_FOLDER).glob("*.yaml"))]
    return load_text(text, str(path), max_bytes=max_bytes, houses=houses)


def load_house(path: str | Path, *, max_bytes: int = MAX_FILE_BYTES) -> House:
    """Load one house file (sectors, roles, resources, calendar, staffing)."""
    path = Path(path)
    _, house, problems = _load_house(read_document(path, DefinitionError, max_bytes), str(path))
    if problems or house is None:
        raise DefinitionError(problems)
    return house


def load_registry(sources: str | Path | Iterable[str | Path] | None = None, *, max_bytes: int = MAX_FILE_BYTES) -> Registry:
    """Load a folder of ``*.yaml`` files (and its ``houses/``), or the given files, and check them together.

    A file whose top level has ``house:`` and no ``id:`` is a house file.

    Without ``sources``: ``./definitions`` when the current folder has one, else the
    houses' six pathways that ship with the package.

    Only regular files of at most ``max_bytes`` bytes are read (FIFOs, devices and
    oversized files are refused before reading), so a hostile folder cannot stop a host.

    Raises:
        DefinitionError: with every problem in every file, and the problems between
            files (duplicate pathway ids, hand-overs to unknown pathways, shared
            resources declared with different capacities, a role whose sector differs
            between files, pathways naming unknown houses).
    """
    if sources is None:
        from ._bundled import default_definitions

        sources = default_definitions()
    files = list(_files(sources))
    problems: list[Problem] = []
    parsed: list[tuple[str, str]] = []
    if not files:
        problems.append(Problem(str(sources), "", "no definition files found", "put pathway definitions in *.yaml files"))
    for f in files:
        try:
            parsed.append((str(f), read_document(f, DefinitionError, max_bytes)))
        except DefinitionError as exc:
            problems.extend(exc.problems)
    houses: dict[str, _HouseFile] = {}
    broken: set[str] = set()
    """Houses whose files have problems: their pathways are not checked against them (no echoes)."""
    pathway_texts = []
    for file, text in parsed:
        if not _is_house(text):
            pathway_texts.append((file, text))
            continue
        hdoc, house, found = _load_house(text, file)
        problems.extend(found)
        if house is None and hdoc is not None and isinstance(hdoc.data, dict):
            broken.add(str(hdoc.data.get("house")))
        if house is not None and hdoc is not None:
            if house.id in houses:
                problems.append(problem_at(file, hdoc, ("house",), f"house {house.id!r} is also defined in {houses[house.id][1]}", "give each house file its own id"))
            houses.setdefault(house.id, (house, file, hdoc))
    loaded: list[_Loaded] = []
    read: set[str] = set()
    """Every pathway id read, loaded or not: one refused with its house is no unknown pathway in a service."""
    for file, text in pathway_texts:
        doc, pathway, found = _load_positioned(text, file)
        problems.extend(found)
        if pathway is not None:
            read.add(pathway.id)
        if pathway is not None and doc is not None and pathway.house not in broken:
            pathway, found = _with_house(pathway, doc, file, houses)
            problems.extend(found)
            if pathway is not None:
                loaded.append((file, doc, pathway))
    problems.extend(_between_files(loaded))
    problems.extend(_services(houses, {p.id: p for _, _, p in loaded}, read))
    if problems:
        raise DefinitionError(problems)
    return Registry((p for _, _, p in loaded), houses=(h for h, _, _ in houses.values()))


def _is_house(text: str) -> bool:
    """Cheap look at the top-level keys: ``house:`` without ``id:``."""
    keys = {line.split(":", 1)[0] for line in text.splitlines() if line[:1].isalpha() and ":" in line}
    return "house" in keys and "id" not in keys


def _files(sources: str | Path | Iterable[str | Path]) -> Iterator[Path]:
    items = [sources] if isinstance(sources, str | Path) else list(sources)
    for item in items:
        p = Path(item)
        if p.is_dir():
            yield from sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
            yield from sorted((p / HOUSES_FOLDER).glob("*.yaml"))
        else:
            yield p


def _load_positioned(text: str, file: str) -> tuple[Positioned | None, Pathway | None, list[Problem]]:
    try:
        doc, problems = parse_fields(
            text, file, DefinitionError, "a definition must be a mapping of fields, got {got}", "start with 'id: my_pathway'",
            if_empty="the file is empty",
        )
        pathway = structure_fields(converter, doc, file, Pathway, problems, DefinitionError)
    except DefinitionError as exc:
        return None, None, list(exc.problems)
    if problems:
        return doc, None, problems
    return doc, pathway, problems


def _load_house(text: str, file: str) -> tuple[Positioned | None, House | None, list[Problem]]:
    try:
        doc, problems = parse_fields(text, file, DefinitionError, "a house file must be a mapping of fields", "start with 'house: my_house'")
    except DefinitionError as exc:
        return None, None, list(exc.problems)
    try:
        house = structure_fields(converter, doc, file, House, problems, DefinitionError)
    except DefinitionError as exc:
        return doc, None, sorted(exc.problems, key=_by_position)
    problems.extend(problem_at(file, doc, path, msg, hint) for path, msg, hint in _validate.house_problems(house))
    problems.sort(key=_by_position)
    return doc, (None if problems else house), problems


def _with_house(
    pathway: Pathway, doc: Positioned, file: str, houses: Mapping[str, _HouseFile],
) -> tuple[Pathway | None, list[Problem]]:
    """The pathway with its house's vocabulary and calendar, checked; or its problems.

    Sectors, roles and resources the pathway declares itself must agree with the house.
    """

    def at(path: DocPath, message: str, hint: str | None = None) -> Problem:
        return problem_at(file, doc, path, message, hint)

    problems: list[Problem] = []
    if isinstance(doc.data, dict) and doc.data.get("calendar") is not None:
        problems.append(at(("calendar",), "unknown field 'calendar'", "opening hours belong to the house file: name the pathway in a service's 'pathways:'"))
    if pathway.house is not None:
        found = houses.get(pathway.house)
        if found is None:
            hint = did_you_mean(pathway.house, houses, "house") if houses else (
                f"put the house file in '{HOUSES_FOLDER}/' beside the pathways, or load it with the pathway")
            problems.append(at(("house",), f"unknown house {pathway.house!r}", hint))
            return None, problems
        else:
            house, hfile, _ = found
            problems += [at(path, msg, hint) for path, msg, hint in _agrees(pathway, house, hfile)]
            if pathway.phase not in house.phases:
                enabled = ", ".join(map(str, house.phases))
                problems.append(at(
                    ("phase",) if isinstance(doc.data, dict) and "phase" in doc.data else ("house",),
                    f"pathway {pathway.id!r} belongs to phase {pathway.phase}, which house {house.id!r} has not taken into use (its phases: {enabled})",
                    f"add {pathway.phase} to 'phases:' in {hfile or 'the house file'} to offer it, or leave this file out of the house's definitions",
                ))
            pathway = attrs.evolve(
                pathway,
                sectors={**house.sectors, **pathway.sectors},
                roles={**house.roles, **pathway.roles},
                resources={**house.resources, **pathway.resources},
                calendar=house.calendar_for(pathway.id),
            )
    problems.extend(at(path, msg, hint) for path, msg, hint in _validate.problems(pathway))
    problems.sort(key=_by_position)
    return (None if problems else pathway), problems


def _agrees(p: Pathway, house: House, hfile: str) -> Iterator[tuple[DocPath, str, str]]:
    """What a pathway redeclares differently from its house."""
    where = hfile or f"house {house.id!r}"
    for role_id, role in p.roles.items():
        mine = house.roles.get(role_id)
        if mine is not None and mine.sector != role.sector:
            yield (("roles", role_id, "sector"), f"role {role_id!r} belongs to sector {role.sector!r} here but to {mine.sector!r} in {where}",
                   "a role belongs to one sector in the whole house; remove it here, the house declares it")
    for res_id, res in p.resources.items():
        theirs = house.resources.get(res_id)
        if theirs is not None and theirs.capacity != res.capacity:
            yield (("resources", res_id, "capacity"), f"shared resource {res_id!r} has capacity {res.capacity} here but {theirs.capacity} in {where}",
                   "remove it here: the house declares its shared resources")


def _by_position(problem: Problem) -> tuple[int, int]:
    """Sort a file's problems top to bottom, as a designer reads the file."""
    return (problem.line or 0, problem.column or 0)


def _services(houses: Mapping[str, _HouseFile], pathways: Mapping[str, Pathway], read: set[str]) -> Iterator[Problem]:
    """A service that names a pathway that is not loaded, or mixes up the house's and external pathways.

    A pathway that was read but refused (its own problems are reported) is no unknown pathway.
    """
    if not pathways:
        return
    for house, file, doc in houses.values():
        for sid, service in house.services.items():
            for j, pid in enumerate(service.pathways):
                path: DocPath = ("services", sid, "pathways", j)
                found = pathways.get(pid)
                if found is None and pid in read:
                    continue
                if found is None:
                    msg, hint = f"service {sid!r} starts unknown pathway {pid!r}", did_you_mean(pid, pathways, "pathway")
                elif found.external and not service.external:
                    msg, hint = (f"service {sid!r} lists {pid!r}, a receiver outside the house (external: true), as its own",
                                 "add 'external: true' to the service: the house refers to it but does not run it")
                elif service.external and not found.external:
                    msg, hint = (f"service {sid!r} is outside the house (external: true) but lists the house's pathway {pid!r}",
                                 f"move {pid!r} to a service of the house, or mark the pathway 'external: true'")
                else:
                    continue
                yield problem_at(file, doc, path, msg, hint) if doc else Problem(file, "", msg, hint)


def _between_files(loaded: list[_Loaded]) -> Iterator[Problem]:
    """Problems that only show when the files are read together, at their place in the file."""
    for i, (path, message, hint) in _validate.between([p for _, _, p in loaded], lambda i: loaded[i][0]):
        file, doc, _ = loaded[i]
        yield problem_at(file, doc, path, message, hint)
