"""The daily dbt build: every model built and tested from raw as it is, so the current month's
MRR moves on even on a day without a sync (DBT_BUILD_CRON). It starts stopped, like the rest of
the automation."""

import dagster as dg

from stripe_assets.settings import load_settings

DBT_GROUPS = ("dbt_staging", "dbt_intermediate", "dbt_marts")

stripe_dbt_build_job = dg.define_asset_job(
    "stripe_dbt_build",
    selection=dg.AssetSelection.groups(*DBT_GROUPS),
    description="Build and test every dbt model from raw as it is.",
)


@dg.definitions
def automation() -> dg.Definitions:
    """The schedule's cron is a setting, read when the code location loads."""
    return dg.Definitions(
        jobs=[stripe_dbt_build_job],
        schedules=[
            dg.ScheduleDefinition(
                name="stripe_dbt_build_schedule",
                job=stripe_dbt_build_job,
                cron_schedule=load_settings().dbt_build_cron,
                execution_timezone="UTC",
                description="Daily build and test of every dbt model.",
            )
        ],
    )
