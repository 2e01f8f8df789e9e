"""The public surface is explicit: __all__ lists every public name, sorted, and they import."""

import pathways


def test_all_is_sorted_and_unique() -> None:
    assert list(pathways.__all__) == sorted(set(pathways.__all__))


def test_every_exported_name_exists() -> None:
    missing = [name for name in pathways.__all__ if not hasattr(pathways, name)]
    assert missing == []


def test_no_public_name_is_left_out() -> None:
    public = {
        name
        for name, value in vars(pathways).items()
        if not name.startswith("_") and not getattr(value, "__name__", "").startswith("pathways.")
    }
    assert public - set(pathways.__all__) == set()
