"""Visitor and staff text through gettext catalogues (`kiosk/locales/<lang>/LC_MESSAGES/*.po`).

French is the source language: a message id *is* the French text, so a missing translation falls
back to French, never to an empty label. Catalogues are read with Babel, so no compile step.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
SOURCE_LANGUAGE = "fr"


@cache
def _catalogue(language: str) -> dict[str, str]:
    """Every catalogue of the language merged: `kiosk.po` (visitors), `staff.po` (staff)."""
    messages: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        messages.update(
            {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}
        )
    return messages


def available_languages() -> list[str]:
    """French first, then every language that has a catalogue."""
    others = sorted(p.name for p in LOCALES_DIR.iterdir() if p.is_dir() and p.name != "fr")
    return [SOURCE_LANGUAGE, *others]


def translate(message: str, language: str, **values: object) -> str:
    """The message in `language` (French when untranslated), with `{name}` values filled in."""
    text = message if language == SOURCE_LANGUAGE else _catalogue(language).get(message, message)
    return text.format(**values) if values else text


def untranslated(language: str, messages: list[str]) -> list[str]:
    """Messages that `language` does not translate yet (for the catalogue completeness test)."""
    catalogue = _catalogue(language)
    return [m for m in messages if m not in catalogue]
