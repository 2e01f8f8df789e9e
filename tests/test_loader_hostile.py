"""Hostile definition files: each is a DefinitionError with file and line, quickly, never a hang.

Issue 14: an alias bomb, recursive aliases, deep nesting, keys that are not text, FIFOs,
devices, oversized files and non-UTF-8 bytes used to end in tracebacks, hangs or an
exhausted memory. Issue 11 item 3: the YAML 1.1 traps (``No`` read as false, an unquoted
``*``) — we read YAML 1.2, so ``No`` is text, and an unquoted ``*`` gets a hint.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pathways import DefinitionError, load_file, load_registry, load_text
from pathways._yaml import MAX_DEPTH, dump, parse
from test_loader_errors import BASE

ROOT = Path(__file__).resolve().parent.parent
BOUND_S = 5
"""Every hostile input must be refused well within this; the timer only catches a hang."""


class Hung(Exception):
    pass


@contextlib.contextmanager
def bounded(seconds: float = BOUND_S) -> Iterator[None]:
    """Raise :class:`Hung` if the block runs longer than ``seconds`` (a hang, not a slow machine)."""

    def alarm(*_: object) -> None:
        raise Hung(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def refused(text: str, file: str = "x.yaml") -> list[str]:
    with bounded(), pytest.raises(DefinitionError) as info:
        load_text(text, file)
    return [str(p) for p in info.value.problems]


BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
) + "i2: &j [*i,*i,*i,*i,*i,*i,*i,*i,*i]\n"


class TestAliases:
    def test_an_alias_bomb_is_refused_at_once(self) -> None:
        """A few hundred bytes that would expand to billions of values stop at the value limit."""
        assert len(BOMB) < 500
        assert refused(BOMB) == [
            "x.yaml:6:8: (document): the document holds more than 200,000 values (each use of an alias counts as a copy)"
            " (write the values out instead of repeating aliases (*name), or split the file)"
        ]

    def test_a_recursive_alias_is_refused(self) -> None:
        """An alias inside the value it names would be a value containing itself."""
        assert refused("a: &a [1, *a]\n") == [
            "x.yaml:1:11: (document): the alias *a is used inside the value it names (a recursive alias)"
            " (write the value out; a value cannot contain itself)"
        ]

    def test_a_few_aliases_are_still_read(self) -> None:
        """Aliases within the limit read as copies of the anchored value."""
        assert parse("a: &r [nurse, leader]\nb: *r\n").data == {"a": ["nurse", "leader"], "b": ["nurse", "leader"]}


class TestShape:
    def test_deep_nesting_is_refused_with_its_line(self) -> None:
        """500 open brackets stop at the depth limit, at the bracket that goes too deep."""
        assert refused("id: x\nstates: " + "[" * 500 + "]" * 500 + "\n") == [
            f"x.yaml:2:{9 + MAX_DEPTH - 1}: (document): the document nests deeper than {MAX_DEPTH} levels"
            " (a definition needs only a few levels; check the brackets and the indentation)"
        ]

    def test_a_number_as_key_is_refused_with_a_hint(self) -> None:
        """``7: x`` would make a key that is not a name."""
        assert refused("id: x\n7: x\n") == ["x.yaml:2:1: (document): a key must be text, found '7' (write the key in quotes, e.g. '7':)"]

    def test_a_list_as_key_is_refused(self) -> None:
        """A complex key (``? [a, b]``) is not a name either."""
        assert refused("id: x\n? [a, b]\n: y\n") == ["x.yaml:2:3: (document): a key must be text, found a list (use a name as the key)"]

    def test_two_documents_are_refused(self) -> None:
        assert refused("id: x\n---\nid: y\n") == [
            "x.yaml:2:1: (document): the file holds more than one YAML document (keep one definition per file; remove the '---' line)"
        ]

    def test_a_python_tag_is_refused(self) -> None:
        """Tags beyond the core schema are not definitions; safe loading never builds objects."""
        assert refused("id: !!python/object:os.system x\n") == [
            "x.yaml:1:5: (document): the tag 'tag:yaml.org,2002:python/object:os.system' cannot be used here (value 'x')"
            " (remove the tag; write text in quotes, numbers and true/false as they are)"
        ]


_texts = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029\ufeff"))
"""Text PyYAML can write (it mangles control characters and Unicode line breaks)."""


class TestYaml12:
    """Issue 11 item 3: we read YAML 1.2 (as the editors' YAML language server does)."""

    def test_no_is_text(self) -> None:
        """``en: No`` is the English word, not false."""
        pathway = load_text(BASE.replace("title: {da: Ophold, en: Stay}", "title: {da: Nej, en: No}"))
        assert (pathway.title.da, pathway.title.en) == ("Nej", "No")

    def test_yes_where_true_or_false_belongs_says_what_to_write(self) -> None:
        text = BASE.replace("consent_given: {label:", "consent_given: {default: yes, label:")
        assert refused(text, "stay.yaml") == [
            "stay.yaml:16:19: facts.consent_given.default: expected true or false, got 'yes'"
            " (YAML 1.2 reads only true and false as yes/no; write true or false)"
        ]

    def test_an_unquoted_star_says_to_quote_it(self) -> None:
        """``source: *`` is an alias to YAML; the hint says to write ``'*'``."""
        text = BASE.replace("  - {trigger: escalate, source: arrived,", "  - trigger: escalate\n    source: *\n    x: [")
        assert refused(text, "stay.yaml") == [
            "stay.yaml:34:14: (document): not valid YAML: expected alphabetic or numeric character, but found '\\n'"
            " (write '*' in quotes: YAML reads an unquoted * as an alias)"
        ]

    def test_a_star_with_a_name_says_to_quote_it(self) -> None:
        assert refused("id: x\nsource: *all\n") == [
            "x.yaml:2:9: (document): the alias *all names no anchor &all above it (write '*all' in quotes: YAML reads an unquoted * as an alias)"
        ]

    @pytest.mark.parametrize(
        ("plain", "value"),
        [("No", "No"), ("on", "on"), ("true", True), ("False", False), ("~", None), ("", None), ("010", 10),
         ("0o10", 8), ("0x1F", 31), ("1.5", 1.5), ("1e3", 1000.0), ("2026-01-05", "2026-01-05"), ("1:20", "1:20")],
    )
    def test_plain_scalars_follow_the_core_schema(self, plain: str, value: object) -> None:
        assert parse(f"v: {plain}\n").data == {"v": value}

    @settings(max_examples=100)
    @given(st.recursive(
        st.none() | st.booleans() | st.integers() | _texts,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_texts, inner, max_size=4),
        max_leaves=20,
    ))
    def test_what_dump_writes_parse_reads_back(self, data: object) -> None:
        """Our writer quotes every text YAML 1.2 would read as something else."""
        assert parse(dump({"v": data})).data == {"v": data}


