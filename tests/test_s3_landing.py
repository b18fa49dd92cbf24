"""The landing zone on S3: moto's server on 127.0.0.1 stands in for AWS (no AWS here)."""

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from stripe_assets.defs.stripe.catalog import TABLES
from stripe_assets.sandbox.process import running_sandbox

from .conftest import Workspace, launch
from .test_incremental import assert_raw_equals_truth, landing_metadata, sync
from .test_incremental import truth as truth_of
from .test_pipeline import raw_rows

BUCKET = "stripe-landing"
AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def s3_endpoint() -> str:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3 = boto3.client("s3", endpoint_url=endpoint, **_boto_credentials())
    s3.create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


def _boto_credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": AWS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": AWS["AWS_SECRET_ACCESS_KEY"],
        "region_name": AWS["AWS_REGION"],
    }


def test_pipeline_lands_on_s3_and_loads_raw_from_it(s3_endpoint, sandbox_env, truth, tmp_path):
    workspace = Workspace(tmp_path)
    env = workspace.env(
        **sandbox_env,
        **AWS,
        AWS_ENDPOINT_URL=s3_endpoint,
        LANDING_BUCKET_URL=f"s3://{BUCKET}/prod",
    )
    process = launch("run", env)
    assert process.returncode == 0, process.stdout + process.stderr

    s3 = boto3.client("s3", endpoint_url=s3_endpoint, **_boto_credentials())
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="prod/")
        for item in page.get("Contents", [])
    ]
    for table in TABLES:
        assert any(k.startswith(f"prod/stripe/{table}/") and k.endswith(".parquet") for k in keys)
    assert not workspace.landing.exists(), "nothing may land locally when the landing zone is S3"

    rows = raw_rows(workspace)
    for table in TABLES:
        total, _, deleted = rows[table]
        assert total - deleted == truth["tables"][table]["live"], table


def test_incremental_sync_through_s3(s3_endpoint, tmp_path, monkeypatch):
    for name, value in {**AWS, "AWS_ENDPOINT_URL": s3_endpoint}.items():
        monkeypatch.setenv(name, value)
    landing = f"s3://{BUCKET}/incremental"
    with running_sandbox("--customers", "120", "--seed", "8") as sandbox:
        assert sync(sandbox, tmp_path, monkeypatch, landing=landing).success
        requests.post(f"{sandbox.url}/_sandbox/advance", json={"days": 10}, timeout=120)
        result = sync(sandbox, tmp_path, monkeypatch, landing=landing)
        assert result.success
        assert landing_metadata(result, "invoices")["sync_mode"] == "incremental"
        assert_raw_equals_truth(tmp_path, truth_of(sandbox))
    assert not (tmp_path / "landing").exists()
