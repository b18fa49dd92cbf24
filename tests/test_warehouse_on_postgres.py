"""WAREHOUSE=postgres: the pipeline as `make run` runs it against a real PostgreSQL 15 server
(stripe_assets/tooling/local_postgres.py), raw loaded there by dlt's PostgreSQL destination,
every dbt model, data test and unit test built there by dbt-postgres, every asset check
evaluated there, and MRR and its bridge equal to the sandbox's ledger for every month and
currency.

The business is the reconciliation's kind (tests/test_mrr_reconciliation.py), smaller: every
lifecycle case, stacked and customers' own discounts, tiered and package prices, four
currencies, an account on an older API version. Its landing zone, loaded into DuckDB by the
pipeline's raw load and built there too, gives every mart the same rows on both engines. A
full refresh empties and reloads raw under dbt's views (PostgreSQL's views depend on the tables
they read), and the password is in no output, file or event the run leaves.
"""

import datetime
import decimal
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from stripe_assets.defs.stripe.assets import stripe_raw
from stripe_assets.defs.stripe.resources import StorageResource
from stripe_assets.sandbox.process import running_sandbox
from stripe_assets.settings import DBT_PROJECT_DIR
from stripe_assets.tooling.local_postgres import PostgresServer, running_postgres

from .conftest import (
    Workspace,
    assert_movements_equal_truth,
    assert_mrr_equals_truth,
    assert_raw_equals_truth,
    launch,
    pipeline_env,
    raw_rows,
    truth_of,
)

BUSINESS = (
    *("--customers", "150", "--seed", "5", "--start", "2024-11-01", "--end", "2026-11-01"),
    *("--account-api-version", "2024-06-20", "--settlement-currency", "usd"),
)
DBT = Path(sys.executable).with_name("dbt")


@pytest.fixture(scope="module")
def postgres() -> PostgresServer:
    with running_postgres() as server:
        yield server


def on_postgres(postgres: PostgresServer, database: str, **changed: str) -> dict[str, str]:
    return {
        "WAREHOUSE": "postgres",
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": str(postgres.port),
        "POSTGRES_USER": postgres.user,
        "POSTGRES_PASSWORD": postgres.password,
        "POSTGRES_DB": database,
        **changed,
    }


def comparable(value):
    """A mart's value as both engines' drivers can be compared on: numbers to six decimals
    (DuckDB's doubles are PostgreSQL's numerics), instants in UTC, JSON by content."""
    if isinstance(value, decimal.Decimal | float):
        return round(float(value), 6)
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.UTC).replace(tzinfo=None)
    if isinstance(value, str) and value[:1] in "{[":
        return json.dumps(json.loads(value), sort_keys=True)
    return value


def marts(query, tables_sql: str, relation: str) -> dict[str, list[tuple]]:
    """Every mart's rows, sorted, in its columns' order; not the raw load that wrote a fact's
    inputs (`raw_load_id`), which is each warehouse's own."""
    rows = {}
    for (table,) in query(tables_sql):
        columns = [
            name
            for (name,) in query(
                "select column_name from information_schema.columns where table_schema = "
                f"'analytics' and table_name = '{table}' order by ordinal_position"
            )
            if name != "raw_load_id"
        ]
        selected = ", ".join(f'"{column}"' for column in columns)
        fetched = query(f"select {selected} from {relation.format(table=table)}")
        rows[table] = sorted((tuple(map(comparable, row)) for row in fetched), key=repr)
    return rows


def files_holding(text: str, *folders: Path) -> list[Path]:
    """Every file under these folders whose bytes hold `text` (SQLite event logs included)."""
    needle = text.encode()
    return [
        path
        for folder in folders
        for path in folder.rglob("*")
        if path.is_file() and needle in path.read_bytes()
    ]


