"""The code location loads, and its asset graph is exactly the one we mean to ship.

The expected graph is written out in full so that a renamed asset or a broken lineage edge shows
up here (and in review) instead of in a user's UI.
"""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from stripe_assets.defs.stripe.catalog import TABLES
from stripe_assets.settings import PROJECT_ROOT
from stripe_assets.tooling.launcher import INSTANCE_SETTINGS

STAGING_DEPS = {f"stg_stripe__{table}": [f"stripe/{table}"] for table in TABLES}
EXPECTED_GRAPH = {
    "reports/revenue_report": [
        "analytics/cohort_retention",
        "analytics/mrr_monthly",
        "analytics/mrr_movements",
        "analytics/revenue_daily",
        "analytics/saas_kpis_monthly",
    ],
    **{f"stripe_landing/{table}": [] for table in TABLES},
    **{f"stripe/{table}": [f"stripe_landing/{table}"] for table in TABLES},
    **{f"staging/{model}": deps for model, deps in STAGING_DEPS.items()},
    "intermediate/int_price_tiers": ["staging/stg_stripe__prices"],
    "intermediate/int_subscription_item_versions": [
        "intermediate/int_price_tiers",
        "staging/stg_stripe__invoice_items",
        "staging/stg_stripe__invoice_line_items",
        "staging/stg_stripe__prices",
        "staging/stg_stripe__subscription_items",
        "staging/stg_stripe__subscriptions",
    ],
    "intermediate/int_subscription_discounts": [
        "staging/stg_stripe__coupons",
        "staging/stg_stripe__customers",
        "staging/stg_stripe__events",  # customer.discount.deleted ends a discount
        "staging/stg_stripe__invoices",
        "staging/stg_stripe__subscriptions",
    ],
    "intermediate/int_subscription_counted_periods": [
        "staging/stg_stripe__invoices",
        "staging/stg_stripe__subscriptions",
    ],
    "intermediate/int_subscription_mrr_monthly": [
        "intermediate/int_subscription_counted_periods",
        "intermediate/int_subscription_discounts",
        "intermediate/int_subscription_item_versions",
        "staging/stg_stripe__subscriptions",
    ],
    "analytics/fct_mrr": ["intermediate/int_subscription_mrr_monthly"],
    "analytics/mrr_movements": ["analytics/fct_mrr"],
    "analytics/saas_kpis_monthly": ["analytics/fct_mrr", "analytics/mrr_movements"],
    "analytics/cohort_retention": ["analytics/dim_customers", "analytics/fct_mrr"],
    "analytics/trial_funnel": [
        "analytics/dim_customers",
        "analytics/fct_mrr",
        "intermediate/int_subscription_counted_periods",
        "staging/stg_stripe__subscriptions",
    ],
    "analytics/mrr_monthly": ["intermediate/int_subscription_mrr_monthly"],
    "analytics/dim_customers": [
        "staging/stg_stripe__customers",
        "staging/stg_stripe__invoices",
        "staging/stg_stripe__subscriptions",
    ],
    "analytics/dim_prices": ["staging/stg_stripe__prices", "staging/stg_stripe__products"],
    "analytics/dim_products": ["staging/stg_stripe__prices", "staging/stg_stripe__products"],
    "analytics/dim_subscriptions": [
        "staging/stg_stripe__products",
        "staging/stg_stripe__subscription_items",
        "staging/stg_stripe__subscriptions",
    ],
    "analytics/fct_balance_transactions": [
        "staging/stg_stripe__balance_transactions",
        "staging/stg_stripe__charges",
        "staging/stg_stripe__disputes",
        "staging/stg_stripe__payouts",
        "staging/stg_stripe__refunds",
    ],
    "analytics/fct_charges": [
        "staging/stg_stripe__balance_transactions",
        "staging/stg_stripe__charges",
    ],
    "analytics/fct_credit_notes": ["staging/stg_stripe__credit_notes"],
    "analytics/fct_disputes": ["staging/stg_stripe__charges", "staging/stg_stripe__disputes"],
    "analytics/fct_invoice_lines": [
        "staging/stg_stripe__invoice_line_items",
        "staging/stg_stripe__invoices",
    ],
    "analytics/fct_invoices": [
        "staging/stg_stripe__invoice_line_items",
        "staging/stg_stripe__invoices",
    ],
    "analytics/fct_refunds": ["staging/stg_stripe__charges", "staging/stg_stripe__refunds"],
    "analytics/revenue_daily": ["staging/stg_stripe__balance_transactions"],
}
EXPECTED_GROUPS = {
    "stripe_landing": "stripe_landing",
    "stripe": "stripe_raw",
    "staging": "dbt_staging",
    "intermediate": "dbt_intermediate",
    "analytics": "dbt_marts",
    "reports": "reports",
}


