"""Raw Stripe tables for the dbt project's `spark` target, from a folder of Parquet files.

    python -m stripe_assets.tooling.spark_raw PARQUET_FOLDER [--schema stripe]

What it reads (the contract with whatever writes raw): PARQUET_FOLDER holds one folder per raw
table, named after the table (`customers/`, `invoice_line_items/`), of Parquet files with the
columns raw has on DuckDB: every top-level field of the Stripe object under its own name (ids and
strings as strings, amounts and epoch-second timestamps as int64, booleans as booleans, nested
objects and lists as JSON text), `is_deleted`, `_extracted_at` (a UTC timestamp), `_api_version`,
`_landing_load_id` and `_dlt_load_id`. Folders whose name starts with `_` (dlt's own tables) are
skipped. The staging views keep one row per id (the latest fetched) whatever the files hold.

Each folder becomes the table `<schema>.<folder name>`, an external Parquet table over the
folder itself: nothing is copied, and the folder must stay where it is. A table already there is
dropped and created again, not pointed at the folder with ALTER TABLE ... SET LOCATION: a Parquet
table keeps the columns it was created with, and would hide the fields Stripe added since. A raw
table the folder lacks is left as it is.

The session uses the catalog and warehouse the profile's `spark` output uses (SPARK_DIR, default
data/spark): Hive's catalog is an embedded Derby database that one process at a time may open, so
this must not run while dbt does.
"""

import argparse
import os
import re
from pathlib import Path

from pyspark.sql import SparkSession

from stripe_assets.settings import from_root

TABLE_NAME = re.compile(r"[a-z][a-z0-9_]*")


def spark_session(spark_dir: Path) -> SparkSession:
    """A local Spark session configured as dbt_project/profiles.yml's `spark` output: keep the
    two alike, or dbt will not see the tables made here."""
    return (
        SparkSession.builder.enableHiveSupport()
        .master("local[2]")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(spark_dir / "warehouse"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={spark_dir}")
        .getOrCreate()
    )


def create_raw_tables(spark: SparkSession, parquet_folder: Path, schema: str) -> list[str]:
    """Create `schema`.<table> over each table folder of `parquet_folder`; returns the tables."""
    tables = sorted(
        folder.name
        for folder in parquet_folder.iterdir()
        if folder.is_dir() and not folder.name.startswith("_")
    )
    for name in (schema, *tables):
        if not TABLE_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a plain lowercase SQL name")
    spark.sql(f"create database if not exists {schema}")
    for table in tables:
        location = (parquet_folder / table).resolve().as_uri().replace("'", "\\'")
        spark.sql(f"drop table if exists {schema}.{table}")
        spark.sql(f"create table {schema}.{table} using parquet location '{location}'")
    return tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parquet_folder", type=Path, help="one folder of Parquet files per table")
    parser.add_argument("--schema", default="stripe", help="the dbt var stripe_source_schema")
    arguments = parser.parse_args()
    spark = spark_session(from_root(os.environ.get("SPARK_DIR", "data/spark")))
    try:
        tables = create_raw_tables(spark, arguments.parquet_folder.resolve(), arguments.schema)
    finally:
        spark.stop()
    print(f"{len(tables)} tables in {arguments.schema}: {', '.join(tables)}")


if __name__ == "__main__":
    main()
