"""The quality manager's triage records: the agents' names of each service, and the review of
each flagged comment (released to its service's managers, or kept hidden from them).

Which comments are flagged is not stored: `sync_server.comments.triage` reads each text when it
is shown, against the lexicons and these names.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.storage import schema
from sync_server.storage.db import utcnow

Decision = Literal["released", "kept_hidden"]
DECISIONS: tuple[Decision, ...] = ("released", "kept_hidden")
MAX_NAME_LENGTH = 100
MAX_NAMES_PER_SERVICE = 300


class BadNames(ValueError):
    """A names list too long, or a name too long; nothing is written."""


def clean_names(lines: Iterable[str]) -> list[str]:
    """The names typed one a line: trimmed, blank lines dropped, each once (first spelling
    kept, case ignored), in the order typed. BadNames beyond the bounds."""
    kept: dict[str, str] = {}
    for line in lines:
        name = " ".join(line.split())
        if not name:
            continue
        if len(name) > MAX_NAME_LENGTH:
            raise BadNames(f"a name is {MAX_NAME_LENGTH} characters at most")
        kept.setdefault(name.casefold(), name)
    if len(kept) > MAX_NAMES_PER_SERVICE:
        raise BadNames(f"{MAX_NAMES_PER_SERVICE} names per service at most")
    return list(kept.values())


def staff_names(connection: Connection, services: list[str] | None = None) -> dict[str, list[str]]:
    """The listed agents' names by service (every service when None), sorted."""
    t = schema.staff_names
    query = sa.select(t.c.service, t.c.name).order_by(t.c.service, t.c.name)
    if services is not None:
        query = query.where(t.c.service.in_(services))
    found: dict[str, list[str]] = {}
    for service, name in connection.execute(query):
        found.setdefault(service, []).append(name)
    return found


def set_staff_names(
    connection: Connection,
    service: str,
    names: list[str],
    *,
    by: str,
    now: datetime | None = None,
) -> tuple[int, int]:
    """Make `names` (already `clean_names`) the service's list; names kept keep who added them
    and when. Returns the number of names before and after."""
    t = schema.staff_names
    before = {
        row.name: row for row in connection.execute(sa.select(t).where(t.c.service == service))
    }
    wanted = set(names)
    gone = [name for name in before if name not in wanted]
    if gone:
        connection.execute(t.delete().where(t.c.service == service, t.c.name.in_(gone)))
    at = now or utcnow()
    new = [
        {"service": service, "name": name, "added_by": by, "added_at": at}
        for name in names
        if name not in before
    ]
    if new:
        connection.execute(t.insert(), new)
    return len(before), len(wanted)


def review(
    connection: Connection,
    comment_id: int,
    decision: Decision,
    *,
    by: str,
    now: datetime | None = None,
) -> Decision | None:
    """Record the quality manager's decision on a comment (a later one replaces it); the
    decision it replaces, if any."""
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    t = schema.comment_reviews
    earlier = connection.scalar(sa.select(t.c.decision).where(t.c.comment_id == comment_id))
    values = {"decision": decision, "reviewed_by": by, "reviewed_at": now or utcnow()}
    if earlier is None:
        connection.execute(t.insert().values(comment_id=comment_id, **values))
    else:
        connection.execute(t.update().where(t.c.comment_id == comment_id).values(**values))
    return earlier


def unreviewed_texts(connection: Connection) -> list[tuple[int, str, str]]:
    """(id, service, text) of every comment with a text still there and no review yet: the
    ones triage may hold for the quality manager."""
    c, r = schema.comments, schema.comment_reviews
    query = (
        sa.select(c.c.id, c.c.service, c.c.text)
        .select_from(c.outerjoin(r, r.c.comment_id == c.c.id))
        .where(r.c.comment_id.is_(None), c.c.purged_at.is_(None), c.c.text != "")
    )
    return [(row.id, row.service or "", row.text) for row in connection.execute(query)]
