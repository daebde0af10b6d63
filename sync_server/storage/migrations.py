"""Named, ordered schema migrations, each applied once in its own transaction.

Applied names are recorded in `schema_migrations`. A released migration is never edited: a later
change to `schema.py` gets a new entry here (and the initial migration then keeps a frozen copy
of the tables as they were).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sync_server.storage import db, schema

Migration = tuple[str, Callable[[Connection], None]]


def _initial(connection: Connection) -> None:
    tables = [t for t in schema.metadata.sorted_tables if t is not schema.schema_migrations]
    schema.metadata.create_all(connection, tables=tables)


MIGRATIONS: list[Migration] = [
    ("0001_initial", _initial),
]


def applied(connection: Connection) -> set[str]:
    return set(connection.scalars(sa.select(schema.schema_migrations.c.name)))


def migrate(engine: Engine, migrations: list[Migration] = MIGRATIONS) -> list[str]:
    """Apply the migrations not yet recorded; return the names applied now."""
    schema.schema_migrations.create(engine, checkfirst=True)
    done: list[str] = []
    for name, apply in migrations:
        # Checked inside the write transaction, so two processes starting at once apply it once.
        with db.write(engine) as connection:
            if name in applied(connection):
                continue
            apply(connection)
            connection.execute(
                schema.schema_migrations.insert().values(name=name, applied_at=db.utcnow())
            )
            done.append(name)
    return done
