"""One message catalogue: every marked message has Danish with the same placeholders; the language is chosen."""

from __future__ import annotations

import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from pathways.i18n import default_language, tr, use_language

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "src" / "pathways" / "locale" / "da" / "LC_MESSAGES" / "pathways.po"


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_catalogue_is_current_with_the_code_and_compiled() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "messages.py"), "--check"], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stderr) == (0, "")


def test_every_message_has_danish_with_the_same_placeholders() -> None:
    with PO.open("rb") as f:
        catalog = read_po(f)
    messages = [m for m in catalog if m.id]
    assert len(messages) > 40
    assert [m.id for m in messages if not m.string] == []
    assert [m.id for m in messages if _placeholders(str(m.id)) != _placeholders(str(m.string))] == []


def test_tr_speaks_the_chosen_language() -> None:
    with use_language("da"):
        assert tr("{passed} of {total} journeys passed", passed=2, total=3) == "2 af 3 forløbstest bestået"
    with use_language("en"):
        assert tr("{passed} of {total} journeys passed", passed=2, total=3) == "2 of 3 journeys passed"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PATHWAYS_LANG": "da"}, "da"),
        ({"PATHWAYS_LANG": "en", "LANG": "da_DK.UTF-8"}, "en"),
        ({"LANG": "da_DK.UTF-8"}, "da"),
        ({"LC_ALL": "en_GB.UTF-8", "LANG": "da_DK.UTF-8"}, "en"),
        ({"LANG": "C"}, "en"),
    ],
)
def test_the_default_language_comes_from_pathways_lang_then_the_locale(
    env: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("PATHWAYS_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("locale.getlocale", lambda: (None, None))
    assert default_language() == expected


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown language 'fr': choose one of da, en"), use_language("fr"):
        pass
