"""The audit trail on the real app in-process (temp SQLite): staff sign in through the real form
and post the real forms; each change, sign-in and download leaves one event saying who, what and
when. Every staff form of the app and every command that changes something is walked, so a new
one that records nothing fails here. Quality managers are told of a new quality manager on their
overview; the audit page is the administrators' and quality managers' only."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi import routing

from qualivilles.bundled import bundled_surveys
from sync_server import cli, i18n
from sync_server.indicators.periods import containing
from sync_server.storage import Storage, audit, quality, surveys
from sync_server.storage.audit import AuditEvent
from sync_server.storage.devices import secret_hash
from sync_server.storage.surveys import definition_json
from sync_server.web import audit_text
from sync_server.web.pages.audit import CSV_HEADERS
from tests.fixtures.server import PASSWORD, SERVICE, SITE, TOWN_FILE, add_user, bearer
from tests.fixtures.web import form_token
from tests.tools.desk_records import answers
from tests.tools.page_text import text
from tests.tools.phone_survey import send_contact, thanks_page
from tests.tools.staff_forms import change_own_password, login_status, post, sign_in

ADMIN, MANAGER, OTHER_MANAGER, CHEF = "informatique", "qualite", "qualite-adjointe", "chef-iris"
NOW = datetime.now(UTC)
LAST_MONTH = containing("month", NOW.date()).previous()
COMMENT = "Merci à Mme Dupont, dossier 123 456 789"
SECRET = re.compile(r"<code[^>]*data-secret>([^<]+)</code>")
GENERATED = re.compile(r"<code class=\"secret\" data-password>([^<]+)</code>")


@pytest.fixture
def town(app_server):
    storage = app_server.storage
    add_user(storage, ADMIN, "admin")
    add_user(storage, MANAGER, "quality_manager")
    add_user(storage, OTHER_MANAGER, "quality_manager")
    add_user(storage, CHEF, "service_manager", [SERVICE])
    at = datetime.combine(LAST_MONTH.start, datetime.min.time(), tzinfo=UTC) + timedelta(days=3)
    answers(storage, ["satisfied"] * 6, at)
    answers(storage, ["dissatisfied"], at + timedelta(hours=1), comment=COMMENT)
    return app_server


def events(server, action: str | None = None) -> list[AuditEvent]:
    """Every event, newest first (of one action if named)."""
    with server.storage.read() as connection:
        found = audit.events(connection, limit=100_000)
    return [event for event in found if action is None or event.action == action]


def latest(server, action: str) -> AuditEvent:
    found = events(server, action)
    assert found, f"no {action} event"
    return found[0]


def recent(event: AuditEvent) -> bool:
    return abs(datetime.now(UTC) - event.at) < timedelta(minutes=1)


def comment_id(server) -> int:
    with server.storage.read() as connection:
        return next(e.id for e in quality.register(connection) if e.text)


def new_token(server, session, label: str = "Power BI qualité") -> tuple[int, str]:
    response = post(server, session, "/account/tokens", {"label": label}, page="/account/tokens")
    assert response.status_code == 200, response.text
    secret = SECRET.search(response.text).group(1)
    token_id = int(re.search(r'name="token" value="(\d+)"', response.text).group(1))
    return token_id, secret


def town_survey(version: int = 1) -> bytes:
    data = {**definition_json(bundled_surveys()[-1]), "id": "accueil-ville"}
    return json.dumps({**data, "version": version}).encode("utf-8")


def upload(server, session, body: bytes):
    token = form_token(session.get(f"{server.url}/admin/surveys").text)
    return session.post(
        f"{server.url}/admin/surveys/upload",
        data={"csrf_token": token},
        files={"definition": ("accueil-ville.json", body, "application/json")},
        follow_redirects=False,
    )


# -- accounts and the quality managers' notice -----------------------------------------------


def test_a_new_quality_manager_is_recorded_and_told_to_the_other_quality_managers(town):
    admin = sign_in(town, ADMIN)
    created = post(
        town,
        admin,
        "/admin/users/create",
        {
            "username": "m.martin",
            "role": "quality_manager",
            "password": "une phrase assez longue pour passer",
        },
        page="/admin/users",
    )
    assert created.status_code == 303
    event = latest(town, "account.created")
    assert event.actor == audit.Actor("user", ADMIN, "admin")
    assert event.object == "m.martin"
    assert event.details == {"role": "quality_manager", "services": [], "generated": False}
    assert recent(event)

    manager = sign_in(town, MANAGER)
    overview = manager.get(f"{town.url}/").text
    notice = re.search(r"<section[^>]*data-notices>.*?</section>", overview, re.S)
    assert notice, "no notice on the other quality manager's overview"
    local = event.at.astimezone(town.storage.zone)
    assert (
        f"Le compte « m.martin » a été créé avec le rôle de responsable qualité par informatique"
        f" (Administrateur·rice), le {local:%d/%m/%Y} à {local:%H:%M}."
    ) in text(notice.group(0))
    # The new account is not told of itself; a service manager is told nothing.
    assert (
        "data-notices"
        not in sign_in(town, "m.martin", "une phrase assez longue pour passer")
        .get(f"{town.url}/")
        .text
    )
    assert "data-notices" not in sign_in(town, CHEF).get(f"{town.url}/").text

    # A forged acknowledgement changes nothing; the real one hides the notice for this reader.
    up_to = re.search(r'name="up_to" value="(\d+)"', overview).group(1)
    forged = manager.post(f"{town.url}/audit/notices", data={"csrf_token": "x", "up_to": up_to})
    assert forged.status_code == 403
    assert "data-notices" in manager.get(f"{town.url}/").text
    read = post(town, manager, "/audit/notices", {"up_to": up_to}, page="/")
    assert (read.status_code, read.headers["location"]) == (303, "/")
    assert "data-notices" not in manager.get(f"{town.url}/").text
    assert latest(town, "notice.acknowledged").actor.name == MANAGER
    assert "data-notices" in sign_in(town, OTHER_MANAGER).get(f"{town.url}/").text

    # Giving the role to an existing account is told too.
    changed = post(
        town,
        admin,
        "/admin/users/access",
        {"username": CHEF, "role": "quality_manager"},
        page="/admin/users",
    )
    assert changed.status_code == 303
    event = latest(town, "account.access_changed")
    assert event.details == {
        "role": {"before": "service_manager", "after": "quality_manager"},
        "services": {"before": [SERVICE], "after": []},
    }
    overview = text(manager.get(f"{town.url}/").text)
    assert (
        "Le compte « chef-iris » a reçu le rôle de responsable qualité de informatique" in overview
    )
    assert "m.martin" not in overview


def test_a_notice_leaves_the_overview_after_the_set_number_of_days(town):
    long_ago = NOW - timedelta(days=audit.NOTICE_DAYS + 1)
    with town.storage.write() as connection:
        admin = audit.Actor("user", ADMIN, "admin")
        details = {"role": "quality_manager", "services": []}
        audit.record(connection, admin, "account.created", "ancienne", details, now=long_ago)
    manager = sign_in(town, MANAGER)
    assert "data-notices" not in manager.get(f"{town.url}/").text
    assert "ancienne" in manager.get(f"{town.url}/audit?kind=accounts").text


def test_account_changes_are_recorded_with_before_and_after_never_the_password(town):
    admin = sign_in(town, ADMIN)
    password = "un autre mot de passe bien long"
    post(
        town,
        admin,
        "/admin/users/password",
        {"username": CHEF, "password": password},
        page="/admin/users",
    )
    assert latest(town, "account.password_reset").details == {"generated": False}
    post(town, admin, "/admin/users/disable", {"username": CHEF}, page="/admin/users")
    post(town, admin, "/admin/users/disable", {"username": CHEF}, page="/admin/users")
    post(town, admin, "/admin/users/enable", {"username": CHEF}, page="/admin/users")
    assert len(events(town, "account.disabled")) == 1  # disabling again changed nothing
    enabled = latest(town, "account.enabled")
    assert (enabled.object, enabled.details["role"]) == (CHEF, "service_manager")


# -- the quality manager's actions -----------------------------------------------------------


def test_a_register_reply_is_recorded_by_entry_number_without_any_text(town):
    manager = sign_in(town, MANAGER)
    entry = comment_id(town)
    reply = "Nous avons transmis votre remerciement à l'équipe."
    response = post(
        town,
        manager,
        f"/comments/{entry}",
        {"action": "answer", "category": "compliment", "reply": reply},
        page="/comments",
    )
    assert response.status_code == 303
    event = latest(town, "register.answered")
    assert (event.actor.name, event.actor.role, event.object) == (
        MANAGER,
        "quality_manager",
        str(entry),
    )
    assert event.details == {
        "service": SERVICE,
        "status": {"before": "new", "after": "answered"},
        "category": {"before": None, "after": "compliment"},
    }
    stored = json.dumps([event.object, event.details], ensure_ascii=False)
    assert "Dupont" not in stored
    assert "transmis" not in stored
    chef = sign_in(town, CHEF)
    post(town, chef, f"/comments/{entry}", {"action": "close"}, page="/comments")
    closed = latest(town, "register.closed")
    assert (closed.actor.name, closed.actor.role) == (CHEF, "service_manager")


def test_a_target_change_is_recorded_with_the_value_it_replaces(town):
    manager = sign_in(town, MANAGER)
    first = date.today().replace(day=1).isoformat()
    for value in ("92", "95"):
        response = post(
            town,
            manager,
            "/targets",
            {
                "indicator": "satisfaction_rate",
                "service": SERVICE,
                "value": value,
                "valid_from": first,
            },
            page="/targets",
        )
        assert response.status_code == 303
    changes = events(town, "target.set")
    assert [e.details["value"] for e in changes] == [
        {"before": 92.0, "after": 95.0},
        {"before": None, "after": 92.0},
    ]
    assert changes[0].object == "satisfaction_rate"
    assert changes[0].details["service"] == SERVICE
    assert changes[0].details["valid_from"] == first
    page = text(manager.get(f"{town.url}/audit?kind=targets").text)
    assert "Objectif modifié" in page
    assert "Objectif : 92 → 95" in page


def test_an_improvement_action_is_recorded_without_its_text(town):
    manager = sign_in(town, MANAGER)
    year = LAST_MONTH.start.year
    response = post(
        town,
        manager,
        "/review/actions",
        {
            "service": SERVICE,
            "indicator": "satisfaction_rate",
            "year": str(year),
            "action": "Deuxième agent le lundi matin",
        },
        page="/",
    )
    assert response.status_code == 303
    event = latest(town, "action.recorded")
    assert event.details == {"year": year, "service": SERVICE, "indicator": "satisfaction_rate"}
    assert "lundi" not in json.dumps(event.details)


def test_a_survey_upload_and_a_change_of_current_survey_are_recorded(town):
    with town.storage.read() as connection:
        before = surveys.current_key(connection)
    admin = sign_in(town, ADMIN)
    assert upload(town, admin, town_survey()).status_code == 303
    published = latest(town, "survey.published")
    assert (published.actor.name, published.object) == (ADMIN, "accueil-ville v1")
    assert published.details == {
        "current": {"before": audit.survey_name(before), "after": "accueil-ville v1"}
    }
    # The same content again changes nothing, and records nothing.
    assert upload(town, admin, town_survey()).status_code == 303
    assert len(events(town, "survey.published")) == 1
    manager = sign_in(town, MANAGER)
    response = post(
        town,
        manager,
        "/admin/surveys/use",
        {"survey_id": before[0], "version": str(before[1])},
        page="/admin/surveys",
    )
    assert response.status_code == 303
    used = latest(town, "survey.put_in_use")
    assert (used.actor.name, used.actor.role) == (MANAGER, "quality_manager")
    assert used.details == {
        "current": {"before": "accueil-ville v1", "after": audit.survey_name(before)}
    }


def test_tokens_are_recorded_by_number_and_label_never_by_secret(town):
    manager = sign_in(town, MANAGER)
    token_id, secret = new_token(town, manager)
    created = latest(town, "token.created")
    assert (created.object, created.details) == (str(token_id), {"label": "Power BI qualité"})
    response = post(
        town, manager, "/account/tokens/revoke", {"token": str(token_id)}, page="/account/tokens"
    )
    assert response.status_code == 303
    assert latest(town, "token.revoked").object == str(token_id)
    assert secret not in json.dumps([e.details for e in events(town)])


# -- downloads -------------------------------------------------------------------------------


def test_an_export_download_is_recorded_with_its_period_filters_and_token(town):
    manager = sign_in(town, MANAGER)
    month = f"{LAST_MONTH.start:%Y-%m}"
    response = manager.get(f"{town.url}/export/answers.csv?kind=month&period={month}&site={SITE}")
    assert response.status_code == 200
    event = latest(town, "export.downloaded")
    assert (event.actor.name, event.object) == (MANAGER, "answers.csv")
    assert event.details == {
        "period": month,
        "service": None,
        "site": SITE,
        "suspect": False,
        "rows": 7,
    }
    token_id, secret = new_token(town, manager)
    by_token = town.client().get(
        f"{town.url}/export/indicators.xlsx?service={SERVICE}", headers=bearer(secret)
    )
    assert by_token.status_code == 200
    event = latest(town, "export.downloaded")
    assert (event.actor.name, event.object) == (MANAGER, "indicators.xlsx")
    assert (event.details["service"], event.details["token_id"]) == (SERVICE, token_id)
    # A refused download is no download.
    chef = sign_in(town, CHEF)
    assert chef.get(f"{town.url}/export/visits.csv?service=etat-civil").status_code == 403
    assert latest(town, "export.downloaded").actor.name == MANAGER


def test_a_pdf_download_is_recorded(town):
    manager = sign_in(town, MANAGER)
    month = f"{LAST_MONTH.start:%Y-%m}"
    assert manager.get(f"{town.url}/reports/monthly.pdf?period={month}").status_code == 200
    event = latest(town, "report.downloaded")
    assert (event.actor.name, event.object, event.details) == (
        MANAGER,
        "monthly",
        {"period": month},
    )
    chef = sign_in(town, CHEF)
    quarter = containing("quarter", LAST_MONTH.start).key  # the quarter of the town's answers
    poster = chef.get(f"{town.url}/reports/poster/{SERVICE}.pdf?quarter={quarter}")
    assert poster.status_code == 200
    event = latest(town, "report.downloaded")
    assert (event.actor.name, event.object, event.details["service"]) == (CHEF, "poster", SERVICE)


# -- signing in ------------------------------------------------------------------------------


def test_signing_in_and_out_and_a_lock_out_of_an_account_are_recorded(town):
    manager = sign_in(town, MANAGER)
    signed_in = latest(town, "session.signed_in")
    assert (signed_in.actor.name, signed_in.actor.role, signed_in.object) == (
        MANAGER,
        "quality_manager",
        None,
    )
    post(town, manager, "/logout", {}, page="/")
    assert latest(town, "session.signed_out").actor.name == MANAGER
    for _ in range(5):
        assert login_status(town, CHEF, "pas le bon mot de passe") == 401
    locked = latest(town, "session.locked_out")
    assert (locked.actor.kind, locked.object, locked.details) == ("system", CHEF, {"failures": 5})


# -- the audit page --------------------------------------------------------------------------


def fill(server, n: int) -> date:
    """`n` sign-ins by an agent, a minute apart, before noon yesterday (the town's day); then an
    account created now. Returns yesterday."""
    yesterday = datetime.now(server.storage.zone).date() - timedelta(days=1)
    noon = datetime.combine(yesterday, time(12), tzinfo=server.storage.zone)
    with server.storage.write() as connection:
        agent = audit.Actor("user", "agent-accueil", "service_manager")
        for i in range(n):
            audit.record(
                connection, agent, "session.signed_in", now=noon - timedelta(minutes=n - i)
            )
        admin = audit.Actor("user", ADMIN, "admin")
        details = {"role": "service_manager", "services": [SERVICE]}
        audit.record(connection, admin, "account.created", "m.durand", details)
    return yesterday


def rows(page: str) -> list[str]:
    return re.findall(r'<tr data-event="\d+" data-action="([^"]+)"', page)


def test_the_audit_page_lists_newest_first_filters_and_pages(town):
    yesterday = fill(town, 60)
    manager = sign_in(town, MANAGER)  # the 62nd event
    page = manager.get(f"{town.url}/audit").text
    assert "62 événements" in text(page)
    assert rows(page)[:2] == ["session.signed_in", "account.created"]
    assert len(rows(page)) == 50
    assert "page 1 sur 2" in text(page)
    second = manager.get(f"{town.url}/audit?page=2").text
    assert len(rows(second)) == 12
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second

    accounts = manager.get(f"{town.url}/audit?kind=accounts").text
    assert rows(accounts) == ["account.created"]
    line = text(
        re.search(
            r'<tr data-event="\d+" data-action="account.created".*?</tr>', accounts, re.S
        ).group(0)
    )
    for shown in (
        "informatique",
        "Administrateur·rice",
        "Compte créé",
        "m.durand",
        "Rôle : Responsable de service",
        "Services : IRIS",
    ):
        assert shown in line, shown
    by_agent = manager.get(f"{town.url}/audit?person=agent-accueil").text
    assert rows(by_agent) == ["session.signed_in"] * 50
    window = manager.get(f"{town.url}/audit?from={yesterday}&to={yesterday}").text
    assert "60 événements" in text(window)
    assert "account.created" not in rows(window)
    bad = manager.get(f"{town.url}/audit?from=hier").text
    assert "Une des dates n'est pas valide" in text(bad)
    english = manager.get(f"{town.url}/audit?kind=accounts&lang=en").text
    assert "Account created" in english
    assert "Role: Service manager" in text(english)
    assert sign_in(town, ADMIN).get(f"{town.url}/audit").status_code == 200


def test_a_service_manager_or_a_stranger_cannot_read_the_audit_trail(town):
    chef = sign_in(town, CHEF)
    for path in ("/audit", "/audit.csv"):
        refused = chef.get(f"{town.url}{path}", follow_redirects=False)
        assert refused.status_code == 403, path
        assert "Votre rôle ne donne pas accès" in refused.text
        anonymous = town.client().get(f"{town.url}{path}", follow_redirects=False)
        assert anonymous.status_code == 303
    assert 'href="/audit"' not in chef.get(f"{town.url}/").text
    response = post(town, chef, "/audit/notices", {"up_to": "1"}, page="/")
    assert response.status_code == 403
    assert events(town, "notice.acknowledged") == []


def test_the_audit_export_is_the_filtered_events_as_csv_and_is_itself_recorded(town):
    fill(town, 3)
    admin = sign_in(town, ADMIN)
    response = admin.get(f"{town.url}/audit.csv?kind=accounts")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert table[0] == list(CSV_HEADERS)
    assert len(table) == 2
    assert table[1][3:8] == [
        "informatique",
        "Administrateur·rice",
        "Compte créé",
        "account.created",
        "m.durand",
    ]
    exported = latest(town, "audit.exported")
    assert (exported.actor.name, exported.details) == (ADMIN, {"kind": "accounts", "rows": 1})


# -- every form and every command ------------------------------------------------------------

# Posts that are no staff action: a visitor's anonymous answer (never linked to a person), and
# a device's own traffic (its records, heartbeat and token rotation).
NOT_STAFF = {
    "/s/{site}/{service}",
    "/v/{token}",
    "/api/v1/sync",
    "/api/v1/heartbeat",
    "/api/v1/token/rotate",
}


def _post_as(who: str, action: str, data: dict, page: str = "/") -> Callable:
    def run(server) -> None:
        response = post(server, sign_in(server, who), action, data, page=page)
        assert response.status_code in (200, 303), (action, response.text[:300])

    return run


def _revoke(server) -> None:
    session = sign_in(server, MANAGER)
    token_id, _ = new_token(server, session)
    post(server, session, "/account/tokens/revoke", {"token": str(token_id)}, "/account/tokens")


def _upload(server) -> None:
    assert upload(server, sign_in(server, ADMIN), town_survey(7)).status_code == 303


def _enrol(server) -> None:
    response = server.client().post(f"{server.url}/api/v1/enrol", json={"code": server.enrol()})
    assert response.status_code == 200


def _comment(server) -> None:
    _post_as(MANAGER, f"/comments/{comment_id(server)}", {"action": "acknowledge"})(server)


def _review(server) -> None:
    page = "/comments?flagged=pending"
    _post_as(MANAGER, f"/comments/{comment_id(server)}/review", {"decision": "released"}, page)(
        server
    )


def _leave_contact(server) -> None:
    survey = f"{server.url}/s/{SITE}/{SERVICE}"
    client = server.client()
    _location, page = thanks_page(client, survey, "Personne ne m'a rappelé")
    response = send_contact(client, survey, page, phone="06 12 34 56 78")
    assert response.status_code == 303, response.text


def _change_own_password(server) -> None:
    own = "une phrase bien a moi pour ce compte"
    assert change_own_password(server, sign_in(server, MANAGER), PASSWORD, own).status_code == 303


def _propose(server) -> int:
    proposal = {"title": "Affichage des horaires", "origin": "meeting", "services": [SERVICE]}
    response = post(server, sign_in(server, MANAGER), "/actions", proposal, page="/actions")
    assert response.status_code == 303, response.text[:300]
    return int(response.headers["location"].rsplit("/", 1)[1])


def _edit_action(server) -> None:
    edit = {"title": "Affichage des horaires", "origin": "complaint", "services": [SERVICE]}
    _post_as(MANAGER, f"/actions/{_propose(server)}", edit, page="/actions")(server)


def _validate_action(server) -> None:
    page = f"/actions/{_propose(server)}"
    _post_as(MANAGER, f"{page}/status", {"status": "validated"}, page=page)(server)


def _plan_audit(server) -> int:
    planned = {"service": SERVICE, "audit_on": f"{NOW.year}-06-15", "first_auditor": MANAGER,
               "second_auditor": OTHER_MANAGER}  # fmt: skip
    response = post(server, sign_in(server, MANAGER), "/audits", planned, page="/audits")
    assert response.status_code == 303, response.text[:300]
    return int(response.headers["location"].rsplit("/", 1)[1])


def _audit_done(server) -> None:
    page = f"/audits/{_plan_audit(server)}"
    _post_as(MANAGER, f"{page}/status", {"status": "done"}, page=page)(server)


def _finding(server) -> None:
    page = f"/audits/{_plan_audit(server)}"
    found = {"engagement": "ACC-01", "verdict": "observation", "evidence": "Affiche ancienne"}
    _post_as(MANAGER, f"{page}/findings", found, page=page)(server)


def _plan_meeting(server) -> int:
    planned = {"planned_on": NOW.date().isoformat()}
    response = post(server, sign_in(server, MANAGER), "/meetings", planned, page="/meetings")
    assert response.status_code == 303, response.text[:300]
    return int(response.headers["location"].rsplit("/", 1)[1])


def _meeting_minutes(server) -> int:
    page = f"/meetings/{_plan_meeting(server)}"
    minutes = {"held_on": NOW.date().isoformat(), "attendees": "Mme Martin", "notes": "RAS"}
    _post_as(MANAGER, f"{page}/minutes", minutes, page=page)(server)
    return int(page.rsplit("/", 1)[1])


def _meeting_decision(server) -> None:
    page = f"/meetings/{_plan_meeting(server)}"
    decision = {"text": "Afficher les horaires", "service": SERVICE, "opens_action": "1"}
    _post_as(MANAGER, f"{page}/decisions", decision, page=page)(server)


def _close_meeting(server) -> None:
    page = f"/meetings/{_meeting_minutes(server)}"
    _post_as(MANAGER, f"{page}/close", {}, page=page)(server)


def _bundled() -> dict:
    survey = bundled_surveys()[0]
    return {"survey_id": survey.id, "version": str(survey.version)}


# Each staff form of the app, how the test posts it, and the event it must leave.
FORMS: dict[str, tuple[Callable, str]] = {
    "/login": (lambda server: sign_in(server, MANAGER), "session.signed_in"),
    "/logout": (_post_as(MANAGER, "/logout", {}), "session.signed_out"),
    "/comments/{comment_id}": (_comment, "register.acknowledged"),
    "/comments/{comment_id}/review": (_review, "triage.released"),
    "/staff-names": (
        _post_as(MANAGER, "/staff-names", {"service": SERVICE, "names": "Marie Dubois"}),
        "triage.names_changed",
    ),
    "/targets": (
        _post_as(
            MANAGER, "/targets", {"indicator": "score", "value": "8", "valid_from": "2026-01-01"}
        ),
        "target.set",
    ),
    "/review/actions": (
        _post_as(
            MANAGER,
            "/review/actions",
            {"service": SERVICE, "indicator": "score", "year": "2025", "action": "Affichage"},
        ),
        "action.recorded",
    ),
    "/actions": (_propose, "action.proposed"),
    "/actions/{action_id}": (_edit_action, "action.edited"),
    "/actions/{action_id}/status": (_validate_action, "action.validated"),
    "/referential/engagements": (
        _post_as(
            MANAGER,
            "/referential/engagements",
            {"code": "TEL-03", "title": "Nous vous rappelons sous 48 heures", "channel": "phone"},
            page="/referential",
        ),
        "referential.engagement_saved",
    ),
    "/referential/scope": (
        _post_as(
            MANAGER,
            "/referential/scope",
            {"service": SERVICE, "phase": "1", "since": "2008", "engagements": ["ACC-01"]},
            page="/referential",
        ),
        "referential.scope_changed",
    ),
    "/referential/indicators": (
        _post_as(
            MANAGER,
            "/referential/indicators",
            {"indicator": "score", "engagement": "ACC-02"},
            page="/referential",
        ),
        "referential.indicator_tied",
    ),
    "/audits": (_plan_audit, "internal_audit.planned"),
    "/audits/{audit_id}/status": (_audit_done, "internal_audit.status_changed"),
    "/audits/{audit_id}/findings": (_finding, "internal_audit.finding_recorded"),
    "/mystery": (
        _post_as(
            MANAGER,
            "/mystery",
            {
                "channel": "phone",
                "service": SERVICE,
                "site": SITE,
                "visited_on": LAST_MONTH.start.isoformat(),
                "answer-tel-pickup": "3",
            },
            page="/mystery/new?channel=phone",
        ),
        "mystery.recorded",
    ),
    "/mystery/grid": (
        _post_as(
            MANAGER,
            "/mystery/grid",
            {
                "key": "tel-smile",
                "engagement": "TEL-01",
                "label": "Sourire dans la voix",
                "kind": "yes_no",
                "weight": "1",
            },
            page="/mystery/grid",
        ),
        "mystery.criterion_saved",
    ),
    "/meetings": (_plan_meeting, "meeting.planned"),
    "/meetings/{meeting_id}/minutes": (_meeting_minutes, "meeting.minutes_saved"),
    "/meetings/{meeting_id}/decisions": (_meeting_decision, "meeting.decision_recorded"),
    "/meetings/{meeting_id}/close": (_close_meeting, "meeting.closed"),
    "/account/tokens": (_post_as(MANAGER, "/account/tokens", {"label": "BI"}), "token.created"),
    "/account/tokens/revoke": (_revoke, "token.revoked"),
    "/admin/users/create": (
        _post_as(ADMIN, "/admin/users/create", {"username": "n.petit", "role": "admin"}),
        "account.created",
    ),
    "/admin/users/access": (
        _post_as(
            ADMIN,
            "/admin/users/access",
            {"username": CHEF, "role": "service_manager", "services": [SERVICE, "ccas"]},
        ),
        "account.access_changed",
    ),
    "/admin/users/password": (
        _post_as(ADMIN, "/admin/users/password", {"username": CHEF}),
        "account.password_reset",
    ),
    "/admin/users/disable": (
        _post_as(ADMIN, "/admin/users/disable", {"username": OTHER_MANAGER}),
        "account.disabled",
    ),
    "/admin/users/enable": (
        _post_as(ADMIN, "/admin/users/enable", {"username": OTHER_MANAGER}),
        "account.enabled",
    ),
    "/admin/users/unlock": (
        _post_as(ADMIN, "/admin/users/unlock", {"username": OTHER_MANAGER}),
        "session.unlocked",
    ),
    "/admin/surveys/upload": (_upload, "survey.published"),
    "/admin/surveys/use": (_post_as(ADMIN, "/admin/surveys/use", _bundled()), "survey.put_in_use"),
    "/audit/notices": (_post_as(MANAGER, "/audit/notices", {"up_to": "1"}), "notice.acknowledged"),
    "/account/password": (_change_own_password, "account.password_changed"),
    "/api/v1/enrol": (_enrol, "device.enrolled"),
    # A visitor's own contact details, left with consent: when, for which entry (never what).
    "/s/{site}/{service}/merci": (_leave_contact, "register.contact_left"),
}


def post_routes(app) -> set[str]:
    # Recent FastAPI keeps an included router as one entry, which `iter_route_contexts` opens.
    flatten = getattr(routing, "iter_route_contexts", iter)
    return {route.path for route in flatten(app.routes) if "POST" in (route.methods or set())}


def test_every_staff_form_of_the_app_leaves_an_event(town):
    assert post_routes(town.app) == set(FORMS) | NOT_STAFF
    for path, (run, action) in FORMS.items():
        before = {event.id for event in events(town)}
        run(town)
        new = [event for event in events(town) if event.id not in before]
        assert action in {event.action for event in new}, path


def command(database_url: str, *args: str) -> str:
    out = io.StringIO()
    assert cli.main(["--database-url", database_url, *args], out=out) == 0, args
    return out.getvalue()


# Commands that change nothing a person answers for, and why.
COMMANDS_WITHOUT_EVENT = {
    "init-db": "creates or upgrades the schema; no account exists before it",
    "migrate": "the same command as init-db",
    "devices": "reads the fleet",
    "check-alerts": "sends what the server's alert rule decided (the alerts table keeps it)",
    "serve": "runs the server, whose pages record their own events",
    "demo": "a throwaway demo town in a directory of its own",
    "purge": "records an event only when it empties texts (shown by the retention tests)",
}


def test_every_command_that_changes_something_leaves_an_event(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    survey = {**definition_json(bundled_surveys()[-1]), "id": "accueil-ville"}
    (tmp_path / "survey.json").write_text(json.dumps(survey), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.StringIO("une phrase de passe assez longue\n"))

    def device_id() -> str:
        found = re.search(
            r"device id: (\S+)", command(url, "enrol-device", "--site", SITE, "--service", SERVICE)
        )
        return found.group(1)

    runs = {
        "load-town": (lambda: command(url, "load-town", str(TOWN_FILE)), "town.loaded"),
        "enrol-device": (device_id, "device.code_issued"),
        "revoke-device": (lambda: command(url, "revoke-device", device_id()), "device.revoked"),
        "publish-survey": (
            lambda: command(url, "publish-survey", str(tmp_path / "survey.json")),
            "survey.published",
        ),
        "create-user": (
            lambda: command(
                url,
                "create-user",
                "--username",
                "premier-admin",
                "--role",
                "admin",
                "--password-stdin",
            ),
            "account.created",
        ),
    }
    parser = cli.build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)
    assert commands == set(runs) | set(COMMANDS_WITHOUT_EVENT)
    command(url, "init-db")
    for name, (run, action) in runs.items():
        run()
        storage = Storage.from_url(url)
        with storage.read() as connection:
            [event] = [e for e in audit.events(connection, limit=1000) if e.action == action]
        storage.close()
        assert event.actor.kind == "cli", name
        assert event.actor.name
        assert event.actor.role is None
    assert event.object == "premier-admin"
    assert event.details == {"role": "admin", "services": []}


# -- nothing secret in the trail -------------------------------------------------------------


def test_no_event_holds_a_password_a_token_a_code_or_a_visitors_text(town):
    typed, reset = "une phrase connue de tous les tests", "une autre phrase connue des tests"
    admin = sign_in(town, ADMIN)
    post(
        town,
        admin,
        "/admin/users/create",
        {"username": "m.martin", "role": "quality_manager", "password": typed},
        page="/admin/users",
    )
    post(
        town,
        admin,
        "/admin/users/password",
        {"username": CHEF, "password": reset},
        page="/admin/users",
    )
    generated_page = post(
        town, admin, "/admin/users/password", {"username": OTHER_MANAGER}, page="/admin/users"
    )
    generated = GENERATED.search(generated_page.text).group(1)
    martin = sign_in(town, "m.martin", typed)
    own = "la phrase que martin est seul a connaitre"
    assert change_own_password(town, martin, typed, own).status_code == 303
    _, secret = new_token(town, martin, "Classeur de suivi")
    assert town.client().get(f"{town.url}/export/answers.csv", headers=bearer(secret)).is_success
    reply = "Réponse envoyée par courrier le 3 mars"
    post(
        town,
        martin,
        f"/comments/{comment_id(town)}",
        {"action": "answer", "reply": reply},
        page="/comments",
    )
    action_text = "Formation accueil prévue en avril"
    post(
        town,
        martin,
        "/review/actions",
        {
            "service": SERVICE,
            "indicator": "score",
            "year": str(LAST_MONTH.start.year),
            "action": action_text,
        },
        page="/",
    )
    code_out = io.StringIO()
    cli.main(
        [
            "--database-url",
            town.settings.database_url,
            "enrol-device",
            "--site",
            SITE,
            "--service",
            SERVICE,
        ],
        out=code_out,
    )
    code = re.search(r"enrolment code: (\S+)", code_out.getvalue()).group(1)
    enrolled = town.client().post(f"{town.url}/api/v1/enrol", json={"code": code})
    device_token = enrolled.json()["token"]
    # A password typed in the name field, five times: the lock-out keeps no such name.
    for _ in range(5):
        assert login_status(town, typed, "x") == 401

    with town.storage.read() as connection:
        hashes = list(connection.scalars(sa.text("SELECT password_hash FROM users")))
        stored = [
            " ".join(str(value) for value in row)
            for row in connection.execute(sa.text("SELECT * FROM audit_events"))
        ]
    actions = {event.action for event in events(town)}
    assert {
        "account.created",
        "account.password_reset",
        "account.password_changed",
        "token.created",
        "export.downloaded",
        "register.answered",
        "action.recorded",
        "device.code_issued",
        "device.enrolled",
    } <= actions
    secrets = [
        typed,
        reset,
        own,
        generated,
        secret,
        secret_hash(secret),
        code,
        code.replace("-", ""),
        device_token,
        secret_hash(device_token),
        COMMENT,
        "Dupont",
        reply,
        action_text,
        *hashes,
    ]
    found = [(s, row) for s in secrets for row in stored if s.lower() in row.lower()]
    assert found == []


# -- names of the actions --------------------------------------------------------------------


def test_every_action_and_kind_has_a_french_name_translated_into_english():
    assert set(audit_text.ACTION_NAMES) == set(audit.ACTIONS)
    assert set(audit_text.KIND_NAMES) == set(audit.KINDS)
    english = i18n.catalog("en")
    names = [
        *audit_text.ACTION_NAMES.values(),
        *audit_text.KIND_NAMES.values(),
        *audit_text.DETAIL_NAMES.values(),
        *audit_text.DOWNLOAD_NAMES.values(),
        *audit_text.MODES.values(),
        *audit_text.ROLES.values(),
        *CSV_HEADERS,
    ]
    untranslated = [name for name in names if not (english.get(name) and english[name].string)]
    assert untranslated == []
    assert len(set(audit_text.ACTION_NAMES.values())) == len(audit_text.ACTION_NAMES)


def test_a_stored_role_that_no_longer_exists_still_reads():
    wording = audit_text.Wording.of("fr", {}, ZoneInfo("Europe/Paris"))
    event = AuditEvent(
        1,
        NOW,
        audit.Actor("user", "x", "auditor"),
        "account.created",
        "y",
        {"role": "auditor", "services": ["inconnu"]},
    )
    line = audit_text.line(event, wording)
    assert (line.person, line.person_detail) == ("x", "auditor")
    assert line.details == ("Rôle\u00a0: auditor", "Services\u00a0: inconnu")
