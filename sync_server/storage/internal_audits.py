"""The yearly plan of internal audits and their findings.

The rules (who reads, statuses, what a planned audit needs) are those of
`sync_server.cycle.internal_audits`; here they are kept. A non-conformity opens an
improvement action through the plan's own `propose` (come from an internal audit, for the
audited service and engagement, proposed). Each change returns what the audit trail records
of it; the caller writes the event in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.cycle.internal_audits import AUDITOR_ROLES, NEXT, Audit
from sync_server.storage import plan, schema
from sync_server.storage.db import utcnow


@dataclass(frozen=True)
class Finding:
    id: int
    audit_id: int
    engagement: str
    verdict: str
    evidence: str
    action_id: int | None
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class Attachment:
    """A file joined to a finding (its content is read only to be served)."""

    id: int
    finding_id: int
    kind: str
    size: int


class AuditStatusRefused(ValueError):
    """The audit cannot move to that status from its own; nothing changed."""


def add(
    connection: Connection,
    service: str,
    audit_on: date,
    pair: tuple[str, str],
    *,
    by: str,
    now: datetime | None = None,
) -> int:
    """Plan an audit; its number."""
    now = now or utcnow()
    inserted = connection.execute(
        schema.internal_audits.insert().values(
            service=service, audit_on=audit_on, first_auditor=pair[0], second_auditor=pair[1],
            status="planned", planned_by=by, planned_at=now, updated_by=by, updated_at=now,
        )
    )  # fmt: skip
    return int(inserted.inserted_primary_key[0])


def move(
    connection: Connection, audit_id: int, wanted: str, *, by: str, now: datetime | None = None
) -> tuple[str, str]:
    """Move an audit to `wanted`; (before, after). AuditStatusRefused: no such step."""
    current = get(connection, audit_id)
    if current is None:
        raise LookupError(audit_id)
    if wanted not in NEXT.get(current.status, ()):
        raise AuditStatusRefused(f"an audit {current.status} cannot become {wanted}")
    t = schema.internal_audits
    connection.execute(
        t.update()
        .where(t.c.id == audit_id)
        .values(status=wanted, updated_by=by, updated_at=now or utcnow())
    )
    return current.status, wanted


def get(connection: Connection, audit_id: int) -> Audit | None:
    t = schema.internal_audits
    found = _read(connection, sa.select(t).where(t.c.id == audit_id))
    return found[0] if found else None


def of_year(connection: Connection, year: int) -> list[Audit]:
    """The audits planned in `year`, by date."""
    t = schema.internal_audits
    query = sa.select(t).where(t.c.audit_on >= date(year, 1, 1), t.c.audit_on <= date(year, 12, 31))
    return _read(connection, query.order_by(t.c.audit_on, t.c.id))


def auditors(connection: Connection) -> list[str]:
    """The accounts that may be one of a pair: internal auditors and quality managers, enabled."""
    u = schema.users
    query = sa.select(u.c.username).where(u.c.role.in_(AUDITOR_ROLES), u.c.disabled_at.is_(None))
    return list(connection.scalars(query.order_by(u.c.username)))


def record_finding(
    connection: Connection,
    audit: Audit,
    engagement: str,
    verdict: str,
    evidence: str,
    *,
    by: str,
    title: str,
    attachment: tuple[str, bytes] | None = None,
    now: datetime | None = None,
) -> tuple[int, int | None]:
    """Record a finding, with its file (kind, content) if any; a non-conformity opens an
    improvement action titled `title`. (finding number, action number or None)."""
    now = now or utcnow()
    action_id = None
    if verdict == "non_conformity":
        draft = plan.Draft(
            title=title, origin="internal_audit", services=(audit.service,), engagement=engagement
        )
        action_id = plan.propose(connection, draft, by=by, now=now)
    inserted = connection.execute(
        schema.audit_findings.insert().values(
            audit_id=audit.id, engagement=engagement, verdict=verdict, evidence=evidence,
            action_id=action_id, recorded_by=by, recorded_at=now,
        )
    )  # fmt: skip
    finding_id = int(inserted.inserted_primary_key[0])
    if attachment is not None:
        kind, content = attachment
        connection.execute(
            schema.finding_attachments.insert().values(
                finding_id=finding_id, kind=kind, size=len(content), content=content,
                uploaded_by=by, uploaded_at=now,
            )
        )  # fmt: skip
    return finding_id, action_id


def findings(connection: Connection, audit_id: int) -> list[Finding]:
    f = schema.audit_findings
    rows = connection.execute(sa.select(f).where(f.c.audit_id == audit_id).order_by(f.c.id))
    return [
        Finding(
            id=row.id, audit_id=row.audit_id, engagement=row.engagement, verdict=row.verdict,
            evidence=row.evidence, action_id=row.action_id, recorded_by=row.recorded_by,
            recorded_at=row.recorded_at,
        )
        for row in rows
    ]  # fmt: skip


def attachments(connection: Connection, audit_id: int) -> dict[int, list[Attachment]]:
    """The files of an audit's findings, by finding."""
    a, f = schema.finding_attachments, schema.audit_findings
    rows = connection.execute(
        sa.select(a.c.id, a.c.finding_id, a.c.kind, a.c.size)
        .join(f, f.c.id == a.c.finding_id)
        .where(f.c.audit_id == audit_id)
        .order_by(a.c.id)
    )
    found: dict[int, list[Attachment]] = {}
    for row in rows:
        found.setdefault(row.finding_id, []).append(
            Attachment(id=row.id, finding_id=row.finding_id, kind=row.kind, size=row.size)
        )
    return found


def attachment_content(
    connection: Connection, audit_id: int, attachment_id: int
) -> tuple[str, bytes] | None:
    """A file of one of this audit's findings: (kind, content); None if it is not one."""
    a, f = schema.finding_attachments, schema.audit_findings
    row = connection.execute(
        sa.select(a.c.kind, a.c.content)
        .join(f, f.c.id == a.c.finding_id)
        .where(a.c.id == attachment_id, f.c.audit_id == audit_id)
    ).first()
    return None if row is None else (row.kind, bytes(row.content))


def _read(connection: Connection, query: sa.Select) -> list[Audit]:  # type: ignore[type-arg]
    return [
        Audit(
            id=row.id,
            service=row.service,
            audit_on=row.audit_on,
            auditors=(row.first_auditor, row.second_auditor),
            status=row.status,
        )
        for row in connection.execute(query)
    ]
