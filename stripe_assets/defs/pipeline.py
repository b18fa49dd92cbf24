"""The whole pipeline as one job: what `make run` and the UI's "Materialize all" run."""

import dagster as dg

stripe_pipeline_job = dg.define_asset_job(
    "stripe_pipeline",
    selection=dg.AssetSelection.all(),
    description="Extract Stripe once, land it, load raw, build every dbt model, run every check.",
)
