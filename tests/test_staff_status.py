"""`staff_status` read from a real store file, and how the staff screen words it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kiosk.core.clock import ManualClock
from kiosk.core.device_state import CachedConfig, Credentials, SyncStatus
from kiosk.core.i18n import untranslated
from kiosk.core.staff_access import PinOrigin, save_local_pin
from kiosk.core.staff_status import (
    ERROR_TEXTS,
    error_text,
    offset_text,
    staff_status,
    time_text,
)
from kiosk.core.store import KioskStore
from kiosk.core.sync_client import APP_VERSION
from kiosk.core.visitor import DeskConfig, VisitorSession
from qualivilles.bundled import load_default_survey
from qualivilles.protocol import Ack, AckStatus

NOW = datetime(2026, 10, 14, 12, 30, tzinfo=UTC)


@pytest.fixture
def clock():
    return ManualClock(NOW)


@pytest.fixture
def store(tmp_path, clock):
    with KioskStore(tmp_path / "kiosk.db", clock) as opened:
        yield opened


@pytest.fixture
def desk():
    return DeskConfig(survey=load_default_survey())


def _answer(store, clock, desk, choice="satisfied"):
    session = VisitorSession(store, clock, desk)
    session.tap_main(choice, "fr")
    session.finish()
    clock.advance(10)
    return session.response_id


def test_a_fresh_kiosk_is_not_enrolled_has_nothing_to_send_and_uses_the_development_pin(
    store, desk
):
    status = staff_status(store, desk)
    assert (status.device_id, status.server_url, status.site, status.service) == (
        None,
        None,
        "",
        "",
    )
    assert (status.backlog, status.held) == (0, 0)
    assert (status.last_sync_at, status.last_error_code, status.clock_offset_ms) == (
        None,
        None,
        None,
    )
    assert (status.survey_id, status.survey_version) == (desk.survey.id, desk.survey.version)
    assert status.app_version == APP_VERSION
    assert status.pin_origin is PinOrigin.DEVELOPMENT
    assert status.now == NOW


def test_an_enrolled_kiosk_after_a_failed_sync_shows_backlog_held_and_the_error(store, clock, desk):
    store.save_credentials(
        Credentials(
            server_url="https://avis.example.fr",
            device_id="dev-7",
            token="t",
            site="mairie",
            service="etat-civil",
        )
    )
    store.save_config(
        CachedConfig({"site": {"name": "Hôtel de ville"}, "service": {"name": "État civil"}}, None)
    )
    save_local_pin(store, "4821")
    first = _answer(store, clock, desk)
    _answer(store, clock, desk)
    _answer(store, clock, desk, "dissatisfied")
    store.apply_acks([Ack(id=first, status=AckStatus.CONFLICT, code="payload_mismatch")])
    store.save_sync_status(
        SyncStatus(
            last_sync_at=NOW - timedelta(hours=3),
            last_error="connect failed",
            last_error_code="server_unreachable",
            clock_offset_ms=-90_000,
            consecutive_failures=2,
        )
    )
    status = staff_status(store, desk)
    assert (status.device_id, status.server_url) == ("dev-7", "https://avis.example.fr")
    assert (status.site, status.service) == ("Hôtel de ville", "État civil")
    assert (status.backlog, status.held) == (2, 1)
    assert status.last_sync_at == NOW - timedelta(hours=3)
    assert (status.last_error_code, status.last_error) == ("server_unreachable", "connect failed")
    assert status.clock_offset_ms == -90_000
    assert status.pin_origin is PinOrigin.LOCAL


def test_site_and_service_ids_are_shown_until_a_configuration_names_them(store, desk):
    store.save_credentials(
        Credentials(server_url="http://s", device_id="d", token="t", site="mairie", service="ccas")
    )
    status = staff_status(store, desk)
    assert (status.site, status.service) == ("mairie", "ccas")


@pytest.mark.parametrize(
    ("offset_ms", "french", "english"),
    [
        (
            None,
            "inconnu (pas encore d'échange avec le serveur)",
            "unknown (no exchange with the server yet)",
        ),
        (0, "à l'heure", "on time"),
        (-1_999, "à l'heure", "on time"),
        (45_000, "+45 s (la borne retarde)", "+45 s (the kiosk is slow)"),
        (-12 * 60_000, "−12 min (la borne avance)", "−12 min (the kiosk is fast)"),
        ((62 * 60 + 4) * 1000, "+1 h 02 min (la borne retarde)", "+1 h 02 min (the kiosk is slow)"),
        (
            -3 * 86_400_000 - 4 * 3_600_000,
            "−3 j 04 h (la borne avance)",
            "−3 j 04 h (the kiosk is fast)",
        ),
    ],
)
def test_the_clock_offset_reads_as_a_duration_and_a_direction(offset_ms, french, english):
    assert offset_text(offset_ms, "fr") == french
    assert offset_text(offset_ms, "en") == english


def test_times_are_shown_in_paris_time_with_their_age():
    last = datetime(2026, 10, 14, 10, 25, tzinfo=UTC)
    assert time_text(last, NOW, "fr") == "14/10/2026 12:25 (il y a 2 h 05 min)"
    assert time_text(last, NOW, "en") == "2026-10-14 12:25 (2 h 05 min ago)"
    assert time_text(None, NOW, "fr") == "jamais"
    assert time_text(NOW + timedelta(minutes=5), NOW, "fr") == "14/10/2026 14:35"  # clock set back


def test_known_error_codes_read_as_plain_french_with_the_code_for_support():
    assert error_text(None, "fr") == ""
    assert error_text("store_full", "fr") == (
        "Disque plein : les nouvelles réponses ne peuvent plus être enregistrées. (store_full)"
    )
    assert error_text("device_revoked", "en") == (
        "Kiosk revoked on the server: enrol it again. (device_revoked)"
    )
    assert error_text("teapot", "fr") == "Erreur de synchronisation (teapot)."


def test_every_error_text_has_english():
    assert untranslated("en", list(ERROR_TEXTS.values())) == []
