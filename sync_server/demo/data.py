"""Realistic, reproducible demo records: answers and measured visits over the last three months.

Pure: given the town, the survey, "now" and a seed, it returns the records that demo devices would
have uploaded, as protocol `RecordIn` objects. Nothing here touches a database or the network, so
the demo command and the tests get the very same data, and every record goes through the real
ingestion path afterwards.

The data is shaped like the town: each desk is visited only on its opening days and hours (the
town's local time), never on a public holiday, the one-stop desk far more than the others; the
kiosk asks its short survey and the phone every question; a share of the visits an agent
measured gets a phone answer through the visit's own link, less satisfied when the wait was long.
"""

from __future__ import annotations

import math
import random
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import uuid6

from qualivilles import flow, opening_hours
from qualivilles.protocol import (
    AnswerPayload,
    Channel,
    RecordIn,
    RecordKind,
    ResponseStatus,
    VisitEvent,
    payload_hash,
)
from qualivilles.survey import QuestionType, SurveyDefinition
from sync_server.indicators import public_holidays

Source = Literal["kiosk", "tablet", "phone"]
Periods = list[tuple[time, time]]

DAYS_BACK = 91  # "the last three months"
# A desk without hours of its own nor of the town's: weekdays 8:30–17:30.
USUAL_HOURS = {day: [["08:30", "17:30"]] for day in opening_hours.DAYS[:5]}
# Relative footfall per half hour of the local day, from FOOTFALL_FROM: a morning peak, a lunch
# dip, an afternoon bump, and the after-school and after-work visitors of desks open late.
FOOTFALL_FROM = time(7, 0)
HALF_HOUR_WEIGHTS = [1, 1, 2, 3, 6, 8, 8, 7, 6, 4, 2, 2, 4, 6, 7, 6, 5, 4, 4, 4, 4, 4, 3, 2]
QUIET = 1  # any other half hour
# Target overall satisfaction per desk, cycled over the town's desks in order, so that a demo
# shows desks above target, one near it and one clearly below it.
SATISFACTION_PROFILE = [0.95, 0.84, 0.93, 0.97, 0.96, 0.92, 0.95, 0.97, 0.91, 0.94, 0.93]
# Visitors per desk relative to an average one, cycled the same way: the town file's first desk
# is its one-stop desk, by far the busiest.
FOOTFALL_PROFILE = [3.0, 1.2, 0.8, 0.7, 0.6, 0.6, 0.8, 0.7, 1.0, 0.7, 0.8]
VISITORS_PER_OPEN_HOUR = 0.18  # at an average desk; an agent tablet records each of them
TABLET_DESKS = 8  # the first desks of the town measure their waits with an agent tablet
# Of the visitors served at a desk with a tablet: those who answer through the visit's own link
# the agent shows after taking them in charge.
LINKED_SHARE = 0.3
# Of the other visitors: those who answer on the kiosk or through the desk's QR code...
ANSWER_SHARE = 0.6
PHONE_SHARE = 0.15  # ... on their phone rather than on the kiosk
# Satisfaction lost per threshold of waiting beyond half the service's threshold.
LONG_WAIT_PENALTY = 0.2
# The bundled survey's "how long did you wait?" bands: under 5, 5 to 15, 15 to 30, over 30 min.
WAIT_BAND_LIMITS = (5, 15, 30)

COMMENTS_HAPPY = {
    "fr": [
        "Accueil très agréable, merci.",
        "Agent patient et souriant.",
        "Rapide et efficace, rien à redire.",
        "Merci pour les explications claires.",
        "Très bon accueil, comme d'habitude.",
        "Personnel à l'écoute.",
    ],
    "en": ["Very friendly staff, thank you.", "Quick and clear, thanks."],
}
COMMENTS_UNHAPPY = {
    "fr": [
        "Trop d'attente ce matin, un seul guichet ouvert.",
        "Il manque des chaises dans la salle d'attente.",
        "On m'a renvoyé vers un autre service sans explication.",
        "Horaires pas pratiques quand on travaille.",
        "Le ticket d'attente ne fonctionnait pas.",
        "Pas assez de confidentialité au guichet.",
    ],
    "en": ["Long wait and nobody explained why.", "Hard to find the right desk."],
}


