"""Read YAML 1.2 into plain Python values, remember where every value stood, and stay bounded.

Definition errors must name the line, so we build values from the parser's events
ourselves (PyYAML's constructed objects forget positions). Building from events, not from
PyYAML's composer and constructor, is also what keeps hostile files harmless:

* the C parser (libyaml) is used where it is installed: the six seeds parse ten times
  faster, and a parser that never recurses cannot be stopped by deep nesting;
* nesting deeper than :data:`MAX_DEPTH` is refused;
* aliases share the anchored value and count its size at every use, so an alias bomb
  (a few hundred bytes that expand to billions of values) stops at :data:`MAX_VALUES`;
  an alias inside its own anchor (a recursive alias) is refused;
* mapping keys must be text (``7: x`` and ``? [a, b]`` are refused with a hint);
* nothing is cached between calls (PyYAML's constructor keeps every node it built).

Scalars follow the YAML 1.2 core schema, as the editors' YAML language server does:
only ``true``/``false`` are booleans, so ``No``, ``yes``, ``on`` and ``off`` stay text (a
Danish designer's ``en: No`` label is the word "No"); only ``null``/``~``/empty are null;
dates stay text (the loader reads ISO times itself). Duplicate keys, which PyYAML
silently drops, are reported.
"""

from __future__ import annotations

import re
from typing import Any, Final

import attrs
import yaml

DocPath = tuple[str | int, ...]
"""A place in a document: keys and list indexes from the top, e.g. ``("transitions", 3, "approval")``."""

MAX_DEPTH: Final = 64
"""The deepest nesting of mappings and lists a document may have (definitions need < 10)."""

MAX_VALUES: Final = 200_000
"""The most values a document may hold, each alias counted as a copy of what it names."""

_Loader: Any = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
"""libyaml's parser when PyYAML was built with it, else PyYAML's pure-Python one."""


class DocumentProblem(yaml.MarkedYAMLError):
    """A document the parser accepts but we refuse (too deep, too big, a non-text key, …).

    A :class:`yaml.YAMLError`, so every reader reports it as it reports parser errors;
    ``hint`` says how to fix it.
    """

    def __init__(self, problem: str, mark: Any, hint: str) -> None:
        super().__init__(problem=problem, problem_mark=mark)
        self.hint = hint


