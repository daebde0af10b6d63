"""The calls the dashboard pages and the indicators still make on `Storage` by name.

Each is one `read()` or `write()` around one module function, as every other caller now writes
it in place; these go once the pages and the indicators do the same.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from qualivilles.survey import SurveyDefinition
from sync_server.storage import (
    counts,
    devices,
    exports,
    health,
    quality,
    surveys,
    town,
    users,
    visits,
)
from sync_server.storage.db import utcnow
from sync_server.storage.models import (
    AnswerQuality,
    Desk,
    Device,
    DeviceHealth,
    ImprovementAction,
    ItemCount,
    LevelCount,
    RegisterEntry,
    TargetChange,
    User,
)


class DashboardCalls:
    """Mixed into `Storage`, which provides these three."""

    zone: ZoneInfo
    read: Callable[[], AbstractContextManager[Connection]]
    write: Callable[[], AbstractContextManager[Connection]]

    # -- town, surveys, devices ------------------------------------------------------------------

    def town_name(self) -> str | None:
        with self.read() as connection:
            return town.town_name(connection)

    def desks(
        self, *, sites: list[str] | None = None, services: list[str] | None = None
    ) -> list[Desk]:
        with self.read() as connection:
            return town.desks(connection, sites=sites, services=services)

    def desk(self, site: str, service: str) -> Desk | None:
        with self.read() as connection:
            return town.desk(connection, site, service)

    def survey(self, survey_id: str, version: int) -> SurveyDefinition | None:
        with self.read() as connection:
            return surveys.get(connection, survey_id, version)

    def current_survey(self) -> SurveyDefinition:
        with self.read() as connection:
            return surveys.current(connection)

    def published_surveys(self) -> list[surveys.PublishedSurvey]:
        with self.read() as connection:
            return surveys.published(connection)

    def publish_and_use_survey(self, survey: SurveyDefinition) -> bool:
        with self.write() as connection:
            return surveys.publish_and_use(connection, survey)

    def use_survey(self, survey_id: str, version: int) -> None:
        with self.write() as connection:
            surveys.use(connection, survey_id, version)

    def devices(self) -> list[Device]:
        with self.read() as connection:
            return devices.all_devices(connection)

    def fleet(
        self, now: datetime | None = None, silent_after: timedelta = health.SILENT_AFTER
    ) -> list[DeviceHealth]:
        with self.read() as connection:
            return health.fleet(connection, now, silent_after)

    # -- accounts --------------------------------------------------------------------------------

    def authenticate(self, username: str, password: str) -> User | None:
        with self.read() as connection:
            return users.authenticate(connection, username, password)

    def accounts(self) -> list[users.Account]:
        with self.read() as connection:
            return users.accounts(connection)

    def account(self, username: str) -> users.Account | None:
        with self.read() as connection:
            return users.account(connection, username)

    def create_account(
        self, username: str, password: str, role: str, services: list[str]
    ) -> users.Account:
        with self.write() as connection:
            return users.create_account(
                connection,
                username=username,
                password=password,
                role=role,
                services=services,
                now=utcnow(),
            )

    def set_account_access(self, username: str, role: str, services: list[str]) -> users.Account:
        with self.write() as connection:
            return users.set_access(connection, username, role, services)

    def set_account_password(self, username: str, password: str) -> None:
        with self.write() as connection:
            users.set_password(connection, username, password, utcnow())

    def set_account_disabled(self, username: str, disabled: bool) -> users.Account:
        with self.write() as connection:
            return users.set_disabled(connection, username, disabled, utcnow())

    # -- answer counts and visits for the indicators ----------------------------------------------

    def main_level_counts(
        self,
        start: datetime,
        end: datetime,
        *,
        sites: list[str] | None = None,
        services: list[str] | None = None,
        include_suspect: bool = False,
    ) -> list[LevelCount]:
        with self.read() as connection:
            return counts.main_level_counts(
                connection,
                self.zone,
                start,
                end,
                sites=sites,
                services=services,
                include_suspect=include_suspect,
            )

    def item_counts(
        self,
        start: datetime,
        end: datetime,
        *,
        services: list[str] | None = None,
        include_suspect: bool = False,
    ) -> list[ItemCount]:
        with self.read() as connection:
            return counts.item_counts(
                connection,
                self.zone,
                start,
                end,
                services=services,
                include_suspect=include_suspect,
            )

    def answer_quality(
        self, start: datetime, end: datetime, *, services: list[str] | None = None
    ) -> list[AnswerQuality]:
        with self.read() as connection:
            return counts.answer_quality(connection, self.zone, start, end, services=services)

    def visit_facts(
        self,
        start: datetime,
        end: datetime,
        *,
        sites: list[str] | None = None,
        services: list[str] | None = None,
    ) -> dict[tuple[str, str], list[tuple[datetime, str, float | None]]]:
        with self.read() as connection:
            return visits.visit_facts(connection, start, end, sites=sites, services=services)

    def linked_wait_facts(
        self,
        start: datetime,
        end: datetime,
        *,
        sites: list[str] | None = None,
        services: list[str] | None = None,
    ) -> dict[tuple[str, str], list[tuple[datetime, float, int, int]]]:
        with self.read() as connection:
            return visits.linked_wait_facts(connection, start, end, sites=sites, services=services)

    def linked_waits(
        self,
        start: datetime,
        end: datetime,
        *,
        sites: list[str] | None = None,
        services: list[str] | None = None,
    ) -> dict[tuple[str, str], list[tuple[float, int, int]]]:
        with self.read() as connection:
            return visits.linked_waits(connection, start, end, sites=sites, services=services)

    def served_waits(
        self,
        start: datetime,
        end: datetime,
        *,
        sites: list[str] | None = None,
        services: list[str] | None = None,
    ) -> dict[tuple[str, str], list[float]]:
        with self.read() as connection:
            return visits.served_waits(connection, start, end, sites=sites, services=services)

    def visitor_counts(
        self, start: datetime, end: datetime, *, services: list[str] | None = None
    ) -> dict[tuple[str, str], int]:
        with self.read() as connection:
            return visits.visitor_counts(connection, start, end, services=services)

    # -- exports ---------------------------------------------------------------------------------

    def answer_rows(
        self,
        start: datetime,
        end: datetime,
        *,
        services: list[str] | None = None,
        sites: list[str] | None = None,
        include_suspect: bool = False,
    ) -> list[dict[str, Any]]:
        with self.read() as connection:
            return list(
                exports.answer_rows(
                    connection,
                    start,
                    end,
                    services=services,
                    sites=sites,
                    include_suspect=include_suspect,
                )
            )

    def visit_rows(
        self,
        start: datetime,
        end: datetime,
        *,
        services: list[str] | None = None,
        sites: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        with self.read() as connection:
            return list(exports.visit_rows(connection, start, end, services=services, sites=sites))

    # -- targets, comments register, improvement actions ------------------------------------------

    def set_target(
        self,
        indicator: str,
        service: str | None,
        value: float,
        valid_from: date,
        set_by: str,
        now: datetime | None = None,
    ) -> None:
        with self.write() as connection:
            quality.set_target(
                connection,
                indicator=indicator,
                service=service,
                value=value,
                valid_from=valid_from,
                set_by=set_by,
                now=now or utcnow(),
            )

    def target_history(self) -> list[TargetChange]:
        with self.read() as connection:
            return quality.target_history(connection)

    def targets_on(self, day: date) -> dict[tuple[str, str | None], float]:
        with self.read() as connection:
            return quality.targets_on(connection, day)

    def comment_register(
        self,
        *,
        services: list[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        status: str | None = None,
        comment_id: int | None = None,
    ) -> list[RegisterEntry]:
        with self.read() as connection:
            return quality.register(
                connection,
                services=services,
                start=start,
                end=end,
                status=status,
                comment_id=comment_id,
            )

    def update_register(
        self,
        comment_id: int,
        *,
        action: str,
        by: str,
        category: str | None = None,
        reply: str | None = None,
        now: datetime | None = None,
    ) -> None:
        with self.write() as connection:
            quality.update_register(
                connection,
                comment_id,
                action=action,
                category=category,
                reply=reply,
                by=by,
                now=now or utcnow(),
            )

    def comment_categories(
        self, start: datetime, end: datetime, *, services: list[str] | None = None
    ) -> dict[tuple[str, str, str], int]:
        with self.read() as connection:
            return quality.comment_categories(connection, start, end, services)

    def record_action(self, year: int, service: str, indicator: str, action: str, by: str) -> None:
        with self.write() as connection:
            quality.record_action(
                connection,
                year=year,
                service=service,
                indicator=indicator,
                action=action,
                by=by,
                now=utcnow(),
            )

    def improvement_actions(
        self, year: int, *, services: list[str] | None = None
    ) -> list[ImprovementAction]:
        with self.read() as connection:
            return quality.actions(connection, year, services)
