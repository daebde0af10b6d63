"""One alert check and the delivery of what it decides: e-mail (smtplib) and/or a webhook.

`check_alerts` is the one entry point: the server's background loop (`alert_loop`, started by
the app's lifespan) and `sync-server check-alerts` both call it. A delivery failure is recorded on
the alert and logged, never raised; the next check tries it again (once per check, so a receiver
that is down is not hammered), for up to a day after the alert's window.

Every server process runs the loop, and only one delivers at a time: the runner's lease
(`storage.leases`) outlasts the longest delivery and is renewed before each one. A runner that
dies mid-delivery leaves its lease to end; the next runner then tries the alert again with the
same delivery key (webhook payload and `Idempotency-Key` header, e-mail Message-ID), so the
receiver can tell the copy from a new alert.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from zoneinfo import ZoneInfo

import requests
from babel.numbers import format_decimal

from sync_server import i18n
from sync_server.alerts.rule import Alert, AlertRule, due_alerts, tally, window_at
from sync_server.settings import Settings
from sync_server.storage import Storage, leases, town
from sync_server.storage import alerts as alert_log

log = logging.getLogger(__name__)

# A failed alert is tried again at the next check, but not sooner than this, and not once its
# window is this old.
RETRY_AFTER = timedelta(seconds=30)
MAX_RETRY_AGE = timedelta(days=1)
WEBHOOK_EVENT = "qualivilles.unhappy_answers"
KEY_HEADER = "Idempotency-Key"
RUNNER = "alerts"  # the lease that makes one runner deliver at a time
# An SMTP delivery is at most these exchanges with the server, each bounded by the time-out:
# connection and greeting, EHLO, STARTTLS, EHLO again, AUTH, MAIL, DATA, end of data, QUIT; and
# one RCPT per recipient. A webhook's connection, request and answer are fewer.
SMTP_EXCHANGES = 9
LEASE_MARGIN = timedelta(seconds=30)


def delivery_lease(timeout_seconds: float, recipients: int) -> timedelta:
    """How long a runner's lease lasts: longer than one delivery can take, each exchange with
    the receiver bounded by `timeout_seconds`, so no other runner starts while one delivers."""
    exchanges = SMTP_EXCHANGES + max(recipients, 1)
    return timedelta(seconds=exchanges * timeout_seconds) + LEASE_MARGIN


class DeliveryError(Exception):
    """An alert could not be handed to its channel (server down, refused, misconfigured)."""


@dataclass(frozen=True)
class AlertMessage:
    subject: str
    body: str
    payload: dict[str, Any]
    key: str  # the alert's delivery key, the same on every try


@dataclass
class CheckReport:
    decided: list[Alert] = field(default_factory=list)
    delivered: int = 0
    failed: list[str] = field(default_factory=list)  # "channel site/service: error"


def rule_from(settings: Settings) -> AlertRule:
    return AlertRule(
        window=timedelta(minutes=settings.alert_window_minutes),
        min_answers=settings.alert_min_answers,
        threshold_percent=settings.alert_unhappy_percent,
    )


def service_url(settings: Settings, service: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/service/{service}"


def compose(
    alert: Alert, threshold_percent: float, names: dict[str, str], settings: Settings, key: str
) -> AlertMessage:
    """The message of an alert in `settings.alert_language` (French first): the desk, the
    window in the town's local time, the counts and a link to the service page; `key` is the
    alert's delivery key. Counts only: no comment, no answer, nothing about a person."""
    language = settings.alert_language
    _ = i18n.translations(language).gettext
    locale = i18n.BABEL_LOCALES[language]
    zone = ZoneInfo(settings.timezone)

    def local(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%d/%m/%Y %H:%M")

    def number(value: float) -> str:
        return format_decimal(value, format="#,##0.#", locale=locale)

    site = names.get(alert.site, alert.site)
    service = names.get(alert.service, alert.service)
    url = service_url(settings, alert.service)
    values = {
        "site": site,
        "service": service,
        "start": local(alert.window_start),
        "end": local(alert.window_end),
        "unhappy": alert.unhappy,
        "expressed": alert.expressed,
        "share": number(alert.share_percent),
        "threshold": number(threshold_percent),
        "min": settings.alert_min_answers,
        "minutes": settings.alert_window_minutes,
        "next": local(alert.window_end + (alert.window_end - alert.window_start)),
        "url": url,
    }
    subject = _("Alerte satisfaction : %(service)s – %(site)s") % values
    lines = [
        _(
            "Entre %(start)s et %(end)s (heure locale), %(unhappy)s des %(expressed)s réponses"
            " exprimées au guichet %(service)s – %(site)s sont mécontentes : %(share)s %%."
        )
        % values,
        "",
        _(
            "Seuil d'alerte : %(threshold)s %% de réponses mécontentes, sur au moins %(min)s"
            " réponses exprimées en %(minutes)s minutes. Les réponses « sans avis » et les"
            " appuis répétés suspects ne sont pas comptés."
        )
        % values,
        "",
        _("Résultats du service : %(url)s") % values,
        "",
        _("Pas d'autre alerte pour ce guichet avant %(next)s.") % values,
        _("Message automatique du serveur Qualivilles ; il ne contient aucune donnée personnelle."),
    ]
    body = "\n".join(lines) + "\n"
    payload = {
        "event": WEBHOOK_EVENT,
        "site": alert.site,
        "site_name": site,
        "service": alert.service,
        "service_name": service,
        "window_start": alert.window_start.isoformat(),
        "window_end": alert.window_end.isoformat(),
        "expressed": alert.expressed,
        "unhappy": alert.unhappy,
        "share_percent": round(alert.share_percent, 1),
        "threshold_percent": threshold_percent,
        "min_answers": settings.alert_min_answers,
        "url": url,
        "idempotency_key": key,
        # Chat tools' incoming webhooks (Mattermost, Rocket.Chat, Slack) post this as is.
        "text": f"{subject}\n{lines[0]}\n{lines[4]}",
    }
    return AlertMessage(subject=subject, body=body, payload=payload, key=key)


def send_mail(message: AlertMessage, settings: Settings) -> None:
    """Hand the message to the SMTP server (STARTTLS and login when configured)."""
    if not (settings.alert_smtp_host and settings.alert_mail_from):
        raise DeliveryError("e-mail alerts are not configured (QV_ALERT_SMTP_HOST)")
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = settings.alert_mail_from
    mail["To"] = ", ".join(settings.alert_mail_recipients)
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    domain = settings.alert_mail_from.rpartition("@")[2] or "localhost"
    # The same on every try: a mail client shows a copy sent after a lost answer only once.
    mail["Message-ID"] = f"<{message.key}@{domain}>"
    mail.set_content(message.body)
    try:
        with smtplib.SMTP(
            settings.alert_smtp_host,
            settings.alert_smtp_port,
            timeout=settings.alert_timeout_seconds,
        ) as smtp:
            if settings.alert_smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.alert_smtp_username:
                password = settings.alert_smtp_password
                smtp.login(
                    settings.alert_smtp_username,
                    password.get_secret_value() if password is not None else "",
                )
            smtp.send_message(mail)
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(f"SMTP {settings.alert_smtp_host}: {error}") from error


def post_webhook(message: AlertMessage, settings: Settings) -> None:
    """POST the JSON payload once; anything but a 2xx answer is a failure. The answer's body
    is not read: the status line is all that counts, and no receiver can drip it out."""
    if not settings.alert_webhook_url:
        raise DeliveryError("webhook alerts are not configured (QV_ALERT_WEBHOOK_URL)")
    try:
        response = requests.post(
            settings.alert_webhook_url,
            json=message.payload,
            headers={KEY_HEADER: message.key},
            timeout=settings.alert_timeout_seconds,
            allow_redirects=False,
            stream=True,
        )
        response.close()
    except requests.RequestException as error:
        raise DeliveryError(f"webhook: {type(error).__name__}") from error
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"webhook: HTTP {response.status_code}")


