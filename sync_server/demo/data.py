"""Realistic, reproducible demo records: answers and measured visits over the last three months.

Pure: given the town, the survey, "now" and a seed, it returns the records that demo devices would
have uploaded, as protocol `RecordIn` objects. Nothing here touches a database or the network, so
the demo command and the tests get the very same data, and every record goes through the real
ingestion path afterwards.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import uuid6

from qualivilles.protocol import (
    AnswerPayload,
    Channel,
    RecordIn,
    RecordKind,
    ResponseStatus,
    VisitEvent,
    VisitEventPayload,
    payload_hash,
)
from qualivilles.survey import QuestionType, SurveyDefinition

Source = Literal["kiosk", "tablet", "phone"]

DAYS_BACK = 91  # "the last three months"
OPENING = time(8, 30)
CLOSING = time(17, 30)
# Relative footfall per half hour from 8:30: a morning peak, a lunch dip, an afternoon bump.
SLOT_WEIGHTS = [3, 6, 8, 8, 7, 6, 4, 2, 2, 4, 6, 7, 6, 5, 4, 3, 2, 1]
# Target overall satisfaction per desk, cycled over the town's desks in order, so that a demo
# shows desks above target, one near it and one clearly below it.
SATISFACTION_PROFILE = [0.95, 0.84, 0.93, 0.97, 0.96, 0.92, 0.95, 0.97, 0.91, 0.94, 0.93]
ANSWERS_PER_DESK_DAY = 1.3
VISITS_PER_TABLET_DAY = 1.6
TABLET_DESKS = 8  # the first desks of the town measure their waits with an agent tablet

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


@dataclass(frozen=True)
class DemoDesk:
    site: str
    service: str
    wait_threshold_minutes: int
    satisfaction: float
    has_tablet: bool
    opens_on: date  # a desk that joined recently has too few answers: shows the min-N rule


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


def _moments_of_day(
    rng: random.Random, day: date, count: int, zone: ZoneInfo, now: datetime
) -> list[datetime]:
    slots = rng.choices(range(len(SLOT_WEIGHTS)), weights=SLOT_WEIGHTS, k=count)
    start = datetime.combine(day, OPENING, tzinfo=zone)
    moments = [
        (start + timedelta(minutes=30 * slot, seconds=rng.randrange(1800))).astimezone(UTC)
        for slot in slots
    ]
    return sorted(m for m in moments if m < now)


def _overall_level(rng: random.Random, satisfaction: float) -> int:
    """0..3 on the smiley scale; `satisfaction` is the share of levels 2 and 3."""
    if rng.random() < satisfaction:
        return 3 if rng.random() < 0.55 else 2
    return 0 if rng.random() < 0.35 else 1


def _answer_payload(
    rng: random.Random, survey: SurveyDefinition, desk: DemoDesk, channel: Channel
) -> dict[str, Any]:
    language = "en" if rng.random() < 0.08 else "fr"
    main = survey.main
    by_level = {c.level: c.id for c in main.choices if c.level is not None}
    no_opinion = [c.id for c in main.choices if c.level is None]
    if no_opinion and rng.random() < 0.03:
        overall_level = None
        answers: dict[str, Any] = {main.id: no_opinion[0]}
    else:
        overall_level = _overall_level(rng, desk.satisfaction)
        answers = {main.id: by_level[overall_level]}
    unhappy = overall_level is not None and overall_level <= 1
    partial = rng.random() < 0.12  # walked away after the main question
    comment = None
    if not partial:
        for question in survey.follow_ups:
            shown_if = question.show_if
            if shown_if is not None and answers.get(shown_if.question) not in shown_if.any_of:
                continue
            value = _follow_up_answer(rng, question, overall_level)
            if value is not None:
                answers[question.id] = value
        if rng.random() < (0.4 if unhappy else 0.08):
            pool = COMMENTS_UNHAPPY if unhappy else COMMENTS_HAPPY
            comment = rng.choice(pool[language])
    payload = AnswerPayload(
        survey_id=survey.id,
        survey_version=survey.version,
        channel=channel,
        language=language,
        status=ResponseStatus.PARTIAL if partial else ResponseStatus.COMPLETE,
        answers=answers,
        comment=comment,
    )
    return payload.model_dump(mode="json", exclude_none=True)


def _follow_up_answer(rng: random.Random, question: Any, overall_level: int | None) -> Any:
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
        if question.wait_band and len(choices) == 4:
            # Unhappy visitors tend to report longer waits.
            unhappy = overall_level is not None and overall_level <= 1
            return rng.choices(choices, weights=[1, 2, 3, 2] if unhappy else [6, 4, 1, 0.3])[0]
        return rng.choice(choices)
    return None  # skipped optional question, free text kept for the comment field


def _visit_records(
    rng: random.Random, desk: DemoDesk, arrival: datetime, boot: datetime, busy: float
) -> list[RecordIn]:
    visit_id = str(uuid7_at(arrival, rng))
    median = desk.wait_threshold_minutes * 0.45 * busy
    wait_minutes = min(75.0, rng.lognormvariate(math.log(max(median, 0.5)), 0.6))
    over = wait_minutes > 1.5 * desk.wait_threshold_minutes
    walked_out = rng.random() < (0.35 if over else 0.02)
    if walked_out:
        wait_minutes *= rng.uniform(0.4, 0.9)  # gave up before their turn came
    wait = round(wait_minutes * 60, 1)
    end = arrival + timedelta(seconds=wait)
    arrived = VisitEventPayload(visit_id=visit_id, event=VisitEvent.ARRIVED)
    closing = VisitEventPayload(
        visit_id=visit_id,
        event=VisitEvent.WALKED_OUT if walked_out else VisitEvent.TAKEN_IN_CHARGE,
        wait_seconds=wait,
    )
    return [
        make_record(RecordKind.VISIT_EVENT, _dump(arrived), arrival, boot, rng),
        make_record(RecordKind.VISIT_EVENT, _dump(closing), end, boot, rng),
    ]


def _dump(payload: VisitEventPayload) -> dict[str, Any]:
    return payload.model_dump(mode="json", exclude_none=True)


def _busy_factor(moment: datetime, zone: ZoneInfo) -> float:
    local = moment.astimezone(zone)
    peak = local.hour in (9, 10, 14) or (local.weekday() == 0 and local.hour < 12)
    return 1.6 if peak else 1.0


def generate(
    town: dict[str, Any], survey: SurveyDefinition, now: datetime, seed: int = 2026
) -> DemoData:
    """Answers and visits for every desk of `town`, weekdays 8:30–17:30 local, before `now`."""
    rng = random.Random(seed)  # noqa: S311 -- made-up demo data, not secrets
    zone = ZoneInfo(town.get("timezone", "Europe/Paris"))
    today = now.astimezone(zone).date()
    desks = demo_desks(town, today)
    batches: list[DemoBatch] = []
    for desk in desks:
        kiosk = DemoBatch(desk.site, desk.service, "kiosk")
        phone = DemoBatch(desk.site, desk.service, "phone")
        tablet = DemoBatch(desk.site, desk.service, "tablet")
        for offset in range(DAYS_BACK, -1, -1):
            day = today - timedelta(days=offset)
            if day.weekday() >= 5 or day < desk.opens_on:
                continue
            # Devices restart every morning; their monotonic clock counts from there.
            boot = datetime.combine(day, time(7, 45), tzinfo=zone).astimezone(UTC)
            count = _poisson(rng, ANSWERS_PER_DESK_DAY)
            for moment in _moments_of_day(rng, day, count, zone, now):
                on_phone = rng.random() < 0.15
                batch = phone if on_phone else kiosk
                channel = Channel.PHONE if on_phone else Channel.KIOSK
                payload = _answer_payload(rng, survey, desk, channel)
                batch.records.append(make_record(RecordKind.ANSWER, payload, moment, boot, rng))
                if not on_phone and rng.random() < 0.02:
                    # A second press seconds later: kept, but flagged as the kiosk would.
                    again = dict(payload, suspect=True)
                    later = moment + timedelta(seconds=rng.uniform(0.5, 3))
                    batch.records.append(make_record(RecordKind.ANSWER, again, later, boot, rng))
            if desk.has_tablet:
                visits = _poisson(rng, VISITS_PER_TABLET_DAY)
                for arrival in _moments_of_day(rng, day, visits, zone, now):
                    busy = _busy_factor(arrival, zone)
                    records = _visit_records(rng, desk, arrival, boot, busy)
                    # A visit still open at "now" is not sent yet, as on a real tablet.
                    tablet.records.extend(r for r in records if r.device_time < now)
        batches.extend(b for b in (kiosk, phone, tablet) if b.records)
    return DemoData(batches)
