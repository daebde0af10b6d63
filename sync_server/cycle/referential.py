"""The referential's engagements, the certified scope and the indicators tied to engagements,
as a town file gives them: read and checked here, with an error that says where.

An engagement has a code ("ACC-01"), a title in the town's words, a channel, and applies to
every certified service unless it says otherwise (`all_services`). A service's certification
names its phase, since when (a year, a month or a day: "2008", "2020-03", "2021-05-17"), and the
engagements it takes on beyond the default ones (`with`) or leaves out (`without`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from qualivilles.bundled import ENGAGEMENTS_FILE
from sync_server.indicators.targets import INDICATORS

CHANNELS = ("reception", "phone", "mail", "complaints", "information")
CODE = re.compile(r"^[A-Z]{2,6}-\d{1,3}$")
SINCE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
MAX_TITLE = 300
MAX_PHASE = 20


class InvalidReferential(ValueError):
    """The referential part of a town file (or a form) cannot be used; the message says where."""


@dataclass(frozen=True)
class Engagement:
    code: str
    title: str
    channel: str
    all_services: bool = True
    indicators: tuple[str, ...] = ()


@dataclass(frozen=True)
class Certification:
    """A service within the certified scope: its phase, since when, and its own exceptions."""

    service: str
    phase: int
    since: str | None  # "2008", "2020-03" or "2021-05-17"; None: planned, not certified yet
    also: tuple[str, ...] = ()
    without: tuple[str, ...] = ()


def applying(engagements: Iterable[Engagement], overrides: Mapping[str, bool]) -> list[Engagement]:
    """The engagements that apply to one service: the default ones, unless the service leaves
    them out, and those it takes on (`overrides`: code → applies)."""
    return [e for e in engagements if overrides.get(e.code, e.all_services)]


def check_code(code: str, where: str) -> str:
    if not isinstance(code, str) or not CODE.match(code):
        raise InvalidReferential(f"{where}: a code like ACC-01 (capitals, a dash, digits)")
    return code


def check_title(title: Any, where: str) -> str:
    text = title.strip() if isinstance(title, str) else ""
    if not text:
        raise InvalidReferential(f"{where}: a title is needed")
    if len(text) > MAX_TITLE:
        raise InvalidReferential(f"{where}: at most {MAX_TITLE} characters")
    return text


def check_channel(channel: Any, where: str) -> str:
    if channel not in CHANNELS:
        raise InvalidReferential(f"{where}: one of {', '.join(CHANNELS)}")
    return str(channel)


def check_since(since: Any, where: str) -> str | None:
    """A year, month or day ("2020", "2020-03", "2020-03-16"), or None."""
    if since is None:
        return None
    match = SINCE.match(since) if isinstance(since, str) else None
    if match is None:
        raise InvalidReferential(f"{where}: a year, month or day such as 2020, 2020-03, 2020-03-16")
    year, month, day = (int(part) if part else 1 for part in match.groups())
    try:
        date(year, month, day)
    except ValueError as error:
        raise InvalidReferential(f"{where}: {error}") from None
    return since


def check_phase(phase: Any, where: str) -> int:
    if isinstance(phase, bool) or not isinstance(phase, int) or not 1 <= phase <= MAX_PHASE:
        raise InvalidReferential(f"{where}: a whole number from 1 to {MAX_PHASE}")
    return phase


def parse_engagements(raw: Any, where: str = "engagements") -> tuple[Engagement, ...]:
    """The engagements of a list such as the town file's "engagements"; each code once, each
    indicator tied to one engagement at most."""
    if not isinstance(raw, list):
        raise InvalidReferential(f"{where}: a list of engagements")
    found: list[Engagement] = []
    tied: dict[str, str] = {}
    for index, entry in enumerate(raw):
        at = f"{where}[{index}]"
        if not isinstance(entry, dict):
            raise InvalidReferential(f"{at}: an object with a code, a title and a channel")
        code = check_code(entry.get("code"), f"{at}.code")
        if any(e.code == code for e in found):
            raise InvalidReferential(f"{at}.code: {code} is listed twice")
        all_services = entry.get("all_services", True)
        if not isinstance(all_services, bool):
            raise InvalidReferential(f"{at}.all_services: true or false")
        indicators = entry.get("indicators", [])
        if not isinstance(indicators, list):
            raise InvalidReferential(f"{at}.indicators: a list of indicator keys")
        for key in indicators:
            if key not in INDICATORS:
                raise InvalidReferential(f"{at}.indicators: unknown indicator {key!r}")
            if key in tied:
                raise InvalidReferential(f"{at}.indicators: {key} is already tied to {tied[key]}")
            tied[key] = code
        found.append(
            Engagement(
                code=code,
                title=check_title(entry.get("title"), f"{at}.title"),
                channel=check_channel(entry.get("channel"), f"{at}.channel"),
                all_services=all_services,
                indicators=tuple(indicators),
            )
        )
    return tuple(found)


def parse_certification(raw: Any, service: str, known: Collection[str]) -> Certification:
    """A service's "certification" entry; `known`: the engagement codes it may name."""
    where = f"services[{service}].certification"
    if not isinstance(raw, dict):
        raise InvalidReferential(f"{where}: an object with a phase")
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("with", "without"):
        codes = raw.get(key, [])
        if not isinstance(codes, list):
            raise InvalidReferential(f"{where}.{key}: a list of engagement codes")
        for code in codes:
            if code not in known:
                raise InvalidReferential(f"{where}.{key}: unknown engagement {code!r}")
        lists[key] = tuple(codes)
    both = set(lists["with"]) & set(lists["without"])
    if both:
        raise InvalidReferential(f"{where}: {sorted(both)[0]} both with and without")
    return Certification(
        service=service,
        phase=check_phase(raw.get("phase"), f"{where}.phase"),
        since=check_since(raw.get("since"), f"{where}.since"),
        also=lists["with"],
        without=lists["without"],
    )


def bundled_engagements(path: Path = ENGAGEMENTS_FILE) -> tuple[Engagement, ...]:
    """The starting list shipped with the product (assets/referential/engagements.json)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return parse_engagements(data.get("engagements"), f"{path.name}: engagements")
