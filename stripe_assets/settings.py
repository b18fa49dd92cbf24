"""Where the pipeline reads from and writes to, decided once from the environment.

Every other module asks this one, so nothing else branches on local versus S3 or sandbox versus
Stripe. Relative paths are relative to the repository root, for Python and dbt alike (the dbt
profile applies the same rule), so both always open the same DuckDB file.
"""

import ipaddress
import math
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
STRIPE_API_BASE_DEFAULT = "https://api.stripe.com"
DUCKDB_MEMORY_LIMIT_DEFAULT = "512MB"
SYNC_CRON_DEFAULT = "0 * * * *"
DBT_BUILD_CRON_DEFAULT = "0 6 * * *"
CUSTOMER_PII_MODES = ("keep", "hash", "drop")
# The ISO-8601 forms DuckDB casts as well as Python reads: a date, optionally a time, and after
# the seconds optionally an offset (macros/timestamps.sql reads a value without one as UTC).
ISO_INSTANT = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?(Z|[+-]\d{2}(:?\d{2})?)?)?)?"
)


class ConfigurationError(Exception):
    """Settings the pipeline cannot start with; each problem is one sentence saying what to do."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


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
    sync_cron: str = SYNC_CRON_DEFAULT  # incremental syncs into the landing zone
    dbt_build_cron: str = DBT_BUILD_CRON_DEFAULT  # the daily full dbt build


def configuration_problems(settings: Settings) -> list[str]:
    """What stops the pipeline from using these settings, each as one sentence saying what to
    do: asked before a run starts, so a bad key, a missing bucket or an unwritable warehouse
    stops it before anything is read or written. Malformed values are load_settings' concern."""
    problems = []
    key = os.environ.get("STRIPE_API_KEY", "")
    if key and (problem := stripe_key_problem(key)):
        problems.append(problem)
    if problem := api_base_problem(settings.stripe_api_base, key):
        problems.append(problem)
    if settings.landing_bucket_url.startswith("s3://") and (
        problem := _landing_bucket_problem(settings.landing_bucket_url)
    ):
        problems.append(problem)
    if "://" not in settings.landing_bucket_url and not writable_folder(
        Path(settings.landing_bucket_url)
    ):
        problems.append(
            f"LANDING_BUCKET_URL {settings.landing_bucket_url!r} cannot be written: point it at "
            "a folder you can write to, or at s3://bucket/prefix."
        )
    warehouse = settings.duckdb_path
    if warehouse.is_dir():
        problems.append(
            f"DUCKDB_PATH {str(warehouse)!r} is a folder: point it at a DuckDB file, for "
            f"example {str(warehouse / 'stripe.duckdb')!r}."
        )
    elif not writable_folder(warehouse.parent):
        problems.append(
            f"DUCKDB_PATH {str(warehouse)!r} cannot be written: point it at a file in a folder "
            "you can write to."
        )
    elif warehouse.exists() and not _is_duckdb_file(warehouse):
        problems.append(
            f"DUCKDB_PATH {str(warehouse)!r} is not a DuckDB database: point it at a DuckDB "
            "file, or at a path where none exists yet."
        )
    return problems


def api_base_problem(base: str, api_key: str) -> str | None:
    """What is wrong with STRIPE_API_BASE: a URL the client could not reach Stripe at (it would
    spend its retries before saying so), one with a path (requests add /v1/... themselves), or
    plain HTTP to another machine with a live key, which would send the key in clear text."""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return (
            f"STRIPE_API_BASE {base!r} is not an http(s) URL such as https://api.stripe.com: fix "
            "it, or unset it for Stripe's API."
        )
    if parts.path.strip("/") or parts.query or parts.fragment:
        return (
            f"STRIPE_API_BASE {base!r} has a path: give the server alone, such as "
            "https://api.stripe.com (the pipeline adds /v1/...)."
        )
    loopback = parts.hostname == "localhost" or _is_loopback_address(parts.hostname)
    if parts.scheme == "http" and "_live_" in api_key and not loopback:
        return (
            f"STRIPE_API_BASE {base!r} is plain HTTP to another machine, which would send the "
            "live STRIPE_API_KEY unencrypted: use https://."
        )
    return None


