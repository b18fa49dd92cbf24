"""A raw table without a column a check reads (objects of another shape than the checks were
written for) fails that check with one sentence naming the table and the column; the checks
after it still run. Real DuckDB, the real check op, tables made by hand in the shape at issue."""

import dagster as dg

from stripe_assets.defs.stripe.assets import raw_key
from stripe_assets.defs.stripe.checks import raw_checks
from stripe_assets.defs.stripe.resources import StorageResource
from stripe_assets.defs.stripe.warehouse import connect


def test_a_missing_column_is_one_sentence_and_the_other_checks_still_run(tmp_path):
    path = tmp_path / "stripe.duckdb"
    with connect(path) as con:
        con.execute("create schema stripe.stripe")
        # invoices as an API version before 2025-03-31 had them: `subscription`, no `parent`
        con.execute(
            "create table stripe.stripe.invoices as select 'in_1' as id, 'cus_1' as customer, "
            "'sub_1' as subscription, 100 as subtotal, false as is_deleted, "
            "'l1' as _dlt_id"
        )
        con.execute(
            "create table stripe.stripe.invoice_line_items as select 'il_1' as id, "
            "'in_1' as invoice, 100 as amount, 'l2' as _dlt_id"
        )
        con.execute("create table stripe.stripe.customers as select 'cus_1' as id, 'l3' as _dlt_id")
    storage = StorageResource(landing_bucket_url=str(tmp_path / "landing"), duckdb_path=str(path))
    checks = dg.define_asset_job("raw_checks", selection=dg.AssetSelection.checks(raw_checks))
    definitions = dg.Definitions(
        asset_checks=[raw_checks], jobs=[checks], resources={"storage": storage}
    )
    result = definitions.resolve_job_def("raw_checks").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    evaluations = {(e.asset_key, e.check_name): e for e in result.get_asset_check_evaluations()}
    broken = evaluations[(raw_key("invoices"), "references_resolve")]
    assert not broken.passed
    assert broken.description.startswith("Raw invoices has no column `parent`, which this check")
    assert broken.description.count(".") == 1  # one sentence
    # the checks after it ran, on the same data
    assert evaluations[(raw_key("invoices"), "totals_match_lines")].passed
    assert evaluations[(raw_key("invoice_line_items"), "references_resolve")].passed
    assert evaluations[(raw_key("payouts"), "id_present_and_unique")].passed
