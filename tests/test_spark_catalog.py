"""Hive's catalog (an embedded Derby database) is open to one process at a time: what
compat/pyspark.py relies on to hand it from the code location's process to dbt-spark's and back.
Fails when pyspark or Derby stop behaving so."""

import subprocess
import sys
from pathlib import Path

from stripe_assets.defs.stripe.spark import opened

OTHER_PROCESS = """
import sys
from pathlib import Path
from stripe_assets.defs.stripe.spark import opened
with opened(Path(sys.argv[1])) as spark:
    spark.sql("create table handed.back (id string) using parquet")
    print(sorted(row.tableName for row in spark.sql("show tables in handed").collect()))
"""


def tables_in(spark, database: str) -> list[str]:
    return sorted(row.tableName for row in spark.sql(f"show tables in {database}").collect())


def test_the_catalog_is_handed_to_another_process_and_back(tmp_path: Path):
    spark_dir = tmp_path / "spark"
    with opened(spark_dir) as spark:
        spark.sql("create database handed")
        spark.sql("create table handed.over (id string) using parquet")
    other = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS, str(spark_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert other.returncode == 0, other.stderr[-3000:]
    assert other.stdout.splitlines()[-1] == "['back', 'over']"
    with opened(spark_dir) as spark:  # the same JVM, its catalog opened again
        assert tables_in(spark, "handed") == ["back", "over"]
