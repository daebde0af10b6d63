"""The OpenAPI document an integrator codes against: records by kind, every problem status with
its media type, who may call each operation, and examples that validate and tell a coherent
story."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from jsonschema import Draft202012Validator
from pydantic import TypeAdapter

from qualivilles.protocol import (
    PAYLOAD_MODELS,
    Record,
    RecordKind,
    SyncRequest,
    SyncResponse,
    payload_hash,
)
from sync_server.api import examples

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

# What each operation may answer besides success: the contract the server is held to.
PROBLEM_STATUSES = {
    ("post", "/api/v1/enrol"): {400, 413, 422},
    ("post", "/api/v1/sync"): {400, 401, 403, 413, 422},
    ("get", "/api/v1/config"): {401, 403, 409},
    ("post", "/api/v1/heartbeat"): {400, 401, 403, 413, 422},
    ("post", "/api/v1/token/rotate"): {400, 401, 403, 413},
    ("get", "/api/v1/health"): {401, 403},
    ("get", "/api/v1/indicators"): {401, 403, 422},
}
DEVICE = [{"deviceToken": []}]
DASHBOARD_USER = [{"session": []}]
TOKEN_READER = [{"session": []}, {"personalToken": []}]
SECURITY = {
    ("post", "/api/v1/enrol"): None,
    ("post", "/api/v1/sync"): DEVICE,
    ("get", "/api/v1/config"): DEVICE,
    ("post", "/api/v1/heartbeat"): DEVICE,
    ("post", "/api/v1/token/rotate"): DEVICE,
    ("get", "/api/v1/health"): DASHBOARD_USER,
    ("get", "/api/v1/indicators"): TOKEN_READER,
}


@pytest.fixture
def document(app_client) -> dict[str, Any]:
    response = app_client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document: dict[str, Any]) -> Iterator[tuple[tuple[str, str], dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield (method, path), operation


def validator(document: dict[str, Any], name: str) -> Draft202012Validator:
    """A JSON Schema validator for component `name`, its references resolved in `document`."""
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", **document})


def test_every_operation_declares_its_problem_statuses_as_problem_json(document):
    declared = {}
    for key, operation in operations(document):
        problems = {int(s) for s in operation["responses"] if s.startswith("4")}
        declared[key] = problems
        for status in problems:
            response = operation["responses"][str(status)]
            assert response["content"] == {PROBLEM_JSON: {"schema": PROBLEM_REF}}, (key, status)
            assert response["description"], (key, status)
    assert declared == PROBLEM_STATUSES


def test_fastapis_own_validation_error_gives_way_to_problem(document):
    assert "HTTPValidationError" not in json.dumps(document)
    assert "ValidationError" not in document["components"]["schemas"]
    indicators = document["paths"]["/api/v1/indicators"]["get"]["responses"]["422"]
    assert "`invalid_query`" in indicators["description"]


def test_each_operation_says_who_may_call_it(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["deviceToken"] == {**schemes["deviceToken"], "type": "http", "scheme": "bearer"}
    assert schemes["personalToken"]["type"] == "http"
    assert schemes["personalToken"]["scheme"] == "bearer"
    assert (schemes["session"]["type"], schemes["session"]["in"]) == ("apiKey", "cookie")
    assert schemes["session"]["name"] == "qv_session"
    assert {key: operation.get("security") for key, operation in operations(document)} == SECURITY


def test_records_are_described_by_kind_with_their_payload(document):
    schemas = document["components"]["schemas"]
    items = schemas["SyncRequest"]["properties"]["records"]["items"]
    assert items["discriminator"] == {
        "propertyName": "kind",
        "mapping": {
            "answer": "#/components/schemas/AnswerRecord",
            "visit_event": "#/components/schemas/VisitEventRecord",
        },
    }
    for record, payload, kind in (
        ("AnswerRecord", "AnswerPayload", "answer"),
        ("VisitEventRecord", "VisitEventPayload", "visit_event"),
    ):
        properties = schemas[record]["properties"]
        assert properties["kind"]["const"] == kind
        assert properties["payload"] == {"$ref": f"#/components/schemas/{payload}"}
    assert "event" in schemas["VisitEventPayload"]["properties"]
    assert "answers" in schemas["AnswerPayload"]["properties"]
    # The body's schema is the one the sync operation points to.
    body = document["paths"]["/api/v1/sync"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/SyncRequest"}


def documented_examples(document: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Every example in the document with the name of the component schema it illustrates."""
    for name, schema in document["components"]["schemas"].items():
        for example in schema.get("examples", []):
            yield name, example
    for _key, operation in operations(document):
        bodies = [operation.get("requestBody", {}), *operation["responses"].values()]
        for body in bodies:
            for media in body.get("content", {}).values():
                ref = media.get("schema", {}).get("$ref", "")
                values = [e["value"] for e in media.get("examples", {}).values()]
                values += [media["example"]] if "example" in media else []
                for value in values:
                    yield ref.rpartition("/")[2], value


def test_every_example_validates_against_its_schema(document):
    found = list(documented_examples(document))
    assert {name for name, _ in found} >= set(examples.BY_SCHEMA)
    for name, example in found:
        errors = [error.message for error in validator(document, name).iter_errors(example)]
        assert errors == [], (name, errors)


def test_the_sync_example_is_a_batch_the_server_would_read():
    request = SyncRequest.model_validate(examples.SYNC_REQUEST)
    for raw in examples.SYNC_REQUEST["records"]:
        record = TypeAdapter(Record).validate_python(raw)
        assert raw["payload_hash"] == payload_hash(raw["payload"])
        PAYLOAD_MODELS[RecordKind(record.kind)].model_validate(raw["payload"])
    assert {record.kind for record in request.records} == set(RecordKind)
    response = SyncResponse.model_validate(examples.SYNC_RESPONSE)
    assert [ack.id for ack in response.acknowledged] == [r.id for r in request.records]


def uuid7_time(value: str) -> datetime:
    """The capture time a UUIDv7 carries (milliseconds)."""
    uuid = UUID(value)
    assert uuid.version == 7
    return datetime.fromtimestamp((uuid.int >> 80) / 1000, tz=UTC)


def test_the_examples_times_follow_one_another():
    request, response = examples.SYNC_REQUEST, examples.SYNC_RESPONSE
    sent_at = datetime.fromisoformat(request["sent_at"])
    captured = [datetime.fromisoformat(r["device_time"]) for r in request["records"]]
    assert captured == sorted(captured)  # capture order
    for record, moment in zip(request["records"], captured, strict=True):
        assert uuid7_time(record["id"]) == moment  # the id is made at capture
        assert 0 < (sent_at - moment).total_seconds() < 3600
    visit = examples.TAKEN_IN_CHARGE["visit_id"]
    assert uuid7_time(visit) < captured[0]  # the visitor arrived before being taken in charge
    waited = (captured[0] - uuid7_time(visit)).total_seconds()
    assert examples.TAKEN_IN_CHARGE["wait_seconds"] == pytest.approx(waited, abs=0.001)
    received_at = datetime.fromisoformat(response["received_at"])
    assert 0 < (received_at - sent_at).total_seconds() < 5
    heartbeat = datetime.fromisoformat(examples.HEARTBEAT["sent_at"])
    assert sent_at < heartbeat < datetime.fromisoformat(examples.HEARTBEAT_ACK["received_at"])
