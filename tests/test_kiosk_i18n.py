"""Every kiosk text goes through the catalogues. Visitors' text is translated into every
language the kiosk offers; staff screens (French, with English for a non-French technician)
need only the English catalogue."""

import ast
from pathlib import Path

import pytest

from kiosk.core.i18n import available_languages, translate, untranslated

KIOSK_DIR = Path(__file__).resolve().parents[1] / "kiosk"
STAFF_MODULES = ("staff", "pin", "agent")  # agents are staff: French and English


def _messages(staff: bool) -> list[str]:
    """The literal first argument of every `translate(...)` call, by audience."""
    found = []
    for path in KIOSK_DIR.rglob("*.py"):
        if any(part in path.stem for part in STAFF_MODULES) != staff:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "translate"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.append(node.args[0].value)
    return sorted(set(found))


def test_the_kiosk_has_translatable_messages_for_both_audiences():
    assert len(_messages(staff=False)) >= 15
    assert len(_messages(staff=True)) >= 5


@pytest.mark.parametrize("language", [lang for lang in available_languages() if lang != "fr"])
def test_every_visitor_message_is_translated(language):
    assert untranslated(language, _messages(staff=False)) == []


def test_every_staff_message_has_english():
    assert untranslated("en", _messages(staff=True)) == []


def test_french_is_the_source_and_values_are_filled_in():
    assert available_languages()[0] == "fr"
    assert {"en", "es", "ar"} <= set(available_languages())
    assert translate("Question {n} sur {total}", "fr", n=2, total=5) == "Question 2 sur 5"
    assert translate("Question {n} sur {total}", "en", n=2, total=5) == "Question 2 of 5"


def test_an_unknown_language_falls_back_to_french():
    assert translate("Terminer", "xx") == "Terminer"
