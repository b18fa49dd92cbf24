"""The dbt project and the dbt executable that runs it."""

import os
import shutil
import sys
import tempfile
from pathlib import Path

import dagster as dg
from dagster_dbt import DagsterDbtProjectPreparer, DbtCliResource, DbtProject

from stripe_assets.compat.dagster_dbt import ProjectDbtCliResource, with_preparer
from stripe_assets.file_lock import exclusive_lock
from stripe_assets.settings import DBT_PROJECT_DIR

# The dbt installed beside this Python, so a caller's PATH never picks another dbt (or none).
_VENV_DBT = Path(sys.executable).with_name("dbt")
DBT_EXECUTABLE = str(_VENV_DBT) if _VENV_DBT.exists() else (shutil.which("dbt") or "dbt")

DBT_SOURCE_FOLDERS = ("models", "macros", "tests", "seeds", "snapshots", "analyses")
DBT_SOURCE_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}


class CurrentManifestPreparer(DagsterDbtProjectPreparer):
    """Writes target/manifest.json, which dagster-dbt reads when the code location loads.

    Parsing costs seconds on every `make run`, so it is skipped while the manifest is newer than
    every file of the project: the asset graph depends on the project's files alone. Processes
    started together (`make dev` beside `make run`, the suite's workers on a fresh clone) take
    turns under a lock, so one parses and the others find its manifest current; and the manifest
    is parsed in a folder of its own and renamed into place, so no process ever reads one
    half-written, not even one that loads the code location without preparing it. The project
    has no dbt packages, so there is no `dbt deps` to run.
    """

    def prepare(self, project: DbtProject) -> None:
        target = project.project_dir / project.target_path
        with exclusive_lock(target / "manifest.lock"):
            for killed in target.glob("parse-*"):  # left by a process killed mid-parse
                shutil.rmtree(killed, ignore_errors=True)
            if _manifest_is_current(project):
                return
            with tempfile.TemporaryDirectory(prefix="parse-", dir=target) as folder:
                dbt_resource().cli(["parse", "--quiet"], target_path=Path(folder)).wait()
                os.replace(Path(folder) / "manifest.json", project.manifest_path)


dbt_project = with_preparer(
    DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR),
    CurrentManifestPreparer(),
)


def dbt_resource() -> DbtCliResource:
    return ProjectDbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


def prepare_manifest() -> None:
    """What the launcher and the tests call before loading the code location."""
    dbt_project.preparer.prepare(dbt_project)


def _manifest_is_current(project: DbtProject) -> bool:
    manifest = project.manifest_path
    if not manifest.exists():
        return False
    parsed_at = manifest.stat().st_mtime
    sources = [*DBT_PROJECT_DIR.glob("*.yml")] + [
        path
        for folder in DBT_SOURCE_FOLDERS
        for path in (DBT_PROJECT_DIR / folder).rglob("*")
        if path.suffix in DBT_SOURCE_SUFFIXES
    ]
    return all(path.stat().st_mtime < parsed_at for path in sources)


# `dg dev` loads this module without calling the launcher first.
dbt_project.prepare_if_dev()


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"dbt": dbt_resource()})
