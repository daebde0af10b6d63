"""The `sync-server` command line, run through `main([...])` on a temp database."""

from __future__ import annotations

import io
import json
import sys

import pytest

from sync_server import cli
from sync_server.storage import Storage, devices, migrations, surveys, users
from sync_server.storage import town as stored_town
from tests.fixtures.server import SERVICE, SITE, TOWN_FILE


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def run(db_url: str, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    status = cli.main(["--database-url", db_url, *args], out=out)
    return status, out.getvalue()


def storage_at(db_url: str) -> Storage:
    return Storage.from_url(db_url)


def test_init_db_applies_migrations_once(db_url):
    names = [name for name, _ in migrations.MIGRATIONS]
    assert run(db_url, "init-db") == (0, f"applied: {', '.join(names)}\n")
    assert run(db_url, "init-db") == (0, "database already up to date\n")
    storage = storage_at(db_url)
    with storage.read() as connection:
        assert migrations.applied(connection) == set(names)
        assert surveys.current(connection).id == "qualivilles-accueil"
    storage.close()


def test_load_town(db_url):
    status, out = run(db_url, "load-town", str(TOWN_FILE))
    assert (status, out) == (0, "loaded 11 desks\n")
    storage = storage_at(db_url)
    with storage.read() as connection:
        assert stored_town.town_name(connection) == "Issy-les-Moulineaux"
        assert stored_town.desk(connection, SITE, SERVICE).service.wait_threshold_minutes == 10
    storage.close()


def test_a_missing_town_file_is_a_clear_error(db_url, tmp_path, capsys):
    status, _ = run(db_url, "load-town", str(tmp_path / "nowhere.json"))
    assert status == 1
    assert "cannot read town file" in capsys.readouterr().err


def test_enrol_device_prints_a_code_that_enrols(db_url):
    run(db_url, "load-town", str(TOWN_FILE))
    status, out = run(
        db_url,
        "enrol-device",
        "--site",
        SITE,
        "--service",
        SERVICE,
        "--name",
        "Borne",
        "--mode",
        "tablet",
    )
    assert status == 0
    lines = dict(line.split(": ", 1) for line in out.strip().splitlines())
    storage = storage_at(db_url)
    with storage.write() as connection:
        enrolment = devices.enrol(connection, lines["enrolment code"])
    assert enrolment.device.id == lines["device id"]
    assert (enrolment.device.name, enrolment.device.mode) == ("Borne", "tablet")
    storage.close()


def test_enrol_device_for_an_unknown_desk_fails(db_url, capsys):
    run(db_url, "load-town", str(TOWN_FILE))
    status, _ = run(db_url, "enrol-device", "--site", "nowhere", "--service", SERVICE)
    assert status == 1
    assert "no desk nowhere/iris" in capsys.readouterr().err


def test_revoke_device(db_url, capsys):
    run(db_url, "load-town", str(TOWN_FILE))
    storage = storage_at(db_url)
    with storage.write() as connection:
        code = devices.create(connection, site=SITE, service=SERVICE)
        token = devices.enrol(connection, code.code).token
    status, out = run(db_url, "revoke-device", code.device_id)
    assert status == 0
    assert out.startswith(f"revoked {code.device_id}")
    with storage.read() as connection:
        assert devices.by_token(connection, token).revoked
    assert run(db_url, "revoke-device", "no-such-device")[0] == 1
    assert "no device no-such-device" in capsys.readouterr().err
    storage.close()


def test_create_user_reads_the_password_from_stdin(db_url, monkeypatch):
    run(db_url, "load-town", str(TOWN_FILE))  # the service must be one of the town's
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse battery\n"))
    status, out = run(
        db_url,
        "create-user",
        "--username",
        "chef",
        "--role",
        "service_manager",
        "--service",
        "ccas",
        "--password-stdin",
    )
    assert (status, out) == (0, "created chef (service_manager)\n")
    storage = storage_at(db_url)
    with storage.read() as connection:
        user = users.authenticate(connection, "chef", "correct horse battery")
        assert user is not None
        assert user.services == ["ccas"]
        assert users.authenticate(connection, "chef", "wrong password") is None
    storage.close()


def test_a_short_password_is_refused(db_url, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    status, _ = run(db_url, "create-user", "--username", "x", "--role", "admin", "--password-stdin")
    assert status == 1
    assert "at least 12 characters" in capsys.readouterr().err


def test_a_second_user_with_the_same_name_is_refused(db_url, monkeypatch, capsys):
    for _ in range(2):
        monkeypatch.setattr(sys, "stdin", io.StringIO("long enough password\n"))
        status, _ = run(
            db_url, "create-user", "--username", "x", "--role", "admin", "--password-stdin"
        )
    assert status == 1
    assert "x" in capsys.readouterr().err


def test_an_unknown_role_is_a_usage_error(db_url):
    with pytest.raises(SystemExit) as exit_info:
        run(db_url, "create-user", "--username", "x", "--role", "mayor")
    assert exit_info.value.code == 2


def test_every_command_is_listed_in_the_help():
    help_text = cli.build_parser().format_help()
    for command in (
        "init-db",
        "load-town",
        "enrol-device",
        "revoke-device",
        "create-user",
        "serve",
    ):
        assert command in help_text


WEAK_SECRETS = [None, "a", "", " ", "x" * 40, "development-only-secret-change-me"]


@pytest.mark.parametrize("secret", WEAK_SECRETS)
def test_serve_refuses_to_start_without_a_strong_secret(db_url, monkeypatch, capsys, secret):
    # Production is the default: nothing says QV_ENVIRONMENT here.
    monkeypatch.delenv("QV_ENVIRONMENT", raising=False)
    if secret is None:
        monkeypatch.delenv("QV_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("QV_SECRET_KEY", secret)
    status, out = run(db_url, "serve", "--port", "1")
    assert (status, out) == (1, "")
    error = capsys.readouterr().err
    assert "QV_SECRET_KEY" in error
    assert "secrets.token_urlsafe(48)" in error


def test_load_town_refuses_unreadable_opening_hours_and_says_where(db_url, tmp_path):
    town = json.loads(TOWN_FILE.read_text(encoding="utf-8"))
    town["desks"][2]["opening_hours"] = {"mon": [["9h", "12:00"]]}
    broken = tmp_path / "town.json"
    broken.write_text(json.dumps(town), encoding="utf-8")
    code, _ = run(db_url, "load-town", str(broken))
    assert code != 0
    storage = storage_at(db_url)
    with storage.read() as connection:
        assert stored_town.desks(connection) == []  # nothing half-loaded
    storage.close()


def test_load_town_refuses_a_reason_without_a_label(db_url, tmp_path):
    town = json.loads(TOWN_FILE.read_text(encoding="utf-8"))
    town["services"][0]["visit_reasons"] = [{"slug": "x"}]
    broken = tmp_path / "town.json"
    broken.write_text(json.dumps(town), encoding="utf-8")
    code, _ = run(db_url, "load-town", str(broken))
    assert code != 0
    storage = storage_at(db_url)
    with storage.read() as connection:
        assert stored_town.desks(connection) == []
    storage.close()
