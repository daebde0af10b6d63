"""What the mystery page shows for a period: each service's mean score beside its visitors'
satisfaction (the same period's desk figures), and each engagement's mean score per service."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sync_server.cycle.mystery import Mean, engagement_scores, means, score
from sync_server.indicators.figures import DeskFigures
from sync_server.storage.mystery import Evaluation


@dataclass(frozen=True)
class Satisfaction:
    value: float | None  # percent; None when no desk of the service shows one
    n: int  # answers expressed


@dataclass(frozen=True)
class ServiceLine:
    service: str
    mystery: Mean
    satisfaction: Satisfaction
    engagements: dict[str, Mean]


def service_satisfaction(rows: Iterable[DeskFigures]) -> dict[str, Satisfaction]:
    """Each service's satisfaction rate over its desks: the desks' rates weighted by their N,
    among the desks showing one (a desk below the minimum N shows none)."""
    shown: dict[str, list[tuple[float, int]]] = {}
    for row in rows:
        figure = row.figures.get("satisfaction_rate")
        if figure is not None and figure.value is not None and figure.n:
            shown.setdefault(row.service, []).append((figure.value, figure.n))
        else:
            shown.setdefault(row.service, [])
    found = {}
    for service, rates in shown.items():
        n = sum(count for _, count in rates)
        value = sum(rate * count for rate, count in rates) / n if n else None
        found[service] = Satisfaction(value, n)
    return found


def summary(
    evaluations: Iterable[Evaluation], satisfaction: dict[str, Satisfaction]
) -> list[ServiceLine]:
    """One line per service evaluated, in the services' order of first evaluation."""
    scored = [(e, score(e.answers)) for e in evaluations]
    per_service = means((e.service, value) for e, value in scored if value is not None)
    per_engagement: dict[str, list[tuple[str, float]]] = {}
    for e, _ in scored:
        for code, value in engagement_scores(e.answers).items():
            per_engagement.setdefault(e.service, []).append((code, value))
    return [
        ServiceLine(
            service=service,
            mystery=mean,
            satisfaction=satisfaction.get(service, Satisfaction(None, 0)),
            engagements=dict(sorted(means(per_engagement.get(service, [])).items())),
        )
        for service, mean in sorted(per_service.items())
    ]
