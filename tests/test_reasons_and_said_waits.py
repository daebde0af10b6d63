"""Why unhappy visitors were unhappy (a ranked, Pareto-ready list) and how long visitors said
they waited against the waits the agents measured: pure rules, then through the computation
and the JSON API on a real server."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from qualivilles.protocol import RecordKind
from sync_server.indicators import periods, pipeline
from sync_server.indicators.figures import Choice, reasons_of, said_waits_of
from sync_server.indicators.query import EVERY, IndicatorQuery
from sync_server.storage import Source, uploads
from tests.fixtures.server import SERVICE, SITE, answer_payload, log_in_client, make_record
from tests.tools.desk_records import TABLET, answers

KIOSK = Source(site=SITE, service=SERVICE, channel="kiosk")
PHONE = Source(site=SITE, service=SERVICE, channel="phone")
REASONS = [Choice(c, {"fr": c}) for c in ("waiting", "welcome", "answer", "premises", "other")]
BANDS = [Choice(c, {"fr": c}) for c in ("lt5", "5to15", "15to30", "gt30")]


def test_reasons_are_ranked_with_their_running_share():
    ranked = reasons_of({"welcome": 2, "waiting": 6, "premises": 2}, REASONS)
    assert [r.choice for r in ranked] == ["waiting", "welcome", "premises", "answer", "other"]
    assert [r.count for r in ranked] == [6, 2, 2, 0, 0]
    assert [r.share for r in ranked] == [60.0, 20.0, 20.0, 0.0, 0.0]
    assert [r.cumulative for r in ranked] == [60.0, 80.0, 100.0, 100.0, 100.0]


def test_no_reason_chosen_gives_no_share():
    ranked = reasons_of({}, REASONS)
    assert [r.choice for r in ranked] == [c.id for c in REASONS]  # survey order on ties
    assert all(r.share is None and r.cumulative is None for r in ranked)


@given(st.dictionaries(st.sampled_from([c.id for c in REASONS]), st.integers(0, 500)))
def test_the_pareto_line_rises_to_the_whole(counts):
    ranked = reasons_of(counts, REASONS)
    assert [r.count for r in ranked] == sorted((r.count for r in ranked), reverse=True)
    running = [r.cumulative for r in ranked]
    if sum(counts.values()):
        assert running == sorted(running)
        assert abs(running[-1] - 100) < 1e-9
    assert sum(r.count for r in ranked) == sum(counts.values())


def test_a_declared_band_gets_the_median_of_the_waits_measured_for_it():
    said = [("5to15", 600.0)] * 3 + [("5to15", 1800.0)] * 2 + [("gt30", 2400.0)]
    bands = said_waits_of({"5to15": 9, "gt30": 1}, said, BANDS, min_n=5)
    by_band = {b.band: b for b in bands}
    assert [b.band for b in bands] == [c.id for c in BANDS]
    assert by_band["5to15"].answers == 9
    assert (by_band["5to15"].measured.value, by_band["5to15"].measured.n) == (10.0, 5)
    assert by_band["5to15"].measured.unit == "min"
    # One linked answer: below the minimum N, the median is hidden, its N still given.
    assert by_band["gt30"].measured.hidden
    assert by_band["gt30"].measured.n == 1
    assert by_band["lt5"].measured.reason == "no_data"


def _served_visit(minutes: float, at: datetime) -> tuple[str, list]:
    visit_id = str(uuid.uuid4())
    arrived = make_record({"visit_id": visit_id, "event": "arrived"}, RecordKind.VISIT_EVENT, at)
    taken = make_record(
        {"visit_id": visit_id, "event": "taken_in_charge"},
        RecordKind.VISIT_EVENT,
        at + timedelta(minutes=minutes),
    )
    return visit_id, [arrived, taken]


def _seed(storage) -> None:
    at = datetime(2025, 3, 11, 9, 0, tzinfo=UTC)
    unhappy = [["waiting"], ["waiting", "welcome"], ["waiting"], ["answer"], ["waiting", "answer"]]
    for index, why in enumerate(unhappy):
        payload = answer_payload(
            "dissatisfied", answers={"overall": "dissatisfied", "why_unhappy": why}
        )
        uploads.store_batch(
            storage, [make_record(payload, at=at + timedelta(minutes=index))], KIOSK
        )
    answers(storage, ["satisfied"] * 5, at)
    # Five phone answers through the visit's link say "5 to 15 minutes"; the agents measured
    # 12, 14, 20, 25 and 40 minutes.
    for minutes in (12, 14, 20, 25, 40):
        visit_id, events = _served_visit(minutes, at)
        uploads.store_batch(storage, events, TABLET)
        said = {"overall": "satisfied", "wait_band": "5to15"}
        payload = answer_payload("satisfied", answers=said, channel="phone", visit_id=visit_id)
        uploads.store_batch(storage, [make_record(payload, at=at + timedelta(hours=1))], PHONE)


def test_the_computation_gives_reasons_and_said_waits(server_storage):
    _seed(server_storage)
    month = periods.parse("month", "2025-03")
    rows = pipeline.compute(server_storage, IndicatorQuery(month, parts=EVERY))
    row = next(r for r in rows if (r.site, r.service) == (SITE, SERVICE))
    assert [(r.choice, r.count) for r in row.reasons][:3] == [
        ("waiting", 4),
        ("answer", 2),
        ("welcome", 1),
    ]
    assert row.reasons[0].label["fr"] == "L'attente"
    band = next(b for b in row.said_waits if b.band == "5to15")
    assert (band.answers, band.measured.value, band.measured.n) == (5, 20.0, 5)


def test_the_api_gives_reasons_and_said_waits(server_storage, app_client):
    _seed(server_storage)
    log_in_client(app_client, "qualite")
    body = app_client.get("/api/v1/indicators?kind=month&period=2025-03").json()
    row = next(r for r in body["rows"] if (r["site"], r["service"]) == (SITE, SERVICE))
    assert row["reasons"][0] == {
        "choice": "waiting",
        "label": row["reasons"][0]["label"],
        "count": 4,
        "share": 100 * 4 / 7,
        "cumulative": 100 * 4 / 7,
    }
    assert row["reasons"][0]["label"]["fr"] == "L'attente"
    band = next(b for b in row["said_waits"] if b["band"] == "5to15")
    assert band["answers"] == 5
    assert band["measured"]["value"] == 20.0
    assert body["from"] == "2025-03"


def test_the_service_page_ranks_the_reasons_and_shows_the_declared_waits(
    server_storage, app_client
):
    _seed(server_storage)
    log_in_client(app_client, "qualite")
    page = app_client.get(f"/service/{SERVICE}?kind=month&period=2025-03&lang=fr").text
    reasons = page[page.index('<table class="data reasons">') :]
    reasons = reasons[: reasons.index("</table>")]
    order = [
        reasons.index(name) for name in ("L&#39;attente", "La réponse apportée", "L&#39;accueil")
    ]
    assert order == sorted(order)
    assert "57,1\u202f%" in reasons  # 4 of the 7 reasons chosen
    assert "<h3>Raisons d'insatisfaction</h3>" in page
    assert 'role="img"' in page[page.index('class="chart-box pareto"') :][:400]
    said = page[page.index('<table class="data said-waits">') :]
    said = said[: said.index("</table>")]
    row = said[said.index("5 à 15 minutes") :]
    row = row[: row.index("</tr>")]
    assert "20,0\u00a0min" in row


def test_the_indicators_workbook_holds_the_reasons_and_the_declared_waits(
    server_storage, app_client
):
    _seed(server_storage)
    log_in_client(app_client, "qualite")
    response = app_client.get("/export/indicators.xlsx?kind=month&period=2025-03&lang=fr")
    book = load_workbook(io.BytesIO(response.content))
    reasons = [row for row in book["Raisons"].iter_rows(values_only=True)][1:]
    mine = [row for row in reasons if SERVICE in row]
    # rank, label and count, in that order, most chosen first
    assert [(r[3], r[4], r[5]) for r in mine][:3] == [
        (1, "L'attente", 4),
        (2, "La réponse apportée", 2),
        (3, "L'accueil", 1),
    ]
    said = [row for row in book["Attente déclarée"].iter_rows(values_only=True)][1:]
    band = next(row for row in said if SERVICE in row and "5 à 15 minutes" in row)
    assert band[4:7] == (5, 5, 20.0)
