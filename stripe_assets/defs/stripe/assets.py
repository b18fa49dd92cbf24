"""Landing and raw assets: one asset per Stripe table in each layer, landing → raw lineage.

Each layer is one multi-asset because one dlt run moves many tables at once: the API is read once
per run (landing), and raw is loaded from landed files without calling Stripe again. Both can be
subset: materializing some tables' assets syncs only those resources (and their parents).

A table left out of STRIPE_RESOURCES keeps its landing asset, as one this code location does not
materialize (its history and freshness stay), so every asset a run selects is one it updates:
Dagster skips a whole downstream step (raw) when an upstream output it depends on is missing.

The landing assets sync on STRIPE_SYNC_CRON through an `AutomationCondition`. Raw has none: the
landing-zone sensor (automation.py) loads each new landing load, whoever wrote it, which a
condition on this deployment's own materializations cannot see.
"""

from collections.abc import Iterator

import dagster as dg
from pydantic import Field

from stripe_assets.defs.automation import automation_settings

from .catalog import TABLES, select
from .client import STRIPE_API_VERSION, StripeApiError
from .errors import user_facing
from .extract import StripeSync, data_origin, extract_to_landing
from .landing import DATASET, finish_interrupted_loads, landing_zone, write_manifests
from .preflight import ReadyToSync
from .resources import LANDING_PIPELINE, RAW_PIPELINE, StorageResource, StripeApiResource
from .warehouse import RAW_SCHEMA

LANDING_GROUP = "stripe_landing"
RAW_GROUP = "stripe_raw"
WAREHOUSE_POOL = "duckdb"
# one extraction at a time: concurrent ones would share the dlt pipeline's working state and
# spend the same Stripe request budget twice
LANDING_POOL = "landing"


def landing_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([LANDING_GROUP, table])


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([RAW_SCHEMA, table])


def _selected(context: dg.AssetExecutionContext, key_of) -> list[str]:
    keys = context.selected_asset_keys
    return [table for table in TABLES if key_of(table) in keys]


def landing_spec(table: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        landing_key(table),
        group_name=LANDING_GROUP,
        description=f"Every `{table}` object fetched from Stripe, append-only Parquet, one file "
        "set per load.",
        kinds={"dlt", "parquet"},
    )


def landing_assets(tables: list[str]) -> dg.AssetsDefinition:
    """The landing multi-asset for the tables a sync reads (all of them unless STRIPE_RESOURCES
    says otherwise)."""

    @dg.multi_asset(
        name="stripe_landing",
        specs=[landing_spec(table) for table in tables],
        can_subset=True,
        pool=LANDING_POOL,
    )
    def stripe_landing(
        context: dg.AssetExecutionContext, stripe_api: StripeApiResource, storage: StorageResource
    ) -> Iterator[dg.MaterializeResult]:
        yield from land(context, stripe_api, storage)

    return stripe_landing


def land(
    context: dg.AssetExecutionContext, stripe_api: StripeApiResource, storage: StorageResource
) -> Iterator[dg.MaterializeResult]:
    wanted = _selected(context, landing_key)
    if left_out := sorted(set(wanted) - set(stripe_api.tables())):
        raise dg.Failure(
            description=f"STRIPE_RESOURCES leaves out {', '.join(left_out)}, which this run was "
            "asked to sync: select only the tables it names, or add these to it.",
            allow_retries=False,
        )
    try:
        resources = select(wanted)
        sync = StripeSync(
            stripe_api.client(), resources, stripe_api.start(), data_origin(stripe_api.api_key)
        )
        with storage.exclusive(LANDING_PIPELINE):
            landed = extract_to_landing(storage.landing_pipeline(), sync)
            write_manifests(storage.landing_bucket_url, landed.load_ids, TABLES)
        if landed.failure is not None:
            read = sum(n for table, n in landed.rows.items() if table in TABLES)
            context.log.warning(
                f"The {read} objects this run read before it failed are landed: rerunning goes "
                "on from where it stopped."
            )
            raise landed.failure
    except (StripeApiError, ValueError) as error:
        raise dg.Failure(description=str(error), allow_retries=False) from None
    except Exception as error:
        failure = user_facing(error, storage.warehouse_name, storage.landing_bucket_url)
        if failure is None:
            raise
        raise failure from None
    report, log = sync.report, sync.client.log
    for note in report.notes:
        context.log.warning(note)
    context.log.info(
        f"Landed loads {landed.load_ids} (Stripe API {STRIPE_API_VERSION}): {dict(landed.rows)}; "
        f"{sum(log.requests.values())} requests, {sum(log.retries.values())} retries; "
        f"normalized by {landed.normalize_processes} process(es)"
    )
    for table in wanted:
        mode = report.mode_of(table)
        yield dg.MaterializeResult(
            asset_key=landing_key(table),
            metadata={
                "rows_landed": landed.rows.get(table, 0),
                "sync_mode": mode,
                "api_requests": log.requests.get(table, 0),
                "api_retries": log.retries.get(table, 0),
                "cursor": report.cursors.get(table) or report.cursors.get("events", ""),
                "fallback_reason": " ".join(report.notes) if "fallback" in mode else "",
                "load_ids": ", ".join(landed.load_ids),
                "normalize_processes": landed.normalize_processes,
                "api_version": STRIPE_API_VERSION,
                "path": dg.MetadataValue.path(f"{storage.landing_bucket_url}/{DATASET}/{table}"),
            },
        )


