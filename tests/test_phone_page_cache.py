"""What the phone survey keeps between requests, on the real app: each desk with the current
survey for a moment (a change made elsewhere shows within `MAX_AGE_SECONDS`, a new desk at once),
and each question's page rendered once, every visitor's own state put in."""

from __future__ import annotations

import copy
import re
from html import unescape
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qualivilles.bundled import load_default_survey
from sync_server.phone import page_cache
from sync_server.phone.desk_cache import MAX_AGE_SECONDS, DeskCache
from sync_server.storage import surveys, town
from sync_server.web.templating import environment
from tests.fixtures.server import SERVICE, SITE, TOWN
from tests.fixtures.web import web_client

__all__ = ["web_client"]  # a fixture, used by name below

URL = f"/s/{SITE}/{SERVICE}"


class Ticks:
    """Monotonic seconds, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks(web_client) -> Ticks:
    """The app's phone pages keep what they read by this clock."""
    clock = Ticks()
    state = web_client.app.state
    state.phone_desks = DeskCache(state.storage, clock=clock)
    return clock


def desk_label(html: str) -> str:
    return unescape(re.search(r'<p class="desk">([^<]*)</p>', html).group(1))


def title(html: str) -> str:
    return unescape(re.search(r"<h1>([^<]*)</h1>", html).group(1))


def load_town(client, changed: dict) -> None:
    with client.app.state.storage.write() as connection:
        town.load_town(connection, changed)


def test_a_service_renamed_elsewhere_shows_once_the_moment_has_passed(web_client, ticks):
    assert desk_label(web_client.get(URL).text).startswith("IRIS – guichet unique")
    renamed = copy.deepcopy(TOWN)
    for service in renamed["services"]:
        if service["slug"] == SERVICE:
            service["name"] = "IRIS – accueil des familles"
    load_town(web_client, renamed)  # as the command line does, from another process
    ticks.now += MAX_AGE_SECONDS
    assert desk_label(web_client.get(URL).text).startswith("IRIS – accueil des familles")
    thanks = web_client.get(f"{URL}/merci")
    assert "IRIS – accueil des familles" in unescape(thanks.text)


def test_a_survey_made_current_elsewhere_is_asked_once_the_moment_has_passed(web_client, ticks):
    bundled = load_default_survey()
    assert title(web_client.get(URL).text) == bundled.title["fr"]
    town_survey = bundled.model_copy(
        update={"id": "accueil-ville", "version": 1, "title": {"fr": "Votre avis, version ville"}}
    )
    with web_client.app.state.storage.write() as connection:
        surveys.publish_and_use(connection, town_survey)
    ticks.now += MAX_AGE_SECONDS
    assert title(web_client.get(URL).text) == "Votre avis, version ville"
    # The main answer starts on it too.
    answered = web_client.post(URL, data={"q": bundled.main_question, "answer": "satisfied"})
    assert answered.status_code == 303
    assert title(web_client.get(answered.headers["location"]).text) == "Votre avis, version ville"


def test_a_new_desk_works_at_once(web_client, ticks):
    new_desk = "/s/centre-administratif/etat-civil-annexe"
    assert web_client.get(new_desk).status_code == 404
    bigger = copy.deepcopy(TOWN)
    bigger["services"].append({"slug": "etat-civil-annexe", "name": "État civil (annexe)"})
    bigger["desks"].append({"site": SITE, "service": "etat-civil-annexe"})
    load_town(web_client, bigger)
    page = web_client.get(new_desk)  # the clock has not moved: a missing desk is not kept
    assert page.status_code == 200
    assert desk_label(page.text).startswith("État civil (annexe)")


def test_two_visitors_on_one_question_each_carry_their_own_state(web_client):
    main = load_default_survey().main_question
    locations = [
        web_client.post(URL, data={"q": main, "answer": "dissatisfied"}).headers["location"]
        for _ in range(2)
    ]
    states = [unquote(location.split("st=", 1)[1].split("&", 1)[0]) for location in locations]
    assert states[0] != states[1]  # each main answer has its own record id
    pages = [web_client.get(location).text for location in locations]
    for page, own, other in zip(pages, states, states[::-1], strict=True):
        assert f'name="st" value="{own}"' in page
        assert other not in page
        assert set(re.findall(r"st=([^&\"]+)", page)) == {own}  # every language link
    assert pages[0].replace(states[0], "") == pages[1].replace(states[1], "")


def survey_page_context(state: str | None, language: str) -> dict:
    """A follow-up question's page as `phone.pages.question_page` makes it (plain values)."""
    links = [
        {"code": code, "name": code, "href": f"/s/a/b?st={state}&lang={code}", "current": False}
        for code in ("fr", "en", "ar")
    ]
    return {
        "title": "Votre avis",
        "desk_label": "IRIS · Centre",
        "language_links": links,
        "question": {
            "id": "why",
            "type": "single_choice",
            "text": "Pourquoi ?",
            "choices": [{"id": "wait", "label": "L'attente", "face": None}],
            "main": False,
            "max_length": None,
        },
        "step": 2,
        "steps": 8,
        "last": False,
        "state": state,
        "action": "/s/a/b",
        "error": None,
        "notice": None,
    }


@given(
    state=st.from_regex(r"[A-Za-z0-9_.\-]{1,300}", fullmatch=True),
    language=st.sampled_from(["fr", "en", "ar"]),
)
def test_a_cached_page_with_the_state_put_in_is_the_page_rendered_with_it(state, language):
    cached = page_cache.render(
        "phone_survey.html", survey_page_context(page_cache.STATE, language), language, state
    )
    template = environment(language).get_template("phone_survey.html")
    assert cached == template.render(**survey_page_context(state, language))


@pytest.mark.parametrize("state", ["a b", "a<b", "a%2Fb", 'a"b', "é"])
def test_a_state_that_encoding_would_change_is_never_put_in(state):
    assert not page_cache.takes_state(state)
    with pytest.raises(ValueError, match="encoding would change"):
        page_cache.render("phone_survey.html", survey_page_context(None, "fr"), "fr", state)
