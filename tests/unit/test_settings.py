"""Settings live on the resources: read from their variables, judged by pydantic, every bad value
a sentence of its own and all of them at once (stripe_assets/settings.py)."""

import dagster as dg
import pytest

from stripe_assets.defs.automation import AutomationResource
from stripe_assets.defs.dbt.settings import DbtSettingsResource
from stripe_assets.defs.resources import SETTINGS, require_valid_settings, settings_resources
from stripe_assets.defs.stripe.resources import StorageResource, StripeApiResource
from stripe_assets.settings import PROJECT_ROOT, ConfigurationError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for resource in SETTINGS.values():
        for variable in resource.variables().values():
            monkeypatch.delenv(variable, raising=False)


def test_every_bad_value_of_every_resource_is_one_sentence_and_all_come_at_once(monkeypatch):
    bad = {
        "STRIPE_API_KEY": "pk_test_publishable",
        "STRIPE_RESOURCES": "customers,widgets",
        "STRIPE_REQUESTS_PER_SECOND": "fast",
        "STRIPE_TIMEOUT_S": "-3",
        "STRIPE_SYNC_START": "2024-02-30",
        "LANDING_BUCKET_URL": "ftp://bucket",
        "DUCKDB_MEMORY_LIMIT": "lots",
        "MRR_AS_OF": "yesterday",
        "CUSTOMER_PII": "mask",
        "STRIPE_SYNC_CRON": "hourly",
        "DBT_BUILD_CRON": "0 25 * * *",
        "FRESHNESS_HOURS": "nan",
        "WAREHOUSE": "oracle",
        "POSTGRES_PORT": "54x",
    }
    for variable, value in bad.items():
        monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as raised:
        require_valid_settings()
    problems = raised.value.problems
    assert len(problems) == len(bad)
    for variable in bad:
        [sentence] = [problem for problem in problems if variable in problem]
        assert sentence.endswith(".") and "\n" not in sentence
    assert "Unknown Stripe resource widgets: choose from products," in " ".join(problems)