def deliver(record: alert_log.AlertRecord, names: dict[str, str], settings: Settings) -> None:
    message = compose(record.alert, record.threshold_percent, names, settings, record.delivery_key)
    if record.channel == "email":
        send_mail(message, settings)
    elif record.channel == "webhook":
        post_webhook(message, settings)
    else:  # pragma: no cover - the table's check constraint allows no other channel
        raise DeliveryError(f"unknown channel {record.channel}")


def check_alerts(storage: Storage, settings: Settings, now: datetime) -> CheckReport:
    """Decide the alerts due at `now`, record them, and deliver every undelivered one (new or
    failed before) unless another runner is delivering. Nothing happens while alerts are
    disabled. `sent_at` is the time of delivery: `now` plus the time the check has taken."""
    report = CheckReport()
    if not settings.alerts_enabled:
        return report
    started = time.monotonic()

    def moment() -> datetime:
        return now + timedelta(seconds=time.monotonic() - started)

    rule = rule_from(settings)
    start, end = window_at(now, rule)
    with storage.read() as connection:
        counts = tally(alert_log.window_levels(connection, start, end))
        last_ends = alert_log.last_window_ends(connection)
    decided = due_alerts(counts, rule, now, last_ends)
    if decided:
        with storage.write() as connection:
            report.decided = alert_log.record(
                connection, decided, settings.alert_channels, rule.threshold_percent, now
            )
    holder = uuid.uuid4().hex
    lease = delivery_lease(settings.alert_timeout_seconds, len(settings.alert_mail_recipients))
    names: dict[str, str] | None = None
    tried: list[int] = []
    try:
        while (record := _claim(storage, holder, lease, moment(), tried)) is not None:
            tried.append(record.id)
            names = names if names is not None else desk_names(storage)
            _deliver_one(storage, settings, record, names, moment, report)
    finally:
        with storage.write() as connection:
            leases.release(connection, RUNNER, holder)
    return report


