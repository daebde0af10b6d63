"""The server's projection loop: what uploads leave pending is projected every few seconds, by
whichever process holds the projector's lock (see `storage.projection`).

Each upload projects once its reply is sent; this loop is what catches a record committed just
as the projecting process stopped looking, and what a server finds pending at start-up."""

from __future__ import annotations

import asyncio
import logging

from sync_server.storage import Storage, projection

log = logging.getLogger(__name__)

EVERY = 2.0  # seconds between two looks at the pending records


def projection_step(storage: Storage) -> int:
    """Project what is pending, if this process may; a failure is logged, never raised (the loop
    must live on, and the records stay pending for the next step)."""
    try:
        return projection.catch_up(storage)
    except Exception:
        log.exception("projection step failed")
        return 0


async def projection_loop(storage: Storage, stop: asyncio.Event, every: float = EVERY) -> None:
    """Project now, then every `every` seconds until `stop` is set."""
    while True:
        await asyncio.to_thread(projection_step, storage)
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            continue
        return
