"""The Dagster instance's storage: Dagster's own SQLite storage, same files, with the event log
keeping one SQLAlchemy engine per database instead of building one for every event.

A run of this project stores about 1,500 events (each of its ~430 checks and ~40 models is
planned, then evaluated or materialized), and Dagster's `SqliteEventLogStorage` creates and
disposes of an engine for each, which also throws away SQLAlchemy's cache of compiled
statements. py-spy put a fifth of a small `make run`'s own CPU time there, about 8 s. The engines
here keep `NullPool`, as Dagster's do: every use still opens its own SQLite connection, so no
file is held open between uses and processes share the databases exactly as before.

It also remembers which tables exist, which Dagster asks for every check result it stores.
`SqliteEventLogStorage._connect` is a private hook of the pinned dagster: check it when
upgrading. The launcher names this class in `$DAGSTER_HOME/dagster.yaml`, so `make run`,
`make dev` and the runs it launches all use it.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

# Each run has its own event database; a long-lived process (the UI) reads many.
KEPT_ENGINES = 64


class EngineKeepingEventLogStorage(SqliteEventLogStorage):
    def __init__(self, base_dir: str, inst_data=None):
        self._engines: dict[str, Engine] = {}
        # not Dagster's _db_lock, which is held while has_table is called
        self._engines_lock = threading.Lock()
        self._tables: set[str] = set()
        super().__init__(base_dir, inst_data)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        """Asked for every asset check event stored; a table found stays (migrations add)."""
        if table_name not in self._tables:
            engine = self._engine(INDEX_SHARD_NAME)
            with engine.connect() as conn:
                if engine.dialect.has_table(conn, table_name):
                    self._tables.add(table_name)
        return table_name in self._tables

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            engine = self._engines.pop(shard, None)  # put back last: the most recently used
            if engine is None:
                engine = create_engine(
                    self.conn_string_for_shard(shard),
                    poolclass=NullPool,
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
                )
                if len(self._engines) >= KEPT_ENGINES:
                    self._engines.pop(next(iter(self._engines))).dispose()
            self._engines[shard] = engine
            return engine


class SqliteStorage(DagsterSqliteStorage):
    """`DagsterSqliteStorage` (runs, event logs, schedules under one folder) with the event log
    above."""

    def __init__(self, base_dir: str, inst_data=None):
        super().__init__(base_dir, inst_data)
        self._event_log_storage = EngineKeepingEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> "SqliteStorage":
        return cls.from_local(inst_data=inst_data, **config_value)
