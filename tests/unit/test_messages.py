"""Sentences a user reads, worked out from numbers and exceptions alone."""

import errno

import duckdb
import psycopg2
import pytest
from dlt.load.exceptions import LoadClientJobRetry

from stripe_assets.defs.stripe.errors import dbt_failure, user_facing
from stripe_assets.defs.stripe.events_cursor import _stale_cursor_sentence


@pytest.mark.parametrize("days", [29.6, 30.0, 31.0, 45.0, 400.0])
def test_a_cursor_past_the_events_window_never_shows_negative_days(days):
    sentence = _stale_cursor_sentence(days)
    assert " -" not in sentence and "within" not in sentence
    assert "lists the changing resources in full again" in sentence


def test_a_cursor_inside_the_window_says_how_long_is_left():
    assert "sync within 5 days" in _stale_cursor_sentence(25.0)


def wrapped_as_dlt_does(cause: Exception) -> RuntimeError:
    """`cause` a layer down the exception chain, as dlt's failed step raises it."""
    try:
        try:
            raise cause
        except Exception as inner:
            raise RuntimeError("load step failed") from inner
    except RuntimeError as wrapped:
        return wrapped


@pytest.mark.parametrize(
    "cause, says",
    [
        (OSError(errno.ENOSPC, "No space left on device"), "for this run"),
        (duckdb.IOException('Could not write file "x.wal": No space left on device'), "warehouse"),
    ],
)
def test_a_full_disk_is_one_sentence_whatever_wraps_it(cause, says):
    """As dlt raises it: the cause a layer or more down the chain. A full disk cannot be made on
    this machine (mounting a small filesystem needs privileges it lacks), so the exceptions are
    built as the OS and DuckDB raise them."""
    failure = user_facing(wrapped_as_dlt_does(cause), "data/stripe.duckdb", "data/landing")
    assert failure is not None and failure.description.startswith("The disk is full")
    assert says in failure.description and failure.description.count(". ") == 0


OUT_OF_MEMORY_SAID = (
    "Out of Memory Error: could not allocate block of size 256.0 KiB (61.1 MiB/61.0 MiB used)"
)
COMMIT_OUT_OF_MEMORY_SAID = "could not allocate block of size 256.0 KiB (7.4 MiB/7.6 MiB used)"


@pytest.mark.parametrize(
    "cause",
    [
        duckdb.OutOfMemoryException(OUT_OF_MEMORY_SAID),
        # what dlt raises once a job's retries are spent: DuckDB's error only as text
        LoadClientJobRetry(
            "1796682107.36",
            "invoices.593e3c1b02.parquet",
            5,
            5,
            f"Traceback (most recent call last):\n_duckdb.OutOfMemoryException: "
            f"{OUT_OF_MEMORY_SAID}",
            RuntimeError("job failed"),
        ),
        # when the commit is what runs out (seen in the suite's 25-customer raw load at 8MB)
        LoadClientJobRetry(
            "1796682107.36",
            "charges.58088452db.parquet",
            5,
            5,
            "dlt.destinations.exceptions.DatabaseTransientException: TransactionContext Error: "
            f"Failed to commit: {COMMIT_OUT_OF_MEMORY_SAID}",
            RuntimeError("job failed"),
        ),
        duckdb.TransactionException(
            f"TransactionContext Error: Failed to commit: {COMMIT_OUT_OF_MEMORY_SAID}"
        ),
    ],
)
def test_duckdb_out_of_memory_in_the_raw_load_is_one_sentence_naming_the_setting(cause):
    """As a 10,000-customer raw load at DUCKDB_MEMORY_LIMIT=64MB raised it (a run the suite
    cannot afford; the exceptions are built as DuckDB and dlt raise them)."""
    failure = user_facing(wrapped_as_dlt_does(cause), "data/stripe.duckdb", "data/landing")
    assert failure is not None and failure.description.startswith("DuckDB ran out of the memory")
    assert "raise DUCKDB_MEMORY_LIMIT" in failure.description
    assert "\n" not in failure.description and failure.description.count(". ") == 0


