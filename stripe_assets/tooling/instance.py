"""Where the Dagster instance keeps its runs, events and schedules: PostgreSQL when
DAGSTER_POSTGRES_URL is set (dagster-postgres, as a deployed Dagster runs its webserver, daemon
and code servers), else SQLite files in DAGSTER_HOME, the local default.

The URL holds a password, so `$DAGSTER_HOME/dagster.yaml` names the variable instead of copying
it (Dagster reads `{env: ...}` values when it opens the instance, and the UI's configuration page
shows the name), and nothing printed quotes it.
"""

import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg2

from stripe_assets.settings import is_loopback

POSTGRES_URL_VARIABLE = "DAGSTER_POSTGRES_URL"
CONNECT_TIMEOUT_S = 5
# libpq's modes that encrypt the connection; "prefer" and "allow" fall back to plain text
ENCRYPTING_SSL_MODES = {"require", "verify-ca", "verify-full"}
URL_EXAMPLE = "postgresql://user:password@host:5432/dagster"


def instance_storage(home: Path) -> dict:
    """The `storage` section of dagster.yaml."""
    if os.environ.get(POSTGRES_URL_VARIABLE):
        return {"storage": {"postgres": {"postgres_url": {"env": POSTGRES_URL_VARIABLE}}}}
    # Dagster's SQLite storage, kept lighter per event (stripe_assets/compat/dagster.py says how)
    return {
        "storage": {
            "custom": {
                "module": "stripe_assets.compat.dagster",
                "class": "SqliteStorage",
                "config": {"base_dir": str(home.resolve())},
            }
        }
    }


def postgres_url_problem(url: str) -> str | None:
    """What is wrong with the URL's form, judged without a connection."""
    not_a_url = (
        f"{POSTGRES_URL_VARIABLE} is not a PostgreSQL URL like {URL_EXAMPLE}: fix it, or unset "
        "it to keep Dagster's runs in DAGSTER_HOME."
    )
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port or 5432
    except ValueError:  # a port that is not a number, a malformed IPv6 address
        return not_a_url
    # postgresql:// alone: SQLAlchemy, which Dagster's storage goes through, refuses postgres://
    if parts.scheme != "postgresql" or not host or not parts.path.strip("/"):
        return not_a_url
    ssl_mode = parse_qs(parts.query).get("sslmode", [""])[-1]
    if not is_loopback(host) and ssl_mode not in ENCRYPTING_SSL_MODES:
        return (
            f"{POSTGRES_URL_VARIABLE} connects to {host}:{port} without TLS: add "
            "?sslmode=verify-full (or require) so that its password and Dagster's runs never "
            "cross the network in the clear."
        )
    return None


def instance_storage_problems() -> list[str]:
    """DAGSTER_POSTGRES_URL's problems, one sentence each: its form, then whether the server
    accepts it (one connection, before anything starts)."""
    url = os.environ.get(POSTGRES_URL_VARIABLE, "")
    if not url:
        return []
    if problem := postgres_url_problem(url):
        return [problem]
    try:
        psycopg2.connect(url, connect_timeout=CONNECT_TIMEOUT_S).close()
    except psycopg2.Error as error:
        parts = urlsplit(url)
        return [_refusal(f"{parts.hostname}:{parts.port or 5432}", str(error), parts.password)]
    return []


def _refusal(server: str, message: str, password: str | None) -> str:
    """libpq's first line, without its 'connection to server at ... failed:' preamble."""
    reason = message.strip().splitlines()[0] if message.strip() else "no answer"
    reason = re.sub(r"^connection to server at .*? failed: ", "", reason)
    reason = reason.replace("FATAL:  ", "").strip()
    if password:
        reason = reason.replace(password, "***")
    if "password authentication failed" in reason:
        advice = "fix the user or password in the URL"
    elif re.search(r'database ".*" does not exist', reason):
        advice = "create that database (createdb) or fix the URL"
    else:
        advice = "start the server, or fix the URL's host and port"
    return (
        f"{POSTGRES_URL_VARIABLE}: PostgreSQL at {server} answered \u201c{reason}\u201d: {advice}."
    )
