"""The phone survey in-process: the whole survey page by page with the kiosk's flow rules, stored
like a kiosk answer; per-visit links; abuse limits; clear errors; no cookie, no IP kept."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from qualivilles.bundled import load_default_survey
from qualivilles.visit_link import make_token
from sync_server.phone.guard import Limits, PhoneGuard
from sync_server.storage import devices, schema, surveys, visit_links
from tests.fixtures.server import SERVICE, SITE, enrol_code
from tests.fixtures.web import log_in, web_client

__all__ = ["web_client"]  # a fixture, used by name below

URL = f"/s/{SITE}/{SERVICE}"
VISIT = "0192f3a4-5b6c-7d8e-9f00-112233445566"


class Clock:
    """The phone guard's clock, moved by hand; it starts at the beginning of a UTC day."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)

    def __call__(self) -> datetime:
        return self.moment


def stored_payloads(client) -> list[dict]:
    storage = client.app.state.storage
    with storage.engine.connect() as connection:
        rows = connection.execute(sa.select(schema.records.c.payload))
        return [json.loads(row.payload) for row in rows]


def stored_answers(client) -> list[sa.Row]:
    storage = client.app.state.storage
    with storage.engine.connect() as connection:
        return list(connection.execute(sa.select(schema.answers)))


def form_of(html: str) -> dict[str, str]:
    """The hidden fields of the page's form (state, question, language)."""
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))


def current_question(html: str) -> str:
    return form_of(html)["q"]


def post(client, page_html: str, path: str = URL, action: str = "next", answer=None, **extra):
    data = {**form_of(page_html), "action": action, **extra}
    if answer is not None:
        data["answer"] = answer
    return client.post(path, data=data)


def follow(client, response) -> str:
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    assert page.status_code == 200, page.text
    return page.text


def answer_all(client, main: str, path: str = URL, language: str = "fr", **answers) -> str:
    """Answer the main question, then each follow-up from `answers` (skip the others)."""
    page = client.get(f"{path}?lang={language}").text
    response = post(client, page, path, answer=main)
    while "/merci" not in response.headers.get("location", ""):
        page = follow(client, response)
        question = current_question(page)
        value = answers.get(question)
        response = post(client, page, path, action="skip" if value is None else "next",
                        answer=value)  # fmt: skip
    return follow(client, response)


# -- the pages --------------------------------------------------------------------------------


def test_the_first_page_is_the_main_question_without_script_or_cookie(web_client):
    page = web_client.get(URL)
    assert page.status_code == 200
    html = unescape(page.text)
    assert "Êtes-vous satisfait(e) de l'accueil aujourd'hui ?" in html
    assert page.text.count('type="radio"') == 5
    for word in ("Pas du tout satisfait", "Peu satisfait", "Très satisfait", "Sans avis"):
        assert word in page.text
    assert "<script" not in page.text.lower()
    assert "set-cookie" not in page.headers
    assert "IRIS" in page.text
    assert "Question 1 sur 7" in page.text
    # Nothing loaded from elsewhere, and the browser is told so.
    assert re.findall(r'(?:src|href)="(https?:)?//', page.text) == []
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_page_weight_stays_under_50_kb(web_client):
    css = web_client.get("/static/phone.css")
    assert css.status_code == 200
    for path in (URL, f"{URL}?lang=ar"):
        page = web_client.get(path)
        assert len(page.content) + len(css.content) < 50_000
    assert len(css.content) < 10_000


@pytest.mark.parametrize(
    ("header", "language", "text"),
    [
        ("en-GB,en;q=0.9,fr;q=0.5", "en", "Are you satisfied with the service you received today?"),
        ("es-ES,es;q=0.9", "es", "¿Está satisfecho/a con la atención recibida hoy?"),
        ("ar", "ar", "هل أنتم راضون عن الاستقبال اليوم؟"),
        ("de-DE", "fr", "Êtes-vous satisfait(e) de l'accueil aujourd'hui ?"),
    ],
)
def test_the_browser_language_is_followed(web_client, header, language, text):
    page = web_client.get(URL, headers={"Accept-Language": header})
    assert f'<html lang="{language}"' in page.text
    assert text in unescape(page.text)


