"""The dbt project on PostgreSQL: the same models, data tests and unit tests as on DuckDB, built
by dbt-postgres in a real PostgreSQL 15 server (tests/postgres.py), and MRR and its bridge equal
to the sandbox's ledger for every month and currency.

The business is the reconciliation's kind (tests/test_mrr_reconciliation.py), smaller: every
lifecycle case, stacked and customers' own discounts, tiered and package prices, four
currencies, an account on an older API version. Its landing zone is filled by the pipeline's own
extraction; raw is loaded into PostgreSQL from it by dlt's PostgreSQL destination with the
landing zone source the DuckDB raw load uses, so the models read raw as they would there. Built
from the same landing zone on DuckDB too, every mart holds the same rows on both engines.
"""

import datetime
import decimal
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import dlt
import duckdb
import pytest
from dlt.destinations import postgres as dlt_postgres

from stripe_assets.defs.stripe.assets import stripe_landing, stripe_raw
from stripe_assets.defs.stripe.catalog import TABLES
from stripe_assets.defs.stripe.landing import landing_zone
from stripe_assets.defs.stripe.warehouse import RAW_SCHEMA
from stripe_assets.sandbox.process import running_sandbox
from stripe_assets.settings import DBT_PROJECT_DIR

from .conftest import (
    assert_movements_equal_truth,
    assert_mrr_equals_truth,
    stripe_resources,
    truth_of,
)
from .postgres import PostgresServer, running_postgres

BUSINESS = (
    *("--customers", "150", "--seed", "5", "--start", "2024-11-01", "--end", "2026-11-01"),
    *("--account-api-version", "2024-06-20", "--settlement-currency", "usd"),
)
DBT = Path(sys.executable).with_name("dbt")


@pytest.fixture(scope="module")
def postgres() -> PostgresServer:
    with running_postgres() as server:
        yield server


def load_raw(postgres: PostgresServer, landing: Path) -> None:
    pipeline = dlt.pipeline(
        "stripe_raw_postgres",
        destination=dlt_postgres(credentials=postgres.url("warehouse")),
        dataset_name=RAW_SCHEMA,
        pipelines_dir=str(landing.parent / "dlt"),
    )
    pipeline.run(landing_zone(str(landing), list(TABLES)))


def dbt(
    command: str, target: str, env: dict[str, str], folder: Path
) -> subprocess.CompletedProcess:
    """A dbt command on the project with one of its targets, in target and log folders of its
    own (other tests build the project meanwhile)."""
    arguments = [str(DBT), command, "--target", target, "--project-dir", str(DBT_PROJECT_DIR)]
    arguments += ["--target-path", str(folder / "target"), "--log-path", str(folder / "logs")]
    env = {**os.environ, **env, "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}
    return subprocess.run(arguments, env=env, capture_output=True, text=True, timeout=900)


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
    """Every mart's rows, sorted, in its columns' order."""
    rows = {}
    for (table,) in query(tables_sql):
        columns = [
            name
            for (name,) in query(
                "select column_name from information_schema.columns where table_schema = "
                f"'analytics' and table_name = '{table}' order by ordinal_position"
            )
        ]
        selected = ", ".join(f'"{column}"' for column in columns)
        fetched = query(f"select {selected} from {relation.format(table=table)}")
        rows[table] = sorted((tuple(map(comparable, row)) for row in fetched), key=repr)
    return rows


def test_the_models_on_postgresql_equal_the_ledger_and_duckdb(
    postgres: PostgresServer, tmp_path, monkeypatch
):
    with running_sandbox(*BUSINESS) as sandbox:
        truth = truth_of(sandbox)
        monkeypatch.setenv("STRIPE_API_KEY", sandbox.api_key)
        resources = stripe_resources(sandbox.url, tmp_path)
        landed = dg.materialize(
            [stripe_landing],
            resources=resources,
            instance=dg.DagsterInstance.ephemeral(),
        )
        assert landed.success
    postgres.create_database("warehouse")
    load_raw(postgres, tmp_path / "landing")
    on_postgres = {
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": str(postgres.port),
        "POSTGRES_USER": postgres.user,
        "POSTGRES_PASSWORD": postgres.password,
        "POSTGRES_DB": "warehouse",
        "MRR_AS_OF": truth["as_of"],
    }
    built = dbt("build", "postgres", on_postgres, tmp_path / "postgres")
    assert built.returncode == 0, built.stdout[-6000:]
    assert " ERROR=0 " in built.stdout and " SKIP=0 " in built.stdout, built.stdout[-2000:]

    def read(sql: str) -> list[tuple]:
        return postgres.query("warehouse", sql)

    assert_mrr_equals_truth(read, truth)
    assert_movements_equal_truth(read, truth)
    assert len(truth["mrr"]) >= 24 * 3, "two years of three currencies at least"

    # the same landing zone loaded into DuckDB by the pipeline's raw load, the models run there
    raw_loaded = dg.materialize(
        [stripe_raw],
        resources={"storage": resources["storage"]},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert raw_loaded.success
    on_duckdb = {"DUCKDB_PATH": str(tmp_path / "stripe.duckdb"), "MRR_AS_OF": truth["as_of"]}
    ran = dbt("run", "dev", on_duckdb, tmp_path / "duckdb")
    assert ran.returncode == 0, ran.stdout[-6000:]
    with duckdb.connect(str(tmp_path / "stripe.duckdb"), read_only=True) as con:
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
