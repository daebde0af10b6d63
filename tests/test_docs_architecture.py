"""docs/architecture.md describes the layout that is there: every package is named, and every
module or folder it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
TOP = ("qualivilles", "kiosk", "sync_server")


def packages() -> list[Path]:
    return sorted(
        path.parent.relative_to(ROOT) for top in TOP for path in (ROOT / top).rglob("__init__.py")
    )


def named_paths() -> set[str]:
    """Paths in backquotes that start at a top-level package, e.g. `sync_server/api/sync.py`."""
    quoted = re.findall(r"`([^`\s]+)`", PAGE)
    return {path.rstrip("/") for path in quoted if path.split("/")[0] in TOP and "/" in path}


def test_every_package_is_named():
    assert len(packages()) >= 10
    missing = [str(p) for p in packages() if f"{p.name}/" not in PAGE and str(p) not in PAGE]
    assert missing == []


def test_every_module_named_exists():
    paths = named_paths()
    assert len(paths) >= 20
    assert sorted(path for path in paths if not (ROOT / path).exists()) == []


def test_every_shared_core_module_is_in_the_rules_table():
    modules = [p.name for p in (ROOT / "qualivilles").glob("*.py") if p.name != "__init__.py"]
    assert sorted(m for m in modules if f"qualivilles/{m}" not in PAGE and m not in PAGE) == []
