"""The warehouse raw is loaded into and dbt builds in: a DuckDB file (the default) or a
PostgreSQL database (`WAREHOUSE=postgres`).

Everything that reads the warehouse (raw's metadata and checks, the models' metadata, the revenue
report, the run summary) goes through a `Warehouse`, so none of it is written twice: rows for a
SQL string, a relation's name, its columns and kind, and the two JSON expressions the dialects
spell differently. A relation or a column that does not exist raises the same exception on both.

DuckDB names a database after its file, so `stripe.duckdb` holding a schema `stripe` makes every
two-part name such as `stripe.customers` ambiguous ("Ambiguous reference to catalog or schema").
dlt writes two-part names, so its DuckDB destination is given a SQL client that qualifies names
with the catalog as well (compat/dlt.py), and `DuckDbWarehouse.relation` does the same.
"""

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import dagster as dg
import duckdb
import psycopg2
import psycopg2.errors
from dlt.destinations import duckdb as dlt_duckdb
from dlt.destinations import postgres as dlt_postgres
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.destinations.impl.postgres.configuration import PostgresCredentials

from stripe_assets.compat.dlt import CatalogQualifiedClient
from stripe_assets.settings import is_loopback

RAW_SCHEMA = "stripe"
# WAREHOUSE=spark: the DuckDB file under SPARK_DIR that dlt merges raw into (spark.py says why)
SPARK_RAW_MERGE_FILE = "raw.duckdb"
CONNECT_TIMEOUT_S = 10


class MissingRelation(Exception):
    """A table or view that was never built: a table left out of STRIPE_RESOURCES, a mart dbt
    has not built yet."""


class MissingColumn(Exception):
    """A column a query reads that the relation lacks: the account's objects have another shape
    (an older API version, a field Stripe never sent) than the query was written for."""


class WarehouseUnavailable(Exception):
    """The warehouse cannot be opened now: a DuckDB file another process holds, a PostgreSQL
    server that does not answer or refuses the login. The cause is chained."""


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Warehouse(ABC):
    """One open connection to the warehouse, for reading."""

    double_type = "double precision"  # the standard's name; Spark knows only `double`

    def records(self, sql: str) -> list[dict]:
        """A query's rows as dicts keyed by column name."""
        columns, rows = self._execute(sql)
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def rows(self, sql: str) -> list[tuple]:
        return [tuple(row) for row in self._execute(sql)[1]]

    def raw(self, table: str) -> str:
        """The name of a raw table, as queries write it."""
        return self.relation(RAW_SCHEMA, table)

    def columns(self, schema: str, relation: str) -> list[tuple[str, str]]:
        """A relation's columns and the warehouse's names for their types, in order."""
        return self.rows(
            "select column_name, data_type from information_schema.columns "
            f"where table_catalog = current_database() and table_schema = {_literal(schema)} "
            f"and table_name = {_literal(relation)} order by ordinal_position"
        )

    def table_schema(self, schema: str, relation: str) -> dg.TableSchema:
        """Its columns as Dagster's schema-change checks and the UI read them."""
        columns = self.columns(schema, relation)
        return dg.TableSchema(columns=[dg.TableColumn(name, kind) for name, kind in columns])

    def raw_row_counts(self, table: str) -> tuple[int, int] | None:
        """(rows, deleted rows) of a raw table; None when nothing was ever loaded into it."""
        try:
            ((rows, deleted),) = self.rows(
                f"select count(*), count(*) filter (where is_deleted) from {self.raw(table)}"
            )
        except MissingRelation:
            return None
        return rows, deleted

    def kind(self, schema: str, relation: str) -> str | None:
        """'BASE TABLE' or 'VIEW'; None when there is no such relation."""
        found = self.rows(
            "select table_type from information_schema.tables "
            f"where table_catalog = current_database() and table_schema = {_literal(schema)} "
            f"and table_name = {_literal(relation)}"
        )
        return found[0][0] if found else None

    @abstractmethod
    def refresh_statistics(self, schema: str, tables: list[str]) -> None:
        """Bring the planner's statistics of these tables up to date after a bulk write."""

    @abstractmethod
    def relation(self, schema: str, name: str) -> str: ...

    @abstractmethod
    def json_text(self, expression: str, path: str) -> str:
        """SQL: the text at `path` (`a.b`) in a JSON value."""

    @abstractmethod
    def json_elements(self, expression: str) -> str:
        """SQL, in a select list: one row per element of a JSON array, each a JSON value."""

    @abstractmethod
    def _execute(self, sql: str) -> tuple[list[str], list]: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class DuckDbWarehouse(Warehouse):
    def __init__(self, path: Path, read_only: bool = True) -> None:
        self.path = path
        try:
            self.con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as error:
            raise WarehouseUnavailable(f"{path} could not be opened ({error})") from error

    def relation(self, schema: str, name: str) -> str:
        return qualified(self.path, schema, name)

    def refresh_statistics(self, schema: str, tables: list[str]) -> None:
        """Nothing to do: DuckDB keeps its statistics as it writes."""

    def json_text(self, expression: str, path: str) -> str:
        return f"json_extract_string({expression}, '$.{path}')"

    def json_elements(self, expression: str) -> str:
        return f"unnest(json_extract({expression}, '$[*]'))"

    def _execute(self, sql: str) -> tuple[list[str], list]:
        try:
            result = self.con.execute(sql)
        except duckdb.CatalogException as error:
            raise MissingRelation(str(error).splitlines()[0]) from None
        except duckdb.BinderException as error:
            column = re.search(r'column(?: named)? "([^"]+)"', str(error))
            raise MissingColumn(column.group(1) if column else str(error).splitlines()[0]) from None
        return [column[0] for column in result.description], result.fetchall()

    def close(self) -> None:
        self.con.close()


