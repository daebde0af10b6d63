"""What the monthly pack (dossier mensuel) shows: one page for the town, then one page per desk
that had answers or visits in the month.

The figures are the pages' own (`desk_figures`, computed once for every desk), the six-month
trend the service page's computation of consecutive months (`pipeline.compute_months`), the
register and the alerts read once each."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import get_day_names

from qualivilles.survey import localized
from sync_server import i18n
from sync_server.access import visible_services
from sync_server.alerts.rule import Alert
from sync_server.comments import verbatims
from sync_server.indicators import formulas, pipeline, public_holidays, targets
from sync_server.indicators.figures import DeskFigures, Reason, rate_figure
from sync_server.indicators.formulas import Figure
from sync_server.indicators.periods import Period
from sync_server.indicators.query import SATISFACTION, IndicatorQuery, Rules, Scope
from sync_server.settings import Settings
from sync_server.storage import Storage, User, alerts, counts, quality
from sync_server.web import dates, units, voice
from sync_server.web.figures import desk_figures, today
from sync_server.web.pages.service_page import WAIT_ROWS, band_name
from sync_server.web.register_summary import RegisterSummary, summarise
from sync_server.web.sparkline import sparkline

TREND_MONTHS = 6
MAX_REASONS = 5
MAX_VERBATIMS = 4
DeskKey = tuple[str, str]


@dataclass(frozen=True)
class TownLine:
    """One desk on the town page: its figures and its satisfaction over the last months."""

    row: DeskFigures
    trend: list[Figure] = field(default_factory=list)
    spark: str = ""


def has_data(row: DeskFigures) -> bool:
    """Answers or agents' visits in the period: the desk gets its page."""
    answers = row.figures.get("answers")
    return bool(answers and answers.value) or row.measured


def town_total(
    storage: Storage, period: Period, services: list[str] | None, min_n: int
) -> tuple[Figure, Figure]:
    """The satisfaction of every answer of the town (in the user's services), this period and
    the one before: every desk's answers together, not an average of the desks' rates."""
    totals = []
    with storage.read() as connection:
        for each in (period, period.previous()):
            start, end = each.bounds(storage.zone)
            rows = counts.main_level_counts(connection, storage.zone, start, end, services=services)
            tally = formulas.tally(rows)
            value = formulas.satisfaction_rate(tally.satisfied, tally.expressed)
            figure = rate_figure(value, tally.satisfied, tally.expressed, min_n)
            totals.append(dataclasses.replace(figure, unit="%"))
    return totals[0], totals[1]


def trends(
    storage: Storage, settings: Settings, period: Period, services: list[str] | None
) -> dict[DeskKey, list[Figure]]:
    """Each desk's satisfaction rate over the `TREND_MONTHS` months ending with `period`'s,
    oldest first, from one computation of consecutive months."""
    query = IndicatorQuery(
        period, Scope.of(services=services), Rules.from_settings(settings), SATISFACTION
    )
    found: dict[DeskKey, list[tuple[str, Figure]]] = {}
    for row in pipeline.compute_months(storage, query, TREND_MONTHS):
        found.setdefault((row.site, row.service), []).append(
            (row.period, row.figures["satisfaction_rate"])
        )
    return {key: [figure for _p, figure in sorted(items)] for key, items in found.items()}


def trend_text(trend: Sequence[Figure], language: str) -> str:
    """The months' rates as numbers, "—" where hidden: what the sparkline draws."""
    decimal = units.formats(language)["decimal"]
    return " · ".join("—" if f.hidden else decimal(f.value, 0) for f in trend)


def reason_rows(reasons: Sequence[Reason], language: str) -> list[tuple[str, int, str]]:
    """(reason, count, share) of the reasons chosen, most chosen first, at most `MAX_REASONS`."""
    formats = units.formats(language)
    return [
        (localized(r.label, language), r.count, formats["figure_value"](r.share, "%"))
        for r in reasons
        if r.count
    ][:MAX_REASONS]


# The waiting figures a desk's page lists (the service page has them all).
PACK_WAIT_KEYS = (
    "visits",
    "median_wait_minutes",
    "p90_wait_minutes",
    "within_threshold_rate",
    "walk_out_rate",
)
BUSIEST = 3


