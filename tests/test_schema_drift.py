"""The API's shape drifts under a running pipeline (the sandbox's `/_sandbox/drift`, on products,
which every sync lists in full).

A field that changes type stops the sync with one sentence naming the table, the column and
both types, before anything lands; raw keeps its types, and once the API is back to its shape the
next run lands it all. A field added is kept as a new raw column (the schema check warns, naming
it), a field left out becomes null, and the marts keep building with every other check passing.
"""

import duckdb
import pytest
import requests

from stripe_assets.sandbox.process import RunningSandbox, running_sandbox

from .conftest import (
    WITHOUT_DBT_TESTS,
    Workspace,
    assert_mrr_equals_truth,
    assert_raw_equals_truth,
    launch,
    pipeline_env,
    raw_rows,
)
from .test_mrr_reconciliation import truth_of


@pytest.fixture(scope="module")
def business() -> RunningSandbox:
    with running_sandbox("--customers", "20", "--seed", "17") as sandbox:
        yield sandbox


def drift(sandbox: RunningSandbox, mode: str) -> None:
    answer = requests.post(f"{sandbox.url}/_sandbox/drift", json={"mode": mode}, timeout=30)
    answer.raise_for_status()


def products(workspace: Workspace) -> tuple[dict[str, str], list[tuple]]:
    with duckdb.connect(str(workspace.duckdb_path), read_only=True) as con:
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_catalog = 'stripe' and table_schema = 'stripe' "
                "and table_name = 'products'"
            ).fetchall()
        )
        rows = con.execute(
            'select id, description, tagline from "stripe"."stripe".products where not is_deleted'
            if "tagline" in types
            else 'select id, description from "stripe"."stripe".products where not is_deleted'
        ).fetchall()
    return types, rows


def test_drift_is_kept_or_reported_and_the_marts_keep_building(business: RunningSandbox, tmp_path):
    workspace = Workspace(tmp_path)
    env = workspace.env(**pipeline_env(business, truth_of(business)))
    first = launch("run", {**env, **WITHOUT_DBT_TESTS})  # raw before the drift is what counts
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    types_before, _ = products(workspace)
    landed_before = sorted(workspace.landing.rglob("*.parquet"))

    drift(business, "types")
    retyped = launch("run", env)
    output = retyped.stdout + retyped.stderr
    assert retyped.returncode != 0
    assert "Stripe returned products.updated as text where earlier loads stored bigint" in output
    assert "Traceback" not in output
    assert sorted(workspace.landing.rglob("*.parquet")) == landed_before, "nothing landed"
    assert products(workspace)[0] == types_before, "raw keeps its types"

    drift(business, "fields")
    added = launch("run", env)
    assert added.returncode == 0, added.stdout[-3000:] + added.stderr[-3000:]
    failed = [line.strip() for line in added.stdout.splitlines() if line.startswith("  WARN")]
    failed += [line.strip() for line in added.stdout.splitlines() if line.startswith("  ERROR")]
    assert failed == ["WARN  stripe/products · column_schema_change"], "the drift is reported"
    assert "        Added columns: tagline" in added.stdout
    types_after, rows = products(workspace)
    assert types_after["tagline"] == "VARCHAR", "the new field is a new column"
    assert {k: v for k, v in types_after.items() if k != "tagline"} == types_before
    assert rows and all(description is None and tagline for _, description, tagline in rows)
    truth = truth_of(business)
    assert_raw_equals_truth(raw_rows(workspace.duckdb_path), truth)
    assert_mrr_equals_truth(workspace, truth)
