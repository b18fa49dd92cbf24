"""The landing zone on S3: moto's server on 127.0.0.1 stands in for AWS (no AWS here).

`make run` landing on S3 and loading raw from it is tests/test_storage_faults.py's
test_s3_lost_mid_run_then_back, whose second run does exactly that."""

import requests

from stripe_assets.sandbox.process import running_sandbox

from .conftest import (
    LANDING_BUCKET,
    MotoS3,
    assert_raw_equals_truth,
    raw_rows,
)
from .test_incremental import landing_metadata, sync
from .test_incremental import truth as truth_of


def test_incremental_sync_through_s3(s3: MotoS3, tmp_path, monkeypatch):
    for name, value in s3.env().items():
        monkeypatch.setenv(name, value)
    landing = f"s3://{LANDING_BUCKET}/incremental"
    with running_sandbox("--customers", "40", "--seed", "8") as sandbox:
        assert sync(sandbox, tmp_path, monkeypatch, landing=landing).success
        requests.post(f"{sandbox.url}/_sandbox/advance", json={"days": 10}, timeout=120)
        result = sync(sandbox, tmp_path, monkeypatch, landing=landing)
        assert result.success
        assert landing_metadata(result, "invoices")["sync_mode"] == "incremental"
        assert_raw_equals_truth(raw_rows(tmp_path / "stripe.duckdb"), truth_of(sandbox))
    assert not (tmp_path / "landing").exists()
