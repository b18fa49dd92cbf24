"""Shared fixtures: a real sandbox server, and real pipeline runs against it.

Everything runs for real: the sandbox is an HTTP server in its own process, the pipeline runs
through `python -m stripe_assets.tooling.launcher run` exactly as `make run` does, writing
DuckDB, the landing zone and a Dagster instance under pytest's temporary directory.
"""

import datetime
import decimal
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import boto3
import dagster as dg
import duckdb
import pytest
import requests
from moto.server import ThreadedMotoServer

from stripe_assets.defs.stripe.assets import stripe_raw
from stripe_assets.defs.stripe.catalog import TABLES
from stripe_assets.defs.stripe.resources import StorageResource, StripeApiResource
from stripe_assets.sandbox.process import RunningSandbox, running_sandbox
from stripe_assets.settings import DBT_PROJECT_DIR, PROJECT_ROOT

# dlt warns about every all-null column; the tests assert on what matters instead.
os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
# Spark's JVMs (the Spark tests') compile with the JIT's first tier alone and collect garbage on
# one thread: their sessions are short, and on two cores shared by the suite's workers the
# optimizing tier and the parallel collector cost about a third of Spark's CPU for no gain in
# its time (docs/testing.md). A tuning of the JVM, not of what Spark computes.
os.environ.setdefault("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")

SANDBOX_ARGS = ("--customers", "150", "--seed", "11")
# the business each warehouse other than DuckDB runs: the reconciliation's kind, smaller
ENGINE_BUSINESS = (
    *("--customers", "150", "--seed", "5", "--start", "2024-11-01", "--end", "2026-11-01"),
    *("--account-api-version", "2024-06-20", "--settlement-currency", "usd"),
)
# The session sandbox accepts only this restricted key, the kind the README recommends:
# test_pipeline searches everything the session's pipeline wrote and printed for it.
CANARY_KEY = "rk_test_CanaryQ7xZ9LeakCheck4242"
RUN_TIMEOUT_S = 600
# dbt's 300-odd data tests cost about 20 s of CPU a build whatever the data's size. Runs whose
# test is about something else (crashes, storage faults, S3, runs overlapping, the run before a
# drift) leave them out (dbt's own setting) and compare the warehouse with the sandbox's ledger
# instead; the runs that test the checks and the marts (the session's first run, reconciliation,
# the run after a drift, `make check`, the UI) run every one.
WITHOUT_DBT_TESTS = {"DBT_EXCLUDE_RESOURCE_TYPES": "test unit_test"}
LANDING_BUCKET = "stripe-landing"
AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
}


