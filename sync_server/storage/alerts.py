"""Queries of the unhappy-answers alerts: counts per desk over a short window, read straight from
`answers` (indexed on site, service, captured_at), and the `alerts` table of what was sent."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.alerts.rule import Alert, Desk
from sync_server.storage import schema

CHANNELS = ("email", "webhook")


@dataclass(frozen=True)
class AlertRecord:
    """One alert on one channel, and where its delivery stands."""

    id: int
    alert: Alert
    threshold_percent: float
    channel: str
    created_at: datetime
    attempts: int
    sent_at: datetime | None
    error: str | None
    # The same on every try: a receiver that got the alert already drops the copy.
    delivery_key: str


def window_levels(
    connection: Connection, start: datetime, end: datetime
) -> list[tuple[Desk, int | None, int | None, int]]:
    """(desk, main level, scale levels, answers) captured in [start, end), suspect presses left
    out; answers without a main answer are not counted (level None means "no opinion")."""
    a = schema.answers
    query = (
        sa.select(a.c.site, a.c.service, a.c.main_level, a.c.main_levels, sa.func.count())
        .where(
            a.c.captured_at >= start,
            a.c.captured_at < end,
            a.c.main_choice.is_not(None),
            a.c.suspect.is_(False),
        )
        .group_by(a.c.site, a.c.service, a.c.main_level, a.c.main_levels)
    )
    return [((row[0], row[1]), row[2], row[3], row[4]) for row in connection.execute(query)]


def last_window_ends(connection: Connection) -> dict[Desk, datetime]:
    """Per desk, the end of the latest window it was alerted for."""
    t = schema.alerts
    query = sa.select(t.c.site, t.c.service, sa.func.max(t.c.window_end)).group_by(
        t.c.site, t.c.service
    )
    # max() keeps the column's type, so the ends come back as aware UTC times.
    return {(site, service): end for site, service, end in connection.execute(query)}


def record(
    connection: Connection,
    alerts: Sequence[Alert],
    channels: Sequence[str],
    threshold_percent: float,
    now: datetime,
) -> list[Alert]:
    """Store each alert once per channel, undelivered; returns those stored. An alert whose
    desk was alerted meanwhile for an overlapping window (another check running at the same
    time) is dropped, so two runners never send the same alert."""
    last = last_window_ends(connection)
    stored = []
    for alert in alerts:
        previous = last.get((alert.site, alert.service))
        if previous is not None and alert.window_start < previous:
            continue
        for channel in channels:
            connection.execute(
                schema.alerts.insert().values(
                    site=alert.site,
                    service=alert.service,
                    window_start=alert.window_start,
                    window_end=alert.window_end,
                    expressed=alert.expressed,
                    unhappy=alert.unhappy,
                    threshold_percent=threshold_percent,
                    channel=channel,
                    created_at=now,
                    attempts=0,
                    delivery_key=str(uuid.uuid4()),
                )
            )
        stored.append(alert)
    return stored


def _record(row: sa.Row[tuple[object, ...]]) -> AlertRecord:
    alert = Alert(
        row.site, row.service, row.window_start, row.window_end, row.expressed, row.unhappy
    )
    return AlertRecord(
        id=row.id,
        alert=alert,
        threshold_percent=row.threshold_percent,
        channel=row.channel,
        created_at=row.created_at,
        attempts=row.attempts,
        sent_at=row.sent_at,
        error=row.error,
        delivery_key=row.delivery_key,
    )


def claim_next(
    connection: Connection,
    now: datetime,
    *,
    retry_after: timedelta,
    max_age: timedelta,
    skip: Collection[int] = (),
) -> AlertRecord | None:
    """The oldest undelivered alert to try now, marked as tried: never tried, or last tried at
    least `retry_after` ago (a failure is not retried at once), whose window ended less than
    `max_age` ago (an alert days late is kept with its error, not sent), and not in `skip`
    (those this check has tried already)."""
    t = schema.alerts
    conditions = [
        t.c.sent_at.is_(None),
        t.c.window_end >= now - max_age,
        sa.or_(t.c.last_attempt_at.is_(None), t.c.last_attempt_at <= now - retry_after),
    ]
    if skip:
        conditions.append(t.c.id.not_in(list(skip)))
    row = connection.execute(sa.select(t).where(*conditions).order_by(t.c.id).limit(1)).first()
    if row is None:
        return None
    connection.execute(
        t.update().where(t.c.id == row.id).values(attempts=t.c.attempts + 1, last_attempt_at=now)
    )
    return _record(row)


def mark_sent(connection: Connection, alert_id: int, delivered_at: datetime) -> None:
    """The alert was handed to its channel at `delivered_at` (not when the check began)."""
    t = schema.alerts
    connection.execute(
        t.update().where(t.c.id == alert_id).values(sent_at=delivered_at, error=None)
    )


def mark_failed(connection: Connection, alert_id: int, error: str) -> None:
    t = schema.alerts
    connection.execute(t.update().where(t.c.id == alert_id).values(error=error[:500]))


def history(connection: Connection, limit: int = 100) -> list[AlertRecord]:
    """The latest alerts, newest first."""
    t = schema.alerts
    query = sa.select(t).order_by(t.c.id.desc()).limit(limit)
    return [_record(row) for row in connection.execute(query)]


def sent_in(
    connection: Connection, start: datetime, end: datetime, services: list[str] | None = None
) -> list[Alert]:
    """The alerts whose window ended in [start, end), once each whatever the channels they went
    to, oldest first; of `services` when given."""
    t = schema.alerts
    columns = (t.c.site, t.c.service, t.c.window_start, t.c.window_end, t.c.expressed, t.c.unhappy)
    query = (
        sa.select(*columns)
        .where(t.c.window_end >= start, t.c.window_end < end)
        .distinct()
        .order_by(t.c.window_end, t.c.site, t.c.service)
    )
    if services is not None:
        query = query.where(t.c.service.in_(services))
    return [Alert(*row) for row in connection.execute(query)]
