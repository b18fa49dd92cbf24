"""Jobs: the whole pipeline, its three stages as the automation runs them, and a raw rebuild."""

import dagster as dg

from stripe_assets.defs.stripe.assets import LANDING_GROUP, RAW_GROUP

DBT_GROUPS = ("dbt_staging", "dbt_intermediate", "dbt_marts")

stripe_pipeline_job = dg.define_asset_job(
    "stripe_pipeline",
    selection=dg.AssetSelection.all(),
    description="Extract Stripe once, land it, load raw, build every dbt model, run every check.",
)

stripe_sync_job = dg.define_asset_job(
    "stripe_sync",
    selection=dg.AssetSelection.groups(LANDING_GROUP),
    description="Read what changed in Stripe into the landing zone (the landing sensor loads it).",
)

stripe_load_job = dg.define_asset_job(
    "stripe_load",
    selection=dg.AssetSelection.groups(RAW_GROUP).downstream(),
    description="Load new landing files into raw and rebuild the dbt models built on them.",
)

stripe_dbt_build_job = dg.define_asset_job(
    "stripe_dbt_build",
    selection=dg.AssetSelection.groups(*DBT_GROUPS),
    description="Build and test every dbt model from raw as it is.",
)

stripe_raw_rebuild_job = dg.define_asset_job(
    "stripe_raw_rebuild",
    selection=dg.AssetSelection.groups(RAW_GROUP),
    description="Drop raw DuckDB and reload it from every landed load; no Stripe request.",
    config={"ops": {"stripe_raw": {"config": {"full_refresh": True}}}},
)
