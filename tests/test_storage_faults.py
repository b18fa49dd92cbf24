"""Storage that misbehaves: one clear sentence and nothing duplicated, then full recovery.

S3 is moto's server on 127.0.0.1 (there is no AWS here): a bucket that does not exist, refused
credentials (a second moto server with authentication on), and the endpoint going away while a
run is under way and coming back. The warehouse is held open by another process, as a DuckDB
shell or a notebook would hold it. Each time the pipeline runs as `make run` runs it.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from stripe_assets.defs.stripe.catalog import TABLES
from stripe_assets.sandbox.process import RunningSandbox, running_sandbox

from .conftest import (
    AWS,
    LANDING_BUCKET,
    RUN_TIMEOUT_S,
    WITHOUT_DBT_TESTS,
    MotoS3,
    Workspace,
    assert_raw_equals_truth,
    free_port,
    launch,
    pipeline_env,
    raw_rows,
    start,
)
from .test_crashes import Instance
from .test_mrr_reconciliation import truth_of


@pytest.fixture(scope="module")
def business() -> RunningSandbox:
    # latency keeps extraction going for seconds, long enough to lose S3 in the middle of it; the
    # dates are fixed, so that every table has objects whatever today's date (a business ending
    # today differs from day to day, and so few customers have some days no credit note)
    business = ("--customers", "25", "--seed", "13", "--end", "2026-12-07")
    with running_sandbox(*business, "--latency-ms", "30") as sandbox:
        yield sandbox


def stripe_requests_served(sandbox: RunningSandbox) -> int:
    """Requests to the API itself, not to the sandbox's own /_sandbox endpoints."""
    stats = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=30).json()
    return sum(row["count"] for row in stats["requests"] if row["endpoint"].startswith("/v1/"))


def assert_one_sentence(process: subprocess.CompletedProcess, sentence: str) -> None:
    output = process.stdout + process.stderr
    assert process.returncode != 0, output[-3000:]
    assert sentence in output, output[-3000:]
    assert "Traceback" not in output


def run_to_completion(workspace: Workspace, env: dict[str, str], sandbox: RunningSandbox) -> None:
    truth = truth_of(sandbox)
    process = launch("run", {**env, **WITHOUT_DBT_TESTS, "MRR_AS_OF": truth["as_of"]})
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    assert_raw_equals_truth(raw_rows(workspace.duckdb_path), truth)


def test_a_missing_bucket_is_named_before_anything_is_extracted(
    business: RunningSandbox, s3: MotoS3, tmp_path
):
    before = stripe_requests_served(business)
    env = Workspace(tmp_path).env(
        **pipeline_env(business, truth_of(business)),
        **s3.env(),
        LANDING_BUCKET_URL="s3://no-such-landing-bucket/stripe",
    )
    process = launch("run", env)
    assert_one_sentence(
        process,
        f"The landing bucket 'no-such-landing-bucket' does not exist at {s3.endpoint}: create it",
    )
    assert stripe_requests_served(business) == before, (
        "no Stripe request for a run that cannot land"
    )


