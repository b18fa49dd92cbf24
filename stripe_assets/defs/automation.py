"""When the pipeline runs on its own, and when its data counts as late.

`stripe_automation` is the one sensor that evaluates every asset's `AutomationCondition`: the
landing assets sync on STRIPE_SYNC_CRON, the dbt models follow their upstreams and rebuild on
DBT_BUILD_CRON (see each folder's assets.py). It starts stopped: turn it on under Automation in
the UI. The conditions are built when the code location loads, so `AutomationResource`'s
values are read then (`automation_settings`); the freshness checks read theirs when they run.
"""

import warnings
from typing import Any

import dagster as dg
from pydantic import field_validator

from stripe_assets.settings import (
    DBT_BUILD_CRON_DEFAULT,
    SYNC_CRON_DEFAULT,
    EnvironmentResource,
    cron_problem,
    env_field,
    judged,
    positive_number_problem,
)


class AutomationResource(EnvironmentResource):
    sync_cron: str = env_field(
        "STRIPE_SYNC_CRON", SYNC_CRON_DEFAULT, "Cron of the incremental syncs into the landing zone"
    )
    dbt_build_cron: str = env_field(
        "DBT_BUILD_CRON", DBT_BUILD_CRON_DEFAULT, "Cron of the daily rebuild of every dbt model"
    )
    freshness_hours: float = env_field(
        "FRESHNESS_HOURS", 26.0, "Landing, raw and marts older than this are stale"
    )

    @field_validator("sync_cron", mode="before")
    @classmethod
    def _sync_cron(cls, cron: Any) -> Any:
        return judged(cron, lambda cron: cron_problem("STRIPE_SYNC_CRON", cron, SYNC_CRON_DEFAULT))

    @field_validator("dbt_build_cron", mode="before")
    @classmethod
    def _dbt_build_cron(cls, cron: Any) -> Any:
        return judged(
            cron, lambda cron: cron_problem("DBT_BUILD_CRON", cron, DBT_BUILD_CRON_DEFAULT)
        )

    @field_validator("freshness_hours", mode="before")
    @classmethod
    def _freshness_hours(cls, text: Any) -> Any:
        if not isinstance(text, str):
            return text
        return judged(text, lambda text: positive_number_problem("FRESHNESS_HOURS", text, "26"))


def automation_settings() -> AutomationResource:
    """The values the automation conditions are built with, as the code location loads."""
    return AutomationResource.from_environment()


# evaluated in the code location, not the daemon: the landing assets' ReadyToSync is our own
# code (a beta parameter, chosen knowingly: the warning would be printed at every load)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)
    stripe_automation = dg.AutomationConditionSensorDefinition(
        "stripe_automation",
        target=dg.AssetSelection.all(),
        minimum_interval_seconds=60,
        use_user_code_server=True,
        description="Syncs Stripe on its cron and keeps the dbt models up to date. Starts "
        "stopped: turn it on, with landing_zone_sensor, to run the pipeline unattended.",
    )
