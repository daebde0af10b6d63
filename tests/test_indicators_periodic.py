"""The period computation over real storage: every figure of a desk, targets with history."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from qualivilles.protocol import RecordKind
from sync_server.indicators import pipeline
from sync_server.indicators.figures import below_target
from sync_server.indicators.periods import parse
from sync_server.indicators.query import IndicatorQuery, Scope
from sync_server.storage import quality, surveys, uploads
from tests.fixtures.server import SERVICE, SITE, make_record, set_target
from tests.tools.desk_records import TABLET, answers, served

MARCH = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def compute(storage, kind="month", text="2025-03", include_suspect=False):
    query = IndicatorQuery(parse(kind, text), Scope(include_suspect=include_suspect))
    rows = pipeline.compute(storage, query)
    return {(r.site, r.service): r for r in rows}


def test_every_figure_of_a_desk_by_hand(server_storage):
    # Overall: 3 very satisfied, 3 satisfied, 1 dissatisfied, 1 very dissatisfied, 2 no opinion;
    # welcome: 4 satisfied, 2 very dissatisfied (follow-up question).
    choices = ["very_satisfied"] * 3 + ["satisfied"] * 3 + ["dissatisfied", "very_dissatisfied"]
    welcome = ["satisfied"] * 4 + ["very_dissatisfied"] * 2 + [None] * 4
    mains = [*choices, "no_opinion", "no_opinion"]
    for i, (main, extra) in enumerate(zip(mains, welcome, strict=True)):
        fields = {"answers": {"overall": main, **({"welcome": extra} if extra else {})}}
        answers(server_storage, [None], MARCH + timedelta(minutes=i), **fields)
    answers(server_storage, ["very_dissatisfied"] * 5, MARCH, suspect=True)
    answers(server_storage, ["satisfied"], MARCH, status="partial")
    served(server_storage, [2, 4, 6, 8, 10], MARCH)
    row = compute(server_storage)[(SITE, SERVICE)]
    f = row.figures
    # 7 satisfied of 9 expressed (the partial answer counts), 11 answers in all.
    assert (f["answers"].value, f["satisfaction_rate"].n) == (11, 9)
    assert f["satisfaction_rate"].value == 700 / 9
    # Scores: 3×10 + 4×6.667 + 1×3.333 + 1×0 over 9 = 6.667; 3 of 9 reach 8.
    assert f["score"].value == pytest.approx(60 / 9)
    assert f["good_score_share"].value == 100 * 3 / 9
    # 11 answers for 5 recorded visitors: not a share of them, hidden and said why.
    participation = f["participation_rate"]
    assert (participation.value, participation.n) == (None, 5)
    assert participation.reason == "more_answers_than_visitors"
    assert row.questions["welcome"].rate.value == 100 * 4 / 6
    assert row.questions["welcome"].distribution["satisfied"] == 4
    assert row.questions["overall"].rate.value == f["satisfaction_rate"].value
    assert row.quality == {
        "total": 16, "suspect": 5, "partial": 1, "visitors": 5, "silent_devices": 0
    }  # fmt: skip


def test_suspect_presses_excluded_by_default_and_includable(server_storage):
    answers(server_storage, ["satisfied"] * 5, MARCH)
    answers(server_storage, ["very_dissatisfied"] * 5, MARCH, suspect=True)
    assert compute(server_storage)[(SITE, SERVICE)].figures["satisfaction_rate"].value == 100
    included = compute(server_storage, include_suspect=True)[(SITE, SERVICE)]
    assert included.figures["satisfaction_rate"].value == 50


def test_no_answers_and_all_no_opinion_hide_with_a_reason(server_storage):
    row = compute(server_storage)[(SITE, SERVICE)]
    assert row.figures["score"].reason == "no_data"
    assert row.figures["participation_rate"].reason == "no_data"
    answers(server_storage, ["no_opinion"] * 6, MARCH)
    row = compute(server_storage)[(SITE, SERVICE)]
    assert row.figures["answers"].value == 6
    assert row.figures["satisfaction_rate"].reason == "no_data"  # nothing expressed
    assert row.figures["score"].hidden
    answers(server_storage, ["satisfied"] * 3, MARCH)
    assert compute(server_storage)[(SITE, SERVICE)].figures["score"].reason == "below_min_n"


def test_previous_period_and_other_period_kinds(server_storage):
    answers(server_storage, ["satisfied"] * 4 + ["dissatisfied"], MARCH - timedelta(days=28))
    answers(server_storage, ["satisfied"] * 5, MARCH)
    march = compute(server_storage)[(SITE, SERVICE)].figures["satisfaction_rate"]
    assert (march.value, march.previous) == (100, 80)
    quarter = compute(server_storage, "quarter", "2025-Q1")[(SITE, SERVICE)]
    assert quarter.figures["satisfaction_rate"].value == 90
    week = compute(server_storage, "week", "2025-W11")[(SITE, SERVICE)]
    assert week.period == "2025-W11"
    assert week.figures["answers"].value == 5
    campaign = compute(server_storage, "campaign", "2025-02-01..2025-02-28")[(SITE, SERVICE)]
    assert campaign.figures["satisfaction_rate"].value == 80


def test_a_target_change_does_not_rewrite_past_periods(server_storage):
    answers(server_storage, ["satisfied"] * 17 + ["dissatisfied"] * 3, MARCH)  # 85 %
    answers(server_storage, ["satisfied"] * 17 + ["dissatisfied"] * 3, MARCH + timedelta(days=31))
    set_target(server_storage, "satisfaction_rate", None, 80, date(2025, 1, 1))
    with server_storage.write() as connection:
        quality.set_target(
            connection,
            indicator="satisfaction_rate",
            service=SERVICE,
            value=88,
            valid_from=date(2025, 4, 1),
            set_by="qualite",
        )
    march = compute(server_storage)[(SITE, SERVICE)]
    april = compute(server_storage, "month", "2025-04")[(SITE, SERVICE)]
    assert (march.figures["satisfaction_rate"].target, march.status("satisfaction_rate")) == (
        80, "above"
    )  # fmt: skip
    assert (april.figures["satisfaction_rate"].target, april.status("satisfaction_rate")) == (
        88, "below"
    )  # fmt: skip
    assert april.figures["satisfaction_rate"].gap == -3
    # Other services keep the town-wide target; before any row, the settings default applies.
    other = compute(server_storage, "month", "2025-04")
    assert {r.figures["satisfaction_rate"].target for k, r in other.items() if k[1] != SERVICE} == {
        80
    }
    assert (
        compute(server_storage, "month", "2024-12")[(SITE, SERVICE)]
        .figures["satisfaction_rate"]
        .target
        == 90
    )
    with server_storage.read() as connection:
        assert [t.value for t in quality.target_history(connection)] == [88, 80]


def test_waits_are_judged_lower_is_better(server_storage):
    served(server_storage, [20, 20, 20, 20, 20], MARCH)
    set_target(server_storage, "mean_wait_minutes", None, 15, date(2025, 1, 1))
    row = compute(server_storage)[(SITE, SERVICE)]
    assert row.status("mean_wait_minutes") == "below"
    assert [(k, f.value) for _r, k, f in below_target([row])] == [("mean_wait_minutes", 20.0)]


def test_the_main_question_is_listed_once_among_the_misses(server_storage):
    answers(server_storage, ["satisfied"] * 4 + ["very_dissatisfied"] * 2, MARCH)
    [row] = [r for k, r in compute(server_storage).items() if k == (SITE, SERVICE)]
    with server_storage.read() as connection:
        main = surveys.current(connection).main_question
    assert row.questions[main].rate.value == row.figures["satisfaction_rate"].value
    keys = [key for _r, key, _f in below_target([row])]
    assert "satisfaction_rate" in keys
    assert f"question:{main}" in keys
    once = [key for _r, key, _f in below_target([row], main)]
    assert "satisfaction_rate" in once
    assert f"question:{main}" not in once


def test_participation_does_not_count_a_visit_taken_back(server_storage):
    answers(server_storage, ["satisfied"] * 5, MARCH)
    served(server_storage, [5] * 8, MARCH)  # eight visitors served
    mistaken = str(uuid.uuid4())
    arrival = make_record({"visit_id": mistaken, "event": "arrived"}, RecordKind.VISIT_EVENT, MARCH)
    undo = {"visit_id": mistaken, "event": "cancelled", "cancels": str(arrival.id)}
    uploads.store_batch(
        server_storage, [arrival, make_record(undo, RecordKind.VISIT_EVENT, MARCH)], TABLET
    )
    row = compute(server_storage)[(SITE, SERVICE)]
    assert row.quality["visitors"] == 8
    assert row.figures["participation_rate"].value == 100 * 5 / 8


def test_every_desk_figure_carries_the_previous_period(server_storage):
    february = MARCH - timedelta(days=28)
    answers(server_storage, ["satisfied"] * 4 + ["dissatisfied"], february)  # net +60
    served(server_storage, [2, 4, 6, 8, 10], february)  # mean 6, median 6
    answers(server_storage, ["satisfied"] * 5, MARCH)
    served(server_storage, [1, 1, 1, 1, 1], MARCH)
    figures = compute(server_storage)[(SITE, SERVICE)].figures
    assert figures["net_satisfaction"].previous == 60.0
    assert figures["mean_wait_minutes"].previous == 6.0
    assert figures["median_wait_minutes"].previous == 6.0
    # February's 4 of 5: Wilson 37.55 – 96.38 %, half-width 29.41 points.
    assert figures["margin_of_error"].previous == pytest.approx(29.412, abs=1e-3)
    assert (figures["mean_wait_minutes"].value, figures["net_satisfaction"].value) == (1.0, 100.0)
