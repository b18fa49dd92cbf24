"""The dbt project and the dbt executable that runs it."""

import os
import shutil
import sys
import tempfile
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from stripe_assets.compat.dagster_dbt import ProjectDbtCliResource
from stripe_assets.file_lock import exclusive_lock
from stripe_assets.settings import DBT_PROJECT_DIR

# The dbt installed beside this Python, so a caller's PATH never picks another dbt (or none).
_VENV_DBT = Path(sys.executable).with_name("dbt")
DBT_EXECUTABLE = str(_VENV_DBT) if _VENV_DBT.exists() else (shutil.which("dbt") or "dbt")

DBT_SOURCE_FOLDERS = ("models", "macros", "tests", "seeds", "snapshots", "analyses")
DBT_SOURCE_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_resource() -> DbtCliResource:
    return ProjectDbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


def prepare_manifest() -> None:
    """Write target/manifest.json, which dagster-dbt reads when the code location loads.

    Parsing costs seconds on every `make run`, so it is skipped while the manifest is newer than
    every file of the project: the asset graph depends on the project's files alone. Processes
    started together (`make dev` beside `make run`, the suite's workers on a fresh clone) take
    turns under a lock, so one parses and the others find its manifest current; and the manifest
    is parsed in a folder of its own and renamed into place, so no process ever reads one
    half-written, not even one that loads the code location without preparing it.
    """
    target = dbt_project.project_dir / dbt_project.target_path
    with exclusive_lock(target / "manifest.lock"):
        for killed in target.glob("parse-*"):  # left by a process killed mid-parse
            shutil.rmtree(killed, ignore_errors=True)
        if _manifest_is_current():
            return
        with tempfile.TemporaryDirectory(prefix="parse-", dir=target) as folder:
            dbt_resource().cli(["parse", "--quiet"], target_path=Path(folder)).wait()
            os.replace(Path(folder) / "manifest.json", dbt_project.manifest_path)


def _manifest_is_current() -> bool:
    manifest = dbt_project.manifest_path
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


# `dg dev` and `dg check defs` load this module without calling the launcher first.
if dbt_project.preparer.using_dagster_dev():
    prepare_manifest()
