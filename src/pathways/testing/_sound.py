"""A one-line soundness assertion for pytest: fails with the checker's findings and stories."""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import PathwaysError
from ..model import Pathway
from ..registry import Registry

__all__ = ["assert_sound"]


def assert_sound(source: Pathway | Registry, **options: Any) -> None:
    """Assert that ``pathways.check`` finds no error in ``source``.

    ``options`` go to ``check`` (e.g. ``bound=``). Warnings do not fail.

    Raises:
        AssertionError: with every error finding and its counterexample story.
        PathwaysError: the checker (``pathways.check``) is not available.
    """
    try:
        module = importlib.import_module("pathways.check")
    except ImportError as exc:
        raise PathwaysError(
            f"assert_sound needs the stranding checker pathways.check, which cannot be imported ({exc}); "
            "install a pathways version that has it"
        ) from None
    report = module.check(source, **options)
    if report.ok:
        return
    raise AssertionError(_render(report))


def _render(report: Any) -> str:
    """The report as text for people, whatever rendering the checker offers."""
    for name in ("to_text", "render", "text"):
        method = getattr(report, name, None)
        if callable(method):
            return str(method())
    return str(report)