# `make test` hands each xdist worker whole modules, in collection order
# (`--no-loadscope-reorder`), and gives a worker its next module as soon as its current one has
# two tests or fewer left. So the modules go longest first (their times in a fresh clone's
# `make test`): the first five, the crash test's one long chain of kills among them, start at
# once, and the last to finish are short. A module not named here goes last.
MODULE_ORDER = (
    "test_warehouse_on_spark.py",
    "test_incremental.py",
    "test_mrr_reconciliation.py",
    "test_storage_faults.py",
    "test_crashes.py",
    "test_dagster_on_postgres.py",  # minutes of waiting on the daemon's ticks, little CPU
    "test_pipeline.py",
    "test_mrr_reconciliation_pinned.py",
    "test_configuration.py",
    "test_dev_ui.py",
    "test_resource_subsets.py",
    "test_warehouse_on_postgres.py",
    "test_spark_catalog.py",
    "test_sandbox_api.py",
    "test_checks.py",
    "test_schema_drift.py",
    "test_automation.py",
    "test_use_in_your_project.py",
    "test_definitions.py",
    "test_s3_landing.py",
    "test_client.py",
    "test_check_shapes.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def position(item: pytest.Item) -> int:
        name = item.path.name
        return MODULE_ORDER.index(name) if name in MODULE_ORDER else len(MODULE_ORDER)

    items.sort(key=position)


def stripe_resources(api_base: str, root: Path, landing: str = "", **api_fields) -> dict:
    """The Stripe and storage resources of a pipeline kept under `root` (its landing zone there
    unless `landing` says otherwise), the key read from STRIPE_API_KEY when a run starts."""
    return {
        "stripe_api": StripeApiResource(
            api_key=dg.EnvVar("STRIPE_API_KEY"), api_base=api_base, **api_fields
        ),
        "storage": StorageResource(
            landing_bucket_url=landing or str(root / "landing"),
            duckdb_path=str(root / "stripe.duckdb"),
        ),
    }


@dataclass(frozen=True)
class Workspace:
    """Where one pipeline writes: its own warehouse, landing zone and Dagster instance.

    dbt's own debug log file (`dbt.log` in the build folder) costs about a tenth of a build's
    CPU, writing every event a second time, and only the tests that read it or search it for
    secrets keep it (`dbt_file_log`); the run's log of dbt's output is written either way."""

    root: Path
    dbt_file_log: bool = False

    @property
    def duckdb_path(self) -> Path:
        return self.root / "warehouse" / "stripe.duckdb"

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def dbt_build_folder(self) -> Path:
        """Where dbt builds this warehouse (compiled SQL, run results, its log)."""
        from stripe_assets.defs.dbt.assets import build_folder, stripe_dbt_models
        from stripe_assets.defs.stripe.resources import StorageResource

        storage = StorageResource(duckdb_path=str(self.duckdb_path), landing_bucket_url="")
        return DBT_PROJECT_DIR / build_folder(stripe_dbt_models.op.name, storage)

    def env(self, **overrides: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(
                ("STRIPE_", "AWS_", "LANDING_", "DUCKDB_", "DAGSTER_", "MRR_", "POSTGRES_")
            )
            and key != "WAREHOUSE"
        }
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env.update(
            DUCKDB_PATH=str(self.duckdb_path),
            LANDING_BUCKET_URL=str(self.landing),
            DAGSTER_HOME=str(self.dagster_home),
            VERBOSE="",  # the console shows the summary alone, whatever the caller's shell has
        )
        if not self.dbt_file_log:
            env["DBT_LOG_LEVEL_FILE"] = "none"
        env.update(overrides)
        return env


# Output discarded, and a process group of its own, which the test can kill whole.
QUIET_GROUP = {
    "stdout": subprocess.DEVNULL,
    "stderr": subprocess.DEVNULL,
    "start_new_session": True,
}


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command: str, env: dict[str, str], **popen_options) -> subprocess.Popen:
    """`make <command>` without make, left running: the same module the Makefile calls."""
    return subprocess.Popen(
        [sys.executable, "-m", "stripe_assets.tooling.launcher", command],
        cwd=PROJECT_ROOT,
        env=env,
        **popen_options,
    )


