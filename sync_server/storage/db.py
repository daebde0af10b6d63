"""Engine creation and the two kinds of transaction: reads, and writes that must not interleave.

Engine specifics (SQLite, PostgreSQL) live here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, Engine

WRITE = "qv_write"
# PostgreSQL's transaction-level advisory lock that serialises write transactions (any constant
# shared by every server process on the database; this one spells "qvwrite").
WRITE_LOCK = 0x7176_7772_6974_65


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC out; stored as naive UTC so text order is time order."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def create_engine(url: str, pool_size: int | None = None) -> Engine:
    """The engine on `url`; on PostgreSQL, `pool_size` connections kept open (default 5) and no
    more: beyond, a transaction waits for one to be free (up to 30 s) rather than open a
    connection it would close after, which costs PostgreSQL a process start each time."""
    if sa.make_url(url).get_backend_name() == "postgresql":
        pool = {} if pool_size is None else {"pool_size": pool_size}
        # Pinned whatever the database's default: `write` relies on it (see there).
        return sa.create_engine(url, isolation_level="READ COMMITTED", max_overflow=0, **pool)
    engine = sa.create_engine(url)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event decide how transactions start (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # An acknowledged record lets the device forget it: it must survive a power cut.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A write transaction takes the write lock up front: two uploads of the same batch then
        # run one after the other, and the second sees the first's rows instead of failing with
        # SQLITE_BUSY when a read snapshot is upgraded to a write.
        if connection.get_execution_options().get(WRITE):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """One write transaction, committed on success, rolled back on any exception.

    Write transactions never interleave with each other (SQLite: BEGIN IMMEDIATE; PostgreSQL: an
    advisory lock held until commit), so a write may read what is stored and act on it without a
    race. Records arriving (`append`) do not take that lock on PostgreSQL: see there."""
    with engine.connect() as connection:
        connection.execution_options(**{WRITE: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                # Taken before anything is read: at READ COMMITTED (PostgreSQL's default, kept)
                # each later statement sees what the previous writer committed.
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
            yield connection


@contextmanager
def append(engine: Engine) -> Iterator[Connection]:
    """A write transaction for records arriving: on PostgreSQL it takes no cluster-wide lock, so
    uploads through any number of processes run side by side. What it writes must be safe at
    READ COMMITTED without one: keyed inserts with ON CONFLICT DO NOTHING (the row's unique key
    makes a second writer of the same key wait for the first, then see its row), numbers from a
    sequence, single-row updates. SQLite has one writer at a time whatever is asked."""
    with engine.connect() as connection:
        connection.execution_options(**{WRITE: True})
        with connection.begin():
            yield connection


@contextmanager
def lead(engine: Engine, role: int) -> Iterator[Connection | None]:
    """A write transaction (as `write`) for the one process that holds `role` right now, or None
    at once when another process holds it: work that one process does for all (projecting the
    log) is not queued behind itself. SQLite: one process at a time anyway, always the leader."""
    with engine.connect() as connection:
        connection.execution_options(**{WRITE: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                held = connection.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({role})")
                if not held.scalar():
                    yield None
                    return
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
            yield connection


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """A consistent read snapshot: every statement of it sees the same committed data
    (PostgreSQL: REPEATABLE READ, read only; SQLite: a read transaction in WAL mode)."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        with connection.begin():
            yield connection


def insert_ignore(connection: Connection, table: sa.Table) -> Any:
    """`INSERT … ON CONFLICT DO NOTHING` in the connection's dialect."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    raise NotImplementedError(f"no INSERT … ON CONFLICT for {dialect}")


def upsert(
    connection: Connection, table: sa.Table, key: Sequence[str], values: dict[str, Any]
) -> None:
    """`INSERT … ON CONFLICT (key) DO UPDATE` with `values`: the row keyed by `key` made or
    replaced in one keyed statement, whatever else writes at the same moment."""
    statement = _upsert(connection.dialect.name, table, tuple(key), tuple(values))
    connection.execute(statement, values)


@cache
def _upsert(dialect: str, table: sa.Table, key: tuple[str, ...], columns: tuple[str, ...]) -> Any:
    # Built once per table and columns, the values given as parameters: SQLAlchemy then finds
    # the compiled statement in its cache instead of building and keying a new one per call.
    if dialect == "sqlite":
        statement: Any = sqlite.insert(table)
    elif dialect == "postgresql":
        statement = postgresql.insert(table)
    else:
        raise NotImplementedError(f"no INSERT … ON CONFLICT for {dialect}")
    changed = {name: statement.excluded[name] for name in columns if name not in key}
    return statement.on_conflict_do_update(index_elements=list(key), set_=changed)


# -- bulk rows: straight to the driver, for the hot ingestion path ----------------------------
# SQLAlchemy's per-row parameter processing costs more than SQLite's insert itself, so the
# rows of a batch are built as plain tuples with values the driver takes as they are.

_MARKERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _marker(dialect: Dialect) -> str:
    """The driver's positional parameter marker (raw SQL goes to the driver as written)."""
    marker = _MARKERS.get(dialect.loaded_dbapi.paramstyle)
    if marker is None:
        raise NotImplementedError(f"no positional parameters for {dialect.name}")
    return marker


def _sqlite_time(value: datetime) -> str:
    # The text SQLAlchemy's DateTime writes to SQLite, so both paths store and sort alike.
    text = value.isoformat(" ", "microseconds")
    if text.endswith("+00:00"):  # already UTC, as nearly every device sends: no conversion
        return text[:-6]
    return _naive_utc(value).isoformat(" ", "microseconds")


def _naive_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC).replace(tzinfo=None)


