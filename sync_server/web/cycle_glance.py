"""The overview's panel on the quality cycle (`sync_server.cycle.glance`): for those who carry
out improvement actions, the plan's state and the next internal audit of their services."""

from __future__ import annotations

from sync_server.access import Permission, may, visible_services
from sync_server.cycle.glance import glance
from sync_server.cycle.internal_audits import may_read
from sync_server.settings import Settings
from sync_server.storage import Storage, User, internal_audits, meetings, plan, town
from sync_server.web.figures import today


def cycle_glance_context(storage: Storage, settings: Settings, user: User) -> dict[str, object]:
    if not may(user, Permission.PLAN_ACTIONS):
        return {"cycle": None}
    on = today(settings)
    with storage.read() as connection:
        actions = plan.actions(connection, plan.Filter(services=visible_services(user)))
        audits = [
            audit
            for year in (on.year, on.year + 1)
            for audit in internal_audits.of_year(connection, year)
            if may_read(user, audit)
        ]
        ahead = meetings.every(connection) if may(user, Permission.READ_MEETINGS) else []
        names = {d.service.slug: d.service.name for d in town.desks(connection)}
    return {"cycle": glance(actions, audits, on, ahead), "cycle_services": names}
