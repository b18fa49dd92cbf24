"""Where the pipeline reads from and writes to, decided once from the environment.

Every other module asks this one, so nothing else branches on local versus S3 or sandbox versus
Stripe. Relative paths are relative to the repository root, for Python and dbt alike (the dbt
profile applies the same rule), so both always open the same DuckDB file.
"""

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
STRIPE_API_BASE_DEFAULT = "https://api.stripe.com"


@dataclass(frozen=True)
class Settings:
    stripe_api_base: str
    landing_bucket_url: str
    duckdb_path: Path
    stripe_resources: str = ""  # comma-separated tables; empty means all
    sync_start: str = ""  # YYYY-MM-DD: the first backfill reads objects created since then
    requests_per_second: float = 0.0  # 0: Stripe's limit for the key's mode
    freshness_hours: float = 26.0  # landing, raw and marts older than this are stale
    sync_cron: str = "0 * * * *"  # incremental syncs into the landing zone
    dbt_build_cron: str = "0 6 * * *"  # the daily full dbt build


def configuration_problems(settings: Settings) -> list[str]:
    """What is wrong with the configuration, each as one sentence saying what to do: checked
    before a run starts, so a bad setting stops it before anything is read or written."""
    problems = []
    key = os.environ.get("STRIPE_API_KEY", "")
    if key and not key.startswith(("sk_test_", "sk_live_", "rk_test_", "rk_live_")):
        problems.append(
            "STRIPE_API_KEY is not a Stripe secret or restricted key (sk_... or rk_...): copy "
            "it from the Dashboard's API keys page, or unset it to use the sandbox."
        )
    landing = settings.landing_bucket_url
    if "://" in landing and not re.fullmatch(
        r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?", landing
    ):
        problems.append(
            f"LANDING_BUCKET_URL {landing!r} is neither a folder nor s3://bucket/prefix: fix it."
        )
    if not _writable_folder(settings.duckdb_path.parent) or settings.duckdb_path.is_dir():
        problems.append(
            f"DUCKDB_PATH {str(settings.duckdb_path)!r} cannot be written: point it at a file "
            "in a folder you can write to."
        )
    return problems


def _writable_folder(folder: Path) -> bool:
    """Whether a file can be created in `folder` (made if missing), tried for real: permission
    bits do not tell for root or for special file systems."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _from_root(path: str) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else PROJECT_ROOT / candidate


def load_settings() -> Settings:
    landing = os.environ.get("LANDING_BUCKET_URL") or "data/landing"
    if "://" not in landing:
        landing = str(_from_root(landing))
    return Settings(
        stripe_api_base=(os.environ.get("STRIPE_API_BASE") or STRIPE_API_BASE_DEFAULT).rstrip("/"),
        landing_bucket_url=landing.rstrip("/"),
        duckdb_path=_from_root(os.environ.get("DUCKDB_PATH") or "data/stripe.duckdb"),
        stripe_resources=os.environ.get("STRIPE_RESOURCES", ""),
        sync_start=os.environ.get("STRIPE_SYNC_START", ""),
        requests_per_second=float(os.environ.get("STRIPE_REQUESTS_PER_SECOND") or 0),
        freshness_hours=float(os.environ.get("FRESHNESS_HOURS") or 26),
        sync_cron=os.environ.get("STRIPE_SYNC_CRON") or "0 * * * *",
        dbt_build_cron=os.environ.get("DBT_BUILD_CRON") or "0 6 * * *",
    )


def aws_settings() -> dict[str, str]:
    """The standard AWS variables that are set, for clients that do not read them themselves."""
    names = {
        "aws_access_key_id": "AWS_ACCESS_KEY_ID",
        "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
        "region_name": "AWS_REGION",
        "endpoint_url": "AWS_ENDPOINT_URL",
    }
    return {field: os.environ[var] for field, var in names.items() if os.environ.get(var)}