# What triage holds for the quality manager (an agent of the town file's "staff_names" named, an
# insult, an urgent call): the newest unhappy comments of the demo kiosk's desk say these.
FLAGGED_COMMENTS = [
    "Sophie m'a parlé sèchement devant tout le monde.",
    "Bande d'incapables, trois heures pour une carte d'identité, service de merde.",
    "Ça sent le gaz près des toilettes du rez-de-chaussée, faites vite.",
]


@dataclass(frozen=True)
class DemoDesk:
    site: str
    service: str
    wait_threshold_minutes: int
    satisfaction: float
    has_tablet: bool
    opens_on: date  # a desk that joined recently has too few answers: shows the min-N rule
    footfall: float  # visitors relative to an average desk
    hours: dict[str, Periods]  # open periods per weekday ("mon"…), local time


@dataclass
class DemoBatch:
    """Records from one source at one desk: a kiosk, an agent tablet or the phone survey."""

    site: str
    service: str
    source: Source
    records: list[RecordIn] = field(default_factory=list)


@dataclass(frozen=True)
class DemoData:
    batches: list[DemoBatch]

    @property
    def records(self) -> list[RecordIn]:
        return [record for batch in self.batches for record in batch.records]

    def count(self, kind: RecordKind) -> int:
        return sum(1 for record in self.records if record.kind == kind)


@dataclass(frozen=True)
class Opening:
    """One opening period of one day, as UTC instants."""

    opens: datetime
    closes: datetime


def uuid7_at(moment: datetime, rng: random.Random) -> UUID:
    """A UUIDv7 for a past instant, from the seeded RNG, so ids are time-ordered and repeatable."""
    timestamp_ms = int(moment.timestamp() * 1000)
    # uuid6.UUID sets the version and variant bits (the standard library's knows v7 from 3.14).
    return uuid6.UUID(int=(timestamp_ms & 0xFFFFFFFFFFFF) << 80 | rng.getrandbits(76), version=7)


def make_record(
    kind: RecordKind,
    payload: dict[str, Any],
    device_time: datetime,
    boot_time: datetime,
    rng: random.Random,
) -> RecordIn:
    """A record exactly as a device would seal it (hash over the payload as sent)."""
    return RecordIn(
        id=uuid7_at(device_time, rng),
        kind=kind,
        payload_hash=payload_hash(payload),
        device_time=device_time,
        monotonic_ms=max(0, int((device_time - boot_time).total_seconds() * 1000)),
        payload=payload,
    )


def desk_hours(town: dict[str, Any], desk: dict[str, Any]) -> dict[str, Periods]:
    """The periods a desk is open, per weekday, as the server reads the town file. A desk set
    to be always open (the demo kiosk's, so that the demo works at any hour) keeps the town's
    usual hours here: nobody queues at a town hall at night."""
    usual = opening_hours.parse(town.get("opening_hours")) or opening_hours.parse(USUAL_HOURS)
    own = opening_hours.parse(desk.get("opening_hours", town.get("opening_hours")))
    return own or usual or {}


def demo_desks(town: dict[str, Any], today: date) -> list[DemoDesk]:
    thresholds = {s["slug"]: int(s.get("wait_threshold_minutes", 15)) for s in town["services"]}
    desks = town["desks"]
    result = []
    for index, desk in enumerate(desks):
        newest = index == len(desks) - 1 and len(desks) > 1
        result.append(
            DemoDesk(
                site=desk["site"],
                service=desk["service"],
                wait_threshold_minutes=thresholds.get(desk["service"], 15),
                satisfaction=SATISFACTION_PROFILE[index % len(SATISFACTION_PROFILE)],
                has_tablet=index < TABLET_DESKS,
                opens_on=today - timedelta(days=3 if newest else DAYS_BACK),
                footfall=FOOTFALL_PROFILE[index % len(FOOTFALL_PROFILE)],
                hours=desk_hours(town, desk),
            )
        )
    return result


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: small means only, which is all a desk's day needs.
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _half_hour_weight(minute_of_day: int) -> int:
    since = (minute_of_day - _minutes_of(FOOTFALL_FROM)) // 30
    return HALF_HOUR_WEIGHTS[since] if 0 <= since < len(HALF_HOUR_WEIGHTS) else QUIET


