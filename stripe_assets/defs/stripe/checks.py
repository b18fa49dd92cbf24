"""Python asset checks on the raw layer.

`id` must be present and unique in every raw table: the merge on `id` is what makes reruns
idempotent, and every dbt model joins on it. The check is blocking, so a broken raw table stops
the dbt models downstream in the same run instead of feeding them duplicates.
"""

from collections.abc import Iterator

import dagster as dg
import duckdb

from .assets import WAREHOUSE_POOL, raw_key
from .catalog import TABLES
from .resources import StorageResource

ID_CHECK = "id_present_and_unique"
SAMPLE_SIZE = 20


@dg.multi_asset_check(
    name="raw_ids",
    specs=[
        dg.AssetCheckSpec(
            ID_CHECK,
            asset=raw_key(table),
            blocking=True,
            description="Every row has an `id` and no `id` appears twice.",
        )
        for table in TABLES
    ],
    can_subset=True,
    pool=WAREHOUSE_POOL,
)
def raw_ids(
    context: dg.AssetCheckExecutionContext, storage: StorageResource
) -> Iterator[dg.AssetCheckResult]:
    selected = {key.asset_key for key in context.selected_asset_check_keys}
    with storage.connect() as con:
        for table in TABLES:
            if raw_key(table) not in selected:
                continue
            yield _check_ids(con, storage.raw_table(table), table)


def _check_ids(con: duckdb.DuckDBPyConnection, name: str, table: str) -> dg.AssetCheckResult:
    try:
        (missing,) = con.execute(f"select count(*) from {name} where id is null").fetchone()
        duplicates = [
            row[0]
            for row in con.execute(
                f"select id from {name} where id is not null group by id having count(*) > 1 "
                f"order by id limit {SAMPLE_SIZE}"
            ).fetchall()
        ]
    except duckdb.CatalogException:  # nothing of this resource was ever synced: nothing wrong
        missing, duplicates = 0, []
    return dg.AssetCheckResult(
        asset_key=raw_key(table),
        check_name=ID_CHECK,
        passed=missing == 0 and not duplicates,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"rows_without_id": missing, "duplicate_ids": duplicates},
    )
