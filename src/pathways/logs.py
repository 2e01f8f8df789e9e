"""Logging: the ``pathways`` logger hierarchy, its structured fields, and privacy.

The library logs through the standard :mod:`logging` module under ``pathways``:
``pathways.engine`` (actions fired and refused, at DEBUG), ``pathways.store`` (stores
opened, schemas created or upgraded, lost races), ``pathways.worker`` (deadlines fired,
escalations refused). It adds no handler (a host routes, filters and levels them as it
likes); the ``pathways`` command installs one on standard error.

Each record carries structured fields as attributes (``extra=``): ``case_id``,
``pathway``, ``trigger``, ``role``, ``sector`` where they apply. A record never holds a
fact value or a citizen id, unless the host turns personal data on with
:func:`log_personal_data` (then ``citizen`` is added): logs travel further than the
case store and must not identify a citizen by default.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["FIELDS", "cli_handler", "fields", "get", "log_personal_data"]

FIELDS = ("case_id", "pathway", "trigger", "role", "sector", "citizen")
"""The structured fields a ``pathways`` record may carry (``citizen`` only when turned on)."""

_personal = False


def log_personal_data(enabled: bool) -> None:
    """Let records carry the citizen id (off by default; fact values are never logged)."""
    global _personal
    _personal = enabled


def get(name: str) -> logging.Logger:
    """The logger ``pathways.<name>``."""
    return logging.getLogger(f"pathways.{name}")


def fields(
    case_id: str | None = None,
    *,
    pathway: str | None = None,
    trigger: str | None = None,
    role: str | None = None,
    sector: str | None = None,
    citizen: str | None = None,
) -> dict[str, Any]:
    """The ``extra=`` mapping of one record: the given fields, the citizen only when turned on."""
    extra = {"case_id": case_id, "pathway": pathway, "trigger": trigger, "role": role, "sector": sector}
    if _personal and citizen is not None:
        extra["citizen"] = citizen
    return {k: v for k, v in extra.items() if v is not None}


class _FieldsFormatter(logging.Formatter):
    """``level logger: message key=value …`` with the structured fields a record carries."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        pairs = [f"{k}={getattr(record, k)}" for k in FIELDS if getattr(record, k, None) is not None]
        return f"{text} {' '.join(pairs)}" if pairs else text


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]  # generic only in typeshed
    """Writes to whatever ``sys.stderr`` is at the time (tests and hosts may replace it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


@contextlib.contextmanager
def cli_handler(verbosity: int) -> Iterator[None]:
    """The command's handler on standard error while it runs: INFO, -v DEBUG, -q WARNING."""
    root = logging.getLogger("pathways")
    handler = _StderrHandler()
    handler.setFormatter(_FieldsFormatter("%(levelname)s %(name)s: %(message)s"))
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbosity > 0 else logging.INFO if verbosity == 0 else logging.WARNING)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
