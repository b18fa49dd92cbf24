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
DUCKDB_MEMORY_LIMIT_DEFAULT = "512MB"


@dataclass(frozen=True)
class Settings:
    stripe_api_base: str
    landing_bucket_url: str
    duckdb_path: Path
    # DuckDB's own default is 80% of RAM, so a large account's raw load and dbt build would take
    # the machine; above this DuckDB spills to disk instead. The dbt profile reads the same
    # variable with the same default.
    duckdb_memory_limit: str = DUCKDB_MEMORY_LIMIT_DEFAULT
    stripe_resources: str = ""  # comma-separated tables; empty means all
    sync_start: str = ""  # YYYY-MM-DD: the first backfill reads objects created since then
    requests_per_second: float = 0.0  # 0: Stripe's limit for the key's mode
    request_timeout_s: float = 30.0  # a Stripe response slower than this is retried
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
    elif landing.startswith("s3://") and (problem := _landing_bucket_problem(landing)):
        problems.append(problem)
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", settings.duckdb_memory_limit, re.IGNORECASE):
        problems.append(
            f"DUCKDB_MEMORY_LIMIT {settings.duckdb_memory_limit!r} is not a size such as 1GB or "
            f"512MB: fix it, or unset it for the default ({DUCKDB_MEMORY_LIMIT_DEFAULT})."
        )
    if not _writable_folder(settings.duckdb_path.parent) or settings.duckdb_path.is_dir():
        problems.append(
            f"DUCKDB_PATH {str(settings.duckdb_path)!r} cannot be written: point it at a file "
            "in a folder you can write to."
        )
    return problems


def _landing_bucket_problem(landing: str) -> str | None:
    """Asked once before a run, so a missing bucket or refused credentials cost no extraction:
    whether S3 can be reached, the bucket exists and these credentials may use it."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    bucket, aws = landing.removeprefix("s3://").split("/")[0], aws_settings()
    where = aws.get("endpoint_url", "AWS")
    config = Config(retries={"max_attempts": 2}, connect_timeout=5, read_timeout=15)
    try:
        boto3.client("s3", config=config, **aws).head_bucket(Bucket=bucket)
    except NoCredentialsError:
        return (
            f"No AWS credentials for the landing bucket {bucket!r}: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE."
        )
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404:
            return (
                f"The landing bucket {bucket!r} does not exist at {where}: create it, or point "
                "LANDING_BUCKET_URL at one that does."
            )
        return (
            f"S3 at {where} refused access to the landing bucket {bucket!r} ({status}): check "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) and the bucket policy."
        )
    except BotoCoreError as error:
        return (
            f"Could not reach S3 at {where} for the landing bucket {bucket!r} ({error}): check "
            "AWS_ENDPOINT_URL and the network."
        )
    return None


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
        duckdb_memory_limit=os.environ.get("DUCKDB_MEMORY_LIMIT") or DUCKDB_MEMORY_LIMIT_DEFAULT,
        stripe_resources=os.environ.get("STRIPE_RESOURCES", ""),
        sync_start=os.environ.get("STRIPE_SYNC_START", ""),
        requests_per_second=float(os.environ.get("STRIPE_REQUESTS_PER_SECOND") or 0),
        request_timeout_s=float(os.environ.get("STRIPE_TIMEOUT_S") or 30),
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
