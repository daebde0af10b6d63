"""The audit trail's storage on SQLite and on PostgreSQL (`any_storage`): events written with the
change they record and read back filtered and paged; the database refusing to change or delete
one; the quality managers' notices; and the rule that keeps secrets out of an event."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from sync_server.storage import Storage, User, audit, users
from sync_server.storage.audit import Actor, Filter, UnsafeDetails
from tests.fixtures.server import PASSWORD

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
ADMIN = User("informatique", "admin")
MANAGER = User("qualite", "quality_manager")


def accounts(storage: Storage, *names: tuple[str, str]) -> None:
    with storage.write() as connection:
        for name, role in names:
            users.create(connection, username=name, password=PASSWORD, role=role)  # type: ignore[arg-type]


def record(storage: Storage, actor: Actor, action: str, subject=None, details=None, at=NOW) -> int:
    with storage.write() as connection:
        return audit.record(connection, actor, action, subject, details, now=at)


def test_an_event_keeps_who_what_when_and_its_details(any_storage):
    details = {"role": audit.change("service_manager", "quality_manager"), "services": []}
    event_id = record(any_storage, audit.by_user(ADMIN), "account.access_changed", "m.dupont",
                      details)  # fmt: skip
    with any_storage.read() as connection:
        [event] = audit.events(connection)
    assert event.id == event_id
    assert event.at == NOW
    assert event.actor == Actor("user", "informatique", "admin")
    assert (event.action, event.kind, event.object) == (
        "account.access_changed",
        "accounts",
        "m.dupont",
    )
    assert event.details == details


def test_events_are_filtered_by_period_kind_and_person_newest_first_and_paged(any_storage):
    cli = audit.command_line()
    for day in range(10):
        at = NOW + timedelta(days=day)
        record(any_storage, audit.by_user(MANAGER), "session.signed_in", at=at)
        record(any_storage, audit.by_user(ADMIN), "account.created", f"user{day}", at=at)
    record(any_storage, cli, "device.revoked", "d1", at=NOW + timedelta(days=3, hours=1))
    with any_storage.read() as connection:
        every = audit.events(connection, limit=100)
        assert len(every) == audit.count(connection) == 21
        assert [e.at for e in every] == sorted((e.at for e in every), reverse=True)
        accounts_only = Filter(kind="accounts")
        assert audit.count(connection, accounts_only) == 10
        first_page = audit.events(connection, accounts_only, limit=4)
        second_page = audit.events(connection, accounts_only, limit=4, offset=4)
        assert [e.object for e in first_page + second_page] == [f"user{d}" for d in range(9, 1, -1)]
        by_manager = audit.events(connection, Filter(actor="qualite"), limit=100)
        assert {e.action for e in by_manager} == {"session.signed_in"}
        window = Filter(start=NOW + timedelta(days=3), end=NOW + timedelta(days=4))
        assert {e.action for e in audit.events(connection, window)} == {
            "session.signed_in",
            "account.created",
            "device.revoked",
        }
        assert audit.actors(connection) == sorted(["informatique", "qualite", cli.name])


def refused(storage: Storage, statement: str) -> None:
    with storage.write() as connection, pytest.raises(sa.exc.DBAPIError, match="append-only"):
        connection.exec_driver_sql(statement)


def test_the_database_refuses_to_change_or_delete_an_event(any_storage):
    record(any_storage, audit.by_user(ADMIN), "account.created", "m.dupont", {"role": "admin"})
    for statement in (
        "UPDATE audit_events SET actor = 'somebody-else'",
        "DELETE FROM audit_events",
    ):
        refused(any_storage, statement)
    if any_storage.engine.dialect.name == "postgresql":
        refused(any_storage, "TRUNCATE audit_events")
    with any_storage.read() as connection:
        [event] = audit.events(connection)
    assert event.actor.name == "informatique"


def create_then_fail(storage: Storage) -> None:
    with storage.write() as connection:
        users.create(connection, username="m.dupont", password=PASSWORD, role="quality_manager")
        audit.record(connection, audit.by_user(ADMIN), "account.created", "m.dupont")
        raise RuntimeError("the request fails after both")


def test_an_event_is_written_with_its_change_or_not_at_all(any_storage):
    with pytest.raises(RuntimeError):
        create_then_fail(any_storage)
    with any_storage.read() as connection:
        assert users.account(connection, "m.dupont") is None
        assert audit.count(connection) == 0


def test_an_unknown_action_or_a_secret_in_the_details_writes_nothing(any_storage):
    with pytest.raises(ValueError, match="unknown audit action"), any_storage.write() as c:
        audit.record(c, audit.by_user(ADMIN), "account.deleted", "m.dupont")
    with pytest.raises(UnsafeDetails), any_storage.write() as c:
        audit.record(c, audit.by_user(ADMIN), "account.created", "x", {"password": "s3cret"})
    with pytest.raises(UnsafeDetails), any_storage.write() as c:
        audit.record(c, audit.by_user(MANAGER), "token.created", "1", {"label": "qvt_abc"})
    with any_storage.read() as connection:
        assert audit.count(connection) == 0


def test_quality_managers_are_told_of_a_new_quality_manager_until_they_acknowledge(any_storage):
    accounts(any_storage, ("qualite", "quality_manager"), ("qualite2", "quality_manager"),
             ("nouvelle", "quality_manager"))  # fmt: skip
    admin = audit.by_user(ADMIN)
    created = record(any_storage, admin, "account.created", "nouvelle",
                     {"role": "quality_manager", "services": []})  # fmt: skip
    record(any_storage, admin, "account.created", "chef", {"role": "service_manager"})
    record(any_storage, admin, "account.password_reset", "qualite2", {"generated": True})
    later = NOW + timedelta(days=1)
    with any_storage.read() as connection:
        assert [e.id for e in audit.notices(connection, "qualite", later)] == [created]
        assert [e.id for e in audit.notices(connection, "qualite2", later)] == [created]
        # Nobody is told of their own account.
        assert audit.notices(connection, "nouvelle", later) == []
    with any_storage.write() as connection:
        assert audit.acknowledge(connection, "qualite", created, later)
        assert not audit.acknowledge(connection, "qualite", created, later)
    given = {"role": audit.change("service_manager", "quality_manager")}
    promoted = record(any_storage, admin, "account.access_changed", "chef", given, later)
    enabled = record(any_storage, admin, "account.enabled", "ancienne",
                     {"role": "quality_manager", "services": []}, later)  # fmt: skip
    record(any_storage, admin, "account.access_changed", "chef",
           {"services": audit.change([], ["iris"])}, later)  # fmt: skip
    with any_storage.read() as connection:
        assert [e.id for e in audit.notices(connection, "qualite", later)] == [enabled, promoted]
        assert [e.id for e in audit.notices(connection, "qualite2", later)] == [
            enabled,
            promoted,
            created,
        ]
        # After the notice period, only the audit page shows them.
        gone = NOW + timedelta(days=audit.NOTICE_DAYS, hours=1)
        assert [e.id for e in audit.notices(connection, "qualite2", gone)] == [enabled, promoted]
        assert audit.notices(connection, "qualite2", later + timedelta(days=31)) == []


def test_only_kinds_and_actions_of_the_closed_set_exist():
    assert set(audit.ACTIONS.values()) == set(audit.KINDS)
    assert len(audit.ACTIONS) == sum(len(actions) for actions in audit.KINDS.values())
    assert all("." in action and len(action) <= 40 for action in audit.ACTIONS)


def test_values_typed_by_a_user_are_kept_short_and_never_as_a_token():
    assert audit.asked(None) is None
    assert audit.asked("iris") == "iris"
    assert audit.asked("x" * 500) == "x" * 63
    assert audit.asked("qvt_0123456789") == "?"


SAFE_TEXT = st.text(max_size=20).filter(lambda text: not text.startswith("qvt_"))
SAFE_KEY = st.text(min_size=1, max_size=12).filter(
    lambda key: key.lower() not in audit.FORBIDDEN_KEYS
)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | SAFE_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(SAFE_KEY, inner, max_size=3),
    max_leaves=8,
)


@given(details=st.dictionaries(SAFE_KEY, VALUES, max_size=4))
def test_safe_details_are_kept_as_they_are(details):
    assert json.loads(audit.check_details(details)) == details


@given(
    details=st.dictionaries(SAFE_KEY, VALUES, max_size=3),
    key=st.sampled_from(sorted(audit.FORBIDDEN_KEYS)),
    secret=st.text(max_size=20).map(lambda text: "qvt_" + text),
    where=st.sampled_from(["key", "value", "nested"]),
)
def test_a_secret_anywhere_in_the_details_is_refused(details, key, secret, where):
    if where == "key":
        bad = {**details, key.upper(): "x"}
    elif where == "value":
        bad = {**details, "label": secret}
    else:
        bad = {**details, "current": {"before": None, "after": [secret]}}
    with pytest.raises(UnsafeDetails):
        audit.check_details(bad)
