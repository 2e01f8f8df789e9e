"""The public surface is explicit: each public module's __all__ lists every public name, sorted, and they import.

As httpx's ``tests/test_exported_members.py``: a name a host can import is a promise, so a
new public name must be added to ``__all__`` on purpose, and a stale one fails here.
"""

import types

import pytest

import pathways
import pathways.store
import pathways.testing

PUBLIC_MODULES = [pathways, pathways.store, pathways.testing]


def _isort_key(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then functions, each alphabetical."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda m: m.__name__)
def test_all_is_sorted_and_unique(module: types.ModuleType) -> None:
    assert list(module.__all__) == sorted(set(module.__all__), key=_isort_key)


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda m: m.__name__)
def test_every_exported_name_exists(module: types.ModuleType) -> None:
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda m: m.__name__)
def test_no_public_name_is_left_out(module: types.ModuleType) -> None:
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType) and name != "annotations"
    }
    assert public - set(module.__all__) == set()


def test_the_lazy_names_of_the_top_level_are_exported() -> None:
    """Names loaded on first use (the store, the report) are in ``__all__`` and resolve."""
    lazy = {"DurableEngine", "open_store", "write_report"}
    assert lazy <= set(pathways.__all__)
    assert all(callable(getattr(pathways, name)) for name in lazy)