class TestFiles:
    def test_a_fifo_is_refused_without_waiting(self, tmp_path: Path) -> None:
        fifo = tmp_path / "x.yaml"
        os.mkfifo(fifo)
        with bounded(), pytest.raises(DefinitionError) as info:
            load_registry(tmp_path)
        assert [str(p) for p in info.value.problems] == [f"{fifo}: (document): not a regular file: it is a FIFO (named pipe) (point at the definition file itself)"]

    def test_a_link_to_dev_zero_is_refused(self, tmp_path: Path) -> None:
        link = tmp_path / "x.yaml"
        link.symlink_to("/dev/zero")
        with bounded(), pytest.raises(DefinitionError) as info:
            load_file(link)
        assert [str(p) for p in info.value.problems] == [f"{link}: (document): not a regular file: it is a device (point at the definition file itself)"]

    def test_a_big_file_is_refused_before_reading(self, tmp_path: Path) -> None:
        big = tmp_path / "big.yaml"
        with big.open("w") as f:
            f.truncate(10_000_000)
        with bounded(), pytest.raises(DefinitionError) as info:
            load_file(big)
        assert [str(p) for p in info.value.problems] == [
            f"{big}: (document): the file is 10,000,000 bytes, more than the limit of 2,000,000 bytes"
            " (split it into several files, or raise the limit (max_bytes))"
        ]

    def test_the_size_limit_is_configurable(self, tmp_path: Path) -> None:
        f = tmp_path / "stay.yaml"
        f.write_text(BASE)
        assert load_file(f, max_bytes=len(BASE.encode())).id == "stay"
        with pytest.raises(DefinitionError, match="more than the limit of 100 bytes"):
            load_registry(tmp_path, max_bytes=100)

    def test_a_wrong_byte_is_reported_at_its_line_and_column(self, tmp_path: Path) -> None:
        f = tmp_path / "stay.yaml"
        f.write_bytes(BASE.replace("Ophold, en: Stay", "Ophold \xf8, en: Stay").encode("latin-1"))
        with pytest.raises(DefinitionError) as info:
            load_file(f)
        assert [str(p) for p in info.value.problems] == [
            f"{f}:3:20: (document): not UTF-8 text: byte 0xf8 cannot be read"
            " (save the file as UTF-8 (most editors: 'Save with encoding'); æ, ø and å are fine in UTF-8)"
        ]

    def test_utf16_is_named(self, tmp_path: Path) -> None:
        f = tmp_path / "stay.yaml"
        f.write_bytes(BASE.encode("utf-16"))
        with pytest.raises(DefinitionError, match="the file is UTF-16 text, not UTF-8"):
            load_file(f)

    def test_a_byte_order_mark_is_fine(self, tmp_path: Path) -> None:
        f = tmp_path / "stay.yaml"
        f.write_bytes(BASE.encode("utf-8-sig"))
        assert load_file(f).id == "stay"


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    pytest.skip("needs /proc")  # pragma: no cover


