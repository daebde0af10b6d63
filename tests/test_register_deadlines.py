"""The register's deadlines as period indicators: share of comments acknowledged within 7 days
and answered within 15 working days, per desk, from real storage, on the pages and exports.

April 2026 by hand: Easter Monday is the 6th, so a comment received Thursday 2 April is to be
acknowledged by 9 April and answered by 24 April (27 April in Alsace-Moselle, Good Friday too).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from sync_server.indicators import formulas, pipeline
from sync_server.indicators.figures import below_target
from sync_server.indicators.periods import parse
from sync_server.indicators.public_holidays import calendar
from sync_server.indicators.query import IndicatorQuery, Rules, Scope
from sync_server.storage import Source, quality, uploads
from tests.fixtures.server import SERVICE, SITE, add_user, answer_payload, make_record, set_target

METROPOLE, ALSACE = calendar("metropole"), calendar("alsace-moselle")
IRIS = Source(site=SITE, service=SERVICE, channel="kiosk")
ETAT_CIVIL = Source(site="hotel-de-ville", service="etat-civil", channel="kiosk")
RECEIVED = datetime(2026, 4, 2, 8, 0, tzinfo=UTC)  # Thursday 2 April, 10:00 in Paris
TODAY = date(2026, 5, 5)


def test_register_outcomes_by_hand():
    received = date(2026, 4, 2)
    outcome = formulas.register_outcomes
    assert outcome(received, date(2026, 4, 9), date(2026, 4, 24), None, TODAY, METROPOLE) == (
        "on_time", "on_time")  # fmt: skip
    assert outcome(received, date(2026, 4, 10), date(2026, 4, 27), None, TODAY, METROPOLE) == (
        "late", "late")  # fmt: skip
    assert outcome(received, date(2026, 4, 10), date(2026, 4, 27), None, TODAY, ALSACE) == (
        "late", "on_time")  # fmt: skip
    # Closed without a reply on the 5th: both steps handled that day.
    assert outcome(received, None, None, date(2026, 4, 5), TODAY, METROPOLE) == (
        "on_time", "on_time")  # fmt: skip
    # Still open: late once the due day has passed, pending before.
    assert outcome(received, None, None, None, TODAY, METROPOLE) == ("late", "late")
    assert outcome(received, None, None, None, date(2026, 4, 9), METROPOLE) == (
        "pending", "pending")  # fmt: skip
    assert outcome(received, date(2026, 4, 3), None, None, date(2026, 4, 24), METROPOLE) == (
        "on_time", "pending")  # fmt: skip


def comment(storage, text: str, at: datetime, source: Source = IRIS) -> int:
    record = make_record(answer_payload("satisfied", comment=text), at=at)
    uploads.store_batch(storage, [record], source)
    with storage.read() as connection:
        return next(e.id for e in quality.register(connection) if e.text == text)


def handle(storage, comment_id: int, *steps: tuple[str, date]) -> None:
    for action, day in steps:
        at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        with storage.write() as connection:
            quality.update_register(connection, comment_id, action=action, by="qualite", now=at)


def day(d: int, month: int = 4) -> date:
    return date(2026, month, d)


@pytest.fixture
def register(server_storage):
    """April at IRIS: 7 comments handled in the ways counted in the docstring of each figure;
    March at IRIS: 5 comments answered the next day; April at état civil: 2 comments."""
    s = server_storage
    handle(s, comment(s, "1 à l'heure", RECEIVED), ("acknowledge", day(3)), ("answer", day(20)))
    handle(s, comment(s, "2 accusé tard", RECEIVED), ("acknowledge", day(10)),
           ("answer", day(24)))  # fmt: skip
    handle(s, comment(s, "3 tout en retard", RECEIVED), ("acknowledge", day(10)),
           ("answer", day(27)))  # fmt: skip
    comment(s, "4 jamais traité", RECEIVED)
    handle(s, comment(s, "5 clos", RECEIVED), ("close", day(5)))
    handle(s, comment(s, "6 répondu direct", RECEIVED), ("answer", day(8)))
    comment(s, "7 tout juste reçu", datetime(2026, 4, 29, 8, tzinfo=UTC))
    for i in range(5):
        number = comment(s, f"mars {i}", datetime(2026, 3, 2, 8, i, tzinfo=UTC))
        handle(s, number, ("acknowledge", day(3, 3)), ("answer", day(4, 3)))
    for i in range(2):
        comment(s, f"état civil {i}", RECEIVED, ETAT_CIVIL)
    return s


def figures(storage, holidays=METROPOLE, **kw):
    rules = Rules(holidays=holidays, today=TODAY)
    rows = pipeline.compute(
        storage, IndicatorQuery(parse("month", "2026-04"), Scope.of(**kw), rules)
    )
    return {(r.site, r.service): r.figures for r in rows}


def test_shares_on_time_per_desk_by_hand(register):
    iris = figures(register)[(SITE, SERVICE)]
    # Acknowledged by 9 April: 1, 5 (closed), 6 (answered, so acknowledged); late: 2, 3, 4;
    # 7 received on the 29th is still pending on 5 May. 3 of 6.
    ack = iris["acknowledged_on_time"]
    assert (ack.value, ack.n, ack.hidden) == (50.0, 6, False)
    # Answered by 24 April (Easter Monday skipped): 1, 2, 5, 6; late: 3 (27th), 4. 4 of 6.
    answered = iris["answered_on_time"]
    assert (answered.value, answered.n) == (pytest.approx(400 / 6), 6)
    # March: the 5 comments were acknowledged and answered the next day.
    assert (ack.previous, answered.previous) == (100.0, 100.0)
    assert ack.target is None  # no default target: the quality manager sets one
    # Alsace-Moselle also skips Good Friday: answered on the 27th is on time. 5 of 6.
    alsace = figures(register, holidays=ALSACE)[(SITE, SERVICE)]["answered_on_time"]
    assert alsace.value == pytest.approx(500 / 6)
    # Without holidays the 24th was already late (the 15th working day is the 23rd): 3 of 6.
    plain = figures(register, holidays=formulas.NO_HOLIDAYS)[(SITE, SERVICE)]
    assert plain["answered_on_time"].value == 50.0


def test_too_few_comments_are_hidden_and_pending_ones_wait(register):
    etat_civil = figures(register)[("hotel-de-ville", "etat-civil")]["acknowledged_on_time"]
    assert (etat_civil.value, etat_civil.n, etat_civil.reason) == (None, 2, "below_min_n")
    # A campaign of 29–30 April holds only comment 7, not yet due on 5 May: nothing to count.
    campaign, iris = parse("campaign", "2026-04-29..2026-04-30"), Scope.of(services=[SERVICE])
    rules = Rules(min_answers=1, holidays=METROPOLE, today=TODAY)
    late_april = pipeline.compute(register, IndicatorQuery(campaign, iris, rules))[0].figures
    for key in ("acknowledged_on_time", "answered_on_time"):
        assert (late_april[key].n, late_april[key].reason) == (0, "no_data")
    # A week later the acknowledgement is late (due 6 May), the answer not yet (due 26 May).
    rules = Rules(min_answers=1, holidays=METROPOLE, today=day(12, 5))
    later = pipeline.compute(register, IndicatorQuery(campaign, iris, rules))[0].figures
    assert (later["acknowledged_on_time"].value, later["acknowledged_on_time"].n) == (0.0, 1)
    assert later["answered_on_time"].n == 0


def test_targets_apply_and_misses_are_listed(register):
    set_target(register, "answered_on_time", SERVICE, 80, day(1))
    iris = figures(register)[(SITE, SERVICE)]
    assert (iris["answered_on_time"].target, iris["answered_on_time"].gap) == (
        80, pytest.approx(400 / 6 - 80))  # fmt: skip
    rules = Rules(holidays=METROPOLE, today=TODAY)
    rows = pipeline.compute(register, IndicatorQuery(parse("month", "2026-04"), rules=rules))
    misses = {(r.service, key) for r, key, _f in below_target(rows)}
    assert (SERVICE, "answered_on_time") in misses
    # Filters: a site filter keeps the desks of that site only.
    only = figures(register, sites=["hotel-de-ville"])
    assert set(only) == {("hotel-de-ville", "etat-civil")}


def test_the_pages_show_and_export_the_shares(app_server):
    storage = app_server.storage
    at = datetime.now(UTC).replace(day=1, hour=8) - timedelta(days=20)  # last month
    for i in range(5):
        number = comment(storage, f"commentaire {i}", at.replace(minute=i))
        if i < 4:
            handle(storage, number, ("acknowledge", at.date()))
    session = app_server.login_session(app_server.client())
    month = f"{at:%Y-%m}"
    page = session.get(f"{app_server.url}/?kind=month&period={month}").text
    card = page[page.index(f'data-service="{SERVICE}"') :]
    card = card[: card.index("</li>")]
    assert "Accusés de réception sous 7 jours" in card
    assert "80,0\u202f%" in card  # 4 of 5 acknowledged the day they came
    service = session.get(f"{app_server.url}/service/{SERVICE}?kind=month&period={month}").text
    assert "Réponses sous 15 jours ouvrés" in service
    export = session.get(f"{app_server.url}/export/indicators.csv?kind=month&period={month}")
    lines = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig")), delimiter=";"))
    column = {name: index for index, name in enumerate(lines[0])}
    [row] = [r for r in lines if r[column["Code du service"]] == SERVICE
             and r[column["Code de l'indicateur"]] == "acknowledged_on_time"]  # fmt: skip
    assert row[column["Indicateur"]] == "Accusés de réception sous 7 jours"
    # A decimal comma: a number in French Excel.
    assert (row[column["Valeur"]], int(row[column["N"]])) == ("80,0", 5)
    # A service manager of another service sees none of it.
    add_user(storage, "ec", "service_manager", ["etat-civil"])
    other = app_server.login_session(app_server.client(), "ec", "service_manager")
    text = other.get(f"{app_server.url}/?kind=month&period={month}").text
    assert f'data-service="{SERVICE}"' not in text
    export = other.get(f"{app_server.url}/export/indicators.csv?kind=month&period={month}")
    assert SERVICE not in export.content.decode("utf-8-sig")
