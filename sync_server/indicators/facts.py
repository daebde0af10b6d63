"""What the figures are computed from: read from storage for each period, grouped by desk.

Counts and lists only, no formula applied. A part the query does not ask for is not read (None),
the previous period reads only what the "previous" column needs, and the visits of consecutive
periods are read in one query. Every reader takes the connection of the computation's one
`storage.read()`, so all its periods come from the same snapshot; `zone` is the storage's, the
one the daily rollups are cut in.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from qualivilles.survey import QuestionType, SurveyDefinition
from sync_server.indicators import formulas
from sync_server.indicators.formulas import DeadlineOutcome, SatisfactionCounts, VisitFact
from sync_server.indicators.periods import Period
from sync_server.indicators.query import IndicatorQuery, Rules, Scope
from sync_server.storage import (
    Connection,
    LevelCount,
    RegisterEntry,
    counts,
    devices,
    health,
    quality,
    surveys,
)
from sync_server.storage import visits as stored_visits
from sync_server.storage.models import ItemCount

DeskKey = tuple[str, str]  # (site, service)
QuestionKey = tuple[str, str, str]  # (site, service, question)
Linked = tuple[float, int, int]  # (wait seconds, level, levels) of an answer linked to a visit
Said = tuple[str, float]  # (declared waiting band, measured wait seconds) of a linked answer
Outcomes = tuple[list[DeadlineOutcome], list[DeadlineOutcome]]  # (acknowledged, answered)
LevelOf = Callable[[str, int, str, str], tuple[int, int] | None]
Bounds = tuple[datetime, datetime]


@dataclass(frozen=True)
class DeskFacts:
    """One desk in one period; None where the part was not read."""

    main: list[LevelCount] = field(default_factory=list)
    waits: list[float] | None = None  # measured waits of served visits, in seconds
    visits: list[VisitFact] | None = None
    linked: list[Linked] = field(default_factory=list)
    visitors: int | None = None
    questions: dict[str, SatisfactionCounts] = field(default_factory=dict)
    distribution: dict[str, dict[str, int]] = field(default_factory=dict)
    quality: dict[str, int] = field(default_factory=dict)
    comments: dict[str, int] = field(default_factory=dict)
    register: Outcomes | None = None
    said: list[Said] = field(default_factory=list)


@dataclass(frozen=True)
class PeriodFacts:
    """Every desk in one period, as the readers below group it."""

    main: dict[DeskKey, list[LevelCount]]
    waits: dict[DeskKey, list[float]] | None = None
    visits: dict[DeskKey, list[VisitFact]] | None = None
    linked: dict[DeskKey, list[Linked]] = field(default_factory=dict)
    visitors: dict[DeskKey, int] | None = None
    questions: dict[QuestionKey, SatisfactionCounts] = field(default_factory=dict)
    distribution: dict[QuestionKey, dict[str, int]] = field(default_factory=dict)
    quality: dict[DeskKey, dict[str, int]] = field(default_factory=dict)
    comments: dict[DeskKey, dict[str, int]] = field(default_factory=dict)
    register: dict[DeskKey, Outcomes] | None = None
    said: dict[DeskKey, list[Said]] = field(default_factory=dict)

    def desk(self, key: DeskKey) -> DeskFacts:
        return DeskFacts(
            main=self.main.get(key, []),
            waits=None if self.waits is None else self.waits.get(key, []),
            visits=None if self.visits is None else self.visits.get(key, []),
            linked=self.linked.get(key, []),
            visitors=None if self.visitors is None else self.visitors.get(key, 0),
            questions=_of_desk(self.questions, key),
            distribution=_of_desk(self.distribution, key),
            quality=self.quality.get(key, {"total": 0, "suspect": 0, "partial": 0}),
            comments=dict(sorted(self.comments.get(key, {}).items())),
            register=None if self.register is None else self.register.get(key, ([], [])),
            said=self.said.get(key, []),
        )


def _of_desk(by_question: dict[QuestionKey, object], key: DeskKey) -> dict:
    return {question: value for (*desk, question), value in by_question.items() if (*desk,) == key}


def read_each(
    connection: Connection, zone: ZoneInfo, query: IndicatorQuery, periods: Sequence[Period]
) -> list[PeriodFacts]:
    """The facts the query's parts need for each of `periods` (consecutive, oldest first). The
    first is read as a previous period: only what the "previous" column needs."""
    if query.parts.visits:
        visits = visits_of_each(connection, query, periods)
    else:
        visits = [Visits()] * len(periods)
    return [
        _read(connection, zone, query, period, visits[index], current=index > 0)
        for index, period in enumerate(periods)
    ]


def _read(
    connection: Connection,
    zone: ZoneInfo,
    query: IndicatorQuery,
    period: Period,
    visits: Visits,
    current: bool,
) -> PeriodFacts:
    parts, scope = query.parts, query.scope
    bounds = period.bounds(query.rules.zone)
    waits = None
    if visits.visits is not None:
        waits = {key: formulas.served_waits(rows) for key, rows in visits.visits.items()}
    elif parts.waits and (current or parts.previous_waits):
        waits = stored_visits.served_waits(
            connection, *bounds, sites=scope.site_list, services=scope.service_list
        )
    main = read_main(connection, zone, scope, bounds)
    found = PeriodFacts(main, waits, visits.visits, visits.linked)
    if parts.details:
        details = read_details(connection, zone, query, bounds, current)
        found = dataclasses.replace(found, **details)
    return found


@dataclass(frozen=True)
class Visits:
    """The agents' visits of one period, and the answers linked to them (None: not read)."""

    visits: dict[DeskKey, list[VisitFact]] | None = None
    linked: dict[DeskKey, list[Linked]] = field(default_factory=dict)


