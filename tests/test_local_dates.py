"""Dates and times on the staff pages are the town's (Europe/Paris here), day first, with no
"UTC" label: every moment stored at 23:30 UTC on 1 December reads 02/12 (00:30 in Paris).
The `local` filter is the only way a template shows one; `.strftime` in a template fails."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from jinja2.exceptions import SecurityError

from sync_server.storage import (
    Source,
    api_tokens,
    audit,
    devices,
    quality,
    schema,
    uploads,
    users,
)
from sync_server.web import dates
from sync_server.web.templating import TEMPLATES_DIR, environment
from tests.fixtures.server import (
    PASSWORD,
    SERVICE,
    SITE,
    add_user,
    answer_payload,
    make_record,
    set_target,
)
from tests.tools.desk_records import answers
from tests.tools.page_text import text
from tests.tools.staff_forms import sign_in

PARIS = ZoneInfo("Europe/Paris")
YEAR = datetime.now(UTC).year - 1  # a past year: the annual review shows it
LATE = datetime(YEAR, 12, 1, 23, 30, tzinfo=UTC)  # 02/12 at 00:30 in Paris
DAY, MINUTE = f"02/12/{YEAR}", f"02/12/{YEAR} 00:30"
WRONG_DAY = f"01/12/{YEAR}"


def row(html: str, attribute: str, value: str) -> str:
    """The `<tr>` or `<li>` carrying `attribute="value"`, as text."""
    found = re.search(rf'<(tr|li)[^>]*{attribute}="{re.escape(value)}"[^>]*>(.*?)</\1>', html, re.S)
    assert found, f"no element with {attribute}={value!r}"
    return text(found.group(2))


@pytest.fixture
def late_town(app_server):
    """Everything a staff page dates, stored at 23:30 UTC on 1 December."""
    storage = app_server.storage
    add_user(storage, "informatique", "admin")
    with storage.write() as connection:
        users.create(connection, username="qualite", password=PASSWORD,
                     role="quality_manager", now=LATE)  # fmt: skip
        users.create(connection, username="ancien", password=PASSWORD,
                     role="service_manager", services=[SERVICE], now=LATE)  # fmt: skip
        users.set_password(connection, "ancien", PASSWORD + " bis", now=LATE)
        users.set_disabled(connection, "ancien", True, now=LATE)
        device = devices.create(connection, site=SITE, service=SERVICE, name="Borne hall", now=LATE)
        devices.seen(connection, device.device_id, now=LATE, app_version="1.0",
                     clock_offset_ms=0, max_drift_ms=60_000)  # fmt: skip
        used = api_tokens.create(connection, username="qualite", label="Excel", now=LATE)
        api_tokens.mark_used(connection, used.token.id, now=LATE)
        revoked = api_tokens.create(connection, username="qualite", label="Ancien", now=LATE)
        api_tokens.revoke(connection, "qualite", revoked.token.id, now=LATE)
        quality.record_action(connection, year=YEAR, service=SERVICE,
                              indicator="satisfaction_rate", action="Second agent le samedi",
                              by="qualite", now=LATE)  # fmt: skip
        audit.record(connection, audit.command_line(), "device.revoked", device.device_id,
                     now=LATE)  # fmt: skip
        connection.execute(schema.surveys.update().values(published_at=LATE))
    # Below the 95 % target over the year (9 of 10), so the review lists the action.
    answers(storage, ["satisfied"] * 9 + ["dissatisfied"], datetime(YEAR, 6, 10, 9, tzinfo=UTC))
    set_target(storage, "satisfaction_rate", SERVICE, 95, date(YEAR, 1, 1))
    comment = make_record(answer_payload(comment="Très bon accueil"), at=LATE)
    uploads.store_batch(storage, [comment], Source(SITE, SERVICE, "kiosk"), received_at=LATE)
    return app_server


def test_the_fleet_shows_the_last_contact_in_the_towns_time(late_town):
    page = sign_in(late_town, "informatique").get("/fleet").text
    with late_town.storage.read() as connection:
        [device] = devices.all_devices(connection)
    assert MINUTE in row(page, "data-device", device.id)
    assert "UTC" not in text(page)


def test_the_accounts_list_and_an_account_page_date_in_the_towns_time(late_town):
    session = sign_in(late_town, "informatique")
    listing = session.get("/admin/users").text
    assert row(listing, "data-user", "qualite").count(DAY) == 1  # created
    assert row(listing, "data-user", "ancien").count(DAY) == 2  # created, disabled
    assert WRONG_DAY not in listing
    account = text(session.get("/admin/users/edit?username=ancien").text)
    assert f"Désactivé le {DAY}" in account
    assert f"mot de passe changé le {DAY}" in account
    assert WRONG_DAY not in account


def test_the_annual_review_dates_an_improvement_action_in_the_towns_time(late_town):
    page = sign_in(late_town, "qualite").get(f"/review?year={YEAR}").text
    assert f"(qualite, {DAY})" in row(page, "data-indicator", "satisfaction_rate")
    assert WRONG_DAY not in page


def test_the_api_tokens_page_shows_local_times_without_a_utc_label(late_town):
    page = text(sign_in(late_town, "qualite").get("/account/tokens").text)
    assert page.count(MINUTE) == 3  # two created, one last used
    assert f"Révoqué le {DAY}" in page
    assert "UTC" not in page
    assert WRONG_DAY not in page


def test_the_register_and_the_service_page_date_a_comment_in_the_towns_time(late_town):
    session = sign_in(late_town, "qualite")
    register = text(session.get("/comments").text)
    assert f"Reçu le {DAY}" in register
    assert WRONG_DAY not in register
    service = text(session.get(f"/service/{SERVICE}?kind=month&period={YEAR}-12").text)
    assert DAY in service  # the comment's day (its text is past its retention)
    assert WRONG_DAY not in service


def test_the_audit_page_and_its_filter_are_in_the_towns_time(late_town):
    session = sign_in(late_town, "informatique")
    on_the_2nd = text(session.get(f"/audit?from={YEAR}-12-02&to={YEAR}-12-02").text)
    assert f"{MINUTE}:00" in on_the_2nd
    on_the_1st = text(session.get(f"/audit?from={YEAR}-12-01&to={YEAR}-12-01").text)
    assert f"{MINUTE}:00" not in on_the_1st


def test_published_surveys_are_dated_in_the_towns_time(late_town):
    page = text(sign_in(late_town, "informatique").get("/admin/surveys").text)
    assert DAY in page
    assert WRONG_DAY not in page


def test_a_notice_of_a_new_quality_manager_tells_the_towns_day_and_hour(app_server):
    late = datetime.combine(datetime.now(UTC).date() - timedelta(days=2), time(23, 30), UTC)
    add_user(app_server.storage, "qualite", "quality_manager")
    with app_server.storage.write() as connection:
        audit.record(connection, audit.command_line(), "account.created", "nouvelle",
                     {"role": "quality_manager"}, now=late)  # fmt: skip
    page = text(sign_in(app_server, "qualite").get("/").text)
    local = late.astimezone(PARIS)
    assert f"le {local:%d/%m/%Y} à {local:%H:%M}" in page
    assert local.date() != late.date()


# -- the rule itself ---------------------------------------------------------------------------


def test_shown_converts_a_moment_and_leaves_a_calendar_day_alone():
    assert dates.shown(LATE, PARIS) == MINUTE
    assert dates.shown(LATE, PARIS, "date") == DAY
    assert dates.shown(LATE, PARIS, "second") == f"{MINUTE}:00"
    assert dates.shown(LATE, PARIS, "time") == "00:30"
    summer = datetime(YEAR, 7, 1, 22, 15, tzinfo=UTC)  # summer time: UTC+2
    assert dates.shown(summer, PARIS) == f"02/07/{YEAR} 00:15"
    assert dates.shown(date(YEAR, 12, 1), PARIS, "date") == f"01/12/{YEAR}"
    with pytest.raises(ValueError, match="naive"):
        dates.shown(LATE.replace(tzinfo=None), PARIS)
    with pytest.raises(ValueError, match="no time"):
        dates.shown(date(YEAR, 12, 1), PARIS, "minute")


def test_no_template_formats_a_date_itself():
    templates = sorted(Path(TEMPLATES_DIR).glob("*.html"))
    assert templates
    for template in templates:
        source = template.read_text("utf-8")
        assert ".strftime(" not in source, template.name
        assert ".astimezone(" not in source, template.name
        assert not re.search(r"\}\}\s*UTC", source), template.name


def test_a_template_cannot_print_a_raw_date():
    env = environment("fr")
    with pytest.raises(SecurityError):
        env.from_string('{{ at.strftime("%d/%m/%Y") }}').render(at=LATE)
    with pytest.raises(SecurityError):
        env.from_string("{{ at.astimezone(zone) }}").render(at=LATE, zone=PARIS)
    # Without the town's zone, `local` fails rather than fall back to UTC.
    with pytest.raises(KeyError):
        env.from_string("{{ at|local }}").render(at=LATE)
    assert env.from_string("{{ at|local }}").render(at=LATE, town_zone=PARIS) == MINUTE
