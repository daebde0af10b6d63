"""Contact details a visitor leaves to be answered: a French phone number or an e-mail address,
checked and written one way. Pure functions, no I/O.

A phone number is French when it has ten digits starting with 0 then 1–9 (spaces, dots, dashes
allowed), or the same nine digits after +33 / 0033, or after the codes of the overseas
departments (+262, +590, +594, +596), which French numbering writes with a leading 0 too. It is
kept as the ten digits a French desk dials (`0612345678`, `0262123456`) and shown in pairs
(`06 12 34 56 78`).
"""

from __future__ import annotations

import re

MAX_EMAIL = 254
_SEPARATORS = re.compile(r"[\s.\-()/]")
_NATIONAL = re.compile(r"0[1-9]\d{8}")
_INTERNATIONAL = re.compile(r"(?:\+|00)(33|262|590|594|596)0?([1-9]\d{8})")
# Deliberately plain: letters, digits and . _ % + - before the @, labels of a domain after it,
# a top-level domain of letters. No quotes, comments or IP literals: nobody at a desk types them.
_EMAIL = re.compile(
    r"[A-Za-z0-9_%+\-]+(?:\.[A-Za-z0-9_%+\-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


class InvalidContact(ValueError):
    """A phone number or e-mail address that is not one; `field` says which ("phone", "email")."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def parse_phone(text: str) -> str | None:
    """The French phone number typed, as its ten national digits; None if nothing was typed;
    InvalidContact if it is not a French number."""
    compact = _SEPARATORS.sub("", text or "")
    if not compact:
        return None
    if _NATIONAL.fullmatch(compact):
        return compact
    found = _INTERNATIONAL.fullmatch(compact)
    if found:
        return "0" + found.group(2)
    raise InvalidContact("phone", "not a French phone number")


def display_phone(digits: str) -> str:
    """A number kept by `parse_phone` in pairs, as French numbers are written: `06 12 34 56 78`."""
    if len(digits) != 10:
        return digits
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def parse_email(text: str) -> str | None:
    """The e-mail address typed, trimmed (its domain in lower case); None if nothing was typed;
    InvalidContact if it is not an address."""
    address = (text or "").strip()
    if not address:
        return None
    if len(address) > MAX_EMAIL or not _EMAIL.fullmatch(address):
        raise InvalidContact("email", "not an e-mail address")
    local, _at, domain = address.rpartition("@")
    if len(local) > 64:
        raise InvalidContact("email", "not an e-mail address")
    return f"{local}@{domain.lower()}"
