"""Read YAML into plain Python values and remember where every value stood.

Definition errors must name the line; PyYAML's constructed objects forget it, so we
walk the composed node tree ourselves. Duplicate keys, which PyYAML silently drops,
are reported here.
"""

from __future__ import annotations

from typing import Any

import attrs
import yaml

DocPath = tuple[str | int, ...]
"""A place in a document: keys and list indexes from the top, e.g. ``("transitions", 3, "approval")``."""


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


_scalars = yaml.SafeLoader("")


def parse(text: str) -> Positioned:
    """Parse one YAML document; raises :class:`yaml.YAMLError` on malformed YAML."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    positions: dict[DocPath, tuple[int, int]] = {}
    duplicates: list[DocPath] = []

    def walk(n: yaml.Node | None, path: DocPath) -> Any:
        if n is None:
            return None
        positions[path] = (n.start_mark.line + 1, n.start_mark.column + 1)
        if isinstance(n, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in n.value:
                key = walk(key_node, (*path, "<key>"))
                child = (*path, str(key))
                if key in out:
                    duplicates.append(child)
                out[key] = walk(value_node, child)
                positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            positions.pop((*path, "<key>"), None)
            return out
        if isinstance(n, yaml.SequenceNode):
            return [walk(item, (*path, i)) for i, item in enumerate(n.value)]
        return _scalars.construct_object(n, deep=True)

    return Positioned(walk(node, ()), positions, tuple(duplicates))


def format_path(path: DocPath) -> str:
    """``("transitions", 3, "approval")`` → ``transitions[3].approval``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
