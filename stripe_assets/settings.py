"""How settings are read and judged. The resources hold them; this module holds what they share.

Every setting is a field of a Dagster resource (`StripeApiResource`, `StorageResource`,
`DbtSettingsResource`, `AutomationResource`), declared with `env_field`, which names the
environment variable it comes from. `from_environment` reads a resource's variables and lets
pydantic judge them: each field's validator turns a bad value into the one sentence the user
reads, and every bad value of every resource is reported at once (`require_valid_environment`),
before anything starts. Relative paths are relative to the repository root, for Python and dbt
alike (the dbt profile applies the same rule), so both always open the same DuckDB file.

The judges below are plain functions so the fast tests can ask them directly.
"""

import importlib.util
import ipaddress
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

import dagster as dg
from pydantic import Field, ValidationError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
STRIPE_API_BASE_DEFAULT = "https://api.stripe.com"
DUCKDB_MEMORY_LIMIT_DEFAULT = "512MB"
SYNC_CRON_DEFAULT = "0 * * * *"
DBT_BUILD_CRON_DEFAULT = "0 6 * * *"
CUSTOMER_PII_MODES = ("keep", "hash", "drop")
WAREHOUSES = ("duckdb", "postgres", "spark")
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


def env_field(variable: str, default: Any, description: str) -> Any:
    """A resource field read from `variable` when it is set (and not blank), else `default`."""
    described = f"{description} ({variable})"
    return Field(default=default, description=described, json_schema_extra={"env": variable})


