"""Retention: free texts past their period are emptied, every figure stays the same, on both
engines; the `purge` command, its dry run, and the running server's daily purge."""

from __future__ import annotations

import asyncio
import calendar
import dataclasses
import io
import json
import re
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from pypdf import PdfReader

from qualivilles.bundled import load_default_survey
from qualivilles.protocol import AckStatus, Heartbeat
from sync_server import cli
from sync_server.app import create_app
from sync_server.demo.command import ingest_batch
from sync_server.demo.data import generate
from sync_server.indicators import pipeline
from sync_server.indicators.periods import parse
from sync_server.indicators.query import WAITS, IndicatorQuery, Rules
from sync_server.retention import policy_of, purge_loop
from sync_server.settings import Settings
from sync_server.storage import (
    Source,
    Storage,
    audit,
    devices,
    exports,
    health,
    login_failures,
    quality,
    schema,
    sessions,
    uploads,
)
from sync_server.storage.retention import Policy, Purged, months_before, purge, without_texts
from tests.fixtures.server import (
    SERVICE,
    SITE,
    TOWN,
    add_user,
    answer_payload,
    log_in_client,
    make_record,
    open_town_storage,
    server_settings_for,
)
from tests.tools.page_text import text

KIOSK = Source(site=SITE, service=SERVICE, channel="kiosk")
MARKER = "texte supprimé (durée de conservation)"
# Demo data: the three months before DEMO_NOW; purged thirteen months later.
DEMO_NOW = datetime(2025, 6, 13, 15, 0, tzinfo=UTC)
LATER = months_before(DEMO_NOW, -13)
TODAY = date(2026, 8, 1)  # the register's deadlines are judged on a fixed day


def settings_for(tmp_path, **overrides) -> Settings:
    return server_settings_for(tmp_path, purge_daily=False, **overrides)


def policy(tmp_path) -> Policy:
    return policy_of(settings_for(tmp_path))


def comment_on(storage: Storage, text_: str, at: datetime, **answers: str) -> tuple[str, int]:
    """A kiosk answer at `at` with a comment (and `answers`); the comment's register id."""
    payload = answer_payload("dissatisfied", comment=text_)
    payload["answers"].update(answers)
    record = make_record(payload, at=at)
    [ack] = uploads.store_batch(storage, [record], KIOSK, received_at=at)
    assert ack.status == AckStatus.STORED
    with storage.read() as connection:
        entries = quality.register(connection, start=at, end=at + timedelta(seconds=1))
    return str(record.id), entries[0].id


def entry(storage: Storage, comment_id: int):
    with storage.read() as connection:
        [found] = quality.register(connection, comment_id=comment_id)
    return found


def logged_payload(storage: Storage, record_id: str) -> tuple[dict, str]:
    with storage.read() as connection:
        row = connection.execute(
            schema.records.select().where(schema.records.c.id == record_id)
        ).one()
    return json.loads(row.payload), row.payload_hash


# -- the rule ----------------------------------------------------------------------------------


def test_months_before_keeps_the_day_or_takes_the_month_end():
    at = datetime(2026, 3, 31, 10, 30, tzinfo=UTC)
    assert months_before(at, 12) == datetime(2025, 3, 31, 10, 30, tzinfo=UTC)
    assert months_before(at, 1) == datetime(2026, 2, 28, 10, 30, tzinfo=UTC)
    assert months_before(datetime(2024, 3, 31, tzinfo=UTC), 1) == datetime(2024, 2, 29, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 13) == datetime(
        2024, 12, 15, tzinfo=UTC
    )
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), -13) == datetime(
        2027, 2, 15, tzinfo=UTC
    )


@given(
    at=st.datetimes(datetime(2001, 1, 1), datetime(2099, 12, 31), timezones=st.just(UTC)),
    months=st.integers(0, 240),
)
def test_months_before_lands_in_the_month_that_many_months_earlier(at, months):
    earlier = months_before(at, months)
    assert earlier <= at
    assert (at.year * 12 + at.month) - (earlier.year * 12 + earlier.month) == months
    assert earlier.day == min(at.day, calendar.monthrange(earlier.year, earlier.month)[1])
    assert earlier.timetz() == at.timetz()


def test_a_quarantined_answer_loses_its_texts_and_keeps_its_choices():
    payload = json.dumps({"survey_id": "s", "answers": {"overall": "satisfied", "why": "x"},
                          "comment": "Mme Martin"})  # fmt: skip
    assert json.loads(without_texts(payload, ["why"])) == {
        "survey_id": "s", "answers": {"overall": "satisfied"}
    }  # fmt: skip
    assert json.loads(without_texts(payload, None)) == {"survey_id": "s"}
    stripped = without_texts(payload, ["why"])
    assert without_texts(stripped, ["why"]) == stripped  # nothing left to remove
    visit = json.dumps({"visit_id": "v", "event": "arrived", "ticket": "A012"})
    assert without_texts(visit, None) == visit
    assert without_texts("not json", None) == "{}"


