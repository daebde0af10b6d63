"""What the staff screen shows, read from the store in one go, and how it is worded. No Kivy.

`staff_status(store, desk)` gathers the facts into a plain `StaffStatus`; the small `*_text`
functions turn them into French (or English) for a reception agent or the IT administrator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from kiosk.core.i18n import translate
from kiosk.core.staff_access import PinOrigin, pin_origin
from kiosk.core.store import KioskStore
from kiosk.core.sync import SyncReport
from kiosk.core.sync_client import APP_VERSION
from kiosk.core.visitor import DeskConfig
from qualivilles.device_config import DeviceConfig

PARIS = ZoneInfo("Europe/Paris")
# Below this, a measured offset is network noise: the clock is right.
ON_TIME_MS = 2_000

# French wording for the sync error codes a kiosk meets (kiosk.core.sync, sync_client, the
# server's problem codes). Unknown codes fall back to a generic sentence with the code.
ERROR_TEXTS = {
    "server_unreachable": "Serveur injoignable : pas de réseau ou serveur arrêté.",
    "server_timeout": "Le serveur ne répond pas à temps.",
    "connection_lost": "Connexion au serveur interrompue.",
    "server_error": "Le serveur a rencontré une erreur.",
    "invalid_acknowledgement": "Réponse inattendue (portail Wi-Fi ou proxy ?).",
    "device_revoked": "Borne révoquée sur le serveur : à réinscrire.",
    "invalid_token": "Jeton de la borne refusé : à réinscrire.",
    "missing_token": "Jeton de la borne refusé : à réinscrire.",
    "auth_rejected": "Borne non autorisée par le serveur.",
    "request_rejected": "Le serveur a refusé la demande.",
    "store_full": "Disque plein : les nouvelles réponses ne peuvent plus être enregistrées.",
    "not_enrolled": "Borne pas encore inscrite auprès du serveur.",
    "internal_error": "Erreur interne de synchronisation.",
}


@dataclass(frozen=True)
class StaffStatus:
    """A snapshot for the staff screen; every value is already read, nothing is lazy."""

    device_id: str | None  # None before enrolment
    device_name: str  # as named on the server; "" when it has no name yet
    mode: str  # "kiosk" or "tablet"
    site: str
    service: str
    server_url: str | None
    survey_id: str | None  # None on a tablet: it shows no survey
    survey_version: int | None
    backlog: int  # records waiting to be sent
    held: int  # records the server refused (conflict or rejected), kept on the device
    last_sync_at: datetime | None
    last_attempt_at: datetime | None
    last_error_code: str | None
    last_error: str | None  # the raw message, for the IT administrator
    clock_offset_ms: int | None  # server minus device: positive, the kiosk is late
    app_version: str
    pin_origin: PinOrigin
    now: datetime  # when this snapshot was taken (device wall clock)


def _received_config(store: KioskStore) -> DeviceConfig:
    """The last configuration received; an empty one if none came yet or it is unusable."""
    cached = store.cached_config()
    try:
        return cached.parsed() if cached else DeviceConfig()
    except ValueError:
        return DeviceConfig()


def staff_status(store: KioskStore, desk: DeskConfig | None = None) -> StaffStatus:
    """Read everything the staff screen shows from `store` and the configuration in force
    (`desk`: the kiosk's survey; None on a tablet)."""
    credentials = store.credentials()
    sync = store.sync_status()
    config = _received_config(store)
    return StaffStatus(
        device_id=credentials.device_id if credentials else None,
        device_name=config.device.name or (credentials.device_name if credentials else ""),
        mode=credentials.mode if credentials else "kiosk",
        site=config.site.name or (credentials.site if credentials else ""),
        service=config.service.name or (credentials.service if credentials else ""),
        server_url=credentials.server_url if credentials else None,
        survey_id=desk.survey.id if desk else None,
        survey_version=desk.survey.version if desk else None,
        backlog=store.backlog(),
        held=store.held_count(),
        last_sync_at=sync.last_sync_at,
        last_attempt_at=sync.last_attempt_at,
        last_error_code=sync.last_error_code,
        last_error=sync.last_error,
        clock_offset_ms=sync.clock_offset_ms,
        app_version=APP_VERSION,
        pin_origin=pin_origin(store),
        now=store.clock.now(),
    )


def error_text(code: str | None, language: str) -> str:
    """The last sync error in plain words, with its code; "" when the last sync went through."""
    if not code:
        return ""
    french = ERROR_TEXTS.get(code)
    if french is None:
        return translate("Erreur de synchronisation ({code}).", language, code=code)
    return f"{translate(french, language)} ({code})"  # the code, for a call to support


def _duration(seconds: int) -> str:
    """45 s, 12 min, 1 h 02 min, 3 j 04 h: two units at most, zero-padded second unit."""
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} j {hours:02d} h"


def offset_text(offset_ms: int | None, language: str) -> str:
    """ "+1 h 02 min (la borne retarde)", "à l'heure", or "inconnu" before any exchange."""
    if offset_ms is None:
        return translate("inconnu (pas encore d'échange avec le serveur)", language)
    if abs(offset_ms) < ON_TIME_MS:
        return translate("à l'heure", language)
    size = _duration(round(abs(offset_ms) / 1000))
    if offset_ms > 0:
        return translate("+{duration} (la borne retarde)", language, duration=size)
    return translate("−{duration} (la borne avance)", language, duration=size)


def time_text(moment: datetime | None, now: datetime, language: str) -> str:
    """ "12/10/2026 14:02 (il y a 5 min)" in Paris time, or "jamais"."""
    if moment is None:
        return translate("jamais", language)
    local = moment.astimezone(PARIS)
    stamp = (
        local.strftime("%d/%m/%Y %H:%M") if language == "fr" else local.strftime("%Y-%m-%d %H:%M")
    )
    age = round((now - moment).total_seconds())
    if age < 0:
        return stamp
    return translate("{stamp} (il y a {duration})", language, stamp=stamp, duration=_duration(age))


def sync_outcome_text(report: SyncReport, language: str) -> str:
    """What a sync pass did, for staff who asked for one: "Synchronisé à 10:42, 0 en attente",
    or its error in plain words."""
    at = report.finished_at.astimezone(PARIS).strftime("%H:%M")
    if report.ok:
        return translate(
            "Synchronisé à {time}, {n} en attente", language, time=at, n=report.backlog
        )
    error = error_text(report.error_code or report.error_kind or "internal_error", language)
    return translate(
        "Échec de la synchronisation à {time} : {error}", language, time=at, error=error
    )
