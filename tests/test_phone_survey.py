"""The phone survey page: server-rendered main question, stored like a kiosk answer."""

from __future__ import annotations

from html import unescape

import sqlalchemy as sa

from sync_server.storage import schema
from tests.fixtures.server import SERVICE, SITE
from tests.fixtures.web import log_in, web_client

__all__ = ["web_client"]  # a fixture, used by name below

URL = f"/s/{SITE}/{SERVICE}"


def stored_answers(client) -> list[sa.Row]:
    storage = client.app.state.storage
    with storage.engine.connect() as connection:
        return list(connection.execute(sa.select(schema.answers)))


def test_the_page_shows_the_main_question_without_script_or_cookie(web_client):
    page = web_client.get(URL)
    assert page.status_code == 200
    assert "Êtes-vous satisfait(e) de l'accueil aujourd'hui ?" in unescape(page.text)
    assert page.text.count('type="radio"') == 5
    for word in ("Pas du tout satisfait", "Peu satisfait", "Très satisfait", "Sans avis"):
        assert word in page.text
    assert "<script" not in page.text.lower()
    assert "set-cookie" not in page.headers
    assert "IRIS" in page.text


def test_the_page_switches_to_english(web_client):
    page = web_client.get(f"{URL}?lang=en")
    assert '<html lang="en">' in page.text
    assert "Are you satisfied with the service you received today?" in page.text
    assert "Very dissatisfied" in page.text
    assert 'href="?lang=fr"' in page.text


def test_the_browser_language_is_followed(web_client):
    page = web_client.get(URL, headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
    assert "Very satisfied" in page.text


def test_an_answer_is_stored_once_with_channel_phone_and_counts_in_the_indicators(web_client):
    response = web_client.post(URL, data={"choice": "very_satisfied", "lang": "en"})
    assert response.status_code == 303
    thanks = web_client.get(response.headers["location"])
    assert thanks.status_code == 200
    assert "Thank you for your feedback!" in thanks.text
    assert "set-cookie" not in response.headers

    [answer] = stored_answers(web_client)
    assert (answer.channel, answer.site, answer.service) == ("phone", SITE, SERVICE)
    assert (answer.main_choice, answer.language, answer.device_id) == ("very_satisfied", "en", None)

    log_in(web_client)
    indicators = web_client.get("/api/v1/indicators").json()
    [row] = [
        r
        for r in indicators["rows"]
        if (r["site"], r["service"]) == (SITE, SERVICE) and r["period"] == indicators["to"]
    ]
    assert row["figures"]["answers"]["n"] == 1


def test_an_unknown_service_is_a_clear_404(web_client):
    page = web_client.get(f"/s/{SITE}/piscine")
    assert page.status_code == 404
    assert "Ce questionnaire n'existe pas" in unescape(page.text)
    posted = web_client.post(f"/s/{SITE}/piscine", data={"choice": "satisfied"})
    assert posted.status_code == 404
    assert stored_answers(web_client) == []


def test_an_invalid_choice_is_refused_clearly_and_stores_nothing(web_client):
    response = web_client.post(URL, data={"choice": "ecstatic", "lang": "fr"})
    assert response.status_code == 400
    assert "Merci de choisir une réponse avant d'envoyer." in unescape(response.text)
    assert 'type="radio"' in response.text  # the question is offered again
    assert stored_answers(web_client) == []


def test_a_missing_choice_is_refused_and_stores_nothing(web_client):
    response = web_client.post(URL, data={"lang": "fr"})
    assert response.status_code == 400
    assert stored_answers(web_client) == []


def test_an_oversized_form_is_refused_and_stores_nothing(web_client):
    response = web_client.post(URL, data={"choice": "satisfied", "padding": "x" * 10_000})
    assert response.status_code == 413
    assert "trop volumineux" in response.text
    assert stored_answers(web_client) == []