def test_arabic_is_right_to_left_and_every_language_can_be_chosen(web_client):
    page = web_client.get(f"{URL}?lang=ar").text
    assert '<html lang="ar" dir="rtl">' in page
    assert "السؤال 1 من 7" in page
    for code, name in (("fr", "Français"), ("en", "English"), ("es", "Español")):
        assert f'href="{URL}?lang={code}" hreflang="{code}" lang="{code}">{name}</a>' in page
    assert '<html lang="fr" dir="ltr">' in web_client.get(f"{URL}?lang=fr").text


def test_a_full_answer_follows_the_survey_and_is_stored_once_like_a_kiosk_answer(web_client):
    thanks = answer_all(
        web_client, "very_satisfied", language="en",
        welcome="satisfied", waiting="dissatisfied", clarity="very_satisfied",
        premises="no_opinion", wait_band="5to15", comment="Very kind staff.",
    )  # fmt: skip
    assert "Thank you for your feedback!" in thanks
    [payload] = stored_payloads(web_client)
    assert payload["channel"] == "phone"
    current = load_default_survey()  # every question, the kiosk's short survey and the rest
    assert (payload["survey_id"], payload["survey_version"]) == (current.id, current.version)
    assert payload["language"] == "en"
    assert payload["status"] == "complete"
    assert payload["suspect"] is False
    assert payload["answers"] == {
        "overall": "very_satisfied", "welcome": "satisfied", "waiting": "dissatisfied",
        "clarity": "very_satisfied", "premises": "no_opinion", "wait_band": "5to15",
    }  # fmt: skip
    assert payload["comment"] == "Very kind staff."
    assert "visit_id" not in payload
    [answer] = stored_answers(web_client)
    assert (answer.channel, answer.site, answer.service, answer.device_id) == (
        "phone", SITE, SERVICE, None,
    )  # fmt: skip

    log_in(web_client)
    indicators = web_client.get("/api/v1/indicators").json()
    [row] = [
        r
        for r in indicators["rows"]
        if (r["site"], r["service"]) == (SITE, SERVICE) and r["period"] == indicators["to"]
    ]
    assert row["figures"]["answers"]["n"] == 1


def test_an_unhappy_answer_asks_why_and_a_happy_one_does_not(web_client):
    page = web_client.get(URL).text
    unhappy = follow(web_client, post(web_client, page, answer="dissatisfied"))
    assert current_question(unhappy) == "why_unhappy"
    assert "Question 2 sur 8" in unhappy
    assert unhappy.count('type="checkbox"') == 6
    assert "Plusieurs réponses possibles." in unhappy
    # Several reasons at once, then finish straight away.
    welcome = follow(web_client, post(web_client, unhappy, answer=["waiting", "answer"]))
    assert current_question(welcome) == "welcome"
    assert "Question 3 sur 8" in welcome
    follow(web_client, post(web_client, welcome, action="finish"))
    [payload] = stored_payloads(web_client)
    # In definition order, whatever the order they were ticked in.
    assert payload["answers"] == {"overall": "dissatisfied", "why_unhappy": ["waiting", "answer"]}

    happy = follow(web_client, post(web_client, page, answer="satisfied"))
    assert current_question(happy) == "welcome"
    assert "Question 2 sur 7" in happy


def test_follow_ups_can_be_skipped_but_the_main_question_cannot(web_client):
    page = web_client.get(URL).text
    refused = post(web_client, page)  # nothing chosen
    assert refused.status_code == 400
    assert "Merci de choisir une réponse avant de continuer." in unescape(refused.text)
    assert 'role="alert"' in refused.text
    skipped = post(web_client, page, action="skip")
    assert skipped.status_code == 400
    assert stored_payloads(web_client) == []

    thanks = answer_all(web_client, "satisfied")  # every follow-up skipped
    assert "Merci pour votre avis !" in thanks
    [payload] = stored_payloads(web_client)
    assert payload["answers"] == {"overall": "satisfied"}
    assert "comment" not in payload


