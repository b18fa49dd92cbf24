"""dbt (dbt-duckdb): staging → intermediate → marts, with dbt tests as asset checks."""
