"""Secrets never leak, and the pipeline only reads from Stripe.

The session's pipeline (tests/conftest.py: a full run, then two incremental runs at once, then a
raw rebuild) runs against a sandbox that accepts only a recognizable restricted key, the kind the
README recommends. Every byte it wrote (the warehouse, the landing zone, dlt's working files, the
Dagster instance's storage and logs) and everything it printed is searched for the key, and the
sandbox's request log is read for any method but GET.
"""

from pathlib import Path

import requests

from .conftest import CANARY_KEY, RunOutcome, Workspace


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def test_a_restricted_key_works_and_never_leaks(
    pipeline_runs: list[RunOutcome], pipeline_workspace: Workspace, sandbox_env: dict[str, str]
):
    assert sandbox_env["STRIPE_API_KEY"] == CANARY_KEY
    assert all(run.process.returncode == 0 for run in pipeline_runs)
    written = files_under(pipeline_workspace.root)
    assert any(p.suffix == ".parquet" for p in written) and pipeline_workspace.duckdb_path.exists()
    assert any("dagster_home" in p.parts and "storage" in p.parts for p in written)
    secret = CANARY_KEY.removeprefix("rk_test_")
    for path in written:
        content = path.read_bytes()
        assert secret.encode() not in content, f"the key is written in {path}"
    for run in pipeline_runs:
        assert secret not in run.process.stdout + run.process.stderr

    stats = requests.get(f"{sandbox_env['STRIPE_API_BASE']}/_sandbox/stats", timeout=30).json()
    api_requests = [row for row in stats["requests"] if row["endpoint"].startswith("/v1/")]
    assert sum(row["count"] for row in api_requests) > 50
    assert {row["method"] for row in api_requests} == {"GET"}, "the pipeline only reads"
