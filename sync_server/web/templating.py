"""Jinja2 rendering with one environment per page language (gettext catalogues + number filters)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from sync_server import i18n
from sync_server.web import units

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"


def _filters(language: str) -> dict[str, Any]:
    locale = i18n.BABEL_LOCALES[language]

    def number(value: float | None, digits: int = 0) -> str:
        if value is None:
            return "—"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=locale)

    def percent(value: float | None, digits: int = 0) -> str:
        # French typography puts a (narrow no-break) space before %; English does not.
        if value is None:
            return "—"
        return number(value, digits) + ("\u202f%" if language == "fr" else "%")

    def points(value: float | None, digits: int = 0) -> str:
        if value is None:
            return "—"
        # Round first, so that -0.3 shown without decimals reads "0", not "−0".
        value = round(value, digits) + 0.0
        sign = "+" if value > 0 else ("−" if value < 0 else "")
        return sign + number(abs(value), digits)

    return {"number": number, "percent": percent, "points": points}


@cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # A misspelt variable is an error in the tests, not an empty space on a page.
        undefined=StrictUndefined,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(_filters(language))
    env.filters.update(units.formats(language))
    env.globals["lang"] = language
    env.globals["languages"] = i18n.LANGUAGES
    return env


def page_language(request: Request) -> str:
    return i18n.negotiate(request.query_params.get("lang"), request.headers.get("accept-language"))


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    language: str | None = None,
) -> HTMLResponse:
    """Render `template` in the request's language; `language` overrides (e.g. a posted form)."""
    language = language if language in i18n.LANGUAGES else page_language(request)
    html = environment(language).get_template(template).render(request=request, **(context or {}))
    return HTMLResponse(html, status_code=status_code)
