"""A throwaway PostgreSQL cluster from Debian's binaries: `initdb` in a temporary directory, a
free loopback port, no durability. The tests' session cluster (`tests/fixtures/postgres.py`) and
the benches (`bench/scale_out.py`) both start theirs here.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT = 30  # seconds for a fresh cluster to accept connections


class ClusterError(Exception):
    """PostgreSQL is missing or would not start; the message says what to do or what it said."""


@dataclass
class PostgresCluster:
    port: int
    directory: Path
    _numbers: itertools.count = field(default_factory=lambda: itertools.count(1))

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self):
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        )

    def create_database(self, prefix: str = "test") -> str:
        """A new empty database; its name."""
        name = f"{prefix}_{os.getpid()}_{next(self._numbers)}"
        with self._admin() as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        with self._admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @property
    def postmaster_pid(self) -> int:
        """The server's main process (its first line of `postmaster.pid`)."""
        text = (self.directory / "data" / "postmaster.pid").read_text()
        return int(text.split()[0])


def postgres_bin() -> Path:
    """Debian's PostgreSQL binaries (the newest installed), else `initdb` on the PATH."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    if on_path is None:
        raise ClusterError("no initdb")
    return Path(on_path).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: the cluster belongs to the `postgres` system user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _run(command: list[str]) -> None:
    result = subprocess.run(_as_postgres(command), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ClusterError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")


def _check_ready(cluster: PostgresCluster, log: Path) -> None:
    """`pg_ctl start -w` has waited for the server itself: one connection must now work."""
    import psycopg

    try:
        with cluster._admin() as connection:
            connection.execute("SELECT 1")
    except psycopg.OperationalError as error:
        text = log.read_text() if log.exists() else "(no log)"
        raise ClusterError(f"PostgreSQL did not accept connections: {error}\n{text}") from None


@contextmanager
def running_cluster(*settings: str) -> Iterator[PostgresCluster]:
    """A cluster in a temp directory on a free loopback port, stopped and removed on exit;
    `settings` are more `name=value` server settings (e.g. "max_connections=200")."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise ClusterError("no psycopg driver") from None
    bindir = postgres_bin()
    directory = Path(tempfile.mkdtemp(prefix="qv-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    data, log = directory / "data", directory / "server.log"
    port = free_port()
    cluster = PostgresCluster(port=port, directory=directory)
    try:
        _run(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
             "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]
        )  # fmt: skip
        # Durability is not under test here: a throwaway cluster may lose everything on a crash.
        options = (
            f"-p {port} -k {directory} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            + "".join(f" -c {setting}" for setting in settings)
        )
        # -w: pg_ctl returns once the server accepts connections (or fails after -t seconds).
        _run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w",
             "-t", str(START_TIMEOUT), "start"]
        )  # fmt: skip
        _check_ready(cluster, log)
        yield cluster
    finally:
        subprocess.run(
            _as_postgres(
                [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
            ),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(directory, ignore_errors=True)
