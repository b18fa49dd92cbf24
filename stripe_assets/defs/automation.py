"""The one sensor that evaluates every asset's `AutomationCondition`: the landing assets sync on
STRIPE_SYNC_CRON, the dbt models follow their upstreams and rebuild on DBT_BUILD_CRON (see each
folder's assets.py). It starts stopped: turn it on under Automation in the UI."""

import dagster as dg

stripe_automation = dg.AutomationConditionSensorDefinition(
    "stripe_automation",
    target=dg.AssetSelection.all(),
    minimum_interval_seconds=60,
    description="Syncs Stripe on its cron and keeps the dbt models up to date. Starts stopped: "
    "turn it on, with landing_zone_sensor, to run the pipeline unattended.",
)
