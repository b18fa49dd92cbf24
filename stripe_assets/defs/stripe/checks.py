"""Python asset checks on the raw layer, all evaluated by one op after raw is loaded.

Blocking (ERROR): raw is what every dbt model joins, so a broken raw table stops the models
downstream in the same run instead of feeding them wrong numbers. Each failure names the
offending ids in its metadata.
- `id_present_and_unique` on every raw table: the merge on `id` is what makes reruns idempotent.
- `references_resolve` on every table that points at another (charges → customers, invoices →
  customers and subscriptions, invoice lines → invoices, ...). Extraction retrieves deleted
  objects that others still reference, so in a healthy raw layer every reference resolves.
- the reconciliation identities of reconciliation.py.

Warnings: a raw table keeps every object ever synced, so its row count can only grow
(`row_count_did_not_drop`); a column that appears, disappears or changes type is worth a look
(`column_schema_change`, Dagster's own check on the `dagster/column_schema` each raw
materialization carries) but does not make the numbers wrong.

The rest are written here because Dagster has no builder for them: ids and references are SQL
over the warehouse, and its metadata bounds check compares a value with fixed bounds, not with
the previous materialization's. One op evaluates them all because a failed blocking check ends
its step: checks split over several ops would stop at the first failure and leave the others
unreported.
"""

import warnings
from collections.abc import Iterator

import dagster as dg

from .assets import WAREHOUSE_POOL, raw_key
from .catalog import RESOURCES, TABLES
from .reconciliation import RECONCILIATION_SPECS, guarded, reconcile, sample_ids
from .resources import StorageResource
from .warehouse import Warehouse

ID_CHECK = "id_present_and_unique"
REFERENCES_CHECK = "references_resolve"
VOLUME_CHECK = "row_count_did_not_drop"

REFERENCING = {resource.table: resource.references for resource in RESOURCES if resource.references}


def _specs() -> list[dg.AssetCheckSpec]:
    specs = []
    for table in TABLES:
        key = raw_key(table)
        specs.append(
            dg.AssetCheckSpec(
                ID_CHECK,
                asset=key,
                blocking=True,
                description="Every row has an `id` and no `id` appears twice.",
            )
        )
        if table in REFERENCING:
            references = REFERENCING[table]
            specs.append(
                dg.AssetCheckSpec(
                    REFERENCES_CHECK,
                    asset=key,
                    additional_deps=[raw_key(target) for target in references.values()],
                    blocking=True,
                    description="Every "
                    + ", ".join(f"`{c}` is the id of a row of `{t}`" for c, t in references.items())
                    + " (deleted objects included).",
                )
            )
        specs.append(
            dg.AssetCheckSpec(
                VOLUME_CHECK,
                asset=key,
                description="At least as many rows as at the previous materialization: raw "
                "keeps every object ever synced, so it can only grow.",
            )
        )
    return [*specs, *RECONCILIATION_SPECS]


with warnings.catch_warnings():  # beta in this Dagster: said once here, not on every load
    warnings.simplefilter("ignore", dg.BetaWarning)
    (raw_column_schema_checks,) = dg.build_column_schema_change_checks(
        assets=[raw_key(table) for table in TABLES]
    )


@dg.multi_asset_check(name="raw_checks", specs=_specs(), can_subset=True, pool=WAREHOUSE_POOL)
def raw_checks(
    context: dg.AssetCheckExecutionContext, storage: StorageResource
) -> Iterator[dg.AssetCheckResult]:
    selected = context.selected_asset_check_keys
    with storage.connect() as warehouse:
        for table in TABLES:
            key = raw_key(table)
            for name, evaluate in ((ID_CHECK, _check_ids), (REFERENCES_CHECK, _check_references)):
                if (check := dg.AssetCheckKey(key, name)) in selected:
                    yield guarded(check, table, evaluate, warehouse, table)
            if dg.AssetCheckKey(key, VOLUME_CHECK) in selected:
                yield _check_volume(context.instance, key)
        yield from reconcile(warehouse, selected)


def _check_ids(warehouse: Warehouse, table: str) -> dg.AssetCheckResult:
    name = warehouse.raw(table)
    missing = sample_ids(warehouse, f"select _dlt_id from {name} where id is null")
    duplicates = sample_ids(
        warehouse, f"select id from {name} where id is not null group by id having count(*) > 1"
    )
    return dg.AssetCheckResult(
        asset_key=raw_key(table),
        check_name=ID_CHECK,
        passed=not missing and not duplicates,
        description="; ".join(
            text
            for text in (
                f"Duplicate ids: {', '.join(duplicates)}" if duplicates else "",
                f"{len(missing)} rows without an id" if missing else "",
            )
            if text
        )
        or None,
        metadata={"rows_without_id": len(missing), "duplicate_ids": duplicates},
    )


def _check_references(warehouse: Warehouse, table: str) -> dg.AssetCheckResult:
    orphans = {
        column: sample_ids(
            warehouse,
            "select distinct source.referenced from (select "
            f"{_field_sql(warehouse, column)} as referenced from {warehouse.raw(table)} as source"
            ") as source where source.referenced is not null and not exists (select 1 from "
            f"{warehouse.raw(target)} as target where target.id = source.referenced)",
        )
        for column, target in REFERENCING[table].items()
    }
    broken = {column: ids for column, ids in orphans.items() if ids}
    return dg.AssetCheckResult(
        asset_key=raw_key(table),
        check_name=REFERENCES_CHECK,
        passed=not broken,
        description="; ".join(
            f"`{column}` points to missing {REFERENCING[table][column]}: {', '.join(ids)}"
            for column, ids in broken.items()
        )
        or None,
        metadata={
            f"orphan_{column.rpartition('.')[2]}_ids": ids for column, ids in orphans.items()
        },
    )


def _field_sql(warehouse: Warehouse, path: str) -> str:
    """A referencing field in SQL: a column, or (`parent.subscription_details.subscription`) a
    path into a JSON column."""
    column, _, nested = path.partition(".")
    return warehouse.json_text(f"source.{column}", nested) if nested else f"source.{column}"


def _last_two(instance: dg.DagsterInstance, key: dg.AssetKey, name: str) -> list:
    """A metadata value of the asset's latest two materializations, newest first."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key), limit=2, ascending=False
    ).records
    values = [
        record.asset_materialization.metadata[name].value
        for record in records
        if record.asset_materialization and name in record.asset_materialization.metadata
    ]
    return (values + [None, None])[:2]


def _check_volume(instance: dg.DagsterInstance, key: dg.AssetKey) -> dg.AssetCheckResult:
    latest, previous = _last_two(instance, key, "dagster/row_count")
    dropped = latest is not None and previous is not None and latest < previous
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=VOLUME_CHECK,
        passed=not dropped,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"Rows fell from {previous} to {latest}." if dropped else None,
        metadata={"row_count": latest or 0, "previous_row_count": previous or 0},
    )
