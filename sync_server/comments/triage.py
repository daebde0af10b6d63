"""Triage of a visitor's comment before anyone reads it: does it name a person, insult, or call
for urgent action? Pure, on the server alone (nothing is sent anywhere).

The text is folded once (`fold`: case, accents, apostrophes and hyphens, simple leetspeak) into
words that keep their place in the original text, so every hit can be highlighted there. Words
are compared whole, so "con" never matches "contrat" nor "cul" "calcul"; the lexicons' words and
the text's are compared with repeated letters squeezed ("connnnard" is "connard"), with plural
and feminine forms (`lexicon.py` reads the files and says how a town edits them).

Names are those after a civility ("Mme Dupont", the same pattern the pages mask) and the agents
listed for the comment's service: the full name, the first name or the surname alone, whole
words, case and accents ignored, letters never squeezed ("Marie" is not "mairie").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal

from sync_server.comments.lexicon import Lexicon, Phrase, insults, squeeze, urgent

Reason = Literal["urgent", "insult", "names_person"]
# The order reasons are shown in: what calls for action first.
REASONS: tuple[Reason, ...] = ("urgent", "insult", "names_person")

# A civility then a capitalised word: the name `labels.mask_personal` hides on every page.
NAME_AFTER_TITLE = re.compile(
    r"\b(M\.|Mme|Mlle|Monsieur|Madame|Mademoiselle|Mr\.?|Mrs\.?|Ms\.?)\s+[A-ZÀ-Ý][\w'’-]*",
)
_LEET = str.maketrans("0134578@$", "oieastbas")
_WORD = re.compile(r"[a-z0-9@$]+")
_LETTER = re.compile(r"[a-z]")
# Letters NFKD leaves whole.
_LIGATURES = {"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ı": "i"}
# A name part shorter than this (an initial) is matched only within the full name.
MIN_NAME_PART = 2


@dataclass(frozen=True)
class Hit:
    """One match: why, the lexicon term or listed name it matched, and where in the text."""

    reason: Reason
    term: str
    start: int
    end: int


@dataclass(frozen=True)
class Triage:
    """What triage found in one comment; `flagged` when anything was."""

    hits: tuple[Hit, ...] = ()

    @property
    def reasons(self) -> tuple[Reason, ...]:
        found = {hit.reason for hit in self.hits}
        return tuple(reason for reason in REASONS if reason in found)

    @property
    def flagged(self) -> bool:
        return bool(self.hits)

    @property
    def urgent(self) -> bool:
        return "urgent" in self.reasons

    def terms(self, reason: Reason) -> tuple[str, ...]:
        """The distinct terms matched for `reason`, in the order they appear."""
        return tuple(dict.fromkeys(hit.term for hit in self.hits if hit.reason == reason))


@dataclass(frozen=True, slots=True)
class Word:
    """A folded word of the text and its span in the original text."""

    text: str
    start: int
    end: int


@cache
def _fold_char(char: str) -> str:
    if char.isascii():
        return char.lower()
    lowered = char.casefold()
    if lowered in _LIGATURES:
        return _LIGATURES[lowered]
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@cache
def _latin_table() -> dict[int, str]:
    """`_fold_char` of the Latin letters beyond ASCII that fold to one character, and the
    typographic punctuation (’ « — …) as a space, a separator like any other."""
    table = {point: " " for point in range(0x2000, 0x2070)}
    for point in range(0x80, 0x250):
        folded = _fold_char(chr(point))
        if len(folded) == 1:
            table[point] = folded if folded.isascii() else " "
    return table


def words(text: str) -> list[Word]:
    """The text's words, folded: lower case, no accents, apostrophes, hyphens and punctuation
    as separators, leetspeak read as letters in a word that has letters ("c0nn@rd")."""
    # Most texts fold one character to one: Latin letters through one table, at C speed.
    flat = text.translate(_latin_table()).lower()
    where: list[int] | range = range(len(text))
    if len(flat) != len(text) or not flat.isascii():
        parts = [_fold_char(char) for char in text]
        flat = "".join(parts)
        where = [index for index, part in enumerate(parts) for _ in part]
    found = []
    for match in _WORD.finditer(flat):
        word = match.group()
        if _LETTER.search(word):
            word = word.translate(_LEET)
        else:
            word = word.replace("@", "").replace("$", "")
        if word:
            found.append(Word(word, where[match.start()], where[match.end() - 1] + 1))
    return found


def fold(text: str) -> str:
    """The text as triage compares it: its folded words, one space apart."""
    return " ".join(word.text for word in words(text))


def _scan(lexicon: Lexicon, tokens: Sequence[str]) -> list[tuple[int, int, str]]:
    """(first token, token after the last, term) of each match, left to right, longest first,
    skipping the tokens of the lexicon's innocent expressions."""
    if not lexicon.may_match(tokens):
        return []
    safe: set[int] = set()
    for i in range(len(tokens)):
        for phrase in lexicon.exceptions_at(tokens[i]):
            if phrase.matches(tokens, i):
                safe.update(range(i, i + len(phrase.words)))
    found = []
    i = 0
    while i < len(tokens):
        match = None
        if i not in safe:
            for phrase in lexicon.phrases_at(tokens[i]):
                end = i + len(phrase.words)
                if phrase.matches(tokens, i) and not safe.intersection(range(i, end)):
                    match = (i, end, phrase.term)
                    break
        if match is None:
            i += 1
            continue
        found.append(match)
        i = match[1]
    return found


