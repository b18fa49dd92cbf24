"""The library internals stripe_assets/compat relies on, as the pinned versions have them: each
test fails when an upgrade renames, removes or reshapes what a compat module overrides or
reads, before the behaviour it gives is lost without a word."""

import inspect
import shutil
from functools import cached_property

import dlt
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage
from dagster_dbt import DagsterDbtProjectPreparer, DbtCliResource, DbtProject
from dlt.destinations import duckdb as dlt_duckdb
from dlt.destinations.impl.duckdb.duck import DuckDbClient
from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient

from stripe_assets.compat import dagster as compat_dagster
from stripe_assets.compat import dagster_dbt as compat_dagster_dbt
from stripe_assets.compat import dlt as compat_dlt
from stripe_assets.defs.stripe.warehouse import warehouse_destination


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_dagster_judges_cron_as_schedules_do():
    assert compat_dagster.is_valid_cron("0 6 * * *")
    assert not compat_dagster.is_valid_cron("every morning")
    assert not compat_dagster.is_valid_cron("0 6 * *")


def test_dagsters_sqlite_event_log_has_the_hooks_the_storage_overrides():
    overridden = ["_connect", "has_table", "wipe", "dispose"]
    for name in overridden:
        upstream = inspect.getattr_static(SqliteEventLogStorage, name)
        assert callable(upstream), name
        assert parameters(upstream) == parameters(
            getattr(compat_dagster.EngineKeepingEventLogStorage, name)
        ), name
    assert parameters(SqliteEventLogStorage.__init__) == ["self", "base_dir", "inst_data"]
    storage = DagsterSqliteStorage.__init__
    assert parameters(storage) == ["self", "base_dir", "inst_data"]
    assert "_event_log_storage" in inspect.getsource(storage), "the attribute the storage swaps"


def test_dagster_dbts_resource_has_the_hooks_the_project_resource_skips():
    assert isinstance(inspect.getattr_static(DbtCliResource, "_cli_version"), cached_property)
    assert parameters(DbtCliResource._initialize_dbt_core_adapter) == ["self", "args"]
    # and the commands call them: the skipped work is skipped, not moved elsewhere
    cli = inspect.getsource(DbtCliResource.cli)
    assert "_initialize_dbt_core_adapter" in cli or "_cli_version" in cli
    assert issubclass(compat_dagster_dbt.ProjectDbtCliResource, DbtCliResource)


def test_a_dbt_project_takes_the_preparer_given_and_prepares_with_it_in_dev(monkeypatch, tmp_path):
    """`DbtProject` builds its own preparer; the copy must keep every other field and call ours
    where dagster-dbt calls a preparer (`prepare_if_dev`, under `dg dev`)."""
    (tmp_path / "dbt_project.yml").write_text("name: compat\n")
    prepared = []

    class Recording(DagsterDbtProjectPreparer):
        def prepare(self, project: DbtProject) -> None:
            prepared.append(project)

        def using_dagster_dev(self) -> bool:
            return True

    project = DbtProject(tmp_path, profiles_dir=tmp_path)
    copy = compat_dagster_dbt.with_preparer(project, Recording())
    assert isinstance(copy.preparer, Recording) and not isinstance(project.preparer, Recording)
    assert (copy.name, copy.manifest_path) == ("compat", project.manifest_path)
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "manifest.json").write_text("{}")
    copy.prepare_if_dev()
    assert prepared == [copy]


def test_dlts_duckdb_client_takes_the_sql_client_the_compat_client_swaps():
    assert parameters(DuckDbClient.__init__) == ["self", "schema", "config", "capabilities"]
    assert parameters(DuckDbSqlClient.catalog_name) == ["self", "quote", "casefold"]
    assert "sql_client" in inspect.getsource(DuckDbClient.__init__)
    destination = warehouse_destination("stripe.duckdb", "1GB")
    assert isinstance(inspect.getattr_static(dlt_duckdb, "client_class"), property)
    assert destination.client_class is compat_dlt.CatalogQualifiedClient


