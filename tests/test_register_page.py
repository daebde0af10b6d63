"""The comments register for the audit, in-process on real storage: each entry's dates in the
town's time zone, who handled each step, delays and outcomes against the deadlines (regional
public holidays skipped), the filters (received between two days, status, service, category,
deadlines), the CSV and XLSX export, replies masked like comments and never cut.

April 2026 by hand (metropolitan France): Easter Monday is the 6th, so a comment received
Thursday 2 April is to be acknowledged by 9 April and answered by 24 April; in Alsace-Moselle,
Good Friday (3 April) is off too and the answer is due on 27 April.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from sync_server.indicators import formulas
from sync_server.indicators.public_holidays import calendar
from sync_server.storage import RegisterEntry, Source, audit, quality, uploads
from sync_server.web.figures import today
from sync_server.web.pages.register import line
from tests.fixtures.server import (
    SERVICE,
    SITE,
    add_user,
    answer_payload,
    log_in_client,
    make_record,
)

PARIS = ZoneInfo("Europe/Paris")
IRIS = Source(site=SITE, service=SERVICE, channel="kiosk")
ETAT_CIVIL = Source(site="hotel-de-ville", service="etat-civil", channel="kiosk")
RECEIVED = datetime(2026, 4, 2, 8, 0, tzinfo=UTC)  # Thursday 2 April, 10:00 in Paris
TODAY = date(2026, 12, 2)  # any day after the deadlines above


def comment(storage, text: str, at: datetime, source: Source = IRIS) -> int:
    record = make_record(answer_payload("dissatisfied", comment=text), at=at)
    uploads.store_batch(storage, [record], source)
    with storage.read() as connection:
        return next(e.id for e in quality.register(connection) if e.text == text)


def handle(storage, comment_id: int, action: str, day: date, by: str, **kw) -> None:
    at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)  # 14:00 in Paris
    with storage.write() as connection:
        quality.update_register(connection, comment_id, action=action, by=by, now=at, **kw)


@pytest.fixture
def register(app_client):
    """April at IRIS: on time (A), late at both steps (B), never handled (C), closed at once
    (D), received at 00:30 on 3 April in Paris (E); March at IRIS, a complaint (F); April at
    état civil (G)."""
    s = app_client.app.state.storage
    ids = {
        "A": comment(s, "A à l'heure", RECEIVED),
        "B": comment(s, "B tout en retard", RECEIVED),
        "C": comment(s, "C jamais traité", RECEIVED),
        "D": comment(s, "D clos", RECEIVED),
        "E": comment(s, "E après minuit", datetime(2026, 4, 2, 22, 30, tzinfo=UTC)),
        "F": comment(s, "F mars", datetime(2026, 3, 10, 9, tzinfo=UTC)),
        "G": comment(s, "G état civil", RECEIVED, ETAT_CIVIL),
    }
    handle(s, ids["A"], "acknowledge", date(2026, 4, 3), "qualite", category="welcome")
    handle(s, ids["A"], "answer", date(2026, 4, 20), "chef-iris", reply="Merci")
    handle(s, ids["A"], "close", date(2026, 4, 21), "qualite")
    handle(s, ids["B"], "acknowledge", date(2026, 4, 10), "chef-iris")
    handle(s, ids["B"], "answer", date(2026, 4, 27), "chef-iris", reply="Désolés")
    handle(s, ids["D"], "close", date(2026, 4, 5), "qualite")
    handle(s, ids["F"], "categorise", date(2026, 3, 11), "qualite", category="complaint")
    return app_client, ids


def shown(page: str) -> list[int]:
    return [
        int(found)
        for found in re.findall(r'<li class="entry[^"]*" id="c\d+" data-id="(\d+)"', page)
    ]


def entry_html(page: str, comment_id: int) -> str:
    start = page.index(f'data-id="{comment_id}"')
    end = page.find('<li class="entry', start)
    return unescape(page[start : end if end > 0 else None])


def words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# -- one entry ----------------------------------------------------------------------------------


def test_an_entry_shows_its_dates_in_paris_who_did_each_step_and_its_delays(register):
    client, ids = register
    log_in_client(client, "qualite")
    page = client.get("/comments")
    assert page.status_code == 200
    a = words(entry_html(page.text, ids["A"]))
    assert "Reçu le 02/04/2026 10:00" in a
    ack = "Accusé de réception 03/04/2026 14:00 · par qualite · échéance le 09/04/2026 · 1 jour"
    assert f"{ack} · dans le délai" in a
    answer = "Réponse 20/04/2026 14:00 · par chef-iris · échéance le 24/04/2026 · 11 jours ouvrés"
    assert f"{answer} · dans le délai" in a
    assert "Clôture 21/04/2026 14:00 · par qualite" in a
    b = words(entry_html(page.text, ids["B"]))
    assert "· 8 jours · ⚠ hors délai" in b
    assert "· 16 jours ouvrés · ⚠ hors délai" in b
    assert "Accusé de réception en retard" in b
    assert "Réponse en retard" in b
    # Closing the same week counts for both steps, as the register's indicators count it.
    d = words(entry_html(page.text, ids["D"]))
    assert "Accusé de réception — · échéance le 09/04/2026 · 3 jours · dans le délai" in d
    assert "Clôture 05/04/2026 14:00 · par qualite" in d
    assert "en retard" not in d


def test_delays_and_outcomes_follow_the_regional_holidays():
    entry = RegisterEntry(
        id=1, text="t", flagged=False, question_id=None, site=SITE, service=SERVICE,
        received_at=RECEIVED, main_level=None, main_levels=None, category=None,
        status="answered", acknowledged_at=datetime(2026, 4, 10, 12, tzinfo=UTC),
        answered_at=datetime(2026, 4, 27, 12, tzinfo=UTC), closed_at=None, reply=None,
    )  # fmt: skip
    metropole = line(entry, PARIS, TODAY, False, calendar("metropole"))
    alsace = line(entry, PARIS, TODAY, False, calendar("alsace-moselle"))
    assert (metropole.answer.due, metropole.answer.delay, metropole.answer.outcome) == (
        date(2026, 4, 24), 16, "late")  # fmt: skip
    assert (alsace.answer.due, alsace.answer.delay, alsace.answer.outcome) == (
        date(2026, 4, 27), 15, "on_time")  # fmt: skip
    # The acknowledgement's deadline is in calendar days, the same everywhere.
    assert (metropole.acknowledgement.delay, metropole.acknowledgement.outcome) == (8, "late")
    assert metropole.late
    assert not metropole.overdue


MOMENTS = st.none() | st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


@given(received=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31),
                             timezones=st.just(UTC)),
       acknowledged=MOMENTS, answered=MOMENTS, closed=MOMENTS,
       on=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 6, 30)),
       region=st.sampled_from(["metropole", "alsace-moselle", "la-reunion"]))  # fmt: skip
def test_the_page_judges_each_entry_as_the_indicators_do(
    received, acknowledged, answered, closed, on, region
):
    holidays = calendar(region)
    entry = RegisterEntry(
        id=1, text="t", flagged=False, question_id=None, site=SITE, service=SERVICE,
        received_at=received, main_level=None, main_levels=None, category=None,
        status="closed" if closed else "new", acknowledged_at=acknowledged,
        answered_at=answered, closed_at=closed, reply=None,
    )  # fmt: skip
    shown = line(entry, PARIS, on, False, holidays)

    def local(moment):
        return None if moment is None else moment.astimezone(PARIS).date()

    counted = formulas.register_outcomes(
        local(received), local(acknowledged), local(answered), local(closed), on, holidays
    )
    assert (shown.acknowledgement.outcome, shown.answer.outcome) == counted
    assert shown.answer.due == formulas.answer_due(local(received), holidays)


def test_entries_never_handled_are_overdue_and_come_first(register):
    client, ids = register
    log_in_client(client, "qualite")
    page = client.get("/comments").text
    order = shown(page)
    assert set(order[:4]) == {ids[name] for name in "CEFG"}  # then newest first
    assert order[4:] == [ids[name] for name in "DBA"]
    assert "En retard : 4." in unescape(page)
    c = words(entry_html(page, ids["C"]))
    days = (today(client.app.state.settings) - date(2026, 4, 2)).days
    assert f"Accusé de réception — · échéance le 09/04/2026 · {days} jours · ⚠ hors délai" in c


# -- filters ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("from=2026-04-01&to=2026-04-30", "ABCDEG"),
        # Received on 2 April in Paris: E arrived at 00:30 on the 3rd there (22:30 UTC on the 2nd).
        ("from=2026-04-02&to=2026-04-02", "ABCDG"),
        ("from=2026-04-03", "E"),
        ("to=2026-03-31", "F"),
        ("category=complaint", "F"),
        ("category=welcome", "A"),
        ("category=none", "BCDEG"),
        ("status=closed", "AD"),
        ("status=answered", "B"),
        ("service=etat-civil", "G"),
        ("overdue=open", "CEFG"),
        ("overdue=late", "BCEFG"),
        ("overdue=on_time", "AD"),
        ("overdue=late&service=iris&from=2026-04-01&to=2026-04-02", "BC"),
    ],
)
def test_the_filters(register, query, expected):
    client, ids = register
    log_in_client(client, "qualite")
    page = client.get(f"/comments?{query}")
    assert page.status_code == 200
    names = {comment_id: name for name, comment_id in ids.items()}
    assert "".join(sorted(names[i] for i in shown(page.text))) == expected


def test_a_bad_period_is_said_and_every_date_shown(register):
    client, ids = register
    log_in_client(client, "qualite")
    bad = client.get("/comments?from=2026-13-01&to=2026-04-30")
    assert bad.status_code == 200
    assert "« 2026-13-01 » ou « 2026-04-30 » n'est pas une date valide" in unescape(bad.text)
    assert len(shown(bad.text)) == len(ids)
    reversed_ = client.get("/comments?from=2026-04-30&to=2026-04-01")
    assert "La date de fin précède la date de début" in unescape(reversed_.text)
    assert len(shown(reversed_.text)) == len(ids)


def test_the_filter_form_keeps_what_was_asked(register):
    client, _ids = register
    log_in_client(client, "qualite")
    page = client.get(
        "/comments?from=2026-04-01&to=2026-04-30&category=complaint&overdue=late"
    ).text
    assert 'name="from" type="date" value="2026-04-01"' in page
    assert 'name="to" type="date" value="2026-04-30"' in page
    assert '<option value="complaint" selected>' in page
    assert '<option value="late" selected>' in page
    assert (
        'href="/comments/export.csv?from=2026-04-01&amp;to=2026-04-30&amp;category=complaint&amp;overdue=late&amp;lang=fr"'
        in page
    )


# -- export -------------------------------------------------------------------------------------

HEADERS = [
    "N°", "Reçu le", "Site", "Service", "Catégorie", "État", "Accusé de réception le",
    "Accusé de réception par", "Accusé de réception dû le", "Délai d'accusé de réception (jours)",
    "Accusé de réception : délai", "Répondu le", "Répondu par", "Réponse due le",
    "Délai de réponse (jours ouvrés)", "Réponse : délai", "Clos le", "Clos par",
    "En retard, à traiter", "Coordonnées retirées du texte",
    "Réponse demandée (coordonnées laissées)", "Texte supprimé (durée de conservation)",
    "Code du site", "Code du service",
]  # fmt: skip
NAMES = ["Centre administratif municipal", "IRIS – guichet unique"]


def test_the_export_has_every_date_delay_outcome_and_author_oldest_first(register):
    client, ids = register
    log_in_client(client, "qualite")
    response = client.get("/comments/export.csv?from=2026-04-01&to=2026-04-30&service=iris")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert (
        'filename="registre-2026-04-01..2026-04-30-iris.csv"'
        in response.headers["content-disposition"]
    )
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert table[0] == HEADERS
    rows = {int(row[0]): row for row in table[1:]}
    assert [int(row[0]) for row in table[1:]] == [ids[n] for n in "ABCDE"]
    # The town's time, day first; names, the codes last for BI tools.
    assert rows[ids["A"]][1:] == [
        "02/04/2026 10:00", *NAMES, "Accueil", "Clos", "03/04/2026 14:00", "qualite",
        "09/04/2026", "1", "dans le délai", "20/04/2026 14:00", "chef-iris", "24/04/2026", "11",
        "dans le délai", "21/04/2026 14:00", "qualite", "non", "non", "non", "non", SITE, SERVICE,
    ]  # fmt: skip
    assert rows[ids["B"]][9:16] == ["8", "hors délai", "27/04/2026 14:00", "chef-iris",
                                    "24/04/2026", "16", "hors délai"]  # fmt: skip
    assert (
        rows[ids["C"]][next(i for i, h in enumerate(HEADERS) if h == "En retard, à traiter")]
        == "oui"
    )
    # Never a visitor's text nor a reply.
    for word in ("à l'heure", "Merci", "Désolés", "jamais traité"):
        assert word not in response.content.decode("utf-8-sig")
    event = audit_events(client, "export.downloaded")[0]
    assert event.object == "register.csv"
    assert event.details["rows"] == 5
    assert event.details["from"] == "2026-04-01"


def test_the_export_as_a_spreadsheet_and_in_english(register):
    client, ids = register
    log_in_client(client, "qualite")
    response = client.get("/comments/export.xlsx?lang=en&overdue=late")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Register", "Dictionary"]
    sheet = book["Register"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == ("No.", "Received on", "Site", "Service", "Category", "Status")
    assert {row[0] for row in rows[1:]} == {ids[n] for n in "BCEFG"}
    b = next(row for row in rows if row[0] == ids["B"])
    assert (b[9], b[10], b[14], b[15]) == (8, "late", 16, "late")
    # Moments and due days are date cells in the town's time; the sheet is ready to filter.
    assert isinstance(b[1], datetime)
    assert isinstance(b[8], datetime)  # a due day: midnight
    assert b[8].hour == 0
    assert sheet.freeze_panes == "B2"
    assert sheet.auto_filter.ref == f"A1:X{len(rows)}"
    described = [row[1] for row in book["Dictionary"].iter_rows(min_row=2, values_only=True)]
    assert described == list(rows[0])
    assert client.get("/comments/export.pdf").status_code == 404


def test_a_service_manager_exports_only_their_services(register):
    client, ids = register
    add_user(client.app.state.storage, "chef-iris", "service_manager", [SERVICE])
    log_in_client(client, "chef-iris", "service_manager")
    exported = client.get("/comments/export.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(exported), delimiter=";"))
    assert ids["G"] not in {int(row[0]) for row in rows[1:]}
    assert client.get("/comments/export.csv?service=etat-civil").status_code == 403


def audit_events(client, action: str):
    with client.app.state.storage.read() as connection:
        return [e for e in audit.events(connection, limit=1000) if e.action == action]


# -- replies --------------------------------------------------------------------------------------


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_replies_are_masked_for_service_managers_like_comments(register):
    client, ids = register
    storage = client.app.state.storage
    reply = "Rappelé Mme Dupont au sujet du dossier 123 456 789"
    handle(storage, ids["C"], "answer", date(2026, 12, 1), "qualite", reply=reply)
    add_user(storage, "chef-iris", "service_manager", [SERVICE])
    log_in_client(client, "chef-iris", "service_manager")
    page = unescape(client.get("/comments?show=1").text)  # the switch is not theirs
    assert "Rappelé Mme ▒▒▒ au sujet du dossier ▒▒▒" in page
    assert "Dupont" not in page
    assert "123 456 789" not in page
    client.cookies.clear()
    log_in_client(client, "qualite")
    assert "Dupont" not in unescape(client.get("/comments").text)
    assert reply in unescape(client.get("/comments?show=1").text)


def test_a_reply_over_the_limit_is_refused_with_its_length_and_kept_in_the_field(register):
    client, ids = register
    log_in_client(client, "qualite")
    token = csrf(client.get("/comments").text)
    long_reply = "Nous avons bien noté. " * 182  # 4,004 characters
    assert len(long_reply.strip()) == 4003
    posted = {"csrf_token": token, "action": "answer", "category": "complaint", "reply": long_reply}
    refused = client.post(f"/comments/{ids['C']}", data=posted, follow_redirects=False)
    assert refused.status_code == 400
    text = unescape(refused.text)
    assert (
        "La réponse fait 4\u202f003 caractères : 4\u202f000 au plus. Elle n'a pas été enregistrée"
        in text
    )
    assert long_reply.strip() in text  # typed back in the field, nothing lost
    assert shown(refused.text) == [ids["C"]]
    with client.app.state.storage.read() as connection:
        [entry] = quality.register(connection, comment_id=ids["C"])
    assert (entry.status, entry.reply, entry.category) == ("new", None, None)
    assert audit_events(client, "register.answered") == []

    exactly = "x" * 4000
    kept = client.post(f"/comments/{ids['C']}", data={"csrf_token": token, "action": "answer",
                       "reply": exactly}, follow_redirects=False)  # fmt: skip
    assert kept.status_code == 303
    with client.app.state.storage.read() as connection:
        [entry] = quality.register(connection, comment_id=ids["C"])
    assert (entry.status, entry.reply, entry.answered_by) == ("answered", exactly, "qualite")


def test_each_step_posted_records_its_author(register):
    client, ids = register
    add_user(client.app.state.storage, "chef-iris", "service_manager", [SERVICE])
    log_in_client(client, "chef-iris", "service_manager")
    token = csrf(client.get("/comments").text)
    for action in ("acknowledge", "answer"):
        response = client.post(f"/comments/{ids['C']}", data={"csrf_token": token, "action": action,
                               "reply": "Vu avec l'équipe"}, follow_redirects=False)  # fmt: skip
        assert response.status_code == 303
    client.cookies.clear()
    log_in_client(client, "qualite")
    token = csrf(client.get("/comments").text)
    client.post(f"/comments/{ids['C']}", data={"csrf_token": token, "action": "close"})
    with client.app.state.storage.read() as connection:
        [entry] = quality.register(connection, comment_id=ids["C"])
    assert (entry.acknowledged_by, entry.answered_by, entry.closed_by) == (
        "chef-iris", "chef-iris", "qualite")  # fmt: skip
