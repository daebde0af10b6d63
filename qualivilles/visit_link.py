"""Per-visit links for the phone survey, signed on the tablet, checked by the server.

A token is `base64url(JSON{"v": visit_id, "d": device_id, "t": issued_at}) + "." +
base64url(HMAC-SHA256(secret, first part))`, base64url without padding, `t` in whole UNIX
seconds. The secret is the device's visit-link secret, given once at enrolment and kept by both
sides, so a tablet makes links offline and nobody else can. Pure: no Kivy, no HTTP, no database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

MAX_TOKEN_LENGTH = 400


class MalformedVisitLink(ValueError):
    """Not a token of ours at all (bad shape, bad base64, bad JSON, bad fields)."""


@dataclass(frozen=True)
class VisitLinkClaims:
    visit_id: str
    device_id: str
    issued_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise MalformedVisitLink("not base64url") from error


def _signature(secret: str, body: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), body.encode("ascii"), hashlib.sha256).digest()


def make_token(secret: str, visit_id: str, device_id: str, issued_at: datetime) -> str:
    """The signed token for one visit (issued_at: the tablet's wall clock, any time zone)."""
    claims = {"v": str(UUID(str(visit_id))), "d": device_id, "t": int(issued_at.timestamp())}
    body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{body}.{_b64(_signature(secret, body))}"


def visit_url(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}/v/{token}"


def read_claims(token: str) -> tuple[VisitLinkClaims, str, bytes]:
    """The unverified claims, the signed part and the signature; `MalformedVisitLink` if bad."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise MalformedVisitLink("expected two base64url parts separated by a dot")
    body, signature = token.split(".")
    try:
        claims = json.loads(_unb64(body))
        visit_id = str(UUID(str(claims["v"])))
        device_id = str(claims["d"])
        issued = claims["t"]
        if not isinstance(issued, int) or isinstance(issued, bool):
            raise TypeError("t must be an integer")
        issued_at = datetime.fromtimestamp(issued, UTC)
    except (ValueError, KeyError, TypeError, OverflowError, OSError) as error:
        raise MalformedVisitLink(f"unreadable claims: {error}") from None
    return VisitLinkClaims(visit_id, device_id, issued_at), body, _unb64(signature)


def signature_matches(secret: str, body: str, signature: bytes) -> bool:
    return hmac.compare_digest(_signature(secret, body), signature)
