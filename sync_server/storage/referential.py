"""The referential's engagements, the certified scope and the indicators tied to engagements.

A town starts with the engagements its town file lists, else with the product's starting list
(`assets/referential/engagements.json`); the quality manager edits them on the Référentiel page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.cycle.referential import (
    Engagement,
    applying,
    bundled_engagements,
    parse_certification,
    parse_engagements,
)
from sync_server.storage import schema
from sync_server.storage.db import utcnow
from sync_server.storage.models import ScopeService

TOWN_FILE = "town-file"  # who changed what a town file loaded


def engagements(connection: Connection) -> list[Engagement]:
    """Every engagement in the referential's order, with the indicators tied to it."""
    e, t = schema.engagements, schema.indicator_engagements
    tied: dict[str, list[str]] = {}
    for indicator, code in connection.execute(sa.select(t.c.indicator, t.c.engagement)):
        tied.setdefault(code, []).append(indicator)
    rows = connection.execute(sa.select(e).order_by(e.c.position, e.c.code))
    return [
        Engagement(
            code=row.code,
            title=row.title,
            channel=row.channel,
            all_services=bool(row.all_services),
            indicators=tuple(sorted(tied.get(row.code, []))),
        )
        for row in rows
    ]


def engagement(connection: Connection, code: str) -> Engagement | None:
    return next((e for e in engagements(connection) if e.code == code), None)


def save_engagement(
    connection: Connection, engagement: Engagement, *, by: str, now: datetime | None = None
) -> None:
    """Add an engagement (last in the list) or change one's title, channel and default scope."""
    e = schema.engagements
    values = {
        "title": engagement.title,
        "channel": engagement.channel,
        "all_services": engagement.all_services,
        "updated_by": by,
        "updated_at": now or utcnow(),
    }
    changed = connection.execute(e.update().where(e.c.code == engagement.code).values(**values))
    if changed.rowcount == 0:
        last = connection.scalar(sa.select(sa.func.max(e.c.position)))
        position = (last or 0) + 1
        connection.execute(e.insert().values(code=engagement.code, position=position, **values))


def tie(connection: Connection, indicator: str, code: str | None) -> None:
    """Tie `indicator` to the engagement `code` (None: to none)."""
    t = schema.indicator_engagements
    connection.execute(t.delete().where(t.c.indicator == indicator))
    if code is not None:
        connection.execute(t.insert().values(indicator=indicator, engagement=code))


def ties(connection: Connection) -> dict[str, str]:
    """The engagement each tied indicator measures."""
    t = schema.indicator_engagements
    rows = connection.execute(sa.select(t.c.indicator, t.c.engagement))
    return {indicator: code for indicator, code in rows}


def scope(connection: Connection) -> list[ScopeService]:
    """Every service, the certified ones first by phase, each with the engagements applying."""
    s, o = schema.services, schema.engagement_scope
    listed = engagements(connection)
    overrides: dict[str, dict[str, bool]] = {}
    for service, code, applies in connection.execute(sa.select(o.c.service, o.c.engagement,
                                                                o.c.applies)):  # fmt: skip
        overrides.setdefault(service, {})[code] = bool(applies)
    rows = connection.execute(
        sa.select(s.c.slug, s.c.name, s.c.certification_phase, s.c.certified_since)
    ).all()
    rows.sort(key=lambda r: (r.certification_phase is None, r.certification_phase or 0, r.name))
    return [
        ScopeService(
            slug=row.slug,
            name=row.name,
            phase=row.certification_phase,
            since=row.certified_since,
            engagements=tuple(e.code for e in applying(listed, overrides.get(row.slug, {})))
            if row.certification_phase is not None
            else (),
        )
        for row in rows
    ]


def set_certification(
    connection: Connection,
    service: str,
    *,
    phase: int | None,
    since: str | None,
    applying_codes: set[str] | None = None,
) -> None:
    """A service's phase and date (phase None: out of the scope), and, when given, exactly the
    engagements that apply to it (kept as exceptions to each engagement's default)."""
    s = schema.services
    connection.execute(
        s.update()
        .where(s.c.slug == service)
        .values(certification_phase=phase, certified_since=since)
    )
    if applying_codes is None:
        return
    overrides = {
        e.code: e.code in applying_codes
        for e in engagements(connection)
        if (e.code in applying_codes) != e.all_services
    }
    _set_overrides(connection, service, overrides)


def _set_overrides(connection: Connection, service: str, overrides: dict[str, bool]) -> None:
    o = schema.engagement_scope
    connection.execute(o.delete().where(o.c.service == service))
    for code, applies in overrides.items():
        connection.execute(o.insert().values(service=service, engagement=code, applies=applies))


def load(connection: Connection, town: dict[str, Any], now: datetime | None = None) -> None:
    """The referential part of a town file: its "engagements" (else, for a town that has none
    yet, the starting list) and each service's "certification". InvalidReferential names the
    entry at fault."""
    now = now or utcnow()
    if "engagements" in town:
        listed = parse_engagements(town["engagements"])
    elif not engagements(connection):
        listed = bundled_engagements()
    else:
        listed = ()
    for entry in listed:
        save_engagement(connection, entry, by=TOWN_FILE, now=now)
        for indicator in entry.indicators:
            tie(connection, indicator, entry.code)
    known = {e.code for e in engagements(connection)}
    for service in town.get("services", []):
        if "certification" not in service:
            continue
        found = parse_certification(service["certification"], service["slug"], known)
        set_certification(connection, found.service, phase=found.phase, since=found.since)
        overrides = {code: True for code in found.also} | {code: False for code in found.without}
        _set_overrides(connection, found.service, overrides)
