"""A server process stopped in the middle of a transaction, for the tests that kill one.

    python tests/tools/held_transaction.py DATABASE_URL append|project  < records.json

`append` stores the records read from standard input (one JSON list on one line) as a kiosk's
upload, `project` takes the projection's lead and projects what is pending; either way the
transaction is left open, "ready" is printed, and the process waits to be killed.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from qualivilles.protocol import RecordIn
from sync_server.storage import Source, Storage, db, ingest, projection
from tests.fixtures.server import SERVICE, SITE


def main(url: str, what: str) -> None:
    records = [RecordIn.model_validate(item) for item in json.loads(sys.stdin.readline())]
    storage = Storage.from_url(url)
    if what == "append":
        held = storage.append()  # kept referenced: the transaction lives as long as it does
        connection = held.__enter__()
        ingest.ingest(connection, records, SOURCE, datetime.now(UTC))
    else:
        held = db.lead(storage.engine, projection.PROJECTOR)
        connection = held.__enter__()
        assert connection is not None, "another process leads the projection"
        projection.project(connection, storage.zone)
    print("ready", flush=True)
    sys.stdin.read()  # until killed (or the test's end closes the pipe)


SOURCE = Source(site=SITE, service=SERVICE, channel="kiosk")

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
