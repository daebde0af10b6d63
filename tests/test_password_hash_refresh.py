"""A password hash made with other argon2 parameters (an older release's, an imported account's)
is made again with today's at the next successful sign-in, through the real form; the password's
date, the sessions and a failed sign-in leave it as it was."""

from __future__ import annotations

import sqlalchemy as sa
from argon2 import PasswordHasher, profiles

from sync_server.storage import schema, users
from tests.fixtures.server import PASSWORD, add_user
from tests.tools.staff_forms import attempt

NAME = "qualite"
OLD_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


def stored(storage) -> tuple[str, object]:
    with storage.read() as connection:
        row = connection.execute(
            sa.select(schema.users.c.password_hash, schema.users.c.password_changed_at).where(
                schema.users.c.username == NAME
            )
        ).one()
    return row.password_hash, row.password_changed_at


def test_an_old_hash_is_made_again_at_the_next_sign_in(app_server):
    add_user(app_server.storage, NAME, "quality_manager")
    with app_server.storage.write() as connection:
        connection.execute(
            schema.users.update()
            .where(schema.users.c.username == NAME)
            .values(password_hash=OLD_HASHER.hash(PASSWORD))
        )
    old_hash, changed_at = stored(app_server.storage)
    assert "m=8192,t=1" in old_hash
    # A wrong password changes nothing.
    assert attempt(app_server, NAME, "not the password").status_code == 401
    assert stored(app_server.storage) == (old_hash, changed_at)
    assert attempt(app_server, NAME, PASSWORD).status_code == 303
    new_hash, changed_after = stored(app_server.storage)
    assert new_hash != old_hash
    today = profiles.RFC_9106_LOW_MEMORY
    assert f"m={today.memory_cost},t={today.time_cost},p={today.parallelism}" in new_hash
    assert changed_after == changed_at
    # The next sign-in works, and leaves today's hash alone.
    assert attempt(app_server, NAME, PASSWORD).status_code == 303
    assert stored(app_server.storage)[0] == new_hash


def test_refresh_hash_leaves_a_current_hash_and_unknown_names_alone(any_storage):
    add_user(any_storage, NAME, "quality_manager")
    with any_storage.write() as connection:
        assert users.refresh_hash(connection, NAME, PASSWORD) is False
        assert users.refresh_hash(connection, "personne", PASSWORD) is False
