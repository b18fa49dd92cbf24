"""Dagster resources: the Stripe API and the storage (landing zone and warehouse).

Each field is a setting read from its environment variable (`env_field`) and judged by its
validator, whose sentence is what the user reads (stripe_assets/settings.py). The API key is
bound as `dg.EnvVar("STRIPE_API_KEY")`, so Dagster's UI never shows it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
from pydantic import field_validator, model_validator

from stripe_assets.file_lock import exclusive_lock
from stripe_assets.settings import (
    DUCKDB_MEMORY_LIMIT_DEFAULT,
    STRIPE_API_BASE_DEFAULT,
    EnvironmentResource,
    api_base_problem,
    env_field,
    from_root,
    is_deferred,
    judged,
    landing_url_problem,
    memory_limit_problem,
    port_problem,
    positive_number_problem,
    spark_problems,
    storage_problems,
    stripe_key_problem,
    sync_start_problem,
    warehouse_problem,
)

from .catalog import select
from .client import StripeClient
from .landing import LANDING_ZONE_SOURCE, landing_destination
from .warehouse import (
    RAW_SCHEMA,
    SPARK_RAW_MERGE_FILE,
    DuckDbWarehouse,
    PostgresConnection,
    PostgresWarehouse,
    Warehouse,
    WarehouseUnavailable,
    postgres_destination,
    warehouse_destination,
)

# the dlt pipelines' names: their working folders under data/dlt/ carry them
LANDING_PIPELINE = "stripe_landing"
RAW_PIPELINE = "stripe_raw"


class StripeApiResource(EnvironmentResource):
    """Read-only access to Stripe's API (or the sandbox) with one pinned API version."""

    api_key: str = env_field("STRIPE_API_KEY", "", "A secret or restricted key, sk_... or rk_...")
    api_base: str = env_field(
        "STRIPE_API_BASE", STRIPE_API_BASE_DEFAULT, "Stripe's API, or a server standing in for it"
    )
    resources: list[str] = env_field(
        "STRIPE_RESOURCES", [], "Comma-separated tables to sync; empty syncs every resource"
    )
    sync_start: str = env_field(
        "STRIPE_SYNC_START", "", "YYYY-MM-DD: the first backfill reads objects created since"
    )
    requests_per_second: float = env_field(
        "STRIPE_REQUESTS_PER_SECOND", 0.0, "Request budget; 0 uses Stripe's (25 test, 100 live)"
    )
    timeout_s: float = env_field(
        "STRIPE_TIMEOUT_S", 30.0, "Seconds to wait for a response before retrying the request"
    )

    @field_validator("api_key", mode="before")
    @classmethod
    def _key(cls, key: Any) -> Any:
        # never stripped: a stray line break in a key is a problem to report, not to hide
        if not is_deferred(key) and key and (problem := stripe_key_problem(key)):
            raise ValueError(problem)
        return key

    @model_validator(mode="before")
    @classmethod
    def _base(cls, fields: Any) -> Any:
        """A plain-HTTP base is judged with the key: it must not carry a live one elsewhere."""
        base, key = fields.get("api_base", STRIPE_API_BASE_DEFAULT), fields.get("api_key", "")
        if is_deferred(base):
            return fields
        base = base.strip().rstrip("/")
        if problem := api_base_problem(base, "" if is_deferred(key) else key):
            raise ValueError(problem)
        return {**fields, "api_base": base}

    @field_validator("resources", mode="before")
    @classmethod
    def _resources(cls, names: Any) -> Any:
        if isinstance(names, str):
            names = [name.strip() for name in names.split(",") if name.strip()]
        try:
            select(names)
        except ValueError as unknown:
            raise ValueError(f"STRIPE_RESOURCES: {unknown}") from None
        return names

    @field_validator("sync_start", mode="before")
    @classmethod
    def _sync_start(cls, text: Any) -> Any:
        return judged(text, sync_start_problem)

    @field_validator("requests_per_second", mode="before")
    @classmethod
    def _requests_per_second(cls, text: Any) -> Any:
        if not isinstance(text, str):
            return text
        variable, default = "STRIPE_REQUESTS_PER_SECOND", "Stripe's limit for the key's mode"
        return judged(text, lambda text: positive_number_problem(variable, text, default))

    @field_validator("timeout_s", mode="before")
    @classmethod
    def _timeout(cls, text: Any) -> Any:
        if not isinstance(text, str):
            return text
        return judged(text, lambda text: positive_number_problem("STRIPE_TIMEOUT_S", text, "30"))

    def client(self) -> StripeClient:
        return StripeClient(
            self.api_key,
            self.api_base,
            requests_per_second=self.requests_per_second or None,
            timeout_s=self.timeout_s,
        )

    def tables(self) -> list[str]:
        """The tables a sync of this account reads: those named, with their parents and
        children (catalog.select says why)."""
        return [resource.table for resource in select(self.resources)]

    def start(self) -> datetime | None:
        if not self.sync_start:
            return None
        return datetime.fromisoformat(self.sync_start).replace(tzinfo=UTC)