class RawLoadConfig(dg.Config):
    full_refresh: bool = Field(
        default=False,
        description="Empty the selected raw tables and reload them from every landed load.",
    )


@dg.multi_asset(
    name="stripe_raw",
    specs=[
        dg.AssetSpec(
            raw_key(table),
            deps=[landing_key(table)],
            group_name=RAW_GROUP,
            description=f"Latest state of every Stripe `{table}` object, merged on `id` from "
            "the landing zone; deleted objects kept with `is_deleted`.",
            kinds={"dlt", "duckdb"},
        )
        for table in TABLES
    ],
    can_subset=True,
    pool=WAREHOUSE_POOL,
)
def stripe_raw(
    context: dg.AssetExecutionContext, config: RawLoadConfig, storage: StorageResource
) -> Iterator[dg.MaterializeResult]:
    tables = _selected(context, raw_key)
    # emptied, not dropped: on PostgreSQL dbt's staging views depend on the raw tables
    refresh = "drop_data" if config.full_refresh else None
    try:
        with storage.exclusive(RAW_PIPELINE):
            pipeline = storage.raw_pipeline()
            for load_id in finish_interrupted_loads(pipeline):
                context.log.warning(f"Finished raw load {load_id}, left by an interrupted run.")
            pipeline.run(landing_zone(storage.landing_bucket_url, tables), refresh=refresh)
            storage.publish_raw(tables)
    except Exception as error:
        failure = user_facing(error, storage.warehouse_name, storage.landing_bucket_url)
        if failure is None:
            raise
        raise failure from None
    merged = pipeline.last_trace.last_normalize_info.row_counts
    with storage.connect() as warehouse:
        warehouse.refresh_statistics(RAW_SCHEMA, tables)
        for table in tables:
            rows, deleted = warehouse.raw_row_counts(table) or (0, 0)
            yield dg.MaterializeResult(
                asset_key=raw_key(table),
                metadata={
                    "row_count": rows,
                    "dagster/row_count": rows,
                    "deleted_rows": deleted,
                    "rows_merged_this_run": merged.get(table, 0),
                    "full_refresh": config.full_refresh,
                    "dagster/column_schema": warehouse.table_schema(RAW_SCHEMA, table),
                },
            )


stripe_landing = landing_assets(TABLES)


@dg.definitions
def assets() -> dg.Definitions:
    """Built from the settings as the code location loads: the tables a sync reads are landing
    assets of the multi-asset, those STRIPE_RESOURCES leaves out plain specs, and every landing
    asset the multi-asset holds syncs on STRIPE_SYNC_CRON, when a sync would get past its first
    step (preflight.py). Raw's kind is the warehouse WAREHOUSE names."""
    on_cron = dg.AutomationCondition.on_cron(automation_settings().sync_cron) & ReadyToSync()
    synced = StripeApiResource.from_environment().tables()
    warehouse = StorageResource.from_environment().warehouse
    landing = landing_assets(synced) if synced != TABLES else stripe_landing
    return dg.Definitions(
        assets=[
            landing.map_asset_specs(
                lambda spec: spec.replace_attributes(automation_condition=on_cron)
            ),
            *[
                landing_spec(table).replace_attributes(
                    description=f"Every `{table}` object fetched from Stripe while "
                    "STRIPE_RESOURCES named it; left out of the sync now."
                )
                for table in TABLES
                if table not in synced
            ],
            stripe_raw.map_asset_specs(
                lambda spec: spec.replace_attributes(kinds={"dlt", warehouse})
            ),
        ]
    )
