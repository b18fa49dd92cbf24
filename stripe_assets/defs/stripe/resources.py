"""Dagster resources: the Stripe API and the storage (landing zone and warehouse).

The API key comes from `dg.EnvVar("STRIPE_API_KEY")` so Dagster's UI never shows it.
"""

from pathlib import Path

import dagster as dg
import dlt

from stripe_assets.settings import Settings, load_settings

from .client import StripeClient
from .landing import landing_destination
from .warehouse import RAW_SCHEMA, connect, qualified, warehouse_destination


class StripeApiResource(dg.ConfigurableResource):
    """Read-only access to Stripe's API (or the sandbox) with one pinned API version."""

    api_key: str
    api_base: str

    def client(self) -> StripeClient:
        return StripeClient(self.api_key, self.api_base)


class StorageResource(dg.ConfigurableResource):
    """Where data lands (a folder or `s3://` URL) and the DuckDB file it is loaded into."""

    landing_bucket_url: str
    duckdb_path: str

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

    def landing_pipeline(self) -> dlt.Pipeline:
        return self._pipeline("stripe_landing", landing_destination(self.landing_bucket_url))

    def raw_pipeline(self) -> dlt.Pipeline:
        return self._pipeline("stripe_raw", warehouse_destination(self.duckdb_path))

    def connect(self, read_only: bool = True):
        return connect(Path(self.duckdb_path), read_only=read_only)

    def raw_table(self, table: str) -> str:
        """The catalog-qualified name of a raw table (see warehouse.py for why)."""
        return qualified(Path(self.duckdb_path), RAW_SCHEMA, table)


def build_resources(settings: Settings | None = None) -> dict[str, dg.ConfigurableResource]:
    settings = settings or load_settings()
    return {
        "stripe_api": StripeApiResource(
            api_key=dg.EnvVar("STRIPE_API_KEY"), api_base=settings.stripe_api_base
        ),
        "storage": StorageResource(
            landing_bucket_url=settings.landing_bucket_url,
            duckdb_path=str(settings.duckdb_path),
        ),
    }
