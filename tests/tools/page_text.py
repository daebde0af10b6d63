"""The text of the dashboard's HTML pages, for assertions on what a person reads."""

from __future__ import annotations

import html
import re


def text(page: str) -> str:
    """The page's text with tags removed, spaces collapsed (messages span template lines)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).replace("&#39;", "'")


def text_of(fragment: str) -> str:
    """A fragment's text, entities decoded, with only ASCII spaces folded: the narrow no-break
    space before % is part of the figure."""
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def waits_panel(page: str) -> str:
    """The service page's waiting-time section."""
    start = page.index('<section class="panel waits"')
    return page[start : page.index("</section>", start)]


def figure_cells(panel: str, key: str) -> list[str]:
    """The cells of one figure's row (name, value, N, previous, target, gap, status)."""
    row = re.search(rf'<tr data-figure="{key}">(.*?)</tr>', panel, re.S)
    assert row, key
    return [text_of(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1), re.S)]
