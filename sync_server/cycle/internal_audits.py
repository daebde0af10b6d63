"""Internal audits: every certified service is audited once a year by a pair of internal
auditors, who record a finding per engagement; a non-conformity opens an improvement action.
Who reads an audit, who enters its findings, and the checks of a planned audit. Pure.

planned → done → report issued; a planned audit may be cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from sync_server.access import Permission, may, may_see
from sync_server.storage.models import User

Status = Literal["planned", "done", "report_issued", "cancelled"]
STATUSES: tuple[Status, ...] = ("planned", "done", "report_issued", "cancelled")
NEXT: dict[str, tuple[Status, ...]] = {
    "planned": ("done", "cancelled"),
    "done": ("report_issued",),
    "report_issued": (),
    "cancelled": (),
}
Verdict = Literal["conformity", "non_conformity", "observation", "strong_point"]
VERDICTS: tuple[Verdict, ...] = ("conformity", "non_conformity", "observation", "strong_point")
# The roles one of an audit's pair may hold.
AUDITOR_ROLES = ("internal_auditor", "quality_manager")
MAX_EVIDENCE = 4000
# A file joined to a finding: at most this size (and within the server's body limit), and one
# of these kinds, recognised by its first bytes, never by its name.
MAX_ATTACHMENT_BYTES = 5_000_000
MAGIC = {"pdf": b"%PDF-", "png": b"\x89PNG\r\n\x1a\n", "jpeg": b"\xff\xd8\xff"}
MEDIA_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpeg": "image/jpeg"}
# How far from today an audit may be planned, in years.
YEARS_AROUND = 5


@dataclass(frozen=True)
class Audit:
    id: int
    service: str
    audit_on: date
    auditors: tuple[str, str]
    status: str


def may_read(user: User, audit: Audit) -> bool:
    """The quality manager reads every audit; an auditor the ones they are of the pair of; a
    service manager their services' (those who read the service's figures)."""
    if may(user, Permission.PLAN_INTERNAL_AUDITS):
        return True
    if may(user, Permission.ENTER_FINDINGS) and user.username in audit.auditors:
        return True
    return may(user, Permission.READ_INDICATORS) and may_see(user, audit.service)


def may_enter(user: User, audit: Audit) -> bool:
    """Findings are entered by the audit's pair (or the quality manager), until the report is
    issued; never on a cancelled audit."""
    if audit.status not in ("planned", "done"):
        return False
    if may(user, Permission.PLAN_INTERNAL_AUDITS):
        return True
    return may(user, Permission.ENTER_FINDINGS) and user.username in audit.auditors


def plan_problems(
    service: str,
    audit_on: date | None,
    pair: tuple[str, str],
    *,
    certified: set[str],
    auditors: set[str],
    today: date,
) -> list[str]:
    """What is wrong with an audit to plan (the French messages, as msgids); none: it may be."""
    problems: list[str] = []
    if service not in certified:
        problems.append("Choisissez un service du périmètre certifié.")
    if audit_on is None:
        problems.append("La date de l'audit n'est pas une date valide (AAAA-MM-JJ).")
    elif abs(audit_on.year - today.year) > YEARS_AROUND:
        problems.append("La date de l'audit est trop loin d'aujourd'hui.")
    first, second = pair
    if not first or not second or first == second:
        problems.append("Choisissez deux auditeurs différents.")
    elif first not in auditors or second not in auditors:
        problems.append(
            "Les auditeurs sont des comptes d'auditeur interne ou de responsable qualité."
        )
    return problems


def attachment_kind(content: bytes) -> str | None:
    """The kind of a file by its first bytes (pdf, png, jpeg); None for any other."""
    return next((kind for kind, magic in MAGIC.items() if content.startswith(magic)), None)


def next_statuses(current: str) -> tuple[Status, ...]:
    return NEXT.get(current, ())
