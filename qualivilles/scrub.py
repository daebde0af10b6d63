"""Scrubbing of free text before storage: no e-mail address or phone number is ever kept.

Visitors sometimes leave their contact details in a comment ("call me on 06 12 …"). The RGPD
rule is privacy by design: the text is redacted before it reaches the database and the comment
is flagged so that a human reads it. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EMAIL_MARK = "[e-mail retiré]"
PHONE_MARK = "[téléphone retiré]"

_EMAIL = re.compile(
    r"[A-Za-z0-9._%+\-]+\s*(?:@|\(at\)|\[at\])\s*[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}",
    re.IGNORECASE,
)
# French numbers (0X XX XX XX XX with spaces, dots or dashes, or +33 / 0033 forms) and other
# international numbers: a leading + or 00, then at least 8 digits with optional separators.
_PHONE = re.compile(
    r"""
    (?<![\w+])
    (?:
        (?:\+|00)\s?33\s?\(?0?\)?\s?[1-9](?:[\s.\-]?\d{2}){4}     # +33 6 12 34 56 78
      | 0[1-9](?:[\s.\-]?\d{2}){4}                              # 06 12 34 56 78
      | (?:\+|00)\s?[1-9]\d{0,2}(?:[\s.\-]?\d){7,12}            # +44 20 7946 0958
    )
    (?!\w)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Scrubbed:
    text: str
    # True when something was removed: a human should read the comment before it is published.
    redacted: bool


def scrub(text: str) -> Scrubbed:
    """Replace e-mail addresses and phone numbers with a visible marker."""
    without_emails, emails = _EMAIL.subn(EMAIL_MARK, text)
    cleaned, phones = _PHONE.subn(PHONE_MARK, without_emails)
    # A text scrubbed before (the records log keeps scrubbed copies, and the figures are derived
    # from the log again) keeps its markers, so it stays flagged.
    marked = EMAIL_MARK in text or PHONE_MARK in text
    return Scrubbed(text=cleaned, redacted=bool(emails or phones or marked))
