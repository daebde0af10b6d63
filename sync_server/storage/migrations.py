"""Named, ordered schema migrations, each applied once in its own transaction, and `upgrade`, what
`sync-server migrate` runs: the migrations, then the data a new version of the server expects.
A server refuses to start on a database that needs migrating (`require_current`).

Applied names are recorded in `schema_migrations`. A released migration is never edited: a later
change to `schema.py` gets a new entry here (and the initial migration then keeps a frozen copy
of the tables as they were).
"""

from __future__ import annotations

import fcntl
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.schema import CreateColumn

from sync_server.storage import db, projection, rollups, schema, schema_0001, surveys
from sync_server.storage.db import UtcDateTime
from sync_server.storage.errors import StorageError

if TYPE_CHECKING:
    from sync_server.storage.transactions import Storage

Migration = tuple[str, Callable[[Connection], None]]


def _initial(connection: Connection) -> None:
    schema_0001.metadata.create_all(connection)


def add_column(connection: Connection, table: str, column: sa.Column[object]) -> None:
    """`ALTER TABLE … ADD COLUMN` (SQLite can add a plain column to a table in place)."""
    sa.Table(table, sa.MetaData(), column)  # a column compiles only once it has a table
    ddl = CreateColumn(column).compile(dialect=connection.dialect)
    connection.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {ddl}")


def _heartbeat_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("received_at", UtcDateTime, nullable=False),
        sa.Column("sent_at", UtcDateTime, nullable=False),
        sa.Column("app_version", sa.String(64), nullable=False),
        sa.Column("backlog", sa.Integer, nullable=False),
        sa.Column("oldest_unsent_age_seconds", sa.Float),
        sa.Column("held_records", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(500)),
        sa.Column("last_error_code", sa.String(64)),
        sa.Column("disk_free_bytes", sa.BigInteger),
        sa.Column("battery_percent", sa.Float),
        sa.Column("device_clock_offset_ms", sa.BigInteger),
        sa.Column("clock_offset_ms", sa.BigInteger),
    ]


def _device_health(connection: Connection) -> None:
    """Token rotation, clock drift flag, last device state and heartbeat history."""
    add_column(connection, "devices", sa.Column("pending_token_hash", sa.String(64)))
    add_column(connection, "devices", sa.Column("token_rotated_at", UtcDateTime))
    add_column(connection, "devices", sa.Column("clock_drift_ms", sa.BigInteger))
    add_column(connection, "devices", sa.Column("clock_drift_since", UtcDateTime))
    connection.exec_driver_sql(
        "CREATE UNIQUE INDEX devices_pending_token ON devices (pending_token_hash)"
    )
    # Frozen copies of the two tables as this migration made them (schema.py may move on).
    frozen = sa.MetaData()
    sa.Table("devices", frozen, sa.Column("id", sa.String(36), primary_key=True))
    sa.Table(
        "device_status",
        frozen,
        sa.Column("device_id", sa.ForeignKey("devices.id"), primary_key=True),
        *_heartbeat_columns(),
    )
    sa.Table(
        "heartbeats",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("device_id", sa.ForeignKey("devices.id"), nullable=False),
        *_heartbeat_columns(),
        sa.Index("heartbeats_device_time", "device_id", "received_at"),
        sa.Index("heartbeats_time", "received_at"),
    )
    frozen.create_all(
        connection, tables=[frozen.tables["device_status"], frozen.tables["heartbeats"]]
    )


def _desk_opening_hours(connection: Connection) -> None:
    """Each desk's opening hours, sent to its kiosks (closed screen outside them)."""
    add_column(connection, "desks", sa.Column("opening_hours", sa.Text))


def _visit_links(connection: Connection) -> None:
    """Per-visit phone links (device secret, spent links) and undo of a visit event."""
    add_column(connection, "devices", sa.Column("visit_link_secret", sa.String(64)))
    add_column(connection, "visit_events", sa.Column("cancels", sa.String(36)))
    frozen = sa.MetaData()
    sa.Table(
        "visit_link_uses",
        frozen,
        sa.Column("visit_id", sa.String(36), primary_key=True),
        sa.Column("used_at", UtcDateTime, nullable=False),
    )
    frozen.create_all(connection)


