"""The Dagster code location: everything in the `defs/` folder, run in one process.

`defs/stripe/` holds the Stripe ingestion (landing and raw assets, their checks, resources, jobs
and automation), `defs/dbt/` the dbt models, their resource and the daily build, and the top of
the folder what spans both: the whole-pipeline job, the automation, the freshness checks of every
layer and the resources, which hold every setting.
"""

import warnings
from pathlib import Path

import dagster as dg

CODE_LOCATION = "stripe_assets"  # as workspace.yaml and pyproject.toml's [tool.dg.project] name it
DEFS_FOLDER = Path(__file__).parent / "defs"


def load_defs_folder() -> dg.Definitions:
    """What `dg.load_from_defs_folder` loads, without the catalog of every installed library's
    component types it adds for the UI's component browser: building that imports each library
    (dagster_aws's components among them), about a second of CPU on every load, in every run's
    process, for a catalog this project, which declares no YAML components, never shows."""
    with warnings.catch_warnings():  # as load_from_defs_folder does: its module loader is preview
        warnings.simplefilter("ignore", dg.PreviewWarning)
        tree = dg.ComponentTree.for_project(path_within_project=DEFS_FOLDER)
        return tree.build_defs(DEFS_FOLDER)


def build_definitions() -> dg.Definitions:
    """Built from the environment at call time, so tests can point it at temporary storage.
    Every bad setting is judged first, so the load fails with all their sentences at once."""
    from stripe_assets.defs.resources import require_valid_settings

    require_valid_settings()
    return dg.Definitions.merge(
        load_defs_folder(),
        # One process: steps share no DuckDB lock and skip re-importing (docs/DESIGN.md §3).
        dg.Definitions(executor=dg.in_process_executor),
    )


defs = build_definitions()