def test_postgresql_gone_during_the_load_is_one_sentence_naming_it_without_the_password():
    """As dlt raises it: psycopg2's error a layer or more down the chain (stopping the server
    mid-load at a chosen point cannot be timed reliably, so the exception is built as psycopg2
    raises it)."""
    cause = psycopg2.OperationalError(
        "server closed the connection unexpectedly\n\tThis probably means the server terminated"
    )
    failure = user_facing(
        wrapped_as_dlt_does(cause), "postgresql://loader@db:5432/finance", "data/landing"
    )
    assert failure is not None
    assert failure.description.startswith(
        "The warehouse postgresql://loader@db:5432/finance stopped answering during the raw load "
        "(server closed the connection unexpectedly): check that PostgreSQL is running"
    )
    assert "\n" not in failure.description


def test_a_full_disk_under_dbt_is_one_sentence_naming_the_model():
    """dbt's run_results.json as dbt writes it when DuckDB cannot write (built by hand: a full
    disk cannot be made here)."""
    run_results = {
        "results": [
            {"unique_id": "model.stripe_revenue.stg_stripe__customers", "status": "success"},
            {
                "unique_id": "model.stripe_revenue.fct_mrr",
                "status": "error",
                "message": 'IO Error: Could not write file "stripe.duckdb.wal": No space left on '
                "device",
            },
        ]
    }
    sentence = dbt_failure(run_results)
    assert sentence is not None and "model.stripe_revenue.fct_mrr" in sentence
    assert sentence.startswith("The disk is full") and sentence.count(". ") == 0
    assert dbt_failure({"results": [{"status": "error", "message": "Binder Error"}]}) is None


def test_duckdb_out_of_memory_under_dbt_is_one_sentence_naming_the_model_and_the_setting():
    """The message DuckDB gave when fct_mrr outgrew its memory limit on a 100,000-customer
    business at the default 512MB (docs/performance.md), as dbt writes it: built by hand, since
    the suite cannot afford a business that size."""
    run_results = {
        "results": [
            {
                "unique_id": "model.stripe_revenue.fct_mrr",
                "status": "error",
                "message": "Runtime Error in model fct_mrr (models/marts/fct_mrr.sql)\n  Out of "
                "Memory Error: failed to pin block of size 256.0 KiB (488.0 MiB/488.2 MiB used)",
            },
        ]
    }
    sentence = dbt_failure(run_results)
    assert sentence is not None and sentence.startswith("DuckDB ran out of the memory")
    assert "model.stripe_revenue.fct_mrr" in sentence and "raise DUCKDB_MEMORY_LIMIT" in sentence
    assert "\n" not in sentence and sentence.count(". ") == 0
    run_results["results"][0]["message"] = (
        f"Runtime Error in model fct_mrr\n  TransactionContext Error: Failed to commit: "
        f"{COMMIT_OUT_OF_MEMORY_SAID}"
    )
    assert dbt_failure(run_results) == sentence


def test_raw_of_another_shape_under_dbt_is_the_staging_models_sentence():
    """dbt's run_results.json messages for the compiler error stripe_staging.sql raises, as dbt
    writes them (tests/test_check_shapes.py raises the real one)."""

    def refused(model: str) -> dict:
        sentence = f"{model} is not built: raw stripe.{model[12:]} has 2 live rows but no `total`."
        return {
            "unique_id": f"model.stripe_revenue.{model}",
            "status": "error",
            "message": f"Compilation Error in model {model} (models/staging/stripe/{model}.sql)\n"
            f"  {sentence}\n  \n  > in macro stripe_require_always_sent_columns "
            "(macros/stripe_staging.sql)\n  > called by model",
        }

    one = dbt_failure({"results": [refused("stg_stripe__invoices")]})
    assert (
        one
        == "stg_stripe__invoices is not built: raw stripe.invoices has 2 live rows but no `total`."
    )
    two = dbt_failure(
        {"results": [refused("stg_stripe__invoices"), refused("stg_stripe__charges")]}
    )
    assert two.startswith("stg_stripe__invoices is not built") and two.endswith(
        "(1 more models likewise)."
    )
