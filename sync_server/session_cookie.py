"""The dashboard's session cookie: Starlette's signed cookie, its HMAC made with SHA-256.

Starlette signs with itsdangerous' default HMAC-SHA1; SHA-256 is the hash the rest of the
product uses (per-visit links, token digests). The cookie carries only the CSRF token and the
id of a server-side session (`storage.sessions`), so the signature guards the format, not the
authority: a forged cookie names no session. In production the cookie is Secure and named with
the `__Host-` prefix, so a browser keeps it only from this very host over HTTPS and neither a
sibling subdomain nor a plain-HTTP page can plant or overwrite it.
"""

from __future__ import annotations

import hashlib
from typing import Any

import itsdangerous
from starlette.middleware.sessions import SessionMiddleware

from sync_server.settings import Settings

SESSION_COOKIE = "qv_session"
SECURE_SESSION_COOKIE = f"__Host-{SESSION_COOKIE}"


def cookie_name(settings: Settings) -> str:
    return SESSION_COOKIE if settings.is_development else SECURE_SESSION_COOKIE


def signer(secret_key: str) -> itsdangerous.TimestampSigner:
    return itsdangerous.TimestampSigner(secret_key, digest_method=hashlib.sha256)


class SessionCookieMiddleware(SessionMiddleware):
    """Starlette's session middleware with the SHA-256 signer."""

    def __init__(self, app: Any, *, secret_key: str, **options: Any) -> None:
        super().__init__(app, secret_key=secret_key, **options)
        self.signer = signer(secret_key)
