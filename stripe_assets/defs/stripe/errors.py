"""Failures a user can act on, told as one sentence instead of a dlt or botocore traceback.

dlt wraps what goes wrong in extraction and loading several layers deep; the cause that says
what to do (a Stripe refusal, a warehouse another process holds, an S3 landing zone that cannot
be reached) is found by walking the exception chain. A missing bucket or wrong AWS credentials are
caught before a run starts (settings.configuration_problems).
"""

import errno
import re
from collections.abc import Iterator

import dagster as dg
import duckdb
import psycopg2
from dlt.common.schema.exceptions import DataValidationError
from dlt.load.exceptions import LoadClientJobRetry

from stripe_assets.settings import DUCKDB_MEMORY_LIMIT_DEFAULT

from .client import STRIPE_API_VERSION, StripeApiError
from .landing import LandingZoneError

LANDING_KEPT = "what was extracted is kept and loads on the next run"
# DuckDB spills what it can to disk, but some of a query's state must stay in memory. Its buffer
# manager says so in these words, as an "Out of Memory Error" or, when a commit is what ran out,
# inside a "TransactionContext Error: Failed to commit: could not allocate block ...".
DUCKDB_OUT_OF_MEMORY = (
    "Out of Memory Error",
    "could not allocate block of size",
    "failed to pin block of size",
    "failed to allocate data of size",
)
OUT_OF_MEMORY = (
    "DuckDB ran out of the memory DUCKDB_MEMORY_LIMIT gives it "
    f"({DUCKDB_MEMORY_LIMIT_DEFAULT} unless set)"
)


def user_facing(
    error: BaseException, warehouse_name: str, landing_bucket_url: str
) -> dg.Failure | None:
    """A `dg.Failure` with one sentence for a failure we can explain, else None; the warehouse
    is named as `StorageResource.warehouse_name` names it."""
    for cause in exception_chain(error):
        sentence = (
            _told_already(cause)
            or _type_changed(cause)
            or _warehouse_in_use(cause, warehouse_name)
            or _warehouse_unreachable(cause, warehouse_name)
            or _landing_unreachable(cause, landing_bucket_url)
            or _disk_full(cause, warehouse_name, landing_bucket_url)
            or _out_of_memory(cause, warehouse_name)
        )
        if sentence:
            return dg.Failure(description=sentence, allow_retries=False)
    return None


