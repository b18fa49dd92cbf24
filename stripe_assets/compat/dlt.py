"""dlt's internals this project uses (dlt 1.31.0): its DuckDB client, subclassed to qualify
names with the catalog (stripe_assets/defs/stripe/warehouse.py says why), and the layout of its
working folder, where a killed run's packages are finished by hand."""

import shutil
from pathlib import Path

import dlt
from dlt.common.storages.load_package import PackageStorage
from dlt.common.storages.load_storage import LoadStorage
from dlt.common.storages.normalize_storage import NormalizeStorage
from dlt.destinations.impl.duckdb.duck import DuckDbClient
from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient


class _CatalogQualifiedSqlClient(DuckDbSqlClient):
    def catalog_name(self, quote: bool = True, casefold: bool = True) -> str:
        name = Path(self.credentials.database).stem  # DuckDB names a database after its file
        return self.capabilities.escape_identifier(name) if quote else name


class CatalogQualifiedClient(DuckDbClient):
    """dlt's DuckDB job client, whose SQL names every table `catalog.schema.table`."""

    def __init__(self, schema, config, capabilities) -> None:
        super().__init__(schema, config, capabilities)
        self.sql_client = _CatalogQualifiedSqlClient(
            self.sql_client.dataset_name,
            self.sql_client.staging_dataset_name,
            config.credentials,
            capabilities,
        )


# What every extracted package holds: dlt moves a package into `extracted` whole.
PACKAGE_PARTS = (
    PackageStorage.NEW_JOBS_FOLDER,
    PackageStorage.STARTED_JOBS_FOLDER,
    PackageStorage.FAILED_JOBS_FOLDER,
    PackageStorage.COMPLETED_JOBS_FOLDER,
    PackageStorage.SCHEMA_FILE_NAME,
)


def remove_half_deleted_packages(pipeline: dlt.Pipeline) -> None:
    """Finish deleting the extracted packages a killed run was deleting, or was about to.

    dlt commits a normalized package (renames it from `load/new` to `load/normalized`), then
    deletes the extracted one, file by file. A run killed meanwhile leaves part of the folder,
    on which the next normalize fails; one killed between the two leaves it whole, and the next
    normalize, redoing it, cannot commit over the committed copy ("Directory not empty"). Both
    were found by the crash tests. Either way the package's data is in the committed copy, which
    the load then loads: the extracted leftover goes.
    """
    extracted = Path(pipeline.working_dir, "normalize", NormalizeStorage.EXTRACTED_FOLDER)
    load = Path(pipeline.working_dir, "load")
    committed = (LoadStorage.NORMALIZED_FOLDER, LoadStorage.LOADED_FOLDER)
    for package in extracted.iterdir() if extracted.is_dir() else ():
        half_deleted = not all((package / part).exists() for part in PACKAGE_PARTS)
        if half_deleted or any((load / folder / package.name).exists() for folder in committed):
            shutil.rmtree(package)


def archive_loaded_packages(pipeline: dlt.Pipeline) -> None:
    """Finish archiving the packages a killed run had completely loaded.

    dlt marks a loaded package completed, then moves it from `normalized` to `loaded`. A run
    killed between the two leaves a completed package among the pending ones, and every later
    load fails on it ("already completed, but another complete was requested"). Its data and
    its load record are in the destination already: only the move is left to do.
    """
    load = Path(pipeline.working_dir, "load")
    normalized = load / LoadStorage.NORMALIZED_FOLDER
    for package in normalized.iterdir() if normalized.is_dir() else ():
        if (package / PackageStorage.PACKAGE_COMPLETED_FILE_NAME).exists():
            (load / LoadStorage.LOADED_FOLDER).mkdir(exist_ok=True)
            package.rename(load / LoadStorage.LOADED_FOLDER / package.name)
