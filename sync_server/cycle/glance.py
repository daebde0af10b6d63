"""The quality cycle at a glance, for the first screen after login: where the plan stands and
what comes next, from the actions and audits a person may see."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sync_server.cycle.internal_audits import Audit
from sync_server.cycle.meetings import Meeting
from sync_server.cycle.plan import overdue
from sync_server.storage.models import PlanAction


@dataclass(frozen=True)
class Glance:
    overdue: int  # past their due date, neither done nor abandoned
    awaiting_validation: int  # proposed, for the quality manager to validate or not
    under_way: int  # validated or in progress, not overdue
    done_this_year: int  # completed since the first of January
    next_audit: Audit | None  # the next internal audit planned, today or later
    next_meeting: Meeting | None = None  # the next monthly meeting not held yet, today or later


def glance(
    actions: Iterable[PlanAction],
    audits: Iterable[Audit],
    today: date,
    meetings: Iterable[Meeting] = (),
) -> Glance:
    """Count the actions by where they stand on `today` and find the next planned audit and
    meeting; an overdue action is counted as overdue only, whatever its status."""
    late = waiting = under_way = done = 0
    for action in actions:
        if overdue(action.status, action.due_on, today):
            late += 1
        elif action.status == "proposed":
            waiting += 1
        elif action.status in ("validated", "in_progress"):
            under_way += 1
        elif action.status == "done" and action.done_at and action.done_at.year == today.year:
            done += 1
    coming = sorted(
        (a for a in audits if a.status == "planned" and a.audit_on >= today),
        key=lambda a: (a.audit_on, a.id),
    )
    ahead = sorted(
        (m for m in meetings if m.held_on is None and m.status == "open" and m.planned_on >= today),
        key=lambda m: (m.planned_on, m.id),
    )
    return Glance(
        late, waiting, under_way, done, coming[0] if coming else None, ahead[0] if ahead else None
    )