def _claim(
    storage: Storage, holder: str, lease: timedelta, at: datetime, tried: list[int]
) -> alert_log.AlertRecord | None:
    """Renew the runner's lease and claim the next alert to try; None when there is none left,
    or while another runner holds the lease."""
    with storage.write() as connection:
        if not leases.take(connection, RUNNER, holder, at, lease):
            return None
        return alert_log.claim_next(
            connection, at, retry_after=RETRY_AFTER, max_age=MAX_RETRY_AGE, skip=tried
        )


def desk_names(storage: Storage) -> dict[str, str]:
    """The names of the sites and services, by slug."""
    names: dict[str, str] = {}
    with storage.read() as connection:
        desks = town.desks(connection)
    for desk in desks:
        names[desk.site.slug] = desk.site.name
        names[desk.service.slug] = desk.service.name
    return names


def _deliver_one(
    storage: Storage,
    settings: Settings,
    record: alert_log.AlertRecord,
    names: dict[str, str],
    moment: Callable[[], datetime],
    report: CheckReport,
) -> None:
    alert = record.alert
    try:
        deliver(record, names, settings)
    except DeliveryError as error:
        with storage.write() as connection:
            alert_log.mark_failed(connection, record.id, str(error))
        report.failed.append(f"{record.channel} {alert.site}/{alert.service}: {error}")
        log.warning(
            "alert %s for %s/%s not delivered (try %s): %s",
            record.channel,
            alert.site,
            alert.service,
            record.attempts + 1,
            error,
        )
    else:
        with storage.write() as connection:
            alert_log.mark_sent(connection, record.id, moment())
        report.delivered += 1


def alert_step(storage: Storage, settings: Settings, now: datetime) -> CheckReport | None:
    """One turn of the background loop: a check whose every failure is logged, never raised
    (a database or bug error must not stop the server or the next checks)."""
    try:
        return check_alerts(storage, settings, now)
    except Exception:
        log.exception("alert check failed")
        return None


async def alert_loop(storage: Storage, settings: Settings, stop: asyncio.Event) -> None:
    """Check now, then every `alert_check_seconds` until `stop` is set; a check under way
    (network time-outs bound it) finishes before the loop returns."""
    while True:
        await asyncio.to_thread(alert_step, storage, settings, datetime.now(UTC))
        try:
            await asyncio.wait_for(stop.wait(), timeout=settings.alert_check_seconds)
        except TimeoutError:
            continue
        return
