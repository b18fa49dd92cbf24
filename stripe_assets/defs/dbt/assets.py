"""dbt models as Dagster assets: keys are `[schema, model]`, groups are the dbt layer folders.

dbt sources keep dagster-dbt's default key `[source, table]`, i.e. `["stripe", "customers"]`,
which is exactly the raw asset's key, so lineage runs from landing to the marts without a break.

Every model follows its upstreams (`eager`: a raw table or model updated outside a landing
load's run, which already rebuilds what is downstream) and is rebuilt on DBT_BUILD_CRON, so the
current month's MRR moves on even on a day without a sync.

`@dbt_assets`, not dagster-dbt's `DbtProjectComponent`: the step runs `dbt build` in a folder of
its own per run, against the warehouse the storage resource names, turns a failed build into one
sentence and attaches the MRR marts' figures once dbt has released DuckDB; the component's
execution does none of these.
"""

import hashlib
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)
from dagster_dbt.errors import DagsterDbtCliRuntimeError
from dagster_dbt.metadata_set import DbtMetadataSet
from pydantic import Field

from stripe_assets.defs.automation import automation_settings
from stripe_assets.defs.stripe.assets import WAREHOUSE_POOL
from stripe_assets.defs.stripe.errors import dbt_failure
from stripe_assets.defs.stripe.resources import StorageResource
from stripe_assets.defs.stripe.warehouse import WarehouseUnavailable

from .metadata import model_metadata
from .project import dbt_project
from .settings import DbtSettingsResource, dbt_data_tests_run
from .versions import lineage_version

KEPT_BUILD_FOLDERS = 10
CODE_VERSION_TAG = "dagster/code_version"  # Dagster's tag on a materialization of versioned code


class DbtBuildConfig(dg.Config):
    full_refresh: bool = Field(
        default=False,
        description="Rebuild the incremental models whole (dbt build --full-refresh).",
    )


