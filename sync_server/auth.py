"""Dashboard passwords: argon2id hashes (memory-hard), verified in constant-ish time.

`check_password` takes the stored hash or None for an unknown user and spends the same work in
both cases, so response time does not tell whether a username exists.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@cache
def _decoy_hash() -> str:
    # Made once per process with the same parameters as real hashes: same cost to verify.
    return _hasher.hash("decoy password for unknown users")


def check_password(password_hash: str | None, password: str) -> bool:
    """True only for a known user with the right password; same cost when the user is unknown."""
    if password_hash is None:
        verify_password(_decoy_hash(), password)
        return False
    return verify_password(password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with older parameters and should be replaced at next login."""
    return _hasher.check_needs_rehash(password_hash)
