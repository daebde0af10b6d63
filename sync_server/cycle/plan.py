"""Improvement actions as a plan: where an action comes from, the steps of its life, who may
take each step, and when it is overdue. Pure.

proposed → validated → in progress → done; any open action can be abandoned. A service manager
proposes and carries out the actions of their services; validating and abandoning are the
quality manager's.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

Status = Literal["proposed", "validated", "in_progress", "done", "abandoned"]
STATUSES: tuple[Status, ...] = ("proposed", "validated", "in_progress", "done", "abandoned")
CLOSED: frozenset[str] = frozenset({"done", "abandoned"})
ORIGINS = (
    "indicator_miss",
    "complaint",
    "alert",
    "internal_audit",
    "afnor_audit",
    "meeting",
    "staff_suggestion",
)
# Each status and the ones it may move to.
NEXT: dict[str, tuple[Status, ...]] = {
    "proposed": ("validated", "abandoned"),
    "validated": ("in_progress", "done", "abandoned"),
    "in_progress": ("done", "abandoned"),
    "done": (),
    "abandoned": (),
}
# The steps only a validator (the quality manager) takes.
VALIDATOR_ONLY: frozenset[str] = frozenset({"validated", "abandoned"})


class InvalidTransition(ValueError):
    """The action cannot move to that status (from its own, or by this person); the message
    says why."""


def transition(current: str, wanted: str, *, may_validate: bool) -> Status:
    """The status an action moves to from `current` when `wanted` is asked; InvalidTransition
    if that step does not exist or is not this person's to take."""
    if wanted not in STATUSES:
        raise InvalidTransition(f"unknown status {wanted!r}")
    if current not in NEXT:
        raise InvalidTransition(f"unknown current status {current!r}")
    if wanted not in NEXT[current]:
        raise InvalidTransition(f"an action {current} cannot become {wanted}")
    if wanted in VALIDATOR_ONLY and not may_validate:
        raise InvalidTransition(f"only the quality manager may make an action {wanted}")
    return wanted  # type: ignore[return-value]


def next_steps(current: str, *, may_validate: bool) -> list[Status]:
    """The statuses this person may move the action to, in order."""
    return [s for s in NEXT.get(current, ()) if may_validate or s not in VALIDATOR_ONLY]


def overdue(status: str, due: date | None, today: date) -> bool:
    """Due before today and neither done nor abandoned."""
    return due is not None and due < today and status not in CLOSED