def test_loading_the_seeds_a_thousand_times_keeps_memory_bounded() -> None:
    """Nothing is cached between loads (PyYAML's constructor kept ~2 MB per load)."""
    for _ in range(50):
        load_registry(ROOT / "definitions")
    before = _rss_mb()
    for _ in range(950):
        load_registry(ROOT / "definitions")
    assert _rss_mb() - before < 20


# -- fuzz ------------------------------------------------------------------------------

_names = st.text("abcxyz", min_size=1, max_size=3)


@st.composite
def hostile(draw: st.DrawFn) -> str | bytes:
    """YAML a hostile or careless writer might send: aliases, depth, odd keys, encodings, sizes."""
    kind = draw(st.sampled_from(["aliases", "depth", "keys", "bytes", "size", "mixed"]))
    if kind == "aliases":
        width, levels = draw(st.integers(2, 12)), draw(st.integers(1, 12))
        lines = [f"l0: &l0 [{', '.join(['x'] * width)}]"]
        lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
        if draw(st.booleans()):
            lines.append("r: &r [*l0, {k: *r}]")
        return "\n".join(lines) + "\n"
    if kind == "depth":
        n = draw(st.integers(1, 3000))
        opener, closer = draw(st.sampled_from([("[", "]"), ("{a: ", "}"), ("- ", "")]))
        if opener == "- ":
            return "".join("  " * i + "- \n" for i in range(min(n, 300))) + "  " * min(n, 300) + "x\n"
        return "id: " + opener * n + "x" + closer * n + "\n"
    if kind == "keys":
        key = draw(st.sampled_from(["7", "? [a, b]\n", "true", "~", "1.5", "? {a: 1}\n", "*x", "&x k", "!!binary aGk="]))
        return f"id: x\n{key}: v\n"
    if kind == "bytes":
        return draw(st.binary(max_size=200)) + draw(st.sampled_from([b"", b"\xff\xfe", b"\x00", b"\xed\xa0\x80"]))
    if kind == "size":
        return "id: x\nstates:\n" + "  - {id: s, kind: active}\n" * draw(st.integers(80_000, 100_000))
    parts = draw(st.lists(st.sampled_from(["a: &a [1, 2]", "b: *a", "c: *zz", "- x", "  d: [", "e: {f: ", "'g", "\t- h", "i: !!int x", "j: No"]), max_size=8))
    return "\n".join(parts) + "\n"


@settings(max_examples=60, deadline=None)
@given(text=hostile())
def test_hostile_yaml_is_a_definition_error_in_bounded_time(text: str | bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Whatever arrives, the loader answers with a DefinitionError (with a place), never more."""
    folder = tmp_path_factory.mktemp("hostile")
    f = folder / "x.yaml"
    f.write_bytes(text if isinstance(text, bytes) else text.encode())
    with bounded(), pytest.raises(DefinitionError) as info:
        load_registry(folder)
    assert all(p.file == str(f) for p in info.value.problems)