def time_value(connection: Connection) -> Callable[[datetime], Any]:
    """How a `UtcDateTime` value goes into rows for `insert_rows` (aware datetime in)."""
    return time_value_for(connection.engine)


def time_value_for(engine: Engine) -> Callable[[datetime], Any]:
    """As `time_value`, for rows prepared before a connection is taken."""
    return _sqlite_time if engine.dialect.name == "sqlite" else _naive_utc


def date_value(connection: Connection) -> Callable[[date], Any]:
    """How a `Date` value goes into rows for `insert_rows` (SQLite keeps ISO text)."""
    return date.isoformat if connection.dialect.name == "sqlite" else _same_date


def _same_date(value: date) -> date:
    return value


def text_value(value: str | None) -> str | None:
    """Free text (a visitor's comment, a ticket) as every engine stores it: PostgreSQL's text
    cannot hold NUL, so it is dropped on SQLite too (the records log keeps it, JSON-escaped)."""
    return value.replace("\x00", "") if value and "\x00" in value else value


@cache
def _insert_sql(dialect: Dialect, table: sa.Table, columns: tuple[str, ...]) -> str:
    marker = _marker(dialect)
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(table.c[name].name) for name in columns)
    markers = ", ".join([marker] * len(columns))
    # Identifiers come from the schema, quoted; every value is a parameter.
    return f"INSERT INTO {quote(table.name)} ({names}) VALUES ({markers})"  # noqa: S608


@cache
def _insert_arrays_sql(dialect: Dialect, table: sa.Table, columns: tuple[str, ...]) -> str:
    """PostgreSQL: the rows as one array per column, `unnest` making them rows again (in
    order). Each array is cast to its column's type without a length, so an over-long value
    is refused by the column rather than cut by the cast."""
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(table.c[name].name) for name in columns)
    arrays = ", ".join(f"%b::{_base_type(table.c[name], dialect)}[]" for name in columns)
    return f"INSERT INTO {quote(table.name)} ({names}) SELECT * FROM unnest({arrays})"  # noqa: S608


def _base_type(column: sa.Column[Any], dialect: Dialect) -> str:
    return column.type.compile(dialect=dialect).split("(", 1)[0].strip()


@cache
def _float_columns(table: sa.Table, columns: tuple[str, ...]) -> tuple[int, ...]:
    """The positions of `columns` that hold floating-point numbers (an array holds one type:
    a JSON number may arrive as an int)."""
    return tuple(
        index for index, name in enumerate(columns) if isinstance(table.c[name].type, sa.Float)
    )


def _insert(
    connection: Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    tail: str = "",
) -> int:
    """The INSERT of `rows`, in the order given; the driver's row count. SQLite runs its
    prepared one-row statement per row, what it is quickest at. PostgreSQL gets one statement
    with an array per column, sent in binary: parsed, planned and run once for the batch
    (one-row statements cost it a third more, and a multi-row VALUES list is parsed again by
    the driver at each call, past 50 parameters)."""
    names = tuple(columns)
    dialect = connection.dialect
    if dialect.name != "postgresql":
        sql = _insert_sql(dialect, table, names) + tail
        return int(connection.exec_driver_sql(sql, rows).rowcount)
    arrays = [list(values) for values in zip(*rows, strict=True)]
    for index in _float_columns(table, names):
        arrays[index] = [None if value is None else float(value) for value in arrays[index]]
    sql = _insert_arrays_sql(dialect, table, names) + tail
    return int(connection.exec_driver_sql(sql, tuple(arrays)).rowcount)


def insert_rows(
    connection: Connection, table: sa.Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """A plain INSERT of many rows, each a tuple in `columns` order, in as few statements as
    the engine does best (rows inserted in the order given).

    Values go to the driver unconverted: times through `time_value`, booleans and numbers as
    Python values. A row that breaks a constraint raises (nothing is ignored)."""
    if rows:
        _insert(connection, table, columns, rows)


def insert_new_rows(
    connection: Connection, table: sa.Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> int:
    """As `insert_rows`, skipping rows whose key is already there (`ON CONFLICT DO NOTHING`,
    both engines); returns the driver's row count: the rows inserted, or less when it cannot
    tell (the caller then looks at what is stored)."""
    if not rows:
        return 0
    return _insert(connection, table, columns, rows, " ON CONFLICT DO NOTHING")


def select_where_in(
    connection: Connection,
    table: sa.Table,
    columns: Sequence[str],
    key: str,
    values: Iterable[Any],
    chunk: int = 500,
) -> list[tuple[Any, ...]]:
    """`SELECT columns FROM table WHERE key IN values`, as raw driver rows, in chunks."""
    dialect = connection.dialect
    marker = _marker(dialect)
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(table.c[name].name) for name in columns)
    wanted = list(values)
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(wanted), chunk):
        part = wanted[start : start + chunk]
        markers = ", ".join([marker] * len(part))
        # Identifiers come from the schema, quoted; every value is a parameter.
        sql = f"SELECT {names} FROM {quote(table.name)} WHERE {quote(table.c[key].name)} IN ({markers})"  # noqa: S608, E501
        found.extend(tuple(row) for row in connection.exec_driver_sql(sql, tuple(part)))
    return found


def raw_time(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """A `UtcDateTime` column read as the driver gives it, for reads of many rows: SQLite's
    text goes through `as_utc` at a fraction of the cost of SQLAlchemy's result processing."""
    return sa.type_coerce(column, sa.String)


def as_utc(value: str | datetime | None) -> datetime | None:
    """A value read through `raw_time` as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value + "+00:00")  # five times faster than .replace
    return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
