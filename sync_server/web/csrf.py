"""CSRF protection for the dashboard's forms: a random token kept in the signed session.

Every POST form carries the token in a hidden field; a request whose field does not match the
session's token is refused before the handler does anything.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

SESSION_KEY = "csrf"
FIELD = "csrf_token"


class CsrfError(Exception):
    """The form's token is missing or does not match the session: nothing was changed."""


def csrf_token(request: Request) -> str:
    """The session's token, created on first use."""
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return token


def check_csrf(request: Request, submitted: object) -> None:
    expected = request.session.get(SESSION_KEY)
    if not isinstance(expected, str) or not isinstance(submitted, str) or not submitted:
        raise CsrfError
    if not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise CsrfError


def rotate_csrf(request: Request) -> str:
    """A fresh token, e.g. at login, so a token seen before authentication is worthless after."""
    request.session.pop(SESSION_KEY, None)
    return csrf_token(request)
