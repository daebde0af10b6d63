"""How a figure reads in a page language: its value, previous value, target and gap, each with
its unit (`indicators.catalogue`), so that every page, PDF and chart description says the same.

Values and previous values with one decimal; a target with the decimals it was entered with (87.5
reads "87,5 %", 90 reads "90 %"); a gap signed, in points for a share; the 95 % interval of a
share as "low – high %"; "—" for anything missing. Jinja filters of the same names.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from babel.numbers import format_decimal, get_decimal_symbol

from sync_server import i18n

MINUS = "\u2212"
NBSP = "\u00a0"
DASH = "—"


@cache
def formats(language: str) -> dict[str, Callable[..., str]]:
    """The filters for `language`: `measure`, `figure_value`, `target_value`, `gap_value`,
    `interval`, `decimal`."""
    locale = i18n.BABEL_LOCALES[language]
    gettext = i18n.translations(language).gettext
    french = language == "fr"

    def decimal(value: float, digits: int = 1, exact: bool = False) -> str:
        """`value` with `digits` decimals, or with up to that many as needed when `exact`."""
        places = ("#" if exact else "0") * digits
        pattern = "#,##0" + ("." + places if digits else "")
        return format_decimal(value, format=pattern, locale=locale)

    def with_unit(text: str, unit: str) -> str:
        # A unit never wraps away from its number (a no-break space, narrow before "%").
        if unit == "%":
            return text + ("\u202f%" if french else "%")
        if unit == "pts":
            return (gettext("%(value)s pts") % {"value": text}).replace(" ", NBSP)
        if unit == "min":
            return (gettext("%(value)s min") % {"value": text}).replace(" ", NBSP)
        if unit == "/10":
            return text + "/10"
        return text

    def figure_value(value: float | None, unit: str, exact: bool = False) -> str:
        """A value (or a previous value) in its unit; a count without decimals."""
        if value is None:
            return DASH
        if unit == "count":
            return decimal(value, 0)
        if unit == "pts":
            return with_unit(_signed(decimal, value, exact), unit)
        return with_unit(decimal(value, 2 if exact else 1, exact), unit)

    def target_value(value: float | None, unit: str) -> str:
        """A target as it was entered: 87.5 reads "87,5 %", 90 reads "90 %"."""
        return figure_value(value, unit, exact=True)

    def gap_value(value: float | None, unit: str) -> str:
        """A signed gap in its unit: "+7,7 pts", "−1,5 min", "0,0 pts"."""
        if value is None:
            return DASH
        return with_unit(_signed(decimal, value), unit)

    def measure(figure: Any) -> str:
        """A figure's shown value in its unit, or "—" when hidden."""
        return DASH if figure.hidden else figure_value(figure.value, figure.unit)

    def interval(figure: Any) -> str:
        """The 95 % interval of a shown share: "80,1 – 92,3 %", or "—"."""
        if figure.hidden or figure.low is None or figure.high is None:
            return DASH
        return with_unit(f"{decimal(figure.low)} – {decimal(figure.high)}", "%")

    return {
        "measure": measure,
        "figure_value": figure_value,
        "target_value": target_value,
        "gap_value": gap_value,
        "interval": interval,
        "decimal": decimal,
    }


def decimal_sign(language: str) -> str:
    """The decimal separator of `language`: "," in French, for chart axes and descriptions."""
    return get_decimal_symbol(i18n.BABEL_LOCALES[language])


def _signed(decimal: Callable[..., str], value: float, exact: bool = False) -> str:
    # Round first, so that −0.04 shown with one decimal reads "0,0", not "−0,0".
    rounded = round(value, 2 if exact else 1) + 0.0
    sign = "+" if rounded > 0 else (MINUS if rounded < 0 else "")
    return sign + decimal(abs(rounded), 2 if exact else 1, exact)
