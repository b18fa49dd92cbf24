"""The DuckDB warehouse as dlt and our checks open it.

DuckDB names a database after its file, so `stripe.duckdb` holding a schema `stripe` makes every
two-part name such as `stripe.customers` ambiguous ("Ambiguous reference to catalog or schema").
dlt writes two-part names, so its DuckDB destination is given a SQL client that qualifies names
with the catalog as well; our own queries use `qualified()`.
"""

from pathlib import Path

import duckdb
from dlt.destinations import duckdb as dlt_duckdb
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from stripe_assets.compat.dlt import CatalogQualifiedClient

RAW_SCHEMA = "stripe"


def catalog_of(path: Path) -> str:
    """DuckDB names a database after its file (as compat.dlt's client does for dlt's SQL)."""
    return path.stem


def qualified(path: Path, schema: str, table: str) -> str:
    return f'"{catalog_of(path)}"."{schema}"."{table}"'


def records(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    """A query's rows as dicts keyed by column name."""
    result = con.execute(sql)
    columns = [column[0] for column in result.description]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=read_only)


class warehouse_destination(dlt_duckdb):  # noqa: N801 (dlt names destinations in lowercase)
    """dlt's DuckDB destination, with catalog-qualified names (see the module docstring), inside
    a memory limit (the raw load's merge spills to disk beyond it)."""

    def __init__(self, path: str, memory_limit: str) -> None:
        credentials = DuckDbCredentials(path, global_config={"memory_limit": memory_limit})
        super().__init__(credentials=credentials)

    @property
    def client_class(self) -> type[CatalogQualifiedClient]:
        return CatalogQualifiedClient
