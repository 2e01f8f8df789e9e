"""The one configured `cattrs` converter for definitions and snapshots.

Unknown keys are errors (a misspelt field must not be silently ignored); durations are
ISO-8601 strings; guards are written ``fact`` or ``not fact``.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import attrs
import cattrs
from cattrs.cols import mapping_structure_factory
from cattrs.errors import IterableValidationError, IterableValidationNote
from cattrs.gen import make_dict_unstructure_fn, override

from .calendar import parse_span
from .model import Guard, Pathway, Span

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
    try:
        return timedelta(**parts)
    except OverflowError:
        raise ValueError(f"duration {text!r} is too long: write at most 'P36525D' (100 years)") from None


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


_YAML11_BOOLS = frozenset({"yes", "no", "on", "off", "y", "n"})
"""Words YAML 1.1 read as booleans; YAML 1.2 (what we read) keeps them as text."""


def _strict_bool(value: Any, _: Any) -> bool:
    if not isinstance(value, bool):
        if isinstance(value, str) and value.lower() in _YAML11_BOOLS:
            raise ValueError(f"expected true or false, got {value!r} (YAML 1.2 reads only true and false as yes/no; write true or false)")
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _datetime(value: Any, _: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _date(value: Any, _: Any) -> date:
    """A YAML date (``2026-12-24``) or its ISO text; a time of day is an error."""
    if isinstance(value, datetime):
        raise ValueError(f"expected a date such as 2026-12-24, got a date and time {value.isoformat()!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"expected a date such as 2026-12-24, got {_shown(value)}")


def _shown(value: Any) -> str:
    """A found value for a message, cut short: a whole mis-indented section is noise."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _mapping_only(inner: Callable[[Any, Any], Any], expected: str) -> Callable[[Any, Any], Any]:
    """``inner`` behind a check that the value is a mapping; anything else is an error naming ``expected``."""

    def hook(value: Any, t: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValueError(f"expected {expected}, got {_shown(value)}")
        return inner(value, t)

    return hook


def _mapping_first(conv: cattrs.Converter) -> Callable[[Any], Callable[[Any, Any], Any]]:
    """Wrap cattrs' attrs-class hooks so a non-mapping is a clear error, not AttributeError."""

    def factory(cl: Any) -> Callable[[Any, Any], Any]:
        fields = ", ".join(a.name for a in attrs.fields(cl))
        return _mapping_only(conv.gen_structure_attrs_fromdict(cl), f"a mapping with fields {fields}")

    return factory


def _is_mapping_type(t: Any) -> bool:
    return typing.get_origin(t) in (Mapping, dict)


def _checked_mapping(conv: cattrs.Converter) -> Callable[[Any], Callable[[Any, Any], Any]]:
    """A list or a name where a mapping belongs (``sets: [x]``) is an error that says so."""

    def factory(t: Any) -> Callable[[Any, Any], Any]:
        # Not conv.gen_structure_mapping: it registers its own hook for ``t`` directly,
        # which would then bypass this check for every later lookup.
        return _mapping_only(mapping_structure_factory(t, conv), "a mapping of names to values")

    return factory


def _is_list_type(t: Any) -> bool:
    args = typing.get_args(t)
    return typing.get_origin(t) is tuple and len(args) == 2 and args[1] is Ellipsis and args[0] is not str


def _checked_list(conv: cattrs.Converter) -> Callable[[Any], Callable[[Any, Any], Any]]:
    """Structure ``tuple[X, ...]`` from a list only: a string must not become its letters."""

    def factory(t: Any) -> Callable[[Any, Any], Any]:
        item_type = typing.get_args(t)[0]
        item = conv.get_structure_hook(item_type)

        def hook(value: Any, _: Any) -> tuple[Any, ...]:
            if not isinstance(value, list | tuple):
                raise ValueError(f"expected a list, got {_shown(value)}")
            out, errors = [], []
            for i, v in enumerate(value):
                try:
                    out.append(item(v, item_type))
                except Exception as exc:
                    exc.add_note(IterableValidationNote(f"Structuring {t!r} @ index {i}", i, item_type))
                    errors.append(exc)
            if errors:
                raise IterableValidationError(f"While structuring {t!r}", errors, t)
            return tuple(out)

        return hook

    return factory


def make_converter() -> cattrs.Converter:
    """Build the converter; :data:`converter` is the shared instance."""
    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    conv.register_structure_hook_factory(attrs.has, _mapping_first(conv))
    conv.register_structure_hook_factory(_is_mapping_type, _checked_mapping(conv))
    conv.register_structure_hook_factory(_is_list_type, _checked_list(conv))
    conv.register_structure_hook(str, _strict_str)
    conv.register_structure_hook(int, _strict_int)
    conv.register_structure_hook(bool, _strict_bool)
    conv.register_structure_hook_func(lambda t: t == tuple[str, ...], _str_tuple)
    conv.register_structure_hook(timedelta, lambda v, _: parse_duration(v))
    conv.register_unstructure_hook(timedelta, format_duration)
    conv.register_structure_hook(Guard, lambda v, _: parse_guard(v))
    conv.register_unstructure_hook(Guard, str)
    conv.register_structure_hook(datetime, _datetime)
    conv.register_structure_hook(date, _date)
    conv.register_unstructure_hook(date, date.isoformat)
    conv.register_structure_hook(Span, lambda v, _: parse_span(v))
    conv.register_unstructure_hook(Span, str)
    # A pathway's calendar comes from its house file; it is never written in the pathway.
    conv.register_unstructure_hook(Pathway, make_dict_unstructure_fn(Pathway, conv, calendar=override(omit=True)))
    conv.register_unstructure_hook(datetime, datetime.isoformat)
    return conv


converter = make_converter()
