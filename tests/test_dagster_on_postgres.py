"""Dagster deployed on PostgreSQL storage (DAGSTER_POSTGRES_URL): `make dev`'s webserver and
daemon keep their runs, events and schedules in a real PostgreSQL 15 server
(stripe_assets/tooling/local_postgres.py), and with the automation turned on the daemon syncs
Stripe on its cron and the landing sensor loads raw and builds the models, which reconcile with
the sandbox's ledger. Before that, while Stripe refuses the key, a launch from the UI (headless
Chromium) shows one sentence and the automation's cron ticks pass: neither creates a run, so
the UI marks nothing failed.
"""

import time

import pytest
import requests
import yaml
from playwright.sync_api import sync_playwright

from stripe_assets.sandbox.process import RunningSandbox, running_sandbox
from stripe_assets.tooling.local_postgres import PostgresServer, running_postgres

from .conftest import (
    QUIET_GROUP,
    WITHOUT_DBT_TESTS,
    Workspace,
    assert_mrr_equals_truth,
    free_port,
    pipeline_env,
    start,
    truth_of,
)
from .test_configuration import launch_here
from .test_dev_ui import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_FLAGS,
    graphql,
    stop,
    wait_for_asset_nodes,
)

AUTOMATION_TIMEOUT_S = 900
START_SENSOR = """
mutation Start($selector: SensorSelector!) {
  startSensor(sensorSelector: $selector) {
    __typename
    ... on Sensor { sensorState { status } }
    ... on PythonError { message }
  }
}"""
TICKS = """
query Ticks($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    ... on Sensor { sensorState { ticks(limit: 10) { status timestamp } } }
  }
}"""
RUNS = "{ runsOrError { ... on Runs { results { runId status tags { key value } } } } }"
FAILURES = """
query Failures($runId: ID!) {
  logsForRun(runId: $runId) {
    ... on EventConnection { events {
      ... on ExecutionStepFailureEvent { stepKey error { message } }
      ... on RunFailureEvent { message }
    } }
  }
}"""


@pytest.fixture(scope="module")
def postgres() -> PostgresServer:
    with running_postgres() as server:
        yield server


def sensor_runs(url: str) -> dict[str, list[str]]:
    """Each sensor's runs' statuses, oldest first; a failed run's with what failed."""
    runs: dict[str, list[str]] = {}
    for run in reversed(graphql(url, RUNS)["runsOrError"]["results"]):
        tags = {tag["key"]: tag["value"] for tag in run["tags"]}
        status = run["status"]
        if status == "FAILURE":
            events = graphql(url, FAILURES, {"runId": run["runId"]})["logsForRun"]["events"]
            status += f" {[event for event in events if event]}"
        runs.setdefault(tags.get("dagster/sensor_name", ""), []).append(status)
    return runs


def accept_keys(sandbox: RunningSandbox, *keys: str) -> None:
    """The keys the sandbox takes from now on: none stands for a key revoked in the Dashboard."""
    answer = requests.post(f"{sandbox.url}/_sandbox/keys", json={"accepted": keys}, timeout=30)
    answer.raise_for_status()


