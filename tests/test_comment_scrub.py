"""Comments lose e-mail addresses and phone numbers before storage; ordinary text is kept."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qualivilles.answers import FreeText, logged_payload
from qualivilles.scrub import EMAIL_MARK, PHONE_MARK, scrub


@pytest.mark.parametrize(
    "email",
    ["jean.dupont@example.fr", "a+b@mairie-issy.fr", "Marie.Curie@Sub.Example.COM", "x @ y.org"],
)
def test_email_addresses_are_removed(email):
    result = scrub(f"Écrivez-moi à {email} merci")
    assert result.text == f"Écrivez-moi à {EMAIL_MARK} merci"
    assert result.redacted


@pytest.mark.parametrize(
    "phone",
    [
        "06 12 34 56 78",
        "0612345678",
        "06.12.34.56.78",
        "01-45-67-89-10",
        "+33 6 12 34 56 78",
        "+33612345678",
        "0033 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "+44 20 7946 0958",
    ],
)
def test_phone_numbers_are_removed(phone):
    result = scrub(f"Rappelez-moi au {phone}, merci.")
    assert result.text == f"Rappelez-moi au {PHONE_MARK}, merci."
    assert result.redacted


@pytest.mark.parametrize(
    "text",
    [
        "Attente de 45 minutes le 12/03/2025 à 10h30.",
        "Ticket 123, guichet 4, 2 agents pour 30 personnes.",
        "Très bon accueil, merci !",
        "Code postal 92130, bâtiment B.",
        "<script>alert(1)</script>",
    ],
)
def test_ordinary_text_is_kept_as_is(text):
    result = scrub(text)
    assert result.text == text
    assert not result.redacted


def test_several_items_in_one_comment():
    result = scrub("06 12 34 56 78 ou 07 98 76 54 32, sinon a@b.fr")
    assert result.text == f"{PHONE_MARK} ou {PHONE_MARK}, sinon {EMAIL_MARK}"


@given(st.text(alphabet=st.characters(blacklist_characters="@0123456789+"), max_size=200))
def test_text_without_digits_or_at_signs_is_untouched(text):
    assert scrub(text).text == text


@given(st.from_regex(r"0[1-9]( ?[0-9]{2}){4}", fullmatch=True), st.text(max_size=20))
def test_any_french_number_disappears(phone, words):
    prefix = f"{words} " if words else ""
    result = scrub(f"{prefix}{phone} merci")
    assert phone not in result.text
    assert result.redacted


def test_scrubbing_is_idempotent():
    once = scrub("mail a@b.fr tel 0612345678").text
    assert scrub(once).text == once


def test_the_logged_payload_scrubs_the_free_texts_and_nothing_else():
    payload = {
        "comment": "a@b.fr",
        "answers": {"why": "appelez le 0612345678", "code": "0612345678", "ok": "merci"},
        "n": 1,
    }
    texts = [
        FreeText(None, scrub("a@b.fr").text, True),
        FreeText("why", scrub("appelez le 0612345678").text, True),
        FreeText("ok", "merci", False),
    ]
    logged = logged_payload(payload, texts)
    assert logged == {
        "comment": EMAIL_MARK,
        # A choice id is checked against the survey, never typed by a visitor: kept as sent.
        "answers": {"why": f"appelez le {PHONE_MARK}", "code": "0612345678", "ok": "merci"},
        "n": 1,
    }
    assert payload["comment"] == "a@b.fr"  # the payload as sent is left alone (its hash)


def test_a_payload_without_contact_details_is_logged_as_sent():
    payload = {"comment": "très bien", "answers": {"overall": "satisfied"}}
    assert logged_payload(payload, [FreeText(None, "très bien", False)]) is payload
