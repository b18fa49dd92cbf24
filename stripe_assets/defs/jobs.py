"""Jobs: the whole pipeline, and a rebuild of raw from the landing zone."""

import dagster as dg

stripe_pipeline_job = dg.define_asset_job(
    "stripe_pipeline",
    selection=dg.AssetSelection.all(),
    description="Extract Stripe once, land it, load raw, build every dbt model, run every check.",
)

stripe_raw_rebuild_job = dg.define_asset_job(
    "stripe_raw_rebuild",
    selection=dg.AssetSelection.groups("stripe_raw"),
    description="Drop raw DuckDB and reload it from every landed load; no Stripe request.",
    config={"ops": {"stripe_raw": {"config": {"full_refresh": True}}}},
)