@attrs.frozen
class Positioned:
    """A parsed document, the position of every path in it, and duplicate-key paths."""

    data: Any
    positions: dict[DocPath, tuple[int, int]]
    duplicates: tuple[DocPath, ...]

    def position(self, path: DocPath) -> tuple[int | None, int | None]:
        """The line and column of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.positions:
                return self.positions[path[:end]]
        return (None, None)


# -- YAML 1.2 core schema --------------------------------------------------------------

_NULL = re.compile(r"(?:~|null|Null|NULL|)\Z")
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_INT10 = re.compile(r"[-+]?[0-9]+\Z")
_INT8 = re.compile(r"0o[0-7]+\Z")
_INT16 = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"([-+]?)\.(?:inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)\Z")
_TAG = "tag:yaml.org,2002:"


def _plain(text: str) -> Any:
    """The value of a plain (unquoted) scalar under the YAML 1.2 core schema."""
    if not text or (text[0] in "~nN" and _NULL.match(text)):
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    first = text[0]
    if first.isdigit() or first in "+-.":
        if _INT10.match(text):
            return int(text)
        if _INT8.match(text):
            return int(text[2:], 8)
        if _INT16.match(text):
            return int(text[2:], 16)
        if _FLOAT.match(text):
            return float(text)
        if m := _INF.match(text):
            return float(f"{m.group(1)}inf")
        if _NAN.match(text):
            return float("nan")
    return text


def _scalar(event: Any) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        return _plain(event.value) if event.implicit[0] else event.value
    kind = tag.removeprefix(_TAG) if tag.startswith(_TAG) else None
    value = event.value
    if kind == "str":
        return value
    resolved = _plain(value)
    expected = {"int": int, "float": float, "bool": bool, "null": type(None)}.get(kind or "")
    if expected is float and type(resolved) is int:
        return float(resolved)
    if expected is not None and type(resolved) is expected:
        return resolved
    raise DocumentProblem(
        f"the tag {tag!r} cannot be used here (value {value!r})", event.start_mark,
        "remove the tag; write text in quotes, numbers and true/false as they are",
    )


# -- building values from events -------------------------------------------------------


@attrs.define
class _Open:
    """A mapping or list being built."""

    value: dict[str, Any] | list[Any]
    path: DocPath
    anchor: str | None
    size: int = 1
    key: str | None = None
    """In a mapping: the key read, whose value comes next (``None``: a key comes next)."""


def _kind(event: Any) -> str:
    if isinstance(event, yaml.MappingStartEvent):
        return "a mapping"
    if isinstance(event, yaml.SequenceStartEvent):
        return "a list"
    if isinstance(event, yaml.AliasEvent):
        return "an alias"
    return "a value"


def parse(text: str | bytes) -> Positioned:
    """Parse one YAML document.

    Raises:
        yaml.YAMLError: malformed YAML, or a :class:`DocumentProblem` (too deep, too big,
            a recursive or unknown alias, a key that is not text, more than one document).
    """
    try:
        return _parse_with(_Loader, text)
    except DocumentProblem:
        raise
    except yaml.YAMLError:
        if _Loader is yaml.SafeLoader:
            raise
    # Malformed: read it again with PyYAML's parser for its clearer words (the same on every
    # machine, with or without libyaml); slow, but only for a file that is wrong anyway.
    return _parse_with(yaml.SafeLoader, text)


def _parse_with(loader_class: Any, text: str | bytes) -> Positioned:
    try:
        loader = loader_class(text)
    except UnicodeError:
        raise DocumentProblem("the text holds characters that are not Unicode", None, "save the file as UTF-8 text") from None
    try:
        return _build(loader)
    except UnicodeError:
        raise DocumentProblem("the text holds characters that are not Unicode", None, "save the file as UTF-8 text") from None
    finally:
        loader.dispose()


def _build(loader: Any) -> Positioned:
    positions: dict[DocPath, tuple[int, int]] = {}
    duplicates: list[DocPath] = []
    anchors: dict[str, tuple[Any, int]] = {}
    opening: set[str] = set()
    stack: list[_Open] = []
    root: list[Any] = []
    documents = 0
    total = 0

    def place(mark: Any) -> tuple[int, int]:
        return (mark.line + 1, mark.column + 1)

    def next_path() -> DocPath:
        """The path of the value that comes next (a key has been read, or a list item)."""
        if not stack:
            return ()
        top = stack[-1]
        if isinstance(top.value, list):
            return (*top.path, len(top.value))
        assert top.key is not None
        return (*top.path, top.key)

    def attach(value: Any, size: int, event: Any) -> None:
        nonlocal total
        total += size
        if total > MAX_VALUES:
            raise DocumentProblem(
                f"the document holds more than {MAX_VALUES:,} values (each use of an alias counts as a copy)",
                event.start_mark,
                "write the values out instead of repeating aliases (*name), or split the file",
            )
        if not stack:
            root.append(value)
            return
        top = stack[-1]
        top.size += size
        if isinstance(top.value, list):
            top.value.append(value)
        else:
            assert top.key is not None
            if top.key in top.value:
                duplicates.append((*top.path, top.key))
            top.value[top.key] = value
            top.key = None

    def expects_key() -> bool:
        return bool(stack) and isinstance(stack[-1].value, dict) and stack[-1].key is None

    while True:
        event = loader.get_event()
        if isinstance(event, yaml.StreamEndEvent):
            break
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise DocumentProblem(
                    "the file holds more than one YAML document", event.start_mark,
                    "keep one definition per file; remove the '---' line",
                )
            continue
        if isinstance(event, yaml.StreamStartEvent | yaml.DocumentEndEvent):
            continue
        if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            done = stack.pop()
            if done.anchor is not None:
                anchors[done.anchor] = (done.value, done.size)
                opening.discard(done.anchor)
            attach(done.value, done.size, event)
            continue
        if expects_key():
            top = stack[-1]
            key = _scalar(event) if isinstance(event, yaml.ScalarEvent) else None
            if not isinstance(key, str):
                shown = f"{event.value!r}" if isinstance(event, yaml.ScalarEvent) else _kind(event)
                raise DocumentProblem(
                    f"a key must be text, found {shown}", event.start_mark,
                    f"write the key in quotes, e.g. '{event.value}':" if isinstance(event, yaml.ScalarEvent)
                    else "use a name as the key",
                )
            if event.anchor is not None:
                anchors[event.anchor] = (key, 1)
            top.key = key
            positions[(*top.path, key)] = place(event.start_mark)
            continue
        path = next_path()
        positions.setdefault(path, place(event.start_mark))
        if isinstance(event, yaml.ScalarEvent):
            value = _scalar(event)
            if event.anchor is not None:
                anchors[event.anchor] = (value, 1)
            attach(value, 1, event)
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor in opening:
                raise DocumentProblem(
                    f"the alias *{event.anchor} is used inside the value it names (a recursive alias)",
                    event.start_mark, "write the value out; a value cannot contain itself",
                )
            if event.anchor not in anchors:
                raise DocumentProblem(
                    f"the alias *{event.anchor} names no anchor &{event.anchor} above it", event.start_mark,
                    f"write '*{event.anchor}' in quotes: YAML reads an unquoted * as an alias",
                )
            value, size = anchors[event.anchor]
            attach(value, size, event)
        else:
            if len(stack) >= MAX_DEPTH:
                raise DocumentProblem(
                    f"the document nests deeper than {MAX_DEPTH} levels", event.start_mark,
                    "a definition needs only a few levels; check the brackets and the indentation",
                )
            container: dict[str, Any] | list[Any] = {} if isinstance(event, yaml.MappingStartEvent) else []
            if event.anchor is not None:
                opening.add(event.anchor)
            stack.append(_Open(container, path, event.anchor))
    return Positioned(root[0] if root else None, positions, tuple(duplicates))


class _Dumper(yaml.SafeDumper):
    """PyYAML's writer, quoting every text that YAML 1.2 would read as something else.

    PyYAML writes YAML 1.1, so it leaves e.g. ``0o7`` or ``1e5`` unquoted, which YAML 1.2
    reads as numbers; this writer's output reads back equal under :func:`parse`.
    """


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "'" if _plain(text) is not text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)


def dump(data: Any, *, width: int = 80) -> str:
    """YAML text that :func:`parse` reads back as ``data`` (keys in the given order)."""
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=width)


def format_path(path: DocPath) -> str:
    """``("transitions", 3, "approval")`` → ``transitions[3].approval``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