def materialize_from_the_ui(url: str) -> str:
    """An asset materialized from its page in the UI (headless Chromium) while Stripe refuses
    the key: `make dev`'s guard asks Stripe before the webserver creates a run, and the UI shows
    its sentence as a launch error. The dialog's text."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}/assets/stripe_landing/customers")
        page.get_by_role("button", name="Materialize").first.click(timeout=60_000)
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("Stripe rejected").wait_for(timeout=60_000)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / "launch_refused.png")
        text = dialog.inner_text()
        browser.close()
    return text


def wait_for_cron_ticks_evaluated(url: str, selector: dict, count: int) -> None:
    """Until the automation sensor has evaluated in `count` distinct minutes: with
    STRIPE_SYNC_CRON every minute, a cron tick has passed between the first and the last (the
    first evaluation only starts the clock)."""
    deadline = time.monotonic() + AUTOMATION_TIMEOUT_S
    while True:
        ticks = graphql(url, TICKS, {"selector": selector})["sensorOrError"]["sensorState"]
        assert "FAILURE" not in {tick["status"] for tick in ticks["ticks"]}, ticks
        minutes = {int(tick["timestamp"] // 60) for tick in ticks["ticks"]}
        if len(minutes) >= count:
            return
        assert time.monotonic() < deadline, f"the automation evaluated in minutes {minutes}"
        time.sleep(5)


def test_the_daemon_runs_the_automation_on_postgres_storage(postgres: PostgresServer, tmp_path):
    instance_url = postgres.create_database("dagster")
    workspace, port = Workspace(tmp_path), free_port()
    with running_sandbox("--customers", "10", "--seed", "5") as sandbox:
        truth = truth_of(sandbox)
        env = workspace.env(
            **pipeline_env(sandbox, truth),
            **WITHOUT_DBT_TESTS,
            DAGSTER_POSTGRES_URL=instance_url,
            DAGSTER_UI_PORT=str(port),
            STRIPE_SYNC_CRON="* * * * *",
        )
        process = start("dev", env, **QUIET_GROUP)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for_asset_nodes(url, process)
            accept_keys(sandbox)  # the key revoked
            refused = materialize_from_the_ui(url)
            assert "Stripe rejected STRIPE_API_KEY (401 Unauthorized)" in refused, refused
            selectors = {
                sensor: {
                    "repositoryLocationName": "stripe_assets",
                    "repositoryName": "__repository__",
                    "sensorName": sensor,
                }
                for sensor in ("stripe_automation", "landing_zone_sensor")
            }
            for selector in selectors.values():
                started = graphql(url, START_SENSOR, {"selector": selector})["startSensor"]
                assert started["sensorState"]["status"] == "RUNNING", started
            wait_for_cron_ticks_evaluated(url, selectors["stripe_automation"], count=2)
            assert sensor_runs(url) == {}, "no run created: the UI marks nothing failed"
            accept_keys(sandbox, sandbox.api_key)
            deadline = time.monotonic() + AUTOMATION_TIMEOUT_S
            while "SUCCESS" not in (runs := sensor_runs(url)).get("landing_zone_sensor", []):
                assert time.monotonic() < deadline, f"the automation's runs: {runs}"
                assert "FAILURE" not in str(runs), f"the automation's runs: {runs}"
                time.sleep(5)
        finally:
            stop(process)
    # the cron's sync, then the landing sensor's load of raw and build of the models
    assert runs["stripe_automation"][0] == "SUCCESS", runs
    assert_mrr_equals_truth(workspace, truth)
    stored = postgres.query("dagster", "select status, count(*) from runs group by status")
    assert dict(stored)["SUCCESS"] >= 2, stored
    assert postgres.query("dagster", "select count(*) from event_logs")[0][0] > 100
    assert not list(workspace.dagster_home.rglob("*.db")), "no SQLite storage beside it"
    settings = yaml.safe_load((workspace.dagster_home / "dagster.yaml").read_text())
    assert settings["storage"] == {"postgres": {"postgres_url": {"env": "DAGSTER_POSTGRES_URL"}}}
    # the URL is named, not copied; its password is nowhere in what Dagster stored or wrote
    leaks = f"select count(*) from event_logs where event like '%{postgres.password}%'"
    assert postgres.query("dagster", leaks) == [(0,)]
    written = [path for path in workspace.root.rglob("*") if path.is_file()]
    assert written and not [
        path for path in written if postgres.password.encode() in path.read_bytes()
    ]


def test_a_refused_postgres_url_is_one_sentence_without_its_password(
    postgres: PostgresServer, tmp_path, capsys
):
    url = postgres.url("postgres").replace(postgres.password, "not-the-password")
    process = launch_here("run", Workspace(tmp_path).env(DAGSTER_POSTGRES_URL=url), capsys)
    assert process.returncode == 2
    assert process.stderr == (
        f"DAGSTER_POSTGRES_URL: PostgreSQL at 127.0.0.1:{postgres.port} answered "
        f'\u201cpassword authentication failed for user "{postgres.user}"\u201d: fix the user '
        "or password in the URL.\n"
    )
    assert "not-the-password" not in process.stdout + process.stderr