def visits_of_each(
    connection: Connection, query: IndicatorQuery, periods: Sequence[Period]
) -> list[Visits]:
    """The visits of consecutive periods, read at once and shared out by time of arrival (a year
    of months costs one query, not twelve); the first period's linked answers are not read."""
    zone, sites, services = query.rules.zone, query.scope.site_list, query.scope.service_list
    starts = [period.bounds(zone)[0] for period in periods]
    end = periods[-1].bounds(zone)[1]
    visits = _by_period(
        stored_visits.visit_facts(connection, starts[0], end, sites=sites, services=services),
        starts,
        lambda row: VisitFact(*row),
    )
    linked_start = (starts[1:2] or [end])[0]
    linked = _by_period(
        stored_visits.linked_wait_facts(
            connection, linked_start, end, sites=sites, services=services
        ),
        starts,
        lambda row: row[1:],
    )
    return [Visits(*pair) for pair in zip(visits, linked, strict=True)]


def _by_period(
    rows_by_desk: dict[DeskKey, list[tuple]], starts: Sequence[datetime], make: Callable
) -> list[dict[DeskKey, list]]:
    """Rows (arrival time first) shared out by desk among the periods starting at `starts`."""
    found: list[dict[DeskKey, list]] = [defaultdict(list) for _ in starts]
    for key, rows in rows_by_desk.items():
        for row in rows:
            found[bisect_right(starts, row[0]) - 1][key].append(make(row))
    return found


def read_main(
    connection: Connection, zone: ZoneInfo, scope: Scope, bounds: Bounds
) -> dict[DeskKey, list[LevelCount]]:
    grouped: dict[DeskKey, list[LevelCount]] = defaultdict(list)
    for row in counts.main_level_counts(
        connection,
        zone,
        *bounds,
        sites=scope.site_list,
        services=scope.service_list,
        include_suspect=scope.include_suspect,
    ):
        grouped[(row.site, row.service)].append(row)
    return grouped


def read_details(
    connection: Connection, zone: ZoneInfo, query: IndicatorQuery, bounds: Bounds, current: bool
) -> dict[str, object]:
    """Visitors, per-question counts and register outcomes; for the current period also the
    answers' distribution, their data quality and the comments by category."""
    scope, services = query.scope, query.scope.service_list
    items = counts.item_counts(
        connection, zone, *bounds, services=services, include_suspect=scope.include_suspect
    )
    questions, distribution = question_counts(items, level_lookup(partial(surveys.get, connection)))
    entries = quality.register(connection, services=services, start=bounds[0], end=bounds[1])
    details: dict[str, object] = {
        "visitors": stored_visits.visitor_counts(connection, *bounds, services=services),
        "questions": questions,
        "register": register_outcomes(entries, query.rules, scope.sites),
    }
    if current:
        details["distribution"] = distribution
        details["quality"] = answer_quality(connection, zone, bounds, services)
        details["comments"] = comment_categories(connection, bounds, services)
        details["said"] = stored_visits.said_wait_facts(
            connection,
            *bounds,
            question_ids=wait_band_questions(surveys.current(connection)),
            sites=scope.site_list,
            services=services,
        )
    return details


def wait_band_questions(survey: SurveyDefinition | None) -> list[str]:
    """The questions where a visitor says how long they waited."""
    return [q.id for q in survey.questions if q.wait_band] if survey else []