def _is_loopback_address(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_duckdb_file(path: Path) -> bool:
    """By its header (DuckDB's magic bytes follow an 8-byte checksum), not by opening it: a
    warehouse another process is writing cannot be opened, and is no configuration problem."""
    with path.open("rb") as file:
        return file.read(12)[8:] == b"DUCK"


def stripe_key_problem(key: str) -> str | None:
    """What is wrong with a Stripe key, never quoting it. A stray space or line break would
    otherwise reach the Authorization header, whose error message quotes the header whole."""
    if not key.startswith(("sk_test_", "sk_live_", "rk_test_", "rk_live_")):
        return (
            "STRIPE_API_KEY is not a Stripe secret or restricted key (sk_... or rk_...): copy "
            "it from the Dashboard's API keys page, or unset it to use the sandbox."
        )
    if not re.fullmatch(r"[!-~]+", key):
        return (
            "STRIPE_API_KEY has a space, line break or other character no Stripe key has (often "
            "left by copy and paste): set it to the key alone."
        )
    return None


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


def writable_folder(folder: Path) -> bool:
    """Whether files can be written in `folder`, made if missing. Tried for real, since
    permission bits do not tell for root or for special file systems, and leaving nothing
    behind: a command stopped by another problem must not have created folders."""
    existing = folder
    while not existing.exists():
        existing = existing.parent
    try:
        if existing == folder:
            with tempfile.TemporaryFile(dir=folder):
                return True
        with tempfile.TemporaryDirectory(dir=existing):
            return True
    except OSError:
        return False


def _from_root(path: str) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else PROJECT_ROOT / candidate


def load_settings() -> Settings:
    """The settings from the environment; raises ConfigurationError naming every malformed
    variable, so that neither a run nor the code location starts with a typo in one."""
    problems: list[str] = []
    landing = os.environ.get("LANDING_BUCKET_URL") or "data/landing"
    if "://" not in landing:
        landing = str(_from_root(landing))
    settings = Settings(
        stripe_api_base=(os.environ.get("STRIPE_API_BASE") or STRIPE_API_BASE_DEFAULT).rstrip("/"),
        landing_bucket_url=landing.rstrip("/"),
        duckdb_path=_from_root(os.environ.get("DUCKDB_PATH") or "data/stripe.duckdb"),
        duckdb_memory_limit=os.environ.get("DUCKDB_MEMORY_LIMIT") or DUCKDB_MEMORY_LIMIT_DEFAULT,
        stripe_resources=os.environ.get("STRIPE_RESOURCES", ""),
        sync_start=os.environ.get("STRIPE_SYNC_START", "").strip(),
        requests_per_second=_positive_number(
            "STRIPE_REQUESTS_PER_SECOND", 0.0, "Stripe's limit for the key's mode", problems
        ),
        request_timeout_s=_positive_number("STRIPE_TIMEOUT_S", 30.0, "30", problems),
        freshness_hours=_positive_number("FRESHNESS_HOURS", 26.0, "26", problems),
        sync_cron=os.environ.get("STRIPE_SYNC_CRON") or SYNC_CRON_DEFAULT,
        dbt_build_cron=os.environ.get("DBT_BUILD_CRON") or DBT_BUILD_CRON_DEFAULT,
    )
    problems += _malformed(settings)
    if problems:
        raise ConfigurationError(problems)
    return settings


def _positive_number(variable: str, default: float, default_text: str, problems: list) -> float:
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        problems.append(
            f"{variable} {text!r} is not a number above 0: fix it, or unset it for the default "
            f"({default_text})."
        )
        return default
    return value


def _malformed(settings: Settings) -> list[str]:
    """Values that cannot mean anything, found before anything starts. MRR_AS_OF and
    CUSTOMER_PII are read by dbt alone, at the end of a run: checked here, a typo in one stops
    the run before extraction instead of after it."""
    from stripe_assets.compat.dagster import is_valid_cron
    from stripe_assets.defs.stripe.catalog import select

    problems = []
    landing = settings.landing_bucket_url
    if "://" in landing and not re.fullmatch(
        r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?", landing
    ):
        problems.append(
            f"LANDING_BUCKET_URL {landing!r} is neither a folder nor s3://bucket/prefix: fix it."
        )
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", settings.duckdb_memory_limit, re.IGNORECASE):
        problems.append(
            f"DUCKDB_MEMORY_LIMIT {settings.duckdb_memory_limit!r} is not a size such as 1GB or "
            f"512MB: fix it, or unset it for the default ({DUCKDB_MEMORY_LIMIT_DEFAULT})."
        )
    if settings.sync_start and not _is_date(settings.sync_start):
        problems.append(
            f"STRIPE_SYNC_START {settings.sync_start!r} is not a date such as 2024-01-31: fix "
            "it, or unset it to read the account's whole history."
        )
    resources = [name.strip() for name in settings.stripe_resources.split(",") if name.strip()]
    try:
        select(resources)
    except ValueError as unknown:
        problems.append(f"STRIPE_RESOURCES: {unknown}")
    for variable, cron, default in (
        ("STRIPE_SYNC_CRON", settings.sync_cron, SYNC_CRON_DEFAULT),
        ("DBT_BUILD_CRON", settings.dbt_build_cron, DBT_BUILD_CRON_DEFAULT),
    ):
        if not is_valid_cron(cron):
            problems.append(
                f"{variable} {cron!r} is not a cron expression of five fields (minute hour "
                f"day month weekday): fix it, or unset it for the default ({default!r})."
            )
    as_of = os.environ.get("MRR_AS_OF", "").strip()
    if as_of and not _is_instant(as_of):
        problems.append(
            f"MRR_AS_OF {as_of!r} is not an ISO-8601 timestamp such as 2024-01-31T23:59:59Z: "
            "fix it, or unset it to measure MRR at the build's time."
        )
    pii = os.environ.get("CUSTOMER_PII", "").strip()
    if pii and pii not in CUSTOMER_PII_MODES:
        problems.append(
            f"CUSTOMER_PII {pii!r} is not one of {', '.join(CUSTOMER_PII_MODES)}: fix it, or "
            "unset it to keep customers' email and name."
        )
    return problems


def _is_date(text: str) -> bool:
    try:
        return re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) is not None and bool(
            date.fromisoformat(text)
        )
    except ValueError:
        return False


def _is_instant(text: str) -> bool:
    try:
        return ISO_INSTANT.fullmatch(text) is not None and bool(datetime.fromisoformat(text))
    except ValueError:
        return False


def aws_settings() -> dict[str, str]:
    """The standard AWS variables that are set, for clients that do not read them themselves."""
    names = {
        "aws_access_key_id": "AWS_ACCESS_KEY_ID",
        "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
        "region_name": "AWS_REGION",
        "endpoint_url": "AWS_ENDPOINT_URL",
    }
    return {field: os.environ[var] for field, var in names.items() if os.environ.get(var)}
