"""What a monthly meeting's preparation shows, for the services a reader may read: each desk's
satisfaction and waiting commitment against their targets since the last meeting (the one
figures computation, `desk_figures`), the register's entries received since then and those
overdue today, the alerts raised, the actions due before the next meeting or overdue, and the
internal audits of the next two months. The page and the PDF show the same."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

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

    def overdue(self, action: PlanAction) -> bool:
        return action.due_on is not None and action.due_on < self.today


def prepare(
    storage: Storage,
    settings: Settings,
    meeting: Meeting,
    services: list[str] | None,
    readable: Sequence[Audit] | None = None,
) -> Preparation:
    """The preparation of `meeting` for `services` (None: every service). `readable`: the
    internal audits the reader may read (None: every audit of the services)."""
    on = today(settings)
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
