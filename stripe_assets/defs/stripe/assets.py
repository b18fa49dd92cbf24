"""Landing and raw assets: one asset per Stripe table in each layer, landing → raw lineage.

Each layer is one multi-asset because one dlt run moves every table at once: the API is read once
per run (landing), and raw is rebuilt from landed files without calling Stripe again.
"""

from collections.abc import Iterator

import dagster as dg

from .catalog import TABLES
from .client import STRIPE_API_VERSION, StripeApiError
from .extract import extract_to_landing
from .landing import DATASET, landing_zone
from .resources import StorageResource, StripeApiResource
from .warehouse import RAW_SCHEMA

LANDING_GROUP = "stripe_landing"
RAW_GROUP = "stripe_raw"
WAREHOUSE_POOL = "duckdb"


def landing_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([LANDING_GROUP, table])


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([RAW_SCHEMA, table])


@dg.multi_asset(
    name="stripe_landing",
    specs=[
        dg.AssetSpec(
            landing_key(table),
            group_name=LANDING_GROUP,
            description=f"Every `{table}` object fetched from Stripe, append-only Parquet, one "
            "file set per load.",
            kinds={"dlt", "parquet"},
        )
        for table in TABLES
    ],
)
def stripe_landing(
    context: dg.AssetExecutionContext, stripe_api: StripeApiResource, storage: StorageResource
) -> Iterator[dg.MaterializeResult]:
    try:
        landed = extract_to_landing(storage.landing_pipeline(), stripe_api.client())
    except Exception as error:
        raise _user_facing(error) from None
    context.log.info(
        f"Landed loads {landed.load_ids} (Stripe API {STRIPE_API_VERSION}): {dict(landed.rows)}"
    )
    for table in TABLES:
        yield dg.MaterializeResult(
            asset_key=landing_key(table),
            metadata={
                "rows_landed": landed.rows.get(table, 0),
                "load_ids": ", ".join(landed.load_ids),
                "api_version": STRIPE_API_VERSION,
                "path": dg.MetadataValue.path(f"{storage.landing_bucket_url}/{DATASET}/{table}"),
            },
        )


@dg.multi_asset(
    name="stripe_raw",
    specs=[
        dg.AssetSpec(
            raw_key(table),
            deps=[landing_key(table)],
            group_name=RAW_GROUP,
            description=f"Latest state of every Stripe `{table}` object, merged on `id` from "
            "the landing zone.",
            kinds={"dlt", "duckdb"},
        )
        for table in TABLES
    ],
    pool=WAREHOUSE_POOL,
)
def stripe_raw(
    context: dg.AssetExecutionContext, storage: StorageResource
) -> Iterator[dg.MaterializeResult]:
    pipeline = storage.raw_pipeline()
    pipeline.run(landing_zone(storage.landing_bucket_url))
    merged = pipeline.last_trace.last_normalize_info.row_counts
    with storage.connect() as con:
        for table in TABLES:
            (total,) = con.execute(f"select count(*) from {storage.raw_table(table)}").fetchone()
            yield dg.MaterializeResult(
                asset_key=raw_key(table),
                metadata={"row_count": total, "rows_merged_this_run": merged.get(table, 0)},
            )


def _user_facing(error: Exception) -> Exception:
    """dlt wraps extraction errors; surface ours as one sentence instead of a dlt traceback."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, StripeApiError):
            return dg.Failure(description=str(cause), allow_retries=False)
        cause = cause.__cause__ or cause.__context__
    return error
