"""Secrets never leak, and the pipeline only reads from Stripe.

The whole pipeline runs twice (full, then incremental after the business lives on) with a
recognizable restricted key, the kind the README recommends; then every byte it wrote (the
warehouse, the landing zone, dlt's working files, the Dagster instance's storage and logs) and
everything it printed is searched for the key, and the sandbox's request log is read for any
method but GET.
"""

from pathlib import Path

import requests

from stripe_assets.sandbox.process import running_sandbox

from .conftest import Workspace, launch, pipeline_env
from .test_mrr_reconciliation import truth_of

CANARY_KEY = "rk_test_CanaryQ7xZ9LeakCheck4242"


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def test_a_restricted_key_works_and_never_leaks(tmp_path):
    workspace = Workspace(tmp_path)
    with running_sandbox("--customers", "40", "--seed", "5", "--api-key", CANARY_KEY) as sandbox:
        outputs = []
        for days in (0, 3):
            if days:
                requests.post(f"{sandbox.url}/_sandbox/advance", json={"days": days}, timeout=120)
            env = workspace.env(**pipeline_env(sandbox, truth_of(sandbox)))
            env["STRIPE_API_KEY"] = CANARY_KEY
            process = launch("run", env)
            assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
            outputs.append(process.stdout + process.stderr)
        stats = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=30).json()["requests"]

    written = files_under(workspace.root)
    assert any(p.suffix == ".parquet" for p in written) and workspace.duckdb_path.exists()
    assert any(p.parent.name == "dagster_home" or "storage" in p.parts for p in written)
    secret = CANARY_KEY.removeprefix("rk_test_")
    for path in written:
        content = path.read_bytes()
        assert secret.encode() not in content, f"the key is written in {path}"
    for output in outputs:
        assert secret not in output

    api_requests = [row for row in stats if row["endpoint"].startswith("/v1/")]
    assert sum(row["count"] for row in api_requests) > 50
    assert {row["method"] for row in api_requests} == {"GET"}, "the pipeline only reads"