def wait_summary(row: DeskFigures, language: str) -> dict[str, Any]:
    """A desk's waiting figures, its busiest hours (mean wait and arrivals) and satisfaction
    by waiting band, as the desk's page lists them: numbers, no chart."""
    _ = i18n.translations(language).gettext
    names = dict(WAIT_ROWS)
    figures = [
        {
            "key": key,
            "name": _(names[key]) % {"threshold": f"{row.threshold_minutes:g}"}
            if key == "within_threshold_rate"
            else _(names[key]),
            "figure": row.figures[key],
        }
        for key in PACK_WAIT_KEYS
        if key in row.figures
    ]
    decimal = units.formats(language)["decimal"]
    day_names = get_day_names("wide", locale=i18n.BABEL_LOCALES[language])
    days = {weekday: day_names[index] for index, weekday in enumerate(formulas.WEEKDAYS)}
    order = {weekday: index for index, weekday in enumerate(formulas.WEEKDAYS)}
    busiest = sorted(row.cells, key=lambda c: (-c.arrivals, order[c.weekday], c.hour))
    return {
        "figures": figures,
        "busiest": [
            {
                "when": _("%(day)s %(hour)s h") % {"day": days[c.weekday], "hour": c.hour},
                "mean": "—" if c.mean_wait_minutes is None else decimal(c.mean_wait_minutes),
                "arrivals": c.arrivals,
            }
            for c in busiest[:BUSIEST]
        ],
        "bands": [{"name": band_name(b, language), "rate": b.rate} for b in row.bands],
    }


def said_rows(row: DeskFigures, language: str) -> list[dict[str, Any]]:
    """The declared waiting bands of a desk, when any visitor said how long they waited."""
    found = voice.said_waits(row, language)
    return found["rows"] if found else []


def fetch_verbatims(
    storage: Storage, settings: Settings, rows: Sequence[DeskFigures], period: Period
) -> dict[DeskKey, list[str]]:
    """The few comments each desk's page quotes, keyed by (site, service): masked, never one
    held for the quality manager's review (`comments.verbatims`)."""
    if not rows:
        return {}
    start, end = period.bounds(ZoneInfo(settings.timezone))
    with storage.read() as connection:
        found = verbatims.selected_verbatims(
            connection,
            start,
            end,
            services=sorted({row.service for row in rows}),
            sites=sorted({row.site for row in rows}),
            limit=MAX_VERBATIMS,
        )
    return {key: [v.text for v in items] for key, items in found.items()}


def month_register(
    storage: Storage, settings: Settings, period: Period, services: list[str] | None
) -> RegisterSummary:
    """Register entries received, handled and late in the month (read from a year before its
    start, so entries received earlier and handled in the month count as handled)."""
    zone = ZoneInfo(settings.timezone)
    start, end = period.bounds(zone)
    with storage.read() as connection:
        entries = quality.register(
            connection, services=services, start=start - timedelta(days=366), end=end
        )
    holidays = public_holidays.calendar(settings.holidays_region)
    return summarise(entries, period.start, period.end, today(settings), zone, holidays)


def month_alerts(storage: Storage, period: Period, services: list[str] | None) -> list[Alert]:
    start, end = period.bounds(storage.zone)
    with storage.read() as connection:
        return alerts.sent_in(connection, start, end, services)


def monthly_context(
    storage: Storage, settings: Settings, user: User, period: Period, language: str
) -> dict[str, Any]:
    """Everything `report_monthly.html` shows, for the services `user` may read."""
    services = visible_services(user)
    rows = desk_figures(storage, settings, period, services=services)
    by_month = trends(storage, settings, period, services)
    _ = i18n.translations(language).gettext
    lines = []
    for row in rows:
        trend = by_month.get((row.site, row.service), [])
        target = row.figures["satisfaction_rate"].target
        label = _("Satisfaction sur %(count)s mois · %(desk)s") % {
            "count": len(trend),
            "desk": f"{row.service_name} · {row.site_name}",
        }
        values = [None if f.hidden else f.value for f in trend]
        lines.append(TownLine(row, trend, sparkline(values, target, label) if trend else ""))
    desks = [row for row in rows if has_data(row)]
    names = {(row.site, row.service): f"{row.service_name} · {row.site_name}" for row in rows}
    now, before = town_total(storage, period, services, settings.min_answers)
    return {
        "lines": [line for line in lines if has_data(line.row)],
        "quiet": [line.row for line in lines if not has_data(line.row)],
        "desks": desks,
        "total": {"now": now, "before": before},
        "visits": sum(int(row.figures["visits"].value or 0) for row in rows),
        "register": month_register(storage, settings, period, services),
        "alerts": month_alerts(storage, period, services),
        "desk_names": names,
        "reasons": {(r.site, r.service): reason_rows(r.reasons, language) for r in desks},
        "said": {(r.site, r.service): said_rows(r, language) for r in desks},
        "verbatims": fetch_verbatims(storage, settings, desks, period),
        "waits": {(r.site, r.service): wait_summary(r, language) for r in desks},
        "trend_text": lambda trend: trend_text(trend, language),
        "question_status": lambda question: targets.status(question.rate, "question_rate"),
    }


def generated_at(settings: Settings, now: datetime) -> str:
    """When the report was made, as the town's clocks read it."""
    return dates.shown(now, ZoneInfo(settings.timezone), "minute")
