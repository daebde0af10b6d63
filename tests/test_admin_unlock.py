"""An administrator lifts a sign-in lock-out at once, from the account's page: the page says the
name is locked and until when, the unlock lets the right password in again, is in the audit
trail, and leaves the failures counted against the addresses they came from. Nobody else may
unlock; the real app in-process (temp SQLite), the real forms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sync_server.client_address import UNKNOWN
from sync_server.storage import audit, login_failures
from tests.fixtures.server import PASSWORD, add_user
from tests.tools.page_text import text
from tests.tools.staff_forms import attempt, post, sign_in

ADMIN, MANAGER = "informatique", "qualite"
EDIT = f"/admin/users/edit?username={MANAGER}"


def locked_out(server) -> None:
    for _ in range(5):
        assert attempt(server, MANAGER, "not the password").status_code == 401
    assert attempt(server, MANAGER, PASSWORD).status_code == 429


def test_an_administrator_unlocks_a_locked_name(app_server):
    add_user(app_server.storage, ADMIN, "admin")
    add_user(app_server.storage, MANAGER, "quality_manager")
    admin = sign_in(app_server, ADMIN)
    assert "data-locked" not in admin.get(f"{app_server.url}{EDIT}").text
    locked_out(app_server)
    page = admin.get(f"{app_server.url}{EDIT}")
    assert "data-locked" in page.text
    assert "la connexion est bloquée jusqu'à" in text(page.text)
    unlocked = post(app_server, admin, "/admin/users/unlock", {"username": MANAGER}, page=EDIT)
    assert unlocked.status_code == 303
    after = admin.get(f"{app_server.url}{unlocked.headers['location']}")
    assert "Connexion débloquée" in text(after.text)
    assert "data-locked" not in after.text
    assert attempt(app_server, MANAGER, PASSWORD).status_code == 303
    with app_server.storage.read() as connection:
        events = [e for e in audit.events(connection, limit=100) if e.action == "session.unlocked"]
        since = datetime.now(UTC) - timedelta(hours=1)
        from_address = login_failures.of_address(connection, UNKNOWN, since)
    assert [(e.actor.name, e.actor.role, e.object) for e in events] == [(ADMIN, "admin", MANAGER)]
    assert len(from_address) == 5  # still counted against the address


def test_nobody_else_unlocks_and_an_unknown_name_is_not_found(app_server):
    add_user(app_server.storage, ADMIN, "admin")
    add_user(app_server.storage, MANAGER, "quality_manager")
    add_user(app_server.storage, "chef", "service_manager", ["iris"])
    locked_out(app_server)
    other = sign_in(app_server, "chef")
    refused = post(app_server, other, "/admin/users/unlock", {"username": MANAGER}, page="/")
    assert refused.status_code == 403
    assert attempt(app_server, MANAGER, PASSWORD).status_code == 429
    admin = sign_in(app_server, ADMIN)
    unknown = post(app_server, admin, "/admin/users/unlock", {"username": "personne"}, page=EDIT)
    assert unknown.status_code == 404
    csrf = admin.post(f"{app_server.url}/admin/users/unlock", data={"username": MANAGER})
    assert csrf.status_code == 403
    assert attempt(app_server, MANAGER, PASSWORD).status_code == 429
