"""The overview's notice of overdue improvement actions: how many of the reader's services are
past their due date, neither done nor abandoned, with a link to them on the plan."""

from __future__ import annotations

from sync_server.access import Permission, may, visible_services
from sync_server.settings import Settings
from sync_server.storage import Storage, User, plan
from sync_server.web.figures import today


def overdue_context(storage: Storage, settings: Settings, user: User) -> dict[str, object]:
    if not may(user, Permission.PLAN_ACTIONS):
        return {"overdue_actions": 0}
    with storage.read() as connection:
        count = plan.overdue_count(connection, visible_services(user), today(settings))
    return {"overdue_actions": count}
