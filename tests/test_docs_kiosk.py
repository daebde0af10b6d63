"""docs/kiosk.md shows every kiosk screenshot, and each picture it shows exists."""

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGE = (DOCS / "kiosk.md").read_text(encoding="utf-8")


def test_every_picture_shown_exists():
    shown = re.findall(r"\]\((screens/[^)]+\.png)\)", PAGE)
    assert len(shown) >= 20
    assert [path for path in shown if not (DOCS / path).exists()] == []


def test_every_kiosk_screenshot_is_shown():
    kiosk_pictures = {f"screens/{p.name}" for p in (DOCS / "screens").glob("kiosk-*.png")}
    orphans = {path for path in kiosk_pictures if path not in PAGE}
    # The large-text landscape and low-mode portrait variants are kept but not shown.
    assert orphans <= {
        "screens/kiosk-large-text-landscape.png",
        "screens/kiosk-accessibility-low-mode-portrait.png",
    }
