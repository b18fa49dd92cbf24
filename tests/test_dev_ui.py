"""`make dev`: the launcher serves the Dagster UI with the whole lineage, beside a sandbox."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

import requests

from stripe_assets.settings import PROJECT_ROOT

from .conftest import Workspace
from .test_definitions import EXPECTED_GRAPH

UI_STARTUP_TIMEOUT_S = 300
ASSET_GRAPH_QUERY = "{ assetNodes { assetKey { path } dependencyKeys { path } } }"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


def test_dev_serves_the_whole_lineage(tmp_path):
    port = free_port()
    env = Workspace(tmp_path).env(DAGSTER_UI_PORT=str(port), SANDBOX_PORT="0")
    process = subprocess.Popen(
        [sys.executable, "-m", "stripe_assets.launcher", "dev"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        nodes = wait_for_asset_nodes(f"http://127.0.0.1:{port}", process)
        served = {
            "/".join(node["assetKey"]["path"]): sorted(
                "/".join(dep["path"]) for dep in node["dependencyKeys"]
            )
            for node in nodes
        }
        assert served == {key: sorted(deps) for key, deps in EXPECTED_GRAPH.items()}
    finally:
        process.terminate()  # the launcher stops dagster dev and its sandbox on SIGTERM
        try:
            assert process.wait(timeout=90) == 0
        finally:
            with contextlib.suppress(ProcessLookupError):  # nothing may outlive the test
                os.killpg(process.pid, signal.SIGKILL)


def test_docs_serves_every_model_documented(tmp_path):
    """`make docs`: dbt's site on 127.0.0.1, and no model or column without a description."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "stripe_assets.launcher", "docs"],
        cwd=PROJECT_ROOT,
        env=Workspace(tmp_path).env(DBT_DOCS_PORT=str(port)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
