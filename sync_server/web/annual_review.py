"""What the annual review (bilan annuel) PDF shows beyond the review page: each desk's year
against the year before, its month-by-month trend, the register's handling by service, whether
the year is still in progress, and the year of the quality cycle (`annual_cycle`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date

from sync_server import i18n
from sync_server.access import visible_services
from sync_server.indicators import pipeline, public_holidays
from sync_server.indicators.figures import DeskFigures
from sync_server.indicators.periods import Period, last_months
from sync_server.indicators.query import WAITS, IndicatorQuery, Rules, Scope
from sync_server.settings import Settings
from sync_server.storage import Storage, User, quality
from sync_server.web.annual_cycle import cycle_context
from sync_server.web.figures import desk_figures, today
from sync_server.web.pages.review import review_data
from sync_server.web.register_summary import by_service, summarise
from sync_server.web.sparkline import sparkline

MONTHS = 12
DeskKey = tuple[str, str]


@dataclass(frozen=True)
class YearLine:
    """One desk: the year and the year before, and the year's months (up to the current one)."""

    row: DeskFigures
    before: DeskFigures | None
    months: list[DeskFigures]
    spark: str


def day_in_words(day: date, language: str) -> str:
    """ "1er janvier", "2 décembre"; "1 January" in English."""
    locale = i18n.BABEL_LOCALES[language]
    if language == "fr" and day.day == 1:
        return "1er " + format_date(day, "MMMM", locale=locale)
    return format_date(day, "d MMMM", locale=locale)


def in_progress(period: Period, on: date, language: str) -> str | None:
    """The sentence saying the year is not over (None when it is)."""
    if period.end <= on:
        return None
    _ = i18n.translations(language).gettext
    return _("Année en cours : données du %(first)s au %(last)s.") % {
        "first": day_in_words(period.start, language),
        "last": day_in_words(on, language),
    }


def monthly(
    storage: Storage, settings: Settings, period: Period, services: list[str] | None
) -> dict[DeskKey, list[DeskFigures]]:
    """Each desk's figures month by month (satisfaction and waits), oldest first, from one
    computation of consecutive months; months not yet begun left out."""
    rules = Rules.from_settings(settings)
    query = IndicatorQuery(period, Scope.of(services=services), rules, WAITS)
    on = today(settings)
    found: dict[DeskKey, list[DeskFigures]] = {}
    for row in pipeline.compute_months(storage, query, MONTHS):
        if row.period <= f"{on:%Y-%m}":
            found.setdefault((row.site, row.service), []).append(row)
    return {key: sorted(rows, key=lambda r: r.period) for key, rows in found.items()}


def month_labels(period: Period, language: str) -> list[str]:
    locale = i18n.BABEL_LOCALES[language]
    return [
        format_date(month.start, "MMM", locale=locale).rstrip(".")
        for month in last_months(period, MONTHS)
    ]


def _values(rows: list[DeskFigures], key: str) -> list[float | None]:
    return [None if r.figures[key].hidden else r.figures[key].value for r in rows]


def annual_context(
    storage: Storage, settings: Settings, user: User, period: Period, language: str
) -> dict[str, Any]:
    """Everything `report_annual.html` shows, for the services `user` may read."""
    services = visible_services(user)
    data = review_data(storage, settings, user, period)
    earlier = desk_figures(storage, settings, period.previous(), services=services, parts=WAITS)
    before = {(row.site, row.service): row for row in earlier}
    months = monthly(storage, settings, period, services)
    _ = i18n.translations(language).gettext
    lines = []
    for row in data["rows"]:
        key = (row.site, row.service)
        rows = months.get(key, [])
        label = _("Satisfaction mois par mois · %(desk)s") % {
            "desk": f"{row.service_name} · {row.site_name}"
        }
        target = row.figures["satisfaction_rate"].target
        spark = sparkline(_values(rows, "satisfaction_rate"), target, label) if rows else ""
        lines.append(YearLine(row, before.get(key), rows, spark))
    zone = ZoneInfo(settings.timezone)
    start, end = period.bounds(zone)
    with storage.read() as connection:
        entries = quality.register(connection, services=services, start=start, end=end)
    on = today(settings)
    holidays = public_holidays.calendar(settings.holidays_region)
    names = {row.service: row.service_name for row in data["rows"]}
    shown = [len(line.months) for line in lines]
    return {
        **data,
        "lines": lines,
        "month_labels": month_labels(period, language)[: max(shown, default=0)],
        "register": by_service(entries, period.start, period.end, on, zone, holidays),
        "register_total": summarise(entries, period.start, period.end, on, zone, holidays),
        "service_names": names,
        "in_progress": in_progress(period, on, language),
        "previous_year": period.previous().start.year,
        **cycle_context(storage, settings, period, services, data["rows"], language),
    }
