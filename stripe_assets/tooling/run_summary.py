"""Run the whole pipeline in-process and print what a user needs to know about it.

The summary lists rows per raw table, the checks that passed and failed, and the latest month's
MRR per currency. Failures are reported as the one sentence the failing step gave, not as a
traceback; the full event log stays in the Dagster instance for `make dev`. What dbt and dlt
print (a line per model and test) goes to a log file beside the warehouse, `logs/<run id>.log`,
whose path the summary ends with; VERBOSE=1 shows it live as well.
"""

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import dagster as dg

from stripe_assets.compat.dagster import runs_of_code_location
from stripe_assets.defs.dbt.metadata import MRR_MONTHLY
from stripe_assets.defs.pipeline import stripe_pipeline_job
from stripe_assets.defs.report.assets import REVENUE_REPORT, report_path
from stripe_assets.defs.stripe.catalog import TABLES
from stripe_assets.defs.stripe.resources import StorageResource
from stripe_assets.defs.stripe.warehouse import (
    RAW_SCHEMA,
    MissingRelation,
    Warehouse,
    WarehouseUnavailable,
)
from stripe_assets.tooling.abandoned_runs import fail_abandoned_runs, process_tags

QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def run_pipeline_with_summary(
    job_name: str = stripe_pipeline_job.name, explain_checks: bool = False
) -> int:
    """Run a job of the code location in this process and print what it did.

    Exit code 1 when the run failed or an ERROR check failed. `explain_checks` adds each failed
    check's evidence (the offending ids in its metadata) to the summary.
    """
    from stripe_assets.definitions import CODE_LOCATION, build_definitions

    job = build_definitions().resolve_job_def(job_name)
    instance = dg.DagsterInstance.get()
    for run_id in fail_abandoned_runs(instance):
        print(f"Run {run_id} died before it finished: marked failed, its pool slots freed.")
    print(f"Running {job_name}: {job.description}", flush=True)
    storage = StorageResource.from_environment()
    logs = storage.data_dir / "logs"
    log_path = logs / f"run-starting-{os.getpid()}.log"
    live = os.environ.get("VERBOSE", "") not in ("", "0")
    # the run belongs to the code location, so the UI lists it with its own launches
    with console_to(log_path, live), runs_of_code_location(instance, CODE_LOCATION):
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, run_config=QUIET_CONSOLE, tags=process_tags()
        )
    log_path = log_path.replace(logs / f"{result.run_id}.log")
    failures = [_failure_message(event) for event in result.all_events if event.is_step_failure]
    evaluations = result.get_asset_check_evaluations()
    failed_errors = [
        e for e in evaluations if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    ]
    built = {event.asset_key for event in result.get_asset_materialization_events()}
    print_summary(storage, evaluations, failures, built, explain_checks)
    if REVENUE_REPORT in built:
        print(f"Revenue report: {report_path(storage.duckdb_path)}")
    print(f"Run {result.run_id}: {'succeeded' if result.success else 'FAILED'}.")
    print(f"dbt's and dlt's output: {log_path}")
    return 0 if result.success and not failed_errors else 1


class _Tee:
    """Writes to both streams: the log file, and the console when asked to show it live."""

    def __init__(self, *streams: TextIO) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


@contextlib.contextmanager
def console_to(path: Path, live: bool) -> Iterator[None]:
    """What the run prints into `path`, and on the console too when `live`: dagster-dbt re-emits
    every dbt line on stdout, and dlt logs to stderr, a traceback for each retry of a load job
    (hundreds of lines when DuckDB runs out of memory), which the summary's one sentence says
    better."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as log:
        stdout = _Tee(log, sys.stdout) if live else log
        console, stderr = sys.stderr, _Tee(log, sys.stderr) if live else log
        with (
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(stderr),
            _dlt_logging_to(stderr, afterwards=console),
        ):
            yield


@contextlib.contextmanager
def _dlt_logging_to(stream: TextIO, afterwards: TextIO) -> Iterator[None]:
    """dlt's logger (`dlt`, a standard logging.Logger) writes to the stderr it found when it was
    set up, which is before the run when the code location is loaded, so redirecting sys.stderr
    does not reach it. Its handlers write to `stream` in the block and to `afterwards` after it,
    whenever they were set up."""
    logger = logging.getLogger("dlt")
    for handler in logger.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(stream)
    try:
        yield
    finally:
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(afterwards)


def print_summary(
    storage: StorageResource,
    evaluations: list,
    failures: list[str],
    built: set[dg.AssetKey],
    explain_checks: bool = False,
) -> None:
    """What the run did; the warehouse's figures only where this run rebuilt them, so that a
    failed run never shows an earlier run's counts or MRR as its own."""
    for message in failures:
        print(f"\nRun failed: {message}")
    raw = any(key.path[0] == RAW_SCHEMA for key in built)
    mrr = MRR_MONTHLY in built
    if not (raw or mrr):
        print("\nRaw tables and MRR not shown: this run rebuilt neither.")
    elif storage.warehouse != "duckdb" or Path(storage.duckdb_path).exists():
        try:
            with storage.connect() as warehouse:
                if raw:
                    _print_raw_counts(warehouse, storage.warehouse_name)
                if mrr:
                    _print_latest_mrr(warehouse)
        except WarehouseUnavailable:  # held by another process, or gone: the failure says so
            print(f"\nRaw tables and MRR not shown: {storage.warehouse_name} could not be opened.")
    passed = [e for e in evaluations if e.passed]
    failed = [e for e in evaluations if not e.passed]
    print(f"\nChecks: {len(passed)} passed, {len(failed)} failed")
    for evaluation in failed:
        severity = evaluation.severity.value
        print(f"  {severity:<5} {evaluation.asset_key.to_user_string()} · {evaluation.check_name}")
        for line in (evaluation.description or "").splitlines():
            if line.strip():  # Dagster's own checks write paragraphs
                print(f"        {line}")
        if explain_checks:
            for name, value in evaluation.metadata.items():
                if value.value not in ([], 0, None, ""):
                    print(f"        {name}: {value.value}")


def _print_raw_counts(warehouse: Warehouse, name: str) -> None:
    print(f"\nRaw tables ({name}, schema {RAW_SCHEMA}):")
    for table in TABLES:
        counts = warehouse.raw_row_counts(table)
        if counts is None:
            print(f"  {table:<22} {'not loaded':>10}")
            continue
        rows, deleted = counts
        print(f"  {table:<22} {rows:>10}" + (f"  ({deleted} deleted)" if deleted else ""))


def _print_latest_mrr(warehouse: Warehouse) -> None:
    mrr_monthly = warehouse.relation("analytics", "mrr_monthly")
    try:
        rows = warehouse.rows(
            f"""
            select month, currency, mrr, active_subscriptions
            from {mrr_monthly}
            where month = (select max(month) from {mrr_monthly})
            order by currency
            """
        )
    except MissingRelation:
        print("\nMRR: analytics.mrr_monthly was not built.")
        return
    if not rows:
        print("\nMRR: no active subscriptions.")
        return
    print(f"\nMRR for {rows[0][0]:%Y-%m} (analytics.mrr_monthly):")
    for _, currency, mrr, subscriptions in rows:
        print(f"  {currency.upper():<4} {mrr:>14,.2f}   ({subscriptions} active subscriptions)")


def _failure_message(event: dg.DagsterEvent) -> str:
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return f"{event.step_key}: {data.user_failure_data.description}"
    cause = data.error.cause if data.error and data.error.cause else data.error
    return f"{event.step_key}: {cause.message.strip() if cause else 'unknown error'}"
