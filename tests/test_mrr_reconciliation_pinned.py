"""The reconciliation of tests/test_mrr_reconciliation.py on an account whose default API version
is ours (2026-10-28.endive), so the events an incremental run reads carry objects in the pinned
shape and are applied as they come, with no object read again.

A smaller business with every billing setup (asserted from the warehouse), settled in USD: every
month and currency of `mrr_monthly` and of the bridge equal the ledger's after the backfill, and
again once the business has lived on 25 more days (within Stripe's 30-day events window), synced
from those days' events; tests/test_mrr_reconciliation.py lives on 35 days in two spells.
"""

import dagster as dg
import pytest
import requests

from stripe_assets.defs.stripe.client import STRIPE_API_VERSION
from stripe_assets.sandbox.process import RunningSandbox, running_sandbox

from .conftest import (
    WITHOUT_DBT_TESTS,
    Workspace,
    assert_every_billing_setup_is_in,
    assert_movements_equal_truth,
    assert_mrr_equals_truth,
    query,
    run_pipeline,
)

BUSINESS = (
    *("--customers", "300", "--seed", "2", "--start", "2023-11-01", "--end", "2026-11-01"),
    *("--account-api-version", STRIPE_API_VERSION, "--settlement-currency", "usd"),
)


@pytest.fixture(scope="module")
def business() -> RunningSandbox:
    with running_sandbox(*BUSINESS) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("reconciliation_pinned"))


@pytest.fixture(scope="module")
def first_run(business: RunningSandbox, workspace: Workspace) -> dict:
    # dbt's data tests run on the build 25 days later (and on the main reconciliation's first)
    return run_pipeline(business, workspace, **WITHOUT_DBT_TESTS)


def test_mrr_and_its_bridge_equal_truth_with_every_setup(first_run: dict, workspace: Workspace):
    assert_every_billing_setup_is_in(workspace)
    assert_mrr_equals_truth(workspace, first_run)
    assert_movements_equal_truth(workspace, first_run)


def test_mrr_and_its_bridge_equal_truth_after_25_days(
    first_run: dict, business: RunningSandbox, workspace: Workspace
):
    answer = requests.post(f"{business.url}/_sandbox/advance", json={"days": 25}, timeout=300)
    assert answer.status_code == 200, answer.text
    truth = run_pipeline(business, workspace)
    assert truth["as_of"] > first_run["as_of"]
    assert_mrr_equals_truth(workspace, truth)
    assert_movements_equal_truth(workspace, truth)
    # the events were in our version: applied as they came, every row in the pinned shape
    versions = query(workspace, 'select distinct _api_version from "stripe"."stripe"."invoices"')
    assert versions == [(STRIPE_API_VERSION,)]
    assert latest_sync_mode(workspace, "invoices") == "incremental"
    # customers' discounts removed since the first sync: read from their events alone
    ((removed_since,),) = query(
        workspace,
        'select count(*) from "stripe"."staging"."stg_stripe__events" '
        "where event_type = 'customer.discount.deleted' and created_at > cast(? as timestamptz)",
        [first_run["as_of"]],
    )
    assert removed_since > 0
    # and the customers as raw holds them no longer show those discounts
    ((still_shown,),) = query(
        workspace,
        'select count(*) from "stripe"."staging"."stg_stripe__events" as events '
        'inner join "stripe"."staging"."stg_stripe__customers" as customers '
        "on customers.customer_id = json_extract_string(events.data, '$.object.customer') "
        "and json_extract_string(customers.discount, '$.id') = events.object_id "
        "where events.event_type = 'customer.discount.deleted'",
    )
    assert still_shown == 0


def latest_sync_mode(workspace: Workspace, table: str) -> str:
    with dg.DagsterInstance.from_config(str(workspace.dagster_home)) as instance:
        (record,) = instance.fetch_materializations(
            dg.AssetKey(["stripe_landing", table]), limit=1
        ).records
    return record.asset_materialization.metadata["sync_mode"].value
