"""The one configured `cattrs` converter for definitions and snapshots.

Unknown keys are errors (a misspelt field must not be silently ignored); durations are
ISO-8601 strings; guards are written ``fact`` or ``not fact``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import cattrs

from .model import Guard

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


def parse_duration(text: str) -> timedelta:
    """Parse an ISO-8601 duration such as ``PT8H``, ``P2D`` or ``P1DT12H``."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"malformed duration {text!r}: write an ISO-8601 duration such as "
            "'PT30M', 'PT8H', 'P2D' or 'P1DT12H' (years and months are not allowed)"
        )
    parts = {k: int(v) for k, v in match.groupdict().items() if v}
    return timedelta(**parts)


def format_duration(delta: timedelta) -> str:
    """The ISO-8601 form of a duration; the inverse of :func:`parse_duration`."""
    days, rest = delta.days, int(delta.total_seconds()) - delta.days * 86400
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    time = "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M"), (seconds, "S")) if v)
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else ("" if days else "T0S"))


def parse_guard(text: str) -> Guard:
    """``"consent_given"`` → Guard; ``"not consent_given"`` → negated Guard."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"a guard must be a fact name or 'not <fact>', got {text!r}")
    words = text.split()
    if len(words) == 2 and words[0] == "not":
        return Guard(words[1], negated=True)
    if len(words) == 1:
        return Guard(words[0])
    raise ValueError(f"malformed guard {text!r}: write a fact name or 'not <fact>'")


def _str_tuple(value: Any, _: Any) -> tuple[str, ...]:
    """A string or a list of strings; a designer may write ``source: a`` for ``[a]``."""
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list | tuple):
        raise ValueError(f"expected a name or a list of names, got {value!r}")
    for item in value:
        if not isinstance(item, str):
            raise ValueError(f"expected a name, got {item!r}")
    return tuple(value)


def _strict_str(value: Any, _: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {value!r}")
    return value


def _strict_int(value: Any, _: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {value!r}")
    return value


def _strict_bool(value: Any, _: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _datetime(value: Any, _: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def make_converter() -> cattrs.Converter:
    """Build the converter; :data:`converter` is the shared instance."""
    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    conv.register_structure_hook(str, _strict_str)
    conv.register_structure_hook(int, _strict_int)
    conv.register_structure_hook(bool, _strict_bool)
    conv.register_structure_hook_func(lambda t: t == tuple[str, ...], _str_tuple)
    conv.register_structure_hook(timedelta, lambda v, _: parse_duration(v))
    conv.register_unstructure_hook(timedelta, format_duration)
    conv.register_structure_hook(Guard, lambda v, _: parse_guard(v))
    conv.register_unstructure_hook(Guard, str)
    conv.register_structure_hook(datetime, _datetime)
    conv.register_unstructure_hook(datetime, datetime.isoformat)
    return conv


converter = make_converter()
