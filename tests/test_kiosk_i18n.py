"""Every visitor text in the kiosk goes through the catalogues, and English translates all of it."""

import ast
from pathlib import Path

from kiosk.core.i18n import available_languages, translate, untranslated

KIOSK_DIR = Path(__file__).resolve().parents[1] / "kiosk"


def _messages_in_source() -> list[str]:
    """The literal first argument of every `translate(...)` call in the kiosk's code."""
    found = []
    for path in KIOSK_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "translate"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.append(node.args[0].value)
    return sorted(set(found))


def test_the_kiosk_has_translatable_messages():
    assert len(_messages_in_source()) >= 8


def test_every_message_is_translated_in_every_catalogue():
    messages = _messages_in_source()
    for language in available_languages():
        if language != "fr":
            assert untranslated(language, messages) == [], language


def test_french_is_the_source_and_values_are_filled_in():
    assert available_languages()[0] == "fr"
    assert translate("Question {n} sur {total}", "fr", n=2, total=5) == "Question 2 sur 5"
    assert translate("Question {n} sur {total}", "en", n=2, total=5) == "Question 2 of 5"


def test_an_unknown_language_falls_back_to_french():
    assert translate("Terminer", "xx") == "Terminer"