class EnvironmentResource(dg.ConfigurableResource):
    """A resource whose fields come from environment variables (see `env_field`).

    Validators run in pydantic's "before" mode and let a `dg.EnvVar` through: Dagster resolves
    those when a run starts and builds the resource again, so each value is judged then too.
    """

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Each field read from the environment, with its variable."""
        return {
            name: field.json_schema_extra["env"]
            for name, field in cls.model_fields.items()
            if isinstance(field.json_schema_extra, dict) and "env" in field.json_schema_extra
        }

    @classmethod
    def from_environment(cls, env_vars: bool = False, **fields: Any) -> Self:
        """The resource as the environment configures it, `fields` aside; raises
        ConfigurationError with one sentence per bad value.

        `env_vars` (for Dagster's definitions) binds each string set in the environment as
        `dg.EnvVar`, so the UI shows which variable a value comes from and a run reads the
        variable itself; Dagster binds no other type that way, so numbers and lists are passed
        as the values read. Without it every value is plain, for code that reads them now.
        """
        values: dict[str, Any] = {}
        for name, variable in cls.variables().items():
            if name in fields or not os.environ.get(variable, "").strip():
                continue
            values[name] = os.environ[variable]
        try:
            judged = cls(**values, **fields)
        except ValidationError as invalid:
            raise ConfigurationError(_sentences(invalid, cls.variables(), values)) from None
        if not env_vars:
            return judged
        bound = {
            name: dg.EnvVar(cls.variables()[name]) if cls._binds_env_var(name) else value
            for name, value in values.items()
        }
        return cls(**bound, **fields)

    @classmethod
    def _binds_env_var(cls, name: str) -> bool:
        return cls.model_fields[name].annotation is str


def _sentences(invalid: ValidationError, variables: dict[str, str], values: dict) -> list[str]:
    """The validators' own sentences; pydantic's wording for anything they did not judge."""
    sentences = []
    for error in invalid.errors():
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, ValueError):
            sentences.append(str(cause))
            continue
        name = str(error["loc"][0]) if error["loc"] else ""
        variable = variables.get(name, name)
        sentences.append(f"{variable} {values.get(name, '')!r}: {error['msg']}; fix it.")
    return sentences


def require_valid_environment(*resource_classes: type[EnvironmentResource]) -> None:
    """Every bad value of every one of these resources at once, as one ConfigurationError."""
    problems = []
    for resource_class in resource_classes:
        try:
            resource_class.from_environment()
        except ConfigurationError as error:
            problems += error.problems
    if problems:
        raise ConfigurationError(problems)


def is_deferred(value: Any) -> bool:
    """A value Dagster reads from the environment when a run starts (judged then)."""
    return isinstance(value, dg.EnvVar)


def judged(value: Any, problem: Callable[[Any], str | None]) -> Any:
    """`value` (stripped) for a validator to keep, unless it is deferred to run time (judged
    then), or `problem` finds it wrong: then its sentence is raised."""
    if is_deferred(value):
        return value
    value = value.strip() if isinstance(value, str) else value
    if sentence := problem(value):
        raise ValueError(sentence)
    return value


def from_root(path: str | Path) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else PROJECT_ROOT / candidate


# --- judges: each returns the sentence the user reads, or None ---------------------------------


def positive_number_problem(variable: str, text: Any, default_text: str) -> str | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = math.nan
    if value > 0 and math.isfinite(value):
        return None
    return (
        f"{variable} {str(text).strip()!r} is not a number above 0: fix it, or unset it for the "
        f"default ({default_text})."
    )


def landing_url_problem(landing: str) -> str | None:
    if "://" in landing and not re.fullmatch(
        r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?", landing
    ):
        return f"LANDING_BUCKET_URL {landing!r} is neither a folder nor s3://bucket/prefix: fix it."
    return None


def memory_limit_problem(limit: str) -> str | None:
    if re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", limit, re.IGNORECASE):
        return None
    return (
        f"DUCKDB_MEMORY_LIMIT {limit!r} is not a size such as 1GB or 512MB: fix it, or unset it "
        f"for the default ({DUCKDB_MEMORY_LIMIT_DEFAULT})."
    )


def warehouse_problem(name: str) -> str | None:
    if name in WAREHOUSES:
        return None
    return (
        f"WAREHOUSE {name!r} is not one of {', '.join(WAREHOUSES)}: fix it, or unset it for DuckDB."
    )


def port_problem(variable: str, text: str) -> str | None:
    if text.isdigit() and 0 < int(text) < 65536:
        return None
    return f"{variable} {text!r} is not a port number (1 to 65535): fix it."


def sync_start_problem(text: str) -> str | None:
    if not text or is_date(text):
        return None
    return (
        f"STRIPE_SYNC_START {text!r} is not a date such as 2024-01-31: fix it, or unset it to "
        "read the account's whole history."
    )


def cron_problem(variable: str, cron: str, default: str) -> str | None:
    from stripe_assets.compat.dagster import is_valid_cron

    if is_valid_cron(cron):
        return None
    return (
        f"{variable} {cron!r} is not a cron expression of five fields (minute hour day month "
        f"weekday): fix it, or unset it for the default ({default!r})."
    )


def as_of_problem(text: str) -> str | None:
    if not text or is_instant(text):
        return None
    return (
        f"MRR_AS_OF {text!r} is not an ISO-8601 timestamp such as 2024-01-31T23:59:59Z: fix it, "
        "or unset it to measure MRR at the build's time."
    )


def customer_pii_problem(mode: str) -> str | None:
    if mode in CUSTOMER_PII_MODES:
        return None
    return (
        f"CUSTOMER_PII {mode!r} is not one of {', '.join(CUSTOMER_PII_MODES)}: fix it, or unset "
        "it to keep customers' email and name."
    )


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
    if parts.scheme == "http" and "_live_" in api_key and not is_loopback(parts.hostname):
        return (
            f"STRIPE_API_BASE {base!r} is plain HTTP to another machine, which would send the "
            "live STRIPE_API_KEY unencrypted: use https://."
        )
    return None


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine: a secret sent to it crosses no network."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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


def storage_problems(landing: str, warehouse: Path, duckdb: bool = True) -> list[str]:
    """What stops the pipeline from using this landing zone and warehouse, asked before a run
    starts, so a missing bucket or an unwritable warehouse stops it before anything is read or
    written. With another warehouse than DuckDB (`duckdb` false), DUCKDB_PATH's folder still
    holds the local working files, so it must be writable."""
    problems = []
    if landing.startswith("s3://") and (problem := _landing_bucket_problem(landing)):
        problems.append(problem)
    if "://" not in landing and not writable_folder(Path(landing)):
        problems.append(
            f"LANDING_BUCKET_URL {landing!r} cannot be written: point it at a folder you can "
            "write to, or at s3://bucket/prefix."
        )
    if warehouse.is_dir() and duckdb:
        problems.append(
            f"DUCKDB_PATH {str(warehouse)!r} is a folder: point it at a DuckDB file, for "
            f"example {str(warehouse / 'stripe.duckdb')!r}."
        )
    elif not writable_folder(warehouse.parent):
        problems.append(
            f"DUCKDB_PATH {str(warehouse)!r} cannot be written: point it at a file in a folder "
            "you can write to."
        )
    elif duckdb and warehouse.exists() and not _is_duckdb_file(warehouse):
        problems.append(
            f"DUCKDB_PATH {str(warehouse)!r} is not a DuckDB database: point it at a DuckDB "
            "file, or at a path where none exists yet."
        )
    return problems


def spark_problems(spark_dir: Path) -> list[str]:
    """What stops WAREHOUSE=spark before a JVM is started for it: its folder, Java, pyspark."""
    problems = []
    if not writable_folder(spark_dir):
        problems.append(
            f"SPARK_DIR {str(spark_dir)!r} cannot be written: point it at a folder you can "
            "write to."
        )
    java_home = os.environ.get("JAVA_HOME")
    if not (java_home and Path(java_home, "bin", "java").exists()) and not shutil.which("java"):
        problems.append(
            "WAREHOUSE=spark needs Java 17 or newer, and none was found: install it (apt-get "
            "install openjdk-17-jre-headless) or set JAVA_HOME."
        )
    if importlib.util.find_spec("pyspark") is None:
        problems.append(
            "WAREHOUSE=spark needs pyspark and dbt-spark, which this environment lacks: "
            "install them with pip install -e '.[spark]' (make setup does)."
        )
    return problems


def _is_duckdb_file(path: Path) -> bool:
    """By its header (DuckDB's magic bytes follow an 8-byte checksum), not by opening it: a
    warehouse another process is writing cannot be opened, and is no configuration problem."""
    with path.open("rb") as file:
        return file.read(12)[8:] == b"DUCK"


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


def is_date(text: str) -> bool:
    try:
        return re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) is not None and bool(
            date.fromisoformat(text)
        )
    except ValueError:
        return False


def is_instant(text: str) -> bool:
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
