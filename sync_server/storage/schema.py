"""The database tables (SQLAlchemy Core). Times are UTC; no IP address is stored anywhere.

The shape here is what migrations produce; a change to a table comes with a new migration in
`migrations.py`. Two helpers every query module shares come last (`desk_filter`, `row_count`).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.storage.db import UtcDateTime

metadata = sa.MetaData()

schema_migrations = sa.Table(
    "schema_migrations",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("applied_at", UtcDateTime, nullable=False),
)

# Town-wide values from the town file (its name, for now), as text by key.
town_settings = sa.Table(
    "town_settings",
    metadata,
    sa.Column("key", sa.String(63), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

sites = sa.Table(
    "sites",
    metadata,
    sa.Column("slug", sa.String(63), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
)

services = sa.Table(
    "services",
    metadata,
    sa.Column("slug", sa.String(63), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("wait_threshold_minutes", sa.Integer, nullable=False, server_default="15"),
    # [{"slug": "passeport", "label": "Passeport / CNI"}, …] as JSON: the agent tablet's chips.
    sa.Column("visit_reasons", sa.Text),
    # 0019_quality_cycle: the service's phase in the certified scope (NULL: outside it) and
    # since when it is certified, as a year, month or day ("2020-03"; NULL: not yet).
    sa.Column("certification_phase", sa.Integer),
    sa.Column("certified_since", sa.String(10)),
)

desks = sa.Table(
    "desks",
    metadata,
    sa.Column("site", sa.ForeignKey("sites.slug"), primary_key=True),
    sa.Column("service", sa.ForeignKey("services.slug"), primary_key=True),
    # {"mon": [["08:30", "12:00"], …], …} as JSON, local time; NULL: always open.
    sa.Column("opening_hours", sa.Text),
)

devices = sa.Table(
    "devices",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("site", sa.String(63), nullable=False),
    sa.Column("service", sa.String(63), nullable=False),
    sa.Column("mode", sa.String(10), nullable=False),
    sa.Column("enrol_code_hash", sa.String(64), unique=True),
    sa.Column("enrol_expires_at", UtcDateTime),
    sa.Column("token_hash", sa.String(64), unique=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("enrolled_at", UtcDateTime),
    sa.Column("revoked_at", UtcDateTime),
    sa.Column("last_seen_at", UtcDateTime),
    sa.Column("app_version", sa.String(50)),
    sa.Column("clock_offset_ms", sa.BigInteger),
    sa.ForeignKeyConstraint(["site", "service"], ["desks.site", "desks.service"]),
    sa.CheckConstraint("mode IN ('kiosk', 'tablet')", name="device_mode"),
    # 0002_device_health: a rotated token waits here until the device first uses it, so a lost
    # rotation answer never locks the device out (the old token works until then).
    sa.Column("pending_token_hash", sa.String(64)),
    sa.Column("token_rotated_at", UtcDateTime),
    # Set while the clock offset exceeds the allowed drift: the offset seen, and since when.
    sa.Column("clock_drift_ms", sa.BigInteger),
    sa.Column("clock_drift_since", UtcDateTime),
    # Signs the per-visit phone links a tablet makes offline (kept in clear: it must verify).
    sa.Column("visit_link_secret", sa.String(64)),
    sa.Index("devices_pending_token", "pending_token_hash", unique=True),
)

# 0002_device_health: the last heartbeat of each device (one row per device, replaced).
device_status = sa.Table(
    "device_status",
    metadata,
    sa.Column("device_id", sa.ForeignKey("devices.id"), primary_key=True),
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
    # The device's own estimate (from its sync exchanges) beside the server's (received − sent).
    sa.Column("device_clock_offset_ms", sa.BigInteger),
    sa.Column("clock_offset_ms", sa.BigInteger),
)

# 0002_device_health: every heartbeat, kept for a bounded time (purged on write).
heartbeats = sa.Table(
    "heartbeats",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("device_id", sa.ForeignKey("devices.id"), nullable=False),
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
    sa.Index("heartbeats_device_time", "device_id", "received_at"),
    sa.Index("heartbeats_time", "received_at"),
)

# Every accepted record exactly as sent: the idempotency log (same id + same hash = duplicate).
records = sa.Table(
    "records",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("device_id", sa.String(36)),
    sa.Column("payload_hash", sa.String(64), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("device_time", UtcDateTime, nullable=False),
    sa.Column("monotonic_ms", sa.BigInteger, nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
    # 0008_projection: the order records were accepted in (the projector's cursor follows it),
    # the desk they came from and their capture time, corrected when the device clock drifted.
    # The derived tables below are projected from these columns and the payload.
    sa.Column("seq", sa.BigInteger),
    sa.Column("site", sa.String(63)),
    sa.Column("service", sa.String(63)),
    sa.Column("captured_at", UtcDateTime),
    sa.Index("records_seq", "seq", unique=True),
)

# 0024_concurrent_ingest: the records accepted and not projected yet, by `seq`. Written with
# the record, deleted by the step that projects it: several processes append side by side and
# commit in any order, so a cursor on `seq` alone could pass over a record committed late.
records_pending = sa.Table(
    "records_pending",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
)

# The sequence `seq` numbers come from on PostgreSQL (SQLite: the next after the greatest).
RECORD_NUMBERS = "record_numbers"
NEXT_RECORD_NUMBERS = "SELECT nextval('record_numbers') FROM generate_series(1, %s)"

# 0008_projection: the greatest `seq` each projection has done of the `records` log (by `seq`).
projections = sa.Table(
    "projections",
    metadata,
    sa.Column("name", sa.String(63), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)

# The figures' tables below point to the records log and to `answers`; PostgreSQL does not check
# those keys (0025_unchecked_projection_keys: a check locks the row it finds), the projection
# writes them from the records it reads.
answers = sa.Table(
    "answers",
    metadata,
    sa.Column("id", sa.String(36), sa.ForeignKey("records.id"), primary_key=True),
    sa.Column("device_id", sa.String(36)),
    sa.Column("channel", sa.String(10), nullable=False),
    sa.Column("site", sa.String(63), nullable=False),
    sa.Column("service", sa.String(63), nullable=False),
    sa.Column("survey_id", sa.String(63), nullable=False),
    sa.Column("survey_version", sa.Integer, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("suspect", sa.Boolean, nullable=False),
    sa.Column("language", sa.String(10), nullable=False),
    sa.Column("captured_at", UtcDateTime, nullable=False),
    sa.Column("main_choice", sa.String(63)),
    # Level on the main smiley scale (0 = worst) and the scale's number of levels; both null
    # for "no opinion" or an unanswered main question.
    sa.Column("main_level", sa.Integer),
    sa.Column("main_levels", sa.Integer),
    sa.Column("visit_id", sa.String(36)),
    # 0008_projection: the local (town time zone) day of capture, for the daily rollups.
    sa.Column("day", sa.Date),
    sa.Index("answers_desk_time", "site", "service", "captured_at"),
    sa.Index("answers_desk_day", "site", "service", "day"),
    # 0008_projection: the time-range reads of the exports (the indicators read the rollups).
    sa.Index("answers_time", "captured_at"),
    sa.Index("answers_visit", "visit_id", sqlite_where=sa.text("visit_id IS NOT NULL")),
)

# 0008_projection: answers counted per local day and desk, kept up to date by the projector, so
# a dashboard period reads a few thousand rows instead of every answer. Each row counts the
# answers sharing all its key columns (nullable ones included: rows are replaced per day and
# desk, never upserted).
answer_days = sa.Table(
    "answer_days",
    metadata,
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("site", sa.String(63), nullable=False),
    sa.Column("service", sa.String(63), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("suspect", sa.Boolean, nullable=False),
    sa.Column("has_main", sa.Boolean, nullable=False),  # main question answered (or no opinion)
    sa.Column("main_level", sa.Integer),
    sa.Column("main_levels", sa.Integer),
    sa.Column("answers", sa.Integer, nullable=False),
    sa.Index("answer_days_day", "day", "site", "service"),
    sa.Index("answer_days_service", "service", "day"),
)

# 0008_projection: chosen values per local day, desk, survey version and question.
item_days = sa.Table(
    "item_days",
    metadata,
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

answer_items = sa.Table(
    "answer_items",
    metadata,
    sa.Column("answer_id", sa.ForeignKey("answers.id"), primary_key=True),
    sa.Column("question_id", sa.String(63), primary_key=True),
    # One row per chosen value (a multiple-choice answer gives several rows).
    sa.Column("value", sa.String(63), primary_key=True),
)

comments = sa.Table(
    "comments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("answer_id", sa.ForeignKey("answers.id"), nullable=False),
    # Null for the survey's comment field; a question id for a free-text question.
    sa.Column("question_id", sa.String(63)),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("flagged", sa.Boolean, nullable=False),
    sa.UniqueConstraint("answer_id", "question_id"),
    # 0008_projection: the answer's desk and capture time, so the register and the period
    # figures find a period's comments without walking that period's answers.
    sa.Column("site", sa.String(63)),
    sa.Column("service", sa.String(63)),
    sa.Column("captured_at", UtcDateTime),
    sa.Index("comments_time", "captured_at"),
    sa.Index("comments_service_time", "service", "captured_at"),
    # 0015_retention: when the text (and the register's reply to it) was emptied at the end of its
    # retention (`retention.py`); the row stays, so every count it is part of stays the same.
    sa.Column("purged_at", UtcDateTime),
)

visits = sa.Table(
    "visits",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("device_id", sa.String(36)),
    sa.Column("site", sa.String(63), nullable=False),
    sa.Column("service", sa.String(63), nullable=False),
    sa.Column("ticket", sa.String(16)),
    sa.Column("arrived_at", UtcDateTime),
    sa.Column("taken_at", UtcDateTime),
    sa.Column("ended_at", UtcDateTime),
    sa.Column("outcome", sa.String(12), nullable=False),
    sa.Column("wait_seconds", sa.Float),
    sa.CheckConstraint(
        "outcome IN ('waiting', 'served', 'walked_out', 'cancelled', 'unknown')",
        name="visit_outcome",
    ),
    # 0008_projection: the covering indexes carry the id too, for the join to linked answers;
    # `visits_desk_time` (site, service, arrived_at) is gone: with statistics, SQLite preferred
    # a skip-scan of it (and a table lookup per visit) to the covering index on a time range.
    sa.Index("visits_time_cover", "arrived_at", "site", "service", "outcome", "wait_seconds", "id"),
    sa.Index(
        "visits_service_time", "service", "arrived_at", "site", "outcome", "wait_seconds", "id"
    ),
)

visit_events = sa.Table(
    "visit_events",
    metadata,
    sa.Column("id", sa.String(36), sa.ForeignKey("records.id"), primary_key=True),
    sa.Column("visit_id", sa.String(36), nullable=False, index=True),
    sa.Column("event", sa.String(20), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("ticket", sa.String(16)),
    sa.Column("reason", sa.String(63)),
    sa.Column("wait_seconds", sa.Float),
    # For an undo (`cancelled`): the id of the event it takes back.
    sa.Column("cancels", sa.String(36)),
)

# 0011_visit_owners: the device a visit belongs to, set by the first of its events accepted (see
# `ingest.py`); events for the visit from any other device are refused.
visit_owners = sa.Table(
    "visit_owners",
    metadata,
    sa.Column("visit_id", sa.String(36), primary_key=True),
    sa.Column("device_id", sa.String(36), nullable=False),
)

# One row per visit whose phone link was used: a visit gets one answer.
visit_link_uses = sa.Table(
    "visit_link_uses",
    metadata,
    sa.Column("visit_id", sa.String(36), primary_key=True),
    sa.Column("used_at", UtcDateTime, nullable=False),
)

# Same id, other payload: kept for a human, never merged into the figures.
quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("record_id", sa.String(36), nullable=False),
    sa.Column("device_id", sa.String(36)),
    sa.Column("existing_hash", sa.String(64), nullable=False),
    sa.Column("payload_hash", sa.String(64), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("record_id", "payload_hash"),
)

USER_ROLES = "role IN ('quality_manager', 'service_manager', 'admin', 'internal_auditor')"

users = sa.Table(
    "users",
    metadata,
    sa.Column("username", sa.String(100), primary_key=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("services", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # 0020_internal_audits widened it to the internal auditors.
    sa.CheckConstraint(USER_ROLES, name="user_role"),
    # 0009_user_admin: a disabled account cannot sign in and its open sessions end.
    sa.Column("disabled_at", UtcDateTime),
    sa.Column("password_changed_at", UtcDateTime),
    # 0016_own_password: a password an administrator chose is the user's to replace at sign-in.
    sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()),
)

# Published survey versions; a version is never changed in place (its hash would differ).
surveys = sa.Table(
    "surveys",
    metadata,
    sa.Column("id", sa.String(63), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("published_at", UtcDateTime, nullable=False),
)

# 0005_quality_desk: targets with history, the comments register (and improvement actions, which
# 0019_quality_cycle moved into the plan: `plan_actions`).
# A target applies from `valid_from` until a later row for the same indicator and service; a
# change adds a row, so the months already past keep the target they were judged against.
targets = sa.Table(
    "targets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("indicator", sa.String(63), nullable=False),
    sa.Column("service", sa.String(63)),  # NULL: every service without its own target
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("set_by", sa.String(100), nullable=False),
    sa.Column("set_at", UtcDateTime, nullable=False),
    sa.Index("targets_lookup", "indicator", "service", "valid_from"),
)

# One row per comment once a person has handled it (a comment without a row is "new").
comment_register = sa.Table(
    "comment_register",
    metadata,
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
    # 0017_register_contacts: who acknowledged, answered and closed the entry (NULL: a step done
    # before these columns, whose author the audit trail did not hold either).
    sa.Column("acknowledged_by", sa.String(100)),
    sa.Column("answered_by", sa.String(100)),
    sa.Column("closed_by", sa.String(100)),
)

# 0017_register_contacts: a phone number or e-mail address a visitor left, with their consent,
# to be answered about one comment. Never in the answer's payload nor the records log: the only
# copy is here, shown to the people who answer, deleted `contact_details_retention_days` after
# the entry is closed (`retention.py`).
register_contacts = sa.Table(
    "register_contacts",
    metadata,
    sa.Column("comment_id", sa.ForeignKey("comments.id"), primary_key=True),
    sa.Column("phone", sa.String(16)),  # ten digits, as dialled in France: "0612345678"
    sa.Column("email", sa.String(254)),
    sa.Column("language", sa.String(8), nullable=False),  # the language the visitor answered in
    sa.Column("consented_at", UtcDateTime, nullable=False),
    # The days after closure the visitor was told their details are kept: never kept longer.
    sa.Column("retention_days", sa.Integer, nullable=False),
    sa.CheckConstraint("phone IS NOT NULL OR email IS NOT NULL", name="contact_given"),
)

# 0018_comment_triage: the agents of each service, whose names in a comment flag it for the
# quality manager (`sync_server/comments/triage.py`). Triage itself is not stored: it runs when
# a comment is read, so a name added or a lexicon edited catches the comments already there.
staff_names = sa.Table(
    "staff_names",
    metadata,
    sa.Column("service", sa.String(63), primary_key=True),
    sa.Column("name", sa.String(100), primary_key=True),  # as typed: "Marie Dubois"
    sa.Column("added_by", sa.String(100), nullable=False),
    sa.Column("added_at", UtcDateTime, nullable=False),
)

# 0018_comment_triage: the quality manager's decision on a flagged comment: "released" (its
# service's managers read it, masked) or "kept_hidden" (they never do). No row: not reviewed.
comment_reviews = sa.Table(
    "comment_reviews",
    metadata,
    sa.Column("comment_id", sa.ForeignKey("comments.id"), primary_key=True),
    sa.Column("decision", sa.String(12), nullable=False),
    sa.Column("reviewed_by", sa.String(100), nullable=False),
    sa.Column("reviewed_at", UtcDateTime, nullable=False),
    sa.CheckConstraint("decision IN ('released', 'kept_hidden')", name="review_decision"),
)

# 0019_quality_cycle: the referential's engagements, in the town's words. An engagement applies to
# every certified service unless `all_services` is false; `engagement_scope` says otherwise for
# one service (taken on, or left out).
engagements = sa.Table(
    "engagements",
    metadata,
    sa.Column("code", sa.String(15), primary_key=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("all_services", sa.Boolean, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("updated_by", sa.String(100), nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

engagement_scope = sa.Table(
    "engagement_scope",
    metadata,
    sa.Column("service", sa.ForeignKey("services.slug"), primary_key=True),
    sa.Column("engagement", sa.ForeignKey("engagements.code"), primary_key=True),
    sa.Column("applies", sa.Boolean, nullable=False),
)

# 0019_quality_cycle too: the engagement each indicator measures (at most one).
indicator_engagements = sa.Table(
    "indicator_engagements",
    metadata,
    sa.Column("indicator", sa.String(63), primary_key=True),
    sa.Column("engagement", sa.ForeignKey("engagements.code"), nullable=False),
)

# 0019_quality_cycle too: the improvement plan. An action comes from somewhere (`origin`), is
# carried by an owner for one or more services (`plan_action_services`), may target an indicator
# (at one site, or at every desk of its services) and an engagement, and goes proposed →
# validated → in progress → done (or abandoned). `done_at` starts the measure of its effect.
# `year`: the annual review whose misses it answers (the actions recorded there).
plan_actions = sa.Table(
    "plan_actions",
    metadata,
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

plan_action_services = sa.Table(
    "plan_action_services",
    metadata,
    sa.Column("action_id", sa.ForeignKey("plan_actions.id"), primary_key=True),
    sa.Column("service", sa.String(63), primary_key=True),
    sa.Index("plan_action_services_service", "service"),
)

# 0020_internal_audits: the yearly plan of internal audits, one per certified service and date,
# by a pair of auditors (user names); planned → done → report issued, or cancelled.
internal_audits = sa.Table(
    "internal_audits",
    metadata,
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

# 0020_internal_audits too: what the auditors found, engagement by engagement; a non-conformity
# opens an improvement action (`action_id`).
audit_findings = sa.Table(
    "audit_findings",
    metadata,
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

# 0020_internal_audits too: a piece of evidence joined to a finding (a PDF, PNG or JPEG file,
# recognised by its first bytes), kept in the database; served only to those who read the audit.
finding_attachments = sa.Table(
    "finding_attachments",
    metadata,
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

# 0021_mystery_evaluations: the grid of mystery visits and calls, one criterion per row, each
# checking one engagement (its channel is the engagement's); a criterion taken out of the grid is
# `retired`, never deleted, since evaluations name it. An evaluation keeps each answer with the
# criterion as it was then (label, kind, top, weight), so that its score never moves.
mystery_criteria = sa.Table(
    "mystery_criteria",
    metadata,
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

mystery_evaluations = sa.Table(
    "mystery_evaluations",
    metadata,
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

mystery_answers = sa.Table(
    "mystery_answers",
    metadata,
    sa.Column("evaluation_id", sa.ForeignKey("mystery_evaluations.id"), primary_key=True),
    sa.Column("criterion", sa.String(40), primary_key=True),
    sa.Column("engagement", sa.String(15), nullable=False),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("top", sa.Integer, nullable=False),
    sa.Column("weight", sa.Integer, nullable=False),
    sa.Column("value", sa.Integer),  # None: not observed
)

# 0022_meetings: the monthly Qualivilles meetings, led by the quality manager: the day planned,
# then the minutes (day held, attendees one per line, notes); open until closed, then frozen.
meetings = sa.Table(
    "meetings",
    metadata,
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
    # 0026_frozen_preparations: the preparation as it stood at the closing (JSON, every service).
    sa.Column("preparation", sa.Text),
    sa.CheckConstraint("status IN ('open', 'closed')", name="meeting_status"),
    sa.Index("meetings_day", "planned_on"),
)

# 0022_meetings too: the decisions of a meeting's minutes; one may open an improvement action
# (`action_id`, come from a meeting decision) for one service.
meeting_decisions = sa.Table(
    "meeting_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("meeting_id", sa.ForeignKey("meetings.id"), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("service", sa.String(63)),
    sa.Column("action_id", sa.ForeignKey("plan_actions.id")),
    sa.Column("recorded_by", sa.String(100), nullable=False),
    sa.Column("recorded_at", UtcDateTime, nullable=False),
    sa.Index("meeting_decisions_meeting", "meeting_id"),
)

# 0010_alerts: each unhappy-answers alert decided (sync_server/alerts/rule.py), one row per channel.
# `sent_at` stays NULL until delivered; `error` keeps the last delivery failure, retried at the
# next check. Counts only, never answer content: nothing personal goes out in an alert.
alerts = sa.Table(
    "alerts",
    metadata,
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
    # 0023_several_processes: sent with every try of this alert (webhook payload and header,
    # e-mail Message-ID) so that a receiver drops a second copy. Set on every row since 0023.
    sa.Column("delivery_key", sa.String(36)),
    sa.CheckConstraint("channel IN ('email', 'webhook')", name="alert_channel"),
    sa.Index("alerts_desk_window", "site", "service", "window_end"),
    sa.Index("alerts_pending", "sent_at", "window_end"),
    sa.Index("alerts_delivery_key", "delivery_key", unique=True),
)


# 0012_api_tokens: personal API tokens, with which a dashboard user's spreadsheet or BI tool reads
# the figures. Only the SHA-256 of the secret is kept: the secret is shown once, at creation.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
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

# 0013_sessions: dashboard sessions, kept on the server so that signing out, a password reset,
# a role change or disabling the account ends them. The cookie holds a random id; only its
# SHA-256 is kept here.
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.ForeignKey("users.username"), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("last_seen_at", UtcDateTime, nullable=False),
    sa.Index("sessions_user", "username"),
)


def salt_table(name: str) -> sa.Table:
    """Random salts by period (a day's number), for hashes that must lead back to nothing once
    their salt is deleted."""
    return sa.Table(
        name,
        metadata,
        sa.Column("period", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("salt", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )


# 0013_sessions too: failed sign-ins of the last minutes, by the name typed (lower case, known
# or not) and the client address, so that every server process sees the same count. Since
# 0027_hashed_login_failures each is HMAC(salt of the day, value) truncated, never the value.
login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account", sa.String(200), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("failed_at", UtcDateTime, nullable=False),
    sa.Index("login_failures_account", "account", "failed_at"),
    sa.Index("login_failures_address", "address", "failed_at"),
)
# 0027_hashed_login_failures: the salts of those hashes, one per day (random, shared by every
# process); the day's and the day before's are kept, older ones deleted as a new one is made.
login_salts = salt_table("login_salts")


# 0014_audit_trail: who did what and when, append-only (triggers refuse UPDATE and DELETE).
# `actor_role` is the role at the time; `object` names what was acted on by an identifier, and
# `details` (JSON) holds small before/after values: never a password, a secret or a visitor's text.
audit_events = sa.Table(
    "audit_events",
    metadata,
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

# 0014_audit_trail too: each quality manager's acknowledgement of the notices of new quality
# managers, as the last event they have seen (later ones are shown).
audit_notices_seen = sa.Table(
    "audit_notices_seen",
    metadata,
    sa.Column("username", sa.ForeignKey("users.username"), primary_key=True),
    sa.Column("last_event_id", sa.Integer, nullable=False),
    sa.Column("seen_at", UtcDateTime, nullable=False),
)


# 0023_several_processes: what the server processes sharing one database agree on.
# Who runs a background job (the alerts' delivery) and until when: a runner that dies lets
# another take over once its lease has ended.
runner_leases = sa.Table(
    "runner_leases",
    metadata,
    sa.Column("name", sa.String(63), primary_key=True),
    sa.Column("holder", sa.String(64), nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)

# 0023_several_processes too: the phone survey's abuse limits. The salt of the current period
# (a day by default), random, shared by every process; the submissions and answers of the last
# minutes, each under HMAC(salt, client address) truncated, never the address itself. Older
# salts and rows are deleted as the next ones are written.
phone_salts = salt_table("phone_salts")
phone_limits = sa.Table(
    "phone_limits",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("client", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(6), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.CheckConstraint("kind IN ('post', 'answer')", name="phone_limit_kind"),
    sa.Index("phone_limits_client", "client", "kind", "at"),
    sa.Index("phone_limits_time", "at"),
)


def desk_filter(
    table: sa.Table, sites: list[str] | None, services: list[str] | None
) -> list[sa.ColumnElement[bool]]:
    """Conditions on a table's `site` and `service` columns (None: no condition)."""
    conditions: list[sa.ColumnElement[bool]] = []
    if sites is not None:
        conditions.append(table.c.site.in_(sites))
    if services is not None:
        conditions.append(table.c.service.in_(services))
    return conditions


def row_count(connection: Connection, table_name: str) -> int:
    """Rows in one table (the CLI's and the demo's summaries, the benchmarks, the tests)."""
    table = metadata.tables[table_name]
    return int(connection.scalar(sa.select(sa.func.count()).select_from(table)) or 0)
