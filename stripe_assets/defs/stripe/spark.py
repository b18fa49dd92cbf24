"""The Spark warehouse (`WAREHOUSE=spark`): a local Spark session (pyspark), its tables' files and
Hive's catalog under SPARK_DIR, as dbt-spark's `session` method opens it (dbt_project/profiles.yml,
output `spark`: keep the two alike, or neither sees the other's tables).

How raw gets there. dlt has no Spark destination, and a Parquet table cannot be updated in place;
the table formats that can (Delta, Iceberg) need JARs from Maven Central, which is out of reach
here. So the raw load stays the one every engine shares: dlt merges the landing zone on `id` into
a DuckDB file of its own (`SPARK_DIR/raw.duckdb`), with its crash recovery and its full refresh;
then each raw table is written out as Parquet into a new folder and Spark's table is created again
over that folder (`publish_raw_tables`). A run killed between the two leaves Spark's tables on the
previous folders, whole; the next run publishes again, since every run publishes every table it
loaded. On Databricks a Delta MERGE from the landing zone would replace both steps.

Hive's catalog is an embedded Derby database that one process at a time may open. The steps
run in one process and dbt-spark opens the catalog from its own between them, so every use of
a session here is a block (`opened`) that stops it and closes the catalog at its end
(compat/pyspark.py); Dagster's warehouse pool keeps the steps that use it from overlapping.
"""

import contextlib
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession

from stripe_assets.compat.pyspark import release_catalog

from .warehouse import (
    RAW_SCHEMA,
    SPARK_RAW_MERGE_FILE,
    MissingColumn,
    MissingRelation,
    Warehouse,
    WarehouseUnavailable,
    qualified,
)

RAW_FOLDER = "raw"  # under SPARK_DIR: one folder per table, one subfolder per publication


@contextlib.contextmanager
def opened(spark_dir: Path) -> Iterator[SparkSession]:
    """A Spark session configured as the profile's `spark` output, its catalog closed again at
    the end of the block. Its JVM writes its logs to SPARK_DIR/spark.log, not to the console."""
    spark_dir.mkdir(parents=True, exist_ok=True)
    builder = (
        SparkSession.builder.enableHiveSupport()
        .master("local[2]")
        .config("spark.driver.memory", "2g")
        .config("spark.driver.bindAddress", "127.0.0.1")  # nothing listens beyond this machine
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(spark_dir / "warehouse"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={spark_dir}")
    )
    try:
        with _output_of_children_to(spark_dir / "spark.log"):
            spark = builder.getOrCreate()
    except Exception as error:  # the JVM did not start: no Java, no memory
        raise WarehouseUnavailable(
            f"Spark could not start ({str(error).splitlines()[0]}): check that Java 17 or newer "
            "is installed (java -version) and JAVA_HOME points at it."
        ) from error
    try:
        yield spark
    finally:
        spark.stop()
        release_catalog()


@contextlib.contextmanager
def _output_of_children_to(log: Path) -> Iterator[None]:
    """Point this process's stdout and stderr at `log` while it starts a child (pyspark starts
    the JVM with the parent's), then back: the child keeps writing to the log."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with log.open("ab") as file:
        os.dup2(file.fileno(), 1)
        os.dup2(file.fileno(), 2)
    try:
        yield
    finally:
        for fd, original in zip((1, 2), saved, strict=True):
            os.dup2(original, fd)
            os.close(original)


def publish_raw_tables(spark_dir: Path, tables: list[str]) -> list[str]:
    """Write each of these raw tables from the merge file into a new Parquet folder and point
    Spark's table at it; returns the tables published (those the merge file holds)."""
    merged = spark_dir / SPARK_RAW_MERGE_FILE
    stamp = f"{time.time_ns()}"
    with duckdb.connect(str(merged), read_only=True) as con:
        present = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [RAW_SCHEMA],
            ).fetchall()
        }
        published = [table for table in tables if table in present]
        for table in published:
            folder = spark_dir / RAW_FOLDER / table / stamp
            folder.mkdir(parents=True)
            con.execute(
                f"copy (select * from {qualified(merged, RAW_SCHEMA, table)}) "
                f"to '{folder / 'data.parquet'}' (format parquet)"
            )
    with opened(spark_dir) as spark:
        spark.sql(f"create database if not exists {RAW_SCHEMA}")
        for table in published:
            folder = spark_dir / RAW_FOLDER / table / stamp
            # created again, not re-pointed (ALTER TABLE ... SET LOCATION): a Parquet table
            # keeps the columns it was created with and would hide the fields Stripe added since
            spark.sql(f"drop table if exists {RAW_SCHEMA}.{table}")
            spark.sql(
                f"create table {RAW_SCHEMA}.{table} using parquet location '{folder.as_uri()}'"
            )
            for older in (spark_dir / RAW_FOLDER / table).iterdir():
                if older.name != stamp:
                    shutil.rmtree(older, ignore_errors=True)
    return published


class SparkWarehouse(Warehouse):
    """The Spark catalog under SPARK_DIR, read through a session of its own, which `close`
    stops, closing the catalog for dbt-spark's process."""

    double_type = "double"

    def __init__(self, spark_dir: Path) -> None:
        self._opened = opened(spark_dir)
        self.spark = self._opened.__enter__()

    def relation(self, schema: str, name: str) -> str:
        return f"`{schema}`.`{name}`"

    def columns(self, schema: str, relation: str) -> list[tuple[str, str]]:
        try:
            listed = self.spark.catalog.listColumns(f"{schema}.{relation}")
        except AnalysisException:
            return []
        return [(column.name, column.dataType) for column in listed]

    def kind(self, schema: str, relation: str) -> str | None:
        if not self.spark.catalog.tableExists(f"{schema}.{relation}"):
            return None
        table = self.spark.catalog.getTable(f"{schema}.{relation}")
        return "VIEW" if table.tableType == "VIEW" else "BASE TABLE"

    def refresh_statistics(self, schema: str, tables: list[str]) -> None:
        """Nothing to do: Spark plans from the Parquet files' own statistics."""

    def json_text(self, expression: str, path: str) -> str:
        return f"get_json_object({expression}, '$.{path}')"

    def json_elements(self, expression: str) -> str:
        return f"explode(from_json({expression}, 'array<string>'))"

    def _execute(self, sql: str) -> tuple[list[str], list]:
        try:
            frame = self.spark.sql(sql)
        except AnalysisException as error:
            condition = error.getCondition() or ""
            if condition.startswith("TABLE_OR_VIEW_NOT_FOUND"):
                raise MissingRelation(str(error).splitlines()[0]) from None
            if condition.startswith("UNRESOLVED_COLUMN"):
                column = (error.getMessageParameters() or {}).get("objectName", str(error))
                raise MissingColumn(column.strip("`").rpartition("`.`")[2]) from None
            raise
        return frame.columns, [tuple(row) for row in frame.collect()]

    def close(self) -> None:
        self._opened.__exit__(None, None, None)