def level_lookup(survey_of: Callable[[str, int], SurveyDefinition | None]) -> LevelOf:
    """(survey id, version, question, value) → (level, levels) for smiley answers, else None."""
    cache: dict[tuple[str, int], dict[tuple[str, str], tuple[int, int]]] = {}

    def levels_of(
        survey_id: str, version: int, question: str, value: str
    ) -> tuple[int, int] | None:
        if (survey_id, version) not in cache:
            cache[(survey_id, version)] = _smiley_levels(survey_of(survey_id, version))
        return cache[(survey_id, version)].get((question, value))

    return levels_of


def _smiley_levels(survey: SurveyDefinition | None) -> dict[tuple[str, str], tuple[int, int]]:
    table: dict[tuple[str, str], tuple[int, int]] = {}
    for question in survey.questions if survey else []:
        if question.type != QuestionType.SMILEY:
            continue
        steps = sum(1 for choice in question.choices if choice.level is not None)
        for choice in question.choices:
            if choice.level is not None:
                table[(question.id, choice.id)] = (choice.level, steps)
    return table


def question_counts(
    items: Iterable[ItemCount], level_of: LevelOf
) -> tuple[dict[QuestionKey, SatisfactionCounts], dict[QuestionKey, dict[str, int]]]:
    """Per (site, service, question): satisfaction counts, and the raw value distribution."""
    levels: dict[QuestionKey, list[LevelCount]] = defaultdict(list)
    distribution: dict[QuestionKey, dict[str, int]] = defaultdict(dict)
    for item in items:
        key = (item.site, item.service, item.question_id)
        found = level_of(item.survey_id, item.survey_version, item.question_id, item.value)
        values = distribution[key]
        values[item.value] = values.get(item.value, 0) + item.count
        if found is not None or item.value == "no_opinion":
            level, steps = found if found else (None, None)
            levels[key].append(LevelCount(item.site, item.service, level, steps, item.count))
    return {key: formulas.tally(rows) for key, rows in levels.items()}, distribution


def register_outcomes(
    entries: Iterable[RegisterEntry], rules: Rules, sites: Iterable[str] | None = None
) -> dict[DeskKey, Outcomes]:
    """Per (site, service): the acknowledgement and answer outcomes of the entries given, on
    the rules' day and with their holidays."""
    zone, today = rules.zone, rules.day()
    found: dict[DeskKey, Outcomes] = defaultdict(lambda: ([], []))
    for entry in entries:
        if sites is not None and entry.site not in sites:
            continue
        acknowledged, answered = formulas.register_outcomes(
            entry.received_at.astimezone(zone).date(),
            _local_day(entry.acknowledged_at, zone),
            _local_day(entry.answered_at, zone),
            _local_day(entry.closed_at, zone),
            today,
            rules.holidays,
        )
        outcomes = found[(entry.site, entry.service)]
        outcomes[0].append(acknowledged)
        outcomes[1].append(answered)
    return found


def _local_day(moment: datetime | None, zone: ZoneInfo) -> date | None:
    return None if moment is None else moment.astimezone(zone).date()


def answer_quality(
    connection: Connection, zone: ZoneInfo, bounds: Bounds, services: list[str] | None
) -> dict[DeskKey, dict[str, int]]:
    found: dict[DeskKey, dict[str, int]] = defaultdict(
        lambda: {"total": 0, "suspect": 0, "partial": 0}
    )
    for row in counts.answer_quality(connection, zone, *bounds, services=services):
        desk = found[(row.site, row.service)]
        desk["total"] += row.count
        desk["suspect"] += row.count if row.suspect else 0
        desk["partial"] += row.count if row.partial else 0
    return found


def comment_categories(
    connection: Connection, bounds: Bounds, services: list[str] | None
) -> dict[DeskKey, dict[str, int]]:
    comments: dict[DeskKey, dict[str, int]] = defaultdict(dict)
    for (site, service, category), count in quality.comment_categories(
        connection, *bounds, services
    ).items():
        comments[(site, service)][category] = count
    return comments


def silent_devices(connection: Connection, hours: int) -> dict[DeskKey, int]:
    """Enrolled devices silent for longer than `hours`, per desk (from the fleet view)."""
    silent: dict[DeskKey, int] = defaultdict(int)
    for state in health.fleet(connection, datetime.now(UTC), timedelta(hours=hours)):
        if state.silent:
            silent[(state.device.site, state.device.service)] += 1
    return dict(silent)


def desks_with_a_tablet(connection: Connection) -> set[DeskKey]:
    """Desks with an enrolled, not revoked agent tablet today."""
    return {
        (device.site, device.service)
        for device in devices.all_devices(connection)
        if device.mode == "tablet" and device.enrolled_at is not None and not device.revoked
    }
