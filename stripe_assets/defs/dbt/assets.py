"""dbt models as Dagster assets: keys are `[schema, model]`, groups are the dbt layer folders.

dbt sources keep dagster-dbt's default key `[source, table]`, i.e. `["stripe", "customers"]`,
which is exactly the raw asset's key, so lineage runs from landing to the marts without a break.
"""

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from stripe_assets.defs.stripe.assets import WAREHOUSE_POOL
from stripe_assets.defs.stripe.resources import StorageResource

from .metadata import MRR_METADATA
from .project import dbt_project

KEPT_INVOCATION_FOLDERS = 10


class StripeDbtTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        layer = dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else None
        return f"dbt_{layer}" if layer else None


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=StripeDbtTranslator(),
    pool=WAREHOUSE_POOL,
)
def stripe_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, storage: StorageResource
):
    """`dbt build`, with MRR figures added to the MRR marts' materializations.

    dbt holds the DuckDB file until it exits, so from the first MRR mart on, events wait for the
    build to end; then the marts are read and their figures attached (Dagster plots numeric
    metadata over time).
    """
    prune_invocation_folders(
        dbt_project.project_dir / "target", context.op_execution_context.op.name
    )
    held: list = []
    for event in dbt.cli(["build"], context=context).stream():
        if held or (isinstance(event, dg.Output) and _key(context, event) in MRR_METADATA):
            held.append(event)
        else:
            yield event
    if not held:
        return
    with storage.connect() as con:
        for event in held:
            key = _key(context, event) if isinstance(event, dg.Output) else None
            if key in MRR_METADATA:
                event = event.with_metadata({**event.metadata, **MRR_METADATA[key](con, storage)})
            yield event


def prune_invocation_folders(target: Path, op_name: str) -> None:
    """dagster-dbt gives every build its own folder under target/ (compiled SQL, run results,
    dbt.log, ~10 MB) and never removes it: an hourly schedule would fill the disk. The latest
    few are kept for debugging."""
    folders = sorted(target.glob(f"{op_name}-*"), key=lambda path: path.stat().st_mtime)
    for folder in folders[:-KEPT_INVOCATION_FOLDERS]:
        shutil.rmtree(folder, ignore_errors=True)


def _key(context: dg.AssetExecutionContext, output: dg.Output) -> dg.AssetKey:
    return context.asset_key_for_output(output.output_name)
