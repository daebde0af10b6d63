"""The tables exactly as migration `0001_initial` created them. Frozen: never edit.

`schema.py` is the current shape; this copy lets `0001_initial` build the same database on a new
server as it did on the first ones, and later migrations change it step by step.
"""

from __future__ import annotations

import sqlalchemy as sa

from sync_server.storage.db import UtcDateTime

metadata = sa.MetaData()

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
)

desks = sa.Table(
    "desks",
    metadata,
    sa.Column("site", sa.ForeignKey("sites.slug"), primary_key=True),
    sa.Column("service", sa.ForeignKey("services.slug"), primary_key=True),
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
)

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
    sa.Index("answers_desk_time", "site", "service", "captured_at"),
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
    sa.Index("visits_desk_time", "site", "service", "arrived_at"),
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

users = sa.Table(
    "users",
    metadata,
    sa.Column("username", sa.String(100), primary_key=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("services", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.CheckConstraint("role IN ('quality_manager', 'service_manager', 'admin')", name="user_role"),
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
