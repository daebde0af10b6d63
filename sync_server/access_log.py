"""The server's access log without personal data.

The phone survey promises that no IP address is kept, and a request's query string carries the
visitor's signed survey state (`st=…`), a per-visit link carries its token in the path. Each
access line keeps the method, the path with those parts removed, the protocol and the status:
enough to follow traffic and errors, nothing that points back to a visitor.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

# Paths whose last part is a token: the token is not written.
TOKEN_PATHS = ("/v/",)


def redacted(path: str) -> str:
    """The path without its query string, and without a per-visit token."""
    path = path.split("?", 1)[0]
    for prefix in TOKEN_PATHS:
        if path.startswith(prefix):
            return prefix + "…"
    return path


class NoPersonalData(logging.Filter):
    """Rewrites uvicorn's access records: no client address, no query string, no token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 5:
            _client, method, path, version, status = record.args
            record.args = ("-", method, redacted(str(path)), version, status)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with the filter on its access log."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["no_personal_data"] = {"()": NoPersonalData}
    config["handlers"]["access"]["filters"] = ["no_personal_data"]
    return config
