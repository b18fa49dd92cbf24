"""DAGSTER_POSTGRES_URL judged by its form: which URLs are refused before any connection, and the
sentence a server's refusal becomes."""

import pytest

from stripe_assets.tooling.instance import _refusal, instance_storage, postgres_url_problem


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://dagster:pw@127.0.0.1:5432/dagster",
        "postgresql://dagster:pw@localhost/dagster",
        "postgresql://dagster:pw@[::1]:5433/dagster",
        "postgresql://dagster:pw@db.example.com/dagster?sslmode=verify-full",
        "postgresql://dagster:pw@10.0.0.7:5432/dagster?sslmode=require",
    ],
)
def test_urls_accepted(url):
    assert postgres_url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "start"),
    [
        ("postgres://dagster:pw@127.0.0.1/dagster", "DAGSTER_POSTGRES_URL is not a PostgreSQL URL"),
        ("postgresql://dagster:pw@127.0.0.1:port/dagster", "DAGSTER_POSTGRES_URL is not a"),
        ("postgresql://dagster:pw@127.0.0.1:5432", "DAGSTER_POSTGRES_URL is not a PostgreSQL URL"),
        ("postgresql:///dagster", "DAGSTER_POSTGRES_URL is not a PostgreSQL URL"),
        (
            "postgresql://dagster:pw@db.example.com/dagster",
            "DAGSTER_POSTGRES_URL connects to db.example.com:5432 without TLS",
        ),
        (
            "postgresql://dagster:pw@db.example.com:6432/dagster?sslmode=prefer",
            "DAGSTER_POSTGRES_URL connects to db.example.com:6432 without TLS",
        ),
    ],
)
def test_urls_refused_before_connecting(url, start):
    problem = postgres_url_problem(url)
    assert problem.startswith(start) and problem.endswith(".")
    assert "pw" not in problem.replace("PostgreSQL", "")


def test_a_refusal_is_one_sentence_with_postgresqls_reason_and_no_password():
    message = (
        'connection to server at "127.0.0.1", port 5432 failed: FATAL:  password '
        'authentication failed for user "dagster"\n'
    )
    assert _refusal("127.0.0.1:5432", message, "pw") == (
        "DAGSTER_POSTGRES_URL: PostgreSQL at 127.0.0.1:5432 answered \u201cpassword "
        'authentication failed for user "dagster"\u201d: fix the user or password in the URL.'
    )
    missing = 'connection to server at "h", port 5432 failed: FATAL:  database "x" does not exist'
    assert _refusal("h:5432", missing, None).endswith(
        "create that database (createdb) or fix the URL."
    )
    echoed = 'could not translate host name "s3cr3t@h" to address'
    assert "s3cr3t" not in _refusal("h:5432", echoed, "s3cr3t")


def test_the_url_is_named_in_dagster_yaml_never_copied(monkeypatch, tmp_path):
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", "postgresql://dagster:pw@127.0.0.1/dagster")
    assert instance_storage(tmp_path) == {
        "storage": {"postgres": {"postgres_url": {"env": "DAGSTER_POSTGRES_URL"}}}
    }
    monkeypatch.delenv("DAGSTER_POSTGRES_URL")
    assert instance_storage(tmp_path)["storage"]["custom"]["class"] == "SqliteStorage"
