"""Is the data on time? Freshness checks on every layer, landing to marts.

- `fresh` on every landing, raw and mart asset: updated within FRESHNESS_HOURS (default 26: an
  hourly sync and a daily dbt build leave room for one missed day). A table left out of
  STRIPE_RESOURCES goes stale like one whose sync fails; one left out that was never synced (a
  restricted key without the permission, as the 403's sentence advises) holds nothing to be
  late, and passes, saying so. A stale landing asset is an ERROR, since every number downstream
  is late; stale raw or marts warn: they follow the landing zone.
- `freshness_sensor` runs these checks on its own, between pipeline runs.

They sit at the top of the defs folder, not in `stripe/` or `dbt/`, because one sensor asks for
every layer's checks.

Written here rather than taken from Dagster's `build_last_update_freshness_checks` (or its
`FreshnessPolicy`), which judge every asset alike: one with no materialization is overdue, so a
table a restricted key may not read, left out of the sync as the error advised, would fail the
landing layer's ERROR check for ever; and the severity differs by layer.
"""

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg

from .automation import automation_settings
from .dbt.assets import stripe_dbt_models
from .dbt.metadata import MARTS
from .stripe.assets import landing_key
from .stripe.catalog import TABLES
from .stripe.resources import StripeApiResource
from .stripe.warehouse import RAW_SCHEMA

FRESH_CHECK = "fresh"


@dg.definitions
def freshness() -> dg.Definitions:
    """FRESHNESS_HOURS and STRIPE_RESOURCES are settings, read when the code location loads."""
    synced = StripeApiResource.from_environment().tables()
    left_out = [landing_key(table) for table in TABLES if table not in synced]
    checks = freshness_checks(automation_settings().freshness_hours, left_out)
    return dg.Definitions(asset_checks=checks, sensors=[freshness_sensor(checks)])


def freshness_checks(hours: float, left_out: list[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    """One op per layer, so each layer's freshness is judged as soon as that layer is done."""
    layers = {
        "landing": [landing_key(t) for t in TABLES],
        "raw": [dg.AssetKey([RAW_SCHEMA, t]) for t in TABLES],
        "marts": [key for key in stripe_dbt_models.keys if key.path[0] == MARTS],
    }
    return [_freshness(layer, keys, hours, left_out) for layer, keys in layers.items()]


def _freshness(
    layer: str, keys: list[dg.AssetKey], hours: float, left_out: list[dg.AssetKey]
) -> dg.AssetChecksDefinition:
    landing = layer == "landing"

    @dg.multi_asset_check(
        name=f"{layer}_freshness",
        specs=[
            dg.AssetCheckSpec(
                FRESH_CHECK,
                asset=key,
                description=f"Updated within the last {hours:g} hours (FRESHNESS_HOURS).",
            )
            for key in keys
        ],
        can_subset=True,
    )
    def freshness(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        now = datetime.now(UTC).timestamp()
        for check_key in context.selected_asset_check_keys:
            key = check_key.asset_key
            record = context.instance.get_latest_materialization_event(key)
            age_s = None if record is None else now - record.timestamp
            fresh = age_s is not None and age_s <= hours * 3600
            never_synced = age_s is None and key in left_out
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=FRESH_CHECK,
                passed=fresh or never_synced,
                severity=dg.AssetCheckSeverity.ERROR if landing else dg.AssetCheckSeverity.WARN,
                description=None
                if fresh
                else "Never synced: STRIPE_RESOURCES leaves it out."
                if never_synced
                else "Never updated."
                if age_s is None
                else f"Last updated {age_s / 3600:.2f} hours ago.",
                metadata={"hours_since_update": -1.0 if age_s is None else round(age_s / 3600, 3)},
            )

    return freshness


def freshness_sensor(checks: list[dg.AssetChecksDefinition]) -> dg.SensorDefinition:
    @dg.sensor(
        name="freshness_sensor",
        asset_selection=dg.AssetSelection.checks(*checks),
        minimum_interval_seconds=3600,
        description="Evaluates every freshness check each hour, whether or not anything ran.",
    )
    def sensor(context: dg.SensorEvaluationContext) -> dg.RunRequest:
        return dg.RunRequest(asset_check_keys=[key for c in checks for key in c.check_keys])

    return sensor
