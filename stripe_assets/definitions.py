"""The Dagster code location: Stripe ingestion, dbt models, checks, jobs and automation."""

import dagster as dg

from stripe_assets.defs.automation import landing_zone_sensor, schedules
from stripe_assets.defs.dbt.assets import stripe_dbt_models
from stripe_assets.defs.dbt.project import dbt_resource
from stripe_assets.defs.jobs import (
    stripe_dbt_build_job,
    stripe_load_job,
    stripe_pipeline_job,
    stripe_raw_rebuild_job,
    stripe_sync_job,
)
from stripe_assets.defs.monitoring import events_cursor_age, freshness_checks, freshness_sensor
from stripe_assets.defs.stripe.assets import stripe_landing, stripe_raw
from stripe_assets.defs.stripe.checks import raw_checks
from stripe_assets.defs.stripe.resources import build_resources
from stripe_assets.settings import load_settings

MARTS_SCHEMA = "analytics"


def build_definitions() -> dg.Definitions:
    """Built from the environment at call time, so tests can point it at temporary storage."""
    settings = load_settings()
    marts = [key for key in stripe_dbt_models.keys if key.path[0] == MARTS_SCHEMA]
    freshness = freshness_checks(settings, marts)
    return dg.Definitions(
        assets=[stripe_landing, stripe_raw, stripe_dbt_models],
        asset_checks=[raw_checks, events_cursor_age, *freshness],
        jobs=[
            stripe_pipeline_job,
            stripe_sync_job,
            stripe_load_job,
            stripe_dbt_build_job,
            stripe_raw_rebuild_job,
        ],
        schedules=schedules(settings),
        sensors=[landing_zone_sensor(settings), freshness_sensor(freshness)],
        resources={**build_resources(settings), "dbt": dbt_resource()},
        # One process: steps share no DuckDB lock and skip re-importing (docs/DESIGN.md §3).
        executor=dg.in_process_executor,
    )


defs = build_definitions()