def test_refused_aws_credentials_are_named(business: RunningSandbox, tmp_path):
    """A moto server that authenticates every request, as AWS does: these keys exist nowhere."""
    port = free_port()
    server = subprocess.Popen(
        [shutil.which("moto_server", path=os.path.dirname(sys.executable)), "-p", str(port)],
        env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_until_listening(endpoint)
        env = Workspace(tmp_path).env(
            **pipeline_env(business, truth_of(business)),
            **AWS,
            AWS_ENDPOINT_URL=endpoint,
            LANDING_BUCKET_URL=f"s3://{LANDING_BUCKET}/stripe",
        )
        process = launch("run", env)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert_one_sentence(
        process,
        f"S3 at {endpoint} refused access to the landing bucket '{LANDING_BUCKET}' (403): check "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    )
    assert AWS["AWS_SECRET_ACCESS_KEY"] not in process.stdout.replace("testing", "")


def wait_until_listening(endpoint: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(endpoint, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"moto_server did not start at {endpoint}")


def test_s3_lost_mid_run_then_back(business: RunningSandbox, tmp_path):
    """S3 goes away once the run is under way: the run fails saying so; with S3 back, the next
    run lands everything on S3, once (every table has objects in this business), nothing
    locally, and loads raw from it."""
    s3, workspace = MotoS3(), Workspace(tmp_path)
    env = workspace.env(
        **pipeline_env(business, truth_of(business)),
        **s3.env(),
        LANDING_BUCKET_URL=f"s3://{LANDING_BUCKET}/stripe",
    )
    instance = Instance(workspace)
    try:
        process = start("run", env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while not instance.run_ids():  # the bucket was checked; the run is starting
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        s3.stop()
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
        assert_one_sentence(
            subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr),
            f"Could not reach S3 for the landing zone s3://{LANDING_BUCKET}/stripe",
        )
        s3.restart()
        run_to_completion(workspace, env, business)
        keys = s3.keys("stripe/")
        for table in TABLES:
            landed = (k for k in keys if k.startswith(f"stripe/stripe/{table}/"))
            assert any(k.endswith(".parquet") for k in landed), table
        assert not workspace.landing.exists(), "nothing lands locally when the zone is S3"
    finally:
        s3.stop()


def test_a_warehouse_held_open_elsewhere(business: RunningSandbox, tmp_path):
    workspace = Workspace(tmp_path)
    workspace.duckdb_path.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"connection = duckdb.connect({str(workspace.duckdb_path)!r})\n"
            "print('open', flush=True)\n"
            "time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        env = workspace.env(**pipeline_env(business, truth_of(business)))
        process = launch("run", env)
        assert_one_sentence(
            process,
            f"The warehouse {workspace.duckdb_path} is open in another process",
        )
        assert f"pid {holder.pid}" in process.stdout + process.stderr
    finally:
        holder.kill()
        holder.wait()
    run_to_completion(workspace, env, business)


@pytest.fixture(scope="module")
def completed(business: RunningSandbox, tmp_path_factory) -> Workspace:
    """A workspace one complete run filled, for the tests that damage its landing zone."""
    workspace = Workspace(tmp_path_factory.mktemp("completed"))
    run_to_completion(
        workspace, workspace.env(**pipeline_env(business, truth_of(business))), business
    )
    return workspace


def copy_of(completed: Workspace, tmp_path) -> Workspace:
    shutil.copytree(completed.root, tmp_path / "copy")
    return Workspace(tmp_path / "copy")


def test_a_landed_file_that_is_not_parquet_is_named(
    business: RunningSandbox, completed: Workspace, tmp_path
):
    """A landed file cut short or overwritten outside the pipeline stops the raw load with one
    sentence naming it, and raw stays as it was; with the file put back, raw reloads whole."""
    workspace = copy_of(completed, tmp_path)
    env = workspace.env(**pipeline_env(business, truth_of(business)))
    loaded = raw_rows(workspace.duckdb_path)
    landed = sorted(workspace.landing.rglob("customers/*.parquet"))[0]
    good = landed.read_bytes()
    landed.write_bytes(good[: len(good) // 2])
    assert_one_sentence(
        launch("rebuild-raw", env), f"The landed file {landed} is not readable Parquet"
    )
    assert raw_rows(workspace.duckdb_path) == loaded
    landed.write_bytes(good)
    process = launch("rebuild-raw", env)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    assert_raw_equals_truth(raw_rows(workspace.duckdb_path), truth_of(business))


def test_a_landed_file_gone_missing_is_named_before_raw_is_rebuilt(
    business: RunningSandbox, completed: Workspace, tmp_path
):
    """`make rebuild-raw` with a landed file deleted since its load would replace complete raw
    with raw short of that file's objects: it refuses, naming the file, raw as it was; with the
    file put back, raw rebuilds whole."""
    workspace = copy_of(completed, tmp_path)
    env = workspace.env(**pipeline_env(business, truth_of(business)))
    loaded = raw_rows(workspace.duckdb_path)
    landed = sorted(workspace.landing.rglob("customers/*.parquet"))[0]
    kept = tmp_path / "kept.parquet"
    landed.rename(kept)
    load_id = ".".join(landed.name.split(".")[:2])  # <load_id>.<file_id>.parquet
    assert_one_sentence(launch("rebuild-raw", env), f"The landed file {landed} of load {load_id}")
    assert raw_rows(workspace.duckdb_path) == loaded
    kept.rename(landed)
    process = launch("rebuild-raw", env)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    assert_raw_equals_truth(raw_rows(workspace.duckdb_path), truth_of(business))


def test_a_raw_load_out_of_memory_is_one_sentence_and_the_rerun_loads_it_whole(
    business: RunningSandbox, completed: Workspace, tmp_path
):
    """DuckDB out of DUCKDB_MEMORY_LIMIT in the raw load: dlt retries the load jobs, logging a
    traceback for each, and gives up; the console shows the summary's one sentence alone, the
    retries go to the run's log; with the limit raised, the next rebuild loads raw whole."""
    workspace = copy_of(completed, tmp_path)
    env = workspace.env(**pipeline_env(business, truth_of(business)))
    # at 8MB DuckDB runs out before dlt starts a load job; at 12MB in the jobs, which dlt retries
    starved = launch("rebuild-raw", {**env, "DUCKDB_MEMORY_LIMIT": "12MB"})
    assert_one_sentence(starved, "DuckDB ran out of the memory DUCKDB_MEMORY_LIMIT gives it")
    assert starved.stderr == "", starved.stderr[-3000:]
    log = Path(starved.stdout.rsplit("dbt's and dlt's output: ", 1)[1].strip())
    assert "Transient exception in job" in log.read_text()  # dlt's retries, kept off the console
    process = launch("rebuild-raw", env)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    assert_raw_equals_truth(raw_rows(workspace.duckdb_path), truth_of(business))
