"""Every changelog fragment is well-formed, so the release step can gather them."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_fragment_starts_with_a_category() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "changelog.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.endswith("changelog fragments, all well-formed\n")


def test_the_changelog_has_an_unreleased_section() -> None:
    assert "\n## Unreleased\n" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
