"""The dbt project and the dbt executable that runs it."""

import shutil
import sys
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging.version import Version

from stripe_assets.settings import DBT_PROJECT_DIR

# The dbt installed beside this Python, so a caller's PATH never picks another dbt (or none).
_VENV_DBT = Path(sys.executable).with_name("dbt")
DBT_EXECUTABLE = str(_VENV_DBT) if _VENV_DBT.exists() else (shutil.which("dbt") or "dbt")

DBT_SOURCE_FOLDERS = ("models", "macros", "tests", "seeds", "snapshots", "analyses")
DBT_SOURCE_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# `dagster dev` parses the project itself; other entry points call `prepare_manifest()`.
dbt_project.prepare_if_dev()


class ProjectDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without two things it does before every dbt command, ~4 s of each
    run's dbt step on this machine: it asks the executable for its version (`dbt --version`, a
    Python start-up), which is the dbt-core installed beside this Python; and it opens a dbt
    adapter in this process, which only fetching row counts or column metadata uses, and these
    assets fetch neither. Both are private hooks of the pinned dagster-dbt: check them when
    upgrading it."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args) -> None:
        return None


def dbt_resource() -> DbtCliResource:
    return ProjectDbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


def prepare_manifest() -> None:
    """Write target/manifest.json, which dagster-dbt reads when the code location loads.

    Parsing costs seconds on every `make run`, so it is skipped while the manifest is newer than
    every file of the project: the asset graph depends on the project's files alone.
    """
    if not _manifest_is_current():
        dbt_resource().cli(["parse", "--quiet"], target_path=Path("target")).wait()


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