@pytest.fixture(scope="module")
def asset_graph() -> dg.Definitions:
    from stripe_assets.defs.dbt.project import prepare_manifest

    prepare_manifest()
    from stripe_assets.definitions import build_definitions

    return build_definitions().resolve_asset_graph()


def test_asset_keys_and_lineage(asset_graph):
    actual = {
        node.key.to_user_string(): sorted(key.to_user_string() for key in node.parent_keys)
        for node in asset_graph.asset_nodes
    }
    assert actual == {key: sorted(deps) for key, deps in EXPECTED_GRAPH.items()}


def test_groups_follow_the_layers(asset_graph):
    for node in asset_graph.asset_nodes:
        assert node.group_name == EXPECTED_GROUPS[node.key.path[0]], node.key


def test_every_raw_table_has_a_blocking_id_check(asset_graph):
    for table in TABLES:
        check = dg.AssetCheckKey(dg.AssetKey(["stripe", table]), "id_present_and_unique")
        assert asset_graph.get_check_spec(check).blocking


def test_dbt_tests_are_asset_checks(asset_graph):
    checked = {key.asset_key.to_user_string() for key in asset_graph.asset_check_keys}
    assert {f"staging/stg_stripe__{table}" for table in TABLES} <= checked
    assert "analytics/mrr_monthly" in checked
    bridge = dg.AssetCheckKey(
        dg.AssetKey(["analytics", "mrr_movements"]), "assert_mrr_movements_bridge_closes"
    )
    assert bridge in asset_graph.asset_check_keys


def test_the_code_location_has_one_name():
    """`make run` files its runs under the name the UI serves the code location by."""
    import tomllib

    import yaml

    from stripe_assets.definitions import CODE_LOCATION

    workspace = yaml.safe_load((PROJECT_ROOT / "workspace.yaml").read_text())
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["dg"]
    assert workspace["load_from"][0]["python_module"]["location_name"] == CODE_LOCATION
    assert project["project"]["code_location_name"] == CODE_LOCATION


def test_the_defs_folder_loads_what_dagsters_loader_does_without_the_component_catalog(
    asset_graph,  # the manifest prepared
):
    """The code location builds its defs folder itself to skip the installed libraries'
    component catalog; should Dagster's loader start adding anything else, this tells."""
    from stripe_assets.definitions import DEFS_FOLDER, load_defs_folder

    def contents(defs: dg.Definitions) -> dict:
        repository, graph = defs.get_repository_def(), defs.resolve_asset_graph()
        return {
            "jobs": sorted(job.name for job in repository.get_all_jobs()),
            "sensors": sorted(sensor.name for sensor in repository.sensor_defs),
            "schedules": sorted(schedule.name for schedule in repository.schedule_defs),
            "resources": sorted(defs.resources or {}),
            "assets": sorted(key.to_user_string() for key in graph.get_all_asset_keys()),
            "checks": sorted(str(key) for key in graph.asset_check_keys),
            "metadata": sorted(defs.metadata or {}),
        }

    ours = contents(load_defs_folder())
    dagsters = contents(dg.load_from_defs_folder(path_within_project=DEFS_FOLDER))
    assert dagsters.pop("metadata") == ["plugin_component_types_json"]
    assert ours.pop("metadata") == []
    assert ours == dagsters


def test_the_pipeline_job_selects_every_asset():
    from stripe_assets.definitions import build_definitions

    job = build_definitions().resolve_job_def("stripe_pipeline")
    selected = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    assert selected == set(EXPECTED_GRAPH)


def test_tables_left_out_of_the_sync_keep_their_assets_but_no_run_selects_them(monkeypatch):
    """A table STRIPE_RESOURCES leaves out keeps its landing asset (its history, its freshness
    check, its lineage), as one the code location does not materialize: a run that selected
    it would get no output for it and skip the whole raw step."""
    from stripe_assets.definitions import build_definitions

    monkeypatch.setenv("STRIPE_RESOURCES", "invoice_line_items")
    defs = build_definitions()
    asset_graph = defs.resolve_asset_graph()
    graph = {
        node.key.to_user_string(): sorted(key.to_user_string() for key in node.parent_keys)
        for node in asset_graph.asset_nodes
    }
    assert graph == {key: sorted(deps) for key, deps in EXPECTED_GRAPH.items()}
    landing = {
        key.to_user_string()
        for key in asset_graph.materializable_asset_keys
        if key.path[0] == "stripe_landing"
    }
    assert landing == {"stripe_landing/invoices", "stripe_landing/invoice_line_items"}
    job = defs.resolve_job_def("stripe_pipeline")
    selected = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    assert selected == set(EXPECTED_GRAPH) - {
        f"stripe_landing/{table}"
        for table in TABLES
        if table not in ("invoices", "invoice_line_items")
    }
    judged = dg.AssetSelection.checks_for_assets(
        *[dg.AssetKey(["stripe_landing", table]) for table in TABLES]
    )
    pipeline = defs.resolve_job_def("stripe_pipeline").asset_layer.asset_graph
    assert judged.resolve_checks(asset_graph) <= pipeline.asset_check_keys, "freshness of all"


