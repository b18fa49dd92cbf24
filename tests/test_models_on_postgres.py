"""The dbt project on PostgreSQL: the same models, data tests and unit tests as on DuckDB, built
by dbt-postgres in a real PostgreSQL 15 server (tests/postgres.py), and MRR and its bridge equal
to the sandbox's ledger for every month and currency.

The business is the reconciliation's kind (tests/test_mrr_reconciliation.py), smaller: every
lifecycle case, stacked and customers' own discounts, tiered and package prices, four
currencies, an account on an older API version. Its landing zone is filled by the pipeline's own
extraction; raw is loaded into PostgreSQL from it by dlt's PostgreSQL destination with the
landing zone source the DuckDB raw load uses, so the models read raw as they would there.
"""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import dlt
import pytest
from dlt.destinations import postgres as dlt_postgres

from stripe_assets.defs.stripe.assets import stripe_landing
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


def dbt_build_on(postgres: PostgresServer, as_of: str, folder: Path) -> subprocess.CompletedProcess:
    """`dbt build` of every model, data test and unit test with the project's `postgres`
    target, its own target and log folders (other tests build the project meanwhile)."""
    env = {
        **os.environ,
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": str(postgres.port),
        "POSTGRES_USER": postgres.user,
        "POSTGRES_PASSWORD": postgres.password,
        "POSTGRES_DB": "warehouse",
        "MRR_AS_OF": as_of,
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
    }
    command = [str(DBT), "build", "--target", "postgres", "--project-dir", str(DBT_PROJECT_DIR)]
    command += ["--target-path", str(folder / "target"), "--log-path", str(folder / "logs")]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)


def test_the_models_build_on_postgresql_and_equal_the_ledger(
    postgres: PostgresServer, tmp_path, monkeypatch
):
    with running_sandbox(*BUSINESS) as sandbox:
        truth = truth_of(sandbox)
        monkeypatch.setenv("STRIPE_API_KEY", sandbox.api_key)
        landed = dg.materialize(
            [stripe_landing],
            resources=stripe_resources(sandbox.url, tmp_path),
            instance=dg.DagsterInstance.ephemeral(),
        )
        assert landed.success
    postgres.create_database("warehouse")
    load_raw(postgres, tmp_path / "landing")

    built = dbt_build_on(postgres, truth["as_of"], tmp_path)
    assert built.returncode == 0, built.stdout[-6000:]
    assert " ERROR=0 " in built.stdout and " SKIP=0 " in built.stdout, built.stdout[-2000:]

    def read(sql: str) -> list[tuple]:
        return postgres.query("warehouse", sql)

    assert_mrr_equals_truth(read, truth)
    assert_movements_equal_truth(read, truth)
    assert len(truth["mrr"]) >= 24 * 3, "two years of three currencies at least"
