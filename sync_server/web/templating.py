"""Jinja2 rendering with one environment per page language (gettext catalogues, number filters,
and the `local` filter that shows a date or time in the town's time zone)."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from markupsafe import Markup

from sync_server import i18n
from sync_server.web import dates, units

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

    return {
        "number": number,
        "percent": percent,
        "points": points,
        "local": _local,
        "css_string": css_string,
    }


def css_string(text: object) -> Markup:
    """`text` inside a CSS string in double quotes (a report's running header), in a `<style>`
    whose content HTML escaping would not undo: quotes, backslashes and "<" as CSS escapes."""
    flat = " ".join(str(text).split())
    escaped = flat.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")
    return Markup(escaped)  # noqa: S704 - every character that could end the string is escaped


@pass_context
def _local(context: Context, value: date | None, style: dates.Style = "minute") -> str:
    """`{{ moment|local }}`, `|local("date")`…: see `dates.shown`. The zone comes with the
    page (`render` passes it); a template rendered without one fails rather than show UTC."""
    if value is None:
        return "—"
    return dates.shown(value, context["town_zone"], style)


class _PageEnvironment(Environment):
    """Refuses `.strftime` and `.astimezone` on dates in templates: `|local` is the one way a
    page shows a moment, so none can print a stored UTC time as if it were the town's."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if attribute in ("strftime", "astimezone") and isinstance(obj, date):
            raise SecurityError(f"use the |local filter, not .{attribute}(), to show a date")
        return super().getattr(obj, attribute)


@cache
def environment(language: str) -> Environment:
    env = _PageEnvironment(
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
    page = environment(language).get_template(template)
    zone = ZoneInfo(request.app.state.settings.timezone)
    html = page.render(request=request, town_zone=zone, **(context or {}))
    return HTMLResponse(html, status_code=status_code)
