"""The pages' catalogues: every French message of the templates is translated into English."""

from __future__ import annotations

from babel.messages.extract import extract
from jinja2.ext import babel_extract

from sync_server import i18n
from sync_server.web import units
from sync_server.web.templating import TEMPLATES_DIR


def template_messages() -> set[str | tuple[str, ...]]:
    found: set[str | tuple[str, ...]] = set()
    for path in sorted(TEMPLATES_DIR.glob("*.html")):
        with path.open("rb") as handle:
            options = {"extensions": "jinja2.ext.i18n", "trimmed": "true"}
            for _line, message, _comments, _context in extract(
                babel_extract, handle, options=options
            ):
                found.add(message)
    return found


def test_templates_have_messages_to_translate():
    assert len(template_messages()) > 40


def test_every_template_message_has_an_english_translation():
    catalog = i18n.catalog("en")  # messages.po and phone.po merged, as the pages read them
    missing = []
    for message in template_messages():
        key = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(key)
        translated = entry is not None and all(
            entry.string if isinstance(entry.string, tuple) else [entry.string]
        )
        if not translated:
            missing.append(key)
    assert missing == []


def test_french_plurals_treat_zero_as_singular():
    french = i18n.translations("fr")
    singular, plural = "<strong>%(count)s</strong> guichet", "<strong>%(count)s</strong> guichets"
    assert french.ngettext(singular, plural, 0) == singular
    assert french.ngettext(singular, plural, 2) == plural


def test_language_negotiation():
    assert i18n.negotiate("en", "fr-FR") == "en"
    assert i18n.negotiate("de", None) == "fr"
    assert i18n.negotiate(None, "de-DE,en;q=0.8,fr;q=0.5") == "en"
    assert i18n.negotiate(None, "en;q=0") == "fr"


def test_numbers_follow_each_language():
    from sync_server.web.templating import environment

    french, english = environment("fr").filters, environment("en").filters
    assert french["percent"](89.66, 1) == "89,7\u202f%"
    assert english["percent"](89.66, 1) == "89.7%"
    assert french["number"](1234.5, 1) == "1\u202f234,5"
    assert french["points"](-0.3) == "0"
    assert french["points"](-1.25, 1) == "−1,2"
    assert french["points"](12) == "+12"
    assert french["percent"](None) == "—"


def test_a_figure_reads_with_its_unit_and_a_target_as_entered():
    french, english = units.formats("fr"), units.formats("en")
    assert french["target_value"](87.5, "%") == "87,5\u202f%"  # never a rounded "88 %"
    assert french["target_value"](90.0, "%") == "90\u202f%"
    assert french["target_value"](12.25, "min") == "12,25\u00a0min"
    assert english["target_value"](87.5, "%") == "87.5%"
    assert french["figure_value"](7.06, "min") == "7,1\u00a0min"
    assert french["figure_value"](34, "count") == "34"
    assert french["figure_value"](8.06, "/10") == "8,1/10"
    assert french["figure_value"](-4.96, "pts") == "−5,0\u00a0pts"
    assert french["figure_value"](None, "%") == "—"
    assert french["gap_value"](-0.04, "pts") == "0,0\u00a0pts"  # never "−0,0"
    assert french["gap_value"](2.26, "min") == "+2,3\u00a0min"
    assert units.decimal_sign("fr") == ","
