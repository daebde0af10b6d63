"""What a monthly meeting's preparation shows, for the services a reader may read: each desk's
satisfaction and waiting commitment against their targets since the last meeting (the one
figures computation, `desk_figures`), the register's entries received since then and those
overdue today, the alerts raised, the actions due before the next meeting or overdue, and the
internal audits of the next two months. The page and the PDF show the same.

Closing the minutes keeps the whole town's preparation as it stands (`kept`, JSON in the
meeting's row); a closed meeting then shows that, narrowed to the reader's services, so that its
minutes keep saying what the meeting saw, not today's register and actions.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from pydantic import TypeAdapter, ValidationError

from sync_server.alerts.rule import Alert
from sync_server.cycle import meetings as rules
from sync_server.cycle.internal_audits import Audit
from sync_server.cycle.meetings import Meeting
from sync_server.indicators import public_holidays
from sync_server.indicators.figures import DeskFigures
from sync_server.indicators.periods import Period
from sync_server.indicators.query import WAITS
from sync_server.settings import Settings
from sync_server.storage import (
    RegisterEntry,
    Storage,
    alerts,
    internal_audits,
    meetings,
    plan,
    quality,
    town,
)
from sync_server.storage.models import PlanAction
from sync_server.web.figures import desk_figures, today

# How far back the register is read for entries still overdue: a year is more than any open
# entry waits in practice, and bounds the read.
REGISTER_LOOKBACK_DAYS = 366


@dataclass(frozen=True)
class RegisterLine:
    """One service's register: entries received since the last meeting, entries overdue today."""

    service: str
    received: int
    overdue: int


@dataclass(frozen=True)
class Preparation:
    meeting: Meeting
    previous: Meeting | None
    period: Period  # since the last meeting
    today: date
    desks: list[DeskFigures]
    register: list[RegisterLine]
    alerts: list[Alert]
    actions: list[PlanAction]  # due before the next meeting, overdue ones included
    audits: list[Audit]  # planned in the next two months
    service_names: dict[str, str]
    # Read back from the minutes' closing (`thawed`), not computed now.
    kept: bool = False

    def overdue(self, action: PlanAction) -> bool:
        return action.due_on is not None and action.due_on < self.today


_KEPT = TypeAdapter(Preparation)
log = logging.getLogger(__name__)


def prepare(
    storage: Storage,
    settings: Settings,
    meeting: Meeting,
    services: list[str] | None,
    readable: Sequence[Audit] | None = None,
    on: date | None = None,
) -> Preparation:
    """The preparation of `meeting` for `services` (None: every service). `readable`: the
    internal audits the reader may read (None: every audit of the services). `on`: the day it
    is made (today by default; what is overdue is overdue on that day)."""
    on = on or today(settings)
    with storage.read() as connection:
        previous = rules.previous(meetings.every(connection), meeting)
        names = {d.service.slug: d.service.name for d in town.desks(connection)}
    period = rules.since_last(previous.day if previous else None, meeting.day, on)
    rows = desk_figures(storage, settings, period, services=services, parts=WAITS)
    start, end = period.bounds(storage.zone)
    with storage.read() as connection:
        raised = alerts.sent_in(connection, start, end, services)
        every_action = plan.actions(connection, plan.Filter(services=services))
        years = {meeting.day.year, rules.months_after(meeting.day, 2).year}
        audits = [a for year in sorted(years) for a in internal_audits.of_year(connection, year)]
        entries = quality.register(
            connection,
            services=services,
            start=start - timedelta(days=REGISTER_LOOKBACK_DAYS),
            end=datetime.now(UTC),
        )
    if readable is not None:
        audits = [a for a in audits if a.id in {r.id for r in readable}]
    elif services is not None:
        audits = [a for a in audits if a.service in services]
    return Preparation(
        meeting=meeting,
        previous=previous,
        period=period,
        today=on,
        desks=rows,
        register=register_lines(entries, period, on, storage, settings),
        alerts=raised,
        actions=rules.actions_due(every_action, meeting.day),
        audits=rules.audits_ahead(audits, meeting.day),
        service_names=names,
    )


def preparation_of(
    storage: Storage,
    settings: Settings,
    meeting: Meeting,
    services: list[str] | None,
    readable: Sequence[Audit] | None = None,
) -> Preparation:
    """What `meeting`'s page and PDF show for `services` (as `prepare`): once closed, the
    preparation kept at the closing, narrowed; computed now while open, or when the minutes
    were closed before preparations were kept (or what was kept no longer reads)."""
    if meeting.closed:
        with storage.read() as connection:
            text = meetings.frozen_preparation(connection, meeting.id)
        found = None if text is None else thawed(text, meeting)
        if found is not None:
            return narrowed(found, services, readable)
    return prepare(storage, settings, meeting, services, readable)


def kept(preparation: Preparation) -> str:
    """The whole town's preparation as the JSON kept with closed minutes."""
    return _KEPT.dump_json(preparation).decode()


def thawed(text: str, meeting: Meeting) -> Preparation | None:
    """The preparation kept in `text`, of `meeting` as it is now (closed); None, logged, if it
    does not read back (a stored value must never make the page fail)."""
    try:
        found = _KEPT.validate_json(text)
    except ValidationError as error:
        log.warning("meeting %s: its kept preparation does not read back (%s)", meeting.id, error)
        return None
    return replace(found, meeting=meeting, kept=True)


def narrowed(
    preparation: Preparation,
    services: Collection[str] | None,
    readable: Sequence[Audit] | None = None,
) -> Preparation:
    """The whole town's `preparation` as `prepare` would give it for `services` (None: every
    service) and the `readable` audits (None: every audit of the services)."""

    def shown(service: str) -> bool:
        return services is None or service in services

    audits = preparation.audits
    if readable is not None:
        ids = {audit.id for audit in readable}
        audits = [audit for audit in audits if audit.id in ids]
    else:
        audits = [audit for audit in audits if shown(audit.service)]
    return replace(
        preparation,
        desks=[desk for desk in preparation.desks if shown(desk.service)],
        register=[line for line in preparation.register if shown(line.service)],
        alerts=[alert for alert in preparation.alerts if shown(alert.service)],
        actions=[a for a in preparation.actions if any(shown(s) for s in a.services)],
        audits=audits,
    )


def register_lines(
    entries: Sequence[RegisterEntry],
    period: Period,
    on: date,
    storage: Storage,
    settings: Settings,
) -> list[RegisterLine]:
    """Per service with any: entries received in `period`, entries overdue on `on`."""
    holidays = public_holidays.calendar(settings.holidays_region)
    zone = storage.zone
    received: dict[str, int] = {}
    overdue: dict[str, int] = {}
    for entry in entries:
        day = entry.received_at.astimezone(zone).date()
        if period.start <= day < period.end:
            received[entry.service] = received.get(entry.service, 0) + 1
        late = rules.register_overdue(
            day, _local(entry.acknowledged_at, storage), _local(entry.answered_at, storage),
            _local(entry.closed_at, storage), on, holidays,
        )  # fmt: skip
        if late:
            overdue[entry.service] = overdue.get(entry.service, 0) + 1
    return [
        RegisterLine(service, received.get(service, 0), overdue.get(service, 0))
        for service in sorted(set(received) | set(overdue))
    ]


def _local(moment: datetime | None, storage: Storage) -> date | None:
    return None if moment is None else moment.astimezone(storage.zone).date()
