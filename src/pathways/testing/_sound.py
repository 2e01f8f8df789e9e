"""A one-line soundness assertion for pytest: fails with the checker's findings and stories."""

from __future__ import annotations

from typing import Any

from ..model import Pathway
from ..registry import Registry
from ..stranding import check

__all__ = ["assert_sound"]


def assert_sound(source: Pathway | Registry, **options: Any) -> None:
    """Assert that :func:`pathways.check` finds no error in ``source``.

    ``options`` go to ``check`` (e.g. ``bound=``). Warnings do not fail.

    Raises:
        AssertionError: with every error finding and its counterexample story.
    """
    result = check(source, **options)
    if not result.ok:
        raise AssertionError(result.to_text())
