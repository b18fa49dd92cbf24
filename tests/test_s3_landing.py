"""The landing zone on S3: moto's server on 127.0.0.1 stands in for AWS (no AWS here)."""

import requests

from stripe_assets.defs.stripe.catalog import TABLES
from stripe_assets.sandbox.process import running_sandbox

from .conftest import (
    LANDING_BUCKET,
    WITHOUT_DBT_TESTS,
    MotoS3,
    Workspace,
    assert_raw_equals_truth,
    launch,
    raw_rows,
)
from .test_incremental import landing_metadata, sync
from .test_incremental import truth as truth_of


def test_pipeline_lands_on_s3_and_loads_raw_from_it(s3: MotoS3, sandbox_env, truth, tmp_path):
    workspace = Workspace(tmp_path)
    env = workspace.env(
        **sandbox_env,
        **s3.env(),
        **WITHOUT_DBT_TESTS,
        LANDING_BUCKET_URL=f"s3://{LANDING_BUCKET}/prod",
    )
    process = launch("run", env)
    assert process.returncode == 0, process.stdout + process.stderr

    keys = s3.keys("prod/")
    for table in TABLES:
        assert any(k.startswith(f"prod/stripe/{table}/") and k.endswith(".parquet") for k in keys)
    assert not workspace.landing.exists(), "nothing may land locally when the landing zone is S3"

    rows = raw_rows(workspace.duckdb_path)
    for table in TABLES:
        total, _, deleted = rows[table]
        assert total - deleted == truth["tables"][table]["live"], table


def test_incremental_sync_through_s3(s3: MotoS3, tmp_path, monkeypatch):
    for name, value in s3.env().items():
        monkeypatch.setenv(name, value)
    landing = f"s3://{LANDING_BUCKET}/incremental"
    with running_sandbox("--customers", "120", "--seed", "8") as sandbox:
        assert sync(sandbox, tmp_path, monkeypatch, landing=landing).success
        requests.post(f"{sandbox.url}/_sandbox/advance", json={"days": 10}, timeout=120)
        result = sync(sandbox, tmp_path, monkeypatch, landing=landing)
        assert result.success
        assert landing_metadata(result, "invoices")["sync_mode"] == "incremental"
        assert_raw_equals_truth(raw_rows(tmp_path / "stripe.duckdb"), truth_of(sandbox))
    assert not (tmp_path / "landing").exists()
