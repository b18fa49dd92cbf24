"""Stripe ingestion: API → landing zone (dlt, Parquet) → DuckDB raw (dlt, merged on id)."""