# -- storage, both engines ---------------------------------------------------------------------


def test_an_old_comment_is_emptied_and_a_recent_one_kept(any_storage, tmp_path):
    now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    old_record, old = comment_on(
        any_storage, "Guichet fermé, Mme Martin", now - timedelta(days=400)
    )
    _, recent = comment_on(any_storage, "Attente trop longue", now - timedelta(days=30))
    # Received long ago but answered two months ago: kept a year after that reply.
    _, handled = comment_on(any_storage, "Dossier perdu", now - timedelta(days=500))
    with any_storage.write() as connection:
        quality.update_register(connection, handled, action="answer", reply="Nous l'avons retrouvé",
                                by="qualite", now=now - timedelta(days=60))  # fmt: skip
    before_payload, before_hash = logged_payload(any_storage, old_record)
    assert before_payload["comment"] == "Guichet fermé, Mme Martin"

    done = purge(any_storage, now, policy(tmp_path))

    assert (done.comments, done.replies, done.records) == (1, 0, 1)
    gone = entry(any_storage, old)
    assert (gone.text, gone.purged_at, gone.status, gone.flagged) == ("", now, "new", False)
    assert entry(any_storage, recent).text == "Attente trop longue"
    kept = entry(any_storage, handled)
    assert (kept.text, kept.reply, kept.purged_at) == (
        "Dossier perdu",
        "Nous l'avons retrouvé",
        None,
    )
    # The log keeps the record and the hash it was received with, not the text.
    payload, payload_hash = logged_payload(any_storage, old_record)
    assert "comment" not in payload
    assert payload["answers"] == before_payload["answers"]
    assert payload_hash == before_hash
    # Purging again finds nothing.
    assert purge(any_storage, now, policy(tmp_path)).total == 0


def test_a_reply_goes_with_its_comment_and_the_register_dates_stay(any_storage, tmp_path):
    now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    received = now - timedelta(days=450)
    _, comment_id = comment_on(any_storage, "Très mal reçu", received)
    with any_storage.write() as connection:
        quality.update_register(connection, comment_id, action="answer", category="complaint",
                                reply="Madame, nous vous prions…", by="qualite",
                                now=received + timedelta(days=3))  # fmt: skip
    before = entry(any_storage, comment_id)

    done = purge(any_storage, now, policy(tmp_path))

    assert (done.comments, done.replies) == (1, 1)
    after = entry(any_storage, comment_id)
    assert (after.text, after.reply) == ("", None)
    assert (
        dataclasses.replace(after, text=before.text, reply=before.reply, purged_at=None) == before
    )


def test_text_answers_leave_the_log_too(any_storage, tmp_path):
    now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    record_id, _ = comment_on(
        any_storage, "Le commentaire", now - timedelta(days=400), comment="La réponse libre"
    )
    done = purge(any_storage, now, policy(tmp_path))
    assert (done.comments, done.records) == (2, 1)
    payload, _ = logged_payload(any_storage, record_id)
    assert payload["answers"] == {"overall": "dissatisfied"}
    assert "comment" not in payload


def test_a_purged_record_sent_again_is_a_duplicate_not_a_conflict(any_storage, tmp_path):
    at = datetime(2025, 2, 3, 9, 0, tzinfo=UTC)
    record = make_record(answer_payload("dissatisfied", comment="Appelez M. Durand"), at=at)
    assert uploads.store_batch(any_storage, [record], KIOSK, received_at=at)[0].status == "stored"
    now = months_before(at, -13)
    assert purge(any_storage, now, policy(tmp_path)).records == 1
    # A kiosk that never heard the acknowledgement sends it again, a year later.
    [ack] = uploads.store_batch(any_storage, [record], KIOSK, received_at=now)
    assert ack.status == AckStatus.DUPLICATE
    with any_storage.read() as connection:
        assert health.quarantined(connection) == []
        assert schema.row_count(connection, "answers") == 1
        assert schema.row_count(connection, "comments") == 1
    assert purge(any_storage, now, policy(tmp_path)).total == 0


