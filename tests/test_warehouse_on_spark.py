"""WAREHOUSE=spark: the pipeline as `make run` runs it on a local Spark session (pyspark, Hive's
catalog in a temporary SPARK_DIR), raw merged by dlt and published to Spark as Parquet tables,
every dbt model, data test and unit test built there by dbt-spark's `session` method, every asset
check evaluated there through Spark SQL, and MRR and its bridge equal to the sandbox's ledger
for every month and currency.

What the run wrote is read back without Spark: its tables are Parquet files, which DuckDB reads
here, so the test's reader shares no code with the engine it checks. The business is the
PostgreSQL test's (tests/test_warehouse_on_postgres.py); its landing zone, loaded into DuckDB
and built there too, gives every mart the same rows on both engines.
"""

import re
from pathlib import Path

import duckdb

from stripe_assets.sandbox.process import running_sandbox

from .conftest import (
    ENGINE_BUSINESS,
    RUN_TIMEOUT_S,
    Reader,
    Workspace,
    assert_movements_equal_truth,
    assert_mrr_equals_truth,
    assert_raw_equals_truth,
    launch,
    marts,
    marts_built_on_duckdb,
    pipeline_env,
    raw_rows,
    truth_of,
)


def files_of(spark_dir: Path) -> Reader:
    """A reader of the Spark tables' Parquet files: raw as the raw load published it (one folder
    per table under SPARK_DIR/raw, its latest publication) and the marts in Spark's warehouse
    folder, under the schema names the other engines use."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    tables = {
        "stripe": [(table.name, max(table.iterdir())) for table in (spark_dir / "raw").iterdir()],
        "analytics": [
            (table.name, table) for table in (spark_dir / "warehouse" / "analytics.db").iterdir()
        ],
    }
    for schema, folders in tables.items():
        con.execute(f"create schema {schema}")
        for name, folder in folders:
            con.execute(
                f'create view {schema}."{name}" as select * from '
                f"read_parquet('{folder}/**/*.parquet', union_by_name = true)"
            )
    return lambda sql: con.execute(sql).fetchall()


def test_the_pipeline_on_spark_equals_the_ledger_and_duckdb(tmp_path):
    workspace = Workspace(tmp_path / "pipeline")
    spark_dir = workspace.root / "spark"
    with running_sandbox(*ENGINE_BUSINESS) as sandbox:
        truth = truth_of(sandbox)
        env = workspace.env(
            **pipeline_env(sandbox, truth), WAREHOUSE="spark", SPARK_DIR=str(spark_dir)
        )
        # Spark plans each of dbt's ~390 statements on its own: minutes on a busy machine
        process = launch("run", env, timeout_s=3 * RUN_TIMEOUT_S)
    output = process.stdout + process.stderr
    assert process.returncode == 0, output[-6000:]
    assert f"Raw tables (Spark's catalog in {spark_dir}, schema stripe):" in process.stdout
    checks = re.search(r"Checks: (\d+) passed", process.stdout)
    # raw's checks and every dbt data test, evaluated in Spark; the one warning allowed is the
    # events cursor's age (the business's clock stopped more than 30 days before today)
    assert checks and int(checks.group(1)) >= 400, output[-3000:]
    assert "\n  ERROR " not in process.stdout, output[-3000:]
    # Spark's own logs (`26/12/07 17:14:30 WARN Utils: ...`) went to its log file, not into the
    # run's output
    assert not re.search(r"\d\d:\d\d:\d\d (WARN|INFO|ERROR) ", output), output[-3000:]
    assert "Spark" in (spark_dir / "spark.log").read_text()

    read = files_of(spark_dir)
    assert_raw_equals_truth(raw_rows(read), truth)
    assert_mrr_equals_truth(read, truth)
    assert_movements_equal_truth(read, truth)

    on_duckdb = marts_built_on_duckdb(workspace.landing, tmp_path, truth["as_of"])
    on_spark = marts(
        read,
        "select table_name from information_schema.tables where table_schema = 'analytics'",
        'analytics."{table}"',
    )
    assert set(on_spark) == set(on_duckdb) and len(on_duckdb) >= 15
    differ = [table for table in on_duckdb if on_duckdb[table] != on_spark[table]]
    assert not differ, f"marts whose rows differ between DuckDB and Spark: {differ}"
