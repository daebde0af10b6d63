"""The visitors' phone pages are translated into every language the kiosk speaks."""

from __future__ import annotations

import pytest
from babel.messages.extract import extract
from jinja2.ext import babel_extract

from qualivilles.bundled import load_default_survey
from sync_server import i18n
from sync_server.web.templating import TEMPLATES_DIR


def phone_messages() -> set[str]:
    found: set[str] = set()
    for path in sorted(TEMPLATES_DIR.glob("phone_*.html")):
        with path.open("rb") as handle:
            options = {"extensions": "jinja2.ext.i18n", "trimmed": "true"}
            for _line, message, _c, _x in extract(babel_extract, handle, options=options):
                found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_phone_pages_have_messages():
    assert len(phone_messages()) > 30


@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_every_phone_message_is_translated(language):
    catalog = i18n.catalog(language)
    missing = [m for m in sorted(phone_messages()) if not (m in catalog and catalog[m].string)]
    assert missing == []


@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_placeholders_survive_translation(language):
    catalog = i18n.catalog(language)
    for message in phone_messages():
        for name in ("%(n)s", "%(total)s", "%(service)s", "%(minutes)s"):
            assert (name in message) == (name in catalog.get(message).string), message


def test_the_phone_survey_speaks_every_language_of_the_kiosk_survey():
    assert set(load_default_survey().languages) <= set(i18n.VISITOR_LANGUAGES)