@dataclass(frozen=True)
class _Hours:
    """A desk's open periods on one weekday, cut into the half-hour slots visitors are drawn
    from (worked out once per weekday, not once per day)."""

    periods: Periods
    slots: list[tuple[time, float, int]]  # (local start, seconds, index into periods)
    weights: list[float]
    hours: float  # open hours in the day

    @classmethod
    def of(cls, periods: Periods) -> _Hours:
        slots, weights = [], []
        for index, (opening, closing) in enumerate(periods):
            start, end = _minutes_of(opening), _minutes_of(closing)
            while start < end:
                # Slots end on the half hour, so that a desk opening at 13:45 has a short one.
                following = min((start // 30 + 1) * 30, end)
                slots.append((time(start // 60, start % 60), 60.0 * (following - start), index))
                weights.append(_half_hour_weight(start) * (following - start) / 30)
                start = following
        return cls(periods, slots, weights, sum(seconds for _, seconds, _ in slots) / 3600)

    def on(self, day: date, zone: ZoneInfo) -> _OpenDay:
        openings = [
            Opening(
                datetime.combine(day, opening, tzinfo=zone).astimezone(UTC),
                datetime.combine(day, closing, tzinfo=zone).astimezone(UTC),
            )
            for opening, closing in self.periods
        ]
        return _OpenDay(self, day, zone, openings)


@dataclass(frozen=True)
class _OpenDay:
    """One day a desk is open."""

    hours: _Hours
    day: date
    zone: ZoneInfo
    openings: list[Opening]

    def moments(self, rng: random.Random, count: int) -> list[tuple[datetime, Opening]]:
        """`count` instants of the day weighted by footfall, in order, each with its period."""
        drawn = []
        for start, seconds, index in rng.choices(
            self.hours.slots, weights=self.hours.weights, k=count
        ):
            # Whole seconds from the slot's start: never its end, when the next slot (or the
            # closing time) begins.
            local = datetime.combine(self.day, start, tzinfo=self.zone) + timedelta(
                seconds=rng.randrange(int(seconds))
            )
            drawn.append((local.astimezone(UTC), self.openings[index]))
        return sorted(drawn, key=lambda moment: moment[0])


def _minutes_of(clock: time) -> int:
    return clock.hour * 60 + clock.minute


def _overall_level(rng: random.Random, satisfaction: float) -> int:
    """0..3 on the smiley scale; `satisfaction` is the share of levels 2 and 3."""
    if rng.random() < satisfaction:
        return 3 if rng.random() < 0.55 else 2
    return 0 if rng.random() < 0.35 else 1


def satisfaction_after_wait(
    satisfaction: float, wait_minutes: float, threshold_minutes: float
) -> float:
    """A desk's share of satisfied visitors for one who waited `wait_minutes`: unchanged up to
    half the service's threshold, then a little lower for every further threshold waited."""
    beyond = max(0.0, wait_minutes / threshold_minutes - 0.5)
    return max(0.4, satisfaction - LONG_WAIT_PENALTY * beyond)


def _answer_payload(
    rng: random.Random,
    survey: SurveyDefinition,
    satisfaction: float,
    channel: Channel,
    visit: tuple[str, float] | None = None,
) -> dict[str, Any]:
    """One visitor's answer on `channel`; `visit` is (visit id, measured wait in minutes) for
    an answer given through the visit's own link."""
    language = "en" if rng.random() < 0.08 else "fr"
    main = survey.main
    by_level = {c.level: c.id for c in main.choices if c.level is not None}
    no_opinion = [c.id for c in main.choices if c.level is None]
    if no_opinion and rng.random() < 0.03:
        overall_level = None
        answers: dict[str, Any] = {main.id: no_opinion[0]}
    else:
        overall_level = _overall_level(rng, satisfaction)
        answers = {main.id: by_level[overall_level]}
    unhappy = overall_level is not None and overall_level <= 1
    # Walked away from the kiosk after the main question (kept as partial), or chose "finish
    # now" on the phone (complete: an unfinished phone survey is never sent).
    stopped = rng.random() < 0.12
    on_kiosk = channel == Channel.KIOSK
    comment = None
    if not stopped:
        waited = None if visit is None else visit[1]
        for question in survey.follow_ups:
            if not flow.is_asked(question, channel) or not flow.is_visible(question, answers):
                continue
            value = _follow_up_answer(rng, question, overall_level, waited)
            if value is not None:
                answers[question.id] = value
        commented = any(
            q.type == QuestionType.TEXT and flow.is_asked(q, channel) for q in survey.questions
        )
        if commented and rng.random() < (0.5 if unhappy else 0.15):
            pool = COMMENTS_UNHAPPY if unhappy else COMMENTS_HAPPY
            comment = rng.choice(pool[language])
    payload = AnswerPayload(
        survey_id=survey.id,
        survey_version=survey.version,
        channel=channel,
        language=language,
        status=ResponseStatus.PARTIAL if stopped and on_kiosk else ResponseStatus.COMPLETE,
        answers=answers,
        comment=comment,
        visit_id=None if visit is None else UUID(visit[0]),
    )
    return payload.model_dump(mode="json", exclude_none=True)


def _follow_up_answer(
    rng: random.Random, question: Any, overall_level: int | None, waited: float | None
) -> Any:
    if question.type == QuestionType.SMILEY:
        levels = {c.level: c.id for c in question.choices if c.level is not None}
        top = max(levels)
        base = top if overall_level is None else overall_level
        # Follow-ups mostly agree with the overall answer, give or take one step.
        level = min(top, max(0, base + rng.choice([-1, 0, 0, 0, 1])))
        return levels[level]
    if question.type == QuestionType.MULTIPLE_CHOICE:
        return sorted(rng.sample([c.id for c in question.choices], k=rng.choice([1, 1, 2])))
    if question.type == QuestionType.SINGLE_CHOICE and rng.random() < 0.5:
        choices = [c.id for c in question.choices]
        if question.wait_band and len(choices) == len(WAIT_BAND_LIMITS) + 1:
            if waited is not None:
                # The visitor answering through the visit's link knows how long it was.
                return choices[sum(waited >= limit for limit in WAIT_BAND_LIMITS)]
            # Unhappy visitors tend to report longer waits.
            unhappy = overall_level is not None and overall_level <= 1
            return rng.choices(choices, weights=[1, 2, 3, 2] if unhappy else [6, 4, 1, 0.3])[0]
        return rng.choice(choices)
    return None  # skipped optional question, free text kept for the comment field


@dataclass(frozen=True)
class _Visit:
    records: list[RecordIn]
    visit_id: str
    served_at: datetime | None  # None: walked out
    wait_minutes: float


def _visit(
    rng: random.Random,
    desk: DemoDesk,
    arrival: datetime,
    opening: Opening,
    boot: datetime,
    zone: ZoneInfo,
) -> _Visit:
    """One measured visit, over before its period closes: the queue is served by closing time."""
    median = desk.wait_threshold_minutes * 0.45 * _busy_factor(arrival, zone)
    wait_minutes = min(75.0, rng.lognormvariate(math.log(max(median, 0.5)), 0.6))
    over = wait_minutes > 1.5 * desk.wait_threshold_minutes
    walked_out = rng.random() < (0.35 if over else 0.02)
    if walked_out:
        wait_minutes *= rng.uniform(0.4, 0.9)  # gave up before their turn came
    open_minutes = (opening.closes - opening.opens).total_seconds() / 60
    wait_minutes = min(wait_minutes, 0.8 * open_minutes)
    wait = round(wait_minutes * 60, 1)
    latest = opening.closes - timedelta(seconds=wait + 60)
    if arrival > latest:
        # Came too late to be served before closing: arrived earlier instead.
        arrival = max(opening.opens, latest - timedelta(seconds=rng.uniform(0, 600)))
    visit_id = str(uuid7_at(arrival, rng))
    end = arrival + timedelta(seconds=wait)
    # `VisitEventPayload` as JSON, written out: a pydantic round trip per event would double the
    # cost of generating a visit.
    arrived = {"visit_id": visit_id, "event": VisitEvent.ARRIVED.value}
    closing = {
        "visit_id": visit_id,
        "event": (VisitEvent.WALKED_OUT if walked_out else VisitEvent.TAKEN_IN_CHARGE).value,
        "wait_seconds": wait,
    }
    records = [
        make_record(RecordKind.VISIT_EVENT, arrived, arrival, boot, rng),
        make_record(RecordKind.VISIT_EVENT, closing, end, boot, rng),
    ]
    return _Visit(records, visit_id, None if walked_out else end, wait / 60)


def _busy_factor(moment: datetime, zone: ZoneInfo) -> float:
    local = moment.astimezone(zone)
    peak = local.hour in (9, 10, 14) or (local.weekday() in (0, 5) and local.hour < 12)
    return 1.6 if peak else 1.0


def _linked_answer(
    rng: random.Random,
    survey: SurveyDefinition,
    desk: DemoDesk,
    visit: _Visit,
    opening: Opening,
    now: datetime,
) -> RecordIn | None:
    """The phone answer given through the visit's link once served, or None: most visitors do
    not answer, and those who would after closing time are left out."""
    if visit.served_at is None or rng.random() >= LINKED_SHARE:
        return None
    answered = visit.served_at + timedelta(minutes=rng.uniform(3, 15))
    if answered >= min(opening.closes, now):
        return None
    satisfaction = satisfaction_after_wait(
        desk.satisfaction, visit.wait_minutes, desk.wait_threshold_minutes
    )
    link = (visit.visit_id, visit.wait_minutes)
    payload = _answer_payload(rng, survey, satisfaction, Channel.PHONE, link)
    return make_record(RecordKind.ANSWER, payload, answered, answered, rng)


@dataclass(frozen=True)
class _Run:
    """What every desk's records are generated against."""

    survey: SurveyDefinition
    zone: ZoneInfo
    now: datetime
    holidays: Container[date]


def generate(
    town: dict[str, Any],
    survey: SurveyDefinition,
    now: datetime,
    seed: int = 2026,
    holidays: Container[date] | None = None,
) -> DemoData:
    """Answers and visits for every desk of `town` in its opening hours (local time), public
    `holidays` left out (default: metropolitan France's), before `now`."""
    zone = ZoneInfo(town.get("timezone", "Europe/Paris"))
    if holidays is None:
        holidays = public_holidays.calendar(public_holidays.DEFAULT_REGION)
    run = _Run(survey, zone, now, holidays)
    batches: list[DemoBatch] = []
    for desk in demo_desks(town, now.astimezone(zone).date()):
        # One stream per desk, seeded by its name: what a desk gets does not depend on how many
        # draws the desks before it took.
        rng = random.Random(f"{seed}:{desk.site}:{desk.service}")  # noqa: S311 -- made-up data
        batches.extend(b for b in _desk_batches(run, desk, rng) if b.records)
    kiosk = town.get("demo", {}).get("kiosk")
    if kiosk:
        _flag_newest(b for b in batches if (b.site, b.service) == (kiosk["site"], kiosk["service"]))
    return DemoData(batches)


def _flag_newest(batches: Iterable[DemoBatch]) -> None:
    """The desk's newest unhappy French comments replaced by `FLAGGED_COMMENTS` (resealed)."""
    found = [
        (batch, index)
        for batch in batches
        for index, record in enumerate(batch.records)
        if record.payload.get("comment") in COMMENTS_UNHAPPY["fr"]
    ]
    found.sort(key=lambda place: place[0].records[place[1]].device_time, reverse=True)
    for (batch, index), text in zip(found, FLAGGED_COMMENTS, strict=False):
        record = batch.records[index]
        payload = {**record.payload, "comment": text}
        batch.records[index] = record.model_copy(
            update={"payload": payload, "payload_hash": payload_hash(payload)}
        )


def _desk_batches(run: _Run, desk: DemoDesk, rng: random.Random) -> list[DemoBatch]:
    """The kiosk's, the phone survey's and the agent tablet's records of one desk."""
    kiosk = DemoBatch(desk.site, desk.service, "kiosk")
    phone = DemoBatch(desk.site, desk.service, "phone")
    tablet = DemoBatch(desk.site, desk.service, "tablet")
    week = {name: _Hours.of(periods) for name, periods in desk.hours.items() if periods}
    today = run.now.astimezone(run.zone).date()
    for offset in range(DAYS_BACK, -1, -1):
        day = today - timedelta(days=offset)
        hours = week.get(opening_hours.DAYS[day.weekday()])
        if hours is None or day < desk.opens_on or day in run.holidays:
            continue
        open_day = hours.on(day, run.zone)
        # Devices restart every morning; their monotonic clock counts from there.
        boot = open_day.openings[0].opens - timedelta(minutes=45)
        visitors = _poisson(rng, VISITORS_PER_OPEN_HOUR * desk.footfall * hours.hours)
        unlinked = visitors
        for arrival, opening in open_day.moments(rng, visitors if desk.has_tablet else 0):
            if arrival >= run.now:
                break
            visit = _visit(rng, desk, arrival, opening, boot, run.zone)
            # A visit still open at "now" is not sent yet, as on a real tablet.
            tablet.records.extend(r for r in visit.records if r.device_time < run.now)
            linked = _linked_answer(rng, run.survey, desk, visit, opening, run.now)
            if linked is not None:
                phone.records.append(linked)
                unlinked -= 1
        # Each visitor answers once at most: through the visit's link, or else maybe on the
        # kiosk or through the desk's QR code, at a moment of the day of their own.
        count = sum(rng.random() < ANSWER_SHARE for _ in range(unlinked))
        for moment, opening in open_day.moments(rng, count):
            if moment >= run.now:
                break
            if rng.random() < PHONE_SHARE:
                payload = _answer_payload(rng, run.survey, desk.satisfaction, Channel.PHONE)
                # The phone survey stamps an answer with the server's clock: no monotonic clock.
                phone.records.append(make_record(RecordKind.ANSWER, payload, moment, moment, rng))
            else:
                kiosk.records.extend(_kiosk_answer(run, desk, rng, moment, opening, boot))
    phone.records.sort(key=lambda record: record.device_time)
    return [kiosk, phone, tablet]


def _kiosk_answer(
    run: _Run,
    desk: DemoDesk,
    rng: random.Random,
    moment: datetime,
    opening: Opening,
    boot: datetime,
) -> list[RecordIn]:
    """One visitor's answer on the kiosk, now and then pressed twice."""
    payload = _answer_payload(rng, run.survey, desk.satisfaction, Channel.KIOSK)
    records = [make_record(RecordKind.ANSWER, payload, moment, boot, rng)]
    later = moment + timedelta(seconds=rng.uniform(0.5, 3))
    if rng.random() < 0.02 and later < min(opening.closes, run.now):
        # A second press seconds later: kept, but flagged as the kiosk would.
        again = dict(payload, suspect=True)
        records.append(make_record(RecordKind.ANSWER, again, later, boot, rng))
    return records
