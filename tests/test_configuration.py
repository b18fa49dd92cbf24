"""Bad configuration gets one sentence saying what is wrong and what to do, and a non-zero exit,
before anything is written; good configuration reaches every tool, dbt included."""

import json
import os
import subprocess

import dagster as dg
import duckdb
import pytest

from stripe_assets.defs.dbt.project import dbt_project, dbt_resource, prepare_manifest
from stripe_assets.defs.dbt.settings import DbtSettingsResource
from stripe_assets.defs.stripe.assets import stripe_landing, stripe_raw
from stripe_assets.defs.stripe.catalog import TABLES
from stripe_assets.defs.stripe.resources import StorageResource
from stripe_assets.sandbox.process import running_sandbox
from stripe_assets.settings import DBT_PROJECT_DIR, DUCKDB_MEMORY_LIMIT_DEFAULT

from .conftest import WITHOUT_DBT_TESTS, Workspace, launch, stripe_resources

EVERY_MALFORMED_SETTING = {
    "STRIPE_API_KEY": "sk_test_x",
    "STRIPE_REQUESTS_PER_SECOND": "fast",
    "STRIPE_TIMEOUT_S": "0",
    "FRESHNESS_HOURS": "-1",
    "STRIPE_SYNC_START": "2024-13-45",
    "STRIPE_SYNC_CRON": "hourly",
    "MRR_AS_OF": "yesterday",
    "CUSTOMER_PII": "mask",
    "STRIPE_RESOURCES": "customers,invoice",
}
EVERY_MALFORMED_SETTING_SENTENCES = [
    "STRIPE_REQUESTS_PER_SECOND 'fast' is not a number above 0",
    "STRIPE_TIMEOUT_S '0' is not a number above 0",
    "FRESHNESS_HOURS '-1' is not a number above 0",
    "STRIPE_SYNC_START '2024-13-45' is not a date such as 2024-01-31",
    "STRIPE_SYNC_CRON 'hourly' is not a cron expression of five fields",
    "MRR_AS_OF 'yesterday' is not an ISO-8601 timestamp",
    "CUSTOMER_PII 'mask' is not one of keep, hash, drop",
    "STRIPE_RESOURCES: Unknown Stripe resource invoice: choose from products, prices",
]
CASES = {
    "malformed key": (
        "run",
        {"STRIPE_API_KEY": "pk_test_publishableNotSecret"},
        ["STRIPE_API_KEY is not a Stripe secret or restricted key"],
    ),
    # a line break would reach the Authorization header, whose error quotes it, key and all
    "a key with a line break": (
        "run",
        {"STRIPE_API_KEY": "sk_test_x\n"},
        ["STRIPE_API_KEY has a space, line break or other character no Stripe key has"],
    ),
    "a dagster storage url that is not postgresql://": (
        "run",
        {"DAGSTER_POSTGRES_URL": "mysql://user:PwLeakCheck7@127.0.0.1/dagster"},
        ["DAGSTER_POSTGRES_URL is not a PostgreSQL URL like postgresql://"],
    ),
    "dagster storage on another host without tls": (
        "run",
        {"DAGSTER_POSTGRES_URL": "postgresql://user:PwLeakCheck7@db.example.com/dagster"},
        ["DAGSTER_POSTGRES_URL connects to db.example.com:5432 without TLS: add ?sslmode="],
    ),
    "dagster storage no server answers": (
        "run",
        {"DAGSTER_POSTGRES_URL": "postgresql://user:PwLeakCheck7@127.0.0.1:9/dagster"},
        ["DAGSTER_POSTGRES_URL: PostgreSQL at 127.0.0.1:9 answered \u201cConnection refused"],
    ),
    "malformed landing url": (
        "run",
        {"STRIPE_API_KEY": "sk_test_x", "LANDING_BUCKET_URL": "ftp://bucket/stripe"},
        ["LANDING_BUCKET_URL 'ftp://bucket/stripe' is neither a folder nor s3://bucket/prefix"],
    ),
    "unwritable warehouse": (
        "run",
        {"STRIPE_API_KEY": "sk_test_x", "DUCKDB_PATH": "/proc/stripe/stripe.duckdb"},
        ["DUCKDB_PATH '/proc/stripe/stripe.duckdb' cannot be written"],
    ),
    "a warehouse that is a folder": (
        "run",
        {"STRIPE_API_KEY": "sk_test_x", "DUCKDB_PATH": "{tmp_path}"},
        [
            "DUCKDB_PATH '{tmp_path}' is a folder: point it at a DuckDB file, for example "
            "'{tmp_path}/stripe.duckdb'."
        ],
    ),
    "folders that cannot be written, and a file that is not a warehouse": (
        "run",
        {
            "STRIPE_API_KEY": "sk_test_x",
            "LANDING_BUCKET_URL": "/proc/stripe/landing",
            "DAGSTER_HOME": "/proc/stripe/dagster_home",
            "DUCKDB_PATH": "{tmp_path}/notes.txt",
        },
        [
            "LANDING_BUCKET_URL '/proc/stripe/landing' cannot be written",
            "DAGSTER_HOME '/proc/stripe/dagster_home' cannot be written",
            "DUCKDB_PATH '{tmp_path}/notes.txt' is not a DuckDB database",
        ],
    ),
    "duckdb memory limit": (
        "run",
        {"STRIPE_API_KEY": "sk_test_x", "DUCKDB_MEMORY_LIMIT": "lots"},
        ["DUCKDB_MEMORY_LIMIT 'lots' is not a size such as 1GB or 512MB"],
    ),
    # checked before any request: each took 90 s of retries, and a path doubled /v1
    "api base that is no server": (
        "run",
        {"STRIPE_API_KEY": "sk_test_x", "STRIPE_API_BASE": "https://api.stripe.com/v1"},
        ["STRIPE_API_BASE 'https://api.stripe.com/v1' has a path: give the server alone"],
    ),
    "unreachable api": (
        "run",
        {"STRIPE_API_KEY": "sk_test_x", "STRIPE_API_BASE": "http://127.0.0.1:9"},
        ["Could not reach the Stripe API at http://127.0.0.1:9"],
    ),
    # the values dbt reads, and the schedules', are checked before extraction, not at the end
    "every malformed setting at once": (
        "run",
        EVERY_MALFORMED_SETTING,
        EVERY_MALFORMED_SETTING_SENTENCES,
    ),
    "the UI's port and every malformed setting": (
        "dev",
        {**EVERY_MALFORMED_SETTING, "DAGSTER_UI_PORT": "ui"},
        [*EVERY_MALFORMED_SETTING_SENTENCES, "DAGSTER_UI_PORT 'ui' is not a port number"],
    ),
}


