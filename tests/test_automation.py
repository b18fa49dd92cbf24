"""The automation's tick logic: the automation conditions over a day's evaluations, and the
landing sensor against real landing zones, a local folder and S3.

The landing sensor is given real dlt loads written by the pipeline's own extraction into a
temporary folder, and into a bucket of moto's S3 server on 127.0.0.1. Each tick must ask for one
run loading exactly the tables the new loads touched (plus every model built on them), once.
"""

from datetime import UTC, datetime

import dagster as dg
import pytest
import requests

from stripe_assets.defs.stripe.assets import stripe_landing
from stripe_assets.defs.stripe.landing import completed_load_ids, dataset_root, landing_filesystem
from stripe_assets.sandbox.process import RunningSandbox, running_sandbox

from .conftest import LANDING_BUCKET, MotoS3, stripe_resources

REVOKED = {8 * 60 + 15, 8 * 60 + 16}  # minutes of the automation test Stripe refuses the key


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
    resources = stripe_resources(sandbox.url, tmp_path, landing)
    instance = dg.DagsterInstance.ephemeral()
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
    from stripe_assets.definitions import build_definitions

    graph = build_definitions().resolve_asset_graph()
    read = {  # the models the selected ones read, which the build must have built
        parent.to_user_string()
        for key in request.asset_selection
        for parent in graph.get(key).parent_keys
        if not parent.to_user_string().startswith(("stripe/", "stripe_landing/"))
    }
    assert read <= selected, f"models read and never built: {read - selected}"
    assert "staging/stg_stripe__disputes" in selected, (
        "with no dispute landed (none in this sandbox)"
    )

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


def test_the_automation_syncs_on_its_cron_and_rebuilds_the_models_daily(
    sandbox, monkeypatch, tmp_path
):
    """Evaluated as the automation sensor would, tick after tick, on a fresh instance: the
    landing assets are requested once per STRIPE_SYNC_CRON tick, every dbt model once per
    DBT_BUILD_CRON tick, raw never (the landing sensor loads it), and nothing between ticks.
    While Stripe refuses the key no sync is requested (its run would fail in its first step and
    show every landing asset failed); the first evaluation after it is accepted again syncs."""
    monkeypatch.setenv("LANDING_BUCKET_URL", str(tmp_path / "landing"))
    monkeypatch.setenv("DUCKDB_PATH", str(tmp_path / "stripe.duckdb"))
    monkeypatch.setenv("STRIPE_API_BASE", sandbox.url)
    monkeypatch.setenv("STRIPE_API_KEY", sandbox.api_key)
    monkeypatch.setenv("STRIPE_SYNC_CRON", "15 */2 * * *")
    monkeypatch.setenv("DBT_BUILD_CRON", "0 6 * * *")
    from stripe_assets.definitions import build_definitions

    defs = build_definitions()
    graph = defs.get_repository_def().asset_graph
    layers = {"landing": set(), "raw": set(), "models": set()}
    for key in graph.get_all_asset_keys():
        group = graph.get(key).group_name
        layers[{"stripe_landing": "landing", "stripe_raw": "raw"}.get(group, "models")].add(key)
    # minute of 2026-03-02 -> the layers requested then; the sensor evaluates every minute, so
    # each request is followed by an evaluation a minute later, which must not repeat it
    evaluations = {
        5 * 60 + 10: set(),  # the first evaluation only starts the clock
        5 * 60 + 20: set(),
        6 * 60 + 1: {"models"},
        6 * 60 + 2: set(),
        6 * 60 + 16: {"landing"},
        6 * 60 + 17: set(),
        7 * 60 + 5: set(),
        8 * 60 + 15: set(),  # the key revoked (REVOKED)
        8 * 60 + 16: set(),
        8 * 60 + 17: {"landing"},  # accepted again: 8:15's tick is still to be synced
        8 * 60 + 18: set(),
        30 * 60 + 5: {"landing", "models"},  # the next morning: both crons ticked meanwhile
        30 * 60 + 6: set(),
    }
    cursor = None
    with dg.instance_for_test() as instance:
        for minute, expected in evaluations.items():
            at = datetime(2026, 3, 2, tzinfo=UTC).timestamp() + minute * 60
            accepted = [] if minute in REVOKED else [sandbox.api_key]
            keys = f"{sandbox.url}/_sandbox/keys"
            requests.post(keys, json={"accepted": accepted}, timeout=30).raise_for_status()
            result = dg.evaluate_automation_conditions(
                defs=defs,
                instance=instance,
                evaluation_time=datetime.fromtimestamp(at, tz=UTC),
                cursor=cursor,
            )
            cursor = result.cursor
            requested = {
                layer
                for layer, keys in layers.items()
                if any(result.get_num_requested(key) for key in keys)
            }
            assert requested == expected, minute
            for layer in requested:
                assert all(result.get_num_requested(key) == 1 for key in layers[layer]), layer
