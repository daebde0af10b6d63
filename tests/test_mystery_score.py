"""The score of a mystery visit or call: yes counts 100 %, a scale linearly from its lowest
(0 %) to its top (100 %), the weighted mean of the answered criteria, the unanswered left out;
the starting grid shipped with the product reads against the starting referential."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_server.cycle.mystery import (
    Criterion,
    InvalidAnswer,
    InvalidGrid,
    bundled_grid,
    check_answers,
    engagement_scores,
    means,
    parse_grid,
    score,
)
from sync_server.cycle.referential import CHANNELS, bundled_engagements

GREETS = Criterion("acc-greets", "reception", "ACC-02", "L'agent salue le visiteur")
COURTESY = Criterion("acc-courtesy", "reception", "ACC-02", "Amabilité", "scale", 4, 2)
WAIT = Criterion("acc-wait", "reception", "ACC-01", "Attente", "scale", 4, 1)
PICKUP = Criterion("tel-pickup", "phone", "TEL-01", "Délai avant décroché", "scale", 4, 2)
GRID = {c.key: c for c in (GREETS, COURTESY, WAIT, PICKUP)}
CODES = {e.code: e.channel for e in bundled_engagements()}


def test_yes_is_full_marks_and_a_scale_is_linear():
    assert score([(GREETS, 1)]) == 100
    assert score([(GREETS, 0)]) == 0
    scale = [score([(COURTESY, value)]) for value in (1, 2, 3, 4)]
    assert scale == pytest.approx([0, 100 / 3, 200 / 3, 100])


def test_the_score_is_the_weighted_mean_of_the_answered_criteria():
    # yes (weight 1) = 100, courtesy 3/4 (weight 2) = 66.7, wait not observed: left out.
    assert score([(GREETS, 1), (COURTESY, 3), (WAIT, None)]) == pytest.approx(
        (100 + 2 * 200 / 3) / 3
    )
    assert score([(GREETS, None), (WAIT, None)]) is None
    assert score([]) is None


def test_each_engagement_has_the_score_of_its_own_criteria():
    found = engagement_scores([(GREETS, 0), (COURTESY, 4), (WAIT, 1), (PICKUP, None)])
    assert found == pytest.approx({"ACC-02": 200 / 3, "ACC-01": 0})


def test_a_mean_counts_its_evaluations():
    found = means([("etat-civil", 50.0), ("etat-civil", 100.0), ("ccas", 20.0)])
    assert (found["etat-civil"].value, found["etat-civil"].n) == (75.0, 2)
    assert (found["ccas"].value, found["ccas"].n) == (20.0, 1)


def test_answers_off_their_criterion_are_refused():
    assert check_answers(GRID, "reception", {"acc-greets": "1", "acc-wait": ""}) == {
        "acc-greets": 1,
        "acc-wait": None,
    }
    for posted in (
        {"nope": "1"},  # unknown criterion
        {"tel-pickup": "2"},  # a criterion of another channel
        {"acc-courtesy": "5"},  # off the scale
        {"acc-courtesy": "0"},
        {"acc-greets": "2"},
        {"acc-greets": "oui"},
    ):
        with pytest.raises(InvalidAnswer):
            check_answers(GRID, "reception", posted)


def test_the_starting_grid_covers_every_channel_of_the_starting_referential():
    grid = bundled_grid(CODES)
    assert {c.channel for c in grid} == set(CHANNELS)
    assert all(c.engagement in CODES for c in grid)
    labels = {c.label for c in grid}
    assert "L'agent salue le visiteur" in labels
    assert any(c.channel == "phone" and "décroché" in c.label for c in grid)
    # A town whose referential has no telephone engagements gets no telephone criteria.
    without_phone = {code: ch for code, ch in CODES.items() if ch != "phone"}
    assert all(c.channel != "phone" for c in bundled_grid(without_phone))


@pytest.mark.parametrize(
    "entry",
    [
        {"key": "x", "engagement": "ZZZ-01", "label": "l"},
        {"key": "X Y", "engagement": "ACC-01", "label": "l"},
        {"key": "x", "engagement": "ACC-01", "label": " "},
        {"key": "x", "engagement": "ACC-01", "label": "l", "kind": "stars"},
        {"key": "x", "engagement": "ACC-01", "label": "l", "kind": "scale", "top": 1},
        {"key": "x", "engagement": "ACC-01", "label": "l", "weight": 0},
    ],
)
def test_a_grid_entry_that_cannot_be_used_is_refused(entry):
    with pytest.raises(InvalidGrid):
        parse_grid([entry], CODES)


CRITERION = st.builds(
    lambda number, engagement, top, weight: Criterion(
        f"c-{number}",
        "reception",
        engagement,
        "critère",
        "scale" if top > 1 else "yes_no",
        top,
        weight,
    ),
    st.integers(0, 10**6),
    st.sampled_from(["ACC-01", "ACC-02"]),
    st.integers(1, 10),  # 1: yes/no
    st.integers(1, 10),
)
CRITERIA = st.lists(CRITERION, min_size=1, max_size=8)


@st.composite
def answered(draw):
    criteria = draw(CRITERIA)
    answers = []
    for c in criteria:
        lowest = 0 if c.kind == "yes_no" else 1
        answers.append((c, draw(st.none() | st.integers(lowest, c.top))))
    return answers


@given(answered())
def test_a_score_is_a_percentage(answers):
    found = score(answers)
    if all(value is None for _, value in answers):
        assert found is None
    else:
        assert 0 <= found <= 100


@given(answered(), st.data())
def test_a_better_answer_never_lowers_the_score(answers, data):
    index = data.draw(st.integers(0, len(answers) - 1))
    criterion, value = answers[index]
    lowest = 0 if criterion.kind == "yes_no" else 1
    if value is None or value == criterion.top:
        return
    better = data.draw(st.integers(value + 1, criterion.top))
    improved = [*answers[:index], (criterion, better), *answers[index + 1 :]]
    assert score(improved) >= score(answers) - 1e-9
    assert lowest <= value
