"""Dagster's internals this project uses (dagster 1.13.27): cron validation as schedules judge
it, the code location's origin on runs executed in process, and the instance's storage.

The instance's storage is Dagster's own SQLite storage, same files, with the event log
keeping one SQLAlchemy engine, and one idle connection, per database instead of building both
for every event, and assigning a pool's slot that a race left unassigned (claim_concurrency_slot).

A run of this project stores about 1,500 events (each of its ~430 checks and ~40 models is
planned, then evaluated or materialized). Dagster's `SqliteEventLogStorage` creates and disposes
of an engine for each, which also throws away SQLAlchemy's cache of compiled statements, and
opens and closes a SQLite connection for each. py-spy put a fifth of a small `make run`'s own CPU
time in the engines, about 8 s, and after them 6 s of its 23 s in storing events, half of it
opening and closing connections: creating a run (its planned events) took 4.0 s of CPU, 6.2 s
of wall time; with a connection kept, 1.8 s and 2.3 s. A kept connection holds no lock between
transactions (SQLite locks per transaction), so other processes share the databases exactly as
before, and every commit still writes the run's own `.db` file, which the UI's log watcher
watches. One connection is enough: Dagster's `_db_lock` serializes every use of this storage.

It also remembers which tables exist, which Dagster asks for every check result it stores.
`SqliteEventLogStorage._connect` is a private hook. The launcher names the storage class in
`$DAGSTER_HOME/dagster.yaml`, so `make run`, `make dev` and the runs it launches all use it.
"""

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.definitions.repository_definition.valid_definitions import (
    SINGLETON_REPOSITORY_NAME,
)
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteRepositoryOrigin
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from dagster._utils.schedules import is_valid_cron_string
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

# Each run has its own event database; a long-lived process (the UI) reads many.
KEPT_ENGINES = 64


class EngineKeepingEventLogStorage(SqliteEventLogStorage):
    def __init__(self, base_dir: str, inst_data=None):
        self._engines: dict[str, Engine] = {}
        # not Dagster's _db_lock, which is held while has_table is called
        self._engines_lock = threading.Lock()
        self._tables: set[str] = set()
        super().__init__(base_dir, inst_data)
        after_fork = weakref.WeakMethod(self._after_fork_in_child)
        os.register_at_fork(after_in_child=lambda: (method := after_fork()) and method())

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
                    poolclass=QueuePool,
                    pool_size=1,  # kept idle between uses
                    max_overflow=-1,  # has_table's, while one is in use: closed after
                    connect_args={
                        "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
                        "check_same_thread": False,  # the pool hands it to one thread at a time
                    },
                )
                if len(self._engines) >= KEPT_ENGINES:
                    self._engines.pop(next(iter(self._engines))).dispose()
            self._engines[shard] = engine
            return engine

    def _forget_engines(self) -> None:
        with self._engines_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def _after_fork_in_child(self) -> None:
        """A forked child (asset code may fork: multiprocessing's default here; dlt spawns when
        Dagster runs it) must not use its parent's connections, nor wait for a lock that another
        of the parent's threads held."""
        self._engines_lock = threading.Lock()
        for engine in self._engines.values():
            engine.dispose(close=False)
        self._engines = {}

    def claim_concurrency_slot(self, concurrency_key, run_id, step_key, priority=None):
        """Dagster queues a step for a pool's slot as assigned only if a slot was unassigned
        when it checked, and assigns a freed slot to the next queued step when a step frees it.
        A step whose run checks (none unassigned), then queues after another process freed the
        slot in between, is never assigned: its run waits for ever (two `make run`s started
        together, one extraction quick). A slot left unassigned goes here to the step queued
        longest, as a freed slot would have."""
        if self.has_unassigned_slots(concurrency_key):
            self.assign_pending_steps([concurrency_key])
        return super().claim_concurrency_slot(concurrency_key, run_id, step_key, priority)

    def wipe(self) -> None:
        """Dagster deletes the runs' database files: their connections go first."""
        self._forget_engines()
        self._tables.clear()
        super().wipe()

    def dispose(self) -> None:
        self._forget_engines()
        super().dispose()


class SqliteStorage(DagsterSqliteStorage):
    """`DagsterSqliteStorage` (runs, event logs, schedules under one folder) with the event log
    above."""

    def __init__(self, base_dir: str, inst_data=None):
        super().__init__(base_dir, inst_data)
        self._event_log_storage = EngineKeepingEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> "SqliteStorage":
        return cls.from_local(inst_data=inst_data, **config_value)


def is_valid_cron(cron: str) -> bool:
    """As Dagster's schedules judge it (a definition with a bad one fails to load); Dagster has
    no public validator."""
    return is_valid_cron_string(cron)


@contextmanager
def runs_of_code_location(instance, location_name: str) -> Iterator[None]:
    """Runs `instance` creates in the block carry the code location's origin, as the UI's own
    launches do, so a run executed in process (`make run`) shows on the UI's Overview timeline,
    its job's page and each asset's history. `execute_in_process` takes no origin; it creates
    its run through `instance.create_run_for_job`, which does (its `remote_job_origin`)."""
    repository = RemoteRepositoryOrigin(
        RegisteredCodeLocationOrigin(location_name), SINGLETON_REPOSITORY_NAME
    )
    create = instance.create_run_for_job

    def create_with_origin(job_def, **arguments):
        origin = repository.get_job_origin(job_def.name)
        return create(job_def, **{**arguments, "remote_job_origin": origin})

    instance.create_run_for_job = create_with_origin
    try:
        yield
    finally:
        del instance.create_run_for_job
