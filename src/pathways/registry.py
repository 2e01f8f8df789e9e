"""A set of loaded pathways that refer to each other by hand-overs and shared places."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TypeVar, overload

from .errors import UnknownPathway
from .house import House
from .i18n import tr
from .model import Pathway, Resource

__all__ = ["Registry"]

_T = TypeVar("_T")


class Registry(Mapping[str, Pathway]):
    """Pathways by id (newest version), with every loaded version still reachable.

    A case stays on the version it started on, so older versions are kept:
    ``registry.get_version(id, version)``.
    """

    def __init__(self, pathways: Iterable[Pathway] = (), *, houses: Iterable[House] = ()) -> None:
        self._versions: dict[tuple[str, int], Pathway] = {}
        self._latest: dict[str, Pathway] = {}
        self._resources: dict[str, Resource] | None = None
        self.houses: Mapping[str, House] = {h.id: h for h in houses}
        """The houses loaded with the pathways, by id."""
        for p in pathways:
            self.add(p)

    def house_of(self, pathway: Pathway) -> House | None:
        """The house a pathway belongs to, if it names one that is loaded."""
        return self.houses.get(pathway.house) if pathway.house is not None else None

    def add(self, pathway: Pathway) -> None:
        self._versions[pathway.key] = pathway
        self._resources = None
        current = self._latest.get(pathway.id)
        if current is None or pathway.version >= current.version:
            self._latest[pathway.id] = pathway

    def __getitem__(self, pathway_id: str) -> Pathway:
        try:
            return self._latest[pathway_id]
        except KeyError:
            known = ", ".join(sorted(self._latest)) or tr("none")
            raise UnknownPathway(tr("no pathway {pathway} is loaded (loaded: {known})", pathway=repr(pathway_id), known=known)) from None

    @overload
    def get(self, pathway_id: str, /) -> Pathway | None: ...
    @overload
    def get(self, pathway_id: str, /, default: Pathway | _T) -> Pathway | _T: ...
    def get(self, pathway_id: str, /, default: object = None) -> object:
        """The pathway, or ``default`` (``Mapping.get`` would let :class:`UnknownPathway` out: it is no ``KeyError``)."""
        return self._latest.get(pathway_id, default)

    def __contains__(self, pathway_id: object) -> bool:
        return pathway_id in self._latest

    def __iter__(self) -> Iterator[str]:
        return iter(self._latest)

    def __len__(self) -> int:
        return len(self._latest)

    def get_version(self, pathway_id: str, version: int) -> Pathway:
        try:
            return self._versions[(pathway_id, version)]
        except KeyError:
            have = sorted(v for (pid, v) in self._versions if pid == pathway_id)
            raise UnknownPathway(tr(
                "pathway {pathway} version {version} is not loaded (loaded versions: {have}); load that version's definition file",
                pathway=repr(pathway_id), version=version, have=have or tr("none"),
            )) from None

    def versions(self) -> tuple[Pathway, ...]:
        """Every loaded pathway version."""
        return tuple(self._versions.values())

    def resources(self) -> Mapping[str, Resource]:
        """Shared resources across all pathways; same id means the same pool.

        Built once per set of pathways: the engine asks on every capacity check.
        """
        if self._resources is None:
            self._resources = {}
            for h in self.houses.values():
                self._resources.update(h.resources)
            for p in self._latest.values():
                self._resources.update(p.resources)
        return self._resources