def test_quarantined_texts_heartbeats_sessions_and_sign_in_failures(any_storage, tmp_path):
    at = datetime(2025, 2, 3, 9, 0, tzinfo=UTC)
    first = make_record(answer_payload("satisfied"), at=at)
    other = make_record(answer_payload("dissatisfied", comment="Mme Martin, 12 rue des Lilas"),
                        at=at, record_id=str(first.id))  # fmt: skip
    uploads.store_batch(any_storage, [first], KIOSK, received_at=at)
    assert uploads.store_batch(any_storage, [other], KIOSK, received_at=at)[0].status == "conflict"
    now = months_before(at, -13)
    with any_storage.write() as connection:
        device = devices.create(connection, site=SITE, service=SERVICE).device_id
        for age in (100, 91, 89):  # days
            beat = Heartbeat(sent_at=now - timedelta(days=age), app_version="1", backlog=0)
            health.record_heartbeat(connection, device, beat, received_at=now - timedelta(days=age),
                                    retention=timedelta(days=3650))  # fmt: skip
    add_user(any_storage, "qualite")
    with any_storage.write() as connection:
        sessions.open_session(connection, "qualite", now - timedelta(days=2))
        sessions.open_session(connection, "qualite", now - timedelta(minutes=5))
        window = timedelta(days=1)  # what the write itself purges: nothing here
        login_failures.record(connection, "qualite", "192.0.2.7", now - timedelta(hours=2), window)
        login_failures.record(
            connection, "qualite", "192.0.2.7", now - timedelta(minutes=1), window
        )

    done = purge(any_storage, now, policy(tmp_path))

    assert (done.quarantined, done.heartbeats, done.sessions, done.login_failures) == (1, 2, 1, 1)
    with any_storage.read() as connection:
        [quarantined] = health.quarantined(connection)
        assert schema.row_count(connection, "heartbeats") == 1
        assert schema.row_count(connection, "sessions") == 1
        assert schema.row_count(connection, "login_failures") == 1
    assert "Martin" not in quarantined.payload
    assert json.loads(quarantined.payload)["answers"] == {"overall": "dissatisfied"}
    assert quarantined.payload_hash == other.payload_hash
    assert purge(any_storage, now, policy(tmp_path)).total == 0


def test_the_dry_run_counts_what_the_purge_removes_and_changes_nothing(any_storage, tmp_path):
    now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    for n in range(3):
        comment_on(any_storage, f"Ancien {n}", now - timedelta(days=400 + n))
    comment_on(any_storage, "Récent", now - timedelta(days=3))
    with any_storage.read() as connection:
        before = [dataclasses.astuple(e) for e in quality.register(connection)]

    due = purge(any_storage, now, policy(tmp_path), dry_run=True)

    with any_storage.read() as connection:
        assert [dataclasses.astuple(e) for e in quality.register(connection)] == before
    assert due == purge(any_storage, now, policy(tmp_path))
    assert (due.comments, due.records) == (3, 3)


