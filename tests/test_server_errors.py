"""Bad input gets a clear problem response (or a duplicate/conflict ack) and changes nothing."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import requests

from qualivilles.protocol import SyncResponse
from sync_server.storage import devices, health, schema
from tests.fixtures.server import (
    answer_payload,
    bearer,
    enrolled_token,
    make_record,
    sync_body,
)
from tests.tools.projected import all_projected
from tests.tools.server_reads import row_count, stored_rows

PROBLEM = "application/problem+json"


def count(client, table: str) -> int:
    return row_count(client.app.state.storage, table)


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"].endswith(code)
    assert body["title"]
    assert body["detail"]
    return body


def test_malformed_json(app_client):
    token = enrolled_token(app_client)
    response = app_client.post(
        "/api/v1/sync",
        content=b'{"protocol": 1, "records": [',
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "invalid_json")
    assert count(app_client, "records") == 0


def test_unknown_fields_are_named_with_their_path(app_client):
    token = enrolled_token(app_client)
    body = sync_body(make_record(answer_payload()))
    body["records"][0]["colour"] = "blue"
    body["extra"] = 1
    problem = assert_problem(
        app_client.post("/api/v1/sync", json=body, headers=bearer(token)), 422, "invalid_body"
    )
    paths = {error["path"] for error in problem["errors"]}
    assert paths == {"records.0.colour", "extra"}
    assert count(app_client, "records") == 0


def test_wrong_types_are_named_with_their_path(app_client):
    token = enrolled_token(app_client)
    body = sync_body(make_record(answer_payload()))
    body["records"][0]["monotonic_ms"] = "soon"
    body["sent_at"] = 12.5e99
    problem = assert_problem(
        app_client.post("/api/v1/sync", json=body, headers=bearer(token)), 422, "invalid_body"
    )
    paths = {error["path"] for error in problem["errors"]}
    assert "records.0.monotonic_ms" in paths
    assert "sent_at" in paths


def test_a_json_array_is_not_a_batch(app_client):
    token = enrolled_token(app_client)
    response = app_client.post("/api/v1/sync", json=[1, 2], headers=bearer(token))
    assert_problem(response, 422, "invalid_body")


def test_missing_token(app_client):
    response = app_client.post("/api/v1/sync", json=sync_body(make_record(answer_payload())))
    assert_problem(response, 401, "missing_token")
    assert response.headers["www-authenticate"] == "Bearer"
    assert count(app_client, "records") == 0


def test_wrong_token(app_client):
    enrolled_token(app_client)
    response = app_client.post(
        "/api/v1/sync",
        json=sync_body(make_record(answer_payload())),
        headers=bearer("not-the-token"),
    )
    assert_problem(response, 401, "invalid_token")
    assert count(app_client, "records") == 0


def test_a_revoked_device_is_refused(app_client):
    token = enrolled_token(app_client)
    storage = app_client.app.state.storage
    with storage.write() as connection:
        devices.revoke(connection, devices.by_token(connection, token).id)
    response = app_client.post(
        "/api/v1/sync", json=sync_body(make_record(answer_payload())), headers=bearer(token)
    )
    assert_problem(response, 403, "device_revoked")
    assert_problem(app_client.get("/api/v1/config", headers=bearer(token)), 403, "device_revoked")
    assert count(app_client, "records") == 0


def test_a_body_over_the_limit_is_refused_by_its_content_length(app_client):
    token = enrolled_token(app_client)
    limit = app_client.app.state.settings.max_body_bytes
    big = make_record(answer_payload(comment="x" * 2000))
    body = sync_body(*[big] * (limit // 2000 + 1))
    response = app_client.post("/api/v1/sync", json=body, headers=bearer(token))
    problem = assert_problem(response, 413, "body_too_large")
    assert str(limit) in problem["detail"]
    assert count(app_client, "records") == 0


def test_a_streamed_body_over_the_limit_is_refused_without_content_length(live_server):
    code = live_server.enrol()
    token = requests.post(f"{live_server.url}/api/v1/enrol", json={"code": code}).json()["token"]
    limit = live_server.settings.max_body_bytes

    def chunks():
        yield b'{"protocol": 1, "records": ['
        for _ in range(limit // 10_000 + 1):
            yield b" " * 10_000  # whitespace: valid JSON, if the server ever parsed it
        yield b"]}"

    response = requests.post(
        f"{live_server.url}/api/v1/sync",
        data=chunks(),  # a generator: sent chunked, no Content-Length header
        headers={**bearer(token), "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    with live_server.storage.read() as connection:
        assert schema.row_count(connection, "records") == 0


def test_a_repeated_id_is_acknowledged_as_duplicate(app_client):
    token = enrolled_token(app_client)
    record = make_record(answer_payload())
    first = app_client.post("/api/v1/sync", json=sync_body(record), headers=bearer(token))
    again = app_client.post("/api/v1/sync", json=sync_body(record), headers=bearer(token))
    assert first.json()["acknowledged"][0]["status"] == "stored"
    assert again.json()["acknowledged"] == [
        {"id": str(record.id), "status": "duplicate", "code": None, "detail": None}
    ]
    assert count(app_client, "answers") == 1


def test_same_id_with_another_payload_is_a_conflict_kept_in_quarantine(app_client):
    token = enrolled_token(app_client)
    original = make_record(answer_payload("very_satisfied"))
    other = make_record(answer_payload("very_dissatisfied"), record_id=str(original.id))
    app_client.post("/api/v1/sync", json=sync_body(original), headers=bearer(token))
    for _ in range(2):  # a device retrying the conflict does not pile up copies
        response = app_client.post("/api/v1/sync", json=sync_body(other), headers=bearer(token))
        [ack] = response.json()["acknowledged"]
        assert (ack["status"], ack["code"]) == ("conflict", "conflict")
    storage = app_client.app.state.storage
    with storage.read() as connection:
        [kept] = health.quarantined(connection)
    assert kept.record_id == str(original.id)
    assert (kept.existing_hash, kept.payload_hash) == (original.payload_hash, other.payload_hash)
    assert json.loads(kept.payload)["answers"] == {"overall": "very_dissatisfied"}
    # The stored answer was not overwritten.
    assert count(app_client, "answers") == 1
    assert stored_rows(storage, "answers", "main_choice") == [("very_satisfied",)]


def test_the_same_batch_delivered_twice_concurrently_is_stored_once(live_server):
    code = live_server.enrol()
    token = requests.post(f"{live_server.url}/api/v1/enrol", json={"code": code}).json()["token"]
    records = [make_record(answer_payload()) for _ in range(200)]
    body = json.dumps(sync_body(*records))
    barrier = threading.Barrier(2)
    responses: list[SyncResponse] = []

    def deliver() -> None:
        barrier.wait()
        response = requests.post(
            f"{live_server.url}/api/v1/sync",
            data=body,
            headers={**bearer(token), "Content-Type": "application/json"},
            timeout=60,
        )
        response.raise_for_status()
        responses.append(SyncResponse.model_validate(response.json()))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(responses) == 2
    for response in responses:
        assert {ack.id for ack in response.acknowledged} == {record.id for record in records}
        assert {ack.status for ack in response.acknowledged} <= {"stored", "duplicate"}
    statuses = [ack.status for r in responses for ack in r.acknowledged]
    assert statuses.count("stored") == len(records)
    assert statuses.count("duplicate") == len(records)
    all_projected(live_server.storage)  # the projection runs after the replies
    with live_server.storage.read() as connection:
        assert schema.row_count(connection, "records") == len(records)
        assert schema.row_count(connection, "answers") == len(records)


def test_an_unknown_enrol_code(app_client):
    response = app_client.post("/api/v1/enrol", json={"code": "ABCDE-FGHJK"})
    assert_problem(response, 400, "invalid_enrol_code")


def test_indicators_need_a_login(app_client):
    assert_problem(app_client.get("/api/v1/indicators"), 401, "login_required")


def test_a_device_token_is_not_a_login(app_client):
    token = enrolled_token(app_client)
    response = app_client.get("/api/v1/indicators", headers=bearer(token))
    assert_problem(response, 401, "login_required")


def test_unknown_routes_answer_with_a_problem(app_client):
    assert_problem(app_client.get("/api/v1/nothing-here"), 404, "not_found")


DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"
# Where codes are made: problems (`ApiError(status, "code"…`, `problem_body(…`), rejections
# (`_reject(record, "code"…`), acks (`code="…"`), the framework's errors (`{404: "not_found"}`).
CODE_PATTERNS = [
    r'(?:ApiError|problem_body)\(\s*\d+,\s*"([a-z_]+)"',
    r'_reject\(record,\s*"([a-z_]+)"',
    r'\bcode="([a-z_]+)"',
    r'\b\d{3}: "([a-z_]+)"',
]


def codes_in_source() -> set[str]:
    root = DOC.parents[1] / "sync_server"
    codes: set[str] = set()
    for path in root.rglob("*.py"):
        if "web" in path.relative_to(root).parts:
            continue  # the dashboard pages answer with HTML, not with coded problems
        text = path.read_text(encoding="utf-8")
        for pattern in CODE_PATTERNS:
            codes.update(re.findall(pattern, text))
    return codes


def test_every_error_code_is_documented():
    doc = DOC.read_text(encoding="utf-8")
    codes = [
        "invalid_json", "invalid_body", "invalid_query", "body_too_large", "missing_token",
        "invalid_token", "device_revoked", "invalid_enrol_code", "login_required", "not_found",
        "hash_mismatch", "invalid_payload", "unknown_survey", "invalid_answer", "conflict",
        "invalid_record", "forbidden", "unknown_desk", "method_not_allowed", "too_deep",
    ]  # fmt: skip
    found = codes_in_source()
    assert set(codes) <= found  # the patterns still see where codes are made
    missing = [code for code in sorted(set(codes) | found) if f"`{code}`" not in doc]
    assert missing == []


def test_every_device_endpoint_and_setting_is_documented(app_client):
    doc = DOC.read_text(encoding="utf-8")
    paths = [path for path in app_client.get("/openapi.json").json()["paths"]]
    api_paths = [path for path in paths if path.startswith("/api/")]
    assert api_paths
    missing = [path for path in api_paths if f"{path}`" not in doc]
    assert missing == []
    for setting in (
        "max_body_bytes", "enrol_code_ttl_hours", "max_clock_drift_seconds",
        "heartbeat_retention_days", "silent_after_hours",
    ):  # fmt: skip
        assert f"`QV_{setting.upper()}`" in doc