def launch(
    command: str, env: dict[str, str], timeout_s: float = RUN_TIMEOUT_S
) -> subprocess.CompletedProcess:
    """`make <command>` without make, run to its end."""
    with start(command, env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.fixture(scope="session")
def sandbox() -> RunningSandbox:
    with running_sandbox(*SANDBOX_ARGS, api_key=CANARY_KEY) as running:
        yield running


@pytest.fixture(scope="session")
def truth(sandbox: RunningSandbox) -> dict:
    return requests.get(f"{sandbox.url}/_sandbox/truth", timeout=30).json()


@pytest.fixture(scope="session")
def sandbox_env(sandbox: RunningSandbox, truth: dict) -> dict[str, str]:
    return pipeline_env(sandbox, truth)


def pipeline_env(sandbox: RunningSandbox, truth: dict) -> dict[str, str]:
    """What a pipeline run against the sandbox needs: its URL and key, and its clock, which
    runs on its own (`advance`), as "now" for the current month's MRR."""
    return {
        "STRIPE_API_BASE": sandbox.url,
        "STRIPE_API_KEY": sandbox.api_key,
        "MRR_AS_OF": truth["as_of"],
    }


Reader = Callable[[str], list[tuple]]  # runs a query naming the marts `analytics.<model>`


def reader_of(warehouse: "Workspace | Reader") -> Reader:
    """A reader as given, or one for a workspace's DuckDB."""
    if callable(warehouse):
        return warehouse

    def read(sql: str) -> list[tuple]:
        with duckdb.connect(str(warehouse.duckdb_path), read_only=True) as con:
            return con.execute(sql.replace("analytics.", '"stripe"."analytics".')).fetchall()

    return read


def assert_mrr_equals_truth(warehouse: "Workspace | Reader", truth: dict) -> None:
    """Every month and currency of analytics.mrr_monthly against the ledger; one minor unit of
    rounding is the only tolerance; `warehouse` is a workspace's DuckDB or another's reader."""
    expected = {
        (row["month"], row["currency"]): (
            row["mrr_minor"],
            row["active_subscriptions"],
            row["active_customers"],
        )
        for row in truth["mrr"]
    }
    rows = reader_of(warehouse)(
        "select month, currency, mrr_minor, active_subscriptions, active_customers "
        "from analytics.mrr_monthly"
    )
    actual = {
        (month.strftime("%Y-%m"), currency): (float(mrr), *counts)
        for month, currency, mrr, *counts in rows
    }
    assert set(actual) == set(expected), "the same months and currencies"
    wrong = {
        key: (actual[key], expected[key])
        for key in expected
        if abs(actual[key][0] - expected[key][0]) > 1 or actual[key][1:] != expected[key][1:]
    }
    assert not wrong, f"(dbt, truth) differ for {len(wrong)} of {len(expected)}: {wrong}"


MOVEMENT_COLUMNS = (
    "starting_mrr_minor",
    "new_mrr_minor",
    "expansion_mrr_minor",
    "reactivation_mrr_minor",
    "contraction_mrr_minor",
    "churned_mrr_minor",
    "ending_mrr_minor",
)


def assert_movements_equal_truth(warehouse: "Workspace | Reader", truth: dict) -> None:
    """Every month and currency of the MRR bridge equals the ledger's, which classifies each
    customer's change within a currency from its own records and rounds the same way: so the
    bridge closes, ends on mrr_monthly's figure, and a cancel-and-resubscribe or a currency
    switch moves what the ledger says it moves."""
    expected = {
        (row["month"], row["currency"]): tuple(row[column] for column in MOVEMENT_COLUMNS)
        for row in truth["mrr_movements"]
    }
    rows = reader_of(warehouse)(
        f"select month, currency, {', '.join(MOVEMENT_COLUMNS)} from analytics.mrr_movements"
    )
    actual = {
        (month.strftime("%Y-%m"), currency): tuple(int(figure) for figure in figures)
        for month, currency, *figures in rows
    }
    assert set(actual) == set(expected), "the same months and currencies"
    wrong = {key: (actual[key], expected[key]) for key in expected if actual[key] != expected[key]}
    assert not wrong, f"(dbt, truth) differ for {len(wrong)} of {len(expected)}: {wrong}"


def comparable(value):
    """A mart's value as two engines' drivers can be compared on: numbers to six decimals
    (DuckDB's doubles are PostgreSQL's numerics), instants in UTC, JSON by content."""
    if isinstance(value, decimal.Decimal | float):
        return round(float(value), 6)
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.UTC).replace(tzinfo=None)
    if isinstance(value, str) and value[:1] in "{[":
        return json.dumps(json.loads(value), sort_keys=True)
    return value


def marts(query, tables_sql: str, relation: str) -> dict[str, list[tuple]]:
    """Every mart's rows, sorted, in its columns' order; not the raw load that wrote a fact's
    inputs (`raw_load_id`), which is each warehouse's own."""
    rows = {}
    for (table,) in query(tables_sql):
        columns = [
            name
            for (name,) in query(
                "select column_name from information_schema.columns where table_schema = "
                f"'analytics' and table_name = '{table}' order by ordinal_position"
            )
            if name != "raw_load_id"
        ]
        selected = ", ".join(f'"{column}"' for column in columns)
        fetched = query(f"select {selected} from {relation.format(table=table)}")
        rows[table] = sorted((tuple(map(comparable, row)) for row in fetched), key=repr)
    return rows