def _quality_desk(connection: Connection) -> None:
    """Targets with history, the comments register and improvement actions."""
    frozen = sa.MetaData()
    sa.Table("comments", frozen, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        "targets",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("indicator", sa.String(63), nullable=False),
        sa.Column("service", sa.String(63)),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("set_by", sa.String(100), nullable=False),
        sa.Column("set_at", UtcDateTime, nullable=False),
        sa.Index("targets_lookup", "indicator", "service", "valid_from"),
    )
    sa.Table(
        "comment_register",
        frozen,
        sa.Column("comment_id", sa.ForeignKey("comments.id"), primary_key=True),
        sa.Column("category", sa.String(30)),
        sa.Column("status", sa.String(15), nullable=False),
        sa.Column("acknowledged_at", UtcDateTime),
        sa.Column("answered_at", UtcDateTime),
        sa.Column("closed_at", UtcDateTime),
        sa.Column("reply", sa.Text),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.CheckConstraint(
            "status IN ('new', 'acknowledged', 'answered', 'closed')", name="register_status"
        ),
    )
    sa.Table(
        "improvement_actions",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("service", sa.String(63), nullable=False),
        sa.Column("indicator", sa.String(63), nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", UtcDateTime, nullable=False),
        sa.Index("actions_year", "year", "service"),
    )
    names = ("targets", "comment_register", "improvement_actions")
    tables = [frozen.tables[name] for name in names]
    frozen.create_all(connection, tables=tables)


# Covering indexes for the period indicators: every dashboard query is a time range, over all
# desks (overview) or one service (service page, trend), reading only these columns.
INDICATOR_INDEXES = {
    "answers_time_cover": (
        "answers",
        "captured_at, site, service, suspect, main_level, main_levels, status",
    ),
    "answers_service_time": (
        "answers",
        "service, captured_at, site, suspect, main_level, main_levels, status",
    ),
    "visits_time_cover": ("visits", "arrived_at, site, service, outcome, wait_seconds"),
    "visits_service_time": ("visits", "service, arrived_at, site, outcome, wait_seconds"),
}


def _indicator_indexes(connection: Connection) -> None:
    """Indexes that keep every dashboard page fast at millions of answers (bench/indicators.py)."""
    for name, (table, columns) in INDICATOR_INDEXES.items():
        connection.exec_driver_sql(f"CREATE INDEX {name} ON {table} ({columns})")
    # Satisfaction by waiting band joins the few answers linked to a visit: a partial index
    # holds only those, so the join walks them instead of every answer.
    connection.exec_driver_sql(
        "CREATE INDEX answers_visit ON answers (visit_id) WHERE visit_id IS NOT NULL"
    )
    connection.exec_driver_sql("ANALYZE")


def _service_visit_reasons(connection: Connection) -> None:
    """Reasons for visit per service, shown as one-tap chips on the agent tablet."""
    add_column(connection, "services", sa.Column("visit_reasons", sa.Text))


def _user_admin(connection: Connection) -> None:
    """Accounts managed on the admin page: disabled accounts, last password change."""
    add_column(connection, "users", sa.Column("disabled_at", UtcDateTime))
    add_column(connection, "users", sa.Column("password_changed_at", UtcDateTime))


def _projection(connection: Connection) -> None:
    """The records log becomes the source of the figures' tables (`projection.py`): its order,
    desk and corrected capture time; the projector's position; the answers' local day and the
    daily rollups (filled by `upgrade`, which knows the town's time zone)."""
    add_column(connection, "records", sa.Column("seq", sa.BigInteger))
    add_column(connection, "records", sa.Column("site", sa.String(63)))
    add_column(connection, "records", sa.Column("service", sa.String(63)))
    add_column(connection, "records", sa.Column("captured_at", UtcDateTime))
    # Records already there keep the order they were stored in, and their desk and (corrected)
    # capture time come back from what was derived from them.
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("UPDATE records SET seq = rowid")
    else:
        connection.exec_driver_sql(
            "UPDATE records SET seq = n.rank FROM (SELECT id, row_number() OVER"
            " (ORDER BY received_at, id) AS rank FROM records) AS n WHERE records.id = n.id"
        )
    connection.exec_driver_sql(
        "UPDATE records SET"
        " site = (SELECT site FROM answers WHERE answers.id = records.id),"
        " service = (SELECT service FROM answers WHERE answers.id = records.id),"
        " captured_at = (SELECT captured_at FROM answers WHERE answers.id = records.id)"
        " WHERE id IN (SELECT id FROM answers)"
    )
    connection.exec_driver_sql(
        "UPDATE records SET"
        " site = (SELECT v.site FROM visit_events AS e JOIN visits AS v ON v.id = e.visit_id"
        " WHERE e.id = records.id),"
        " service = (SELECT v.service FROM visit_events AS e JOIN visits AS v"
        " ON v.id = e.visit_id WHERE e.id = records.id),"
        " captured_at = (SELECT at FROM visit_events WHERE visit_events.id = records.id)"
        " WHERE id IN (SELECT id FROM visit_events)"
    )
    connection.exec_driver_sql("CREATE UNIQUE INDEX records_seq ON records (seq)")
    frozen = sa.MetaData()
    projections = sa.Table(
        "projections",
        frozen,
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    sa.Table(
        "answer_days",
        frozen,
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("site", sa.String(63), nullable=False),
        sa.Column("service", sa.String(63), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("suspect", sa.Boolean, nullable=False),
        sa.Column("has_main", sa.Boolean, nullable=False),
        sa.Column("main_level", sa.Integer),
        sa.Column("main_levels", sa.Integer),
        sa.Column("answers", sa.Integer, nullable=False),
        sa.Index("answer_days_day", "day", "site", "service"),
        sa.Index("answer_days_service", "service", "day"),
    )
    sa.Table(
        "item_days",
        frozen,
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("site", sa.String(63), nullable=False),
        sa.Column("service", sa.String(63), nullable=False),
        sa.Column("survey_id", sa.String(63), nullable=False),
        sa.Column("survey_version", sa.Integer, nullable=False),
        sa.Column("suspect", sa.Boolean, nullable=False),
        sa.Column("question_id", sa.String(63), nullable=False),
        sa.Column("value", sa.String(63), nullable=False),
        sa.Column("answers", sa.Integer, nullable=False),
        sa.Index("item_days_day", "day", "site", "service"),
        sa.Index("item_days_service", "service", "day"),
    )
    frozen.create_all(connection)
    # Everything in the log so far is already in the derived tables.
    last = connection.exec_driver_sql("SELECT max(seq) FROM records").scalar()
    connection.execute(projections.insert().values(name="figures", position=last or 0))
    add_column(connection, "answers", sa.Column("day", sa.Date))
    connection.exec_driver_sql("CREATE INDEX answers_desk_day ON answers (site, service, day)")
    for column in (
        sa.Column("site", sa.String(63)),
        sa.Column("service", sa.String(63)),
        sa.Column("captured_at", UtcDateTime),
    ):
        add_column(connection, "comments", column)
    connection.exec_driver_sql(
        "UPDATE comments SET"
        " site = (SELECT site FROM answers WHERE answers.id = comments.answer_id),"
        " service = (SELECT service FROM answers WHERE answers.id = comments.answer_id),"
        " captured_at = (SELECT captured_at FROM answers WHERE answers.id = comments.answer_id)"
    )
    connection.exec_driver_sql("CREATE INDEX comments_time ON comments (captured_at)")
    connection.exec_driver_sql(
        "CREATE INDEX comments_service_time ON comments (service, captured_at)"
    )
    for name, columns in (
        ("visits_time_cover", "arrived_at, site, service, outcome, wait_seconds, id"),
        ("visits_service_time", "service, arrived_at, site, outcome, wait_seconds, id"),
    ):
        connection.exec_driver_sql(f"DROP INDEX {name}")
        connection.exec_driver_sql(f"CREATE INDEX {name} ON visits ({columns})")
    connection.exec_driver_sql("DROP INDEX visits_desk_time")
    # The rollups replace the two covering indexes; the exports' time ranges keep one index.
    connection.exec_driver_sql("DROP INDEX answers_time_cover")
    connection.exec_driver_sql("DROP INDEX answers_service_time")
    connection.exec_driver_sql("CREATE INDEX answers_time ON answers (captured_at)")


def _alerts(connection: Connection) -> None:
    """Unhappy-answers alerts decided and their delivery, one row per channel."""
    frozen = sa.MetaData()
    sa.Table(
        "alerts",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("site", sa.String(63), nullable=False),
        sa.Column("service", sa.String(63), nullable=False),
        sa.Column("window_start", UtcDateTime, nullable=False),
        sa.Column("window_end", UtcDateTime, nullable=False),
        sa.Column("expressed", sa.Integer, nullable=False),
        sa.Column("unhappy", sa.Integer, nullable=False),
        sa.Column("threshold_percent", sa.Float, nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_attempt_at", UtcDateTime),
        sa.Column("sent_at", UtcDateTime),
        sa.Column("error", sa.String(500)),
        sa.CheckConstraint("channel IN ('email', 'webhook')", name="alert_channel"),
        sa.Index("alerts_desk_window", "site", "service", "window_end"),
        sa.Index("alerts_pending", "sent_at", "window_end"),
    )
    frozen.create_all(connection)


def _visit_owners(connection: Connection) -> None:
    """The device each visit belongs to: known visits keep the device of their first event (the
    one the visits table recorded; events logged but not yet projected, in log order after it)."""
    frozen = sa.MetaData()
    owners = sa.Table(
        "visit_owners",
        frozen,
        sa.Column("visit_id", sa.String(36), primary_key=True),
        sa.Column("device_id", sa.String(36), nullable=False),
    )
    frozen.create_all(connection)
    connection.exec_driver_sql(
        "INSERT INTO visit_owners (visit_id, device_id)"
        " SELECT id, device_id FROM visits WHERE device_id IS NOT NULL"
    )
    r = schema.records
    pending = connection.execute(
        sa.select(r.c.payload, r.c.device_id)
        .where(r.c.kind == "visit_event", r.c.seq > projection.position(connection))
        .where(r.c.device_id.is_not(None))
        .order_by(r.c.seq)
    )
    for payload, device_id in pending:
        try:
            visit_id = json.loads(payload).get("visit_id")
        except (ValueError, AttributeError):
            continue
        if isinstance(visit_id, str):
            statement = db.insert_ignore(connection, owners)
            connection.execute(statement, {"visit_id": visit_id, "device_id": device_id})


def _api_tokens(connection: Connection) -> None:
    """Personal API tokens: a dashboard user's figures read by a spreadsheet or a BI tool."""
    frozen = sa.MetaData()
    sa.Table("users", frozen, sa.Column("username", sa.String(100), primary_key=True))
    tokens = sa.Table(
        "api_tokens",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.ForeignKey("users.username"), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("last_used_at", UtcDateTime),
        sa.Column("revoked_at", UtcDateTime),
        sa.Index("api_tokens_secret", "secret_hash", unique=True),
        sa.Index("api_tokens_user", "username"),
    )
    frozen.create_all(connection, tables=[tokens])


def _sessions(connection: Connection) -> None:
    """Server-side dashboard sessions, and the failed sign-ins that throttle the login page."""
    frozen = sa.MetaData()
    sa.Table("users", frozen, sa.Column("username", sa.String(100), primary_key=True))
    sessions = sa.Table(
        "sessions",
        frozen,
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("username", sa.ForeignKey("users.username"), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("last_seen_at", UtcDateTime, nullable=False),
        sa.Index("sessions_user", "username"),
    )
    failures = sa.Table(
        "login_failures",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("failed_at", UtcDateTime, nullable=False),
        sa.Index("login_failures_account", "account", "failed_at"),
        sa.Index("login_failures_address", "address", "failed_at"),
    )
    frozen.create_all(connection, tables=[sessions, failures])


# What the triggers of `_audit_trail` answer to an UPDATE or DELETE of an audit event.
APPEND_ONLY = "the audit trail is append-only"


def _audit_trail(connection: Connection) -> None:
    """The audit trail, which the database itself keeps append-only, and each quality manager's
    acknowledgement of the notices of new quality managers."""
    frozen = sa.MetaData()
    sa.Table("users", frozen, sa.Column("username", sa.String(100), primary_key=True))
    events = sa.Table(
        "audit_events",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("actor_kind", sa.String(10), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("actor_role", sa.String(20)),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("object", sa.String(200)),
        sa.Column("details", sa.Text),
        sa.CheckConstraint(
            "actor_kind IN ('user', 'cli', 'device', 'system')", name="audit_actor_kind"
        ),
        sa.Index("audit_events_time", "at"),
        sa.Index("audit_events_actor", "actor", "at"),
        sa.Index("audit_events_action", "action", "at"),
    )
    seen = sa.Table(
        "audit_notices_seen",
        frozen,
        sa.Column("username", sa.ForeignKey("users.username"), primary_key=True),
        sa.Column("last_event_id", sa.Integer, nullable=False),
        sa.Column("seen_at", UtcDateTime, nullable=False),
    )
    frozen.create_all(connection, tables=[events, seen])
    if connection.dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            connection.exec_driver_sql(
                f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events"
                f" BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )
        return
    connection.exec_driver_sql(
        "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS"
        f" $$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
    )
    connection.exec_driver_sql(
        "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events"
        " FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
    )
    connection.exec_driver_sql(
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events"
        " FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
    )


def _own_password(connection: Connection) -> None:
    """A password chosen by an administrator is temporary: its owner replaces it at sign-in."""
    add_column(
        connection,
        "users",
        sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def _retention(connection: Connection) -> None:
    """Free texts emptied at the end of their retention are marked, not deleted."""
    add_column(connection, "comments", sa.Column("purged_at", UtcDateTime))


# The audit trail's register events, the register column each one names the author of.
_STEP_EVENTS = {
    "register.acknowledged": "acknowledged_by",
    "register.answered": "answered_by",
    "register.closed": "closed_by",
}


def _register_contacts(connection: Connection) -> None:
    """Who handled each step of a register entry, and the contact details a visitor leaves to
    be answered. Steps already done get their author from the audit trail (the earliest event
    of that step; an answer that acknowledged the entry too names the acknowledgement's)."""
    for column in _STEP_EVENTS.values():
        add_column(connection, "comment_register", sa.Column(column, sa.String(100)))
    frozen = sa.MetaData()
    sa.Table("comments", frozen, sa.Column("id", sa.Integer, primary_key=True))
    contacts = sa.Table(
        "register_contacts",
        frozen,
        sa.Column("comment_id", sa.ForeignKey("comments.id"), primary_key=True),
        sa.Column("phone", sa.String(16)),
        sa.Column("email", sa.String(254)),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("consented_at", UtcDateTime, nullable=False),
        sa.Column("retention_days", sa.Integer, nullable=False),
        sa.CheckConstraint("phone IS NOT NULL OR email IS NOT NULL", name="contact_given"),
    )
    frozen.create_all(connection, tables=[contacts])
    e, r = schema.audit_events, schema.comment_register
    authors: dict[str, dict[str, str]] = {}
    events = connection.execute(
        sa.select(e.c.action, e.c.object, e.c.actor)
        .where(e.c.action.in_(_STEP_EVENTS), e.c.actor_kind == "user")
        .order_by(e.c.id)
    )
    for action, entry, actor in events:
        found = authors.setdefault(str(entry), {})
        found.setdefault(_STEP_EVENTS[action], actor)
    rows = connection.execute(
        sa.select(r.c.comment_id, r.c.acknowledged_at, r.c.answered_at, r.c.closed_at)
    )
    for comment_id, acknowledged_at, answered_at, closed_at in rows.all():
        found = authors.get(str(comment_id), {})
        values = {
            "acknowledged_by": found.get("acknowledged_by", found.get("answered_by"))
            if acknowledged_at is not None
            else None,
            "answered_by": found.get("answered_by") if answered_at is not None else None,
            "closed_by": found.get("closed_by") if closed_at is not None else None,
        }
        values = {key: value for key, value in values.items() if value is not None}
        if values:
            connection.execute(r.update().where(r.c.comment_id == comment_id).values(**values))


def _comment_triage(connection: Connection) -> None:
    """The agents' names per service that triage looks for in comments, and the quality
    manager's review of each flagged comment (triage itself runs when a comment is read)."""
    frozen = sa.MetaData()
    sa.Table("comments", frozen, sa.Column("id", sa.Integer, primary_key=True))
    names = sa.Table(
        "staff_names",
        frozen,
        sa.Column("service", sa.String(63), primary_key=True),
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("added_by", sa.String(100), nullable=False),
        sa.Column("added_at", UtcDateTime, nullable=False),
    )
    reviews = sa.Table(
        "comment_reviews",
        frozen,
        sa.Column("comment_id", sa.ForeignKey("comments.id"), primary_key=True),
        sa.Column("decision", sa.String(12), nullable=False),
        sa.Column("reviewed_by", sa.String(100), nullable=False),
        sa.Column("reviewed_at", UtcDateTime, nullable=False),
        sa.CheckConstraint("decision IN ('released', 'kept_hidden')", name="review_decision"),
    )
    frozen.create_all(connection, tables=[names, reviews])


def _plan_tables(frozen: sa.MetaData) -> list[sa.Table]:
    """The referential's and the plan's tables as 0019 made them (schema.py may move on)."""
    sa.Table("services", frozen, sa.Column("slug", sa.String(63), primary_key=True))
    engagements = sa.Table(
        "engagements",
        frozen,
        sa.Column("code", sa.String(15), primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("all_services", sa.Boolean, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    scope = sa.Table(
        "engagement_scope",
        frozen,
        sa.Column("service", sa.ForeignKey("services.slug"), primary_key=True),
        sa.Column("engagement", sa.ForeignKey("engagements.code"), primary_key=True),
        sa.Column("applies", sa.Boolean, nullable=False),
    )
    ties = sa.Table(
        "indicator_engagements",
        frozen,
        sa.Column("indicator", sa.String(63), primary_key=True),
        sa.Column("engagement", sa.ForeignKey("engagements.code"), nullable=False),
    )
    actions = sa.Table(
        "plan_actions",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("status", sa.String(15), nullable=False),
        sa.Column("engagement", sa.String(15)),
        sa.Column("indicator", sa.String(63)),
        sa.Column("site", sa.String(63)),
        sa.Column("owner", sa.String(100)),
        sa.Column("due_on", sa.Date),
        sa.Column("year", sa.Integer),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("validated_by", sa.String(100)),
        sa.Column("validated_at", UtcDateTime),
        sa.Column("done_at", UtcDateTime),
        sa.CheckConstraint(
            "status IN ('proposed', 'validated', 'in_progress', 'done', 'abandoned')",
            name="plan_action_status",
        ),
        sa.Index("plan_actions_status", "status", "due_on"),
        sa.Index("plan_actions_year", "year"),
    )
    services = sa.Table(
        "plan_action_services",
        frozen,
        sa.Column("action_id", sa.ForeignKey("plan_actions.id"), primary_key=True),
        sa.Column("service", sa.String(63), primary_key=True),
        sa.Index("plan_action_services_service", "service"),
    )
    return [engagements, scope, ties, actions, services]


def _quality_cycle(connection: Connection) -> None:
    """The referential's engagements, the certified scope, and improvement actions as a plan.
    The actions the annual review recorded move into the plan with their number, service,
    indicator and year: come from an indicator missed, validated by whoever recorded them
    (only a quality manager could)."""
    add_column(connection, "services", sa.Column("certification_phase", sa.Integer))
    add_column(connection, "services", sa.Column("certified_since", sa.String(10)))
    frozen = sa.MetaData()
    tables = _plan_tables(frozen)
    frozen.create_all(connection, tables=tables)
    actions, services = frozen.tables["plan_actions"], frozen.tables["plan_action_services"]
    old = sa.table(
        "improvement_actions",
        *(sa.column(name) for name in ("id", "year", "service", "indicator", "action")),
        sa.column("recorded_by"),
        sa.column("recorded_at", UtcDateTime),
    )
    rows = connection.execute(sa.select(old).order_by(old.c.id)).all()
    for row in rows:
        by, at = row.recorded_by, row.recorded_at
        connection.execute(
            actions.insert().values(
                id=row.id, title=row.action, origin="indicator_miss", status="validated",
                indicator=row.indicator, year=row.year, created_by=by, created_at=at,
                updated_by=by, updated_at=at, validated_by=by, validated_at=at,
            )
        )  # fmt: skip
        connection.execute(services.insert().values(action_id=row.id, service=row.service))
    if rows and connection.dialect.name == "postgresql":
        # Numbers were kept (the audit trail names them): the sequence goes on after them.
        connection.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('plan_actions', 'id'), MAX(id)) FROM plan_actions"
        )
    connection.exec_driver_sql("DROP TABLE improvement_actions")


_OLD_ROLES = "'admin')"
_NEW_ROLES = "'admin', 'internal_auditor')"


def _internal_audits(connection: Connection) -> None:
    """The internal auditor role, the yearly plan of internal audits, their findings and the
    files joined to them.

    The role's CHECK constraint is widened in place: PostgreSQL drops and adds it again; SQLite,
    which cannot alter a constraint, has its table definition rewritten (a looser CHECK changes
    nothing stored, the one kind of change SQLite documents as safe this way)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ALTER TABLE users DROP CONSTRAINT user_role")
        connection.exec_driver_sql(
            f"ALTER TABLE users ADD CONSTRAINT user_role CHECK ({schema.USER_ROLES})"
        )
    else:
        version = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
        connection.exec_driver_sql("PRAGMA writable_schema=ON")
        connection.exec_driver_sql(
            "UPDATE sqlite_master SET sql = replace(sql, ?, ?)"
            " WHERE type = 'table' AND name = 'users'",
            (_OLD_ROLES, _NEW_ROLES),
        )
        connection.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
        connection.exec_driver_sql("PRAGMA writable_schema=OFF")
    frozen = sa.MetaData()
    sa.Table("services", frozen, sa.Column("slug", sa.String(63), primary_key=True))
    sa.Table("plan_actions", frozen, sa.Column("id", sa.Integer, primary_key=True))
    audits = sa.Table(
        "internal_audits",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("service", sa.ForeignKey("services.slug"), nullable=False),
        sa.Column("audit_on", sa.Date, nullable=False),
        sa.Column("first_auditor", sa.String(100), nullable=False),
        sa.Column("second_auditor", sa.String(100), nullable=False),
        sa.Column("status", sa.String(15), nullable=False),
        sa.Column("planned_by", sa.String(100), nullable=False),
        sa.Column("planned_at", UtcDateTime, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.CheckConstraint(
            "status IN ('planned', 'done', 'report_issued', 'cancelled')",
            name="internal_audit_status",
        ),
        sa.Index("internal_audits_day", "audit_on"),
    )
    findings = sa.Table(
        "audit_findings",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("audit_id", sa.ForeignKey("internal_audits.id"), nullable=False),
        sa.Column("engagement", sa.String(15), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("action_id", sa.ForeignKey("plan_actions.id")),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", UtcDateTime, nullable=False),
        sa.CheckConstraint(
            "verdict IN ('conformity', 'non_conformity', 'observation', 'strong_point')",
            name="audit_finding_verdict",
        ),
        sa.Index("audit_findings_audit", "audit_id"),
    )
    attachments = sa.Table(
        "finding_attachments",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("finding_id", sa.ForeignKey("audit_findings.id"), nullable=False),
        sa.Column("kind", sa.String(5), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("uploaded_by", sa.String(100), nullable=False),
        sa.Column("uploaded_at", UtcDateTime, nullable=False),
        sa.CheckConstraint("kind IN ('pdf', 'png', 'jpeg')", name="finding_attachment_kind"),
        sa.Index("finding_attachments_finding", "finding_id"),
    )
    frozen.create_all(connection, tables=[audits, findings, attachments])


def _mystery_evaluations(connection: Connection) -> None:
    """The grid of mystery visits and calls and their evaluations (tables as 0021 made them;
    the grid starts empty: it reads as the product's starting grid until its first change)."""
    frozen = sa.MetaData()
    sa.Table("services", frozen, sa.Column("slug", sa.String(63), primary_key=True))
    sa.Table("engagements", frozen, sa.Column("code", sa.String(15), primary_key=True))
    criteria = sa.Table(
        "mystery_criteria",
        frozen,
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("engagement", sa.ForeignKey("engagements.code"), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("top", sa.Integer, nullable=False),
        sa.Column("weight", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("retired", sa.Boolean, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    evaluations = sa.Table(
        "mystery_evaluations",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("service", sa.ForeignKey("services.slug"), nullable=False),
        sa.Column("site", sa.String(63), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("visited_on", sa.Date, nullable=False),
        sa.Column("evaluator", sa.String(100), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", UtcDateTime, nullable=False),
        sa.Index("mystery_evaluations_service", "service", "visited_on"),
        sa.Index("mystery_evaluations_day", "visited_on"),
    )
    answers = sa.Table(
        "mystery_answers",
        frozen,
        sa.Column("evaluation_id", sa.ForeignKey("mystery_evaluations.id"), primary_key=True),
        sa.Column("criterion", sa.String(40), primary_key=True),
        sa.Column("engagement", sa.String(15), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("top", sa.Integer, nullable=False),
        sa.Column("weight", sa.Integer, nullable=False),
        sa.Column("value", sa.Integer),
    )
    frozen.create_all(connection, tables=[criteria, evaluations, answers])


def _meetings(connection: Connection) -> None:
    """The monthly Qualivilles meetings and their decisions (tables as 0022 made them)."""
    frozen = sa.MetaData()
    sa.Table("plan_actions", frozen, sa.Column("id", sa.Integer, primary_key=True))
    meetings = sa.Table(
        "meetings",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("planned_on", sa.Date, nullable=False),
        sa.Column("held_on", sa.Date),
        sa.Column("attendees", sa.Text, nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("closed_by", sa.String(100)),
        sa.Column("closed_at", UtcDateTime),
        sa.CheckConstraint("status IN ('open', 'closed')", name="meeting_status"),
        sa.Index("meetings_day", "planned_on"),
    )
    decisions = sa.Table(
        "meeting_decisions",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("meeting_id", sa.ForeignKey("meetings.id"), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("service", sa.String(63)),
        sa.Column("action_id", sa.ForeignKey("plan_actions.id")),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", UtcDateTime, nullable=False),
        sa.Index("meeting_decisions_meeting", "meeting_id"),
    )
    frozen.create_all(connection, tables=[meetings, decisions])


def _several_processes(connection: Connection) -> None:
    """What several server processes on one database share: the runner leases, the phone
    survey's abuse limits, and a delivery key on each alert (old alerts get one too)."""
    frozen = sa.MetaData()
    leases = sa.Table(
        "runner_leases",
        frozen,
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
    )
    salts = sa.Table(
        "phone_salts",
        frozen,
        sa.Column("period", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("salt", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    limits = sa.Table(
        "phone_limits",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("client", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(6), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.CheckConstraint("kind IN ('post', 'answer')", name="phone_limit_kind"),
        sa.Index("phone_limits_client", "client", "kind", "at"),
        sa.Index("phone_limits_time", "at"),
    )
    frozen.create_all(connection, tables=[leases, salts, limits])
    add_column(connection, "alerts", sa.Column("delivery_key", sa.String(36)))
    alerts = sa.table("alerts", sa.column("id"), sa.column("delivery_key"))
    for alert_id in list(connection.scalars(sa.select(alerts.c.id))):
        key = str(uuid.uuid4())
        connection.execute(alerts.update().where(alerts.c.id == alert_id).values(delivery_key=key))
    connection.exec_driver_sql("CREATE UNIQUE INDEX alerts_delivery_key ON alerts (delivery_key)")


def _concurrent_ingest(connection: Connection) -> None:
    """Records accepted by several processes at once: the pending records the projection has
    not done yet (those beyond its cursor, from now on a list), and on PostgreSQL the sequence
    their numbers come from, starting after the greatest given."""
    frozen = sa.MetaData()
    pending = sa.Table(
        "records_pending",
        frozen,
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("received_at", UtcDateTime, nullable=False),
    )
    frozen.create_all(connection, tables=[pending])
    cursor = connection.exec_driver_sql(
        "SELECT position FROM projections WHERE name = 'figures'"
    ).scalar()
    connection.execute(
        sa.text(
            "INSERT INTO records_pending (seq, received_at)"
            " SELECT seq, received_at FROM records WHERE seq > :cursor"
        ),
        {"cursor": int(cursor or 0)},
    )
    if connection.dialect.name == "postgresql":
        last = connection.exec_driver_sql("SELECT max(seq) FROM records").scalar()
        connection.exec_driver_sql(
            f"CREATE SEQUENCE {schema.RECORD_NUMBERS} AS bigint START WITH {int(last or 0) + 1}"
        )


# The figures' tables whose rows are written from the log's, and the tables they point to.
UNCHECKED_REFERENCES = {
    "answers": "records",
    "visit_events": "records",
    "answer_items": "answers",
    "comments": "answers",
}


def _unchecked_projection_keys(connection: Connection) -> None:
    """On PostgreSQL, the figures' tables no longer check their keys against the records log:
    each check locks the row it finds (`FOR KEY SHARE`), nearly half the database's work per
    batch. The projection writes those rows from the records it reads in the same transaction,
    and records are never deleted. SQLite's checks take no row lock and stay."""
    if connection.dialect.name != "postgresql":
        return
    quote = connection.dialect.identifier_preparer.quote
    for table, target in UNCHECKED_REFERENCES.items():
        names = connection.execute(
            sa.text(
                "SELECT conname FROM pg_constraint WHERE contype = 'f'"
                " AND conrelid = CAST(:table AS regclass) AND confrelid = CAST(:target AS regclass)"
            ),
            {"table": table, "target": target},
        ).scalars()
        for name in list(names):
            connection.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")


def _frozen_preparations(connection: Connection) -> None:
    """A meeting's preparation as it stood when its minutes were closed (JSON), so that closed
    minutes keep showing what the meeting saw, not today's register and actions."""
    add_column(connection, "meetings", sa.Column("preparation", sa.Text))


def _hashed_login_failures(connection: Connection) -> None:
    """Failed sign-ins counted under salted hashes of the name typed and of the address, never
    either itself: the salts of the day and the day before, shared by every process. The rows
    kept in clear until now are deleted (they only ever counted for a few minutes)."""
    frozen = sa.MetaData()
    salts = sa.Table(
        "login_salts",
        frozen,
        sa.Column("period", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("salt", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    frozen.create_all(connection, tables=[salts])
    connection.execute(sa.table("login_failures").delete())


MIGRATIONS: list[Migration] = [
    ("0001_initial", _initial),
    ("0002_device_health", _device_health),
    ("0003_desk_opening_hours", _desk_opening_hours),
    ("0004_visit_links", _visit_links),
    ("0005_quality_desk", _quality_desk),
    ("0006_indicator_indexes", _indicator_indexes),
    ("0007_service_visit_reasons", _service_visit_reasons),
    ("0008_projection", _projection),
    ("0009_user_admin", _user_admin),
    ("0010_alerts", _alerts),
    ("0011_visit_owners", _visit_owners),
    ("0012_api_tokens", _api_tokens),
    ("0013_sessions", _sessions),
    ("0014_audit_trail", _audit_trail),
    ("0015_retention", _retention),
    ("0016_own_password", _own_password),
    ("0017_register_contacts", _register_contacts),
    ("0018_comment_triage", _comment_triage),
    ("0019_quality_cycle", _quality_cycle),
    ("0020_internal_audits", _internal_audits),
    ("0021_mystery_evaluations", _mystery_evaluations),
    ("0022_meetings", _meetings),
    ("0023_several_processes", _several_processes),
    ("0024_concurrent_ingest", _concurrent_ingest),
    ("0025_unchecked_projection_keys", _unchecked_projection_keys),
    ("0026_frozen_preparations", _frozen_preparations),
    ("0027_hashed_login_failures", _hashed_login_failures),
]


# PostgreSQL's session-level advisory lock held by a migration run ("qvmigrat").
MIGRATE_LOCK = 0x7176_6D69_6772_6174
MIGRATE_COMMAND = "sync-server migrate"


class SchemaOutOfDate(StorageError):
    """The database needs migrating before a server may run on it."""


def applied(connection: Connection) -> set[str]:
    return set(connection.scalars(sa.select(schema.schema_migrations.c.name)))


def pending(engine: Engine) -> list[str]:
    """The migrations this server knows and the database has not had, in order."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table(schema.schema_migrations.name):
            return [name for name, _ in MIGRATIONS]
        done = applied(connection)
    return [name for name, _ in MIGRATIONS if name not in done]


def require_current(engine: Engine) -> None:
    """SchemaOutOfDate, naming the command to run, unless every migration has been applied."""
    missing = pending(engine)
    if missing:
        raise SchemaOutOfDate(
            f"the database needs migrating ({len(missing)} migration(s) pending, from"
            f" {missing[0]}): run `{MIGRATE_COMMAND}` first, once, then start the server"
        )


def is_current(engine: Engine) -> bool:
    """True when the database answers and needs no migration (the readiness probe)."""
    try:
        return not pending(engine)
    except sa.exc.SQLAlchemyError:
        return False


@contextmanager
def exclusive(engine: Engine) -> Iterator[None]:
    """One migration run at a time on this database, whatever the processes: PostgreSQL's
    advisory lock, held by a connection of its own; a lock on a file beside a SQLite database.
    A second run waits, then finds the work done."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATE_LOCK})")
            connection.commit()
            try:
                yield
            finally:
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATE_LOCK})")
                connection.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with Path(f"{database}.migrate-lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def upgrade(storage: Storage) -> list[str]:
    """Bring a server's database up to date, as `sync-server migrate` does: the schema, every
    bundled survey version, the figures' tables (records logged before a stop but not yet
    projected), and the daily rollups if the town's time zone changed; one run at a time
    (`exclusive`). Returns the migrations run."""
    with exclusive(storage.engine):
        done = migrate(storage.engine)
        with storage.write() as connection:
            surveys.publish_bundled(connection)
        with storage.write() as connection:
            projection.project_all(connection, storage.zone)
            if rollups.built_for(connection) != storage.zone.key:
                rollups.rebuild(connection, storage.zone)
    return done


def migrate(engine: Engine, migrations: list[Migration] = MIGRATIONS) -> list[str]:
    """Apply the schema migrations not yet recorded; return the names applied now (`upgrade`
    runs them all, then brings the data up to date)."""
    schema.schema_migrations.create(engine, checkfirst=True)
    done: list[str] = []
    for name, apply in migrations:
        # Checked inside the write transaction, so two processes starting at once apply it once.
        with db.write(engine) as connection:
            if name in applied(connection):
                continue
            apply(connection)
            connection.execute(
                schema.schema_migrations.insert().values(name=name, applied_at=db.utcnow())
            )
            done.append(name)
    return done