def test_the_pipeline_on_postgresql_equals_the_ledger_and_duckdb(
    postgres: PostgresServer, tmp_path
):
    workspace = Workspace(tmp_path / "pipeline")
    postgres.create_database("warehouse")
    with running_sandbox(*BUSINESS) as sandbox:
        truth = truth_of(sandbox)
        env = workspace.env(**pipeline_env(sandbox, truth), **on_postgres(postgres, "warehouse"))
        process = launch("run", env)
    output = process.stdout + process.stderr
    assert process.returncode == 0, output[-6000:]
    where = f"postgresql://{postgres.user}@127.0.0.1:{postgres.port}/warehouse"
    assert f"Raw tables ({where}, schema stripe):" in process.stdout
    checks = re.search(r"Checks: (\d+) passed", process.stdout)
    # raw's checks and every dbt data test, evaluated in PostgreSQL; the one warning allowed is
    # the events cursor's age (the business's clock stopped more than 30 days before today)
    assert checks and int(checks.group(1)) >= 400, output[-3000:]
    assert "\n  ERROR " not in process.stdout, output[-3000:]

    def read(sql: str) -> list[tuple]:
        return postgres.query("warehouse", sql)

    assert_raw_equals_truth(raw_rows(read), truth)
    assert_mrr_equals_truth(read, truth)
    assert_movements_equal_truth(read, truth)
    assert len(truth["mrr"]) >= 24 * 3, "two years of three currencies at least"

    # every table the run wrote was analyzed by it, not left for autovacuum: a planner without
    # statistics nests loops over a table it takes for empty
    tables = read(
        "select schemaname, relname, last_analyze from pg_stat_user_tables "
        "where schemaname in ('stripe', 'intermediate', 'analytics') and relname not like '\\_dlt%'"
    )
    assert {schema for schema, _, _ in tables} == {"stripe", "intermediate", "analytics"}
    assert [(schema, table) for schema, table, analyzed in tables if analyzed is None] == []

    # the password went to PostgreSQL alone: not to the console, a log, dlt's state, dbt's
    # artifacts or Dagster's event log
    storage = StorageResource(
        warehouse="postgres",
        postgres_port=str(postgres.port),
        postgres_user=postgres.user,
        postgres_db="warehouse",
    )
    # imported here: the dbt assets read the manifest, which the first run wrote
    from stripe_assets.defs.dbt.assets import build_folder, stripe_dbt_models

    dbt_folder = DBT_PROJECT_DIR / build_folder(stripe_dbt_models.op.name, storage)
    assert dbt_folder.is_dir()
    assert postgres.password not in output
    assert not files_holding(postgres.password, workspace.root, dbt_folder)

    # a full refresh empties raw and reloads it from the landing zone, dbt's views standing
    loaded = raw_rows(read)
    rebuilt = launch("rebuild-raw", env)
    assert rebuilt.returncode == 0, (rebuilt.stdout + rebuilt.stderr)[-4000:]
    assert raw_rows(read) == loaded

    # the same landing zone loaded into DuckDB by the pipeline's raw load, the models run there
    on_duckdb = StorageResource(
        landing_bucket_url=str(workspace.landing), duckdb_path=str(tmp_path / "stripe.duckdb")
    )
    raw_loaded = dg.materialize(
        [stripe_raw], resources={"storage": on_duckdb}, instance=dg.DagsterInstance.ephemeral()
    )
    assert raw_loaded.success
    arguments = [str(DBT), "run", "--project-dir", str(DBT_PROJECT_DIR)]
    arguments += ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    dbt_env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DUCKDB_PATH": on_duckdb.duckdb_path,
        "MRR_AS_OF": truth["as_of"],
    }
    ran = subprocess.run(arguments, env=dbt_env, capture_output=True, text=True, timeout=900)
    assert ran.returncode == 0, ran.stdout[-6000:]
    with duckdb.connect(on_duckdb.duckdb_path, read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        on_duckdb_marts = marts(
            lambda sql: con.execute(sql).fetchall(),
            "select table_name from information_schema.tables where table_schema = 'analytics'",
            '"stripe"."analytics"."{table}"',
        )
    on_postgres_marts = marts(
        read,
        "select table_name from information_schema.tables where table_schema = 'analytics' "
        "and table_type = 'BASE TABLE'",
        'analytics."{table}"',
    )
    assert set(on_postgres_marts) == set(on_duckdb_marts) and len(on_duckdb_marts) >= 15
    differ = [
        table for table in on_duckdb_marts if on_duckdb_marts[table] != on_postgres_marts[table]
    ]
    assert not differ, f"marts whose rows differ between DuckDB and PostgreSQL: {differ}"


def test_a_postgresql_that_cannot_be_used_is_one_sentence_before_anything_starts(
    postgres: PostgresServer, tmp_path
):
    """Judged by the storage resource's preflight, which `make run`, `make check` and the UI's
    launches ask before a run is created."""
    postgres.create_database("reachable")

    def problems(**changed: str) -> list[str]:
        settings = {**on_postgres(postgres, "reachable"), **changed}
        storage = StorageResource(
            landing_bucket_url=str(tmp_path / "landing"),
            duckdb_path=str(tmp_path / "stripe.duckdb"),
            warehouse=settings["WAREHOUSE"],
            postgres_host=settings["POSTGRES_HOST"],
            postgres_port=settings["POSTGRES_PORT"],
            postgres_user=settings["POSTGRES_USER"],
            postgres_password=settings["POSTGRES_PASSWORD"],
            postgres_db=settings["POSTGRES_DB"],
        )
        return storage.problems()

    assert problems() == []
    at = f"PostgreSQL at 127.0.0.1:{postgres.port}"
    assert problems(POSTGRES_PASSWORD="not-the-password") == [
        f"{at} refused the login of {postgres.user!r}: check POSTGRES_USER and POSTGRES_PASSWORD."
    ]
    assert problems(POSTGRES_DB="finance") == [
        f"{at} has no database 'finance': create it (createdb finance), or point POSTGRES_DB at "
        "one that exists."
    ]
    [unreachable] = problems(POSTGRES_PORT="1")
    assert unreachable.startswith("Could not reach PostgreSQL at 127.0.0.1:1 (")
    assert unreachable.endswith(
        "check POSTGRES_HOST and POSTGRES_PORT, and that the server is running."
    )
    assert not (tmp_path / "landing").exists(), "nothing was created"
