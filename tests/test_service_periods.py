"""The service page for any period kind through the shared picker, on the real app: a survey
campaign given as two dates (or as the overview's link names it), the suspect switch, the export
links and the waiting section following the chosen period, and every bad input worded.

Data at IRIS, counted by hand (main question):
- Monday 2 March 2026: 6 satisfied;
- Tuesday 17 March 2026: 3 satisfied, 1 dissatisfied, and 1 satisfied suspect press;
- Wednesday 15 April 2026: 5 dissatisfied.
So the campaign 10 March – 30 April holds 3 satisfied of 9 (33.3 %), or 4 of 10 (40.0 %) with the
suspect press. Waits: the hand-computed month of tests/tools/wait_month.py in January 2026; its
first Tuesday, 6 January, alone holds six served visits of 2, 4, 6, 8, 10 and 30 min (mean 10.0);
the whole month ten visits (nine served, one walk-out).
"""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from sync_server.indicators.periods import default_period
from sync_server.storage import Source, uploads
from sync_server.web.figures import today as town_today
from sync_server.web.period_choice import period_label
from tests.fixtures.server import SERVICE, SITE, answer_payload, make_record
from tests.tools.desk_records import answers
from tests.tools.page_text import figure_cells, text_of, waits_panel
from tests.tools.wait_month import fill_month

CAMPAIGN = "kind=campaign&from=2026-03-10&to=2026-04-30"
SAME = "kind=campaign&amp;period=2026-03-10..2026-04-30"  # how the page's links name it


@pytest.fixture
def service(app_server):
    """The app with the data of the module docstring, and a getter of IRIS's page."""
    storage = app_server.storage
    answers(storage, ["satisfied"] * 6, datetime(2026, 3, 2, 9, tzinfo=UTC))
    answers(storage, ["satisfied"] * 3 + ["dissatisfied"], datetime(2026, 3, 17, 9, tzinfo=UTC))
    suspect = answer_payload("satisfied", suspect=True)
    kiosk = Source(site=SITE, service=SERVICE, channel="kiosk")
    uploads.store_batch(
        storage, [make_record(suspect, at=datetime(2026, 3, 17, 10, tzinfo=UTC))], kiosk
    )
    answers(storage, ["dissatisfied"] * 5, datetime(2026, 4, 15, 9, tzinfo=UTC))
    fill_month(storage, date(2026, 1, 1))
    session = app_server.login_session(app_server.client())

    def get(query: str) -> str:
        response = session.get(f"{app_server.url}/service/{SERVICE}?{query}")
        assert response.status_code == 200, response.text[:500]
        return response.text

    return app_server, session, get


def satisfaction(page: str) -> tuple[str, str]:
    """(value, N) of the desk's overall satisfaction row in the figures table (the value
    before the line giving its interval)."""
    row = re.search(r'<tr data-figure="satisfaction_rate">(.*?)</tr>', page, re.S)
    assert row, "no satisfaction row"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    return text_of(cells[0].split("<br>")[0]), text_of(cells[1])


def link(page: str, path: str) -> str:
    found = re.search(rf'href="({re.escape(path)}\?[^"]*)"', page)
    assert found, f"no link to {path}"
    return html.unescape(found.group(1))


def test_a_campaign_on_the_service_page(service):
    server, session, get = service
    page = get(CAMPAIGN)
    assert 'role="alert"' not in page
    assert "· 10 mars 2026 – 30 avr. 2026</h1>" in page
    assert satisfaction(page) == ("33,3\u202f%", "9")
    # The picker shows the campaign: kind selected, both dates filled in, suspect switch off.
    assert '<option value="campaign" selected>' in page
    assert 'id="from" name="from" value="2026-03-10"' in page
    assert 'id="to" name="to" value="2026-04-30"' in page
    assert 'name="suspect" value="1">' in page
    # Every export names the same campaign; the answers file holds the 9 answers counted above.
    for path in ("answers.xlsx", "answers.csv", "visits.xlsx", "indicators.xlsx"):
        assert f'href="/export/{path}?service={SERVICE}&amp;{SAME}&amp;' in page
    rows = session.get(server.url + link(page, "/export/answers.csv")).content.decode("utf-8-sig")
    assert len(rows.strip().splitlines()) == 1 + 9
    # Back to the overview on the same campaign; the link the overview's card gives works too.
    assert f'href="/?{SAME}"' in page
    assert satisfaction(get("kind=campaign&period=2026-03-10..2026-04-30")) == ("33,3\u202f%", "9")


def test_the_suspect_switch_follows_the_campaign(service):
    server, session, get = service
    page = get(CAMPAIGN + "&suspect=1")
    assert satisfaction(page) == ("40,0\u202f%", "10")
    assert 'name="suspect" value="1" checked>' in page
    assert "Les appuis suspects (répétés en quelques secondes) sont inclus" in page
    book = session.get(server.url + link(page, "/export/indicators.xlsx")).content
    sheet = load_workbook(io.BytesIO(book), read_only=True).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert any(40.0 in row and 10 in row for row in values), values[:5]


def test_the_waits_follow_a_one_day_campaign(service):
    _server, _session, get = service
    panel = waits_panel(get("kind=campaign&from=2026-01-06&to=2026-01-06"))
    assert figure_cells(panel, "visits")[1] == "6"
    assert figure_cells(panel, "mean_wait_minutes")[1] == "10,0\u00a0min"
    whole = waits_panel(get("kind=month&period=2026-01"))
    assert figure_cells(whole, "visits")[1] == "10"  # 6 + 3 served + 1 walk-out


def test_a_quarter_gives_its_poster(service):
    _server, _session, get = service
    poster = f"/reports/poster/{SERVICE}.pdf?quarter=2026-Q1&amp;site={SITE}&amp;lang=fr"
    assert poster in get("kind=quarter&period=2026-Q1")
    assert f"/reports/poster/{SERVICE}.pdf?site={SITE}&amp;lang=fr" in get(CAMPAIGN)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("kind=campaign&from=2026-04-30&to=2026-03-10", "se termine avant de commencer"),
        ("kind=campaign&from=2026-02-30&to=2026-03-01", "ne sont pas des dates valides"),
        ("kind=campaign&from=2020-01-01&to=2026-03-01", "Une campagne dure au plus trois ans"),
        ("kind=month&period=%3Cb%3Ex", "« &lt;b&gt;x » ne désigne pas une période"),
    ],
)  # fmt: skip
def test_bad_input_is_worded_on_the_service_page(service, query, message):
    server, _session, get = service
    page = get(query + "&suspect=1")
    assert message in page
    kind = dict(p.split("=", 1) for p in query.split("&"))["kind"]
    label = period_label(default_period(kind, town_today(server.settings)), "fr")
    assert f"Période affichée à la place : {label}." in page
    assert f" · {label}</h1>" in page
    assert "<b>x" not in page
    assert 'name="suspect" value="1" checked>' in page  # the switch is kept


def test_bad_input_is_worded_in_english_on_the_service_page(service):
    _server, _session, get = service
    page = get("kind=campaign&from=2026-04-30&to=2026-03-10&lang=en")
    assert "The campaign ends before it starts" in page
    assert "Period shown instead:" in page
