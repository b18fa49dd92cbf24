"""`make dev`: the launcher serves the Dagster UI with the whole lineage, beside a sandbox."""

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import sync_playwright

from stripe_assets.settings import PROJECT_ROOT

from .conftest import QUIET_GROUP, Workspace, free_port, start
from .test_definitions import EXPECTED_GRAPH

UI_STARTUP_TIMEOUT_S = 300
SHUTDOWN_TIMEOUT_S = 60
RUN_TIMEOUT_S = 900
ASSET_GRAPH_QUERY = "{ assetNodes { assetKey { path } dependencyKeys { path } } }"
LAUNCH_RUN = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}"""
RUN_STATUS = "query Status($runId: ID!) { runOrError(runId: $runId) { ... on Run { status } } }"
PIPELINE_RUN = {
    "selector": {
        "repositoryLocationName": "stripe_assets",
        "repositoryName": "__repository__",
        "jobName": "stripe_pipeline",
    },
    "runConfigData": {},
}
# Debian's chromium (`make test` installs it: browsers cannot be downloaded here), or Chrome
CHROMIUM = shutil.which("chromium") or shutil.which("google-chrome") or "/usr/bin/chromium"
# as root, without a sandbox; no calls home (the network is closed) and a clean profile
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "ui"


def wait_for_asset_nodes(url: str, process: subprocess.Popen) -> list[dict]:
    deadline = time.monotonic() + UI_STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, "the launcher exited before the UI came up"
        try:
            answer = requests.post(f"{url}/graphql", json={"query": ASSET_GRAPH_QUERY}, timeout=10)
            nodes = answer.json()["data"]["assetNodes"]
            if nodes:
                return nodes
        except (requests.RequestException, ValueError, KeyError, TypeError):
            pass
        time.sleep(2)
    raise AssertionError(f"no asset graph at {url} after {UI_STARTUP_TIMEOUT_S}s")


@pytest.fixture(scope="module")
def dev_ui(tmp_path_factory) -> str:
    """`make dev` as a user starts it (no key: it brings its own sandbox), on a free port."""
    port = free_port()
    root = tmp_path_factory.mktemp("dev")
    env = Workspace(root).env(DAGSTER_UI_PORT=str(port), SANDBOX_PORT="0")
    process = start("dev", env, **QUIET_GROUP)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_asset_nodes(url, process)
        yield url
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, as a service manager would: the launcher must be gone within a minute (its
    servers get SHUTDOWN_GRACE_S to stop, then are killed), and nothing may outlive the test."""
    process.terminate()
    try:
        process.wait(timeout=SHUTDOWN_TIMEOUT_S)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    # a wait, not a speed check: on a loaded 2-core machine launching a run took over 30 s
    answer = requests.post(
        f"{url}/graphql", json={"query": query, "variables": variables or {}}, timeout=180
    )
    assert answer.ok, f"{answer.status_code} from the UI: {answer.text}"
    return answer.json()["data"]


def test_dev_serves_the_whole_lineage(dev_ui: str):
    nodes = graphql(dev_ui, ASSET_GRAPH_QUERY)["assetNodes"]
    served = {
        "/".join(node["assetKey"]["path"]): sorted(
            "/".join(dep["path"]) for dep in node["dependencyKeys"]
        )
        for node in nodes
    }
    assert served == {key: sorted(deps) for key, deps in EXPECTED_GRAPH.items()}


def test_the_ui_refuses_what_another_web_page_could_send(dev_ui: str):
    """Through the guard in front of the webserver: a cross-site POST of a mutation, a mutation
    sent as a GET (an image tag can), and a rebound hostname are refused, each in one sentence;
    the UI's own requests pass."""
    port = dev_ui.rsplit(":", 1)[1]
    launch = {"query": LAUNCH_RUN, "variables": {"params": PIPELINE_RUN}}
    cross_site = requests.post(
        f"{dev_ui}/graphql", json=launch, headers={"Origin": "https://evil.example"}, timeout=60
    )
    as_get = requests.get(f"{dev_ui}/graphql", params={"query": LAUNCH_RUN}, timeout=60)
    rebound = requests.get(
        f"{dev_ui}/graphql", headers={"Host": f"rebound.example:{port}"}, timeout=60
    )
    for answer, says in [
        (cross_site, "A page of https://evil.example may not drive the Dagster UI"),
        (as_get, "GraphQL mutations are accepted only as POST requests"),
        (rebound, "is not this machine's Dagster UI"),
    ]:
        assert answer.status_code == 403 and says in answer.text, answer.text
    own = requests.post(
        f"{dev_ui}/graphql",
        json={"query": ASSET_GRAPH_QUERY},
        headers={"Origin": dev_ui},
        timeout=60,
    )
    assert own.status_code == 200 and own.json()["data"]["assetNodes"]


