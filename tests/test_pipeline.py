"""The whole pipeline, run as `make run` runs it, checked against the sandbox's own ledger.

The session's runs (tests/conftest.py: a full run, then two incremental runs at once, then a raw
rebuild) are made with a recognizable restricted key, the kind the README recommends: every byte
they wrote (the warehouse, the landing zone, dlt's working files, the Dagster instance's storage
and logs) and everything they printed is searched for it, and the sandbox's request log is read
for any method but GET.
"""

import re
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import requests

from stripe_assets.defs.stripe.catalog import TABLES
from stripe_assets.defs.stripe.currencies import decimals
from stripe_assets.settings import PROJECT_ROOT

from .conftest import (
    CANARY_KEY,
    RunOutcome,
    Workspace,
    assert_movements_equal_truth,
    assert_mrr_equals_truth,
    assert_raw_equals_truth,
    launch,
    raw_rows,
)

# Stripe's zero-decimal currencies, written out here so the test does not trust the code under test.
ZERO_DECIMAL_CURRENCIES = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf"}
ZERO_DECIMAL_CURRENCIES |= {"ugx", "vnd", "vuv", "xaf", "xof", "xpf"}


def test_run_prints_the_summary(pipeline_runs: list[RunOutcome]):
    output = pipeline_runs[0].process.stdout
    assert "Raw tables" in output
    for table in TABLES:
        assert f"  {table} " in output
    assert "failed" in output and ", 0 failed" in output
    assert "MRR for " in output
    assert "succeeded" in output
    # the console is the summary; dbt's line per model and test is in the run's log file
    assert len(output.splitlines()) < 60 and "START test" not in output
    run_line, log_line = output.splitlines()[-2:]
    run_id = run_line.removeprefix("Run ").split(":")[0]
    log = Path(log_line.removeprefix("dbt's and dlt's output: "))
    assert log.name == f"{run_id}.log" and "PASS=" in log.read_text()
    verbose, quiet = (run.process.stdout for run in pipeline_runs[1:])
    assert "Running with dbt=" in verbose and "Running with dbt=" not in quiet
    # nothing else: no warning, whether dbt's data tests run (the first) or are left out (the
    # others, whose models then carry no checks a build would leave unevaluated)
    assert [run.process.stderr for run in pipeline_runs] == ["", "", ""]


def test_the_revenue_report_draws_every_month_of_the_ledgers_mrr(
    pipeline_runs: list[RunOutcome], truth: dict
):
    """The report `make run` points to draws, for each currency, one MRR point per month the
    sandbox's ledger has, at the ledger's figure (one minor unit of rounding, as the mart)."""
    output = pipeline_runs[0].process.stdout
    [line] = [line for line in output.splitlines() if line.startswith("Revenue report: ")]
    report = Path(line.removeprefix("Revenue report: ")).read_text()
    assert "http://" not in report and "https://" not in report, "self-contained"
    for currency in {row["currency"] for row in truth["mrr"]}:
        expected = {
            row["month"]: Decimal(row["mrr_minor"])
            for row in truth["mrr"]
            if row["currency"] == currency
        }
        chart = re.search(
            rf'<figure class="chart" data-chart="mrr" data-currency="{currency}">(.*?)</figure>',
            report,
            re.DOTALL,
        ).group(1)
        assert f'data-points="{len(expected)}"' in chart
        drawn = {
            month: Decimal(amount.replace(",", ""))
            for month, amount in re.findall(
                rf"<title>(\d{{4}}-\d{{2}}): {currency.upper()} ([\d,.]+)</title>", chart
            )
        }
        assert set(drawn) == set(expected)
        unit = Decimal(1).scaleb(-decimals(currency))
        assert all(abs(drawn[m] - expected[m] * unit) <= unit for m in expected), currency


JOB_PAGE_AND_TIMELINE = """
query ($job: PipelineSelector!) {
  pipelineOrError(params: $job) { ... on Pipeline { runs { runId } } }
  runsOrError { ... on Runs { results {
    runId repositoryOrigin { repositoryLocationName repositoryName }
  } } }
}
"""


def test_make_runs_runs_are_where_the_ui_lists_its_own(
    pipeline_runs: list[RunOutcome], pipeline_workspace: Workspace, monkeypatch
):
    """The UI's own GraphQL resolvers, on the code location as `make dev` serves it: the job's
    page lists every `make run` run, and the Overview timeline (runs by code location) places
    each in this code location."""
    from dagster_graphql.test.utils import define_out_of_process_context, execute_dagster_graphql

    from stripe_assets.definitions import CODE_LOCATION

    for name, value in pipeline_workspace.env().items():
        monkeypatch.setenv(name, value)  # the code server reads its settings from them
    job = {
        "pipelineName": "stripe_pipeline",
        "repositoryName": "__repository__",
        "repositoryLocationName": CODE_LOCATION,
    }
    made = {outcome.process.stdout.split("Run ")[-1].split(":")[0] for outcome in pipeline_runs}
    with (
        dg.DagsterInstance.from_config(str(pipeline_workspace.dagster_home)) as instance,
        define_out_of_process_context(str(PROJECT_ROOT / "workspace.yaml"), None, instance) as ui,
    ):
        data = execute_dagster_graphql(ui, JOB_PAGE_AND_TIMELINE, {"job": job}).data
    assert made <= {run["runId"] for run in data["pipelineOrError"]["runs"]}
    origins = {run["runId"]: run["repositoryOrigin"] for run in data["runsOrError"]["results"]}
    expected = {"repositoryLocationName": CODE_LOCATION, "repositoryName": "__repository__"}
    assert all(origins[run_id] == expected for run_id in made)


