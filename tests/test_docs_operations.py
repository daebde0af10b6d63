"""The operations page documents every server setting, every CLI command and every kiosk option."""

import argparse
import re
from pathlib import Path

from kiosk.cli import build_parser as kiosk_parser
from sync_server.cli import build_parser as server_parser
from sync_server.settings import Settings

PAGE = (Path(__file__).resolve().parents[1] / "docs" / "operations.md").read_text("utf-8")


def _documented(name: str) -> bool:
    return re.search(rf"`{re.escape(name)}[ `]", PAGE) is not None


def test_every_setting_is_documented():
    missing = [name for name in Settings.model_fields if not _documented(name)]
    assert missing == []


def test_every_server_command_is_documented():
    subparsers = next(
        a for a in server_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    assert len(subparsers.choices) >= 7
    missing = [name for name in subparsers.choices if not _documented(name)]
    assert missing == []


def test_every_kiosk_option_is_documented():
    options = [o for a in kiosk_parser()._actions for o in a.option_strings if o != "--help"]
    options = [o for o in options if o.startswith("--")]
    assert "--enrol-code" in options
    missing = [option for option in options if not _documented(option)]
    assert missing == []
