"""What the case store can hold: one definition of a valid id and of the stored number ranges.

The loader refuses definitions outside these limits and the engine refuses such arguments,
so nothing reaches the database that it would reject at run time (PostgreSQL refuses NUL
in text and ids longer than their columns; SQLite overflows past 64-bit integers).
:mod:`pathways.store.schema` sizes its columns from here.
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from typing import Final

MAX_ID: Final = 128
"""The most characters of an id in a definition (pathway, sector, role, fact, resource, state,
trigger) and of a person's id."""

MAX_CASE_ID: Final = 64
"""The most characters of a case id."""

MAX_INT: Final = 2**31 - 1
"""The largest version or capacity (a 32-bit database integer)."""

MAX_DURATION: Final = timedelta(days=36_525)
"""The longest deadline or approval timeout (100 years; beyond that dates overflow)."""


def id_problem(value: str, limit: int = MAX_ID) -> str | None:
    """Why ``value`` cannot be an id, or ``None``: ids are 1 to ``limit`` characters of
    printable text without spaces (letters in any language, digits, ``_``, ``-``, ``.`` …)."""
    if not value:
        return "an id cannot be empty"
    if len(value) > limit:
        return f"an id can have at most {limit} characters, this one has {len(value)}"
    for ch in value:
        if ch.isspace() or unicodedata.category(ch)[0] in "CZ":
            return f"an id cannot contain spaces or control characters (found {ch!r})"
    return None