def exception_chain(error: BaseException) -> Iterator[BaseException]:
    """`error`, then what caused it, and so on (dlt keeps a failed step's cause in `exception`)."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        yield cause
        cause = getattr(cause, "exception", None) or cause.__cause__ or cause.__context__


def _told_already(cause: BaseException) -> str | None:
    """Our own errors, whose message is already the sentence."""
    return str(cause) if isinstance(cause, StripeApiError | LandingZoneError) else None


def _type_changed(cause: BaseException) -> str | None:
    """The landing schema contract freezes column types (extract.SCHEMA_CONTRACT): a field that
    comes back with another type stops the sync instead of splitting into a variant column."""
    if not (isinstance(cause, DataValidationError) and cause.schema_entity == "data_type"):
        return None
    column, _, new_type = (cause.column_name or "").partition("__v_")
    columns = (cause.table_schema or {}).get("columns", {})
    old_type = columns.get(column, {}).get("data_type", "another type")
    return (
        f"Stripe returned {cause.table_name}.{column} as {new_type or 'a new type'} where earlier "
        f"loads stored {old_type}: the sync stopped before landing anything, so raw keeps its "
        f"types. Check Stripe's changelog for API version {STRIPE_API_VERSION} and give the column "
        "its new type in catalog.py, then rerun."
    )


def _warehouse_in_use(cause: BaseException, warehouse_name: str) -> str | None:
    if not (isinstance(cause, duckdb.IOException) and "Could not set lock" in str(cause)):
        return None
    holder = re.search(r"held in (.+?) \(PID (\d+)\)", str(cause))
    who = f"{holder.group(1)}, pid {holder.group(2)}" if holder else "another process"
    return (
        f"The warehouse {warehouse_name} is open in another process ({who}): close that DuckDB "
        f"connection and rerun; {LANDING_KEPT}."
    )


def _warehouse_unreachable(cause: BaseException, warehouse_name: str) -> str | None:
    """PostgreSQL gone during the load (stopped, restarted, the network cut): dlt keeps the load
    package, and the next run finishes loading it."""
    if not isinstance(cause, psycopg2.OperationalError):
        return None
    said = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return (
        f"The warehouse {warehouse_name} stopped answering during the raw load ({said}): check "
        f"that PostgreSQL is running, then rerun; the load resumes where it stopped and "
        f"{LANDING_KEPT}."
    )


def _landing_unreachable(cause: BaseException, landing_bucket_url: str) -> str | None:
    if not landing_bucket_url.startswith("s3://"):
        return None
    name = type(cause).__name__
    if name in ("EndpointConnectionError", "ClientConnectorError", "ConnectTimeoutError"):
        return (
            f"Could not reach S3 for the landing zone {landing_bucket_url} ({cause}): check "
            f"AWS_ENDPOINT_URL and the network, then rerun; {LANDING_KEPT}."
        )
    return None


def _disk_full(cause: BaseException, warehouse_name: str, landing_bucket_url: str) -> str | None:
    """No space left, for the landing zone (dlt's files) or the warehouse (DuckDB)."""
    full = (isinstance(cause, OSError) and cause.errno == errno.ENOSPC) or (
        isinstance(cause, duckdb.Error) and "No space left on device" in str(cause)
    )
    if not full:
        return None
    where = f"the warehouse {warehouse_name}" if isinstance(cause, duckdb.Error) else "this run"
    return (
        f"The disk is full (no space left on device) for {where}: free some space, or point "
        f"DUCKDB_PATH and LANDING_BUCKET_URL ({landing_bucket_url}) at a disk with room, then "
        f"rerun; raw is left as it was and {LANDING_KEPT}."
    )


def duckdb_ran_out_of_memory(message: str) -> bool:
    return any(marker in message for marker in DUCKDB_OUT_OF_MEMORY)


def _out_of_memory(cause: BaseException, warehouse_name: str) -> str | None:
    """DuckDB out of its limit in the raw load: dlt retries the job, then gives up with a retry
    error that holds DuckDB's message as text; the package stays and loads on the next run."""
    if not (
        isinstance(cause, LoadClientJobRetry | duckdb.Error)
        and duckdb_ran_out_of_memory(str(cause))
    ):
        return None
    return (
        f"{OUT_OF_MEMORY} loading raw into {warehouse_name}: raise DUCKDB_MEMORY_LIMIT (a large "
        f"account needs more), then rerun; the load resumes where it stopped and {LANDING_KEPT}."
    )


SHAPE_REFUSED_MACRO = "stripe_require_always_sent_columns"
"""The dbt macro (dbt_project/macros/stripe_staging.sql) whose compiler error is a sentence for
the user: its second line, after dbt's "Compilation Error in model ..."."""


def _no_space_left(message: str) -> bool:
    return "No space left on device" in message


DBT_CAUSES = (
    (
        _no_space_left,
        "The disk is full (no space left on device) where dbt built {model}: free some space, "
        "or point DUCKDB_PATH at a disk with room, then rerun; raw is left as it was.",
    ),
    (
        duckdb_ran_out_of_memory,
        OUT_OF_MEMORY + " while dbt built {model}: raise DUCKDB_MEMORY_LIMIT (a large account "
        "needs more), then rerun; raw is left as it was.",
    ),
)
"""What a failed model's message can say (a test of it) and the sentence for it."""


def dbt_failure(run_results: dict) -> str | None:
    """The one sentence for a dbt build that failed for a reason the user can act on, found in
    its run_results.json (dbt prints the cause far above dagster-dbt's "dbt CLI process ...
    failed"): a full disk, DuckDB out of its memory limit, or raw data of another shape that a
    staging model refused."""
    errors = [r for r in run_results.get("results", []) if r.get("status") == "error"]
    for result in errors:
        for says, sentence in DBT_CAUSES:
            if says(result.get("message") or ""):
                return sentence.format(model=result.get("unique_id", "a model"))
    refused = [
        result["message"].splitlines()[1].strip()
        for result in errors
        if f"> in macro {SHAPE_REFUSED_MACRO} " in (result.get("message") or "")
    ]
    if refused:
        others = len(refused) - 1
        return refused[0] if not others else f"{refused[0][:-1]} ({others} more models likewise)."
    return None
