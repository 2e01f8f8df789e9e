"""The houses' definitions and scenarios shipped inside the package, found by name.

``pathways show overnight_stay`` and ``pathways simulate aarhus-year`` work from any
folder: an argument that names an existing file or folder is used as it is; otherwise a
pathway id is looked up in the definitions (``./definitions`` when the current folder has
one, else the bundled ones) and a scenario name in the bundled examples. The bundled
folders are ``pathways/data/definitions`` and ``pathways/data/examples``: in a checkout
they are links to the top-level ``definitions/`` and ``examples/`` that designers edit.
"""

from __future__ import annotations

from pathlib import Path

from ._documents import did_you_mean
from .errors import PathwaysError

__all__ = ["bundled", "default_definitions", "scenario_path"]

_DATA = Path(__file__).parent / "data"


def bundled(kind: str) -> Path:
    """The bundled folder ``definitions``, ``examples`` or ``schemas``."""
    return _DATA / kind


def default_definitions() -> Path:
    """``./definitions`` when the current folder has one, else the bundled definitions."""
    local = Path("definitions")
    return local if local.is_dir() else bundled("definitions")


def scenario_path(name_or_path: str) -> Path:
    """A scenario file: an existing path as it is, else a bundled scenario by name.

    ``aarhus-year`` and ``aarhus_year`` both name ``examples/aarhus_year.yaml``.

    Raises:
        PathwaysError: neither a file nor a bundled scenario; the message lists them.
    """
    path = Path(name_or_path)
    if path.exists() or path.suffix in (".yaml", ".yml"):
        return path
    stem = name_or_path.replace("-", "_")
    found = bundled("examples") / f"{stem}.yaml"
    if found.is_file():
        return found
    known = sorted(p.stem.replace("_", "-") for p in bundled("examples").glob("*.yaml"))
    raise PathwaysError(
        f"{name_or_path!r} is neither a scenario file nor a bundled scenario; {did_you_mean(name_or_path, known, 'scenario')}"
    )
