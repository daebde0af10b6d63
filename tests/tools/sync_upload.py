"""A device's batch sent to the app in-process, as the sync client would send it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from qualivilles.protocol import RecordIn, SyncResponse
from tests.fixtures.server import bearer, sync_body


def upload(client: TestClient, token: str, *records: RecordIn, **kw: Any) -> SyncResponse:
    """`POST /api/v1/sync` with `records` (`kw`: `sync_body`'s); the reply, checked 200."""
    response = client.post("/api/v1/sync", json=sync_body(*records, **kw), headers=bearer(token))
    assert response.status_code == 200, response.text
    return SyncResponse.model_validate(response.json())
