"""Sites, services and desks: the town's configuration, loaded from a town file."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from qualivilles import opening_hours
from sync_server.cycle.referential import InvalidReferential
from sync_server.storage import referential, schema
from sync_server.storage.errors import InvalidTown
from sync_server.storage.models import Desk, Service, Site


def load_town(connection: Connection, town: dict[str, Any]) -> None:
    """Insert or update the town's sites, services and desks, the referential's engagements and
    the certified scope (never deletes; records name them). InvalidTown says what is wrong."""
    if town.get("town"):
        _upsert(connection, schema.town_settings, {"key": "name"}, {"value": str(town["town"])})
    for site in town.get("sites", []):
        _upsert(connection, schema.sites, {"slug": site["slug"]}, {"name": site["name"]})
    for service in town.get("services", []):
        reasons = service.get("visit_reasons") or []
        if not all(isinstance(r, dict) and r.get("slug") and r.get("label") for r in reasons):
            raise InvalidTown(
                f"services[{service['slug']}].visit_reasons: each needs a slug and a label"
            )
        values = {
            "name": service["name"],
            "wait_threshold_minutes": int(service.get("wait_threshold_minutes", 15)),
            "visit_reasons": json.dumps(
                [{"slug": r["slug"], "label": r["label"]} for r in reasons], ensure_ascii=False
            )
            if reasons
            else None,
        }
        _upsert(connection, schema.services, {"slug": service["slug"]}, values)
    # Only a database upgraded past 0019 has a referential: a town loaded between two older
    # migrations (as their tests do) keeps to its sites, services and desks.
    if sa.inspect(connection).has_table("engagements"):
        try:
            referential.load(connection, town)
        except InvalidReferential as error:
            raise InvalidTown(str(error)) from None
    default_hours = town.get("opening_hours")
    for index, desk_entry in enumerate(town.get("desks", [])):
        hours = desk_entry.get("opening_hours", default_hours)
        try:
            opening_hours.parse(hours)
        except opening_hours.InvalidOpeningHours as error:
            raise InvalidTown(f"desks[{index}].opening_hours: {error}") from None
        _upsert(
            connection,
            schema.desks,
            {"site": desk_entry["site"], "service": desk_entry["service"]},
            {"opening_hours": json.dumps(hours) if hours else None},
        )


def _upsert(
    connection: Connection, table: sa.Table, key: dict[str, Any], values: dict[str, Any]
) -> None:
    where = sa.and_(*(table.c[name] == value for name, value in key.items()))
    if connection.execute(sa.update(table).where(where).values(**values)).rowcount == 0:
        connection.execute(sa.insert(table).values(**key, **values))


def _desk(row: Any) -> Desk:
    return Desk(
        site=Site(row.site, row.site_name),
        service=Service(
            row.service,
            row.service_name,
            row.wait_threshold_minutes,
            tuple(json.loads(row.visit_reasons)) if row.visit_reasons else (),
        ),
        opening_hours=json.loads(row.opening_hours) if row.opening_hours else None,
    )


def _desk_query() -> sa.Select[Any]:
    d, si, se = schema.desks, schema.sites, schema.services
    return (
        sa.select(
            d.c.site,
            si.c.name.label("site_name"),
            d.c.service,
            se.c.name.label("service_name"),
            se.c.wait_threshold_minutes,
            se.c.visit_reasons,
            d.c.opening_hours,
        )
        .join(si, si.c.slug == d.c.site)
        .join(se, se.c.slug == d.c.service)
        .order_by(si.c.name, se.c.name)
    )


def desks(
    connection: Connection,
    *,
    sites: list[str] | None = None,
    services: list[str] | None = None,
) -> list[Desk]:
    """Every desk, or those of the given sites and services (None: no filter)."""
    query = _desk_query().where(*schema.desk_filter(schema.desks, sites, services))
    return [_desk(row) for row in connection.execute(query)]


def desk_query(site: str, service: str) -> sa.Select[Any]:
    """The query of one desk's row (see `desk`)."""
    return _desk_query().where(schema.desks.c.site == site, schema.desks.c.service == service)


def desk(connection: Connection, site: str, service: str) -> Desk | None:
    row = connection.execute(desk_query(site, service)).first()
    return None if row is None else _desk(row)


def town_name(connection: Connection) -> str | None:
    table = schema.town_settings
    return connection.scalar(sa.select(table.c.value).where(table.c.key == "name"))