def test_a_run_launched_in_the_ui_succeeds_with_every_check_passed(dev_ui: str):
    """Headless Chromium (Debian's) on the UI: the lineage, then a run of the whole pipeline
    launched through the UI's GraphQL API, then its page and an asset's checks, read off the
    page as a person would. Screenshots land in test-artifacts/ui/."""
    launched = graphql(dev_ui, LAUNCH_RUN, {"params": PIPELINE_RUN})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while (status := run_status(dev_ui, run_id)) not in ("SUCCESS", "FAILURE", "CANCELED"):
        assert time.monotonic() < deadline, f"run {run_id} still {status}"
        time.sleep(3)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(f"{dev_ui}/asset-groups")
        page.get_by_text("stripe_landing").first.wait_for(timeout=60_000)
        page.get_by_text("dbt_marts").first.wait_for()
        page.screenshot(path=ARTIFACTS / "lineage.png")

        page.goto(f"{dev_ui}/runs/{run_id}")
        page.get_by_text("Success").first.wait_for(timeout=60_000)
        page.screenshot(path=ARTIFACTS / "run.png")

        page.goto(f"{dev_ui}/assets/stripe/invoices?view=checks")
        for check in ("id_present_and_unique", "references_resolve", "totals_match_lines"):
            page.get_by_text(check).first.wait_for(timeout=60_000)
        page.get_by_text("Passed").first.wait_for()
        page.screenshot(path=ARTIFACTS / "checks.png")
        body = page.inner_text("body")

        page.goto(f"{dev_ui}/assets/analytics/mrr_monthly")
        page.get_by_text("mrr_by_month").first.wait_for(timeout=60_000)
        entry = page.locator("tr", has_text="mrr_by_month").first
        entry.get_by_text("[Show Markdown]").click()
        charts = page.locator('img[alt^="MRR by month in"]')
        charts.first.wait_for(timeout=60_000)
        page.wait_for_timeout(1000)  # the dialog fades in: a clear picture, nothing asserted
        page.screenshot(path=ARTIFACTS / "mrr_by_month.png")
        chart_widths = charts.evaluate_all("images => images.map(image => image.naturalWidth)")

        report = report_path_shown(dev_ui)  # the path the report's materialization links to
        page.goto(report.as_uri())
        drawn = page.evaluate(COUNT_DRAWN_MARKS)
        page.screenshot(path=ARTIFACTS / "revenue_report.png", full_page=True)
        browser.close()
    assert status == "SUCCESS"
    assert body.count("Succeeded") >= 3 and "Failed" not in body
    # MRR by month as a picture in the UI: one drawn chart per currency of the report
    currencies = {currency for _, currency, _, _ in drawn}
    assert len(chart_widths) == len(currencies) and all(chart_widths), chart_widths
    # every currency's MRR and bridge charts drew real series, each with as many marks as it
    # says it has points
    assert {(chart, currency) for chart, currency, _, _ in drawn} >= {
        (chart, currency) for _, currency, _, _ in drawn for chart in ("mrr", "bridge")
    }
    assert drawn and all(points > 0 and marks == points for _, _, points, marks in drawn), drawn


# (chart, currency, data-points, marks drawn) of every series the report drew
COUNT_DRAWN_MARKS = """() =>
  [...document.querySelectorAll('figure[data-chart]:not(.no-data) .series')].map(series => {
    const figure = series.closest('figure');
    return [figure.dataset.chart, figure.dataset.currency, Number(series.dataset.points),
            series.querySelectorAll('.point, .bar').length];
  })"""
REPORT_PATH_QUERY = """
query {
  assetOrError(assetKey: {path: ["reports", "revenue_report"]}) {
    ... on Asset { assetMaterializations(limit: 1) {
      metadataEntries { label ... on PathMetadataEntry { path } }
    } }
  }
}
"""


def report_path_shown(url: str) -> Path:
    [materialization] = graphql(url, REPORT_PATH_QUERY)["assetOrError"]["assetMaterializations"]
    [path] = [e["path"] for e in materialization["metadataEntries"] if e["label"] == "path"]
    return Path(path)


def run_status(url: str, run_id: str) -> str:
    return graphql(url, RUN_STATUS, {"runId": run_id})["runOrError"]["status"]


def test_docs_serves_every_model_documented(tmp_path):
    """`make docs`: dbt's site on 127.0.0.1, and no model or column without a description."""
    port = free_port()
    output = (tmp_path / "docs.log").open("w+")
    process = start(
        "docs",
        Workspace(tmp_path).env(DBT_DOCS_PORT=str(port)),
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + UI_STARTUP_TIMEOUT_S
        manifest = None
        while manifest is None and time.monotonic() < deadline:
            assert process.poll() is None, "make docs exited"
            try:
                manifest = requests.get(f"http://127.0.0.1:{port}/manifest.json", timeout=5).json()
            except (requests.RequestException, ValueError):
                time.sleep(1)
        assert manifest is not None
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200
        # Only `docs generate` writes a catalog (empty here: no run has filled the warehouse).
        catalog = requests.get(f"http://127.0.0.1:{port}/catalog.json", timeout=5)
        assert catalog.status_code == 200 and "nodes" in catalog.json()
        overview = manifest["docs"]["doc.stripe_revenue.__overview__"]["block_contents"]
        assert "mrr_movements" in overview, "the site opens on the project, not dbt's welcome"
        models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
        assert len(models) >= 30
        undocumented = [m["name"] for m in models if not m["description"].strip()]
        undocumented += [
            f"{m['name']}.{column}"
            for m in models
            for column, spec in m["columns"].items()
            if not spec["description"].strip()
        ]
        assert not undocumented
        process.send_signal(signal.SIGINT)  # Ctrl-C
        assert process.wait(timeout=SHUTDOWN_TIMEOUT_S) == 0
        output.seek(0)
        log = output.read()
        assert "Serving dbt docs" in log and "Traceback" not in log, log[-3000:]
    finally:
        stop(process)
