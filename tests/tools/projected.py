"""Waiting for the figures to count every record accepted: the test projects what is pending
itself, or lets the process already at it finish (one projects at a time), within a bound."""

from __future__ import annotations

import time

from sync_server.storage import Storage, projection


def all_projected(storage: Storage, seconds: float = 30) -> int:
    """Project until nothing is pending; the records this call projected. AssertionError when
    records are still pending after `seconds` (another process holding the projection)."""
    deadline = time.monotonic() + seconds
    done = 0
    while True:
        done += projection.catch_up(storage)
        with storage.read() as connection:
            if not projection.pending(connection):
                return done
        assert time.monotonic() < deadline, "records still pending: the projection is stuck"
