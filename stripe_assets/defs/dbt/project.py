"""The dbt project and the dbt executable that runs it."""

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from stripe_assets.settings import DBT_PROJECT_DIR

# The dbt installed beside this Python, so a caller's PATH never picks another dbt (or none).
_VENV_DBT = Path(sys.executable).with_name("dbt")
DBT_EXECUTABLE = str(_VENV_DBT) if _VENV_DBT.exists() else (shutil.which("dbt") or "dbt")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# `dagster dev` parses the project itself; other entry points call `prepare_manifest()`.
dbt_project.prepare_if_dev()


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


def prepare_manifest() -> None:
    """Write target/manifest.json, which dagster-dbt reads when the code location loads."""
    dbt_resource().cli(["parse", "--quiet"], target_path=Path("target")).wait()
