"""The security headers in Debian's headless Chromium against the live server filled with demo
data: a page cannot frame the signed-in dashboard, even from the same origin, and the pages work
under their Content-Security-Policy — the dashboard as a quality manager and as an administrator,
and the phone survey — with not one violation or console message on the way: the stylesheet
applies, the charts draw in colour, the forms submit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from tests.fixtures.server import PASSWORD, SERVICE, SITE, LiveServer, add_user

pytestmark = pytest.mark.browser

# Each violation the page's policy reports, from every document the context opens.
WATCH_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (event) => window.reportViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || 'inline code'}`
    + ` on ${event.documentURI} (${event.sourceFile}:${event.lineNumber})`));
"""


@dataclass
class Watched:
    """A browser context whose every CSP violation and console message is kept."""

    context: BrowserContext
    page: Page
    url: str
    problems: list[str] = field(default_factory=list)

    def open(self, path: str) -> None:
        response = self.page.goto(f"{self.url}{path}")
        assert response is not None
        assert response.status == 200, path
        self.stylesheet_applies()

    def stylesheet_applies(self) -> None:
        # The stylesheets set the body's margin to 0; a browser's own default is 8 px.
        assert self.page.evaluate("() => getComputedStyle(document.body).marginTop") == "0px"

    def submit(self, button: str) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=button).click()
        self.stylesheet_applies()


@pytest.fixture
def watch(browser: Browser) -> Iterator[Callable[..., Watched]]:
    contexts: list[BrowserContext] = []

    def watched(url: str, **options) -> Watched:
        context = browser.new_context(locale="fr-FR", **options)
        contexts.append(context)
        watched = Watched(context, context.new_page(), url)
        context.expose_function("reportViolation", lambda text: watched.problems.append(text))
        context.add_init_script(WATCH_VIOLATIONS)
        watched.page.on("console", lambda message: note(watched.problems, message))
        return watched

    yield watched
    for context in contexts:
        context.close()


def note(problems: list[str], message: ConsoleMessage) -> None:
    # Browsers ask for /favicon.ico on their own and the server has none to give; "verbose" is
    # Chromium's form advice ([DOM] …), not a failure.
    if message.type == "verbose" or message.location.get("url", "").endswith("/favicon.ico"):
        return
    problems.append(f"console {message.type}: {message.text}")


def signed_in(watch, server: LiveServer, username: str) -> Watched:
    watched = watch(server.url, viewport={"width": 1280, "height": 900})
    watched.open("/login")
    watched.page.get_by_label("Identifiant").fill(username)
    watched.page.get_by_label("Mot de passe").fill(PASSWORD)
    watched.submit("Se connecter")
    return watched


def charts_draw_in_colour(page: Page) -> None:
    charts = page.locator("svg.chart")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 2
    for chart in charts.all():
        assert chart.bounding_box()["height"] > 50
        # Its background is a presentation attribute: without it the rectangle would be black.
        background = chart.locator(":scope > rect").first
        assert background.evaluate("e => getComputedStyle(e).fill") == "rgb(255, 255, 255)"


def test_no_page_frames_the_signed_in_dashboard_not_even_from_the_same_origin(watch, demo_server):
    server, _data = demo_server
    add_user(server.storage, "informatique", "admin")
    admin = signed_in(watch, server, "informatique")
    framing = f"{server.url}/framing"
    admin.page.route(framing, lambda route: route.fulfill(
        content_type="text/html",
        body='<!doctype html><title>Cadre</title><iframe src="/admin/users"></iframe>',
    ))  # fmt: skip
    admin.page.goto(framing)
    admin.page.wait_for_load_state("load")
    # The frame holds Chromium's error page, not the accounts page: nothing to read or click.
    frame = admin.page.frame_locator("iframe")
    expect(frame.get_by_role("heading", name="Comptes des utilisateurs")).to_have_count(0)
    assert admin.page.evaluate("() => document.querySelector('iframe').contentDocument") is None
    assert [f.url for f in admin.page.frames][1].startswith("chrome-error://")
    assert any("frame-ancestors 'none'" in problem for problem in admin.problems)
    # The page itself, opened directly, is the administrator's.
    admin.open("/admin/users")
    expect(admin.page.get_by_role("heading", level=1)).to_have_text("Comptes des utilisateurs")


def test_the_quality_managers_pages_run_without_a_policy_violation(watch, demo_server):
    server, _data = demo_server
    manager = signed_in(watch, server, "qualite")
    page = manager.page
    expect(page.locator("li.card").first).to_be_visible()
    manager.open(f"/service/{SERVICE}")
    charts_draw_in_colour(page)
    manager.open("/comments")
    expect(page.locator("li.entry").first).to_be_visible()
    manager.open("/review")
    manager.open("/codes")
    manager.open("/fleet")
    manager.open("/targets")
    page.get_by_label("Objectif", exact=True).fill("92")
    manager.submit("Enregistrer")
    expect(page.locator("table.data tbody tr").first).to_contain_text("92")
    manager.open("/account/tokens")
    page.get_by_label("Nom du jeton").fill("Tableur qualité")
    manager.submit("Créer le jeton")
    expect(page.get_by_text("Jeton « Tableur qualité » créé.")).to_be_visible()
    assert manager.problems == []


def test_the_administrators_pages_run_without_a_policy_violation(watch, demo_server):
    server, _data = demo_server
    add_user(server.storage, "informatique", "admin")
    admin = signed_in(watch, server, "informatique")
    page = admin.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Bornes et tablettes")
    admin.open("/admin/users")
    page.get_by_label("Identifiant").fill("m.dupont")
    page.get_by_label("Rôle").select_option("service_manager")
    page.get_by_label("État civil").check()
    admin.submit("Créer le compte")
    expect(page.get_by_role("status").first).to_contain_text("Compte « m.dupont » créé.")
    admin.open("/admin/users/edit?username=m.dupont")
    admin.open("/admin/surveys")
    admin.open("/codes")
    assert admin.problems == []


def test_the_phone_survey_runs_without_a_policy_violation(watch, live_server):
    visitor = watch(live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True)
    page = visitor.page
    visitor.open(f"/s/{SITE}/{SERVICE}")
    page.get_by_text("Satisfait", exact=True).click()
    visitor.submit("Continuer")
    expect(page.get_by_text("Question 2 sur 7")).to_be_visible()
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state("load")
    visitor.stylesheet_applies()
    visitor.submit("Finish and send now")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert "/merci" in page.url
    assert visitor.problems == []
