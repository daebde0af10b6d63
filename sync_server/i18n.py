"""Translation catalogues for the server's pages: French is the source language, English translated.

The `.po` files under `sync_server/locales/` are read once at start-up with Babel (no compiled
`.mo` files to keep in sync), and the language of a page comes from `?lang=`, else the browser's
Accept-Language, else French. Each language merges its files: `messages.po` (staff pages) and
`phone.po` (the visitors' phone survey, also in the kiosk's other languages).
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
SOURCE_LANGUAGE = "fr"
LANGUAGES = ("fr", "en")
# The phone survey speaks every language the kiosk does (its survey says which it offers).
VISITOR_LANGUAGES = ("fr", "en", "es", "ar")
# Babel locale used for numbers and dates in each page language.
BABEL_LOCALES = {"fr": "fr_FR", "en": "en_GB", "es": "es_ES", "ar": "ar"}


def po_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def catalog(language: str) -> Catalog:
    """Every `.po` file of `language` merged (`messages.po` first, so `phone.po` wins)."""
    merged = Catalog(locale=language, domain=DOMAIN)
    paths = sorted(po_path(language).parent.glob("*.po"), key=lambda p: p.name != f"{DOMAIN}.po")
    for path in paths:
        with path.open("rb") as handle:
            for message in read_po(handle, locale=language, domain=DOMAIN):
                if message.id:
                    merged[message.id] = message
    return merged


@cache
def translations(language: str) -> Translations:
    """The catalogue for `language`; an untranslated message falls back to its French msgid."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog(language))
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def negotiate(
    requested: str | None, accept_language: str | None, offered: tuple[str, ...] = LANGUAGES
) -> str:
    """`requested` if in `offered`, else the best Accept-Language match, else French."""
    if requested in offered:
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
        if primary in offered and quality > 0:
            candidates.append((-quality, index, primary))
    return min(candidates)[2] if candidates else SOURCE_LANGUAGE
