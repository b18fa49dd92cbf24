"""The automation's tick logic, evaluated against real landing zones: a local folder and S3.

The landing sensor is given real dlt loads written by the pipeline's own extraction into a
temporary folder, and into a bucket of moto's S3 server on 127.0.0.1. Each tick must ask for one
run loading exactly the tables the new loads touched (plus every model built on them), once.
"""

import dagster as dg
import pytest
import requests

from stripe_assets.defs.stripe.assets import stripe_landing
from stripe_assets.defs.stripe.landing import completed_load_ids, dataset_root, landing_filesystem
from stripe_assets.defs.stripe.resources import build_resources
from stripe_assets.sandbox.process import RunningSandbox, running_sandbox
from stripe_assets.settings import Settings

from .conftest import LANDING_BUCKET, MotoS3


@pytest.fixture(scope="module", autouse=True)
def dbt_manifest() -> None:
    """The code location loads the dbt project's manifest, which a fresh clone must build."""
    from stripe_assets.defs.dbt.project import prepare_manifest

    prepare_manifest()


@pytest.fixture(scope="module")
def sandbox() -> RunningSandbox:
    with running_sandbox("--customers", "30", "--seed", "12") as running:
        yield running


def land(sandbox: RunningSandbox, landing: str, tmp_path, monkeypatch) -> None:
    """One extraction into the landing zone, nothing else."""
    monkeypatch.setenv("STRIPE_API_KEY", sandbox.api_key)
    settings = Settings(sandbox.url, landing, tmp_path / "stripe.duckdb")
    resources, instance = build_resources(settings), dg.DagsterInstance.ephemeral()
    result = dg.materialize([stripe_landing], resources=resources, instance=instance)
    assert result.success


def tick(landing: str, monkeypatch, cursor: str | None):
    monkeypatch.setenv("LANDING_BUCKET_URL", landing)
    from stripe_assets.definitions import build_definitions

    defs = build_definitions()
    sensor = defs.get_sensor_def("landing_zone_sensor")
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(
            instance=instance,
            cursor=cursor,
            repository_def=defs.get_repository_def(),
            resources={"storage": defs.resources["storage"]},  # what the sensor takes
        )
        return sensor.evaluate_tick(context)


def tables_in(load_id: str, landing: str) -> set[str]:
    fs, root = landing_filesystem(landing), dataset_root(landing)
    return {path.split("/")[-2] for path in fs.glob(f"{root}/*/{load_id}.*.parquet")}


def assert_ticks_follow_the_loads(sandbox, landing: str, tmp_path, monkeypatch) -> None:
    assert not tick(landing, monkeypatch, None).run_requests, "nothing landed yet"

    land(sandbox, landing, tmp_path, monkeypatch)
    first = tick(landing, monkeypatch, None)
    [request] = first.run_requests
    # a first sync writes two loads: the lists, then the deleted objects they still reference
    first_loads = completed_load_ids(landing_filesystem(landing), dataset_root(landing))
    assert request.run_key == f"landing-{first_loads[-1]}"
    selected = {key.to_user_string() for key in request.asset_selection}
    raw = {key.removeprefix("stripe/") for key in selected if key.startswith("stripe/")}
    assert raw == set().union(*(tables_in(load_id, landing) for load_id in first_loads))
    assert {"analytics/mrr_monthly", "analytics/fct_invoices"} <= selected
    assert not any(key.startswith("stripe_landing/") for key in selected)

    again = tick(landing, monkeypatch, first.cursor)
    assert not again.run_requests, "a load is loaded once"

    requests.post(f"{sandbox.url}/_sandbox/advance", json={"days": 3}, timeout=120)
    land(sandbox, landing, tmp_path, monkeypatch)
    second = tick(landing, monkeypatch, again.cursor)
    [request] = second.run_requests
    newest = completed_load_ids(landing_filesystem(landing), dataset_root(landing))[-1]
    assert newest not in first_loads and request.run_key == f"landing-{newest}"
    raw = {k.to_user_string().removeprefix("stripe/") for k in request.asset_selection}
    assert tables_in(newest, landing) <= raw
    assert {"products", "events"} <= raw, "listed on every sync; three days bring new events"


def test_landing_sensor_on_a_local_folder(sandbox, tmp_path, monkeypatch):
    assert_ticks_follow_the_loads(sandbox, str(tmp_path / "landing"), tmp_path, monkeypatch)


def test_landing_sensor_on_s3(sandbox, s3: MotoS3, tmp_path, monkeypatch):
    for name, value in s3.env().items():
        monkeypatch.setenv(name, value)
    landing = f"s3://{LANDING_BUCKET}/sensed"
    assert_ticks_follow_the_loads(sandbox, landing, tmp_path, monkeypatch)


def test_freshness_sensor_asks_for_every_freshness_check(monkeypatch, tmp_path):
    monkeypatch.setenv("LANDING_BUCKET_URL", str(tmp_path / "landing"))
    from stripe_assets.definitions import build_definitions

    defs = build_definitions()
    with dg.instance_for_test() as instance:
        repository = defs.get_repository_def()
        context = dg.build_sensor_context(instance=instance, repository_def=repository)
        [request] = defs.get_sensor_def("freshness_sensor").evaluate_tick(context).run_requests
    checked = {key.asset_key.to_user_string() for key in request.asset_check_keys}
    assert {"stripe_landing/customers", "stripe/customers", "analytics/mrr_monthly"} <= checked
    assert {key.name for key in request.asset_check_keys} == {"fresh"}
