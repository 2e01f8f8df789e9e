"""Gather the fragments in changelog.d/ under '## Unreleased' in CHANGELOG.md.

Run: python scripts/changelog.py [--check]

Each fragment is ``changelog.d/<issue>.<slug>.md`` whose text starts with one of the
Keep-a-Changelog categories and a colon (``Added:``, ``Changed:``, ``Fixed:``,
``Removed:``, ``Security:``). Fragments let parallel work land without conflicts in
CHANGELOG.md; this script writes them in once, grouped by category, and deletes them.
``--check`` only validates the fragments (the test suite runs it).
"""

from __future__ import annotations

import sys
from pathlib import Path

CATEGORIES = ("Added", "Changed", "Fixed", "Removed", "Security")
ROOT = Path(__file__).resolve().parent.parent
FRAGMENTS = ROOT / "changelog.d"
CHANGELOG = ROOT / "CHANGELOG.md"


def fragments() -> list[tuple[str, str, Path]]:
    """Every fragment as (category, text, path); raises SystemExit naming a bad one."""
    out = []
    for path in sorted(FRAGMENTS.glob("*.md")):
        head, _, text = path.read_text(encoding="utf-8").strip().partition(":")
        if head not in CATEGORIES or not text.strip():
            raise SystemExit(f"{path.relative_to(ROOT)}: start with one of {', '.join(c + ':' for c in CATEGORIES)} and a sentence")
        out.append((head, " ".join(text.split()), path))
    return out


def main(argv: list[str]) -> int:
    found = fragments()
    if "--check" in argv:
        print(f"{len(found)} changelog fragments, all well-formed")
        return 0
    lines = []
    for category in CATEGORIES:
        entries = [text for cat, text, _ in found if cat == category]
        if entries:
            lines += [f"### {category}", *(f"- {text}" for text in entries), ""]
    text = CHANGELOG.read_text(encoding="utf-8")
    marker = "## Unreleased\n"
    if marker not in text:
        raise SystemExit("CHANGELOG.md has no '## Unreleased' section")
    CHANGELOG.write_text(text.replace(marker, marker + "\n" + "\n".join(lines), 1), encoding="utf-8")
    for _, _, path in found:
        path.unlink()
    print(f"wrote {len(found)} fragments into CHANGELOG.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