def test_every_check_ran_and_passed(pipeline_runs: list[RunOutcome], pipeline_workspace: Workspace):
    instance = dg.DagsterInstance.from_config(str(pipeline_workspace.dagster_home))
    first_run = instance.get_runs()[-1]  # the one with dbt's tests
    records = instance.get_records_for_run(
        first_run.run_id,
        of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION,
    ).records
    evaluations = [r.event_log_entry.dagster_event.event_specific_data for r in records]
    failed = [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in evaluations if not e.passed]
    assert not failed
    checked_assets = {e.asset_key for e in evaluations}
    for table in TABLES:  # the Python check on every raw table ...
        assert dg.AssetKey(["stripe", table]) in checked_assets
        assert dg.AssetKey(["staging", f"stg_stripe__{table}"]) in checked_assets  # ... and dbt's
    assert dg.AssetKey(["analytics", "mrr_monthly"]) in checked_assets


def test_raw_row_counts_equal_truth(pipeline_runs: list[RunOutcome], truth: dict):
    assert_raw_equals_truth(pipeline_runs[0].rows, truth)


def test_second_run_adds_no_duplicates(pipeline_runs: list[RunOutcome]):
    assert pipeline_runs[1].rows == pipeline_runs[0].rows


def test_landing_zone_is_append_only(pipeline_runs: list[RunOutcome]):
    first, second = pipeline_runs[0].landing_files, pipeline_runs[1].landing_files
    assert first < second, "the second load added files and removed none"
    for table in TABLES:
        assert any(path.startswith(f"stripe/{table}/") for path in first), table
    products = {path.split("/")[-1].split(".")[0] for path in second if "/products/" in path}
    assert len(products) == 3, "catalog resources are listed again on every run"


def test_mrr_monthly_and_its_bridge_equal_truth(
    pipeline_runs: list[RunOutcome], pipeline_workspace: Workspace, truth: dict
):
    assert_mrr_equals_truth(pipeline_workspace, truth)
    assert_movements_equal_truth(pipeline_workspace, truth)
    with duckdb.connect(str(pipeline_workspace.duckdb_path), read_only=True) as con:
        rows = con.execute(
            'select currency, mrr_minor, mrr from "stripe"."analytics"."mrr_monthly"'
        ).fetchall()
    for currency, mrr_minor, mrr in rows:
        decimals = 0 if currency in ZERO_DECIMAL_CURRENCIES else 2
        assert Decimal(mrr) == Decimal(mrr_minor).scaleb(-decimals)


def test_a_wrong_key_stops_before_any_run_with_one_clear_sentence(
    pipeline_runs: list[RunOutcome], pipeline_workspace: Workspace, sandbox_env: dict[str, str]
):
    """On a warehouse earlier runs filled: no run is created (so the UI marks no asset or check
    failed), and none of the earlier runs' figures is shown."""
    instance = dg.DagsterInstance.from_config(str(pipeline_workspace.dagster_home))
    runs_before = len(instance.get_runs())
    wrong_key = "sk_test_thisKeyIsWrongQzXw"
    env = pipeline_workspace.env(**{**sandbox_env, "STRIPE_API_KEY": wrong_key})
    process = launch("run", env)
    output = process.stdout + process.stderr
    assert process.returncode == 2
    assert "Stripe rejected STRIPE_API_KEY (401 Unauthorized)" in output
    assert "Traceback" not in output
    assert wrong_key not in output and wrong_key[-4:] not in output
    assert "Raw tables (" not in output and "MRR for " not in output
    assert len(instance.get_runs()) == runs_before
    assert "MRR for " in pipeline_runs[0].process.stdout, "a run that rebuilt them shows them"


def test_raw_rebuilds_from_the_landing_zone_without_calling_stripe(
    pipeline_runs: list[RunOutcome], pipeline_workspace: Workspace, sandbox_env: dict[str, str]
):
    stats_url = f"{sandbox_env['STRIPE_API_BASE']}/_sandbox/stats"
    served = requests.get(stats_url, timeout=30).json()["total"]
    env = pipeline_workspace.env(
        STRIPE_API_BASE=sandbox_env["STRIPE_API_BASE"]
    )  # and no key at all
    process = launch("rebuild-raw", env)
    assert process.returncode == 0, process.stdout + process.stderr
    assert requests.get(stats_url, timeout=30).json()["total"] == served
    assert raw_rows(pipeline_workspace.duckdb_path) == pipeline_runs[-1].rows


