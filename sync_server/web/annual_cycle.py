"""The quality cycle's year in the annual review: the satisfaction surveys desk by desk, the
mystery evaluations, the internal audits and their findings, the actions of the year with their
measured effect, and the actions proposed for the next year, awaiting validation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sync_server.cycle.effect import DEFAULT_MONTHS
from sync_server.cycle.internal_audits import VERDICTS, Audit
from sync_server.indicators.figures import DeskFigures
from sync_server.indicators.periods import Period
from sync_server.settings import Settings
from sync_server.storage import Storage, internal_audits, mystery, plan
from sync_server.storage.models import PlanAction
from sync_server.web import audit_labels, plan_labels
from sync_server.web.effectiveness import Effect, effect
from sync_server.web.figures import today
from sync_server.web.monthly_pack import reason_rows
from sync_server.web.mystery_summary import ServiceLine, service_satisfaction, summary

# The reasons for dissatisfaction a desk's line names, most chosen first.
SURVEY_REASONS = 3
# The actions being carried out: validated, or started.
UNDER_WAY = ("validated", "in_progress")
HELD = ("done", "report_issued")


@dataclass(frozen=True)
class SurveyLine:
    """One desk's year of answers: how many, the satisfaction, and what went wrong."""

    row: DeskFigures
    reasons: list[tuple[str, int, str]]


@dataclass(frozen=True)
class AuditLine:
    """An internal audit of the year with its findings counted by verdict."""

    audit: Audit
    verdicts: dict[str, int]


@dataclass(frozen=True)
class NonConformity:
    audit: Audit
    engagement: str
    action: PlanAction | None


@dataclass(frozen=True)
class ActionLine:
    action: PlanAction
    effect: Effect | None


def survey_lines(rows: Iterable[DeskFigures], language: str) -> list[SurveyLine]:
    """The desks that received answers in the year, with their main reasons of dissatisfaction."""
    return [
        SurveyLine(row, reason_rows(row.reasons, language)[:SURVEY_REASONS])
        for row in rows
        if row.figures.get("answers") and row.figures["answers"].value
    ]


def verdict_counts(verdicts: Iterable[str]) -> dict[str, int]:
    """How many findings of each verdict, every verdict named (0 when none)."""
    counted = Counter(verdicts)
    return {verdict: counted.get(verdict, 0) for verdict in VERDICTS}


def in_year(moment: datetime | None, period: Period, zone: ZoneInfo) -> bool:
    """Whether a stored moment falls in the period's local days."""
    if moment is None:
        return False
    return period.start <= moment.astimezone(zone).date() < period.end


def actions_of_year(
    found: Sequence[PlanAction], period: Period, zone: ZoneInfo
) -> tuple[list[PlanAction], list[PlanAction]]:
    """(the actions done in the period, oldest first; the actions under way, created by its
    end) — never an abandoned or merely proposed one."""
    done = sorted(
        (a for a in found if a.status == "done" and in_year(a.done_at, period, zone)),
        key=lambda a: (a.done_at, a.id),
    )
    end_day = period.end
    under_way = [
        a for a in found if a.status in UNDER_WAY and a.created_at.astimezone(zone).date() < end_day
    ]
    return done, under_way


def _in_scope(services: Sequence[str], scope: list[str] | None) -> bool:
    return scope is None or any(service in scope for service in services)


def audits_of_year(
    storage: Storage, period: Period, services: list[str] | None
) -> tuple[list[AuditLine], list[NonConformity]]:
    """The year's audits of the services in scope (cancelled ones left out) with their findings
    counted, and each non-conformity with the action it opened."""
    lines, gaps = [], []
    with storage.read() as connection:
        audits = [
            a
            for a in internal_audits.of_year(connection, period.start.year)
            if a.status != "cancelled" and _in_scope([a.service], services)
        ]
        for audit in audits:
            findings = internal_audits.findings(connection, audit.id)
            lines.append(AuditLine(audit, verdict_counts(f.verdict for f in findings)))
            for f in findings:
                if f.verdict == "non_conformity":
                    action = None if f.action_id is None else plan.get(connection, f.action_id)
                    gaps.append(NonConformity(audit, f.engagement, action))
    return lines, gaps


def mystery_of_year(
    storage: Storage, period: Period, services: list[str] | None, rows: Iterable[DeskFigures]
) -> list[ServiceLine]:
    with storage.read() as connection:
        found = mystery.evaluations(
            connection, first=period.start, last=period.last, services=services
        )
    return summary(found, service_satisfaction(rows))


def cycle_context(
    storage: Storage,
    settings: Settings,
    period: Period,
    services: list[str] | None,
    rows: list[DeskFigures],
    language: str,
) -> dict[str, Any]:
    """What the annual review shows of the quality cycle, for the services in scope (None:
    every one)."""
    zone = ZoneInfo(settings.timezone)
    with storage.read() as connection:
        scoped = plan.actions(connection, plan.Filter(services=services))
    done, under_way = actions_of_year(scoped, period, zone)
    on: date = today(settings)
    audits, gaps = audits_of_year(storage, period, services)
    return {
        "surveys": survey_lines(rows, language),
        "mystery": mystery_of_year(storage, period, services, rows),
        "audits": audits,
        "audits_held": sum(line.audit.status in HELD for line in audits),
        "non_conformities": gaps,
        "done_actions": [ActionLine(a, effect(storage, settings, a, on)) for a in done],
        "under_way": under_way,
        "proposed": [a for a in scoped if a.status == "proposed"],
        "effect_months": DEFAULT_MONTHS,
        "verdicts": audit_labels.VERDICTS,
        "audit_statuses": audit_labels.AUDIT_STATUSES,
        "plan_statuses": plan_labels.PLAN_STATUSES,
        "plan_origins": plan_labels.ORIGINS,
    }