class StripeDbtTranslator(DagsterDbtTranslator):
    def get_code_version(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """An incremental model's version covers every model it is built from and the
        project's macros, not its own SQL alone: a change upstream (a staging model's column, a
        macro's rounding) changes its rows as much as its own SQL does, and a build after any
        such change rebuilds it whole (`incremental_models_changed`)."""
        if dbt_resource_props.get("config", {}).get("materialized") != "incremental":
            return super().get_code_version(dbt_resource_props)
        return lineage_version(dbt_resource_props["unique_id"])

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        """The model's documented description alone: dagster-dbt appends the raw SQL, which
        dbt's docs site (`make docs`) shows."""
        return dbt_resource_props.get("description") or super().get_description(dbt_resource_props)

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        layer = dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else None
        return f"dbt_{layer}" if layer else None


@dbt_assets(
    # Not `project=`: dagster-dbt would put the DbtProject in every model's metadata, which the
    # UI shows as "[DbtProject] (unserializable)"; the resource's project_dir is the same project.
    manifest=dbt_project.manifest_path,
    dagster_dbt_translator=StripeDbtTranslator(
        DagsterDbtTranslatorSettings(enable_asset_checks=dbt_data_tests_run())
    ),
    pool=WAREHOUSE_POOL,
)
def stripe_dbt_models(
    context: dg.AssetExecutionContext,
    config: DbtBuildConfig,
    dbt: DbtCliResource,
    storage: StorageResource,
    dbt_settings: DbtSettingsResource,
):
    """`dbt build` in the warehouse the storage resource names (its profile output and
    connection), each model's materialization carrying its columns and the warehouse's types,
    each table's its row count, and the MRR marts their figures.

    dbt holds a DuckDB file until it exits, so the events wait for the build to end; then the
    warehouse is read and the metadata attached (Dagster plots numeric metadata over time). A
    build that fails still reports every model it did build before the failure is raised.
    """
    target = build_folder(context.op_execution_context.op.name, storage)
    keep_recent_build_folders(dbt_project.project_dir / target)
    arguments = ["build", "--target", storage.dbt_target, "--vars", dbt_settings.cli_vars(storage)]
    if config.full_refresh or (rebuilt := incremental_models_changed(context)):
        arguments.append("--full-refresh")
        why = "asked for" if config.full_refresh else f"their code changed: {', '.join(rebuilt)}"
        context.log.info(f"Incremental models rebuilt whole ({why}).")
    build = dbt.cli(arguments, context=context, target_path=target)
    events, failed = [], None
    try:
        for event in build.stream():
            events.append(event)
    except DagsterDbtCliRuntimeError as error:  # raised once dbt has exited
        failed = error
    yield from with_warehouse_metadata(context, events, storage)
    if failed is not None:
        if sentence := dbt_failure(_run_results(build)):
            raise dg.Failure(description=sentence, allow_retries=False) from None
        raise failed


def incremental_models_changed(context: dg.AssetExecutionContext) -> list[str]:
    """The incremental models this build selects whose last materialization was built by other
    code than theirs now (dagster-dbt's code version is the model's checksum) or is unknown to
    this instance: their rows were made by other SQL, so they are rebuilt whole, not topped
    up."""
    code_versions = context.assets_def.code_versions_by_key
    changed = []
    for key in context.selected_asset_keys:
        spec = context.assets_def.specs_by_key[key]
        if DbtMetadataSet.extract(spec.metadata).materialization_type != "incremental":
            continue
        latest = context.instance.get_latest_materialization_event(key)
        materialization = latest.asset_materialization if latest else None
        built_by = materialization.tags.get(CODE_VERSION_TAG) if materialization else None
        if built_by != code_versions.get(key):
            changed.append(key.to_user_string())
    return changed


def with_warehouse_metadata(
    context: dg.AssetExecutionContext, events: list, storage: StorageResource
) -> Iterator:
    """The build's events, each model's output with what the warehouse says of it."""
    if not any(isinstance(event, dg.Output) for event in events):
        yield from events
        return
    try:
        warehouse = storage.connect()
    except WarehouseUnavailable:  # the failure being raised says why
        yield from events
        return
    with warehouse:
        for event in events:
            if isinstance(event, dg.Output):
                metadata = model_metadata(warehouse, _key(context, event))
                event = event.with_metadata({**event.metadata, **metadata})
            yield event


def _run_results(build) -> dict:
    try:
        return build.get_artifact("run_results.json")
    except FileNotFoundError:  # dbt stopped before writing it
        return {}


def build_folder(op_name: str, storage: StorageResource) -> Path:
    """Where dbt builds this warehouse: `target/<op>-<digest of the profile's settings>`.

    dbt parses the whole project again (about 6 s) unless its target folder holds a partial-parse
    file written for the same profile, and the profile holds the warehouse: its path and DuckDB's
    memory limit, or the PostgreSQL server, database and user. dagster-dbt's default, a new
    folder per build seeded from `target/partial_parse.msgpack` (written by whichever parse ran
    last, for whatever warehouse), made almost every build a full parse. One folder per
    warehouse keeps dbt's own file from build to build. Two builds of one warehouse never use it
    at once: both hold the warehouse pool.
    """
    if storage.warehouse == "duckdb":
        profile = f"{Path(storage.duckdb_path).resolve()}|{storage.duckdb_memory_limit}"
    else:
        profile = f"{storage.warehouse_name}|{storage.postgres().sslmode}"
    digest = hashlib.sha256(profile.encode()).hexdigest()[:12]
    return Path("target") / f"{op_name}-{digest}"


def keep_recent_build_folders(folder: Path) -> None:
    """Mark `folder` as the latest used and remove all but the few most recently used: each
    holds its warehouse's latest build (compiled SQL, run results, dbt.log), and warehouses
    that come and go (`make check`, tests) must not fill the disk."""
    folder.mkdir(parents=True, exist_ok=True)
    os.utime(folder)
    op_name = folder.name.rsplit("-", 1)[0]
    builds = sorted(folder.parent.glob(f"{op_name}-*"), key=_last_used)
    for stale in builds[:-KEPT_BUILD_FOLDERS]:
        shutil.rmtree(stale, ignore_errors=True)


def _last_used(folder: Path) -> float:
    try:
        return folder.stat().st_mtime
    except FileNotFoundError:  # removed meanwhile by another run pruning
        return 0.0


def _key(context: dg.AssetExecutionContext, output: dg.Output) -> dg.AssetKey:
    return context.asset_key_for_output(output.output_name)


@dg.definitions
def assets() -> dg.Definitions:
    """DBT_BUILD_CRON and WAREHOUSE are settings, read when the code location loads: the
    models' kind is the warehouse they are built in (dagster-dbt names the manifest's, DuckDB)."""
    warehouse = StorageResource.from_environment().warehouse
    daily = (
        dg.AutomationCondition.cron_tick_passed(automation_settings().dbt_build_cron)
        & ~dg.AutomationCondition.in_progress()
    )
    condition = (dg.AutomationCondition.eager() | daily).with_label("eager, or daily")
    return dg.Definitions(
        assets=[
            stripe_dbt_models.map_asset_specs(
                lambda spec: spec.replace_attributes(
                    automation_condition=condition, kinds={"dbt", warehouse}
                )
            )
        ]
    )
