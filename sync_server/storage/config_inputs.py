"""What a device's configuration is built from, read as a short stamp: while the stamp stays
the same, the configuration built from it does too, and `GET /api/v1/config` need not build it
again for a device polling after every batch.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa

from sync_server.storage import schema, surveys, town

if TYPE_CHECKING:
    from sync_server.storage.transactions import Storage


def stamp(storage: Storage, site: str, service: str, month: tuple[date, date]) -> str | None:
    """The desk as the town describes it, the current survey's key, and the month's published
    results' inputs (the desk's daily rollups over the local days `month` = [first, stop) and
    the targets); None for a desk that is not in the town. A record not projected yet changes
    the stamp once it is, on a later fetch."""
    days, targets = schema.answer_days, schema.targets
    with storage.read() as connection:
        desk = town.desk(connection, site, service)
        if desk is None:
            return None
        survey = surveys.current_key(connection)
        answers = connection.execute(
            sa.select(sa.func.count(), sa.func.sum(days.c.answers)).where(
                days.c.site == site,
                days.c.service == service,
                days.c.day >= month[0],
                days.c.day < month[1],
            )
        ).one()
        set_targets = connection.execute(
            sa.select(sa.func.count(), sa.func.max(targets.c.id))
        ).one()
    return repr((desk, survey, tuple(answers), tuple(set_targets)))
