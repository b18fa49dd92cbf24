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

import re
from pathlib import Path

import pytest

from stripe_assets.defs.stripe.resources import StorageResource
from stripe_assets.sandbox.process import running_sandbox
from stripe_assets.settings import DBT_PROJECT_DIR
from stripe_assets.tooling.local_postgres import PostgresServer, running_postgres

from .conftest import (
    ENGINE_BUSINESS,
    Workspace,
    assert_movements_equal_truth,
    assert_mrr_equals_truth,
    assert_raw_equals_truth,
    launch,
    marts,
    marts_built_on_duckdb,
    pipeline_env,
    raw_rows,
    truth_of,
)


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
    workspace = Workspace(tmp_path / "pipeline", dbt_file_log=True)  # searched for the password
    postgres.create_database("warehouse")
    with running_sandbox(*ENGINE_BUSINESS) as sandbox:
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
    on_duckdb_marts = marts_built_on_duckdb(workspace.landing, tmp_path, truth["as_of"])
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
