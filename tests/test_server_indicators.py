"""Monthly indicators (Europe/Paris months) through the pipeline and `GET /api/v1/indicators`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from sync_server.indicators import periods, pipeline
from sync_server.indicators.query import WAITS, IndicatorQuery
from sync_server.storage import Source, quality, users
from tests.fixtures.server import SERVICE, SITE, log_in_client, set_target
from tests.tools.desk_records import answers, served
from tests.tools.documented import answer_schema, assert_documented

PARIS = ZoneInfo("Europe/Paris")
KIOSK = Source(site=SITE, service=SERVICE, channel="kiosk")
TABLET = Source(site=SITE, service=SERVICE, channel="tablet")


def compute(storage, first: date, last: date | None = None):
    months = periods.months_between(first, last or first)
    query = IndicatorQuery(months[-1], parts=WAITS)
    rows = pipeline.compute_months(storage, query, len(months))
    return {(r.site, r.service, r.period): r for r in rows}


def test_figures_for_a_desk_month(server_storage):
    at = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    # 3 very satisfied, 3 satisfied, 1 dissatisfied, 1 very dissatisfied, 2 no opinion.
    choices = ["very_satisfied"] * 3 + ["satisfied"] * 3 + ["dissatisfied", "very_dissatisfied"]
    answers(server_storage, [*choices, "no_opinion", "no_opinion"], at)
    answers(server_storage, ["very_dissatisfied"] * 5, at, suspect=True)  # left out
    served(server_storage, [2, 4, 6, 8, 30], at)
    row = compute(server_storage, date(2025, 3, 1))[(SITE, SERVICE, "2025-03")]
    figures = row.figures
    assert (figures["answers"].value, figures["answers"].n) == (10, 10)
    rate = figures["satisfaction_rate"]
    assert (rate.value, rate.n, rate.target, rate.gap) == (75.0, 8, 90, -15.0)
    assert figures["net_satisfaction"].value == 50.0  # 75 % − 25 %
    assert figures["margin_of_error"].warning == "small_sample"
    assert figures["mean_wait_minutes"].value == 10.0
    assert figures["median_wait_minutes"].value == 6.0
    assert row.site_name == "Centre administratif municipal"


def test_the_previous_month_is_given_with_the_figure(server_storage):
    answers(server_storage, ["satisfied"] * 5, datetime(2025, 2, 10, tzinfo=UTC))
    answers(server_storage, ["satisfied", "dissatisfied"] * 3, datetime(2025, 3, 10, tzinfo=UTC))
    rate = compute(server_storage, date(2025, 3, 1))[(SITE, SERVICE, "2025-03")].figures[
        "satisfaction_rate"
    ]
    assert (rate.value, rate.previous) == (50.0, 100.0)


def test_an_answer_late_on_the_last_evening_counts_in_paris_month(server_storage):
    # 31 March 2025, 23:30 in Paris is 21:30 UTC: March. 1 April 00:30 Paris is 31 March UTC.
    answers(server_storage, ["satisfied"] * 5, datetime(2025, 3, 31, 21, 30, tzinfo=UTC))
    answers(server_storage, ["dissatisfied"] * 5, datetime(2025, 3, 31, 22, 30, tzinfo=UTC))
    rows = compute(server_storage, date(2025, 3, 1), date(2025, 4, 1))
    assert rows[(SITE, SERVICE, "2025-03")].figures["satisfaction_rate"].value == 100.0
    assert rows[(SITE, SERVICE, "2025-04")].figures["satisfaction_rate"].value == 0.0


def test_small_samples_are_hidden_with_a_reason(server_storage):
    answers(server_storage, ["satisfied"] * 4, datetime(2025, 3, 10, tzinfo=UTC))
    served(server_storage, [5], datetime(2025, 3, 10, tzinfo=UTC))
    figures = compute(server_storage, date(2025, 3, 1))[(SITE, SERVICE, "2025-03")].figures
    assert figures["satisfaction_rate"].hidden
    assert figures["satisfaction_rate"].value is None
    assert figures["satisfaction_rate"].reason == "below_min_n"
    assert figures["median_wait_minutes"].reason == "below_min_n"
    other = compute(server_storage, date(2025, 3, 1))[("clavim", "clavim", "2025-03")]
    assert other.figures["satisfaction_rate"].reason == "no_data"


def test_indicators_api_for_a_logged_in_manager(app_client):
    storage = app_client.app.state.storage
    answers(storage, ["satisfied"] * 4 + ["dissatisfied"], datetime(2025, 3, 10, tzinfo=UTC))
    log_in_client(app_client, "qualite")
    response = app_client.get(
        "/api/v1/indicators", params={"from": "2025-03", "to": "2025-03", "site": SITE}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"], body["to"], body["min_answers"], body["target"]) == (
        "2025-03",
        "2025-03",
        5,
        90.0,
    )
    assert {row["site"] for row in body["rows"]} == {SITE}
    [iris] = [row for row in body["rows"] if row["service"] == SERVICE]
    rate = iris["figures"]["satisfaction_rate"]
    assert (rate.pop("low"), rate.pop("high")) == (
        pytest.approx(37.553, abs=1e-3), pytest.approx(96.378, abs=1e-3)
    )  # fmt: skip
    assert rate == {
        "value": 80.0,
        "n": 5,
        "hidden": False,
        "reason": None,
        "previous": None,
        "target": 90.0,
        "gap": -10.0,
        "warning": None,
        "unit": "%",
        "gap_unit": "pts",
        "n_counts": "expressed_answers",
    }


def test_the_answer_is_the_one_the_openapi_document_describes(app_client):
    storage = app_client.app.state.storage
    answers(storage, ["satisfied"] * 4 + ["dissatisfied"], datetime(2025, 3, 10, tzinfo=UTC))
    log_in_client(app_client, "qualite")
    for params in ({"from": "2025-02", "to": "2025-03"}, {"kind": "year", "period": "2025"}):
        response = app_client.get("/api/v1/indicators", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["rows"]
        assert any(row["waits_by_hour"] or row["reasons"] for row in body["rows"])
        assert_documented(body, *answer_schema(app_client.app, "/api/v1/indicators"))


def test_the_api_applies_the_targets_and_previous_months_the_pages_show(app_client):
    storage = app_client.app.state.storage
    answers(storage, ["satisfied"] * 4 + ["dissatisfied"], datetime(2025, 3, 10, tzinfo=UTC))
    served(storage, [2, 4, 6, 8, 10], datetime(2025, 2, 10, 9, 0, tzinfo=UTC))
    served(storage, [1, 1, 1, 1, 1], datetime(2025, 3, 10, 9, 0, tzinfo=UTC))
    set_target(storage, "satisfaction_rate", SERVICE, 95, date(2025, 1, 1))
    with storage.write() as connection:
        quality.set_target(
            connection,
            indicator="p90_wait_minutes",
            service=None,
            value=5,
            valid_from=date(2025, 1, 1),
            set_by="qualite",
        )
    log_in_client(app_client, "qualite")
    body = app_client.get(
        "/api/v1/indicators", params={"from": "2025-03", "to": "2025-03", "site": SITE}
    ).json()
    [iris] = [row for row in body["rows"] if row["service"] == SERVICE]
    rate, p90 = iris["figures"]["satisfaction_rate"], iris["figures"]["p90_wait_minutes"]
    assert (rate["value"], rate["target"], rate["gap"]) == (80.0, 95.0, -15.0)
    assert (p90["value"], p90["previous"], p90["target"], p90["gap"]) == (1.0, 10.0, 5.0, -4.0)
    assert body["target"] == 90.0  # the town's default, for desks without a target of their own


def test_a_service_manager_sees_only_their_services(app_client):
    storage = app_client.app.state.storage
    with storage.write() as connection:
        users.create(
            connection,
            username="ccas-chef",
            password="a long test password",
            role="service_manager",
            services=["ccas"],
        )
    log_in_client(app_client, "ccas-chef")
    body = app_client.get("/api/v1/indicators", params={"from": "2025-03", "to": "2025-03"}).json()
    assert {row["service"] for row in body["rows"]} == {"ccas"}
    asked = app_client.get("/api/v1/indicators", params={"service": SERVICE}).json()
    assert asked["rows"] == []


def test_an_administrator_cannot_read_the_answers_figures(app_client):
    storage = app_client.app.state.storage
    with storage.write() as connection:
        users.create(connection, username="it-admin", password="a long test password", role="admin")
    log_in_client(app_client, "it-admin")
    refused = app_client.get("/api/v1/indicators", params={"from": "2025-03", "to": "2025-03"})
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert "rows" not in refused.json()


def test_bad_periods_are_refused(app_client):
    log_in_client(app_client, "qualite")
    bad = app_client.get("/api/v1/indicators", params={"from": "2025-13"})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_query")
    reversed_ = app_client.get("/api/v1/indicators", params={"from": "2025-05", "to": "2025-03"})
    assert (reversed_.status_code, reversed_.json()["code"]) == (422, "invalid_query")
    for params in (
        {"kind": "decade", "period": "2020"},
        {"kind": "quarter", "period": "2025-Q5"},
        {"kind": "quarter"},  # which quarter?
        {"kind": "month", "period": "2025-03", "from": "2025-03"},  # one form or the other
        {"kind": "year", "period": "1999"},
    ):
        refused = app_client.get("/api/v1/indicators", params=params)
        assert (refused.status_code, refused.json()["code"]) == (422, "invalid_query"), params


def test_one_period_of_any_kind(app_client):
    storage = app_client.app.state.storage
    answers(storage, ["satisfied"] * 4 + ["dissatisfied"], datetime(2025, 2, 10, tzinfo=UTC))
    answers(storage, ["satisfied"] * 5, datetime(2025, 3, 10, tzinfo=UTC))
    log_in_client(app_client, "qualite")
    body = app_client.get(
        "/api/v1/indicators", params={"kind": "quarter", "period": "2025-Q1", "site": SITE}
    ).json()
    assert (body["from"], body["to"], body["kind"]) == ("2025-Q1", "2025-Q1", "quarter")
    [iris] = [row for row in body["rows"] if row["service"] == SERVICE]
    rate = iris["figures"]["satisfaction_rate"]
    assert (iris["period"], rate["value"], rate["n"], rate["previous"]) == (
        "2025-Q1",
        90.0,
        10,
        None,
    )
    campaign = app_client.get(
        "/api/v1/indicators", params={"kind": "campaign", "period": "2025-03-01..2025-03-31"}
    ).json()
    [iris] = [row for row in campaign["rows"] if (row["site"], row["service"]) == (SITE, SERVICE)]
    # The 31 days before the campaign are February and 3 days of January: 4 of 5.
    assert (iris["figures"]["satisfaction_rate"]["value"], iris["figures"]["satisfaction_rate"]
            ["previous"]) == (100.0, 80.0)  # fmt: skip