def test_a_key_is_judged_without_being_quoted(monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_secret value")
    with pytest.raises(ConfigurationError) as raised:
        StripeApiResource.from_environment()
    [sentence] = raised.value.problems
    assert "secret" not in sentence and sentence.startswith("STRIPE_API_KEY has a space")


def test_a_live_key_is_never_sent_over_plain_http_to_another_machine(monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", "rk_live_" + "x" * 24)
    monkeypatch.setenv("STRIPE_API_BASE", "http://stripe.example.com/")
    with pytest.raises(ConfigurationError, match="plain HTTP to another machine"):
        StripeApiResource.from_environment()
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:12111/")
    assert StripeApiResource.from_environment().api_base == "http://127.0.0.1:12111"


def test_unset_variables_take_the_defaults_and_relative_paths_the_repository_root(monkeypatch):
    monkeypatch.setenv("DUCKDB_PATH", "elsewhere/w.duckdb")
    storage = StorageResource.from_environment()
    assert storage.duckdb_path == str(PROJECT_ROOT / "elsewhere" / "w.duckdb")
    assert storage.landing_bucket_url == str(PROJECT_ROOT / "data" / "landing")
    api = StripeApiResource.from_environment()
    assert (api.api_base, api.resources, api.timeout_s) == ("https://api.stripe.com", [], 30.0)
    assert AutomationResource.from_environment().freshness_hours == 26.0
    assert DbtSettingsResource.from_environment().customer_pii == "keep"


def test_strings_set_in_the_environment_reach_dagster_as_env_vars(monkeypatch):
    """So the UI shows where each comes from; numbers and lists are passed as read."""
    monkeypatch.setenv("STRIPE_API_KEY", "rk_test_abc")
    monkeypatch.setenv("STRIPE_SYNC_START", "2024-01-31")
    monkeypatch.setenv("STRIPE_RESOURCES", "invoice_line_items")
    monkeypatch.setenv("STRIPE_TIMEOUT_S", "12.5")
    fields = dict(settings_resources()["stripe_api"])
    assert fields["api_key"] == dg.EnvVar("STRIPE_API_KEY")
    assert isinstance(fields["sync_start"], dg.EnvVar)
    assert (fields["resources"], fields["timeout_s"]) == (["invoice_line_items"], 12.5)


def test_a_table_brings_its_parent_and_children(monkeypatch):
    api = StripeApiResource(api_key="rk_test_abc", resources=["invoice_line_items"])
    assert api.tables() == ["invoices", "invoice_line_items"]


def test_dbt_gets_the_warehouse_and_its_settings_as_vars():
    import json

    storage = StorageResource(landing_bucket_url="/l", duckdb_path="/w/s.duckdb")
    dbt_vars = json.loads(DbtSettingsResource(mrr_as_of="2024-01-31").cli_vars(storage))
    assert dbt_vars == {
        "duckdb_path": "/w/s.duckdb",
        "duckdb_memory_limit": "512MB",
        "customer_pii": "keep",
        "as_of": "2024-01-31",
    }


def test_a_key_with_a_line_break_is_reported_not_trimmed(monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_x\n")
    with pytest.raises(ConfigurationError, match="STRIPE_API_KEY has a space, line break"):
        StripeApiResource.from_environment()


def test_a_child_whose_parent_brought_no_rows_is_reported_synced_as_its_parent():
    from stripe_assets.defs.stripe.extract import SyncReport

    report = SyncReport(modes={"invoices": "incremental", "subscriptions": "full"})
    assert report.mode_of("invoice_line_items") == "incremental"
    assert report.mode_of("subscription_items") == "full"
    assert report.mode_of("subscriptions") == "full"


def test_the_warehouse_is_duckdb_unless_set(monkeypatch):
    assert StorageResource.from_environment().warehouse == "duckdb"
    monkeypatch.setenv("WAREHOUSE", "PostgreSQL")
    with pytest.raises(ConfigurationError, match="WAREHOUSE 'postgresql' is not one of duckdb"):
        StorageResource.from_environment()
    monkeypatch.setenv("WAREHOUSE", "Postgres")
    assert StorageResource.from_environment().dbt_target == "postgres"
    monkeypatch.setenv("WAREHOUSE", "Spark")
    assert StorageResource.from_environment().dbt_target == "spark"


def test_spark_without_java_or_a_writable_folder_is_one_sentence_each(monkeypatch, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on it
    monkeypatch.delenv("JAVA_HOME", raising=False)
    storage = StorageResource(
        warehouse="spark",
        spark_dir=str(blocked / "spark"),
        duckdb_path=str(tmp_path / "stripe.duckdb"),
        landing_bucket_url=str(tmp_path / "landing"),
    )
    assert storage.problems() == [
        f"SPARK_DIR '{blocked / 'spark'}' cannot be written: point it at a folder you can write "
        "to.",
        "WAREHOUSE=spark needs Java 17 or newer, and none was found: install it (apt-get install "
        "openjdk-17-jre-headless) or set JAVA_HOME.",
    ]


def test_postgres_is_named_without_its_password_and_reached_over_tls_off_loopback():
    remote = StorageResource(
        warehouse="postgres",
        postgres_host="db.example.com",
        postgres_user="loader",
        postgres_password="s3cret",
        postgres_db="finance",
    )
    assert remote.warehouse_name == "postgresql://loader@db.example.com:5432/finance"
    assert remote.postgres().dlt_credentials().get_query()["sslmode"] == "require"
    local = StorageResource(warehouse="postgres", postgres_host="127.0.0.1")
    assert local.postgres().sslmode == "prefer"


def test_dbt_gets_postgres_by_target_and_vars_but_never_the_password():
    import json

    storage = StorageResource(
        landing_bucket_url="/l",
        duckdb_path="/w/s.duckdb",
        warehouse="postgres",
        postgres_host="db.example.com",
        postgres_password="s3cret",
    )
    dbt_vars = DbtSettingsResource().cli_vars(storage)
    assert storage.dbt_target == "postgres" and "s3cret" not in dbt_vars
    assert json.loads(dbt_vars) == {
        "duckdb_path": "/w/s.duckdb",
        "duckdb_memory_limit": "512MB",
        "customer_pii": "keep",
        "postgres_host": "db.example.com",
        "postgres_port": 5432,
        "postgres_user": "postgres",
        "postgres_db": "stripe",
        "postgres_sslmode": "require",
    }
