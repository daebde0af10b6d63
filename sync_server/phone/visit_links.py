"""Per-visit phone-survey links: checked here, made offline on the agent tablet.

CONTRACT (for the phone survey, `GET/POST /v/{token}`):

    from sync_server.phone.visit_links import (
        InvalidVisitLink, VisitLink, verify_visit_link, mark_visit_link_used)

    link = verify_visit_link(storage, token, now)   # -> VisitLink, or raises InvalidVisitLink
    link.visit_id, link.device_id, link.site, link.service, link.issued_at
    ... show the phone survey of desk (link.site, link.service) ...
    on submit: link = verify_visit_link(storage, token, now)       # again: it may be used now
               mark_visit_link_used(storage, link.visit_id, now)   # atomic; raises "used" if lost
               store the answer with AnswerPayload.visit_id = link.visit_id (channel "phone")

`InvalidVisitLink.code` is one of:
    "forged"          not our token: bad shape, bad base64/JSON, or the signature does not match
    "unknown_device"  the device named in the token does not exist or has no visit-link secret
    "revoked"         the device was revoked: its links stop working
    "expired"         issued more than `LINK_LIFETIME` (7 days) ago, or more than a day ahead
    "used"            an answer was already given for this visit (one answer per visit)
Show each with a calm message; answer HTTP 400 (410 for expired/used is fine too).

Token: base64url(JSON{"v": visit_id, "d": device_id, "t": issued_at UNIX seconds}) + "." +
base64url(HMAC-SHA256(device's visit-link secret, first part)), unpadded; URL
`{public_base_url}/v/{token}`. Made by `qualivilles.visit_link.make_token`. The visit itself need
not be on the server yet: the tablet may still be offline when the visitor answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from qualivilles.visit_link import MalformedVisitLink, read_claims, signature_matches
from sync_server.storage import Storage
from sync_server.storage import visit_links as stored_links

LINK_LIFETIME = timedelta(days=7)
# A tablet clock a little ahead of the server's must not make its links unusable.
FUTURE_TOLERANCE = timedelta(days=1)


class InvalidVisitLink(Exception):
    """The link cannot be used; `code` says why (see the module's contract)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def already_answered() -> InvalidVisitLink:
    """The refusal of a link whose visit has its answer (one answer per visit)."""
    return InvalidVisitLink("used", "this visit already has an answer")


@dataclass(frozen=True)
class VisitLink:
    visit_id: str
    device_id: str
    site: str
    service: str
    issued_at: datetime


def verify_visit_link(storage: Storage, token: str, now: datetime) -> VisitLink:
    """The visit a token names, once its signature, device, age and single use are checked."""
    try:
        claims, body, signature = read_claims(token)
    except MalformedVisitLink as error:
        raise InvalidVisitLink("forged", str(error)) from None
    with storage.read() as connection:
        device = stored_links.link_device(connection, claims.device_id)
        used = stored_links.is_used(connection, claims.visit_id)
    if device is None:
        raise InvalidVisitLink("unknown_device", "no device with a visit-link secret by this id")
    if not signature_matches(device.secret, body, signature):
        raise InvalidVisitLink("forged", "the signature does not match")
    if device.revoked:
        raise InvalidVisitLink("revoked", "the device that made this link was revoked")
    age = now - claims.issued_at
    if age > LINK_LIFETIME or age < -FUTURE_TOLERANCE:
        raise InvalidVisitLink("expired", f"links are valid {LINK_LIFETIME.days} days")
    if used:
        raise already_answered()
    return VisitLink(
        claims.visit_id, claims.device_id, device.site, device.service, claims.issued_at
    )


def mark_visit_link_used(storage: Storage, visit_id: str, now: datetime | None = None) -> None:
    """Spend the visit's link, atomically: of two concurrent calls one raises `used`."""
    with storage.write() as connection:
        spent = stored_links.mark_used(connection, visit_id, now)
    if not spent:
        raise already_answered()
