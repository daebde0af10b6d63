"""Text written by visitors and staff is shown as text: markup in a comment, a ticket or a reply
is escaped on every page that shows it, never interpreted. The real app in-process; the text
goes in the way a kiosk and a quality manager put it there."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from markupsafe import escape

from sync_server.storage import Source, quality, uploads
from tests.fixtures.server import SERVICE, SITE, AppServer, add_user, answer_payload, make_record
from tests.tools.staff_forms import post, sign_in

MARKUP = [
    "<script>alert('borne')</script>",
    '"><img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">cliquez</a>',
    "{{ 7*7 }} {% if 1 %}jinja{% endif %}",
]
KIOSK = Source(site=SITE, service=SERVICE, channel="kiosk")


@pytest.fixture
def town(app_server: AppServer) -> AppServer:
    add_user(app_server.storage, "qualite", "quality_manager")
    return app_server


def store_comment(server: AppServer, text: str) -> int:
    record = make_record(answer_payload("dissatisfied", comment=text), at=datetime.now(UTC))
    uploads.store_batch(server.storage, [record], KIOSK)
    with server.storage.read() as connection:
        return max(entry.id for entry in quality.register(connection))


def interpreted(html: str) -> bool:
    """Whether the markup of `MARKUP` reached the page as markup (not escaped)."""
    return any(tag in html for tag in ("<script>alert", "<img src=x", '<a href="javascript'))


@pytest.mark.parametrize("text", MARKUP)
def test_markup_in_a_visitors_comment_is_shown_as_text(town, text):
    store_comment(town, text)
    manager = sign_in(town, "qualite")
    for path in ("/comments", f"/service/{SERVICE}", "/"):
        page = manager.get(f"{town.url}{path}")
        assert page.status_code == 200, path
        assert not interpreted(page.text), path
    # The register shows the very text, escaped (and a template never ran it).
    assert str(escape(text)) in manager.get(f"{town.url}/comments").text


@pytest.mark.parametrize("text", MARKUP)
def test_markup_in_a_register_reply_is_shown_as_text(town, text):
    entry = store_comment(town, "Très long délai au guichet")
    manager = sign_in(town, "qualite")
    answered = post(
        town, manager, f"/comments/{entry}", {"action": "answer", "reply": text}, page="/comments"
    )
    assert answered.status_code == 303
    page = manager.get(f"{town.url}/comments").text
    assert not interpreted(page)
    assert str(escape(text)) in page
    with town.storage.read() as connection:
        assert [e.reply for e in quality.register(connection, comment_id=entry)] == [text]
