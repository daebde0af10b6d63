"""Per-visit phone links: the device secrets that sign them and the links already spent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.storage import schema
from sync_server.storage.db import insert_ignore, utcnow


@dataclass(frozen=True)
class LinkDevice:
    """What checking a link needs to know of the device that signed it."""

    id: str
    site: str
    service: str
    secret: str
    revoked: bool

    def __repr__(self) -> str:  # never print the secret
        return f"LinkDevice(id={self.id!r}, site={self.site!r}, service={self.service!r})"


def link_device(connection: Connection, device_id: str) -> LinkDevice | None:
    """The device that signs links by this id, with its secret; None if none."""
    d = schema.devices
    row = connection.execute(
        sa.select(d.c.id, d.c.site, d.c.service, d.c.visit_link_secret, d.c.revoked_at).where(
            d.c.id == device_id, d.c.visit_link_secret.is_not(None)
        )
    ).first()
    if row is None:
        return None
    return LinkDevice(
        row.id, row.site, row.service, row.visit_link_secret, row.revoked_at is not None
    )


def is_used(connection: Connection, visit_id: str) -> bool:
    table = schema.visit_link_uses
    query = sa.select(table.c.visit_id).where(table.c.visit_id == visit_id)
    return connection.execute(query).first() is not None


def mark_used(connection: Connection, visit_id: str, now: datetime | None = None) -> bool:
    """Spend the visit's link: True if this call spent it, False if it already was (single use)."""
    result = connection.execute(
        insert_ignore(connection, schema.visit_link_uses),
        {"visit_id": visit_id, "used_at": now or utcnow()},
    )
    return result.rowcount == 1