# One case as `make` runs it, in a process of its own; the others call the launcher's main() in
# this process, the same code, without the seconds a new process spends importing Dagster, dbt
# and dlt before it can judge a setting.
IN_ITS_OWN_PROCESS = "every malformed setting at once"


def launch_here(command: str, env: dict[str, str], capsys) -> subprocess.CompletedProcess:
    """`make <command>` as launcher.main() in this process, in `env` alone, restored after."""
    from stripe_assets.tooling.launcher import main

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        with pytest.raises(SystemExit) as exited:
            main([command])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    printed = capsys.readouterr()
    return subprocess.CompletedProcess([command], exited.value.code, printed.out, printed.err)


@pytest.mark.parametrize("case", CASES)
def test_bad_configuration_is_one_clear_sentence(case, tmp_path, capsys):
    command, overrides, sentences = CASES[case]
    (tmp_path / "notes.txt").write_text("not a warehouse")
    workspace = Workspace(tmp_path)
    overrides = {name: value.format(tmp_path=tmp_path) for name, value in overrides.items()}
    env = workspace.env(**overrides)
    if case == IN_ITS_OWN_PROCESS:
        process = launch(command, env)
    else:
        process = launch_here(command, env, capsys)
    output = process.stdout + process.stderr
    assert process.returncode == 2
    for sentence in sentences:
        assert sentence.format(tmp_path=tmp_path) in output
    assert "Traceback" not in output
    assert "[ERROR]" not in output, "no log line beside the sentence (readers stop at once)"
    assert "sk_test_x" not in output and "pk_test_publishableNotSecret" not in output
    assert "PwLeakCheck7" not in output, "no password of DAGSTER_POSTGRES_URL"
    assert not workspace.landing.exists(), "nothing landed"


