"""This project used from someone else's: its dbt models as a package of their own dbt project,
reading raw Stripe tables from the schema a var names, and its Dagster definitions merged into
their own beside an asset of theirs.

Every file of the user's projects is taken from docs/use-in-your-project.md as the page shows it
(only its /path/to/ placeholders replaced), so what a user copies is what runs here. The raw
tables are this pipeline's own (landing and raw run in-process against a small sandbox, as
tests/test_incremental.py runs them), copied into the user's warehouse under the schema the
recipe names: the package can find them there through its var alone.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import requests
import yaml

from stripe_assets.defs.stripe.assets import landing_assets, stripe_raw
from stripe_assets.defs.stripe.catalog import TABLES
from stripe_assets.sandbox.process import running_sandbox
from stripe_assets.settings import PROJECT_ROOT

from .conftest import WITHOUT_DBT_TESTS, stripe_resources

RECIPES = PROJECT_ROOT / "docs" / "use-in-your-project.md"
SANDBOX = ("--customers", "10", "--seed", "5")
DBT = Path(sys.executable).with_name("dbt")
MRR_MONTHLY = dg.AssetKey(["analytics", "mrr_monthly"])
TIMEOUT_S = 300


def recipe_file(name: str, placeholders: dict[str, Path] | None = None) -> str:
    """The file `name` as the page shows it (the fenced block under the line "`name`:"), each
    placeholder replaced by its path."""
    page = RECIPES.read_text()
    shown = re.search(rf"^`{re.escape(name)}`:\n\n```[a-z]*\n(.*?)^```$", page, re.M | re.S)
    assert shown, f"docs/use-in-your-project.md shows no {name}"
    text = shown.group(1)
    for placeholder, path in (placeholders or {}).items():
        assert placeholder in text, f"{name} on the page no longer has {placeholder}"
        text = text.replace(placeholder, str(path))
    return text


def outside_env(**settings: str) -> dict[str, str]:
    """The environment of a process of the user's: none of this project's settings, dbt's or
    Dagster's from the caller's shell, only `settings`."""
    left_out = ("STRIPE_", "AWS_", "LANDING_", "DUCKDB_", "DAGSTER_", "MRR_", "CUSTOMER_PII")
    left_out += ("FRESHNESS_", "DBT_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(left_out)}
    return {**env, **settings}


@dataclass(frozen=True)
class UserDbtProject:
    folder: Path
    warehouse: Path
    raw_schema: str

    def dbt(self, *args: str, env: dict[str, str]) -> None:
        done = subprocess.run(
            [str(DBT), *args, "--profiles-dir", "."],
            cwd=self.folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]


def write_user_dbt_project(root: Path) -> UserDbtProject:
    """The page's dbt project in `root/my_analytics`, its warehouse file in `root`."""
    folder = root / "my_analytics"
    folder.mkdir()
    files = {
        "dbt_project.yml": recipe_file("dbt_project.yml"),
        "packages.yml": recipe_file(
            "packages.yml", {"/path/to/stripe-assets": PROJECT_ROOT.resolve()}
        ),
        "profiles.yml": recipe_file("profiles.yml", {"/path/to": root}),
    }
    for name, text in files.items():
        (folder / name).write_text(text)
    project = yaml.safe_load(files["dbt_project.yml"])
    profile = yaml.safe_load(files["profiles.yml"])[project["profile"]]
    return UserDbtProject(
        folder=folder,
        warehouse=Path(profile["outputs"][profile["target"]]["path"]),
        raw_schema=project["vars"]["stripe_source_schema"],
    )


@dataclass(frozen=True)
class SandboxRaw:
    warehouse: Path  # this pipeline's, raw in its schema `stripe`
    truth: dict


@pytest.fixture(scope="module")
def sandbox_raw(tmp_path_factory) -> SandboxRaw:
    """Raw DuckDB as this pipeline loads it from a small sandbox, and the sandbox's ledger."""
    root = tmp_path_factory.mktemp("pipeline")
    with running_sandbox(*SANDBOX) as sandbox, pytest.MonkeyPatch.context() as patch:
        patch.setenv("STRIPE_API_KEY", sandbox.api_key)
        resources = stripe_resources(sandbox.url, root)
        synced = dg.materialize(
            [landing_assets(resources["stripe_api"].tables()), stripe_raw],
            resources=resources,
            instance=dg.DagsterInstance.ephemeral(),
        )
        assert synced.success
        truth = requests.get(f"{sandbox.url}/_sandbox/truth", timeout=60).json()
    return SandboxRaw(warehouse=root / "stripe.duckdb", truth=truth)


def copy_raw(raw: SandboxRaw, project: UserDbtProject) -> None:
    """Every raw table into the user's warehouse, under the schema their project names; a
    table Stripe had no object for does not exist, as in raw."""
    with duckdb.connect(str(project.warehouse)) as con:
        con.execute(f"attach '{raw.warehouse}' as pipeline (read_only)")
        loaded = {
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() "
                "where database_name = 'pipeline' and schema_name = 'stripe'"
            ).fetchall()
        }
        con.execute(f'create schema "{project.raw_schema}"')
        for table in sorted(loaded & set(TABLES)):
            con.execute(
                f'create table "{project.raw_schema}"."{table}" as '
                f'select * from pipeline.stripe."{table}"'
            )