def test_dagster_validates_the_workspace(asset_graph):
    validated = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr


def test_checks_protecting_the_marts_block_and_the_others_warn(asset_graph):
    """Severity by design: integrity and reconciliation on raw block; the rest never do."""
    blocking = {
        f"{key.asset_key.to_user_string()}:{key.name}"
        for key in asset_graph.asset_check_keys
        if asset_graph.get_check_spec(key).blocking and key.asset_key.path[0] == "stripe"
    }
    expected = {f"stripe/{table}:id_present_and_unique" for table in TABLES}
    referencing = ["subscriptions", "subscription_items", "invoices", "invoice_line_items"]
    referencing += ["invoice_items", "credit_notes", "payment_intents", "charges", "refunds"]
    referencing += ["disputes"]
    expected |= {f"stripe/{table}:references_resolve" for table in referencing}
    expected |= {
        "stripe/invoices:totals_match_lines",
        "stripe/balance_transactions:balance_transactions_match_sources",
    }
    assert blocking == expected
    for key in asset_graph.asset_check_keys:
        if key.name in ("fresh", "row_count_did_not_drop", "column_schema_change"):
            assert not asset_graph.get_check_spec(key).blocking, key
    keys = asset_graph.asset_check_keys
    fresh = {key.asset_key.to_user_string() for key in keys if key.name == "fresh"}
    assert {f"stripe_landing/{t}" for t in TABLES} | {f"stripe/{t}" for t in TABLES} <= fresh
    assert "analytics/mrr_movements" in fresh


def test_automation_is_defined():
    from stripe_assets.definitions import build_definitions

    repository = build_definitions().get_repository_def()
    assert repository.schedule_defs == [], "the crons are automation conditions"
    sensors = {s.name: s for s in repository.sensor_defs}
    assert set(sensors) == {"stripe_automation", "landing_zone_sensor", "freshness_sensor"}
    assert all(s.default_status == dg.DefaultSensorStatus.STOPPED for s in sensors.values())
    assert {job.name for job in repository.get_all_jobs()} >= {
        "stripe_pipeline",
        "stripe_raw_rebuild",
    }


def test_processes_preparing_the_manifest_together_leave_it_whole():
    """Processes that find the manifest stale at once (`make dev` beside `make run` on a fresh
    clone, or the suite's workers) parse it one at a time, the file is never seen half-written
    (CI once read one that three parses had written over each other), and the folder of a parse
    that was killed is cleared."""
    from stripe_assets.defs.dbt.project import dbt_project, prepare_manifest

    manifest = dbt_project.manifest_path
    prepare_manifest()
    os.utime(manifest, (0, 0))  # older than every project file: each process will want to parse
    (manifest.parent / "parse-of-a-killed-process").mkdir(exist_ok=True)
    versions = {manifest.stat().st_ino}
    prepare = "from stripe_assets.defs.dbt.project import prepare_manifest; prepare_manifest()"
    preparers = [subprocess.Popen([sys.executable, "-c", prepare]) for _ in range(3)]
    while any(process.poll() is None for process in preparers):
        versions.add(manifest.stat().st_ino)
        assert json.loads(manifest.read_bytes())["nodes"]  # raises on a half-written file
        time.sleep(0.05)  # a read is about 0.1 s of CPU: a core left to the parses
    assert [process.returncode for process in preparers] == [0, 0, 0]
    versions.add(manifest.stat().st_ino)
    assert len(versions) == 2, "the stale manifest and exactly one new one"
    assert manifest.stat().st_mtime > 0
    assert not list(manifest.parent.glob("parse-*")), "a parse's folder was left behind"


def test_only_the_latest_warehouses_build_folders_are_kept(tmp_path):
    """dbt builds each warehouse in a folder of its own under target/; the one in use and the
    most recently used others are kept, older ones and dagster-dbt's per-build folders go."""
    from stripe_assets.defs.dbt.assets import KEPT_BUILD_FOLDERS, keep_recent_build_folders

    builds = [tmp_path / f"stripe_dbt_models-{n:012x}" for n in range(15)]
    for age, folder in enumerate(reversed(builds)):
        folder.mkdir()
        os.utime(folder, (1_700_000_000 - age, 1_700_000_000 - age))
    (tmp_path / "manifest.json").write_text("{}")
    in_use = builds[0]  # the least recently used, now used again
    keep_recent_build_folders(in_use)
    kept = [in_use, *builds[-(KEPT_BUILD_FOLDERS - 1) :]]
    assert sorted(tmp_path.glob("stripe_dbt_models-*")) == sorted(kept)
    assert (tmp_path / "manifest.json").exists()