def marts_built_on_duckdb(landing: Path, tmp_path: Path, as_of: str) -> dict[str, list[tuple]]:
    """A landing zone loaded into a new DuckDB file by the pipeline's raw load, every model run
    there: each mart's rows, for comparison with another engine's (`marts`)."""
    on_duckdb = StorageResource(
        landing_bucket_url=str(landing), duckdb_path=str(tmp_path / "reference.duckdb")
    )
    raw_loaded = dg.materialize(
        [stripe_raw], resources={"storage": on_duckdb}, instance=dg.DagsterInstance.ephemeral()
    )
    assert raw_loaded.success
    arguments = [str(Path(sys.executable).with_name("dbt")), "run"]
    arguments += ["--project-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target")]
    arguments += ["--log-path", str(tmp_path / "logs")]
    dbt_env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DUCKDB_PATH": on_duckdb.duckdb_path,
        "MRR_AS_OF": as_of,
    }
    ran = subprocess.run(arguments, env=dbt_env, capture_output=True, text=True, timeout=900)
    assert ran.returncode == 0, ran.stdout[-6000:]
    with duckdb.connect(on_duckdb.duckdb_path, read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        return marts(
            lambda sql: con.execute(sql).fetchall(),
            "select table_name from information_schema.tables where table_schema = 'analytics'",
            '"reference"."analytics"."{table}"',
        )


def raw_rows(warehouse: "Path | Reader") -> dict[str, tuple[int, int, int]]:
    """table -> (rows, distinct ids, deleted rows) in raw, in a DuckDB file or through another
    warehouse's reader; a table Stripe had no object for is never created, and counts as
    empty."""
    if callable(warehouse):
        read, relation = warehouse, 'stripe."{table}"'.format
    else:

        def read(sql: str) -> list[tuple]:
            with duckdb.connect(str(warehouse), read_only=True) as con:
                return con.execute(sql).fetchall()

        relation = '"stripe"."stripe"."{table}"'.format
    loaded = {
        name
        for (name,) in read(
            "select table_name from information_schema.tables where table_schema = 'stripe'"
        )
    }
    counts = "select count(*), count(distinct id), count(*) filter (where is_deleted) from {}"
    return {
        table: tuple(read(counts.format(relation(table=table)))[0])
        if table in loaded
        else (0, 0, 0)
        for table in TABLES
    }


def assert_raw_equals_truth(rows: dict[str, tuple[int, int, int]], truth: dict) -> None:
    """Every live object once, no duplicate id, and deletions kept."""
    for table in TABLES:
        count, distinct_ids, deleted = rows[table]
        expected = truth["tables"][table]
        assert distinct_ids == count, f"{table} has duplicate ids"
        if table == "events":  # raw keeps events after Stripe's 30-day window drops them
            assert count - deleted >= expected["live"], table
        else:
            assert count - deleted == expected["live"], table
        # A deletion older than the first sync is visible only through what references it:
        # every deleted customer has subscriptions, so all of them must be kept as deleted.
        if table == "customers":
            assert deleted == expected["deleted"], table
        else:
            assert deleted <= expected["deleted"], table


@dataclass(frozen=True)
class RunOutcome:
    process: subprocess.CompletedProcess
    rows: dict[str, tuple[int, int, int]]  # table -> (rows, distinct ids, deleted rows)
    landing_files: set[str]


@pytest.fixture(scope="session")
def pipeline_workspace(tmp_path_factory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("pipeline"), dbt_file_log=True)


@pytest.fixture(scope="session")
def pipeline_runs(pipeline_workspace: Workspace, sandbox_env: dict[str, str]) -> list[RunOutcome]:
    """A first run, with every check, then two launched at once on the same storage, as a
    schedule tick and a click in the UI would: they queue for the warehouse and the extraction
    (Dagster pools) instead of colliding, and together change nothing. The overlapping two both
    see the storage as they left it."""
    first = launch("run", pipeline_workspace.env(**sandbox_env))
    assert first.returncode == 0, first.stdout + first.stderr
    outcomes = [
        RunOutcome(
            first, raw_rows(pipeline_workspace.duckdb_path), landed_files(pipeline_workspace)
        )
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        overlapping = list(
            pool.map(
                lambda verbose: launch(
                    "run",
                    pipeline_workspace.env(**sandbox_env, **WITHOUT_DBT_TESTS, VERBOSE=verbose),
                ),
                ["1", ""],  # the first shows dbt's output live
            )
        )
    for process in overlapping:
        assert process.returncode == 0, process.stdout + process.stderr
    rows, files = raw_rows(pipeline_workspace.duckdb_path), landed_files(pipeline_workspace)
    outcomes += [RunOutcome(process, rows, files) for process in overlapping]
    return outcomes


def landed_files(workspace: Workspace) -> set[str]:
    return {str(p.relative_to(workspace.landing)) for p in workspace.landing.rglob("*.parquet")}


class MotoS3:
    """moto's S3 server on 127.0.0.1 standing in for AWS (there is none here), with the landing
    bucket made. It can be stopped and started again on the same port, keeping its objects."""

    def __init__(self):
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.client().create_bucket(Bucket=LANDING_BUCKET)

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=AWS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=AWS["AWS_SECRET_ACCESS_KEY"],
            region_name=AWS["AWS_REGION"],
        )

    def env(self) -> dict[str, str]:
        """What the pipeline needs to land here."""
        return {**AWS, "AWS_ENDPOINT_URL": self.endpoint}

    def keys(self, prefix: str) -> list[str]:
        pages = (
            self.client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=LANDING_BUCKET, Prefix=prefix)
        )
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def stop(self) -> None:
        self.server.stop()

    def restart(self) -> None:
        host, port = self.endpoint.removeprefix("http://").split(":")
        self.server = ThreadedMotoServer(ip_address=host, port=int(port))
        self.server.start()