@dataclass(frozen=True)
class PostgresConnection:
    """Where the PostgreSQL warehouse is and who logs in; the password is never shown."""

    host: str
    port: int
    user: str
    password: str
    database: str

    @property
    def sslmode(self) -> str:
        """TLS whenever the server is on another machine: the login must not cross the network
        in clear text. On loopback there is no network to cross."""
        return "prefer" if is_loopback(self.host) else "require"

    def __str__(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"

    def connect(self):
        return psycopg2.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=self.database,
            sslmode=self.sslmode,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name="stripe_assets",
        )

    def dlt_credentials(self) -> PostgresCredentials:
        credentials = PostgresCredentials()
        credentials.host, credentials.port = self.host, self.port
        credentials.username, credentials.password = self.user, self.password
        credentials.database, credentials.connect_timeout = self.database, CONNECT_TIMEOUT_S
        credentials.query = {"sslmode": self.sslmode}
        return credentials


class PostgresWarehouse(Warehouse):
    def __init__(self, connection: PostgresConnection) -> None:
        try:
            self.con = connection.connect()
        except psycopg2.OperationalError as error:
            raise WarehouseUnavailable(postgres_problem(connection, error)) from error
        self.con.autocommit = True  # reads only; a failed query must not abort the next ones

    def relation(self, schema: str, name: str) -> str:
        return f'"{schema}"."{name}"'

    def refresh_statistics(self, schema: str, tables: list[str]) -> None:
        """ANALYZE: right after a load autovacuum has not yet sampled the new rows, and a
        planner that takes a table of thousands of rows for empty nests loops over it (the raw
        checks took 20 s instead of 0.1 s on 3,000 customers, 400 s on 10,000)."""
        existing = [table for table in tables if self.kind(schema, table) == "BASE TABLE"]
        if existing:
            with self.con.cursor() as cursor:
                cursor.execute(f"analyze {', '.join(self.relation(schema, t) for t in existing)}")

    def json_text(self, expression: str, path: str) -> str:
        return f"(({expression})::jsonb #>> '{{{path.replace('.', ',')}}}')"

    def json_elements(self, expression: str) -> str:
        return f"jsonb_array_elements(({expression})::jsonb)"

    def _execute(self, sql: str) -> tuple[list[str], list]:
        with self.con.cursor() as cursor:
            try:
                cursor.execute(sql)
            except psycopg2.errors.UndefinedTable as error:
                raise MissingRelation(str(error).splitlines()[0]) from None
            except psycopg2.errors.UndefinedColumn as error:
                column = re.search(r'column "?(?:\w+\.)?([^" ]+)"? does not exist', str(error))
                raise MissingColumn(column.group(1) if column else str(error)) from None
            return [column.name for column in cursor.description], cursor.fetchall()

    def close(self) -> None:
        self.con.close()


def postgres_problem(connection: PostgresConnection, error: psycopg2.OperationalError) -> str:
    """One sentence for a PostgreSQL connection that failed, by what the server or the network
    said (libpq's own messages, which never quote the password)."""
    message = str(error).strip()
    where = f"PostgreSQL at {connection.host}:{connection.port}"
    if "password authentication failed" in message or "no password supplied" in message:
        return (
            f"{where} refused the login of {connection.user!r}: check POSTGRES_USER and "
            "POSTGRES_PASSWORD."
        )
    if f'database "{connection.database}" does not exist' in message:
        return (
            f"{where} has no database {connection.database!r}: create it (createdb "
            f"{connection.database}), or point POSTGRES_DB at one that exists."
        )
    if "SSL" in message and not is_loopback(connection.host):
        return (
            f"{where} does not accept TLS connections, and the login must not cross the network "
            "in clear text: enable SSL on the server."
        )
    first_line = message.splitlines()[0] if message else type(error).__name__
    return (
        f"Could not reach {where} ({first_line}): check POSTGRES_HOST and POSTGRES_PORT, and "
        "that the server is running."
    )


def catalog_of(path: Path) -> str:
    """DuckDB names a database after its file (as compat.dlt's client does for dlt's SQL)."""
    return path.stem


def qualified(path: Path, schema: str, table: str) -> str:
    return f'"{catalog_of(path)}"."{schema}"."{table}"'


class warehouse_destination(dlt_duckdb):  # noqa: N801 (dlt names destinations in lowercase)
    """dlt's DuckDB destination, with catalog-qualified names (see the module docstring), inside
    a memory limit (the raw load's merge spills to disk beyond it)."""

    def __init__(self, path: str, memory_limit: str) -> None:
        credentials = DuckDbCredentials(path, global_config={"memory_limit": memory_limit})
        super().__init__(credentials=credentials)

    @property
    def client_class(self) -> type[CatalogQualifiedClient]:
        return CatalogQualifiedClient


def postgres_destination(connection: PostgresConnection) -> dlt_postgres:
    """dlt's PostgreSQL destination as it is: PostgreSQL names no catalog after a file."""
    return dlt_postgres(credentials=connection.dlt_credentials())
