"""Who reads what of a visitor's comment, once triage has looked at it.

A comment triage flags (urgent, insult, a person named) is the quality manager's to read first:
until they release it, everyone else gets a placeholder in its place, on every page, export and
report; released, it reads masked like any comment (names after a civility, long numbers, and
the service's listed agents). Kept hidden, it never reaches anyone else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sync_server.comments.triage import Triage, listed_name_hits, triage
from sync_server.storage import Connection
from sync_server.storage import triage as triage_storage
from sync_server.web.labels import MASK, N_, mask_personal

Withheld = Literal["pending", "kept_hidden"]
# What a reader who may not read a withheld comment gets in its place.
PLACEHOLDERS: dict[Withheld, str] = {
    "pending": N_("Commentaire en attente de relecture par le responsable qualité"),
    "kept_hidden": N_("Commentaire non communiqué par le responsable qualité"),
}


def withheld(flagged: bool, review: str | None) -> Withheld | None:
    """Whether a comment is withheld from everyone but the quality manager, and why: flagged
    and not reviewed yet ("pending"), or kept hidden; None when anyone may read it."""
    if not flagged or review == "released":
        return None
    return "kept_hidden" if review == "kept_hidden" else "pending"


def masked(text: str, staff_names: Iterable[str] = ()) -> str:
    """The text as a reader sees it by default: the listed agents' names, names after a
    civility and long numbers hidden."""
    pieces, at = [], 0
    for hit in listed_name_hits(text, staff_names):
        if hit.start >= at:
            pieces += [text[at : hit.start], MASK]
            at = hit.end
    return mask_personal("".join([*pieces, text[at:]]))


@dataclass(frozen=True)
class Shown:
    """A comment as one reader gets it: masked text, or "" and why it is withheld."""

    text: str
    held: Withheld | None
    triage: Triage


def shown(text: str, review: str | None, staff_names: Iterable[str], reviewer: bool) -> Shown:
    """`text` for a `reviewer` of flagged comments (the quality manager) or anyone else."""
    names = list(staff_names)
    found = triage(text, names) if text else Triage()
    held = None if reviewer else withheld(found.flagged, review)
    return Shown("" if held else masked(text, names), held, found)


@dataclass(frozen=True)
class Pending:
    """The flagged comments still waiting for the quality manager's review."""

    count: int = 0
    urgent: int = 0


def pending(connection: Connection) -> Pending:
    """How many comments triage holds for the quality manager, and how many are urgent."""
    names = triage_storage.staff_names(connection)
    count = urgent = 0
    for _id, service, text in triage_storage.unreviewed_texts(connection):
        found = triage(text, names.get(service, ()))
        count += found.flagged
        urgent += found.urgent
    return Pending(count, urgent)
