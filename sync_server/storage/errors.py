"""Storage failures a caller can act on, one type each."""

from __future__ import annotations


class StorageError(Exception):
    pass


class UnknownDesk(StorageError):
    """No such site × service desk in the town's configuration."""


class UnknownDevice(StorageError):
    pass


class InvalidEnrolCode(StorageError):
    """The code is unknown, already used, expired, or its device was revoked."""


class SurveyVersionChanged(StorageError):
    """A published survey version cannot be changed in place: publish a new version."""


class InvalidTown(StorageError, ValueError):
    """The town file cannot be loaded as it is; the message says where."""


class UserExists(StorageError):
    pass


class VisitLinkUsed(StorageError):
    """The visit's per-visit link was already spent: the visit has its answer."""
