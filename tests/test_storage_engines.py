"""The storage on both engines: every test here runs on SQLite and on PostgreSQL (`any_storage`),
and the indicator computations give the same figures on both for the same records."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from qualivilles.protocol import Heartbeat, RecordKind, canonical_json
from sync_server.indicators import periods, pipeline
from sync_server.indicators.periods import parse
from sync_server.indicators.query import WAITS, IndicatorQuery, Rules
from sync_server.storage import (
    Source,
    Storage,
    counts,
    db,
    devices,
    exports,
    login_failures,
    migrations,
    projection,
    quality,
    rollups,
    schema,
    sessions,
    town,
    uploads,
    users,
)
from sync_server.storage import health as fleet_health
from tests.fixtures.server import SERVICE, SITE, TOWN, answer_payload, make_record

PARIS = ZoneInfo("Europe/Paris")
KIOSK = Source(site=SITE, service=SERVICE, channel="kiosk")
TABLET = Source(site=SITE, service=SERVICE, channel="tablet")
MARCH = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
SMILEYS = ["very_satisfied", "satisfied", "dissatisfied", "very_dissatisfied", "no_opinion"]
# What `seed` puts in March 2025 (Paris): day d gets d % 4 + 1 answers, the nth one a smiley in
# turn; then an answer either side of each edge, a partial answer and a commented one.
DAILY = [(day, n) for day in range(31) for n in range(day % 4 + 1)]
IN_MARCH = len(DAILY) + 2 + 1 + 1
EXPRESSED = IN_MARCH - sum(1 for day, n in DAILY if SMILEYS[(day + n) % 5] == "no_opinion")


def same(first: list, second: list) -> bool:
    """The same rows in any order."""
    return Counter(map(repr, first)) == Counter(map(repr, second))


def table_rows(storage: Storage, table: str) -> int:
    """Rows of a table as stored, without the projection catching up first."""
    with storage.engine.connect() as connection:
        return connection.scalar(sa.text(f"SELECT count(*) FROM {table}"))


def visit_records(visit_id: str, at: datetime, wait_minutes: float) -> list:
    arrived = {"visit_id": visit_id, "event": "arrived"}
    taken = {"visit_id": visit_id, "event": "taken_in_charge"}
    return [
        make_record(arrived, RecordKind.VISIT_EVENT, at),
        make_record(taken, RecordKind.VISIT_EVENT, at + timedelta(minutes=wait_minutes)),
    ]


@cache
def seed_records() -> tuple[list, list]:
    """The same month of records for every engine (ids included): answers spread over March
    2025 and just outside it in Paris time, follow-ups, a suspect run, a partial answer, a
    comment; and visits."""
    records = []
    for day, n in DAILY:
        at = datetime(2025, 3, 1, 7, 0, tzinfo=UTC) + timedelta(days=day, hours=n)
        choice = SMILEYS[(day + n) % 5]
        answers: dict = {"overall": choice, "welcome": SMILEYS[(day * 3 + n) % 4]}
        if choice in ("dissatisfied", "very_dissatisfied"):
            answers["why_unhappy"] = ["waiting", "welcome"][: n % 2 + 1]
        records.append(make_record(answer_payload(None, answers=answers), at=at))
    # Either side of the month's edges in Paris (UTC+1, then UTC+2 from 30 March).
    for at in (
        datetime(2025, 2, 28, 22, 30, tzinfo=UTC),  # 28 February, 23:30 in Paris
        datetime(2025, 2, 28, 23, 30, tzinfo=UTC),  # 1 March, 00:30
        datetime(2025, 3, 31, 21, 30, tzinfo=UTC),  # 31 March, 23:30
        datetime(2025, 3, 31, 22, 30, tzinfo=UTC),  # 1 April, 00:30
    ):
        records.append(make_record(answer_payload("satisfied"), at=at))
    records += [
        make_record(answer_payload("very_dissatisfied", suspect=True), at=MARCH) for _ in range(3)
    ]
    records.append(make_record(answer_payload("satisfied", status="partial"), at=MARCH))
    records.append(
        make_record(answer_payload("dissatisfied", comment="Trop d'attente au guichet"), at=MARCH)
    )
    visits = []
    for n, minutes in enumerate([2, 4, 6, 8, 10, 12.5]):
        visits += visit_records(str(uuid.UUID(int=n + 1)), MARCH + timedelta(hours=n), minutes)
    return records, visits


def seed(storage: Storage) -> None:
    records, visits = seed_records()
    uploads.store_batch(storage, records, KIOSK)
    uploads.store_batch(storage, visits, TABLET)


# -- schema, town, devices ------------------------------------------------------------------


def test_every_migration_runs_from_empty(storage_url):
    storage = Storage.from_url(storage_url)
    assert migrations.upgrade(storage) == [name for name, _ in migrations.MIGRATIONS]
    inspector = sa.inspect(storage.engine)
    found = {t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()}
    expected = {t.name: {c.name for c in t.columns} for t in schema.metadata.sorted_tables}
    assert found == expected
    assert migrations.upgrade(storage) == []
    storage.close()


def test_the_town_is_loaded(any_storage):
    with any_storage.read() as connection:
        desks = {(desk.site.slug, desk.service.slug) for desk in town.desks(connection)}
        assert (SITE, SERVICE) in desks
        assert len(desks) == len(TOWN["desks"])
        assert town.town_name(connection) == TOWN["town"]
    with any_storage.write() as connection:
        town.load_town(connection, TOWN)  # loading again changes nothing
    with any_storage.read() as connection:
        assert len(town.desks(connection)) == len(desks)


def test_enrolment_and_tokens(any_storage):
    with any_storage.write() as connection:
        code = devices.create(connection, site=SITE, service=SERVICE, name="Borne 1").code
        enrolment = devices.enrol(connection, code, app_version="1.0")
    device = devices.authenticate(any_storage, enrolment.token)
    assert device is not None
    assert (device.id, device.name, device.site) == (enrolment.device.id, "Borne 1", SITE)
    with any_storage.write() as connection:
        new_token = devices.rotate(connection, device.id)
    assert devices.authenticate(any_storage, enrolment.token) is not None  # until first use
    assert devices.authenticate(any_storage, new_token).id == device.id
    assert devices.authenticate(any_storage, enrolment.token) is None  # retired
    with any_storage.write() as connection:
        devices.revoke(connection, device.id)
        assert devices.get(connection, device.id).revoked_at is not None
    with any_storage.read() as connection:
        assert [d.id for d in devices.all_devices(connection)] == [device.id]


# -- accepting records ------------------------------------------------------------------------


def test_ingest_acknowledges_each_record(any_storage):
    answer = make_record(answer_payload("satisfied"), at=MARCH)
    visit_id = str(uuid.uuid4())
    events = visit_records(visit_id, MARCH, 5)
    acks = uploads.store_batch(any_storage, [answer, *events, answer], TABLET)
    assert [a.status for a in acks] == ["stored", "stored", "stored", "duplicate"]
    # Sent again: duplicates; the same id with another payload: a conflict, quarantined.
    other = answer.model_copy(update={"payload": answer_payload("dissatisfied")})
    other = make_record(answer_payload("dissatisfied"), at=MARCH, record_id=str(answer.id))
    acks = uploads.store_batch(any_storage, [*events, other], TABLET)
    assert [a.status for a in acks] == ["duplicate", "duplicate", "conflict"]
    with any_storage.read() as connection:
        [quarantined] = fleet_health.quarantined(connection)
        assert fleet_health.quarantine_summary(connection)
    assert (quarantined.record_id, quarantined.payload_hash) == (str(answer.id), other.payload_hash)
    # Rejected alone: a wrong hash, an unknown survey; the record beside them is stored.
    tampered = answer.model_copy(update={"payload": answer_payload("very_satisfied")})
    unknown = make_record(answer_payload(survey_version=99), at=MARCH)
    fine = make_record(answer_payload("very_satisfied"), at=MARCH)
    acks = uploads.store_batch(any_storage, [tampered, unknown, fine], KIOSK)
    assert [(a.status, a.code) for a in acks] == [
        ("rejected", "hash_mismatch"), ("rejected", "unknown_survey"), ("stored", None)
    ]  # fmt: skip
    with any_storage.read() as connection:
        assert schema.row_count(connection, "records") == 4
        assert schema.row_count(connection, "answers") == 2
        assert schema.row_count(connection, "visit_events") == 2
    with any_storage.read() as connection:
        [visit] = exports.visit_rows(
            connection, MARCH - timedelta(days=1), MARCH + timedelta(days=1)
        )
    assert visit["outcome"] == "served"
    assert visit["wait_seconds"] == 300


def test_a_drifting_clock_is_corrected(any_storage):
    with any_storage.write() as connection:
        code = devices.create(connection, site=SITE, service=SERVICE).code
        device = devices.enrol(connection, code).device
    source = Source(site=SITE, service=SERVICE, channel="kiosk", device_id=device.id)
    record = make_record(answer_payload("satisfied"), at=MARCH)
    hour = 3_600_000
    [ack] = uploads.store_batch(
        any_storage, [record], source, clock_offset_ms=hour, max_drift_ms=120_000
    )
    assert ack.status == "stored"
    with any_storage.read() as connection:
        [row] = exports.answer_rows(
            connection, MARCH - timedelta(days=1), MARCH + timedelta(days=1)
        )
    assert row["captured_at"] == MARCH + timedelta(hours=1)
    with any_storage.read() as connection:
        assert devices.get(connection, device.id).drifting
    with any_storage.engine.connect() as connection:
        sent = connection.scalar(sa.select(schema.records.c.device_time))
    assert sent == MARCH  # the log keeps the time as sent


def test_projection_catches_up(any_storage):
    records = [make_record(answer_payload("satisfied"), at=MARCH) for _ in range(3)]
    uploads.store_batch(any_storage, records, KIOSK, project=False)
    assert (table_rows(any_storage, "records"), table_rows(any_storage, "answers")) == (3, 0)
    assert projection.catch_up(any_storage) == 3
    assert table_rows(any_storage, "answers") == 3
    assert projection.catch_up(any_storage) == 0
    # A read does not project: the figures stay as they were until the projection runs.
    received = datetime(2025, 3, 20, 9, 0, tzinfo=UTC)
    uploads.store_batch(
        any_storage,
        [make_record(answer_payload("dissatisfied"), at=MARCH)],
        KIOSK,
        received_at=received,
        project=False,
    )
    start, end = periods.month_bounds(date(2025, 3, 1), PARIS)
    with any_storage.read() as connection:
        found = counts.main_level_counts(connection, any_storage.zone, start, end)
        assert projection.lag(connection) == projection.Lag(1, received)
    assert sum(c.count for c in found) == 3
    assert projection.catch_up(any_storage) == 1
    with any_storage.read() as connection:
        found = counts.main_level_counts(connection, any_storage.zone, start, end)
        assert projection.lag(connection) == projection.Lag(0, None)
    assert sum(c.count for c in found) == 4


def test_a_read_never_projects(any_storage):
    records = [make_record(answer_payload("satisfied"), at=MARCH) for _ in range(2)]
    uploads.store_batch(any_storage, records, KIOSK, project=False)
    with any_storage.read() as connection:
        assert projection.pending(connection)
        assert projection.lag(connection).records == 2
        assert schema.row_count(connection, "answers") == 0
    assert table_rows(any_storage, "answers") == 0
    assert projection.catch_up(any_storage) == 2
    assert table_rows(any_storage, "answers") == 2


def test_a_write_that_raises_leaves_nothing(any_storage):
    def register_then_fail() -> None:
        with any_storage.write() as connection:
            devices.create(connection, site=SITE, service=SERVICE, name="Borne 1")
            raise RuntimeError("the caller gave up halfway")

    with pytest.raises(RuntimeError):
        register_then_fail()
    with any_storage.read() as connection:
        assert devices.all_devices(connection) == []


def test_a_write_waits_for_the_one_under_way(any_storage):
    # Two writes never interleave: the second starts once the first has committed, and sees it.
    first_holds, first_may_end, second_started = (threading.Event() for _ in range(3))
    seen: list[str] = []

    def first() -> None:
        with any_storage.write() as connection:
            devices.create(connection, site=SITE, service=SERVICE, name="first")
            first_holds.set()
            first_may_end.wait(10)

    def second() -> None:
        first_holds.wait(10)
        with any_storage.write() as connection:
            second_started.set()
            seen.extend(device.name for device in devices.all_devices(connection))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert first_holds.wait(10)
    assert not second_started.wait(0.5)
    first_may_end.set()
    for thread in threads:
        thread.join(10)
    assert seen == ["first"]


# -- reads ------------------------------------------------------------------------------------


def test_rollups_read_the_same_as_the_answers(any_storage):
    seed(any_storage)
    start, end = periods.month_bounds(date(2025, 3, 1), PARIS)
    # A second before each local midnight: no answer in between, but not whole days.
    raw_start, raw_end = start - timedelta(seconds=1), end - timedelta(seconds=1)
    assert rollups.day_span(start, end, PARIS) == (date(2025, 3, 1), date(2025, 4, 1))
    assert rollups.day_span(raw_start, raw_end, PARIS) is None
    zone = any_storage.zone
    with any_storage.read() as c:
        for include_suspect in (False, True):
            by_days = counts.main_level_counts(c, zone, start, end, include_suspect=include_suspect)
            raw = counts.main_level_counts(
                c, zone, raw_start, raw_end, include_suspect=include_suspect
            )
            assert by_days
            assert same(by_days, raw)
            by_days = counts.item_counts(c, zone, start, end, include_suspect=include_suspect)
            raw = counts.item_counts(c, zone, raw_start, raw_end, include_suspect=include_suspect)
            assert by_days
            assert same(by_days, raw)
        answer_quality = counts.answer_quality(c, zone, start, end)
        assert same(answer_quality, counts.answer_quality(c, zone, raw_start, raw_end))
        assert sum(q.count for q in answer_quality) == IN_MARCH + 3
        main = counts.main_level_counts(c, zone, start, end)
        assert sum(row.count for row in main if row.level is not None) == EXPRESSED


def test_comments_register(any_storage):
    seed(any_storage)
    with any_storage.read() as connection:
        [entry] = quality.register(connection)
    assert (entry.text, entry.status, entry.site) == ("Trop d'attente au guichet", "new", SITE)
    assert entry.flagged is False
    assert entry.received_at == MARCH
    with any_storage.write() as connection:
        quality.update_register(
            connection, entry.id, action="acknowledge", by="qualite", category="waiting"
        )
    with any_storage.write() as connection:
        quality.update_register(connection, entry.id, action="answer", by="qualite", reply="Merci")
    with any_storage.read() as connection:
        [answered] = quality.register(connection, status="answered")
        assert (answered.category, answered.reply) == ("waiting", "Merci")
        assert answered.acknowledged_at is not None
        assert quality.register(connection, status="new") == []
        start, end = periods.month_bounds(date(2025, 3, 1), PARIS)
        assert quality.comment_categories(connection, start, end) == {(SITE, SERVICE, "waiting"): 1}


def test_users_are_created_authenticated_and_disabled(any_storage):
    with any_storage.write() as connection:
        users.create_account(
            connection,
            username="admin",
            password="a long admin password",
            role="admin",
            services=[],
        )
        account = users.create_account(
            connection,
            username="chef",
            password="a long test password",
            role="service_manager",
            services=[SERVICE],
        )
    assert (account.role, account.services, account.active) == ("service_manager", (SERVICE,), True)
    with any_storage.read() as connection:
        assert users.authenticate(connection, "chef", "a long test password").username == "chef"
        assert users.authenticate(connection, "chef", "wrong") is None
    with any_storage.write() as connection:
        assert not users.set_disabled(connection, "chef", True).active
    with any_storage.read() as connection:
        assert users.authenticate(connection, "chef", "a long test password") is None
    with any_storage.write() as connection:
        assert users.set_disabled(connection, "chef", False).active
    with any_storage.read() as connection:
        assert [a.username for a in users.accounts(connection)] == ["admin", "chef"]


def test_sessions_open_end_with_the_account_and_expire(any_storage):
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    lifetime = sessions.Lifetime(idle=timedelta(minutes=30), absolute=timedelta(hours=12))
    with any_storage.write() as connection:
        users.create(connection, username="chef", password="a long test password", role="admin")
        kept = sessions.open_session(connection, "chef", now)
        stale = sessions.open_session(connection, "chef", now - timedelta(hours=13))
        sessions.mark_seen(connection, kept, now + timedelta(minutes=5))
        assert sessions.purge(connection, now + timedelta(minutes=10), lifetime) == 1
    with any_storage.read() as connection:
        assert sessions.find(connection, stale) is None
        found = sessions.find(connection, kept)
        assert (found.username, found.last_seen_at) == ("chef", now + timedelta(minutes=5))
    with any_storage.write() as connection:
        users.set_password(connection, "chef", "an entirely new passphrase")
    with any_storage.read() as connection:
        assert sessions.count(connection, "chef") == 0


def test_failed_sign_ins_are_counted_by_name_and_address(any_storage):
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    window = timedelta(minutes=30)
    with any_storage.write() as connection:
        login_failures.record(connection, "Chef", "10.0.0.1", now - 2 * window, window)
        for minutes in (3, 2, 1):
            at = now - timedelta(minutes=minutes)
            login_failures.record(connection, "chef", "10.0.0.2", at, window)
    with any_storage.read() as connection:
        since = now - timedelta(minutes=5)
        assert len(login_failures.of_account(connection, "CHEF", since)) == 3
        assert len(login_failures.of_address(connection, "10.0.0.2", since)) == 3
        # Purged by the later failures: older than their window.
        assert login_failures.of_address(connection, "10.0.0.1", now - 3 * window) == []
    with any_storage.write() as connection:
        login_failures.forget_account(connection, "chef")
    with any_storage.read() as connection:
        assert login_failures.of_account(connection, "chef", now - window) == []
        assert len(login_failures.of_address(connection, "10.0.0.2", now - window)) == 3


def test_targets_keep_their_history(any_storage):
    with any_storage.write() as connection:
        for service, value, valid_from in (
            (None, 85, date(2025, 1, 1)),
            (SERVICE, 90, date(2025, 3, 1)),
            (None, 88, date(2025, 6, 1)),
        ):
            quality.set_target(
                connection,
                indicator="satisfaction_rate",
                service=service,
                value=value,
                valid_from=valid_from,
                set_by="qualite",
            )
    with any_storage.read() as connection:
        history = quality.target_history(connection)
        in_force = quality.targets_on(connection, date(2025, 4, 1))
    assert [(t.value, t.valid_from) for t in history] == [
        (88, date(2025, 6, 1)), (90, date(2025, 3, 1)), (85, date(2025, 1, 1))
    ]  # fmt: skip
    assert in_force == {
        ("satisfaction_rate", None): 85, ("satisfaction_rate", SERVICE): 90
    }  # fmt: skip


def test_export_rows(any_storage):
    seed(any_storage)
    start, end = periods.month_bounds(date(2025, 3, 1), PARIS)
    with any_storage.read() as connection:
        rows = list(exports.answer_rows(connection, start, end))
        with_suspect = list(exports.answer_rows(connection, start, end, include_suspect=True))
        visits = list(exports.visit_rows(connection, start, end))
    assert len(rows) == IN_MARCH  # suspect presses left out
    assert all(isinstance(row["captured_at"], datetime) for row in rows)
    assert [row["captured_at"] for row in rows] == sorted(row["captured_at"] for row in rows)
    assert rows[0]["captured_at"] == datetime(2025, 2, 28, 23, 30, tzinfo=UTC)
    assert {row["suspect"] for row in rows} == {False}
    unhappy = [row for row in rows if "why_unhappy" in row["items"]]
    assert {row["items"]["why_unhappy"] for row in unhappy} == {"waiting", "waiting;welcome"}
    assert len(with_suspect) == len(rows) + 3
    assert sorted(v["wait_seconds"] for v in visits) == [120, 240, 360, 480, 600, 750]


# -- the same figures on both engines ---------------------------------------------------------


@pytest.fixture
def both_storages(tmp_path, postgres_url):
    opened = []
    for url in (f"sqlite:///{tmp_path / 'same.db'}", postgres_url):
        storage = Storage.from_url(url)
        migrations.upgrade(storage)
        with storage.write() as connection:
            town.load_town(connection, TOWN)
        seed(storage)
        opened.append(storage)
    yield opened
    for storage in opened:
        storage.close()


def test_the_indicators_are_the_same_on_both_engines(both_storages):
    sqlite, postgres = both_storages
    for kind, text in (("month", "2025-03"), ("quarter", "2025-Q1"), ("week", "2025-W11")):
        period = parse(kind, text)
        today = date(2025, 4, 15)
        figures = [
            pipeline.compute(s, IndicatorQuery(period, rules=Rules(today=today)))
            for s in both_storages
        ]
        assert figures[0] == figures[1]
    monthly_figures = [
        pipeline.compute_months(s, IndicatorQuery(parse("month", "2025-04"), parts=WAITS), 3)
        for s in both_storages
    ]
    assert monthly_figures[0] == monthly_figures[1]
    [march] = [
        row
        for row in monthly_figures[1]
        if (row.site, row.service, row.period) == (SITE, SERVICE, "2025-03")
    ]
    assert march.figures["answers"].value == IN_MARCH
    assert march.figures["median_wait_minutes"].value == 7
    start, end = periods.month_bounds(date(2025, 3, 1), PARIS)
    with sqlite.read() as lite, postgres.read() as pg:
        assert list(exports.answer_rows(lite, start, end)) == list(
            exports.answer_rows(pg, start, end)
        )
        assert list(exports.visit_rows(lite, start, end)) == list(
            exports.visit_rows(pg, start, end)
        )


# -- upgrading a database written before the records log was projected ------------------------


def test_0008_upgrades_a_database_with_rows(storage_url):
    storage = Storage.from_url(storage_url)
    migrations.migrate(storage.engine, migrations.MIGRATIONS[:7])
    answer_id, event_id = str(uuid.uuid4()), str(uuid.uuid4())
    visit_id = str(uuid.uuid4())
    insert = [
        "INSERT INTO records (id, kind, device_id, payload_hash, payload, device_time,"
        " monotonic_ms, received_at) VALUES (:id, :kind, NULL, 'h', :payload, :at, 1, :received)",
        "INSERT INTO answers (id, channel, site, service, survey_id, survey_version, status,"
        " suspect, language, captured_at, main_choice, main_level, main_levels) VALUES (:id,"
        " 'kiosk', :site, :service, 'qualivilles-accueil', 1, 'complete', :no, 'fr', :at,"
        " 'satisfied', 2, 4)",
        "INSERT INTO answer_items VALUES (:id, 'overall', 'satisfied')",
        "INSERT INTO comments (answer_id, text, flagged) VALUES (:id, 'Merci', :no)",
        "INSERT INTO visit_events (id, visit_id, event, at) VALUES (:event, :visit, 'arrived',"
        " :at)",
        "INSERT INTO visits (id, site, service, arrived_at, outcome) VALUES (:visit, :site,"
        " :service, :at, 'waiting')",
    ]
    payload = canonical_json(answer_payload("satisfied"))
    event_payload = canonical_json({"visit_id": visit_id, "event": "arrived"})
    params = {
        "id": answer_id, "event": event_id, "visit": visit_id, "site": SITE,
        "service": SERVICE, "no": False, "kind": "answer", "payload": payload,
        "at": MARCH, "received": MARCH + timedelta(minutes=1),
    }  # fmt: skip
    times = [sa.bindparam(name, type_=db.UtcDateTime) for name in ("at", "received")]
    event_params = {**params, "id": event_id, "kind": "visit_event", "payload": event_payload}
    event_params["received"] = MARCH + timedelta(seconds=30)  # stored first: both orders agree
    with storage.engine.begin() as connection:
        connection.execute(sa.text(insert[0]).bindparams(*times), event_params)
        for sql in insert:
            used = [t for t in times if f":{t.key}" in sql]
            connection.execute(sa.text(sql).bindparams(*used), params)
    assert migrations.upgrade(storage) == [name for name, _ in migrations.MIGRATIONS[7:]]
    with storage.engine.connect() as connection:
        r = schema.records
        logged = connection.execute(
            sa.select(r.c.id, r.c.seq, r.c.site, r.c.service, r.c.captured_at).order_by(r.c.seq)
        ).all()
    assert [tuple(row) for row in logged] == [
        (event_id, 1, SITE, SERVICE, MARCH), (answer_id, 2, SITE, SERVICE, MARCH)
    ]  # fmt: skip
    assert projection.catch_up(storage) == 0  # already derived
    start, end = periods.month_bounds(date(2025, 3, 1), PARIS)
    with storage.read() as connection:
        [entry] = quality.register(connection)
        [count] = counts.main_level_counts(connection, storage.zone, start, end)
    assert (entry.site, entry.received_at) == (SITE, MARCH)
    assert (count.site, count.level, count.count) == (SITE, 2, 1)
    storage.close()


def test_heartbeats_and_the_fleet(any_storage):
    with any_storage.write() as connection:
        code = devices.create(connection, site=SITE, service=SERVICE, name="Borne").code
        device = devices.enrol(connection, code).device
    beat = Heartbeat(
        sent_at=datetime.now(UTC), app_version="1.2", backlog=3, held_records=0,
        last_error="réseau", battery_percent=80.5, disk_free_bytes=5 * 2**40,
    )  # fmt: skip
    with any_storage.write() as connection:
        fleet_health.record_heartbeat(connection, device.id, beat, clock_offset_ms=10)
        assert fleet_health.heartbeat_count(connection, device.id) == 1
    with any_storage.read() as connection:
        [health] = fleet_health.fleet(connection)
    assert health.device.id == device.id


def test_a_nul_in_free_text_neither_fails_nor_stalls_the_projection(any_storage):
    # PostgreSQL text cannot hold NUL: a phone visitor's comment must not block the figures.
    comment = make_record(answer_payload("satisfied", comment="Merci\x00 beaucoup"), at=MARCH)
    ticket = {"visit_id": str(uuid.uuid4()), "event": "arrived", "ticket": "A\x0012"}
    event = make_record(ticket, RecordKind.VISIT_EVENT, MARCH)
    acks = uploads.store_batch(any_storage, [comment, event], TABLET, project=False)
    assert [a.status for a in acks] == ["stored", "stored"]
    assert projection.catch_up(any_storage) == 2
    with any_storage.read() as connection:
        [entry] = quality.register(connection)
        [visit] = exports.visit_rows(
            connection, MARCH - timedelta(days=1), MARCH + timedelta(days=1)
        )
    assert entry.text == "Merci beaucoup"
    assert visit["ticket"] == "A12"
