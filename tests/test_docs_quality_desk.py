"""docs/quality-desk.md keeps up with the desk: its pictures exist, the addresses it names are
served, every page of the desk is named, and every indicator key is named."""

import re
from pathlib import Path

from sync_server import api, web
from sync_server.indicators.targets import INDICATORS, WAIT_KEYS
from sync_server.web import (
    dashboard,
    exports,
    fleet,
    labels,
    login,
    register,
    reports,
    review,
    service_page,
    targets,
)

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGE = (DOCS / "quality-desk.md").read_text(encoding="utf-8")
# The quality manager's desk; the phone survey and the admin pages have their own guides.
DESK_MODULES = [login, dashboard, service_page, register, review, targets, fleet, exports, reports]


def _pattern(template: str) -> re.Pattern[str]:
    """`/service/{service}` → a regex matching `/service/iris` (and the template itself)."""
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


def _templates(routers) -> set[str]:
    return {route.path for router in routers for route in router.routes}


def _named_paths() -> set[str]:
    """Addresses the guide names in code spans, without their query string."""
    return {path.split("?", 1)[0] for path in re.findall(r"`(/[^`\s]*)`", PAGE)}


def test_every_picture_shown_exists():
    shown = re.findall(r"\]\((screens/[^)]+\.png)\)", PAGE)
    assert len(shown) >= 12
    assert [path for path in shown if not (DOCS / path).exists()] == []


def test_every_dashboard_screenshot_is_shown():
    pictures = {p.name for p in (DOCS / "screens").glob("dashboard-*.png")} | {"login.png"}
    # dashboard.png is the README's first screen of the overview, which is shown here whole.
    assert {name for name in pictures if f"screens/{name}" not in PAGE} == set()


def test_every_address_named_exists_in_the_app():
    patterns = [_pattern(t) for t in _templates([*api.routers, *web.routers])]
    named = _named_paths()
    assert {"/", "/service/{service}", "/comments", "/export/answers.csv"} <= named
    assert sorted(p for p in named if not any(r.fullmatch(p) for r in patterns)) == []


def test_every_page_of_the_desk_is_named():
    named = _named_paths()
    desk = _templates([module.router for module in DESK_MODULES])
    assert len(desk) >= 12
    missing = [t for t in desk if not any(_pattern(t).fullmatch(p) for p in named)]
    assert sorted(missing) == []


def test_every_indicator_key_is_named():
    keys = [*INDICATORS, *WAIT_KEYS]
    assert "satisfaction_rate" in keys
    assert "within_threshold_rate" in keys
    assert [key for key in keys if f"`{key}`" not in PAGE] == []


def test_register_statuses_and_categories_are_named():
    names = [*labels.STATUSES.values(), *labels.CATEGORIES.values()]
    assert [name for name in names if f"*{name}*" not in PAGE] == []
