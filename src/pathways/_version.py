"""The installed version, read from the package metadata (one source: pyproject.toml).

Read on first use, not at import: ``importlib.metadata`` alone costs tens of milliseconds.
"""

from __future__ import annotations

import functools

__all__ = ["DISTRIBUTION", "installed_version"]

DISTRIBUTION = "care-pathways"
"""The name on the package index; the import name is ``pathways``."""


@functools.cache
def installed_version() -> str:
    """The version of the installed distribution, or ``0+unknown`` in a never-installed checkout."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"
