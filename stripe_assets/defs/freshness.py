"""Is the data on time? Freshness checks on every layer, landing to marts.

- `fresh` on every landing, raw and mart asset: updated within FRESHNESS_HOURS (default 26: an
  hourly sync and a daily dbt build leave room for one missed day). For a landing asset only a
  sync that read the table counts, so a table left out of STRIPE_RESOURCES goes stale like one
  whose sync fails; one left out that was never synced (a restricted key without the permission,
  as the 403's sentence advises) holds nothing to be late, and passes, saying so. A stale
  landing asset is an ERROR, since every number downstream is late;
  stale raw or marts warn: they follow the landing zone.
- `freshness_sensor` runs these checks on its own, between pipeline runs.

They sit at the top of the defs folder, not in `stripe/` or `dbt/`, because one sensor asks for
every layer's checks.

Written here rather than taken from Dagster's `FreshnessPolicy` or
`build_last_update_freshness_checks`, which judge an asset by its last materialization: a run
that syncs some tables materializes the others too, with `sync_mode` "excluded by
STRIPE_RESOURCES", because Dagster skips the whole raw step of a run when any landing output it
depends on is not yielded. Dagster's judges would count those as updates, so a table left out of
the sync would never go stale; this check skips them.
"""

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg

from stripe_assets.settings import load_settings

from .dbt.assets import stripe_dbt_models
from .dbt.metadata import MARTS
from .stripe.assets import NOT_SYNCED, landing_key
from .stripe.catalog import TABLES
from .stripe.warehouse import RAW_SCHEMA

FRESH_CHECK = "fresh"
LOOKBACK = 100  # materializations read at a time for a landing asset's last real sync
NEVER_SYNCED = "never synced"  # see _last_update


@dg.definitions
def freshness() -> dg.Definitions:
    """FRESHNESS_HOURS is a setting, read when the code location loads."""
    checks = freshness_checks(load_settings().freshness_hours)
    return dg.Definitions(asset_checks=checks, sensors=[freshness_sensor(checks)])


def freshness_checks(hours: float) -> list[dg.AssetChecksDefinition]:
    """One op per layer, so each layer's freshness is judged as soon as that layer is done."""
    layers = {
        "landing": [landing_key(t) for t in TABLES],
        "raw": [dg.AssetKey([RAW_SCHEMA, t]) for t in TABLES],
        "marts": [key for key in stripe_dbt_models.keys if key.path[0] == MARTS],
    }
    return [_freshness(layer, keys, hours) for layer, keys in layers.items()]


def _freshness(layer: str, keys: list[dg.AssetKey], hours: float) -> dg.AssetChecksDefinition:
    landing = layer == "landing"

    @dg.multi_asset_check(
        name=f"{layer}_freshness",
        specs=[
            dg.AssetCheckSpec(
                FRESH_CHECK,
                asset=key,
                description=f"Updated within the last {hours:g} hours (FRESHNESS_HOURS)"
                + (" by a sync that read the table." if landing else "."),
            )
            for key in keys
        ],
        can_subset=True,
    )
    def freshness(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        now = datetime.now(UTC).timestamp()
        for check_key in context.selected_asset_check_keys:
            updated_at = _last_update(context.instance, check_key.asset_key, synced_only=landing)
            age_s = None if updated_at in (None, NEVER_SYNCED) else now - updated_at
            fresh = age_s is not None and age_s <= hours * 3600
            yield dg.AssetCheckResult(
                asset_key=check_key.asset_key,
                check_name=FRESH_CHECK,
                passed=fresh or updated_at == NEVER_SYNCED,
                severity=dg.AssetCheckSeverity.ERROR if landing else dg.AssetCheckSeverity.WARN,
                description=None
                if fresh
                else f"Never synced: {NOT_SYNCED}."
                if updated_at == NEVER_SYNCED
                else "Never updated."
                if age_s is None
                else f"Last updated {age_s / 3600:.2f} hours ago.",
                metadata={"hours_since_update": -1.0 if age_s is None else round(age_s / 3600, 3)},
            )

    return freshness


def _last_update(
    instance: dg.DagsterInstance, key: dg.AssetKey, synced_only: bool
) -> float | str | None:
    """When the asset last materialized; for landing, the last time a sync actually read it,
    or NEVER_SYNCED when it has materialized only as left out of the sync."""
    records_filter, cursor = dg.AssetRecordsFilter(asset_key=key), None
    while True:
        result = instance.fetch_materializations(
            records_filter, limit=LOOKBACK if synced_only else 1, cursor=cursor
        )
        for record in result.records:
            sync_mode = record.asset_materialization.metadata.get("sync_mode")
            if not synced_only or sync_mode is None or sync_mode.value != NOT_SYNCED:
                return record.timestamp
        if not synced_only or not result.has_more:
            return NEVER_SYNCED if synced_only and (cursor or result.records) else None
        cursor = result.cursor


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
