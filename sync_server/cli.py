"""`sync-server`: set-up and operations from the command line, a thin layer over `storage`.

Each command that changes what the dashboard or the devices rely on (town, devices, surveys,
accounts) puts an event in the audit trail in the same transaction, naming the operating
system's user who ran it."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from qualivilles.survey import load_definition
from sync_server.demo import command as demo_command
from sync_server.settings import Settings
from sync_server.storage import (
    Device,
    DeviceHealth,
    InvalidTown,
    Storage,
    StorageError,
    audit,
    devices,
    health,
    migrations,
    surveys,
    town,
    users,
)
from sync_server.storage.models import ROLES

Command = Callable[[argparse.Namespace, Settings, TextIO], int]


class CliError(Exception):
    """A problem the operator can fix; printed without a traceback, exit status 1."""


def open_storage(settings: Settings) -> Storage:
    """The storage, migrated first (one migration run at a time: `migrations.exclusive`)."""
    storage = Storage.from_url(settings.database_url, settings.timezone)
    migrations.upgrade(storage)
    return storage


def cmd_migrate(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    storage = Storage.from_url(settings.database_url, settings.timezone)
    try:
        applied = migrations.upgrade(storage)
    finally:
        storage.close()
    out.write(f"applied: {', '.join(applied)}\n" if applied else "database already up to date\n")
    return 0


def cmd_load_town(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    try:
        data = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise CliError(f"cannot read town file {args.file}: {error}") from None
    storage = open_storage(settings)
    try:
        with storage.write() as connection:
            town.load_town(connection, data)
            desks = town.desks(connection)
            name, details = town.town_name(connection), {"desks": len(desks)}
            audit.record(connection, audit.command_line(), "town.loaded", name, details)
        out.write(f"loaded {len(desks)} desks\n")
    except InvalidTown as error:
        raise CliError(f"town file {args.file}: {error}") from None
    finally:
        storage.close()
    return 0


def cmd_enrol_device(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    storage = open_storage(settings)
    try:
        with storage.write() as connection:
            code = devices.create(
                connection,
                site=args.site,
                service=args.service,
                name=args.name,
                mode=args.mode,
                ttl=timedelta(hours=settings.enrol_code_ttl_hours),
            )
            device = devices.get(connection, code.device_id)
            details = device_details(device) | {"mode": device.mode}
            audit.record(connection, audit.command_line(), "device.code_issued", device.id, details)
    finally:
        storage.close()
    out.write(f"device id: {code.device_id}\n")
    out.write(f"enrolment code: {code.code}\n")
    out.write(f"valid until: {code.expires_at:%Y-%m-%d %H:%M} UTC (one use)\n")
    return 0


def cmd_revoke_device(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    storage = open_storage(settings)
    try:
        with storage.write() as connection:
            was_revoked = devices.get(connection, args.device_id).revoked
            device = devices.revoke(connection, args.device_id)
            if not was_revoked:
                details = device_details(device)
                audit.record(connection, audit.command_line(), "device.revoked", device.id, details)
    finally:
        storage.close()
    out.write(f"revoked {device.id} ({device.name}) at {device.revoked_at:%Y-%m-%d %H:%M} UTC\n")
    return 0


def device_details(device: Device) -> dict[str, object]:
    """What names a device in its audit events (never its code or token)."""
    return {"site": device.site, "service": device.service, "name": device.name}


def _ago(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "never"
    minutes = int((now - value).total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // (24 * 60)} d ago"


def fleet_rows(fleet: list[DeviceHealth], now: datetime) -> list[list[str]]:
    """The `devices` table: one line per device, flags in words so nothing hides in a colour."""
    rows = [["ID", "NAME", "DESK", "LAST SEEN", "BACKLOG", "OFFSET", "CLOCK", "STATE", "CONFLICTS"]]
    for item in fleet:
        device = item.device
        offset = device.clock_offset_ms
        state = "revoked" if device.revoked else "not enrolled" if not device.enrolled_at else ""
        if item.silent:
            state = "silent"
        rows.append(
            [
                device.id,
                device.name,
                f"{device.site}/{device.service}",
                _ago(device.last_seen_at, now),
                "-" if item.status is None else str(item.status.backlog),
                "-" if offset is None else f"{offset / 1000:+.0f} s",
                "drifting" if device.drifting else "ok",
                state or "ok",
                str(item.quarantine.count),
            ]
        )
    return rows


def cmd_devices(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    storage = open_storage(settings)
    now = datetime.now(UTC)
    try:
        with storage.read() as connection:
            fleet = health.fleet(connection, now, timedelta(hours=settings.silent_after_hours))
    finally:
        storage.close()
    rows = fleet_rows(fleet, now)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        out.write("  ".join(cells).rstrip() + "\n")
    return 0


def cmd_publish_survey(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    try:
        survey = load_definition(Path(args.file))
    except OSError as error:
        raise CliError(f"cannot read survey file {args.file}: {error}") from None
    storage = open_storage(settings)
    try:
        with storage.write() as connection:
            before = surveys.current_key(connection)
            new = surveys.publish(connection, survey)
            if new:
                current = audit.change(
                    audit.survey_name(before), audit.survey_name(surveys.current_key(connection))
                )
                named = audit.survey_name((survey.id, survey.version))
                details = {"current": current}
                audit.record(connection, audit.command_line(), "survey.published", named, details)
    finally:
        storage.close()
    state = "published" if new else "already published, unchanged:"
    out.write(f"{state} {survey.id} v{survey.version}\n")
    return 0


def read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("password: ")
    if getpass.getpass("again: ") != password:
        raise CliError("the two passwords differ")
    return password


# What each broken account rule (`users.InvalidAccount.code`) tells the operator.
ACCOUNT_ERRORS = {
    "username_empty": "the user name is empty",
    "username_invalid": "a user name holds only letters without accents, digits and . _ @ -"
    f" (at most {users.MAX_USERNAME_LENGTH} characters)",
    "role": "unknown role",
    "service_unknown": "unknown service (load the town file first)",
    "services_missing": "a service manager needs at least one --service",
    "password_short": f"a password needs at least {users.MIN_PASSWORD_LENGTH} characters",
    "password_long": f"a password has at most {users.MAX_PASSWORD_LENGTH} characters",
    "password_weak": "this password is too easy to guess (a common word, a sequence, a date,"
    " the town's or the user's name); a phrase of several unrelated words is better",
}


def cmd_create_user(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    password = read_password(args)
    storage = open_storage(settings)
    try:
        with storage.write() as connection:
            account = users.create_account(
                connection,
                username=args.username,
                password=password,
                role=args.role,
                services=args.service or [],
            )
            details = {"role": account.role, "services": list(account.services)}
            audit.record(
                connection, audit.command_line(), "account.created", account.username, details
            )
    except users.InvalidAccount as error:
        raise CliError(ACCOUNT_ERRORS.get(error.code, str(error))) from None
    finally:
        storage.close()
    out.write(f"created {account.username} ({account.role})\n")
    return 0


APP_FACTORY = "sync_server.app:app_from_environment"


def cmd_serve(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    import uvicorn

    from sync_server import access_log
    from sync_server.app import UVICORN_OPTIONS

    settings.require_secure()
    if args.workers < 1:
        raise CliError("--workers needs at least one process")
    storage = Storage.from_url(settings.database_url, settings.timezone)
    try:
        migrations.require_current(storage.engine)
    except migrations.SchemaOutOfDate as error:
        raise CliError(str(error)) from None
    finally:
        storage.close()
    # Each process (one per worker) builds the app from the environment, as uvicorn's own
    # --factory would: the database named on the command line goes there too.
    os.environ["QV_DATABASE_URL"] = settings.database_url
    out.write(f"serving on http://{args.host}:{args.port} ({args.workers} process(es))\n")
    out.flush()
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        log_config=access_log.log_config(),
        **UVICORN_OPTIONS,
    )
    return 0


def cmd_check_alerts(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from sync_server.alerts.delivery import check_alerts

    if not settings.alerts_enabled:
        out.write("alerts are disabled (set QV_ALERTS_ENABLED=true and a channel)\n")
        return 0
    storage = open_storage(settings)
    try:
        report = check_alerts(storage, settings, datetime.now(UTC))
    finally:
        storage.close()
    for alert in report.decided:
        out.write(
            f"alert: {alert.site}/{alert.service} {alert.unhappy} unhappy"
            f" of {alert.expressed} answers\n"
        )
    out.write(f"delivered: {report.delivered}, failed: {len(report.failed)}\n")
    for failure in report.failed:
        out.write(f"not delivered: {failure}\n")
    # A failure is retried at the next check; a non-zero status lets a timer unit show it.
    return 1 if report.failed else 0


def cmd_purge(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from sync_server.retention import policy_of
    from sync_server.storage.retention import purge

    now = datetime.now(UTC)
    storage = open_storage(settings)
    try:
        done = purge(
            storage, now, policy_of(settings), dry_run=args.dry_run, actor=audit.command_line()
        )
    finally:
        storage.close()
    kept = (
        f"free texts {settings.free_text_retention_months} months,"
        f" heartbeats {settings.heartbeat_retention_days} days,"
        f" contact details {settings.contact_details_retention_days} days after closure"
    )
    if args.dry_run:
        out.write(f"dry run at {now:%Y-%m-%d %H:%M} UTC ({kept}), nothing changed; due:\n")
    else:
        out.write(f"purged at {now:%Y-%m-%d %H:%M} UTC ({kept}):\n")
    for kind, count in done.counts():
        out.write(f"{kind}: {count}\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sync-server", description=__doc__)
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL (default: QV_DATABASE_URL or sqlite:///qualivilles.db)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser(
        "migrate",
        aliases=["init-db"],
        help="create or upgrade the database (one run at a time; before starting servers)",
    ).set_defaults(run=cmd_migrate)

    load_town = sub.add_parser("load-town", help="load sites, services and desks from a town file")
    load_town.add_argument("file", help="JSON file shaped like assets/demo/town.json")
    load_town.set_defaults(run=cmd_load_town)

    enrol = sub.add_parser("enrol-device", help="register a device; prints its one-time code")
    enrol.add_argument("--site", required=True)
    enrol.add_argument("--service", required=True)
    enrol.add_argument("--name")
    enrol.add_argument("--mode", choices=["kiosk", "tablet"], default="kiosk")
    enrol.set_defaults(run=cmd_enrol_device)

    revoke = sub.add_parser("revoke-device", help="refuse a device's uploads from now on")
    revoke.add_argument("device_id", metavar="ID")
    revoke.set_defaults(run=cmd_revoke_device)

    publish = sub.add_parser(
        "publish-survey", help="publish a survey version (a published version never changes)"
    )
    publish.add_argument("file", help="JSON survey definition shaped like assets/surveys/*.json")
    publish.set_defaults(run=cmd_publish_survey)

    fleet = sub.add_parser(
        "devices", help="list the fleet: last seen, backlog, clock, state, conflicts"
    )
    fleet.set_defaults(run=cmd_devices)

    purge = sub.add_parser(
        "purge", help="remove what is past its retention period (texts emptied, counts kept)"
    )
    purge.add_argument("--dry-run", action="store_true", help="count what is due, change nothing")
    purge.set_defaults(run=cmd_purge)

    user = sub.add_parser("create-user", help="create a dashboard user")
    user.add_argument("--username", required=True)
    user.add_argument("--role", required=True, choices=list(ROLES))
    user.add_argument("--service", action="append", help="a service this user sees (repeatable)")
    user.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    user.set_defaults(run=cmd_create_user)

    alerts = sub.add_parser(
        "check-alerts", help="check the unhappy-answers alerts once and send what is due"
    )
    alerts.set_defaults(run=cmd_check_alerts)

    serve = sub.add_parser("serve", help="run the server (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers", type=int, default=1, help="server processes on this port (default 1)"
    )
    serve.set_defaults(run=cmd_serve)

    demo_command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    stream = out or sys.stdout
    try:
        overrides = {"database_url": args.database_url} if args.database_url else {}
        settings = Settings(**overrides)
        return int(args.run(args, settings, stream) or 0)
    except (CliError, StorageError, ValueError) as error:
        sys.stderr.write(f"sync-server: error: {error}\n")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
