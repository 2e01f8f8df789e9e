"""Keep the Danish message catalogue current: extract, merge, compile (Babel).

    .venv/bin/python scripts/messages.py          # update pathways.po from the code, compile pathways.mo,
                                                  # and the English/Danish table in docs/errors.md
    .venv/bin/python scripts/messages.py --check  # exit 1 if the catalogue is behind the code

Every text marked ``tr("…")`` in ``src/pathways`` is a message; its English is the id.
New messages enter ``pathways.po`` without a Danish text (the check fails until a
translator writes one); messages no longer in the code are dropped.
"""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "pathways"
PO = SOURCE / "locale" / "da" / "LC_MESSAGES" / "pathways.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"tr": None, "_tr": None}
_FIXED = datetime(2026, 1, 1, tzinfo=UTC)
"""Header dates stay fixed, so the compiled catalogue only changes when a message does."""


def extracted() -> Catalog:
    """The messages the code marks, with where they are used."""
    catalog = Catalog(project="pathways", domain="pathways", locale="da", fuzzy=False,
                      creation_date=_FIXED, revision_date=_FIXED, language_team="Danish", last_translator="pathways")
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(SOURCE), method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=(), strip_comment_tags=True,
    ):
        catalog.add(message, locations=[(f"src/pathways/{filename}", lineno)])
    return catalog


def merged() -> Catalog:
    """The shipped translations, updated to the code's messages."""
    if not PO.exists():
        PO.parent.mkdir(parents=True, exist_ok=True)
        PO.write_bytes(_po_bytes(extracted()))
    with PO.open("rb") as f:
        catalog = read_po(f, locale="da", domain="pathways")
    catalog.update(extracted(), no_fuzzy_matching=True)
    catalog.obsolete.clear()
    catalog.revision_date = catalog.creation_date = _FIXED
    return catalog


def _po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=120, no_location=True, sort_output=True, ignore_obsolete=True)
    return out.getvalue()


def _mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


DOCS = ROOT / "docs" / "errors.md"
_START, _END = "<!-- messages:start -->", "<!-- messages:end -->"


def docs_table(catalog: Catalog) -> str:
    """Every message in English and Danish, as the table in docs/errors.md shows it."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    rows = [f"| {cell(str(m.id))} | {cell(str(m.string))} |" for m in sorted(catalog, key=lambda m: str(m.id).lower()) if m.id]
    return "\n".join([_START, "", "| English | Dansk |", "|---|---|", *rows, "", _END])


def docs_text(catalog: Catalog) -> str:
    text = DOCS.read_text(encoding="utf-8")
    start, end = text.index(_START), text.index(_END) + len(_END)
    return text[:start] + docs_table(catalog) + text[end:]


def main(argv: list[str]) -> int:
    catalog = merged()
    po, mo = _po_bytes(catalog), _mo_bytes(catalog)
    if "--check" in argv:
        stale = PO.read_bytes() != po or MO.read_bytes() != mo or DOCS.read_text(encoding="utf-8") != docs_text(catalog)
        missing = [m.id for m in catalog if m.id and not m.string]
        for text in missing:
            print(f"no Danish text for {text!r}", file=sys.stderr)
        if stale:
            print("pathways.po/.mo or docs/errors.md are behind the code: run scripts/messages.py", file=sys.stderr)
        return 1 if stale or missing else 0
    PO.write_bytes(po)
    MO.write_bytes(mo)
    DOCS.write_text(docs_text(catalog), encoding="utf-8")
    print(f"{PO.relative_to(ROOT)}: {len(catalog)} messages, {sum(1 for m in catalog if m.id and not m.string)} without Danish")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