def test_the_instance_storage_shares_dagsters_own_files(tmp_path):
    """The instance `make run` writes (stripe_assets/compat/dagster.py) and Dagster's default
    SQLite storage read each other's runs, materializations and check results, so an existing
    data/dagster_home keeps its history."""
    from stripe_assets.compat.dagster import EngineKeepingEventLogStorage
    from stripe_assets.tooling.launcher import write_dagster_home

    @dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="answer")])
    def answer():
        yield dg.Output(42)
        yield dg.AssetCheckResult(passed=True)

    write_dagster_home(tmp_path)
    (tmp_path / "default.yaml").write_text(INSTANCE_SETTINGS.read_text())
    ours = dg.DagsterInstance.from_config(str(tmp_path))
    default = dg.DagsterInstance.from_config(str(tmp_path), config_filename="default.yaml")
    assert isinstance(ours.event_log_storage, EngineKeepingEventLogStorage)
    assert type(default.event_log_storage) is not EngineKeepingEventLogStorage

    runs = [dg.materialize([answer], instance=instance).run_id for instance in (ours, default)]
    key, check = dg.AssetKey("answer"), dg.AssetCheckKey(dg.AssetKey("answer"), "positive")
    for instance in (ours, default):
        assert {run.run_id for run in instance.get_runs()} == set(runs)
        assert instance.get_latest_materialization_event(key).run_id == runs[1]
        for run_id in runs:
            assert instance.get_records_for_run(run_id).records
        executions = instance.event_log_storage.get_asset_check_execution_history(check, limit=5)
        assert {execution.run_id for execution in executions} == set(runs)


def test_a_fresh_instance_opened_by_several_at_once_works(tmp_path):
    """Dagster creates an instance's SQLite storage when it first opens it, and several openers
    at once (`make dev` beside `make run` on a fresh clone) could each stamp the schema's
    version, after which the instance never opens again. Threads stand in for the processes:
    they race on the same files and the same lock."""
    from stripe_assets.tooling.launcher import write_dagster_home

    def open_fresh_home(home, together: threading.Barrier, failures: list) -> None:
        together.wait()
        try:
            write_dagster_home(home)
        except Exception as error:  # noqa: BLE001 - any failure is the finding
            failures.append(error)

    for attempt in range(6):
        home, openers, failures = tmp_path / str(attempt), 4, []
        together = threading.Barrier(openers)
        threads = [
            threading.Thread(target=open_fresh_home, args=(home, together, failures))
            for _ in range(openers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not failures, failures
        assert dg.DagsterInstance.from_config(str(home)).get_runs() == []


def test_dg_checks_and_lists_the_same_definitions(tmp_path):
    """`dg check defs` and `dg list defs`, as a Dagster engineer would run them in this project
    (`[tool.dg.project]` in pyproject.toml), load the same graph the snapshot above holds."""
    dg_cli = [str(Path(sys.executable).with_name("dg"))]
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    check = subprocess.run(
        [*dg_cli, "check", "defs"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]
    assert "All definitions loaded successfully." in check.stdout + check.stderr
    listed = subprocess.run(
        [*dg_cli, "list", "defs", "--json"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assets = json.loads(listed.stdout)["assets"]
    graph = {asset["asset_key"]: sorted(asset["dependency_keys"]) for asset in assets}
    assert graph == {key: sorted(deps) for key, deps in EXPECTED_GRAPH.items()}


def test_every_dbt_model_is_described_as_its_yml_documents_it(asset_graph):
    """The UI shows each model's documented description, not dagster-dbt's raw-SQL appendix."""
    import json

    from stripe_assets.defs.dbt.project import dbt_project

    manifest = json.loads(dbt_project.manifest_path.read_text())
    models = [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]
    assert len(models) > 30
    for model in models:
        description = asset_graph.get(dg.AssetKey([model["schema"], model["name"]])).description
        assert model["description"] and description == model["description"], model["name"]


# dagster-dbt's own objects, which Dagster's UI leaves out of an asset's metadata.
HIDDEN_BY_THE_UI = {"dagster_dbt/manifest", "dagster_dbt/dagster_dbt_translator"}


def test_no_asset_shows_metadata_the_ui_cannot_display(asset_graph):
    """A value Dagster cannot serialize reaches the UI as "[SomeClass] (unserializable)"."""
    from dagster._core.definitions.metadata import normalize_metadata

    shown = {
        (key.to_user_string(), label)
        for key in asset_graph.get_all_asset_keys()
        for label, value in normalize_metadata(
            asset_graph.get(key).metadata, allow_invalid=True
        ).items()
        if label not in HIDDEN_BY_THE_UI and "(unserializable)" in str(getattr(value, "value", ""))
    }
    assert not shown
