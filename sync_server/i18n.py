"""Translation catalogues for the server's pages: French is the source language, English translated.

The `.po` files under `sync_server/locales/` are read once at start-up with Babel (no compiled
`.mo` files to keep in sync), and the language of a page comes from `?lang=`, else the browser's
Accept-Language, else French.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
SOURCE_LANGUAGE = "fr"
LANGUAGES = ("fr", "en")
# Babel locale used for numbers and dates in each page language.
BABEL_LOCALES = {"fr": "fr_FR", "en": "en_GB"}


def po_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> Translations:
    """The catalogue for `language`; an untranslated message falls back to its French msgid."""
    with po_path(language).open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def negotiate(requested: str | None, accept_language: str | None) -> str:
    """`requested` if supported, else the best Accept-Language match, else French."""
    if requested in LANGUAGES:
        return requested
    candidates: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.split("-")[0].lower()
        if primary in LANGUAGES and quality > 0:
            candidates.append((-quality, index, primary))
    return min(candidates)[2] if candidates else SOURCE_LANGUAGE