class StorageResource(EnvironmentResource):
    """Where data lands (a folder or `s3://` URL) and the warehouse it is loaded into: a DuckDB
    file, a PostgreSQL database (`WAREHOUSE=postgres`) or a local Spark catalog
    (`WAREHOUSE=spark`). Whichever it is, the local working files (dlt's state, dbt's builds,
    the report) live in DUCKDB_PATH's folder."""

    landing_bucket_url: str = env_field(
        "LANDING_BUCKET_URL", str(from_root("data/landing")), "A folder, or s3://bucket/prefix"
    )
    warehouse: str = env_field(
        "WAREHOUSE", "duckdb", "duckdb, postgres (POSTGRES_* below) or spark (SPARK_DIR)"
    )
    duckdb_path: str = env_field(
        "DUCKDB_PATH", str(from_root("data/stripe.duckdb")), "The DuckDB warehouse file"
    )
    # DuckDB's own default is 80% of RAM, so a large account's raw load and dbt build would take
    # the machine; above this DuckDB spills to disk instead. dbt gets the same value (--vars).
    duckdb_memory_limit: str = env_field(
        "DUCKDB_MEMORY_LIMIT", DUCKDB_MEMORY_LIMIT_DEFAULT, "DuckDB's memory before it spills"
    )
    postgres_host: str = env_field("POSTGRES_HOST", "127.0.0.1", "The PostgreSQL server")
    postgres_port: str = env_field("POSTGRES_PORT", "5432", "Its port")
    postgres_user: str = env_field("POSTGRES_USER", "postgres", "The user raw and dbt log in as")
    postgres_password: str = env_field("POSTGRES_PASSWORD", "", "That user's password")
    postgres_db: str = env_field("POSTGRES_DB", "stripe", "The database: raw in its schema stripe")
    spark_dir: str = env_field(
        "SPARK_DIR", str(from_root("data/spark")), "Spark's tables and catalog (WAREHOUSE=spark)"
    )

    @field_validator("warehouse", mode="before")
    @classmethod
    def _warehouse_kind(cls, name: Any) -> Any:
        if isinstance(name, str) and not is_deferred(name):  # EnvVar is a str: kept as it is
            name = name.lower()
        return judged(name, warehouse_problem)

    @field_validator("postgres_port", mode="before")
    @classmethod
    def _port(cls, text: Any) -> Any:
        return judged(text, lambda text: port_problem("POSTGRES_PORT", str(text)))

    @field_validator("landing_bucket_url", mode="before")
    @classmethod
    def _landing(cls, url: Any) -> Any:
        if is_deferred(url):
            return url
        url = url.strip().rstrip("/")
        if problem := landing_url_problem(url):
            raise ValueError(problem)
        return url if "://" in url else str(from_root(url))

    @field_validator("duckdb_path", "spark_dir", mode="before")
    @classmethod
    def _warehouse(cls, path: Any) -> Any:
        return path if is_deferred(path) else str(from_root(str(path).strip()))

    @field_validator("duckdb_memory_limit", mode="before")
    @classmethod
    def _memory_limit(cls, limit: Any) -> Any:
        return judged(limit, memory_limit_problem)

    def problems(self) -> list[str]:
        """What stops a run from using this storage (a missing bucket, an unwritable folder, a
        file that is no warehouse, a PostgreSQL server that does not answer or refuses the
        login), asked before the run starts."""
        on_duckdb = self.warehouse == "duckdb"
        problems = storage_problems(self.landing_bucket_url, Path(self.duckdb_path), on_duckdb)
        if self.warehouse == "spark":
            problems += spark_problems(Path(self.spark_dir))
        elif not on_duckdb:
            try:
                self.connect().close()
            except WarehouseUnavailable as unavailable:
                problems.append(str(unavailable))
        return problems

    def postgres(self) -> PostgresConnection:
        return PostgresConnection(
            host=self.postgres_host,
            port=int(self.postgres_port),
            user=self.postgres_user,
            password=self.postgres_password,
            database=self.postgres_db,
        )

    @property
    def warehouse_name(self) -> str:
        """The warehouse as people are told of it: the DuckDB file, or PostgreSQL's URL without
        the password."""
        if self.warehouse == "spark":
            return f"Spark's catalog in {self.spark_dir}"
        return self.duckdb_path if self.warehouse == "duckdb" else str(self.postgres())

    @property
    def dbt_target(self) -> str:
        """The dbt profile's output for this warehouse (dbt_project/profiles.yml)."""
        return "dev" if self.warehouse == "duckdb" else self.warehouse

    @property
    def data_dir(self) -> Path:
        """Local working files (dlt pipeline state) live beside the warehouse."""
        return Path(self.duckdb_path).parent

    def _pipeline(self, name: str, destination) -> dlt.Pipeline:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return dlt.pipeline(
            pipeline_name=name,
            destination=destination,
            dataset_name=RAW_SCHEMA,
            pipelines_dir=str(self.data_dir / "dlt"),
        )

    @contextmanager
    def exclusive(self, pipeline_name: str) -> Iterator[None]:
        """Hold a dlt pipeline's working folder alone, across processes: two runs sharing it
        would load each other's packages half-written. Dagster's pools should keep them apart,
        but two runs started at the same instant can both claim a slot; a killed holder's lock
        is released by the kernel."""
        with exclusive_lock(self.data_dir / "dlt" / f"{pipeline_name}.lock"):
            yield

    def landed_origin(self) -> str | None:
        """Whose data (extract.data_origin) the syncs run on this machine put in the landing
        zone, None before the first."""
        state = self._saved_state(LANDING_PIPELINE, landing_destination(self.landing_bucket_url))
        return state.get("sources", {}).get("stripe", {}).get("origin")

    def raw_last_loads(self) -> dict[str, str]:
        """Each raw table's last landing load (table: load id), as raw's loads on this machine
        recorded it; empty before the first."""
        state = self._saved_state(RAW_PIPELINE, self._warehouse_destination())
        resources = state.get("sources", {}).get(LANDING_ZONE_SOURCE, {}).get("resources", {})
        return {
            table: state["last_load_id"]
            for table, state in resources.items()
            if "last_load_id" in state
        }

    def _saved_state(self, pipeline_name: str, destination) -> dict:
        """A dlt pipeline's state as its last run on this machine left it, read without its
        lock and creating nothing: for checks before a run starts, which the run makes again
        holding it."""
        pipelines_dir = self.data_dir / "dlt"
        if not (pipelines_dir / pipeline_name).is_dir():
            return {}
        return dlt.attach(
            pipeline_name, pipelines_dir=str(pipelines_dir), destination=destination
        ).state

    def _warehouse_destination(self):
        if self.warehouse == "postgres":
            return postgres_destination(self.postgres())
        if self.warehouse == "spark":  # merged in DuckDB, then published to Spark (spark.py)
            merged = Path(self.spark_dir) / SPARK_RAW_MERGE_FILE
            merged.parent.mkdir(parents=True, exist_ok=True)  # DuckDB makes no folders
            return warehouse_destination(str(merged), self.duckdb_memory_limit)
        return warehouse_destination(self.duckdb_path, self.duckdb_memory_limit)

    def landing_pipeline(self) -> dlt.Pipeline:
        return self._pipeline(LANDING_PIPELINE, landing_destination(self.landing_bucket_url))

    def raw_pipeline(self) -> dlt.Pipeline:
        return self._pipeline(RAW_PIPELINE, self._warehouse_destination())

    def connect(self) -> Warehouse:
        """The warehouse, opened for reading; WarehouseUnavailable says why it cannot be."""
        if self.warehouse == "postgres":
            return PostgresWarehouse(self.postgres())
        if self.warehouse == "spark":
            from .spark import SparkWarehouse  # pyspark is imported only by who uses Spark

            return SparkWarehouse(Path(self.spark_dir))
        return DuckDbWarehouse(Path(self.duckdb_path))

    def publish_raw(self, tables: list[str]) -> None:
        """Make what the raw load merged readable in the warehouse: on Spark, write it out
        (spark.py says why); elsewhere the load wrote the warehouse itself."""
        if self.warehouse == "spark":
            from .spark import publish_raw_tables

            publish_raw_tables(Path(self.spark_dir), tables)
