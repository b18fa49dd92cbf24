"""Dagster resources: the Stripe API and the storage (landing zone and warehouse).

The API key comes from `dg.EnvVar("STRIPE_API_KEY")` so Dagster's UI never shows it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import dlt
import duckdb
from pydantic import Field

from stripe_assets.file_lock import exclusive_lock
from stripe_assets.settings import DUCKDB_MEMORY_LIMIT_DEFAULT, Settings, load_settings

from .client import StripeClient
from .landing import landing_destination
from .warehouse import RAW_SCHEMA, connect, qualified, warehouse_destination


class StripeApiResource(dg.ConfigurableResource):
    """Read-only access to Stripe's API (or the sandbox) with one pinned API version."""

    api_key: str
    api_base: str
    resources: str = Field(
        default="", description="Comma-separated tables to sync; empty syncs every resource."
    )
    sync_start: str = Field(
        default="", description="YYYY-MM-DD: the first backfill reads objects created since."
    )
    requests_per_second: float = Field(
        default=0.0, description="Request budget; 0 uses Stripe's (25 test mode, 100 live)."
    )
    timeout_s: float = Field(
        default=30.0, description="Seconds to wait for a response before retrying the request."
    )

    def client(self) -> StripeClient:
        return StripeClient(
            self.api_key,
            self.api_base,
            requests_per_second=self.requests_per_second or None,
            timeout_s=self.timeout_s,
        )

    def selected_tables(self) -> list[str]:
        return [name.strip() for name in self.resources.split(",") if name.strip()]

    def start(self) -> datetime | None:
        if not self.sync_start:
            return None
        try:
            return datetime.fromisoformat(self.sync_start).replace(tzinfo=UTC)
        except ValueError:
            raise ValueError(
                f"STRIPE_SYNC_START must be a date like 2024-01-31, not {self.sync_start!r}."
            ) from None


class StorageResource(dg.ConfigurableResource):
    """Where data lands (a folder or `s3://` URL) and the DuckDB file it is loaded into."""

    landing_bucket_url: str
    duckdb_path: str
    duckdb_memory_limit: str = DUCKDB_MEMORY_LIMIT_DEFAULT

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

    def landing_pipeline(self) -> dlt.Pipeline:
        return self._pipeline("stripe_landing", landing_destination(self.landing_bucket_url))

    def raw_pipeline(self) -> dlt.Pipeline:
        return self._pipeline(
            "stripe_raw", warehouse_destination(self.duckdb_path, self.duckdb_memory_limit)
        )

    def connect(self, read_only: bool = True):
        return connect(Path(self.duckdb_path), read_only=read_only)

    def row_counts(self, con, table: str) -> tuple[int, int]:
        """(rows, deleted rows) of a raw table; (0, 0) when nothing was ever loaded into it."""
        try:
            return con.execute(
                f"select count(*), count(*) filter (where is_deleted) from {self.raw_table(table)}"
            ).fetchone()
        except duckdb.CatalogException:
            return 0, 0

    def column_schema(self, con, table: str, schema: str = RAW_SCHEMA) -> dg.TableSchema:
        """A relation's columns and DuckDB types (raw's for Dagster's schema-change checks)."""
        columns = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_catalog = current_database() and table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [schema, table],
        ).fetchall()
        return dg.TableSchema(columns=[dg.TableColumn(name, type) for name, type in columns])

    def raw_table(self, table: str) -> str:
        """The catalog-qualified name of a raw table (see warehouse.py for why)."""
        return self.qualified(RAW_SCHEMA, table)

    def qualified(self, schema: str, table: str) -> str:
        return qualified(Path(self.duckdb_path), schema, table)


def build_resources(settings: Settings | None = None) -> dict[str, dg.ConfigurableResource]:
    settings = settings or load_settings()
    return {
        "stripe_api": StripeApiResource(
            api_key=dg.EnvVar("STRIPE_API_KEY"),
            api_base=settings.stripe_api_base,
            resources=settings.stripe_resources,
            sync_start=settings.sync_start,
            requests_per_second=settings.requests_per_second,
            timeout_s=settings.request_timeout_s,
        ),
        "storage": StorageResource(
            landing_bucket_url=settings.landing_bucket_url,
            duckdb_path=str(settings.duckdb_path),
            duckdb_memory_limit=settings.duckdb_memory_limit,
        ),
    }


@dg.definitions
def resources() -> dg.Definitions:
    """Built from the environment each time the code location loads, so tests can point it at
    temporary storage."""
    return dg.Definitions(resources=build_resources())
