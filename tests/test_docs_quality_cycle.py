"""docs/quality-cycle.md keeps up with the cycle's pages: its pictures exist, the addresses it
names are served, every status and origin of an action and every channel is named as the pages
name them, and it is linked from the README."""

import re
from pathlib import Path

from sync_server import api, web
from sync_server.web import plan_labels

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "quality-cycle.md").read_text(encoding="utf-8")


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


def test_every_picture_shown_exists():
    shown = re.findall(r"\]\((screens/[^)]+\.png)\)", PAGE)
    assert len(shown) >= 3
    assert [path for path in shown if not (ROOT / "docs" / path).exists()] == []


def test_every_address_named_is_served():
    routes = [_pattern(r.path) for router in [*api.routers, *web.routers] for r in router.routes]
    named = {path.split("?", 1)[0] for path in re.findall(r"`(/[^`\s]*)`", PAGE)}
    assert {"/actions", "/actions/{id}", "/referential", "/review"} <= named
    assert sorted(p for p in named if not any(r.fullmatch(p) for r in routes)) == []


def test_statuses_origins_and_channels_are_named_as_the_pages_name_them():
    names = [*plan_labels.PLAN_STATUSES.values(), *plan_labels.ORIGINS.values(),
             *plan_labels.CHANNELS.values()]  # fmt: skip
    assert [name for name in names if name not in PAGE] == []


def test_the_readme_links_it():
    assert "(docs/quality-cycle.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
