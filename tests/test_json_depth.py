"""JSON nested deeper than the protocol allows is refused before any parser recurses into it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qualivilles.json_depth import MAX_JSON_DEPTH, nests_deeper_than
from tests.fixtures.server import answer_payload, bearer, enrolled_token, make_record, sync_body
from tests.tools.server_reads import record_ids, row_count

DEEP_BODIES = {
    "arrays": "[" * 200_000 + "]" * 200_000,
    "objects": '{"a":' * 100_000 + "1" + "}" * 100_000,
    "unclosed": "[" * 200_000,
}


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(item) for item in value), default=0)
    return 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=40,
)


@given(json_values, st.integers(min_value=0, max_value=12))
def test_depth_is_counted_outside_strings(value, limit):
    text = json.dumps(value).encode()
    assert nests_deeper_than(text, limit) == (depth(value) > limit)


def test_brackets_inside_strings_and_escaped_quotes_do_not_count():
    text = json.dumps({"comment": 'a "quoted" [[[[ {{{{ \\ ' * 50}).encode()
    assert not nests_deeper_than(text, 1)


@pytest.fixture
def token(app_client) -> str:
    return enrolled_token(app_client)


@pytest.mark.parametrize("shape", sorted(DEEP_BODIES))
@pytest.mark.parametrize("path", ["/api/v1/sync", "/api/v1/heartbeat", "/api/v1/enrol"])
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_a_deeply_nested_body_is_a_400_problem(app_client, token, shape, path, content_type):
    headers = {**bearer(token), "Content-Type": content_type}
    response = app_client.post(path, content=DEEP_BODIES[shape], headers=headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "too_deep"
    assert str(MAX_JSON_DEPTH) in response.json()["detail"]
    assert row_count(app_client.app.state.storage, "heartbeats") == 0


def test_a_batch_within_the_depth_limit_is_stored(app_client, token):
    record = make_record(answer_payload())
    response = app_client.post("/api/v1/sync", json=sync_body(record), headers=bearer(token))
    assert response.status_code == 200, response.text
    assert record_ids(app_client.app.state.storage) == [str(record.id)]


def test_a_deep_json_body_elsewhere_is_refused_too(app_client):
    headers = {"Content-Type": "application/json"}
    response = app_client.post("/login", content=DEEP_BODIES["arrays"], headers=headers)
    assert (response.status_code, response.json()["code"]) == (400, "too_deep")


@pytest.mark.parametrize("path", ["/api/v1/heartbeat", "/api/v1/enrol"])
def test_a_body_that_is_not_json_is_named_so(app_client, token, path):
    headers = {**bearer(token), "Content-Type": "application/json"}
    response = app_client.post(path, content=b'{"sent_at": ', headers=headers)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_json")
