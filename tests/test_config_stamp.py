"""The stamp of what a device's configuration is built from: one statement, and it changes with
each thing the configuration shows (the desk, the survey, last month's results and targets),
and with nothing else.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from qualivilles.bundled import load_default_survey
from sync_server.storage import Source, Storage, config_inputs, surveys, town, uploads
from tests.fixtures.server import SERVICE, SITE, TOWN, answer_payload, make_record, set_target
from tests.tools.projected import all_projected

MONTH = (date(2025, 2, 1), date(2025, 3, 1))
IN_MONTH = datetime(2025, 2, 10, 10, 0, tzinfo=UTC)
AFTER_MONTH = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)


def stamp(storage: Storage) -> str | None:
    return config_inputs.stamp(storage, SITE, SERVICE, MONTH)


def answers_at(storage: Storage, at: datetime, site: str = SITE, service: str = SERVICE) -> None:
    records = [
        make_record(answer_payload("satisfied"), at=at + timedelta(minutes=n)) for n in range(3)
    ]
    uploads.store_batch(storage, records, Source(site=site, service=service, channel="kiosk"))
    all_projected(storage)


def reloaded_town(storage: Storage, change) -> None:
    changed = copy.deepcopy(TOWN)
    change(changed)
    with storage.write() as connection:
        town.load_town(connection, changed)


def service_of(document: dict, slug: str = SERVICE) -> dict:
    return next(s for s in document["services"] if s["slug"] == slug)


def site_of(document: dict, slug: str = SITE) -> dict:
    return next(s for s in document["sites"] if s["slug"] == slug)


def desk_of(document: dict) -> dict:
    return next(d for d in document["desks"] if (d["site"], d["service"]) == (SITE, SERVICE))


def a_new_survey_version(storage: Storage) -> None:
    survey = load_default_survey()
    newer = survey.model_copy(update={"id": "accueil-2025", "version": 1})
    with storage.write() as connection:
        surveys.publish(connection, newer)


def the_new_version_chosen(storage: Storage) -> None:
    a_new_survey_version(storage)
    with storage.write() as connection:
        surveys.use(connection, "accueil-2025", 1)


CHANGES = {
    "the site renamed": lambda s: reloaded_town(s, lambda t: site_of(t).update(name="Mairie")),
    "the service renamed": lambda s: reloaded_town(
        s, lambda t: service_of(t).update(name="Guichet unique")
    ),
    "the waiting threshold": lambda s: reloaded_town(
        s, lambda t: service_of(t).update(wait_threshold_minutes=12)
    ),
    "the reasons for visit": lambda s: reloaded_town(
        s, lambda t: service_of(t)["visit_reasons"].pop()
    ),
    "the opening hours": lambda s: reloaded_town(
        s, lambda t: desk_of(t).update(opening_hours={"mon": [["09:00", "12:00"]]})
    ),
    "a survey version published": a_new_survey_version,
    "a survey version chosen": the_new_version_chosen,
    "answers in the month": lambda s: answers_at(s, IN_MONTH),
    "a target set": lambda s: set_target(s, "satisfaction_rate", SERVICE, 95, date(2020, 1, 1)),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_the_stamp_changes_with_what_the_configuration_shows(any_storage, change):
    before = stamp(any_storage)
    assert before is not None
    CHANGES[change](any_storage)
    assert stamp(any_storage) != before


def test_the_stamp_stays_for_what_the_configuration_does_not_show(any_storage):
    before = stamp(any_storage)
    answers_at(any_storage, AFTER_MONTH)  # this month's answers: last month's results unchanged
    other = next(d for d in TOWN["desks"] if (d["site"], d["service"]) != (SITE, SERVICE))
    answers_at(any_storage, IN_MONTH, other["site"], other["service"])  # another desk's
    assert stamp(any_storage) == before


def test_a_desk_not_in_the_town_has_no_stamp(any_storage):
    assert config_inputs.stamp(any_storage, SITE, "no-such-service", MONTH) is None


def test_the_stamp_is_read_in_one_statement(any_storage):
    sent: list[str] = []

    def note(conn, cursor, statement, *args) -> None:
        sent.append(statement)

    event.listen(any_storage.engine, "before_cursor_execute", note)
    try:
        stamp(any_storage)
    finally:
        event.remove(any_storage.engine, "before_cursor_execute", note)
    assert len([s for s in sent if s.lstrip().upper().startswith("SELECT")]) == 1
