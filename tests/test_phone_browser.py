"""The phone survey in Debian's headless Chromium with a phone viewport, against the live server.

A visitor answers with JavaScript off (the pages need none), follows the branching, switches to
Arabic (right to left), answers with the keyboard only, and a reused per-visit link is refused.
axe-core (npm, `tests/js/`) is injected into every kind of page, in French and in Arabic, and
must find no violation; the pages also reflow at 320 px and at 200 % text size. Screenshots go to
docs/screens/phone-*.png.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect

from qualivilles.visit_link import make_token
from tests.fixtures.browser import SCREENS
from tests.fixtures.server import SERVICE, SITE, enrol_code
from tests.tools.page_checks import axe_violations, no_horizontal_scroll
from tests.tools.server_reads import stored_rows

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SURVEY = f"/s/{SITE}/{SERVICE}"
VISIT = "0192f3a4-5b6c-7d8e-9f00-112233445566"


def phone(browser: Browser, *, javascript: bool = False, locale: str = "fr-FR",
          viewport: dict[str, int] | None = None) -> BrowserContext:  # fmt: skip
    # bypass_csp lets the test inject axe-core despite the pages' strict Content-Security-Policy.
    return browser.new_context(
        viewport=viewport or PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
        locale=locale, java_script_enabled=javascript, bypass_csp=javascript,
    )  # fmt: skip


def screenshot(page: Page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"phone-{name}.png"), full_page=True)


def stored(server) -> list[dict]:
    logged = stored_rows(server.storage, "records", "payload", order_by="seq")
    return [json.loads(payload) for (payload,) in logged]


def small_targets(page: Page) -> list[str]:
    """Visible controls smaller than 44 px high (WCAG 2.5.5's target size)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('a, button, label.choice, textarea')]
            .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
            .map(e => e.outerHTML.slice(0, 80))"""
    )


def answer_next(page: Page, label: str | None = None, button: str = "Suivant") -> None:
    if label is not None:
        page.get_by_text(label, exact=True).click()
    with page.expect_navigation():  # the same labels stand on consecutive pages
        page.get_by_role("button", name=button).click()


# -- the visitor's paths ------------------------------------------------------------------------


def test_a_full_answer_with_branching_and_javascript_off(browser, live_server):
    context = phone(browser)
    page = context.new_page()
    page.goto(f"{live_server.url}{SURVEY}")
    expect(page.get_by_role("radio")).to_have_count(5)
    expect(page.get_by_text("Question 1 sur 7")).to_be_visible()
    screenshot(page, "survey")
    page.get_by_text("Peu satisfait", exact=True).click()
    expect(page.get_by_role("radio", name="Peu satisfait")).to_be_checked()
    with page.expect_navigation():
        page.get_by_role("button", name="Continuer").click()

    # Branching: an unhappy answer asks why, with several reasons possible.
    expect(page.get_by_role("group", name="Qu'est-ce qui n'a pas été ?")).to_be_visible()
    expect(page.get_by_text("Question 2 sur 8")).to_be_visible()
    page.get_by_text("L'attente", exact=True).click()
    page.get_by_text("Les horaires", exact=True).click()
    expect(page.get_by_role("checkbox", name="L'attente")).to_be_checked()
    screenshot(page, "branching")
    answer_next(page)

    answer_next(page, "Satisfait")  # welcome
    with page.expect_navigation():
        page.get_by_role("button", name="Passer cette question").click()  # waiting
    answer_next(page, "Très satisfait")  # clarity
    answer_next(page, "Sans avis")  # premises
    expect(page.get_by_role("group", name="Combien de temps avez-vous attendu ?")).to_be_visible()
    screenshot(page, "wait-band")
    answer_next(page, "15 à 30 minutes")
    comment = page.get_by_label("Un commentaire ou une suggestion ?", exact=False)
    comment.fill("Trop d'attente le lundi. Mon numéro : 06 12 34 56 78")
    screenshot(page, "comment")
    page.get_by_role("button", name="Envoyer mes réponses").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Merci pour votre avis !")
    screenshot(page, "thanks")
    [payload] = stored(live_server)
    assert payload["answers"] == {
        "overall": "dissatisfied", "why_unhappy": ["waiting", "opening_hours"],
        "welcome": "satisfied", "clarity": "very_satisfied", "premises": "no_opinion",
        "wait_band": "15to30",
    }  # fmt: skip
    assert payload["channel"] == "phone"
    assert "06 12" not in payload["comment"]
    assert context.cookies() == []  # not one cookie on the way
    context.close()


def test_the_language_switch_reaches_arabic_right_to_left(browser, live_server):
    context = phone(browser)
    page = context.new_page()
    page.goto(f"{live_server.url}{SURVEY}")
    page.get_by_role("link", name="English").click()
    expect(
        page.get_by_role("group", name="Are you satisfied with the service you received today?")
    ).to_be_visible()
    page.get_by_role("link", name="Español").click()
    expect(page.get_by_text("Pregunta 1 de 7")).to_be_visible()
    page.get_by_role("link", name="العربية").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    # Right to left for real: the smiley sits to the right of its word.
    face = page.locator("label.choice").first.locator("svg").bounding_box()
    word = page.locator("label.choice").first.get_by_text("غير راض إطلاقا").bounding_box()
    assert face is not None
    assert word is not None
    assert face["x"] > word["x"]
    screenshot(page, "arabic")
    page.get_by_text("راض جدا", exact=True).click()
    with page.expect_navigation():
        page.get_by_role("button", name="متابعة").click()
    expect(page.get_by_text("السؤال 2 من 7")).to_be_visible()
    page.get_by_role("button", name="إنهاء وإرسال الآن").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    screenshot(page, "arabic-thanks")
    [payload] = stored(live_server)
    assert (payload["language"], payload["answers"]) == ("ar", {"overall": "very_satisfied"})
    context.close()


def test_the_browser_language_is_the_first_choice(browser, live_server):
    context = phone(browser, locale="es-ES")
    page = context.new_page()
    page.goto(f"{live_server.url}{SURVEY}")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("button", name="Continuar")).to_be_visible()
    context.close()


def test_a_visitor_answers_with_the_keyboard_only(browser, live_server):
    context = phone(browser, javascript=True)
    page = context.new_page()
    page.goto(f"{live_server.url}{SURVEY}")
    # Focus order follows the page: the languages, then the answers, then the button.
    order = []
    for _ in range(6):
        page.keyboard.press("Tab")
        order.append(page.evaluate(
            "() => document.activeElement.getAttribute('hreflang') || document.activeElement.type"
        ))  # fmt: skip
    assert order[:4] == ["fr", "en", "es", "ar"]
    assert order[4] == "radio"
    assert order[5] == "submit"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("ArrowDown")  # the second choice
    page.keyboard.press("ArrowDown")  # the third: satisfied
    expect(page.get_by_role("radio", name="Satisfait", exact=True)).to_be_checked()
    focused_outline = page.evaluate(
        "() => getComputedStyle(document.activeElement.nextElementSibling).outlineStyle"
    )
    assert focused_outline == "solid"  # the focus is visible on the card, not the hidden input
    page.keyboard.press("Enter")
    expect(page.get_by_text("Question 2 sur 7")).to_be_visible()
    context.close()


def test_a_reused_per_visit_link_is_refused_and_the_general_survey_offered(browser, live_server):
    code = enrol_code(live_server.storage, SITE, SERVICE, mode="tablet")
    enrolled = requests.post(f"{live_server.url}/api/v1/enrol", json={"code": code}, timeout=10)
    secret, device = enrolled.json()["visit_link_secret"], enrolled.json()["device_id"]
    link = f"{live_server.url}/v/{make_token(secret, VISIT, device, datetime.now(UTC))}"

    context = phone(browser)
    page = context.new_page()
    page.goto(link)
    page.get_by_text("Très satisfait", exact=True).click()
    with page.expect_navigation():
        page.get_by_role("button", name="Continuer").click()
    page.get_by_role("button", name="Terminer et envoyer maintenant").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merci pour votre avis !")
    [payload] = stored(live_server)
    assert payload["visit_id"] == VISIT

    response = page.goto(link)
    assert response is not None
    assert response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("Ce lien a déjà été utilisé")
    screenshot(page, "link-used")
    page.get_by_role("link", name="Répondre au questionnaire").click()
    expect(page).to_have_url(f"{live_server.url}{SURVEY}?lang=fr")
    expect(page.get_by_role("radio")).to_have_count(5)
    assert len(stored(live_server)) == 1
    context.close()


# -- accessibility ----------------------------------------------------------------------------


def _submit(page: Page, selector: str) -> None:
    """Click a submit button and wait for the next page (POST, redirect, GET) to be loaded,
    so the next look at the page never sees a document still being replaced."""
    with page.expect_navigation():
        page.locator(selector).click()


def _pages(server, page: Page, language: str) -> Iterator[str]:
    """Walk the visitor's pages in `language`, yielding a name at each one."""
    page.goto(f"{server.url}{SURVEY}?lang={language}")
    yield "question"
    page.locator("label.choice").nth(1).click()  # dissatisfied
    _submit(page, "button.primary")
    yield "branching"
    page.locator("label.choice").first.click()
    _submit(page, "button.primary")
    yield "smiley follow-up"
    for _ in range(4):  # to the comment
        _submit(page, "button.secondary")
    yield "wait band"
    _submit(page, "button.secondary")
    page.locator("textarea").fill("Merci")
    yield "comment"
    _submit(page, "button.primary")
    yield "thanks"
    page.goto(f"{server.url}/s/{SITE}/piscine?lang={language}")
    yield "not found"
    page.goto(f"{server.url}/v/not-a-token?lang={language}")
    yield "link error"
    page.goto(f"{server.url}{SURVEY}?lang={language}&v=1")
    yield "retired survey"


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_axe_finds_no_violation_on_any_phone_page(browser, live_server, language):
    context = phone(browser, javascript=True)
    page = context.new_page()
    found = {name: axe_violations(page) for name in _pages(live_server, page, language)}
    assert {name: v for name, v in found.items() if v} == {}
    assert len(found) == 9
    context.close()


def test_axe_finds_no_violation_on_the_rate_limit_page(browser, live_server):
    context = phone(browser, javascript=True)
    page = context.new_page()
    page.goto(f"{live_server.url}{SURVEY}")
    form = {"q": "overall", "answer": "satisfied", "lang": "fr"}
    statuses = [
        page.request.post(f"{live_server.url}{SURVEY}", form=form, max_redirects=0).status
        for _ in range(61)
    ]
    assert statuses[-1] == 429
    assert statuses[0] == 303
    refused = page.request.post(f"{live_server.url}{SURVEY}", form=form, max_redirects=0)
    page.set_content(refused.text())  # shown at the survey's address, as the browser would
    page.wait_for_load_state()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merci de patienter un peu")
    assert axe_violations(page) == []
    context.close()


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_pages_reflow_at_320_px_and_200_percent_text(browser, live_server, language):
    context = phone(browser, javascript=True, viewport={"width": 320, "height": 640})
    page = context.new_page()
    for name in _pages(live_server, page, language):
        assert no_horizontal_scroll(page), f"{name}: scrolls sideways at 320 px"
        assert small_targets(page) == [], name
        page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
        assert no_horizontal_scroll(page), f"{name}: scrolls sideways at 200 % text"
        if name == "branching" and language == "fr":
            screenshot(page, "text-200")
        page.evaluate("() => { document.documentElement.style.fontSize = ''; }")
    context.close()


def test_the_accessibility_check_can_fail(browser, live_server):
    """axe really runs: an unlabelled field and low-contrast text added to the page are caught."""
    context = phone(browser, javascript=True)
    page = context.new_page()
    page.goto(f"{live_server.url}{SURVEY}")
    page.evaluate(
        """() => {
            document.querySelector('form').insertAdjacentHTML('beforeend',
                '<input type="text" name="x"><p style="color:#bbb;background:#fff">pâle</p>');
        }"""
    )
    found = " ".join(axe_violations(page))
    assert "label" in found
    assert "color-contrast" in found
    context.close()
