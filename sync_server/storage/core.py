"""`Storage`: the one object the rest of the server uses to reach the database.

Each method is one transaction and delegates to a function of its module (town, devices, ingest,
aggregates…), so routes, indicators and the CLI never see SQL, and another database engine only
concerns `db.py`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from qualivilles.bundled import bundled_surveys, load_default_survey
from qualivilles.protocol import Ack, Heartbeat, RecordIn
from qualivilles.survey import SurveyDefinition
from sync_server.alerts.rule import Alert
from sync_server.storage import (
    aggregates,
    db,
    devices,
    health,
    ingest,
    migrations,
    period_aggregates,
    projection,
    quality,
    rollups,
    schema,
    surveys,
    town,
    visit_links,
)
from sync_server.storage import alerts as alerts_module
from sync_server.storage import users as users_module
from sync_server.storage.models import (
    AnswerQuality,
    Desk,
    Device,
    DeviceHealth,
    DeviceMode,
    EnrolCode,
    Enrolment,
    ImprovementAction,
    ItemCount,
    LevelCount,
    QuarantinedRecord,
    QuarantineSummary,
    RegisterEntry,
    Role,
    Source,
    TargetChange,
    User,
)

# The class defines an `ingest` method, which hides the module inside its body.
DEFAULT_MAX_DRIFT_MS = ingest.DEFAULT_MAX_DRIFT_MS
DEFAULT_TIMEZONE = "Europe/Paris"


class Storage:
    def __init__(self, engine: Engine, timezone: str = DEFAULT_TIMEZONE):
        self.engine = engine
        # The town's zone: the local day an answer counts in, for the daily rollups.
        self.zone = ZoneInfo(timezone)

    @classmethod
    def from_url(cls, url: str, timezone: str = DEFAULT_TIMEZONE) -> Storage:
        return cls(db.create_engine(url), timezone)

    def close(self) -> None:
        self.engine.dispose()

    # -- schema and configuration -------------------------------------------------------------

    def migrate(self) -> list[str]:
        """Bring the schema up to date and publish the default survey; returns migrations run."""
        applied = migrations.migrate(self.engine)
        self.publish_bundled_surveys()
        with db.write(self.engine) as connection:
            projection.project_all(connection, self.zone)
            if rollups.built_for(connection) != self.zone.key:
                rollups.rebuild(connection, self.zone)
        return applied

    def rebuild_rollups(self) -> None:
        """Local days and daily rollups computed again from every answer (for data written
        into the tables directly, as the indicators benchmark does)."""
        with db.write(self.engine) as connection:
            rollups.rebuild(connection, self.zone)

    def publish_bundled_surveys(self) -> None:
        """Every version shipped in assets/surveys/, so answers to older ones stay valid."""
        for survey in bundled_surveys():
            self.publish_survey(survey)

    def applied_migrations(self) -> set[str]:
        with db.read(self.engine) as connection:
            return migrations.applied(connection)

    def load_town(self, data: dict[str, Any]) -> None:
        with db.write(self.engine) as connection:
            town.load_town(connection, data)
        self.publish_bundled_surveys()

    def town_name(self) -> str | None:
        with db.read(self.engine) as connection:
            return town.town_name(connection)

    def desks(
        self, *, sites: list[str] | None = None, services: list[str] | None = None
    ) -> list[Desk]:
        """Every desk, or those of the given sites and services (None: no filter)."""
        with db.read(self.engine) as connection:
            return [
                desk
                for desk in town.desks(connection)
                if (sites is None or desk.site.slug in sites)
                and (services is None or desk.service.slug in services)
            ]

    def desk(self, site: str, service: str) -> Desk | None:
        with db.read(self.engine) as connection:
            return town.desk(connection, site, service)

    # -- surveys ----------------------------------------------------------------------------

    def publish_survey(self, survey: SurveyDefinition) -> bool:
        with db.write(self.engine) as connection:
            return surveys.publish(connection, survey)

    def survey(self, survey_id: str, version: int) -> SurveyDefinition | None:
        with db.read(self.engine) as connection:
            return surveys.get(connection, survey_id, version)

    def current_survey(self) -> SurveyDefinition:
        with db.read(self.engine) as connection:
            survey = surveys.current(connection)
        return survey if survey is not None else load_default_survey()

    # -- devices ----------------------------------------------------------------------------

    def create_device(
        self,
        *,
        site: str,
        service: str,
        name: str | None = None,
        mode: DeviceMode = "kiosk",
        ttl: timedelta = timedelta(hours=72),
        now: datetime | None = None,
    ) -> EnrolCode:
        with db.write(self.engine) as connection:
            return devices.create(
                connection,
                site=site,
                service=service,
                name=name,
                mode=mode,
                now=now or db.utcnow(),
                ttl=ttl,
            )

    def enrol_device(
        self, code: str, app_version: str | None = None, now: datetime | None = None
    ) -> Enrolment:
        with db.write(self.engine) as connection:
            return devices.enrol(connection, code, app_version, now or db.utcnow())

    def device_by_token(self, token: str) -> Device | None:
        """The device holding this token (current or pending); changes nothing."""
        with db.read(self.engine) as connection:
            return devices.by_token(connection, token)

    def authenticate_device(self, token: str) -> Device | None:
        """`device_by_token`, and the first use of a rotated token retires the old one."""
        with db.read(self.engine) as connection:
            match = devices.match_token(connection, token)
        if match is None:
            return None
        device, pending = match
        if pending and not device.revoked:
            # A write only on this rare first use: every other request stays a plain read.
            with db.write(self.engine) as connection:
                devices.promote_pending(connection, device.id, token)
        return device

    def rotate_token(self, device_id: str, now: datetime | None = None) -> str:
        """A new token, pending until first used (the current one works until then)."""
        with db.write(self.engine) as connection:
            return devices.rotate(connection, device_id, now or db.utcnow())

    def device(self, device_id: str) -> Device:
        with db.read(self.engine) as connection:
            return devices.get(connection, device_id)

    def devices(self) -> list[Device]:
        with db.read(self.engine) as connection:
            return devices.all_devices(connection)

    def revoke_device(self, device_id: str, now: datetime | None = None) -> Device:
        with db.write(self.engine) as connection:
            return devices.revoke(connection, device_id, now or db.utcnow())

    # -- per-visit phone links ------------------------------------------------------------------

    def visit_link_device(self, device_id: str) -> visit_links.LinkDevice | None:
        """The device that signs links by this id, with its secret; None if none."""
        with db.read(self.engine) as connection:
            return visit_links.link_device(connection, device_id)

    def visit_link_used(self, visit_id: str) -> bool:
        with db.read(self.engine) as connection:
            return visit_links.is_used(connection, visit_id)

    def mark_visit_link_used(self, visit_id: str, now: datetime | None = None) -> bool:
        """Spend the visit's link; False if it already was (single use)."""
        with db.write(self.engine) as connection:
            return visit_links.mark_used(connection, visit_id, now or db.utcnow())

    # -- records ----------------------------------------------------------------------------

    def ingest(
        self,
        records: list[RecordIn],
        source: Source,
        *,
        received_at: datetime | None = None,
        app_version: str | None = None,
        clock_offset_ms: int | None = None,
        max_drift_ms: int = DEFAULT_MAX_DRIFT_MS,
        project: bool = True,
    ) -> list[Ack]:
        """Store a batch in one transaction and note the device's visit; one `Ack` per record.

        Beyond `max_drift_ms`, capture times are corrected by `clock_offset_ms` and the device
        is flagged as drifting (unflagged once back within bounds). With `project`, the
        figures' tables are brought up to date in the same transaction; without, the records
        are only in the log until `project()` runs (or a read catches up)."""
        now = received_at or db.utcnow()
        with db.write(self.engine) as connection:
            acks = ingest.ingest(
                connection,
                records,
                source,
                now,
                clock_offset_ms=clock_offset_ms,
                max_drift_ms=max_drift_ms,
            )
            if source.device_id is not None:
                devices.seen(
                    connection,
                    source.device_id,
                    now=now,
                    app_version=app_version,
                    clock_offset_ms=clock_offset_ms,
                    max_drift_ms=max_drift_ms,
                )
            if project:
                projection.project_all(connection, self.zone)
        return acks

    def project(self) -> int:
        """Project what the log holds beyond the figures' tables, one step per transaction
        (the sync endpoint calls this once its reply is sent); returns the records projected."""
        done = 0
        while True:
            with db.write(self.engine) as connection:
                count = projection.project(connection, self.zone)
            if count == 0:
                return done
            done += count

    def _current(self) -> None:
        """Catch the figures' tables up with the log before reading them, so a page never
        misses an acknowledged record whose projection has not run yet."""
        with db.read(self.engine) as connection:
            behind = projection.pending(connection)
        if behind:
            self.project()

    # -- device health ------------------------------------------------------------------------

    def record_heartbeat(
        self,
        device_id: str,
        beat: Heartbeat,
        *,
        received_at: datetime | None = None,
        clock_offset_ms: int | None = None,
        max_drift_ms: int = DEFAULT_MAX_DRIFT_MS,
        retention: timedelta = timedelta(days=90),
    ) -> None:
        """Keep the device's last state and history; note its visit, version and clock drift."""
        now = received_at or db.utcnow()
        with db.write(self.engine) as connection:
            health.record_heartbeat(
                connection,
                device_id,
                beat,
                received_at=now,
                clock_offset_ms=clock_offset_ms,
                retention=retention,
            )
            devices.seen(
                connection,
                device_id,
                now=now,
                app_version=beat.app_version[:50],
                clock_offset_ms=clock_offset_ms,
                max_drift_ms=max_drift_ms,
            )

    def heartbeat_count(self, device_id: str) -> int:
        with db.read(self.engine) as connection:
            return health.heartbeat_count(connection, device_id)

    def fleet(
        self, now: datetime | None = None, silent_after: timedelta = timedelta(hours=24)
    ) -> list[DeviceHealth]:
        """Every device with its last heartbeat, silent and drift flags, quarantined conflicts."""
        with db.read(self.engine) as connection:
            return health.fleet(connection, now or db.utcnow(), silent_after)

    def quarantine_summary(self) -> QuarantineSummary:
        """All quarantined conflicts, the phone survey's included."""
        with db.read(self.engine) as connection:
            return health.quarantine_summary(connection)

    def quarantined(self) -> list[QuarantinedRecord]:
        table = schema.quarantine
        with db.read(self.engine) as connection:
            rows = connection.execute(sa.select(table).order_by(table.c.id))
            return [
                QuarantinedRecord(
                    record_id=row.record_id,
                    device_id=row.device_id,
                    existing_hash=row.existing_hash,
                    payload_hash=row.payload_hash,
                    payload=row.payload,
                    received_at=row.received_at,
                )
                for row in rows
            ]

    def count(self, table_name: str) -> int:
        """Rows in one table (for the CLI's summaries and the tests)."""
        table = schema.metadata.tables[table_name]
        self._current()
        with db.read(self.engine) as connection:
            return int(connection.scalar(sa.select(sa.func.count()).select_from(table)) or 0)

    # -- users ------------------------------------------------------------------------------

    def create_user(
        self, username: str, password: str, role: Role, services: list[str] | None = None
    ) -> User:
        with db.write(self.engine) as connection:
            return users_module.create(
                connection,
                username=username,
                password=password,
                role=role,
                services=services or [],
                now=db.utcnow(),
            )

    def user(self, username: str) -> User | None:
        with db.read(self.engine) as connection:
            return users_module.get(connection, username)

    def authenticate(self, username: str, password: str) -> User | None:
        with db.read(self.engine) as connection:
            return users_module.authenticate(connection, username, password)

    # -- aggregates for the indicators -------------------------------------------------------

    def main_level_counts(
        self,
        start: datetime,
        end: datetime,
        *,
        sites: list[str] | None = None,
        services: list[str] | None = None,
        include_suspect: bool = False,
    ) -> list[LevelCount]:
        self._current()
        span = rollups.day_span(start, end, self.zone)
        with db.read(self.engine) as connection:
            if span is not None:
                return rollups.main_level_counts(
                    connection,
                    span,
                    sites=sites,
                    services=services,
                    include_suspect=include_suspect,
                )
            return aggregates.main_level_counts(
                connection,
                start,
                end,
                sites=sites,
                services=services,
                include_suspect=include_suspect,
            )

    def visit_facts(
        self,
        start: datetime,
        end: datetime,
        *,
        sites: list[str] | None = None,
        services: list[str] | None = None,
    ) -> dict[tuple[str, str], list[tuple[datetime, str, float | None]]]:
        self._current()
        with db.read(self.engine) as connection:
            return aggregates.visit_facts(connection, start, end, sites=sites, services=services)

    def linked_wait_facts(
        self,
        start: datetime,
        end: datetime,
        *,
        sites: list[str] | None = None,
        services: list[str] | None = None,
    ) -> dict[tuple[str, str], list[tuple[datetime, float, int, int]]]:
        self._current()
        with db.read(self.engine) as connection:
            return aggregates.linked_wait_facts(
                connection, start, end, sites=sites, services=services
            )

    def linked_waits(
        self,
        start: datetime,
        end: datetime,
        *,
        sites: list[str] | None = None,
        services: list[str] | None = None,
    ) -> dict[tuple[str, str], list[tuple[float, int, int]]]:
        self._current()
        with db.read(self.engine) as connection:
            return aggregates.linked_waits(connection, start, end, sites=sites, services=services)

    def served_waits(
        self,
        start: datetime,
        end: datetime,
        *,
        sites: list[str] | None = None,
        services: list[str] | None = None,
    ) -> dict[tuple[str, str], list[float]]:
        self._current()
        with db.read(self.engine) as connection:
            return aggregates.served_waits(connection, start, end, sites=sites, services=services)

    # -- period aggregates, exports, targets, register, actions -------------------------------
    def item_counts(
        self,
        start: datetime,
        end: datetime,
        *,
        services: list[str] | None = None,
        include_suspect: bool = False,
    ) -> list[ItemCount]:
        self._current()
        span = rollups.day_span(start, end, self.zone)
        with db.read(self.engine) as connection:
            if span is not None:
                return rollups.item_counts(
                    connection, span, services=services, include_suspect=include_suspect
                )
            return period_aggregates.item_counts(
                connection, start, end, services=services, include_suspect=include_suspect
            )

    def answer_quality(
        self, start: datetime, end: datetime, *, services: list[str] | None = None
    ) -> list[AnswerQuality]:
        self._current()
        span = rollups.day_span(start, end, self.zone)
        with db.read(self.engine) as connection:
            if span is not None:
                return rollups.answer_quality(connection, span, services=services)
            return period_aggregates.answer_quality(connection, start, end, services=services)

    def visitor_counts(
        self, start: datetime, end: datetime, *, services: list[str] | None = None
    ) -> dict[tuple[str, str], int]:
        self._current()
        with db.read(self.engine) as connection:
            return period_aggregates.visitor_counts(connection, start, end, services=services)

    def answer_rows(
        self,
        start: datetime,
        end: datetime,
        *,
        services: list[str] | None = None,
        sites: list[str] | None = None,
        include_suspect: bool = False,
    ) -> list[dict[str, Any]]:
        self._current()
        with db.read(self.engine) as connection:
            return list(
                period_aggregates.answer_rows(
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
        self._current()
        with db.read(self.engine) as connection:
            return list(
                period_aggregates.visit_rows(connection, start, end, services=services, sites=sites)
            )

    def set_target(
        self,
        indicator: str,
        service: str | None,
        value: float,
        valid_from: date,
        set_by: str,
        now: datetime | None = None,
    ) -> None:
        with db.write(self.engine) as connection:
            quality.set_target(
                connection,
                indicator=indicator,
                service=service,
                value=value,
                valid_from=valid_from,
                set_by=set_by,
                now=now or db.utcnow(),
            )

    def target_history(self) -> list[TargetChange]:
        with db.read(self.engine) as connection:
            return quality.target_history(connection)

    def targets_on(self, day: date) -> dict[tuple[str, str | None], float]:
        with db.read(self.engine) as connection:
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
        self._current()
        with db.read(self.engine) as connection:
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
        with db.write(self.engine) as connection:
            quality.update_register(
                connection,
                comment_id,
                action=action,
                category=category,
                reply=reply,
                by=by,
                now=now or db.utcnow(),
            )

    def comment_categories(
        self, start: datetime, end: datetime, *, services: list[str] | None = None
    ) -> dict[tuple[str, str, str], int]:
        self._current()
        with db.read(self.engine) as connection:
            return quality.comment_categories(connection, start, end, services)

    def record_action(self, year: int, service: str, indicator: str, action: str, by: str) -> None:
        with db.write(self.engine) as connection:
            quality.record_action(
                connection,
                year=year,
                service=service,
                indicator=indicator,
                action=action,
                by=by,
                now=db.utcnow(),
            )

    def improvement_actions(
        self, year: int, *, services: list[str] | None = None
    ) -> list[ImprovementAction]:
        with db.read(self.engine) as connection:
            return quality.actions(connection, year, services)

    # -- the administrator's pages (accounts, survey versions) ----------------------------------

    def accounts(self) -> list[users_module.Account]:
        """Every account, disabled ones included."""
        with db.read(self.engine) as connection:
            return users_module.accounts(connection)

    def account(self, username: str) -> users_module.Account | None:
        with db.read(self.engine) as connection:
            return users_module.account(connection, username)

    def create_account(
        self, username: str, password: str, role: str, services: list[str]
    ) -> users_module.Account:
        """A new account after every rule (InvalidAccount, UserExists)."""
        with db.write(self.engine) as connection:
            return users_module.create_account(
                connection,
                username=username,
                password=password,
                role=role,
                services=services,
                now=db.utcnow(),
            )

    def set_account_access(
        self, username: str, role: str, services: list[str]
    ) -> users_module.Account:
        with db.write(self.engine) as connection:
            return users_module.set_access(connection, username, role, services)

    def set_account_password(self, username: str, password: str) -> None:
        with db.write(self.engine) as connection:
            users_module.set_password(connection, username, password, db.utcnow())

    def set_account_disabled(self, username: str, disabled: bool) -> users_module.Account:
        with db.write(self.engine) as connection:
            return users_module.set_disabled(connection, username, disabled, db.utcnow())

    def published_surveys(self) -> list[surveys.PublishedSurvey]:
        with db.read(self.engine) as connection:
            return surveys.published(connection)

    def publish_and_use_survey(self, survey: SurveyDefinition) -> bool:
        """Publish an uploaded version and make it current, in one transaction."""
        with db.write(self.engine) as connection:
            return surveys.publish_and_use(connection, survey)

    def use_survey(self, survey_id: str, version: int) -> None:
        """Send this published version to every device from now on."""
        with db.write(self.engine) as connection:
            surveys.use(connection, survey_id, version)

    # -- unhappy-answers alerts (alerts/rule.py decides, alerts/delivery.py sends) -----------

    def alert_window_levels(
        self, start: datetime, end: datetime
    ) -> list[tuple[tuple[str, str], int | None, int | None, int]]:
        """(desk, main level, levels, answers) captured in [start, end), suspect presses out."""
        self._current()
        with db.read(self.engine) as connection:
            return alerts_module.window_levels(connection, start, end)

    def alert_last_window_ends(self) -> dict[tuple[str, str], datetime]:
        """Per desk, the end of the latest window it was alerted for."""
        self._current()
        with db.read(self.engine) as connection:
            return alerts_module.last_window_ends(connection)

    def record_alerts(
        self,
        decided: list[Alert],
        channels: list[str],
        threshold_percent: float,
        now: datetime | None = None,
    ) -> list[Alert]:
        """Store new alerts, one undelivered row per channel; those already alerted for an
        overlapping window meanwhile are dropped. Returns the alerts stored."""
        self._current()
        with db.write(self.engine) as connection:
            return alerts_module.record(
                connection, decided, channels, threshold_percent, now or db.utcnow()
            )

    def claim_pending_alerts(
        self, now: datetime, *, retry_after: timedelta, max_age: timedelta
    ) -> list[alerts_module.AlertRecord]:
        """Undelivered alerts due for a try now, marked as tried."""
        self._current()
        with db.write(self.engine) as connection:
            return alerts_module.claim_pending(
                connection, now, retry_after=retry_after, max_age=max_age
            )

    def alert_delivered(self, alert_id: int, now: datetime | None = None) -> None:
        self._current()
        with db.write(self.engine) as connection:
            alerts_module.mark_sent(connection, alert_id, now or db.utcnow())

    def alert_failed(self, alert_id: int, error: str) -> None:
        self._current()
        with db.write(self.engine) as connection:
            alerts_module.mark_failed(connection, alert_id, error)

    def alert_history(self, limit: int = 100) -> list[alerts_module.AlertRecord]:
        """The latest alerts and their delivery, newest first."""
        self._current()
        with db.read(self.engine) as connection:
            return alerts_module.history(connection, limit)
