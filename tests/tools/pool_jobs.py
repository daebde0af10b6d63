"""Jobs a test hands to the PDF worker process: each waits until the test lets go of a lock
file, so the test decides when the worker is busy and when it is free (no sleep, no timing)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def holding(path: Path) -> Iterator[None]:
    """The lock on `path` held by this process until the block ends."""
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _wait_for(path: str) -> None:
    with open(path) as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)


def pid_when_free(path: str) -> int:
    """Once the lock is free: the id of the process this ran in."""
    _wait_for(path)
    return os.getpid()


def die_when_free(path: str) -> None:
    """Once the lock is free: the worker process ends at once, as one killed would."""
    _wait_for(path)
    os._exit(1)


def loaded(names: list[str]) -> list[str]:
    """Which of the modules `names` the worker process has imported."""
    import sys

    return [name for name in names if name in sys.modules]
