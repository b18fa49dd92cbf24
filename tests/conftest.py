"""Shared fixtures: a real sandbox server, and real pipeline runs against it.

Everything runs for real: the sandbox is an HTTP server in its own process, the pipeline runs
through `python -m stripe_assets.launcher run` exactly as `make run` does, writing DuckDB, the
landing zone and a Dagster instance under pytest's temporary directory.
"""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import requests

from stripe_assets.sandbox.process import RunningSandbox, running_sandbox
from stripe_assets.settings import PROJECT_ROOT

# dlt warns about every all-null column; the tests assert on what matters instead.
os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")

SANDBOX_ARGS = ("--customers", "150", "--seed", "11")
RUN_TIMEOUT_S = 600


@dataclass(frozen=True)
class Workspace:
    """Where one pipeline writes: its own warehouse, landing zone and Dagster instance."""

    root: Path

    @property
    def duckdb_path(self) -> Path:
        return self.root / "warehouse" / "stripe.duckdb"

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    def env(self, **overrides: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("STRIPE_", "AWS_", "LANDING_", "DUCKDB_", "DAGSTER_", "MRR_"))
        }
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env.update(
            DUCKDB_PATH=str(self.duckdb_path),
            LANDING_BUCKET_URL=str(self.landing),
            DAGSTER_HOME=str(self.dagster_home),
        )
        env.update(overrides)
        return env


def launch(command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`make run` without make: the same module the Makefile calls."""
    return subprocess.run(
        [sys.executable, "-m", "stripe_assets.launcher", command],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )


@pytest.fixture(scope="session")
def sandbox() -> RunningSandbox:
    with running_sandbox(*SANDBOX_ARGS) as running:
        yield running


@pytest.fixture(scope="session")
def truth(sandbox: RunningSandbox) -> dict:
    return requests.get(f"{sandbox.url}/_sandbox/truth", timeout=30).json()


@pytest.fixture(scope="session")
def sandbox_env(sandbox: RunningSandbox, truth: dict) -> dict[str, str]:
    return pipeline_env(sandbox, truth)


def pipeline_env(sandbox: RunningSandbox, truth: dict) -> dict[str, str]:
    """What a pipeline run against the sandbox needs: its URL and key, and its clock, which
    runs on its own (`advance`), as "now" for the current month's MRR."""
    return {
        "STRIPE_API_BASE": sandbox.url,
        "STRIPE_API_KEY": sandbox.api_key,
        "MRR_AS_OF": truth["as_of"],
    }


def assert_mrr_equals_truth(workspace: Workspace, truth: dict) -> None:
    """Every month and currency of analytics.mrr_monthly against the ledger; one minor unit of
    rounding is the only tolerance."""
    expected = {
        (row["month"], row["currency"]): (
            row["mrr_minor"],
            row["active_subscriptions"],
            row["active_customers"],
        )
        for row in truth["mrr"]
    }
    with duckdb.connect(str(workspace.duckdb_path), read_only=True) as con:
        rows = con.execute(
            "select strftime(month, '%Y-%m'), currency, mrr_minor, active_subscriptions, "
            'active_customers from "stripe"."analytics"."mrr_monthly"'
        ).fetchall()
    actual = {(month, currency): tuple(figures) for month, currency, *figures in rows}
    assert set(actual) == set(expected), "the same months and currencies"
    wrong = {
        key: (actual[key], expected[key])
        for key in expected
        if abs(actual[key][0] - expected[key][0]) > 1 or actual[key][1:] != expected[key][1:]
    }
    assert not wrong, f"(dbt, truth) differ for {len(wrong)} of {len(expected)}: {wrong}"
