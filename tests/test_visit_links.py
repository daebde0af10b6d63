"""Per-visit phone links: made offline with the device's secret, checked by the server once."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from qualivilles.visit_link import make_token, read_claims, visit_url
from sync_server.phone.visit_links import (
    InvalidVisitLink,
    mark_visit_link_used,
    verify_visit_link,
)
from sync_server.storage import devices
from tests.fixtures.server import SERVICE, SITE, enrol_code

VISIT = "0192f3a4-5b6c-7d8e-9f00-112233445566"
NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def tablet(app_client):
    storage = app_client.app.state.storage
    code = enrol_code(storage, SITE, SERVICE, mode="tablet")
    response = app_client.post("/api/v1/enrol", json={"code": code})
    assert response.status_code == 200, response.text
    return storage, response.json()


def _code(storage, token, now=NOW) -> str:
    with pytest.raises(InvalidVisitLink) as caught:
        verify_visit_link(storage, token, now)
    return caught.value.code


def test_enrolment_gives_a_secret_and_a_link_made_with_it_names_the_visit_and_desk(tablet):
    storage, enrolled = tablet
    secret = enrolled["visit_link_secret"]
    assert len(secret) >= 40
    token = make_token(secret, VISIT, enrolled["device_id"], NOW - timedelta(minutes=5))
    link = verify_visit_link(storage, token, NOW)
    assert (link.visit_id, link.device_id) == (VISIT, enrolled["device_id"])
    assert (link.site, link.service) == (SITE, SERVICE)
    assert visit_url("http://x/", token) == f"http://x/v/{token}"


def test_a_link_is_used_once(tablet):
    storage, enrolled = tablet
    token = make_token(enrolled["visit_link_secret"], VISIT, enrolled["device_id"], NOW)
    link = verify_visit_link(storage, token, NOW)
    mark_visit_link_used(storage, link.visit_id, NOW)
    assert _code(storage, token) == "used"
    # Another token for the same visit (the QR shown twice) is spent too.
    again = make_token(enrolled["visit_link_secret"], VISIT, enrolled["device_id"], NOW)
    assert _code(storage, again) == "used"
    with pytest.raises(InvalidVisitLink) as caught:
        mark_visit_link_used(storage, VISIT, NOW)
    assert caught.value.code == "used"


def test_forged_links_are_refused(tablet):
    storage, enrolled = tablet
    secret, device = enrolled["visit_link_secret"], enrolled["device_id"]
    token = make_token(secret, VISIT, device, NOW)
    body, signature = token.split(".")
    assert _code(storage, make_token("guessed secret", VISIT, device, NOW)) == "forged"
    # Another visit id with the signature of the first one.
    claims = {"d": device, "t": int(NOW.timestamp()), "v": "0192f3a4-0000-7000-8000-000000000000"}
    other = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert _code(storage, f"{other}.{signature}") == "forged"
    # The signature with its first character changed (it carries six whole bits; the last ones
    # may already be the replacement, as in one run in a few hundred).
    tampered = ("B" if signature[0] == "A" else "A") + signature[1:]
    assert _code(storage, f"{body}.{tampered}") == "forged"
    for junk in ("", "abc", "a.b.c", "!!!.???", f"{body}", "x" * 1000):
        assert _code(storage, junk) == "forged", junk


def test_expired_unknown_and_revoked(tablet):
    storage, enrolled = tablet
    secret, device = enrolled["visit_link_secret"], enrolled["device_id"]
    old = make_token(secret, VISIT, device, NOW - timedelta(days=7, seconds=1))
    assert _code(storage, old) == "expired"
    assert verify_visit_link(storage, old, NOW - timedelta(seconds=2)).visit_id == VISIT
    ahead = make_token(secret, VISIT, device, NOW + timedelta(days=2))
    assert _code(storage, ahead) == "expired"
    stranger = make_token(secret, VISIT, "00000000-0000-4000-8000-000000000000", NOW)
    assert _code(storage, stranger) == "unknown_device"
    with storage.write() as connection:
        devices.revoke(connection, device)
    assert _code(storage, make_token(secret, VISIT, device, NOW)) == "revoked"


def test_the_token_is_the_documented_format():
    token = make_token("s", VISIT, "dev", datetime(2026, 1, 1, tzinfo=UTC))
    claims, body, _ = read_claims(token)
    decoded = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert decoded == {"v": VISIT, "d": "dev", "t": 1767225600}
    assert claims.issued_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert "=" not in token
