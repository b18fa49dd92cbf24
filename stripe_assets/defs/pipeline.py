"""The whole pipeline as one job: what `make run` and the UI's "Materialize all" run."""

import dagster as dg

stripe_pipeline_job = dg.define_asset_job(
    "stripe_pipeline",
    # checks too of the landing assets of tables STRIPE_RESOURCES leaves out, which the run
    # does not materialize but whose freshness it judges
    selection=dg.AssetSelection.all() | dg.AssetSelection.all_asset_checks(),
    description="Extract Stripe once, land it, load raw, build every dbt model, run every check.",
)