def test_the_comment_is_scrubbed_of_contact_details_before_storage(web_client):
    comment = "Rappelez-moi au 06 12 34 56 78 ou jean.dupont@example.org, merci"
    answer_all(web_client, "dissatisfied", comment=comment)
    [payload] = stored_payloads(web_client)
    assert "06 12 34 56 78" not in json.dumps(payload)
    assert "jean.dupont" not in json.dumps(payload)
    storage = web_client.app.state.storage
    with storage.engine.connect() as connection:
        [row] = connection.execute(sa.select(schema.comments)).all()
    assert "[téléphone retiré]" in row.text
    assert "[e-mail retiré]" in row.text
    assert row.flagged


def test_the_last_page_is_a_labelled_textarea_and_its_button_sends(web_client):
    page = web_client.get(URL).text
    response = post(web_client, page, answer="satisfied")
    while True:
        page = follow(web_client, response)
        if current_question(page) == "comment":
            break
        response = post(web_client, page, action="skip")
    assert '<label class="question-label" for="answer">' in page
    assert '<textarea id="answer" name="answer" maxlength="500"' in page
    assert "Envoyer mes réponses" in page
    assert "Terminer et envoyer maintenant" not in page  # nothing left to finish early


def test_a_resent_last_page_stores_nothing_twice(web_client):
    page = web_client.get(URL).text
    response = post(web_client, page, answer="satisfied")
    page = follow(web_client, response)
    first = post(web_client, page, action="finish")
    again = post(web_client, page, action="finish")
    assert first.status_code == again.status_code == 303
    assert len(stored_payloads(web_client)) == 1


def test_the_language_can_change_in_the_middle_and_answers_are_kept(web_client):
    page = web_client.get(URL).text
    response = post(web_client, page, answer="dissatisfied")
    location = response.headers["location"]
    arabic = web_client.get(location.replace("lang=fr", "lang=ar")).text
    assert '<html lang="ar" dir="rtl">' in arabic
    assert current_question(arabic) == "why_unhappy"
    assert "لماذا" in arabic or "why_unhappy" in arabic
    follow(web_client, post(web_client, arabic, action="finish"))
    [payload] = stored_payloads(web_client)
    assert payload["language"] == "ar"
    assert payload["answers"] == {"overall": "dissatisfied"}


def test_a_tampered_or_foreign_state_is_refused_and_stores_nothing(web_client):
    page = web_client.get(URL).text
    page = follow(web_client, post(web_client, page, answer="satisfied"))
    fields = form_of(page)
    tampered = {**fields, "st": fields["st"][:-3] + "AAA", "action": "finish"}
    assert web_client.post(URL, data=tampered).status_code == 400
    # A state made for one desk cannot be posted to another.
    other = web_client.post(f"/s/{SITE}/etat-civil", data={**fields, "action": "finish"})
    assert other.status_code in (400, 404)
    # An answer posted for a question that is not the current one.
    wrong_step = {**fields, "q": "premises", "answer": "satisfied"}
    assert web_client.post(URL, data=wrong_step).status_code == 400
    assert stored_payloads(web_client) == []


def test_an_invalid_choice_is_refused_clearly_and_stores_nothing(web_client):
    response = web_client.post(URL, data={"q": "overall", "answer": "ecstatic", "lang": "fr"})
    assert response.status_code == 400
    assert "Cette réponse n'est pas valide" in unescape(response.text)
    assert 'type="radio"' in response.text  # the question is offered again
    assert stored_payloads(web_client) == []


def test_an_oversized_form_is_refused_and_stores_nothing(web_client):
    response = web_client.post(URL, data={"q": "overall", "answer": "satisfied",
                                          "padding": "x" * 20_000})  # fmt: skip
    assert response.status_code == 413
    assert "trop volumineux" in response.text
    assert stored_payloads(web_client) == []


def test_an_unknown_service_is_a_clear_404(web_client):
    page = web_client.get(f"/s/{SITE}/piscine")
    assert page.status_code == 404
    assert "Ce questionnaire n'existe pas" in unescape(page.text)
    posted = web_client.post(f"/s/{SITE}/piscine", data={"q": "overall", "answer": "satisfied"})
    assert posted.status_code == 404
    assert web_client.get(f"/s/{SITE}/piscine/merci").status_code == 404
    assert stored_payloads(web_client) == []


