"""The quality cycle's records written through the real storage functions, for the tests of the
annual review and the evidence pack: internal audits with findings (and a file), mystery
evaluations, improvement actions carried out or proposed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sync_server.storage import Storage, audit, internal_audits, meetings, mystery, plan

PAIR = ("audit-one", "audit-two")
QUALITY = "qualite"
# A tiny PNG: its first bytes are what the server recognises a PNG by.
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def audit_with_findings(
    storage: Storage,
    service: str,
    day: date,
    verdicts: list[tuple[str, str]],
    *,
    status: str = "done",
    attachment: bytes | None = None,
) -> int:
    """An audit of `service` on `day` with one finding per (engagement, verdict), the first
    carrying `attachment` (a PNG) if given; moved to `status`; its planning in the audit trail.
    Its number."""
    with storage.write() as connection:
        audit_id = internal_audits.add(connection, service, day, PAIR, by=QUALITY, now=noon(day))
        details = {"service": service, "day": day.isoformat(), "auditors": list(PAIR)}
        audit.record(connection, audit.Actor("user", QUALITY, "quality_manager"),
                     "internal_audit.planned", str(audit_id), details, now=noon(day))  # fmt: skip
        found = internal_audits.get(connection, audit_id)
        assert found is not None
        for index, (engagement, verdict) in enumerate(verdicts):
            joined = ("png", attachment) if attachment and index == 0 else None
            internal_audits.record_finding(
                connection, found, engagement, verdict, f"Constat {engagement}", by=PAIR[0],
                title=f"Non-conformité {engagement} ({service})", attachment=joined,
                now=noon(day),
            )  # fmt: skip
        if status != "planned":
            internal_audits.move(connection, audit_id, "done", by=QUALITY, now=noon(day))
        if status == "report_issued":
            internal_audits.move(connection, audit_id, "report_issued", by=QUALITY, now=noon(day))
    return audit_id


def mystery_visit(storage: Storage, service: str, site: str, day: date, value: int) -> int:
    """A mystery visit of the desk answering every reception criterion with `value` (a yes/no
    criterion takes 1 for any value above 0)."""
    with storage.write() as connection:
        grid = [c for c in mystery.criteria(connection) if c.channel == "reception"]
        answers = [(c, min(value, c.top) if c.kind == "scale" else int(value > 0)) for c in grid]
        return mystery.record(
            connection, service=service, site=site, channel="reception", visited_on=day,
            evaluator="Visiteur mystère", comment="", answers=answers, by=QUALITY, now=noon(day),
        )  # fmt: skip


def action(
    storage: Storage,
    title: str,
    services: tuple[str, ...],
    *,
    indicator: str | None = "satisfaction_rate",
    origin: str = "indicator_miss",
    done_on: date | None = None,
    created_on: date | None = None,
) -> int:
    """An improvement action, proposed on `created_on`; carried out on `done_on` if given."""
    created = noon(created_on or date(2020, 1, 2))
    draft = plan.Draft(title=title, origin=origin, services=services, indicator=indicator)
    with storage.write() as connection:
        action_id = plan.propose(connection, draft, by=QUALITY, now=created)
        if done_on is not None:
            for step in ("validated", "in_progress", "done"):
                plan.move(connection, action_id, step, may_validate=True, by=QUALITY,
                          now=noon(done_on))  # fmt: skip
    return action_id


def held_meeting(storage: Storage, day: date, decision: str) -> int:
    """A monthly meeting held on `day`, its minutes closed with one decision; its number."""
    with storage.write() as connection:
        meeting_id = meetings.add(connection, day, by=QUALITY, now=noon(day))
        meetings.save_minutes(connection, meeting_id, day, "Qualité\nIRIS", "Point mensuel",
                              by=QUALITY, now=noon(day))  # fmt: skip
        meetings.add_decision(connection, meeting_id, decision, None, action=None, by=QUALITY,
                              now=noon(day))  # fmt: skip
        meetings.close(connection, meeting_id, by=QUALITY, now=noon(day))
    return meeting_id
