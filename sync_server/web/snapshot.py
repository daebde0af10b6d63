"""`one_snapshot`: a page handler whose parts each read the database sees one snapshot, through
one pooled connection (`Storage.reading`), instead of waiting for the pool once per part.

For handlers that only read (GET pages, also called by the forms' handlers to show a refusal), run
in a worker thread (plain `def`), taking the storage as their `storage` argument."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sync_server.storage import Storage

P = ParamSpec("P")
R = TypeVar("R")


def one_snapshot(handler: Callable[P, R]) -> Callable[P, R]:
    signature = inspect.signature(handler)

    @functools.wraps(handler)
    def reading(*args: P.args, **kwargs: P.kwargs) -> R:
        # By name from FastAPI, by position when another handler calls it.
        storage = signature.bind(*args, **kwargs).arguments["storage"]
        assert isinstance(storage, Storage)
        with storage.reading():
            return handler(*args, **kwargs)

    return reading
