"""The French lexicons triage reads (`assets/lexicons/fr/`: insults.txt, urgent.txt), parsed
once per process.

One term a line, `#` for comments (each file's header says where it comes from and how a town
edits it): `mot` the whole word with its plurals and simple feminine, `=mot` that word only,
`début*` any word starting so, several words an expression, `!expression` an innocent one whose
words this lexicon never flags. A town edits the files of its installation and restarts the
server: triage runs when a comment is read, so every comment is read against the new lists.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

from qualivilles.bundled import ASSETS_DIR

BUNDLED_DIR = ASSETS_DIR / "lexicons" / "fr"
_REPEATS = re.compile(r"(.)\1+")
# Words shorter than this get no plural or feminine added ("pd" stays "pd").
MIN_INFLECTED = 3
# A prefix term ("menac*") is looked up by this many first letters; a shorter one is refused.
PREFIX_KEY = 3


def squeeze(word: str) -> str:
    """A folded word with each run of a letter kept once ("connnnard", "connard": "conard")."""
    return _REPEATS.sub(r"\1", word)


def inflections(word: str) -> set[str]:
    """A folded word, its plurals and its simple feminine forms."""
    if len(word) < MIN_INFLECTED:
        return {word}
    forms = {word, word + "s", word + "x", word + "e", word + "es"}
    for ending, others in (
        ("eux", ("euse", "euses")),
        ("eur", ("euse", "euses")),
        ("al", ("aux",)),
        ("if", ("ive", "ives")),
        ("er", ("ere", "eres")),
    ):
        if word.endswith(ending):
            forms.update(word[: -len(ending)] + other for other in others)
    return forms


@dataclass(frozen=True)
class Pattern:
    """One word of a term: the squeezed forms it matches, or a prefix."""

    forms: frozenset[str] = frozenset()
    prefix: str | None = None

    @classmethod
    def parse(cls, word: str, squeezed: bool = True) -> Pattern:
        shape = squeeze if squeezed else (lambda w: w)
        if word.endswith("*") and len(word) > PREFIX_KEY:
            return cls(prefix=shape(word[:-1]))
        if word.startswith("="):
            return cls(forms=frozenset({shape(word[1:])}))
        return cls(forms=frozenset(shape(form) for form in inflections(word)))

    def matches(self, token: str) -> bool:
        if self.prefix is not None:
            return token.startswith(self.prefix)
        return token in self.forms


@dataclass(frozen=True)
class Phrase:
    """A term: its words in order, and the term as written (what a hit reports)."""

    term: str
    words: tuple[Pattern, ...]

    @classmethod
    def exact(cls, term: str, words: Sequence[str]) -> Phrase:
        return cls(term, tuple(Pattern(forms=frozenset({w})) for w in words))

    def matches(self, tokens: Sequence[str], at: int) -> bool:
        if at + len(self.words) > len(tokens):
            return False
        return all(p.matches(tokens[at + i]) for i, p in enumerate(self.words))


@dataclass(frozen=True)
class Lexicon:
    """Terms and innocent expressions, indexed by the forms their first word may take."""

    phrases: dict[str, tuple[Phrase, ...]]
    # Terms whose first word is a prefix, by the prefix's first letters (`PREFIX_KEY`).
    prefixed: dict[str, tuple[Phrase, ...]] = field(default_factory=dict)
    exceptions: dict[str, tuple[Phrase, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, phrases: Iterable[Phrase], exceptions: Iterable[Phrase] = ()) -> Lexicon:
        # Longest first, so "fils de pute" wins over "pute" at the same word.
        ordered = sorted(phrases, key=lambda p: -len(p.words))
        prefixed: dict[str, list[Phrase]] = {}
        for phrase in ordered:
            prefix = phrase.words[0].prefix
            if prefix is not None:
                prefixed.setdefault(prefix[:PREFIX_KEY], []).append(phrase)
        return cls(
            _index(p for p in ordered if p.words[0].prefix is None),
            {key: tuple(found) for key, found in prefixed.items()},
            _index(exceptions),
        )

    def may_match(self, tokens: Sequence[str]) -> bool:
        """Whether any term could start at one of `tokens` (most comments: none, at once)."""
        if not self.phrases.keys().isdisjoint(tokens):
            return True
        return bool(self.prefixed) and not self.prefixed.keys().isdisjoint(
            token[:PREFIX_KEY] for token in tokens
        )

    def phrases_at(self, token: str) -> tuple[Phrase, ...]:
        indexed = self.phrases.get(token, ())
        started = self.prefixed.get(token[:PREFIX_KEY])
        return indexed + started if started else indexed

    def exceptions_at(self, token: str) -> tuple[Phrase, ...]:
        return self.exceptions.get(token, ())


def _index(phrases: Iterable[Phrase]) -> dict[str, tuple[Phrase, ...]]:
    index: dict[str, list[Phrase]] = {}
    for phrase in phrases:
        for form in phrase.words[0].forms:
            index.setdefault(form, []).append(phrase)
    return {form: tuple(found) for form, found in index.items()}


def _fold_term(text: str) -> list[str]:
    """A lexicon line's words, folded as triage folds a comment (markers kept)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.findall(r"[=]?[a-z0-9]+\*?", plain.replace("œ", "oe").replace("æ", "ae"))


def parse(lines: Iterable[str]) -> Lexicon:
    """A lexicon from its file's lines (see the module's docstring for their form)."""
    phrases, exceptions = [], []
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        innocent = line.startswith("!")
        term = line[1:].strip() if innocent else line
        parts = _fold_term(term)
        if not parts:
            continue
        phrase = Phrase(term, tuple(Pattern.parse(p) for p in parts))
        (exceptions if innocent else phrases).append(phrase)
    return Lexicon.of(phrases, exceptions)


@cache
def load(name: str) -> Lexicon:
    """A lexicon file, parsed once per process."""
    return parse((BUNDLED_DIR / name).read_text(encoding="utf-8").splitlines())


def insults() -> Lexicon:
    return load("insults.txt")


def urgent() -> Lexicon:
    return load("urgent.txt")
