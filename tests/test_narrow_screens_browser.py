"""Every staff page and the phone survey on a phone (390 × 844) in a real browser (Debian's
Chromium through Playwright), on the live server with the demo data: as the quality manager, a
service manager and the administrator, no page scrolls sideways and nothing is wider than the
screen outside a box that scrolls on its own (a wide table's named, focusable region); axe-core
finds no violation on any of them. Screenshots docs/screens/service-390.png and fleet-390.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from sync_server.storage import api_tokens, internal_audits, meetings
from tests.fixtures.browser import SCREENS
from tests.fixtures.server import PASSWORD, SERVICE, SITE, add_user
from tests.tools.page_checks import axe_violations, page_width, too_wide

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# Pages reached from others rather than from the menu: a desk, a survey version, an account,
# an internal audit.
DEEPER = re.compile(
    r"^/(?P<kind>service|admin/surveys|admin/users/edit|audits(?=/\d)|meetings(?=/\d)|mystery/grid)(/[^/?]+|/[^/?]+/\d+)?(\?.*)?$"
)
EXPECTED_DEEPER = {
    "qualite": {"service", "audits", "meetings"},
    "chef-iris": {"service", "audits", "meetings"},
    "informatique": {"admin/surveys", "admin/users/edit"},
    "auditrice": {"audits"},
}


def phone(browser: Browser) -> BrowserContext:
    # bypass_csp lets the test inject axe-core despite the pages' strict Content-Security-Policy.
    return browser.new_context(
        viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True,
        locale="fr-FR", bypass_csp=True,
    )  # fmt: skip


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()


def links(page: Page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "links => links.map(a => a.getAttribute('href'))")


def staff_pages(page: Page, url: str) -> Iterator[str]:
    """Every page of the signed-in person's menu, then one of each page reached from those
    (a desk, a survey version, an account), yielding the address at each."""
    page.goto(f"{url}/")
    menu = links(page, "nav.mainnav a, .user a")
    assert menu, "no menu"
    seen: set[str] = set()
    deeper: dict[str, str] = {}
    for path in menu:
        page.goto(f"{url}{path}")
        seen.add(path)
        yield path
        for found in links(page, "main a[href^='/']"):
            if match := DEEPER.match(found):
                deeper.setdefault(match["kind"], found)
    for path in deeper.values():
        if path not in seen:
            page.goto(f"{url}{path}")
            yield path


def fits(page: Page, name: str) -> list[str]:
    """What is wrong with the page at this width: sideways scrolling, elements too wide."""
    problems = []
    width = page_width(page)
    if width["scroll"] > min(width["window"], PHONE["width"]):
        problems.append(f"{name}: the page is {width['scroll']} px wide")
    problems += [f"{name}: {element}" for element in too_wide(page)]
    unboxed = page.evaluate(
        """() => [...document.querySelectorAll("main table")].filter((table) => {
            const box = table.parentElement;
            return !(box.matches(".table-scroll[role=region][tabindex='0']")
                     && box.getAttribute("aria-label"));
        }).length"""
    )
    if unboxed:
        problems.append(f"{name}: {unboxed} table(s) outside a named, focusable scroll box")
    return problems


@pytest.fixture
def staffed(demo_server):
    server, _data = demo_server
    add_user(server.storage, "informatique", "admin")
    add_user(server.storage, "chef-iris", "service_manager", [SERVICE])
    add_user(server.storage, "auditrice", "internal_auditor")
    with server.storage.write() as connection:
        audit_id = internal_audits.add(
            connection, SERVICE, date.today(), ("auditrice", "qualite"), by="qualite"
        )
        found = internal_audits.get(connection, audit_id)
        internal_audits.record_finding(
            connection, found, "ACC-01", "non_conformity", "Horaires d'ouverture non affichés",
            by="auditrice", title="Afficher les horaires",
        )  # fmt: skip
    with server.storage.write() as connection:
        api_tokens.create(connection, username="qualite", label="Tableau de bord Power BI")
        meeting_id = meetings.add(connection, date.today(), by="qualite")
        meetings.add_decision(
            connection, meeting_id, "Afficher les horaires du samedi", SERVICE, action=None,
            by="qualite",
        )  # fmt: skip
    return server


@pytest.mark.parametrize(
    ("username", "at_least"),
    [
        ("qualite", {"/", "/comments", "/review", "/targets", "/fleet",
                     "/codes", "/admin/users", "/audit", "/account/tokens", "/actions",
                     "/referential", "/audits", "/mystery", "/mystery/grid"}),
        ("chef-iris", {"/", "/comments", "/review", "/account/tokens",
                       "/account/password", "/actions", "/audits", "/mystery"}),
        ("auditrice", {"/audits", "/account/password"}),
        ("informatique", {"/fleet", "/codes", "/admin/surveys", "/admin/users", "/audit",
                          "/account/password"}),
    ],
)  # fmt: skip
def test_every_staff_page_fits_a_phone_and_passes_axe(browser, staffed, username, at_least):
    context = phone(browser)
    page = context.new_page()
    sign_in(page, staffed.url, username)
    problems: list[str] = []
    violations: dict[str, list[str]] = {}
    walked = []
    for path in staff_pages(page, staffed.url):
        walked.append(path)
        problems += fits(page, path)
        violations[path] = axe_violations(page)
    assert at_least <= set(walked), walked
    deeper = {match["kind"] for path in walked if (match := DEEPER.match(path))}
    assert deeper >= EXPECTED_DEEPER[username], walked
    assert problems == [], "\n".join(problems)
    assert {path: found for path, found in violations.items() if found} == {}
    context.close()


def test_a_wide_table_scrolls_in_a_named_region_the_keyboard_reaches(browser, staffed):
    context = phone(browser)
    page = context.new_page()
    sign_in(page, staffed.url, "qualite")
    page.goto(f"{staffed.url}/fleet")
    region = page.get_by_role("region", name="État de chaque appareil à son dernier contact")
    expect(region).to_be_visible()
    box = region.evaluate("e => ({scroll: e.scrollWidth, client: e.clientWidth})")
    assert box["scroll"] > box["client"]  # eight columns do not fit 390 px: the box scrolls
    page.screenshot(path=str(SCREENS / "fleet-390.png"), full_page=True)
    region.focus()
    expect(region).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.activeElement.scrollLeft > 0")
    # The caption stays in view, wrapped within the box, while the table scrolls under it.
    caption = region.locator("caption").bounding_box()
    frame = region.bounding_box()
    assert caption is not None
    assert frame is not None
    assert caption["x"] >= frame["x"] - 1
    assert caption["x"] + caption["width"] <= frame["x"] + frame["width"] + 1
    page.goto(f"{staffed.url}/service/{SERVICE}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("IRIS")
    page.screenshot(path=str(SCREENS / "service-390.png"), full_page=True)
    context.close()


def test_the_sign_in_error_and_phone_survey_pages_fit_a_phone(browser, staffed):
    context = phone(browser)
    page = context.new_page()
    problems: list[str] = []
    survey = f"{staffed.url}/s/{SITE}/{SERVICE}"
    for name, address in [
        ("sign-in", f"{staffed.url}/login"),
        ("question", survey),
        ("link error", f"{staffed.url}/v/not-a-token"),
        ("unknown desk", f"{staffed.url}/s/{SITE}/piscine"),
    ]:
        page.goto(address)
        problems += fits(page, name)
    page.goto(survey)
    page.locator("label.choice").nth(1).click()
    with page.expect_navigation():
        page.locator("button.primary").click()
    problems += fits(page, "follow-up")
    sign_in(page, staffed.url, "chef-iris")
    page.goto(f"{staffed.url}/service/etat-civil")  # another service: refused
    problems += fits(page, "refused")
    assert problems == [], "\n".join(problems)
    context.close()
