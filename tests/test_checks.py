"""`make check` gates CI: green on a healthy sandbox run, red on data broken on purpose.

A healthy workspace is built once with `make check`'s launcher; a copy of it is then broken in
five ways a bad load or a bad hand would break it, `make check` runs again (an incremental run
that leaves the damage in place), and the test asserts the exit code, each check the output names,
the offending ids it names, and that the blocking failures kept the dbt models from running.
"""

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from stripe_assets.sandbox.process import RunningSandbox, running_sandbox

from .conftest import Workspace, launch, pipeline_env
from .test_mrr_reconciliation import truth_of


@pytest.fixture(scope="module")
def sandbox() -> RunningSandbox:
    with running_sandbox("--customers", "60", "--seed", "4") as running:
        yield running


@pytest.fixture(scope="module")
def env_of(sandbox: RunningSandbox):
    truth = truth_of(sandbox)
    return lambda workspace, **extra: workspace.env(**pipeline_env(sandbox, truth), **extra)


@pytest.fixture(scope="module")
def healthy(tmp_path_factory, env_of) -> Workspace:
    workspace = Workspace(tmp_path_factory.mktemp("healthy"))
    process = launch("check", env_of(workspace))
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    assert "0 failed" in process.stdout
    return workspace


@pytest.fixture
def copy(healthy: Workspace, tmp_path: Path) -> Workspace:
    shutil.copytree(healthy.root, tmp_path / "copy")
    return Workspace(tmp_path / "copy")


def corrupt(workspace: Workspace, *statements: str) -> None:
    with duckdb.connect(str(workspace.duckdb_path)) as con:
        for statement in statements:
            con.execute(statement.replace("raw.", '"stripe"."stripe".'))


def dbt_ran_in_last_run(workspace: Workspace) -> bool:
    with dg.DagsterInstance.from_config(str(workspace.dagster_home)) as instance:
        [run] = instance.get_runs(limit=1)
        return any(
            step.step_key == "stripe_dbt_models" and step.status.value == "SUCCESS"
            for step in instance.get_run_step_stats(run.run_id)
        )


def assert_check_fails(process, check: str, *evidence: str) -> None:
    output = process.stdout
    assert process.returncode == 1, output[-3000:] + process.stderr[-3000:]
    failed = [line for line in output.splitlines() if line.strip().startswith("ERROR")]
    assert any(check in line for line in failed), output[-3000:]
    for text in evidence:
        assert text in output


def test_healthy_run_passes_every_check(healthy: Workspace):
    assert dbt_ran_in_last_run(healthy)


def test_damage_fails_its_checks_names_the_ids_and_blocks_the_models(copy: Workspace, env_of):
    """Five kinds of damage in one run (a duplicate, an orphan, two broken reconciliations, a
    stale landing folder): each check reports its own, with the ids."""
    with duckdb.connect(str(copy.duckdb_path), read_only=True) as con:
        [(customer,)] = con.execute('select min(id) from "stripe"."stripe".customers').fetchall()
        [(invoice,)] = con.execute('select min(id) from "stripe"."stripe".invoices').fetchall()
        [(charge,)] = con.execute(
            'select min(id) from "stripe"."stripe".charges where balance_transaction is not null'
        ).fetchall()
    corrupt(
        copy,
        f"insert into raw.customers select * from raw.customers where id = '{customer}'",
        "insert into raw.invoices select * replace ('in_orphan' as id, 'cus_nobody' as customer) "
        f"from raw.invoices where id = '{invoice}'",
        f"update raw.invoices set subtotal = subtotal + 1 where id = '{invoice}'",
        "update raw.balance_transactions set amount = amount + 1 where id = "
        f"(select balance_transaction from raw.charges where id = '{charge}')",
    )
    # Only customers are synced this time, so every other landing folder is as old as the
    # healthy run, a minute or more ago: stale by a 15-second freshness bar.
    process = launch(
        "check", env_of(copy, STRIPE_RESOURCES="customers", FRESHNESS_HOURS=str(15 / 3600))
    )
    assert_check_fails(process, "stripe_landing/invoices · fresh")
    assert "stripe_landing/customers · fresh" not in process.stdout
    assert_check_fails(process, "stripe/customers · id_present_and_unique", customer)
    assert_check_fails(process, "stripe/invoices · references_resolve", "cus_nobody")
    assert_check_fails(process, "stripe/invoices · totals_match_lines", invoice)
    assert_check_fails(process, "balance_transactions_match_sources", charge)
    assert not dbt_ran_in_last_run(copy)
