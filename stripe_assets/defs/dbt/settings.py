"""What the dbt models are told besides the warehouse: the instant MRR is measured at, and what
becomes of customers' personal data. dbt run by hand reads the same environment variables
(macros/timestamps.sql, macros/personal_data.sql); a Dagster run passes these fields as vars."""

import json
import os
from pathlib import Path
from typing import Any

from pydantic import field_validator

from stripe_assets.defs.stripe.resources import StorageResource
from stripe_assets.settings import (
    EnvironmentResource,
    as_of_problem,
    customer_pii_problem,
    env_field,
    judged,
)


class DbtSettingsResource(EnvironmentResource):
    """The dbt project's settings, validated before anything starts: a typo in one would
    otherwise stop the run at its end, after the extraction."""

    mrr_as_of: str = env_field(
        "MRR_AS_OF", "", "ISO-8601 instant MRR is measured at; empty measures it at build time"
    )
    customer_pii: str = env_field(
        "CUSTOMER_PII", "keep", "keep, hash or drop customers' email and name in the marts"
    )

    @field_validator("mrr_as_of", mode="before")
    @classmethod
    def _as_of(cls, text: Any) -> Any:
        return judged(text, as_of_problem)

    @field_validator("customer_pii", mode="before")
    @classmethod
    def _customer_pii(cls, mode: Any) -> Any:
        return judged(mode, customer_pii_problem)

    def cli_vars(self, storage: StorageResource) -> str:
        """`--vars` for dbt: the warehouse the storage resource names (profiles.yml reads it),
        so the raw load and the dbt build always share one warehouse, and these settings. Vars
        are on dbt's command line, which Dagster logs, so the password is not among them."""
        values = {
            "duckdb_path": str(Path(storage.duckdb_path).resolve()),
            "duckdb_memory_limit": storage.duckdb_memory_limit,
            "customer_pii": self.customer_pii,
        }
        if storage.warehouse == "postgres":  # the password is read from POSTGRES_PASSWORD alone
            postgres = storage.postgres()
            values |= {
                "postgres_host": postgres.host,
                "postgres_port": postgres.port,
                "postgres_user": postgres.user,
                "postgres_db": postgres.database,
                "postgres_sslmode": postgres.sslmode,
            }
        if storage.warehouse == "spark":
            values["spark_dir"] = str(Path(storage.spark_dir).resolve())
        if self.mrr_as_of:
            values["as_of"] = self.mrr_as_of
        return json.dumps(values)


def dbt_data_tests_run() -> bool:
    """Whether `dbt build` runs the data tests: not when DBT_EXCLUDE_RESOURCE_TYPES, dbt's own
    setting (read by dbt itself), leaves them out. Then the models carry no asset checks, which
    no build would evaluate (Dagster would warn about each blocking one on every run)."""
    excluded = os.environ.get("DBT_EXCLUDE_RESOURCE_TYPES", "").replace(",", " ").split()
    return "test" not in excluded