def test_mrr_marts_show_their_figures_in_dagster(
    pipeline_runs: list[RunOutcome], pipeline_workspace: Workspace
):
    """The latest month's MRR as numbers Dagster plots, and the bridge as a Markdown preview."""
    with duckdb.connect(str(pipeline_workspace.duckdb_path), read_only=True) as con:
        latest = con.execute(
            'select currency, mrr from "stripe"."analytics"."mrr_monthly" '
            'where month = (select max(month) from "stripe"."analytics"."mrr_monthly")'
        ).fetchall()
    instance = dg.DagsterInstance.from_config(str(pipeline_workspace.dagster_home))
    monthly = instance.get_latest_materialization_event(dg.AssetKey(["analytics", "mrr_monthly"]))
    metadata = monthly.asset_materialization.metadata
    for currency, mrr in latest:
        assert isinstance(metadata[f"mrr_{currency}"], dg.FloatMetadataValue)
        assert metadata[f"mrr_{currency}"].value == pytest.approx(float(mrr))
    movements = instance.get_latest_materialization_event(
        dg.AssetKey(["analytics", "mrr_movements"])
    )
    preview = movements.asset_materialization.metadata["preview"]
    assert isinstance(preview, dg.MarkdownMetadataValue)
    assert "| month | currency | starting |" in preview.value
    with duckdb.connect(str(pipeline_workspace.duckdb_path), read_only=True) as con:
        month, ending = con.execute(
            "select strftime(month, '%Y-%m'), ending_mrr_minor "
            'from "stripe"."analytics"."mrr_movements" where currency = \'usd\' '
            "order by month desc limit 1"
        ).fetchone()
    assert f"| {month} | USD | " in preview.value
    assert f" | {ending // 100:,}.{ending % 100:02d} |" in preview.value, "cents, as people read"


def test_every_model_shows_its_columns_and_every_mart_its_rows(
    pipeline_runs: list[RunOutcome], pipeline_workspace: Workspace
):
    """The UI's column types and row counts for dbt models, as the warehouse has them: DuckDB's
    own `describe` of every model, and a count of every mart (tables; views carry no count)."""
    instance = dg.DagsterInstance.from_config(str(pipeline_workspace.dagster_home))
    with duckdb.connect(str(pipeline_workspace.duckdb_path), read_only=True) as con:
        models = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables "
            "where table_schema in ('staging', 'intermediate', 'analytics')"
        ).fetchall()
        assert len(models) > 30 and {kind for *_, kind in models} == {"VIEW", "BASE TABLE"}
        for schema, name, kind in models:
            relation = f'"stripe"."{schema}"."{name}"'
            event = instance.get_latest_materialization_event(dg.AssetKey([schema, name]))
            metadata = event.asset_materialization.metadata
            described = [(c, t) for c, t, *_ in con.execute(f"describe {relation}").fetchall()]
            shown = metadata["dagster/column_schema"].value.columns
            assert [(c.name, c.type) for c in shown] == described, relation
            if kind == "BASE TABLE":
                (rows,) = con.execute(f"select count(*) from {relation}").fetchone()
                assert metadata["dagster/row_count"].value == rows, relation
            else:
                assert "dagster/row_count" not in metadata, relation


def test_dbt_parses_the_project_once_per_warehouse(
    pipeline_runs: list[RunOutcome], pipeline_workspace: Workspace
):
    """A full parse of the project costs seconds of every build; of the session's three builds of
    one warehouse only the first may need one, as dbt's log in the warehouse's folder says."""
    logs = sorted(pipeline_workspace.dbt_build_folder.glob("dbt.log*"))
    log = "".join(path.read_text() for path in logs)
    assert log.count("Running with dbt=") == len(pipeline_runs)
    assert log.count("Unable to do partial parsing") <= 1


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def test_a_restricted_key_works_and_never_leaks(
    pipeline_runs: list[RunOutcome], pipeline_workspace: Workspace, sandbox_env: dict[str, str]
):
    assert sandbox_env["STRIPE_API_KEY"] == CANARY_KEY
    assert all(run.process.returncode == 0 for run in pipeline_runs)
    written = files_under(pipeline_workspace.root) + files_under(
        pipeline_workspace.dbt_build_folder
    )
    assert any(p.suffix == ".parquet" for p in written) and pipeline_workspace.duckdb_path.exists()
    assert any("dagster_home" in p.parts and "storage" in p.parts for p in written)
    secret = CANARY_KEY.removeprefix("rk_test_")
    for path in written:
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            # SQLite removes a database's -shm/-wal files when its last connection closes,
            # which a busy machine may leave until just after they were listed
            assert path.suffix in (".db-shm", ".db-wal"), path
            continue
        assert secret.encode() not in content, f"the key is written in {path}"
    for run in pipeline_runs:
        assert secret not in run.process.stdout + run.process.stderr

    stats = requests.get(f"{sandbox_env['STRIPE_API_BASE']}/_sandbox/stats", timeout=30).json()
    api_requests = [row for row in stats["requests"] if row["endpoint"].startswith("/v1/")]
    assert sum(row["count"] for row in api_requests) > 50
    assert {row["method"] for row in api_requests} == {"GET"}, "the pipeline only reads"
