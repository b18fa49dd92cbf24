"""dagster-dbt's internals this project uses (dagster-dbt 0.29.27)."""

from functools import cached_property
from importlib.metadata import version as installed_version

from dagster_dbt import DbtCliResource, DbtProject, DbtProjectPreparer
from dagster_shared import record
from packaging.version import Version


class ProjectDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without two things it does before every dbt command, ~4 s of each
    run's dbt step on this machine: it asks the executable for its version (`dbt --version`, a
    Python start-up), which is the dbt-core installed beside this Python; and it opens a dbt
    adapter in this process, which only fetching row counts or column metadata uses, and these
    assets fetch neither. Both are private hooks."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args) -> None:
        return None


def with_preparer(project: DbtProject, preparer: DbtProjectPreparer) -> DbtProject:
    """The project with its own preparer. `DbtProjectPreparer` is dagster-dbt's public extension
    point, but `DbtProject()` always builds the default one and takes no other; the project is a
    `dagster_shared` record, so the field is replaced on a copy the way records allow."""
    return record.replace(project, preparer=preparer)
