"""Every place a desk's figures are read, brought to one shape for comparison: the JSON API's
figures, the indicator CSV's lines, the figure rows of the service page and the overview cards.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from sync_server.indicators.formulas import Figure
from tests.tools.page_text import text_of

DeskKey = tuple[str, str]  # (site, service)


def api_figures(body: dict[str, Any]) -> dict[DeskKey, dict[str, Figure]]:
    """`GET /api/v1/indicators` for one period: each desk's figures as `Figure` objects."""
    return {
        (row["site"], row["service"]): {key: Figure(**f) for key, f in row["figures"].items()}
        for row in body["rows"]
    }


def number(text: str) -> float | None:
    """A French CSV cell as a number (None when empty)."""
    return None if text == "" else float(text.replace(",", "."))


def csv_lines(content: bytes) -> dict[tuple[str, str, str], dict[str, str]]:
    """The indicator CSV (French: ";" and decimal commas) by the codes of its site, service and
    figure (the last columns)."""
    reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";")
    lines: dict[tuple[str, str, str], dict[str, str]] = {}
    for line in reader:
        key = (line["Code du site"], line["Code du service"], line["Code de l'indicateur"])
        assert key not in lines, f"two lines for {key}"
        lines[key] = line
    return lines


def page_rows(page: str) -> dict[str, dict[str, list[str]]]:
    """Per site of a service page: each `data-figure` row's cells (name, value — the part
    before any line under it —, N, previous, target, gap, state, whole value cell), from the
    desk table and the wait table."""
    found: dict[str, dict[str, list[str]]] = {}
    sections = re.findall(
        r'<section class="panel(?: waits)?"[^>]*data-site="([^"]+)">(.*?)</section>', page, re.S
    )
    for site, body in sections:
        for key, row in re.findall(r'<tr data-figure="([^"]+)">(.*?)</tr>', body, re.S):
            cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
            shown = [
                text_of(cells[0]),
                text_of(cells[1].split("<br>")[0]),
                *(text_of(cell) for cell in cells[2:]),
                text_of(cells[1]),  # the whole value cell last: reason, interval
            ]
            before = found.setdefault(site, {}).setdefault(key, shown)
            # A figure in both tables (the mean wait) reads the same in both.
            assert before[1:6] == shown[1:6], f"{key} differs between the tables of {site}"
    return found


def overview_cards(page: str) -> dict[DeskKey, dict[str, str]]:
    """Per desk card of the overview: each `data-figure` entry's shown value, the satisfaction
    headline, its target line and its previous line, and the card's whole text ("text")."""
    cards: dict[DeskKey, dict[str, str]] = {}
    for site, service, body in re.findall(
        r'<li class="card[^"]*" data-site="([^"]+)" data-service="([^"]+)">(.*?)</li>', page, re.S
    ):
        entries = re.findall(r'<div data-figure="([^"]+)"><dt>.*?</dt><dd>(.*?)</dd></div>', body,
                             re.S)  # fmt: skip
        card = {key: text_of(value) for key, value in entries}
        for kind in ("target", "previous"):
            line = re.search(rf'<p class="target" data-figure-{kind}="satisfaction_rate">(.*?)</p>',
                             body, re.S)  # fmt: skip
            if line:
                card[f"satisfaction_rate:{kind}"] = text_of(line.group(1))
        headline = re.search(r'<div class="headline" data-figure="satisfaction_rate">\s*'
                             r'<span class="rate">(.*?)</span>', body, re.S)  # fmt: skip
        if headline:
            card["satisfaction_rate"] = text_of(headline.group(1))
        card["text"] = text_of(body)
        cards[(site, service)] = card
    return cards
