"""What every phone survey page reads from the town's configuration, kept in memory a moment: a
desk (its names, by its slugs) and the current survey, read together in one transaction.

A visitor's page then costs no database round trip. A change shows on the pages within
`MAX_AGE_SECONDS` whatever made it (a town file loaded with the command line, a survey chosen
through another server process), and at once in the process whose surveys page made it
(`forget`). Only desks that exist are kept: a new desk's link works at once, and no address
typed at random takes memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI

from qualivilles.bundled import load_default_survey
from qualivilles.survey import SurveyDefinition
from sync_server.storage import Connection, Desk, Storage, surveys, town

MAX_AGE_SECONDS = 2.0


@dataclass(frozen=True)
class Current:
    """The current survey, as `surveys.current` reads it."""

    survey: SurveyDefinition
    key: tuple[str, int] | None  # None: nothing published yet, the bundled default is shown


def read_current(connection: Connection) -> Current:
    """The current survey; a published version is parsed once per process, as published
    versions never change in place."""
    key = surveys.current_key(connection)
    survey = None if key is None else surveys.remembered(connection, *key)
    if survey is None:
        return Current(load_default_survey(), None)
    return Current(survey, key)


@dataclass(frozen=True)
class _Read:
    desk: Desk
    current: Current
    at: float


class DeskCache:
    """`storage`'s desks and current survey, each read again once `max_age` seconds old;
    `clock` gives monotonic seconds."""

    def __init__(
        self,
        storage: Storage,
        max_age: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._storage = storage
        self._max_age = max_age
        self._clock = clock
        self._reads: dict[tuple[str, str], _Read] = {}

    def lookup(self, site: str, service: str) -> tuple[Desk | None, Current]:
        """The desk of `site` and `service` (None if there is none) and the current survey."""
        now = self._clock()
        kept = self._reads.get((site, service))
        if kept is not None and now - kept.at < self._max_age:
            return kept.desk, kept.current
        with self._storage.read() as connection:
            desk = town.desk(connection, site, service)
            current = read_current(connection)
        if desk is None:
            self._reads.pop((site, service), None)
        else:
            self._reads[(site, service)] = _Read(desk, current, now)
        return desk, current

    def forget(self) -> None:
        """Read everything again on next use (after this process changed it)."""
        self._reads.clear()


def desk_cache(app: FastAPI) -> DeskCache:
    """The app's cache (made on first use; tests may put their own with a clock)."""
    state = app.state
    if getattr(state, "phone_desks", None) is None:
        state.phone_desks = DeskCache(state.storage)
    return state.phone_desks


def forget(app: FastAPI) -> None:
    """The current survey or a desk changed through this app: its pages show it at once."""
    desk_cache(app).forget()
