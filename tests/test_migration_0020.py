"""Migration 0020_internal_audits on a database at 0019, on both engines: accounts kept, the role
constraint widened to the internal auditor (and still refusing an unknown role), the audit plan
and its findings ready, a non-conformity opening an action in the plan."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from sync_server.storage import Storage, internal_audits, migrations, plan, users
from sync_server.storage import town as town_storage
from tests.fixtures.server import SERVICE, TOWN

BEFORE = [m for m in migrations.MIGRATIONS if m[0] < "0020"]


def test_the_auditor_role_and_the_audit_plan_arrive_with_accounts_kept(storage_url):
    storage = Storage.from_url(storage_url)
    migrations.migrate(storage.engine, BEFORE)
    with storage.write() as connection:
        town_storage.load_town(connection, TOWN)
        users.create(connection, username="qualite", password="x" * 20, role="quality_manager")
    with pytest.raises(sa.exc.IntegrityError), storage.write() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO users (username, password_hash, role, services, created_at,"
                " must_change_password) VALUES ('a', 'h', 'internal_auditor', '[]',"
                " CURRENT_TIMESTAMP, false)"
            )
        )
    assert migrations.upgrade(storage)[0] == "0020_internal_audits"  # later ones follow
    with storage.write() as connection:
        users.create(connection, username="auditrice", password="x" * 20, role="internal_auditor")
        assert internal_audits.auditors(connection) == ["auditrice", "qualite"]
        audit_id = internal_audits.add(
            connection, SERVICE, date(2026, 5, 4), ("auditrice", "qualite"), by="qualite"
        )
        audit = internal_audits.get(connection, audit_id)
        _, action_id = internal_audits.record_finding(
            connection, audit, "ACC-01", "non_conformity", "Affichage absent", by="auditrice",
            title="Écart d'audit interne",
        )  # fmt: skip
    with storage.read() as connection:
        assert users.get(connection, "qualite").role == "quality_manager"
        action = plan.get(connection, action_id)
    assert (action.origin, action.status, action.services, action.engagement) == (
        "internal_audit", "proposed", (SERVICE,), "ACC-01")  # fmt: skip
    with pytest.raises(sa.exc.IntegrityError), storage.write() as connection:
        connection.execute(
            sa.text("UPDATE users SET role = 'auditor' WHERE username = 'auditrice'")
        )
    storage.close()