def test_a_code_printed_for_a_retired_survey_offers_the_current_one(web_client):
    page = web_client.get(f"{URL}?v=1")
    assert page.status_code == 200
    assert "Le questionnaire a changé depuis l'impression de ce code" in unescape(page.text)
    assert 'type="radio"' in page.text
    current = web_client.get(f"{URL}?v={load_default_survey().version}")
    assert "a changé" not in unescape(current.text)


def test_a_state_naming_an_unpublished_survey_restarts_on_the_current_one(web_client):
    from qualivilles import flow
    from sync_server.phone.answers import Progress, pack

    storage = web_client.app.state.storage
    with storage.read() as connection:
        survey = surveys.current(connection)
    gone = survey.model_copy(update={"version": 99})
    state = flow.answer(flow.start(gone, "fr"), "overall", "satisfied")
    token = pack(web_client.app.state.settings.secret_key, f"desk:{SITE}/{SERVICE}",
                 Progress(state, "0192f3a4-5b6c-7d8e-9f00-000000000001", False))  # fmt: skip
    page = web_client.get(URL, params={"st": token})
    assert "Le questionnaire a changé" in unescape(page.text)
    assert current_question(page.text) == "overall"


# -- abuse and privacy --------------------------------------------------------------------------


def test_bursts_from_one_client_are_kept_but_flagged_suspect(web_client):
    clock = Clock()
    storage = web_client.app.state.storage
    web_client.app.state.phone_guard = PhoneGuard(storage, Limits(suspect_interval=30), clock)
    answer_all(web_client, "satisfied")
    clock.advance(5)
    answer_all(web_client, "satisfied")
    clock.advance(31)
    answer_all(web_client, "satisfied")
    assert [p["suspect"] for p in stored_payloads(web_client)] == [False, True, False]


def test_too_many_submissions_get_a_clear_429_and_nothing_is_stored(web_client):
    clock = Clock()
    storage = web_client.app.state.storage
    limits = Limits(max_posts=3, post_window=600)
    web_client.app.state.phone_guard = PhoneGuard(storage, limits, clock)
    page = web_client.get(URL).text
    for _ in range(3):
        assert post(web_client, page, answer="satisfied").status_code == 303
    refused = post(web_client, page, answer="satisfied")
    assert refused.status_code == 429
    assert "Merci de patienter un peu" in refused.text
    assert int(refused.headers["retry-after"]) == 600
    assert "10 minutes" in refused.text
    clock.advance(600)
    assert post(web_client, page, answer="satisfied").status_code == 303


def test_the_guard_keeps_no_address_and_forgets_everything_when_its_salt_rotates(server_storage):
    clock = Clock()
    guard = PhoneGuard(server_storage, Limits(max_posts=2, rotate_after=3600), clock)
    guard.check_post("203.0.113.7")
    guard.answer_is_suspect("203.0.113.7")
    [key] = guard.remembered_keys()
    assert "203.0.113" not in key
    assert len(key) == 32  # 16 bytes of the HMAC, in hexadecimal
    before = guard.client_key("203.0.113.7")
    assert before == key
    clock.advance(3600)
    assert guard.client_key("203.0.113.7") != before  # a new salt: yesterday's keys lead nowhere
    assert guard.remembered_keys() == set()
    guard.check_post("203.0.113.7")
    guard.check_post("203.0.113.7")  # a fresh allowance after rotation


def test_what_no_longer_counts_is_deleted(server_storage):
    clock = Clock()
    guard = PhoneGuard(server_storage, Limits(post_window=600, suspect_interval=30), clock)
    for n in range(10):
        guard.check_post(f"198.51.100.{n}")
        guard.answer_is_suspect(f"198.51.100.{n}")
    assert len(guard.remembered_keys()) == 10
    clock.advance(601)
    guard.check_post("198.51.100.99")
    assert guard.remembered_keys() == {guard.client_key("198.51.100.99")}


def test_no_ip_address_is_stored_anywhere(web_client):
    answer_all(web_client, "satisfied", comment="Bien")
    storage = web_client.app.state.storage
    with storage.engine.connect() as connection:
        for table in schema.metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                assert "testclient" not in str(tuple(row))  # TestClient's client host


# -- per-visit links ----------------------------------------------------------------------------


