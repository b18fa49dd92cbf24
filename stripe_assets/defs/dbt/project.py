"""The dbt project, prepared (manifest parsed) once per process."""

from dagster_dbt import DbtProject

from stripe_assets.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# `dagster dev` parses the project itself; other entry points call `prepare()` in launcher.py.
dbt_project.prepare_if_dev()
