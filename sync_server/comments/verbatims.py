"""The visitors' words a report or an export quotes for a desk and a period.

One rule for every document: never a comment triage withholds (flagged and not released by the
quality manager, or kept hidden) whoever reads it, since a document travels beyond its reader;
every text masked (`reading.masked`) and cut to a length with an explicit "…"; a balanced
selection per desk, newest first, unhappy and happy visitors in turn by the answer's main level.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sync_server.access import Permission, holders
from sync_server.comments.reading import masked, withheld
from sync_server.comments.triage import triage
from sync_server.indicators.formulas import sentiment
from sync_server.storage import Connection, RegisterEntry, quality
from sync_server.storage import triage as triage_storage

Mood = Literal["unhappy", "happy", "neutral"]
DEFAULT_LIMIT = 6
MAX_LENGTH = 280
ELLIPSIS = "…"
# A cut text ends at a space if one is this close to the length, else mid-word.
WORD_CUT_SLACK = 40


@dataclass(frozen=True)
class Verbatim:
    comment_id: int
    received_at: datetime  # UTC
    site: str
    service: str
    text: str  # masked, at most the length asked, "…" when cut
    mood: Mood


def mood(level: int | None, levels: int | None) -> Mood:
    """Unhappy or happy by the answer's main level; neutral without one ("no opinion")."""
    if level is None or levels is None or not 0 <= level < levels:
        return "neutral"
    found = sentiment(level, levels)
    if found == "satisfied":
        return "happy"
    return "unhappy" if found == "dissatisfied" else "neutral"


def shorten(text: str, max_length: int = MAX_LENGTH) -> str:
    """`text` whole if it fits, else cut (at a space when one is near) and ended with "…";
    never longer than `max_length`."""
    text = " ".join(text.split())
    if len(text) <= max_length:
        return text
    cut = text[: max_length - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space >= len(cut) - WORD_CUT_SLACK and space > 0:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + ELLIPSIS


def balanced(verbatims: list[Verbatim], limit: int) -> list[Verbatim]:
    """At most `limit`, newest first within each mood, unhappy and happy in turn, neutral ones
    filling what is left; shown newest first."""
    queues = {m: [v for v in verbatims if v.mood == m] for m in ("unhappy", "happy", "neutral")}
    chosen: list[Verbatim] = []
    while len(chosen) < limit and any(queues.values()):
        for name in ("unhappy", "happy"):
            if queues[name] and len(chosen) < limit:
                chosen.append(queues[name].pop(0))
        if not queues["unhappy"] and not queues["happy"] and queues["neutral"]:
            chosen.append(queues["neutral"].pop(0))
    return sorted(chosen, key=lambda v: (v.received_at, v.comment_id), reverse=True)


def selected_verbatims(
    connection: Connection,
    start: datetime,
    end: datetime,
    *,
    services: list[str] | None = None,
    sites: list[str] | None = None,
    reader_role: str | None = None,
    limit: int = DEFAULT_LIMIT,
    max_length: int = MAX_LENGTH,
) -> dict[tuple[str, str], list[Verbatim]]:
    """The comments received in [start, end) to quote, by desk (site, service), for a reader of
    `reader_role` (a role that does not read the answers, the administrator, gets none; None: a
    document for anyone who does). `services`/`sites`: None for all."""
    if reader_role is not None and reader_role not in holders(Permission.READ_INDICATORS):
        return {}
    entries = quality.register(connection, services=services, start=start, end=end)
    names = triage_storage.staff_names(connection, services)
    by_desk: dict[tuple[str, str], list[Verbatim]] = {}
    for entry in entries:
        if sites is not None and entry.site not in sites:
            continue
        verbatim = _verbatim(entry, names.get(entry.service, []), max_length)
        if verbatim is not None:
            by_desk.setdefault((entry.site, entry.service), []).append(verbatim)
    return {desk: balanced(found, limit) for desk, found in sorted(by_desk.items())}


def _verbatim(entry: RegisterEntry, names: list[str], max_length: int) -> Verbatim | None:
    if entry.purged_at is not None or not entry.text.strip():
        return None
    if withheld(triage(entry.text, names).flagged, entry.review) is not None:
        return None
    return Verbatim(
        comment_id=entry.id,
        received_at=entry.received_at,
        site=entry.site,
        service=entry.service,
        text=shorten(masked(entry.text, names), max_length),
        mood=mood(entry.main_level, entry.main_levels),
    )
