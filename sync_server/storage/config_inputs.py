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
    """The desk as the town describes it, what the current survey is chosen from (the town's
    choice, the latest version published, how many are), and the month's published results'
    inputs (the desk's daily rollups over the local days `month` = [first, stop) and the
    targets), read in one statement; None for a desk that is not in the town. A record not
    projected yet changes the stamp once it is, on a later fetch."""
    days, targets, chosen, published = (
        schema.answer_days,
        schema.targets,
        schema.town_settings,
        schema.surveys,
    )
    latest = (
        sa.select(published.c.id, published.c.version)
        .order_by(published.c.published_at.desc(), published.c.version.desc())
        .limit(1)
    )
    month_days = (days.c.site == site, days.c.service == service, days.c.day >= month[0])
    query = town.desk_query(site, service).add_columns(
        sa.select(chosen.c.value).where(chosen.c.key == surveys.CURRENT_KEY).scalar_subquery(),
        latest.with_only_columns(published.c.id).scalar_subquery(),
        latest.with_only_columns(published.c.version).scalar_subquery(),
        sa.select(sa.func.count()).select_from(published).scalar_subquery(),
        sa.select(sa.func.count()).where(*month_days, days.c.day < month[1]).scalar_subquery(),
        sa.select(sa.func.sum(days.c.answers))
        .where(*month_days, days.c.day < month[1])
        .scalar_subquery(),
        sa.select(sa.func.count()).select_from(targets).scalar_subquery(),
        sa.select(sa.func.max(targets.c.id)).scalar_subquery(),
    )
    with storage.read() as connection:
        row = connection.execute(query).first()
    return None if row is None else repr(tuple(row))
