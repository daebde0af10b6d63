"""The overview's desk cards: the monthly figures shaped for the page. Pure.

The numbers themselves come from `indicators.pipeline` (the same computation as the JSON API);
this only decides what a card says: above or below target, or hidden and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sync_server.indicators.figures import DeskFigures
from sync_server.indicators.formulas import Figure

Status = Literal["above", "below", "hidden"]


@dataclass(frozen=True)
class Card:
    site: str
    site_name: str
    service: str
    service_name: str
    satisfaction: Figure
    net: Figure
    wait_mean: Figure
    wait_median: Figure
    answers: int
    status: Status
    # Every figure of the desk (score, participation, margin…) and its data-quality counts.
    figures: dict[str, Figure] = field(default_factory=dict)
    quality: dict[str, int] = field(default_factory=dict)


def status_of(rate: Figure) -> Status:
    if rate.hidden or rate.value is None or rate.target is None:
        return "hidden"
    return "above" if rate.value >= rate.target else "below"


def build_cards(rows: list[DeskFigures]) -> list[Card]:
    cards = []
    for row in rows:
        figures = row.figures
        rate = figures["satisfaction_rate"]
        cards.append(
            Card(
                site=row.site,
                site_name=row.site_name,
                service=row.service,
                service_name=row.service_name,
                satisfaction=rate,
                net=figures["net_satisfaction"],
                wait_mean=figures["mean_wait_minutes"],
                wait_median=figures["median_wait_minutes"],
                answers=int(figures["answers"].value or 0),
                status=status_of(rate),
                figures=figures,
                quality=row.quality,
            )
        )
    # Desks below target first: they are what the monthly meeting talks about.
    order = {"below": 0, "above": 1, "hidden": 2}
    return sorted(cards, key=lambda c: (order[c.status], c.service_name, c.site_name))


def count_status(cards: list[Card]) -> dict[str, int]:
    counts = {"above": 0, "below": 0, "hidden": 0}
    for card in cards:
        counts[card.status] += 1
    return counts
