"""MRR reconciled to the cent against the sandbox's own ledger, over a whole business's life.

A sandbox of 600 customers over 3 years with every lifecycle case on (trials, failed payments
and dunning, unpaid spells, pauses, upgrades, seat changes, forever/once/repeating coupons, price
rises, cancellations, returns) runs through the pipeline as `make run` runs it. Every month and
currency of `analytics.mrr_monthly` must equal `/_sandbox/truth` (one minor unit of rounding is
the only tolerance), before and after the business lives on (`advance`, 10 days and then 25 more)
and incremental runs pick the changes up.

Its account's default API version is 2024-06-20, as on most real accounts, so the events the
incremental run reads carry objects in that older shape (tests/test_mrr_reconciliation_pinned.py,
the pipeline, crash and S3 tests reconcile an account on our pinned version); and it settles in USD
what it charges in EUR, GBP and JPY, so its balance transactions are converted at Stripe's
`exchange_rate`, which the raw reconciliation and revenue_daily follow. Its business has tiered and
package prices, upgrades from a free price, plan switches without proration, stacked discounts and
customers' own discounts (some of them on customers deleted since), subscriptions cancelled and
replaced within a month, customers who moved to another currency, and Stripe's own fees. The MRR
bridge (`mrr_movements`) must equal the ledger's too, every month and currency.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import requests

from stripe_assets.sandbox.process import RunningSandbox, running_sandbox
from stripe_assets.settings import DBT_PROJECT_DIR

from .conftest import (
    WITHOUT_DBT_TESTS,
    Workspace,
    assert_every_billing_setup_is_in,
    assert_movements_equal_truth,
    assert_mrr_equals_truth,
    run_pipeline,
    truth_of,
)

BUSINESS = (
    *("--customers", "600", "--seed", "5", "--start", "2023-11-01", "--end", "2026-11-01"),
    *("--account-api-version", "2024-06-20", "--settlement-currency", "usd"),
)


@pytest.fixture(scope="module")
def business() -> RunningSandbox:
    with running_sandbox(*BUSINESS) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("reconciliation"))


@pytest.fixture(scope="module")
def first_run(business: RunningSandbox, workspace: Workspace) -> dict:
    return run_pipeline(business, workspace)


def test_history_needs_rebuilding(first_run: dict, workspace: Workspace):
    """The business exercises what a current-state MRR would get wrong."""
    assert_every_billing_setup_is_in(workspace)


def test_mrr_equals_truth_for_every_month_and_currency(first_run: dict, workspace: Workspace):
    assert_mrr_equals_truth(workspace, first_run)
    assert len(first_run["mrr"]) >= 36 * 4, "three years of four currencies"
    assert_movements_equal_truth(workspace, first_run)


def test_mrr_still_equals_truth_after_the_business_lives_on(
    first_run: dict, business: RunningSandbox, workspace: Workspace
):
    answer = requests.post(f"{business.url}/_sandbox/advance", json={"days": 10}, timeout=300)
    assert answer.status_code == 200, answer.text
    # dbt's data tests run on the first build and the last; the ledger checks this one
    truth = run_pipeline(business, workspace, **WITHOUT_DBT_TESTS)
    assert truth["as_of"] > first_run["as_of"]
    assert_mrr_equals_truth(workspace, truth)
    assert_movements_equal_truth(workspace, truth)
    # ten days of changes are normalized in the run's own process
    *_, incremental = landing_normalize_processes(workspace)
    assert incremental == 1


def test_mrr_equals_truth_35_days_on(
    first_run: dict, business: RunningSandbox, workspace: Workspace
):
    """25 days more (35 since the first run), synced again from the events of those days."""
    before = truth_of(business)["as_of"]
    answer = requests.post(f"{business.url}/_sandbox/advance", json={"days": 25}, timeout=300)
    assert answer.status_code == 200, answer.text
    truth = run_pipeline(business, workspace)
    assert truth["as_of"] > before > first_run["as_of"]
    assert_mrr_equals_truth(workspace, truth)
    assert_movements_equal_truth(workspace, truth)


INCREMENTAL_FACTS = (
    "fct_invoices",
    "fct_invoice_lines",
    "fct_charges",
    "fct_refunds",
    "fct_balance_transactions",
)


def test_the_incremental_facts_equal_a_full_refresh(
    first_run: dict, workspace: Workspace, tmp_path
):
    """The builds after the first (the tests above, in order) topped the incremental facts up
    with the rows each sync changed (their last build deleted and inserted rows); rebuilt whole
    from the same raw tables, they hold the same rows."""
    executed = workspace.dbt_build_folder / "run" / "stripe_revenue" / "models" / "marts"
    for fact in INCREMENTAL_FACTS:
        assert "delete from" in (executed / f"{fact}.sql").read_text(), fact
    copy = tmp_path / "stripe.duckdb"  # the same file name: dbt qualifies names with it
    shutil.copyfile(workspace.duckdb_path, copy)
    dbt = [str(Path(sys.executable).with_name("dbt")), "run", "--full-refresh"]
    dbt += ["--project-dir", str(DBT_PROJECT_DIR), "--select", *INCREMENTAL_FACTS]
    dbt += ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    env = {**os.environ, "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR), "DUCKDB_PATH": str(copy)}
    rebuilt = subprocess.run(dbt, env=env, capture_output=True, text=True, timeout=600)
    assert rebuilt.returncode == 0, rebuilt.stdout[-4000:]
    for fact in INCREMENTAL_FACTS:
        sql = f'select * from "stripe"."analytics"."{fact}" order by 1'
        with duckdb.connect(str(workspace.duckdb_path), read_only=True) as con:
            incremental = con.execute(sql).fetchall()
        with duckdb.connect(str(copy), read_only=True) as con:
            whole = con.execute(sql).fetchall()
        assert incremental == whole, fact
        assert len({row[-1] for row in whole}) > 1, "rows written by different raw loads"


def landing_normalize_processes(workspace: Workspace) -> list[int]:
    """How many processes normalized each run's landing load, oldest run first."""
    with dg.DagsterInstance.from_config(str(workspace.dagster_home)) as instance:
        records = instance.fetch_materializations(
            dg.AssetKey(["stripe_landing", "customers"]), limit=100, ascending=True
        ).records
    return [r.asset_materialization.metadata["normalize_processes"].value for r in records]
