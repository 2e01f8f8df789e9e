"""Which optional dependencies each extra brings, and the error when one is missing.

The core (definitions, engine, checker) needs only attrs, cattrs, PyYAML, transitions and
networkx. A module that needs more imports it inside :func:`needs` (or calls
:func:`require` before it uses it), so a host without the extra gets a
:class:`~pathways.errors.MissingExtra` naming what to install instead of a bare
``ModuleNotFoundError``.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator

from .errors import MissingExtra

__all__ = ["EXTRAS", "needs", "require"]

EXTRAS: dict[str, tuple[str, ...]] = {
    "store": ("sqlalchemy",),
    "postgres": ("sqlalchemy", "psycopg"),
    "simulate": ("simpy", "matplotlib"),
    "testing": ("hypothesis",),
    "eventlog": ("lxml", "jsonschema"),
    "fhir": ("fhir",),
    "serve": ("starlette", "uvicorn", "jwt"),
    "play": ("starlette", "uvicorn"),
    "audit": ("cryptography",),
}
"""Extra name → the top-level modules it installs (pyproject's optional-dependencies)."""


@contextlib.contextmanager
def needs(extra: str, feature: str) -> Iterator[None]:
    """Turn a missing module of ``extra`` imported inside the block into :class:`MissingExtra`."""
    try:
        yield
    except ModuleNotFoundError as exc:
        top = (exc.name or "").partition(".")[0]
        if top not in EXTRAS[extra]:
            raise
        raise MissingExtra(extra, top, feature) from exc


def require(extra: str, feature: str) -> None:
    """Raise :class:`MissingExtra` unless every module of ``extra`` can be imported.

    Cheap: it looks the modules up without importing them.
    """
    for module in EXTRAS[extra]:
        if importlib.util.find_spec(module) is None:
            raise MissingExtra(extra, module, feature)