@lru_cache(maxsize=64)
def names_lexicon(staff_names: tuple[str, ...]) -> Lexicon:
    """The listed agents as a lexicon of exact words: each full name, and its parts alone."""
    phrases = []
    for name in staff_names:
        parts = tuple(word.text for word in words(name))
        if not parts:
            continue
        phrases.append(Phrase.exact(name, parts))
        if len(parts) > 1:
            phrases.extend(Phrase.exact(name, (p,)) for p in parts if len(p) >= MIN_NAME_PART)
    return Lexicon.of(phrases)


def _hits(reason: Reason, lexicon: Lexicon, found: list[Word], tokens: list[str]) -> list[Hit]:
    return [
        Hit(reason, term, found[first].start, found[last - 1].end)
        for first, last, term in _scan(lexicon, tokens)
    ]


def listed_name_hits(
    text: str, staff_names: Iterable[str], found: list[Word] | None = None
) -> list[Hit]:
    """Where the text names one of the listed agents (`found`: the text's `words`, if read)."""
    listed = tuple(sorted(set(staff_names)))
    if not listed:
        return []
    found = words(text) if found is None else found
    tokens = [word.text for word in found]
    return _hits("names_person", names_lexicon(listed), found, tokens)


def name_hits(text: str, staff_names: Iterable[str], found: list[Word] | None = None) -> list[Hit]:
    """Where the text names a person: after a civility, or one of the listed agents."""
    hits = [
        Hit("names_person", match.group(), match.start(), match.end())
        for match in NAME_AFTER_TITLE.finditer(text)
    ]
    hits += listed_name_hits(text, staff_names, found)
    return sorted(hits, key=lambda hit: (hit.start, -hit.end))


def triage(text: str, staff_names: Iterable[str] = ()) -> Triage:
    """What a comment holds that the quality manager reads first: threats or distress
    ("urgent"), insults, a person's name (after a civility, or one of `staff_names`)."""
    return _triage(text, tuple(sorted(set(staff_names))))


# A register reads the same texts against the same names again and again.
@lru_cache(maxsize=50_000)
def _triage(text: str, staff_names: tuple[str, ...]) -> Triage:
    found = words(text)
    # Runs of a letter never cross the space between two words: one pass squeezes them all.
    squeezed = squeeze(" ".join(word.text for word in found)).split(" ") if found else []
    hits = [
        *_hits("urgent", urgent(), found, squeezed),
        *_hits("insult", insults(), found, squeezed),
        *name_hits(text, staff_names, found),
    ]
    return Triage(tuple(sorted(hits, key=lambda hit: (hit.start, -hit.end))))


def segments(text: str, hits: Iterable[Hit]) -> list[tuple[str, Reason | None]]:
    """The text cut into pieces, each with the reason of the hit it is part of (None: none),
    for highlighting; overlapping hits merge into the first one's piece."""
    spans: list[tuple[int, int, Reason]] = []
    for hit in sorted(hits, key=lambda h: (h.start, REASONS.index(h.reason))):
        if spans and hit.start < spans[-1][1]:
            start, end, reason = spans[-1]
            spans[-1] = (start, max(end, hit.end), reason)
        else:
            spans.append((hit.start, hit.end, hit.reason))
    pieces: list[tuple[str, Reason | None]] = []
    at = 0
    for start, end, reason in spans:
        if start > at:
            pieces.append((text[at:start], None))
        pieces.append((text[start:end], reason))
        at = end
    if at < len(text):
        pieces.append((text[at:], None))
    return pieces
