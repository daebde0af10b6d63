"""Security headers on every response the server sends: pages, the phone survey, the API, static
files, errors, PDFs and CSV files. (Not on the bare "Internal Server Error" of a crash, which
Starlette sends from outside every middleware: plain text, with nothing to frame or run.)

The pages have no script and no inline CSS (charts are SVG with presentation attributes), so
their Content-Security-Policy allows the server's own stylesheets and images and nothing else,
and no site may frame them. The API's documentation (`/docs`, `/redoc`, development and
administrators only) is the one exception: FastAPI builds it from Swagger UI and ReDoc on a CDN,
which need inline styles; its inline bootstrap scripts are allowed by hash, nothing else inline.

Strict-Transport-Security goes only on responses to HTTPS requests: uvicorn with TLS, or behind
a reverse proxy whose forwarded scheme uvicorn trusts (`--proxy-headers`).
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
OPENAPI_URL = "/openapi.json"
SWAGGER_OAUTH2_REDIRECT = "/docs/oauth2-redirect"
DOCS_PATHS = frozenset({"/docs", SWAGGER_OAUTH2_REDIRECT, "/redoc"})
CDN = "https://cdn.jsdelivr.net"

# Chromium reports a feature it does not know as an error: only features it knows are listed.
DENIED_FEATURES = (
    "accelerometer", "camera", "display-capture", "geolocation", "gyroscope",
    "hid", "magnetometer", "microphone", "midi", "payment", "screen-wake-lock", "serial", "usb",
    "xr-spatial-tracking",
)  # fmt: skip

COMMON = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": ", ".join(f"{feature}=()" for feature in DENIED_FEATURES),
    "Cross-Origin-Opener-Policy": "same-origin",
}
# A year, for this host only: includeSubDomains could force HTTPS on a town's other sites when
# the server answers at the town's own domain.
HSTS = "max-age=31536000"

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def inline_script_hashes(html: str) -> list[str]:
    """The CSP source ('sha256-…') of each inline `<script>` in `html`."""
    digests = (hashlib.sha256(body.encode()).digest() for body in _INLINE_SCRIPT.findall(html))
    return [f"'sha256-{base64.b64encode(digest).decode()}'" for digest in digests]


def _docs_policy() -> str:
    # The exact pages FastAPI serves: its own /docs in development (with the OAuth2 redirect
    # page), `web.pages.api_docs` in production (without).
    pages = [
        get_swagger_ui_html(openapi_url=OPENAPI_URL, title=""),
        get_swagger_ui_html(
            openapi_url=OPENAPI_URL, title="", oauth2_redirect_url=SWAGGER_OAUTH2_REDIRECT
        ),
        get_swagger_ui_oauth2_redirect_html(),
    ]
    hashes = sorted({h for page in pages for h in inline_script_hashes(page.body.decode())})
    return (
        f"default-src 'none'; script-src {CDN} {' '.join(hashes)}; "
        f"style-src {CDN} https://fonts.googleapis.com 'unsafe-inline'; "
        "font-src https://fonts.gstatic.com; "
        "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
        "connect-src 'self'; worker-src blob:; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )


DOCS_POLICY = _docs_policy()


def security_headers(scheme: str, path: str) -> dict[str, str]:
    """The headers every response to a request for `path` over `scheme` carries."""
    policy = DOCS_POLICY if path in DOCS_PATHS else PAGE_POLICY
    headers = {"Content-Security-Policy": policy, **COMMON}
    if scheme == "https":
        headers["Strict-Transport-Security"] = HSTS
    return headers


class SecurityHeadersMiddleware:
    """Adds `security_headers` to every HTTP response, keeping any a route set itself."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in security_headers(scope["scheme"], scope["path"]).items()
        ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