def test_dlts_working_folder_is_laid_out_as_the_package_repairs_expect(tmp_path):
    """A pipeline that has normalized but not loaded keeps its package where the repairs look
    for it, with every part they check for."""
    pipeline = dlt.pipeline(
        "compat",
        destination=dlt.destinations.duckdb(str(tmp_path / "compat.duckdb")),
        pipelines_dir=str(tmp_path),
        dataset_name="raw",
    )
    pipeline.extract([{"id": 1}], table_name="things")
    extracted = tmp_path / "compat" / "normalize" / "extracted"
    (package,) = extracted.iterdir()
    assert all((package / part).exists() for part in compat_dlt.PACKAGE_PARTS)
    pipeline.normalize()
    (normalized,) = (tmp_path / "compat" / "load" / "normalized").iterdir()
    assert normalized.name == package.name


def test_a_package_committed_but_not_yet_deleted_is_loaded_once(tmp_path):
    """A run killed after dlt committed a normalized package but before it deleted the
    extracted one: the next run's repair drops the extracted copy, and the load takes the
    committed one, with nothing normalized twice."""
    pipeline = dlt.pipeline(
        "killed",
        destination=dlt.destinations.duckdb(str(tmp_path / "killed.duckdb")),
        pipelines_dir=str(tmp_path),
        dataset_name="raw",
    )
    pipeline.extract([{"id": 1}, {"id": 2}], table_name="things")
    extracted = tmp_path / "killed" / "normalize" / "extracted"
    (package,) = extracted.iterdir()
    kept = tmp_path / "kept"
    shutil.copytree(package, kept)
    pipeline.normalize()
    shutil.copytree(kept, package)  # as the killed run left it
    compat_dlt.remove_half_deleted_packages(pipeline)
    assert list(extracted.iterdir()) == []
    pipeline.normalize()  # without the repair: "Directory not empty"
    pipeline.load()
    with pipeline.sql_client() as client:
        assert client.execute_sql("select count(*) from things") == [(2,)]


def test_a_run_executed_in_process_can_carry_the_code_locations_origin():
    """What the UI's job page and Overview timeline look runs up by: the run's origin and the
    repository label Dagster tags it with (`make run`'s runs, tooling/run_summary.py)."""
    import dagster as dg

    from stripe_assets.compat.dagster import runs_of_code_location

    @dg.asset
    def one() -> int:
        return 1

    job = dg.Definitions(assets=[one], jobs=[dg.define_asset_job("j")]).resolve_job_def("j")
    with dg.instance_for_test() as instance:
        with runs_of_code_location(instance, "somewhere"):
            result = job.execute_in_process(instance=instance)
        run = instance.get_run_by_id(result.run_id)
        assert run.remote_job_origin.repository_origin.get_label() == "__repository__@somewhere"
        assert run.remote_job_origin.job_name == "j"
        labelled = instance.get_runs(
            filters=dg.RunsFilter(tags={".dagster/repository": "__repository__@somewhere"})
        )
        assert [r.run_id for r in labelled] == [result.run_id]
        assert job.execute_in_process(instance=instance).dagster_run.remote_job_origin is None


def test_a_step_queued_just_after_the_slot_was_freed_still_gets_it(tmp_path):
    """Two runs of one pool: the second checks for an unassigned slot while the first holds it,
    the first frees it, then the second queues. Dagster's own storage leaves that step
    unassigned for ever; the project's assigns it the free slot on its next claim."""
    from dagster._core.storage.sqlite_storage import DagsterSqliteStorage

    from stripe_assets.compat.dagster import SqliteStorage

    outcomes = {}
    for name, storage_class in [("dagster", DagsterSqliteStorage), ("ours", SqliteStorage)]:
        storage = storage_class.from_local(str(tmp_path / name)).event_log_storage
        storage.set_concurrency_slots("landing", 1)
        assert storage.claim_concurrency_slot("landing", "run_a", "extract").is_claimed
        assert not storage.has_unassigned_slots("landing")  # what run_b sees ...
        storage.free_concurrency_slot_for_step("run_a", "extract")  # ... before run_a frees it
        storage.add_pending_step("landing", "run_b", "extract", should_assign=False)
        outcomes[name] = storage.claim_concurrency_slot("landing", "run_b", "extract").is_claimed
        storage.dispose()
    assert outcomes == {"dagster": False, "ours": True}
