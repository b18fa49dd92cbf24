"""The Dagster code location: Stripe ingestion, dbt models, checks and the pipeline job."""

import dagster as dg

from stripe_assets.defs.dbt.assets import stripe_dbt_models
from stripe_assets.defs.dbt.project import dbt_resource
from stripe_assets.defs.jobs import stripe_pipeline_job, stripe_raw_rebuild_job
from stripe_assets.defs.stripe.assets import stripe_landing, stripe_raw
from stripe_assets.defs.stripe.checks import raw_ids
from stripe_assets.defs.stripe.resources import build_resources


def build_definitions() -> dg.Definitions:
    """Built from the environment at call time, so tests can point it at temporary storage."""
    return dg.Definitions(
        assets=[stripe_landing, stripe_raw, stripe_dbt_models],
        asset_checks=[raw_ids],
        jobs=[stripe_pipeline_job, stripe_raw_rebuild_job],
        resources={**build_resources(), "dbt": dbt_resource()},
        # One process: steps share no DuckDB lock and skip re-importing (DESIGN.md §3).
        executor=dg.in_process_executor,
    )


defs = build_definitions()