def test_processes_purging_at_once_purge_each_text_once(any_storage, storage_url, tmp_path):
    now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    for n in range(12):
        comment_on(any_storage, f"Ancien {n}", now - timedelta(days=400 + n))
    others = [Storage.from_url(storage_url) for _ in range(3)]
    results: list[Purged] = []
    start = threading.Barrier(len(others))

    def run(storage: Storage) -> None:
        start.wait()
        results.append(purge(storage, now, policy(tmp_path), step=2))  # steps interleave

    threads = [threading.Thread(target=run, args=(storage,)) for storage in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for storage in others:
        storage.close()
    assert len(results) == 3
    assert sum(done.comments for done in results) == 12
    assert sum(done.records for done in results) == 12


# -- every figure the same, on demo-sized data -------------------------------------------------


@cache
def demo_data():
    return generate(TOWN, load_default_survey(), DEMO_NOW, seed=11)


def snapshot(storage: Storage) -> dict:
    """Every figure the dashboard, the exports and the reports read, and the register without
    its texts."""
    rules = Rules(today=TODAY)
    found: dict = {}
    for kind, name in (("month", "2025-04"), ("month", "2025-05"), ("month", "2025-06"),
                       ("quarter", "2025-Q2"), ("year", "2025")):  # fmt: skip
        found[name] = pipeline.compute(storage, IndicatorQuery(parse(kind, name), rules=rules))
    query = IndicatorQuery(parse("month", "2025-06"), rules=rules, parts=WAITS)
    found["months"] = pipeline.compute_months(storage, query, 4)
    start, end = DEMO_NOW - timedelta(days=120), DEMO_NOW + timedelta(days=1)
    with storage.read() as connection:
        found["answers"] = list(exports.answer_rows(connection, start, end, include_suspect=True))
        found["visits"] = list(exports.visit_rows(connection, start, end))
        found["categories"] = quality.comment_categories(connection, start, end)
        found["register"] = [
            dataclasses.replace(e, text="", reply=None, purged_at=None)
            for e in quality.register(connection)
        ]
        found["rows"] = {
            table: schema.row_count(connection, table)
            for table in ("records", "answers", "answer_items", "comments", "comment_register",
                          "visits", "visit_events", "answer_days", "item_days", "quarantine")
        }  # fmt: skip
    return found


def downloads(client: TestClient) -> dict:
    """What an analyst downloads: the exports and the indicators API (a workbook's cells, the
    rest byte for byte)."""
    got = {}
    for path in ("/export/answers.csv?period=2025-05", "/export/visits.csv?period=2025-05",
                 "/export/indicators.csv?kind=quarter&period=2025-Q2",
                 "/export/answers.xlsx?period=2025-04",
                 "/api/v1/indicators?from=2025-03&to=2025-06"):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 200, path
        got[path] = response.content
        if path.startswith("/export/answers.xlsx"):
            sheet = load_workbook(io.BytesIO(response.content)).active
            got[path] = list(sheet.iter_rows(values_only=True))
    return got


def pdf_text(response) -> str:
    """The PDF's figures: its text without the "Édité le …" lines (two builds a minute apart
    differ there), the visitors' words it quotes (a purge empties them) nor each page's running
    title and number (without the quotes, a desk's page may end a page sooner)."""
    assert response.status_code == 200
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    text = re.sub(r"Édité le \d\d/\d\d/\d{4} \d\d:\d\d", "Édité le …", text)
    text = QUOTES.sub("", text)
    text = re.sub(r"^Dossier mensuel Qualivilles · .*\n?", "", text, flags=re.M)
    return re.sub(r"^Édité le … \d+ / \d+\n?", "", text, flags=re.M)


# The quoted comments of a desk's page, up to what follows them on the page.
QUOTES = re.compile(
    r"Ce que disent les usagers\n.*?(?=Commentaires par catégorie|Dossier mensuel)", re.S
)


def test_a_purge_changes_no_figure(any_storage, tmp_path):
    for batch in demo_data().batches:
        ingest_batch(any_storage, batch)
    with any_storage.read() as connection:
        entries = quality.register(connection)
    assert len(entries) > 20
    # Some handled at once, one answered much later (kept: a year after its reply), one only
    # acknowledged recently (kept too).
    late_answer, late_ack = entries[0].id, entries[1].id
    with any_storage.write() as connection:
        for item in entries[2:12]:
            quality.update_register(
                connection, item.id, action="answer", category="welcome", reply="Merci",
                by="qualite", now=DEMO_NOW + timedelta(days=2),
            )  # fmt: skip
        quality.update_register(connection, late_answer, action="answer", reply="Réponse tardive",
                                by="qualite", now=LATER - timedelta(days=60))  # fmt: skip
        quality.update_register(connection, late_ack, action="acknowledge", by="qualite",
                                now=LATER - timedelta(days=200))  # fmt: skip
    settings = settings_for(tmp_path)
    # The monthly PDF of the service with the most comments, as its manager reads it.
    busiest = Counter(e.service for e in entries).most_common(1)[0][0]
    add_user(any_storage, "chef", "service_manager", [busiest])
    app = create_app(settings, any_storage)
    with TestClient(app) as client, TestClient(app) as manager:
        log_in_client(client, "qualite")
        log_in_client(manager, "chef", "service_manager")
        before, downloaded = snapshot(any_storage), downloads(client)
        report = pdf_text(manager.get("/reports/monthly.pdf?period=2025-05"))
        assert "Commentaires par catégorie" in report

        done = purge(any_storage, LATER, policy_of(settings))

        assert snapshot(any_storage) == before
        assert downloads(client) == downloaded
        assert pdf_text(manager.get("/reports/monthly.pdf?period=2025-05")) == report
        assert (done.comments, done.replies) == (len(entries) - 2, 10)
        page = text(client.get("/comments").text)
        assert page.count(MARKER) == min(len(entries), 500) - 2
        assert "Réponse tardive" in page
    with any_storage.read() as connection:
        kept = {e.id: e for e in quality.register(connection) if e.purged_at is None}
    assert set(kept) == {late_answer, late_ack}
    assert purge(any_storage, LATER, policy_of(settings)).total == 0


# -- pages -------------------------------------------------------------------------------------


def test_pages_show_the_purged_mark_instead_of_the_text(tmp_path):
    settings = settings_for(tmp_path)
    storage = open_town_storage(settings)
    now = datetime.now(UTC)
    old_at = now - timedelta(days=420)
    comment_on(storage, "Le guichet 3 était fermé", old_at)
    comment_on(storage, "Accueil parfait", now - timedelta(days=2))
    purge(storage, now, policy_of(settings))
    with TestClient(create_app(settings, storage)) as client:
        log_in_client(client, "qualite")
        register = text(client.get("/comments?show=1").text)
        month = f"{old_at.astimezone(ZoneInfo(settings.timezone)):%Y-%m}"
        service = text(client.get(f"/service/{SERVICE}?kind=month&period={month}").text)
        english = text(client.get("/comments?lang=en").text)
    storage.close()
    assert "Le guichet 3 était fermé" not in register
    assert MARKER in register
    assert "Accueil parfait" in register
    assert "Le guichet 3 était fermé" not in service
    assert MARKER in service
    assert "text deleted (retention period)" in english


# -- the command -------------------------------------------------------------------------------


def run_cli(url: str, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    status = cli.main(["--database-url", url, *args], out=out)
    return status, out.getvalue()


def test_the_purge_command_prints_what_it_removed_and_the_dry_run_changes_nothing(tmp_path):
    settings = settings_for(tmp_path)
    storage = open_town_storage(settings)
    now = datetime.now(UTC)
    for n in range(2):
        comment_on(storage, f"Ancien {n}", now - timedelta(days=400 + n))
    comment_on(storage, "Récent", now - timedelta(days=1))
    storage.close()

    status, dry = run_cli(settings.database_url, "purge", "--dry-run")
    assert status == 0
    assert "nothing changed" in dry
    assert "comments: 2\n" in dry
    assert "records: 2\n" in dry
    status, out = run_cli(settings.database_url, "purge", "--dry-run")
    assert "comments: 2\n" in out  # the dry run removed nothing

    status, out = run_cli(settings.database_url, "purge")
    assert status == 0
    assert out.startswith("purged at ")
    assert "free texts 12 months, heartbeats 90 days" in out
    assert [line for line in out.splitlines()[1:]] == [
        "comments: 2", "replies: 0", "records: 2", "quarantined: 0", "heartbeats: 0",
        "sessions: 0", "login_failures: 0", "contacts: 0",
    ]  # fmt: skip
    assert "comments: 0\n" in run_cli(settings.database_url, "purge")[1]


def test_a_purge_that_empties_texts_is_in_the_audit_trail_once(tmp_path):
    settings = settings_for(tmp_path)
    storage = open_town_storage(settings)
    now = datetime.now(UTC)
    comment_on(storage, "Ancien", now - timedelta(days=400))
    storage.close()
    for _ in range(2):  # the second run empties nothing and records nothing
        assert run_cli(settings.database_url, "purge")[0] == 0
    storage = Storage.from_url(settings.database_url)
    with storage.read() as connection:
        purged = [e for e in audit.events(connection) if e.action == "data.purged"]
    storage.close()
    assert len(purged) == 1
    assert purged[0].actor.kind == "cli"
    assert purged[0].details["comments"] == 1


# -- the running server ------------------------------------------------------------------------


def test_the_loop_purges_at_once_with_its_clock_then_stops_when_told(tmp_path):
    settings = settings_for(tmp_path)
    storage = open_town_storage(settings)
    at = datetime(2025, 2, 3, 9, 0, tzinfo=UTC)
    _, old = comment_on(storage, "Ancien", at)
    _, recent = comment_on(storage, "Récent", at + timedelta(days=60))
    stop = asyncio.Event()
    stop.set()  # one turn: the purge at start, then the loop ends

    async def run() -> None:
        clock = lambda: months_before(at, -13)  # noqa: E731
        await asyncio.wait_for(purge_loop(storage, settings, stop, clock=clock), timeout=60)

    asyncio.run(run())
    assert entry(storage, old).purged_at == months_before(at, -13)
    assert entry(storage, recent).purged_at is None
    storage.close()


def test_the_server_purges_at_start_up_unless_told_not_to(tmp_path):
    storage = open_town_storage(settings_for(tmp_path))
    _, old = comment_on(storage, "Ancien", datetime.now(UTC) - timedelta(days=400))
    with TestClient(create_app(settings_for(tmp_path), storage)) as client:
        assert client.get("/login").status_code == 200
    assert entry(storage, old).purged_at is None  # purge_daily=false: a timer runs the command
    daily = server_settings_for(tmp_path)
    assert daily.purge_daily
    with TestClient(create_app(daily, storage)) as client:
        assert client.get("/login").status_code == 200
    # Shutting down waits for the purge under way: it ran once, at start-up.
    assert entry(storage, old).purged_at is not None
    storage.close()
