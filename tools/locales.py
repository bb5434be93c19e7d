"""Update every catalog from messages.pot, including languages CLDR lacks (hmn, tyz, ium, nut)
that `pybabel update` refuses; Vietnamese, the source language, gets msgstr = msgid."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

LOCALES = Path(__file__).resolve().parent.parent / "locales"
# Whether a native speaker reviewed a catalog the team wrote ("X-Reviewed: no" until one has).
REVIEWED = re.compile(r'"X-Reviewed: \w+\\n"\n')


def update(code: str) -> None:
    """Merge the template into one language's catalog, creating it if needed."""
    with (LOCALES / "messages.pot").open("rb") as fh:
        template = read_po(fh)
    po_path = LOCALES / code / "LC_MESSAGES" / "messages.po"
    reviewed = REVIEWED.search(po_path.read_text(encoding="utf-8")) if po_path.exists() else None
    if po_path.exists():
        with po_path.open("rb") as fh:
            catalog = read_po(fh)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
    else:
        catalog = template
        po_path.parent.mkdir(parents=True, exist_ok=True)
    catalog.language_team = code
    catalog.mime_headers  # noqa: B018  (forces header parsing before write)
    if code == "vi":
        for message in catalog:
            if message.id and not message.string:
                message.string = message.id
    with po_path.open("wb") as fh:
        write_po(fh, catalog, no_location=True, sort_output=True, width=110)
    header = po_path.read_text(encoding="utf-8")
    if '"Language: ' not in header:
        header = header.replace('"MIME-Version: 1.0\\n"', f'"Language: {code}\\n"\n"MIME-Version: 1.0\\n"', 1)
    if reviewed and reviewed.group(0) not in header:  # Babel drops headers it does not know
        header = header.replace('"Generated-By: ', reviewed.group(0) + '"Generated-By: ', 1)
    po_path.write_text(header, encoding="utf-8")


def main(codes: list[str]) -> int:
    """Update the named languages, or every folder under locales/."""
    for code in codes or sorted(p.name for p in LOCALES.iterdir() if p.is_dir()):
        update(code)
        print(f"updated {code}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