@pytest.fixture(scope="session")
def s3() -> MotoS3:
    server = MotoS3()
    yield server
    server.stop()


def truth_of(sandbox: RunningSandbox) -> dict:
    return requests.get(f"{sandbox.url}/_sandbox/truth", timeout=60).json()


def run_pipeline(sandbox: RunningSandbox, workspace: Workspace, **env: str) -> dict:
    """One `make run` against the sandbox as it is now (`env` added to its environment); returns
    the truth it must match."""
    truth = truth_of(sandbox)
    process = launch("run", workspace.env(**pipeline_env(sandbox, truth), **env))
    assert process.returncode == 0, process.stdout[-4000:] + process.stderr[-4000:]
    return truth


def query(workspace: Workspace, sql: str, parameters: list | None = None) -> list[tuple]:
    with duckdb.connect(str(workspace.duckdb_path), read_only=True) as con:
        return con.execute(sql, parameters).fetchall()


def assert_every_billing_setup_is_in(workspace: Workspace) -> None:
    """The business, as the warehouse holds it, exercises what a current-state MRR would get
    wrong and every billing setup the marts handle."""
    (changed_items,) = query(
        workspace,
        'select count(*) from "stripe"."intermediate"."int_subscription_item_versions" '
        "where valid_to_at is not null",
    )[0]
    (unpaid_spells,) = query(
        workspace,
        'select count(*) from "stripe"."intermediate"."int_subscription_counted_periods" '
        "where counted_until_at is not null",
    )[0]
    (forever_coupons,) = query(
        workspace,
        'select count(*) from "stripe"."intermediate"."int_subscription_discounts" '
        "where coupon_duration = 'forever'",
    )[0]
    statuses = {
        status
        for (status,) in query(
            workspace, 'select distinct status from "stripe"."staging"."stg_stripe__subscriptions"'
        )
    }
    (stacked, deleted_customers_own, removed_customers_own) = query(
        workspace,
        "select count(*) filter (where discount_position > 1), "
        "count(*) filter (where is_customer_discount and customers.is_deleted), "
        "count(*) filter (where is_customer_discount and coupon_duration = 'forever' "
        "  and discount_end_at is not null and not customers.is_deleted) "
        'from "stripe"."intermediate"."int_subscription_discounts" as discounts '
        'inner join "stripe"."staging"."stg_stripe__subscriptions" using (subscription_id) '
        'inner join "stripe"."staging"."stg_stripe__customers" as customers using (customer_id)',
    )[0]
    assert changed_items > 0 and unpaid_spells > 0 and forever_coupons > 0
    (two_currencies, replaced_within_the_month) = query(
        workspace,
        "select count(distinct customer_id) filter (where currencies > 1), "
        "count(*) filter (where replaced) from ("
        "  select customer_id, count(distinct currency) over (partition by customer_id)"
        "  as currencies, date_trunc('month', created_at) = date_trunc('month', lag(ended_at)"
        "  over (partition by customer_id, currency order by created_at)) as replaced"
        '  from "stripe"."staging"."stg_stripe__subscriptions")',
    )[0]
    assert stacked > 0 and deleted_customers_own > 0 and removed_customers_own > 0
    assert two_currencies > 0 and replaced_within_the_month > 0
    assert {"active", "canceled", "past_due", "unpaid", "trialing", "paused"} <= statuses
