"""JSON Schemas for the files designers write, generated from the `attrs` model.

The model is the one source of truth: each document kind (pathway, scenario, journey, …)
names its root class in :data:`DOCUMENTS`, and :func:`json_schema` walks the class's
fields the way the loader's `cattrs` converter reads them (unknown keys are errors, a
single name may stand for a list of names, durations are ISO-8601 text, guards are
``fact`` or ``not fact``). An editor with the YAML language server completes and checks
a file while the designer types, from the first line
``# yaml-language-server: $schema=../schemas/pathway.schema.json``.

The schemas are shipped inside the package (:func:`schema_path`) and under ``schemas/``
in the repository; ``pathways schema --write schemas`` regenerates both copies' content
and a test keeps them current.
"""

from __future__ import annotations

import enum
import importlib
import json
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from .model import Guard, Span

__all__ = ["DOCUMENTS", "json_schema", "schema_path", "schema_text", "write_schemas"]

DOCUMENTS: Mapping[str, tuple[str, str]] = {
    "pathway": ("pathways.model", "Pathway"),
    "scenario": ("pathways.scenario", "Scenario"),
    "journey": ("pathways.journey", "Journey"),
    "house": ("pathways.house", "House"),
}
"""Document kind → (module, root class). A new document kind is one line here."""

DURATION_PATTERN = (
    r"^P(?!$)(?:\d+W)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+S)?)?$"
)
"""ISO-8601 durations as :func:`pathways._converter.parse_duration` reads them."""

SPAN_PATTERN = r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$"
"""Hours ``HH:MM-HH:MM`` as :func:`pathways.calendar.parse_span` reads them."""

GUARD_PATTERN = r"^\s*(?:not\s+\S+|\S+)\s*$"
"""``fact`` or ``not fact``, as :func:`pathways._converter.parse_guard` reads them."""

_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_BASE_ID = "https://pathways.invalid/schemas/"
"""Schema ids are names, not addresses: nothing is fetched from the network."""


def _root(kind: str) -> type:
    module, name = DOCUMENTS[kind]
    cls: type = getattr(importlib.import_module(module), name)
    return cls


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a document kind, e.g. ``"pathway"``."""
    root = _root(kind)
    builder = _Builder()
    builder.schema_of(root)
    doc = {
        "$schema": _SCHEMA_DIALECT,
        "$id": f"{_BASE_ID}{kind}.schema.json",
        "title": f"pathways {kind} file",
        **builder.defs[root.__name__],
        "$defs": {k: v for k, v in sorted(builder.defs.items()) if k != root.__name__},
    }
    if not doc["$defs"]:
        del doc["$defs"]
    return doc


def schema_text(kind: str) -> str:
    """The schema as the JSON text that is shipped (sorted keys, two-space indent)."""
    return json.dumps(json_schema(kind), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def schema_path(kind: str) -> Path:
    """The schema file shipped inside the installed package."""
    return Path(str(resources.files("pathways") / "schemas" / f"{kind}.schema.json"))


def write_schemas(folder: str | Path) -> list[Path]:
    """Write every document kind's schema into ``folder``; returns the files written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in DOCUMENTS:
        path = folder / f"{kind}.schema.json"
        path.write_text(schema_text(kind), encoding="utf-8")
        written.append(path)
    return written


class _Builder:
    """Walks attrs classes once each; every class becomes one entry in ``$defs``."""

    def __init__(self) -> None:
        self.defs: dict[str, dict[str, Any]] = {}

    def schema_of(self, t: Any) -> dict[str, Any]:
        if t is str:
            return {"type": "string"}
        if t is bool:
            return {"type": "boolean"}
        if t is int:
            return {"type": "integer"}
        if t is float:
            return {"type": "number"}
        if t is timedelta:
            return {"type": "string", "pattern": DURATION_PATTERN, "description": "an ISO-8601 duration, e.g. PT30M, PT8H, P2D, P1DT12H"}
        if t is datetime:
            return {"type": "string", "format": "date-time"}
        if t is date:
            return {"type": "string", "format": "date"}
        if t is Span:
            return {"type": "string", "pattern": SPAN_PATTERN, "description": "local hours 'HH:MM-HH:MM', e.g. '16:00-24:00' or '23:00-07:00'"}
        if t is Guard:
            return {"type": "string", "pattern": GUARD_PATTERN, "description": "a fact name, or 'not' and a fact name"}
        if isinstance(t, type) and issubclass(t, enum.Enum):
            return {"enum": [m.value for m in t]}
        if attrs.has(t):
            return self._class(t)
        origin, args = typing.get_origin(t), typing.get_args(t)
        if origin in (typing.Union, types.UnionType):
            options = [a for a in args if a is not type(None)]
            inner = [self.schema_of(a) for a in options]
            if type(None) in args:
                inner.append({"type": "null"})
            return inner[0] if len(inner) == 1 else {"anyOf": inner}
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            items = self.schema_of(args[0])
            if args[0] is str:  # a designer may write one name for a list of one
                return {"anyOf": [{"type": "string"}, {"type": "array", "items": items}]}
            return {"type": "array", "items": items}
        if origin in (Mapping, dict, typing.Mapping) or (isinstance(origin, type) and issubclass(origin, Mapping)):
            return {"type": "object", "additionalProperties": self.schema_of(args[1])}
        raise TypeError(f"no JSON Schema for {t!r}")  # pragma: no cover - a new field type needs a rule here

    def _class(self, cls: type) -> dict[str, Any]:
        name = cls.__name__
        if name not in self.defs:
            self.defs[name] = {}  # placeholder: a class may refer to itself
            hints = typing.get_type_hints(cls)
            props: dict[str, Any] = {}
            required = []
            for a in attrs.fields(cls):
                if a.metadata.get("schema") is False:
                    continue
                prop = self.schema_of(hints[a.name])
                if a.metadata.get("help"):
                    prop = {**prop, "description": a.metadata["help"]}
                props[a.name] = prop
                if a.default is attrs.NOTHING:
                    required.append(a.name)
            body: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
            if required:
                body["required"] = required
            doc = (cls.__doc__ or "").strip().split("\n")[0]
            if doc:
                body["description"] = doc
            extra = getattr(cls, "__json_schema_extra__", None)
            if extra:
                body.update(extra)
            self.defs[name] = body
        override = _ALTERNATIVES.get(name)
        if override is not None:
            return {"anyOf": [override, {"$ref": f"#/$defs/{name}"}]}
        return {"$ref": f"#/$defs/{name}"}


_ALTERNATIVES: dict[str, dict[str, Any]] = {
    # scenario.Distribution: a plain duration means a fixed one (the scenario loader's hook).
    "Distribution": {"type": "string", "pattern": DURATION_PATTERN},
}
