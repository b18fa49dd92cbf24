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
