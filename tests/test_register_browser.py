"""The register in Debian's headless Chromium against the live server: a reply of 5,000
characters without a space (stored before replies had a limit, or by any other way) and a long
unbroken comment wrap inside the page, on a desktop screen and on a 390 px phone; an entry's
follow-up (dates, authors, delays) and the contact details left for a reply, photographed for
docs/quality-desk.md."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from sync_server.storage import Source, quality, uploads, users
from tests.fixtures.browser import SCREENS, log_in
from tests.fixtures.server import PASSWORD, SERVICE, SITE, answer_payload, make_record

pytestmark = pytest.mark.browser

UNBROKEN_REPLY = "Réponse" + "x" * 4993  # 5,000 characters, not one space
UNBROKEN_COMMENT = "https://exemple.fr/" + "a" * 480


@pytest.fixture
def register_server(live_server):
    storage = live_server.storage
    with storage.write() as connection:
        users.create(connection, username="qualite", password=PASSWORD, role="quality_manager")
    at = datetime.now(UTC) - timedelta(days=20)
    source = Source(site=SITE, service=SERVICE, channel="kiosk")
    for i, text in enumerate([UNBROKEN_COMMENT, "Personne ne m'a rappelé pour mon dossier."]):
        record = make_record(
            answer_payload("dissatisfied", comment=text), at=at + timedelta(hours=i)
        )
        uploads.store_batch(storage, [record], source)
    with storage.read() as connection:
        long_one, contact_one = [
            e.id for e in sorted(quality.register(connection), key=lambda e: e.id)
        ]
    with storage.write() as connection:
        quality.update_register(connection, long_one, action="answer", by="qualite",
                                reply=UNBROKEN_REPLY, now=at + timedelta(days=2))  # fmt: skip
        quality.update_register(connection, contact_one, action="acknowledge", by="chef-iris",
                                category="complaint", now=at + timedelta(days=1))  # fmt: skip
        quality.leave_contact(connection, contact_one, phone="0612345678",
                              email="jean.dupont@example.org", language="fr",
                              retention_days=90, now=at + timedelta(hours=1))  # fmt: skip
    return live_server, long_one, contact_one


def page_fits(page: Page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_a_reply_without_spaces_does_not_widen_the_page(browser, register_server, width):
    server, long_one, _contact_one = register_server
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="fr-FR")
    page = context.new_page()
    log_in(page, server.url)
    page.goto(f"{server.url}/comments")
    entry = page.locator(f"#c{long_one}")
    expect(entry.locator(".reply")).to_contain_text(UNBROKEN_REPLY[:40])
    assert page_fits(page)
    for part in (".reply", ".comment-text"):
        box = entry.locator(part).bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= width, part
    # The check can fail: without the wrapping rule, the reply runs off the page.
    page.evaluate(
        "() => document.querySelectorAll('.reply, .comment-text')"
        ".forEach(e => { e.style.overflowWrap = 'normal'; })"
    )
    assert not page_fits(page)
    context.close()


def test_an_entry_with_its_follow_up_and_the_contact_left(browser, register_server):
    server, _long_one, contact_one = register_server
    context = browser.new_context(viewport={"width": 1000, "height": 700}, locale="fr-FR")
    page = context.new_page()
    log_in(page, server.url)
    page.goto(f"{server.url}/comments?category=complaint")
    entry = page.locator(f"#c{contact_one}")
    expect(entry.locator(".steps")).to_contain_text("par chef-iris")
    expect(entry.get_by_role("link", name="06 12 34 56 78")).to_have_attribute(
        "href", "tel:0612345678"
    )
    expect(entry.get_by_role("button", name="Effacer les coordonnées")).to_be_visible()
    assert page_fits(page)
    SCREENS.mkdir(parents=True, exist_ok=True)
    entry.screenshot(path=str(SCREENS / "dashboard-register-entry.png"))
    context.close()
