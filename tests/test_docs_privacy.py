"""The record of processing (docs/privacy.md) names settings that exist, every retention setting,
and every table of the database."""

import re
from pathlib import Path

from sync_server.settings import Settings
from sync_server.storage import schema

PAGE = (Path(__file__).resolve().parents[1] / "docs" / "privacy.md").read_text("utf-8")


def test_every_setting_named_exists():
    named = set(re.findall(r"`QV_([A-Z0-9_]+)`", PAGE))
    assert len(named) >= 6
    missing = sorted(name for name in named if name.lower() not in Settings.model_fields)
    assert missing == []


def test_every_retention_setting_is_named():
    periods = [name for name in Settings.model_fields if "retention" in name] + [
        "purge_daily", "session_idle_minutes", "session_lifetime_hours", "login_lockout_minutes"
    ]  # fmt: skip
    missing = [name for name in periods if f"`QV_{name.upper()}`" not in PAGE]
    assert missing == []


def test_every_table_is_described():
    missing = [table for table in schema.metadata.tables if f"`{table}`" not in PAGE]
    assert missing == []
