"""Fills the Vietnamese catalogue from the translations waiting in locale/pending/*.json (run by `make
messages`, between makemessages and compilemessages).

Work on several branches at once each adds its translations as a small JSON file, {msgid: msgstr} (a
message with a context is keyed "context\\u0004msgid", as gettext does), instead of editing django.po, which
makemessages rewrites whole: merging branches then never fights over the catalogue. Once a pending file's
messages are in django.po, the file can go.
"""

import json
import sys
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent
CATALOGUE = LOCALE / "vi" / "LC_MESSAGES" / "django.po"


def pending() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((LOCALE / "pending").glob("*.json")):
        found.update(json.loads(path.read_text(encoding="utf-8")))
    return found


def fill() -> list[str]:
    """Translates from the pending files every message without a translation (or a fuzzy one); returns the
    messages still untranslated."""
    catalogue = polib.pofile(str(CATALOGUE))
    translations = pending()
    missing = []
    for entry in catalogue:
        if entry.obsolete:
            continue
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        if (not entry.msgstr or entry.fuzzy) and key in translations:
            entry.msgstr = translations[key]
            if entry.fuzzy:
                entry.flags.remove("fuzzy")
                entry.previous_msgid = entry.previous_msgid_plural = entry.previous_msgctxt = None
        if entry.msgid_plural:
            continue  # plural forms are kept in django.po itself
        if not entry.msgstr or entry.fuzzy:
            missing.append(key)
    catalogue.save(str(CATALOGUE))
    return missing


if __name__ == "__main__":
    untranslated = fill()
    for key in untranslated:
        print(f"untranslated: {key!r}", file=sys.stderr)
    print(f"{len(untranslated)} message(s) without a Vietnamese translation", file=sys.stderr)