@pytest.fixture
def tablet(web_client):
    storage = web_client.app.state.storage
    code = enrol_code(storage, SITE, SERVICE, mode="tablet")
    enrolled = web_client.post("/api/v1/enrol", json={"code": code}).json()
    return enrolled["visit_link_secret"], enrolled["device_id"]


def test_a_per_visit_link_stores_the_answer_with_its_visit_and_is_single_use(web_client, tablet):
    secret, device = tablet
    path = f"/v/{make_token(secret, VISIT, device, datetime.now(UTC))}"
    first = web_client.get(path)
    assert first.status_code == 200
    assert "IRIS" in first.text
    assert f'action="{path}"' in first.text
    thanks = answer_all(web_client, "very_satisfied", path=path, wait_band="lt5")
    assert "Merci pour votre avis !" in thanks
    [payload] = stored_payloads(web_client)
    assert payload["visit_id"] == VISIT
    assert payload["channel"] == "phone"
    [answer] = stored_answers(web_client)
    assert (answer.site, answer.service) == (SITE, SERVICE)

    again = web_client.get(path)
    assert again.status_code == 410
    assert "Ce lien a déjà été utilisé" in unescape(again.text)
    # The desk's general survey is offered instead.
    assert f'href="{URL}?lang=fr"' in again.text


def test_a_per_visit_link_is_spent_only_when_the_answer_is_stored(web_client, tablet):
    secret, device = tablet
    path = f"/v/{make_token(secret, VISIT, device, datetime.now(UTC))}"
    page = web_client.get(path).text
    follow(web_client, post(web_client, page, path, answer="satisfied"))
    # Mid-way, the link still works (the visitor may reload it).
    assert web_client.get(path).status_code == 200
    with web_client.app.state.storage.read() as connection:
        assert not visit_links.is_used(connection, VISIT)


def test_two_tabs_on_one_link_store_one_answer(web_client, tablet):
    secret, device = tablet
    path = f"/v/{make_token(secret, VISIT, device, datetime.now(UTC))}"
    page = web_client.get(path).text
    tab_a = follow(web_client, post(web_client, page, path, answer="satisfied"))
    tab_b = follow(web_client, post(web_client, page, path, answer="dissatisfied"))
    assert post(web_client, tab_a, path, action="finish").status_code == 303
    second = post(web_client, tab_b, path, action="finish")
    assert second.status_code == 410
    # The same tab sent twice (a double tap) is not an error: its answer is stored.
    resent = post(web_client, tab_a, path, action="finish")
    assert resent.status_code == 303
    assert "/merci" in resent.headers["location"]
    [payload] = stored_payloads(web_client)
    assert payload["answers"]["overall"] == "satisfied"


@pytest.mark.parametrize(
    ("make", "status", "heading", "offers_general"),
    [
        (
            lambda s, d: make_token(s, VISIT, d, datetime.now(UTC) - timedelta(days=8)),
            410,
            "Ce lien a expiré",
            True,
        ),
        (
            lambda s, d: make_token("not-the-secret", VISIT, d, datetime.now(UTC)),
            400,
            "Lien non reconnu",
            False,
        ),
        (
            lambda s, d: make_token(s, VISIT, "no-such-device", datetime.now(UTC)),
            400,
            "Lien non reconnu",
            False,
        ),
        (lambda s, d: "garbage", 400, "Lien non reconnu", False),
    ],
    ids=["expired", "forged", "unknown_device", "malformed"],
)
def test_per_visit_link_errors_are_clear(web_client, tablet, make, status, heading,
                                         offers_general):  # fmt: skip
    secret, device = tablet
    path = f"/v/{make(secret, device)}"
    for response in (web_client.get(path), web_client.post(path, data={"q": "overall"})):
        assert response.status_code == status
        assert heading in unescape(response.text)
        assert (f'href="{URL}?lang=fr"' in response.text) == offers_general
    assert stored_payloads(web_client) == []


def test_a_link_from_a_revoked_tablet_is_refused(web_client, tablet):
    secret, device = tablet
    token = make_token(secret, VISIT, device, datetime.now(UTC))
    with web_client.app.state.storage.write() as connection:
        devices.revoke(connection, device)
    page = web_client.get(f"/v/{token}")
    assert page.status_code == 400
    assert "Ce lien n'est plus valable" in unescape(page.text)