def test_the_dbt_models_build_as_a_package_from_raw_tables_in_the_schema_its_var_names(
    sandbox_raw, tmp_path
):
    """Installed with `dbt deps` from a local path, the package reads the user's schema (their
    warehouse has no schema `stripe`), builds its layers into the schemas the page names, and
    mrr_monthly equals the sandbox's ledger for every month and currency."""
    project = write_user_dbt_project(tmp_path)
    copy_raw(sandbox_raw, project)
    # dbt's data tests cost about 20 s and are not what this is about: MRR is compared with the
    # ledger instead. The ledger's clock is "now" for the current month.
    env = outside_env(**WITHOUT_DBT_TESTS)
    project.dbt("deps", env=env)
    as_of = json.dumps({"as_of": sandbox_raw.truth["as_of"]})
    project.dbt("build", "--select", "package:stripe_revenue", "--vars", as_of, env=env)

    manifest = json.loads((project.folder / "target" / "manifest.json").read_text())
    sources = [s for s in manifest["sources"].values() if s["package_name"] == "stripe_revenue"]
    assert len(sources) == len(TABLES)
    for source in sources:
        assert (source["database"], source["schema"]) == (
            project.warehouse.stem,
            project.raw_schema,
        ), source["name"]
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        schemas = {
            schema
            for (schema,) in con.execute(
                "select schema_name from duckdb_tables() "
                "union select schema_name from duckdb_views() where not internal"
            ).fetchall()
        }
        rows = con.execute(
            "select strftime(month, '%Y-%m'), currency, mrr_minor from analytics.mrr_monthly"
        ).fetchall()
    assert schemas == {project.raw_schema, "staging", "intermediate", "analytics"}
    actual = {(month, currency): mrr for month, currency, mrr in rows}
    expected = {
        (row["month"], row["currency"]): row["mrr_minor"] for row in sandbox_raw.truth["mrr"]
    }
    assert expected, "the sandbox's business has MRR"
    assert set(actual) == set(expected), "the same months and currencies"
    wrong = {
        key: (actual[key], expected[key])
        for key in expected
        if abs(actual[key] - expected[key]) > 1
    }
    assert not wrong, f"(dbt, truth) differ for {len(wrong)} of {len(expected)}: {wrong}"


@pytest.fixture
def user_definitions(tmp_path) -> Path:
    """The page's definitions.py in a folder of the user's, the dbt manifest it reads prepared
    (as the launcher does before loading the code location)."""
    from stripe_assets.defs.dbt.project import prepare_manifest

    prepare_manifest()
    path = tmp_path / "definitions.py"
    path.write_text(recipe_file("definitions.py"))
    return path


def settings(folder: Path) -> dict[str, str]:
    """What the page says to set, the storage in the user's folder."""
    return {
        "STRIPE_API_KEY": "rk_test_x",
        "DUCKDB_PATH": str(folder / "stripe.duckdb"),
        "LANDING_BUCKET_URL": str(folder / "landing"),
    }


def test_your_definitions_merge_the_pipeline_in_and_your_asset_is_built_after_its_marts(
    user_definitions, monkeypatch
):
    """The user's asset's upstream is the project's own dbt model, not a stub; the project's
    jobs, sensors and resources come along; and the pipeline's job and the landing sensor's runs
    take the user's asset in, downstream of the marts."""
    for variable, value in settings(user_definitions.parent).items():
        monkeypatch.setenv(variable, value)
    spec = importlib.util.spec_from_file_location("user_definitions", user_definitions)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    defs = module.defs()

    graph = defs.resolve_asset_graph()
    board_pack = dg.AssetKey("board_pack")
    assert graph.get(board_pack).parent_keys == {MRR_MONTHLY}
    assert graph.get(MRR_MONTHLY).is_materializable, "the project's dbt model, not a stub"
    assert graph.get(MRR_MONTHLY).group_name == "dbt_marts"
    upstream = dg.AssetSelection.assets(MRR_MONTHLY).upstream().resolve(graph)
    assert dg.AssetKey(["stripe_landing", "subscriptions"]) in upstream

    repository = defs.get_repository_def()
    jobs = {job.name for job in repository.get_all_jobs()}
    assert {"stripe_pipeline", "stripe_raw_rebuild"} <= jobs
    sensors = {sensor.name: sensor for sensor in repository.sensor_defs}
    assert set(sensors) == {"stripe_automation", "landing_zone_sensor", "freshness_sensor"}
    assert {"stripe_api", "storage", "dbt_settings", "automation", "dbt"} <= set(defs.resources)
    pipeline = defs.resolve_job_def("stripe_pipeline").asset_layer.selected_asset_keys
    assert board_pack in pipeline
    assert board_pack in sensors["landing_zone_sensor"].asset_selection.resolve(graph)


def test_dagster_loads_your_definitions_file_from_your_own_folder(user_definitions):
    """`dagster definitions validate -f definitions.py`, as the user would run it in their own
    project, with only the settings the page names."""
    folder = user_definitions.parent
    validated = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-f", "definitions.py"],
        cwd=folder,
        env=outside_env(**settings(folder)),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert validated.returncode == 0, validated.stdout[-4000:] + validated.stderr[-4000:]
    assert "All code locations passed validation." in validated.stdout + validated.stderr
