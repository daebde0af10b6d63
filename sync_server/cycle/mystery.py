"""Mystery visits and calls: an evaluation grid per channel whose criteria each check one
engagement of the referential, and the score of an evaluation.

A criterion is answered yes or no (yes counts 100 %) or on a scale from 1 to its top (1 counts
0 %, the top 100 %, linearly between). An evaluation's score is the weighted mean of its
answered criteria; a criterion left unanswered (not observed) counts neither way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import Any, Literal

from qualivilles.bundled import MYSTERY_GRID_FILE
from sync_server.cycle.referential import CHANNELS, CODE

Kind = Literal["yes_no", "scale"]
KINDS: tuple[Kind, ...] = ("yes_no", "scale")
MAX_LABEL = 200
MAX_SCALE = 10
MAX_WEIGHT = 10
KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
GRID_FILE = MYSTERY_GRID_FILE


class InvalidGrid(ValueError):
    """A grid (file or form) that cannot be used; the message says where."""


class InvalidAnswer(ValueError):
    """An answer that does not fit its criterion: unknown criterion, value off the scale."""


@dataclass(frozen=True)
class Criterion:
    key: str  # "acc-greets", stable: answers keep it
    channel: str
    engagement: str  # the engagement's code
    label: str
    kind: Kind = "yes_no"
    top: int = 1  # a scale's highest value (1 for yes/no: yes = 1, no = 0)
    weight: int = 1


def answer_share(criterion: Criterion, value: int) -> float:
    """How much of the criterion one answer meets, from 0 to 1 (InvalidAnswer off the scale)."""
    if criterion.kind == "yes_no":
        if value not in (0, 1):
            raise InvalidAnswer(f"{criterion.key}: yes (1) or no (0)")
        return float(value)
    if not 1 <= value <= criterion.top:
        raise InvalidAnswer(f"{criterion.key}: from 1 to {criterion.top}")
    return (value - 1) / (criterion.top - 1)


def score(answers: Iterable[tuple[Criterion, int | None]]) -> float | None:
    """An evaluation's score in percent: the weighted mean of its answered criteria; None when
    none was answered."""
    total = weights = 0.0
    for criterion, value in answers:
        if value is None:
            continue
        total += criterion.weight * answer_share(criterion, value)
        weights += criterion.weight
    return None if weights == 0 else 100 * total / weights


def engagement_scores(answers: Iterable[tuple[Criterion, int | None]]) -> dict[str, float]:
    """An evaluation's score on each engagement its answered criteria check."""
    by_code: dict[str, list[tuple[Criterion, int | None]]] = {}
    for criterion, value in answers:
        by_code.setdefault(criterion.engagement, []).append((criterion, value))
    scores = {code: score(found) for code, found in by_code.items()}
    return {code: value for code, value in scores.items() if value is not None}


@dataclass(frozen=True)
class Mean:
    value: float
    n: int  # evaluations


def means(scores: Iterable[tuple[str, float]]) -> dict[str, Mean]:
    """The mean score per key (a service, an engagement) over evaluations."""
    found: dict[str, list[float]] = {}
    for key, value in scores:
        found.setdefault(key, []).append(value)
    return {key: Mean(fmean(values), len(values)) for key, values in found.items()}


def check_answers(
    criteria: Mapping[str, Criterion], channel: str, posted: Mapping[str, str]
) -> dict[str, int | None]:
    """The answers of a form (criterion key → "" for not observed, or a whole number) for the
    grid of `channel`; InvalidAnswer for a criterion unknown there or a value off its scale."""
    found: dict[str, int | None] = {}
    for key, text in posted.items():
        criterion = criteria.get(key)
        if criterion is None or criterion.channel != channel:
            raise InvalidAnswer(f"{key}: no such criterion for {channel}")
        if not text.strip():
            found[key] = None
            continue
        try:
            value = int(text)
        except ValueError:
            raise InvalidAnswer(f"{key}: a whole number") from None
        answer_share(criterion, value)
        found[key] = value
    return found


def parse_criterion(entry: Any, where: str, codes: Mapping[str, str]) -> Criterion:
    """One criterion of a grid; `codes`: each engagement's channel."""
    if not isinstance(entry, dict):
        raise InvalidGrid(f"{where}: an object with a key, an engagement, a label and a kind")
    key = entry.get("key")
    if not isinstance(key, str) or not KEY.match(key):
        raise InvalidGrid(f"{where}.key: lower-case letters, digits and dashes")
    engagement = entry.get("engagement")
    if not isinstance(engagement, str) or not CODE.match(engagement) or engagement not in codes:
        raise InvalidGrid(f"{where}.engagement: an engagement of the referential")
    label = entry.get("label").strip() if isinstance(entry.get("label"), str) else ""
    if not label or len(label) > MAX_LABEL:
        raise InvalidGrid(f"{where}.label: from 1 to {MAX_LABEL} characters")
    kind = entry.get("kind", "yes_no")
    if kind not in KINDS:
        raise InvalidGrid(f"{where}.kind: yes_no or scale")
    top = entry.get("top", 4 if kind == "scale" else 1)
    if kind == "yes_no":
        top = 1
    elif isinstance(top, bool) or not isinstance(top, int) or not 2 <= top <= MAX_SCALE:
        raise InvalidGrid(f"{where}.top: a whole number from 2 to {MAX_SCALE}")
    weight = entry.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= MAX_WEIGHT:
        raise InvalidGrid(f"{where}.weight: a whole number from 1 to {MAX_WEIGHT}")
    channel = codes[engagement]
    if channel not in CHANNELS:
        raise InvalidGrid(f"{where}.engagement: its channel is unknown")
    return Criterion(key, channel, engagement, label, kind, top, weight)


def parse_grid(raw: Any, codes: Mapping[str, str], where: str = "criteria") -> list[Criterion]:
    """A grid's criteria, each key once; a criterion's channel is its engagement's."""
    if not isinstance(raw, list):
        raise InvalidGrid(f"{where}: a list of criteria")
    found: list[Criterion] = []
    for index, entry in enumerate(raw):
        criterion = parse_criterion(entry, f"{where}[{index}]", codes)
        if any(c.key == criterion.key for c in found):
            raise InvalidGrid(f"{where}[{index}].key: {criterion.key} is listed twice")
        found.append(criterion)
    return found


def bundled_grid(codes: Mapping[str, str], path: Path = GRID_FILE) -> list[Criterion]:
    """The starting grid shipped with the product, less the criteria whose engagement the
    town's referential does not have."""
    data = json.loads(path.read_text(encoding="utf-8"))
    entries = [e for e in data.get("criteria", []) if e.get("engagement") in codes]
    return parse_grid(entries, codes, f"{path.name}: criteria")
