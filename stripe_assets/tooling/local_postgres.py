"""A real PostgreSQL server for the tests and `make bench`'s PostgreSQL figures: this machine's
PostgreSQL binaries (`initdb`, `pg_ctl`), a temporary cluster on a free loopback port, password
authentication (scram), gone when the block ends.

`initdb` refuses to run as root, so under root the cluster belongs to the `postgres` user and
every server command runs as it (`runuser`), in a folder of /tmp that user can reach.
"""

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2

SERVER_USER = "postgres"  # the owner of the cluster's files when the tests run as root
USER = "stripe_assets"


@dataclass(frozen=True)
class PostgresServer:
    port: int
    user: str
    password: str

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres"):
        con = psycopg2.connect(self.url(database))
        con.autocommit = True  # each statement its own transaction, as CREATE DATABASE must be
        return con

    def create_database(self, name: str) -> str:
        """A new empty database; its URL."""
        self.query("postgres", f'create database "{name}"')
        return self.url(name)

    def query(self, database: str, sql: str) -> list[tuple]:
        con = self.connect(database)
        try:
            with con.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall() if cursor.description else []
        finally:
            con.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    as_owner = ["runuser", "-u", SERVER_USER, "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="stripe-assets-pg-"))
    password = secrets.token_hex(12)
    (folder / "password").write_text(password)
    if as_owner:
        shutil.chown(folder, SERVER_USER)
        shutil.chown(folder / "password", SERVER_USER)
    data, port = folder / "data", free_port()
    server = ["pg_ctl", "--pgdata", str(data), "--log", str(folder / "server.log")]
    try:
        _run(
            [
                *as_owner,
                *("initdb", "--pgdata", str(data), "--username", USER, "--auth", "scram-sha-256"),
                *("--pwfile", str(folder / "password"), "--encoding", "UTF8", "--no-sync"),
            ]
        )
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        _run([*as_owner, *server, "--options", options, "--wait", "start"])
        yield PostgresServer(port=port, user=USER, password=password)
    finally:
        subprocess.run([*as_owner, *server, "--mode", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{command[0]} failed: {done.stdout}{done.stderr}")