def test_a_restricted_key_without_a_permission_names_it(tmp_path):
    """Stripe answers 403 to a restricted key lacking a resource's read permission: the run
    stops with a sentence naming it and keeps what it read; rerun as the sentence says, without
    that resource, it completes."""
    key = "rk_test_NoDisputesPermission7Kq2"
    with running_sandbox("--customers", "10", "--forbid", "disputes", api_key=key) as sandbox:
        workspace = Workspace(tmp_path)
        env = workspace.env(STRIPE_API_BASE=sandbox.url, STRIPE_API_KEY=key, **WITHOUT_DBT_TESTS)
        process = launch("run", env)
        output = process.stdout + process.stderr
        assert process.returncode != 0
        assert (
            "STRIPE_API_KEY may not read disputes (403 Forbidden): give the restricted key read "
            "permission on disputes (rak_dispute_read), or leave it out of STRIPE_RESOURCES."
        ) in output
        assert "Traceback" not in output
        assert key.removeprefix("rk_test_") not in output
        assert "Raw tables and MRR not shown: this run rebuilt neither." in process.stdout
        others = ",".join(table for table in TABLES if table != "disputes")
        rerun = launch("run", {**env, "STRIPE_RESOURCES": others})
        assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]


def as_duckdb_reports(memory_limit: str) -> str:
    with duckdb.connect() as con:
        con.execute(f"set memory_limit = '{memory_limit}'")
        return con.execute("select current_setting('memory_limit')").fetchone()[0]


@pytest.mark.parametrize("limit", ["300MB", None], ids=["set", "default"])
def test_duckdb_memory_limit_bounds_the_raw_load_and_dbt(limit, tmp_path, monkeypatch):
    """DuckDB's own default is 80% of RAM; the raw load and every dbt model stay under ours,
    the same limit whether DUCKDB_MEMORY_LIMIT is set or not (the dbt profile writes the default
    too)."""
    env = Workspace(tmp_path).env(**({"DUCKDB_MEMORY_LIMIT": limit} if limit else {}))
    monkeypatch.setenv("DUCKDB_PATH", env["DUCKDB_PATH"])
    if limit:
        monkeypatch.setenv("DUCKDB_MEMORY_LIMIT", limit)
    else:
        monkeypatch.delenv("DUCKDB_MEMORY_LIMIT", raising=False)
    pipeline = StorageResource.from_environment().raw_pipeline()
    pipeline.run([{"id": "cus_1"}], table_name="probe")
    with pipeline.sql_client() as client:
        [(raw_limit,)] = client.execute_sql("select current_setting('memory_limit')")
    dbt = subprocess.run(
        [
            *("dbt", "show", "--inline", "select current_setting('memory_limit') as memory_limit"),
            *("--profiles-dir", ".", "--target-path", str(tmp_path / "target")),
            *("--log-path", str(tmp_path / "logs")),
        ],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert dbt.returncode == 0, dbt.stdout + dbt.stderr
    assert raw_limit == as_duckdb_reports(limit or DUCKDB_MEMORY_LIMIT_DEFAULT)
    assert raw_limit in dbt.stdout


def test_dbt_builds_the_warehouse_the_storage_resource_names(tmp_path, monkeypatch):
    """A run can change the storage resource's config when it is launched (the launchpad), so
    the resource and DUCKDB_PATH, which dbt's profile reads, can disagree: dbt must build the
    models in the warehouse the raw load wrote, not in the one the environment names."""
    prepare_manifest()  # which the dbt assets are made from when imported (a fresh clone has none)
    from stripe_assets.defs.dbt.assets import stripe_dbt_models

    named_by_the_environment = tmp_path / "environment.duckdb"
    launched_with = tmp_path / "launched.duckdb"
    monkeypatch.setenv("DUCKDB_PATH", str(named_by_the_environment))
    for name, value in WITHOUT_DBT_TESTS.items():
        monkeypatch.setenv(name, value)
    with running_sandbox("--customers", "10", "--seed", "5") as sandbox:
        monkeypatch.setenv("STRIPE_API_KEY", sandbox.api_key)
        resources = stripe_resources(sandbox.url, tmp_path)
        resources["storage"] = StorageResource(
            landing_bucket_url=str(tmp_path / "landing"), duckdb_path=str(launched_with)
        )
        result = dg.materialize(
            [stripe_landing, stripe_raw, stripe_dbt_models],
            resources={**resources, "dbt": dbt_resource(), "dbt_settings": DbtSettingsResource()},
            instance=dg.DagsterInstance.ephemeral(),
        )
    assert result.success
    assert not named_by_the_environment.exists()
    manifest = json.loads(dbt_project.manifest_path.read_text())
    models = {
        (node["schema"], node["alias"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    schemas = sorted({schema for schema, _ in models})
    with duckdb.connect(str(launched_with), read_only=True) as con:
        built = con.execute(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in ({', '.join('?' * len(schemas))})",
            schemas,
        ).fetchall()
    assert set(built) == models
