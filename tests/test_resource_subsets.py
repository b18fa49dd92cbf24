"""Whatever subset of resources each run syncs, in any order, with the business living on and
runs dying part-way, nothing is lost or duplicated: each resource keeps its own events cursor.

Property-style: each sequence, drawn from its own seed, is one or two landing runs, each after a
few days of the business living on, each selecting a random subset of `STRIPE_RESOURCES`, some
killed after a random number of requests (an error raised from the client: a SIGKILL cannot be
timed to a request, and tests/test_crashes.py kills real processes). A run of everything follows;
raw must then hold every object the ledger counts, once, each as the API now returns it.

One sandbox lives on through all the sequences. Every fifth sequence starts a new landing zone
and warehouse, where resources meet for the first time in every order; the others carry on in
the zone the one before left, as a long-lived deployment does, with cursors of every age.
"""

import random
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import requests

from stripe_assets.defs.stripe.assets import landing_assets, stripe_raw
from stripe_assets.defs.stripe.catalog import BY_TABLE, TABLES
from stripe_assets.defs.stripe.client import StripeApiError, StripeClient
from stripe_assets.sandbox.process import RunningSandbox, running_sandbox

from .conftest import assert_raw_equals_truth, raw_rows, stripe_resources

SEQUENCES = 15
SEQUENCES_PER_ZONE = 5
SELECTABLE = [table for table in TABLES if BY_TABLE[table].sync != "child"]
# What changes on the objects each mutable table holds, compared with the API at the end.
STATE_FIELDS = {
    "customers": ("email",),
    "subscriptions": ("status", "cancel_at_period_end", "ended_at"),
    "invoices": ("status", "amount_paid"),
    "invoice_items": ("invoice",),
    "payment_intents": ("status",),
    "charges": ("amount_refunded", "disputed"),
    "disputes": ("status",),
    "credit_notes": ("status",),
    "payouts": ("status",),
}
LIST_PARAMS = {"subscriptions": {"status": "all"}}


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox("--customers", "12", "--seed", "41") as running:
        yield running


def land(sandbox: RunningSandbox, root: Path, tables: str, with_raw: bool = False) -> bool:
    """A sync with STRIPE_RESOURCES set to `tables`, as the code location defines it then."""
    resources_by_key = stripe_resources(sandbox.url, root, resources=tables)
    landing = landing_assets(resources_by_key["stripe_api"].tables())
    result = dg.materialize(
        [landing, stripe_raw] if with_raw else [landing],
        resources=resources_by_key,
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    return result.success


def killed_after(requests_made: int):
    """StripeClient.get, failing every request after the first `requests_made`."""
    real_get, made = StripeClient.get, [0]

    def get(self, *args, **kwargs):
        made[0] += 1
        if made[0] > requests_made:
            raise StripeApiError("killed")
        return real_get(self, *args, **kwargs)

    return get


def listed(sandbox: RunningSandbox, table: str) -> dict[str, dict]:
    headers = {"Authorization": f"Bearer {sandbox.api_key}"}
    path = BY_TABLE[table].path
    objects, query = {}, {"limit": 100, **LIST_PARAMS.get(table, {})}
    while True:
        page = requests.get(f"{sandbox.url}{path}", params=query, headers=headers, timeout=30)
        body = page.json()
        objects.update((obj["id"], obj) for obj in body["data"])
        if not body["has_more"]:
            return objects
        query["starting_after"] = body["data"][-1]["id"]


def assert_raw_is_what_the_api_holds(sandbox: RunningSandbox, root: Path, sequence: int) -> None:
    truth = requests.get(f"{sandbox.url}/_sandbox/truth", timeout=60).json()
    assert_raw_equals_truth(raw_rows(root / "stripe.duckdb"), truth)
    with duckdb.connect(str(root / "stripe.duckdb"), read_only=True) as con:
        loaded = {
            name for (name,) in con.execute("select table_name from duckdb_tables()").fetchall()
        }
        for table, fields in STATE_FIELDS.items():
            api = listed(sandbox, table)
            if table not in loaded:  # Stripe had none: the counts above say so
                continue
            rows = con.execute(
                f'select id, {", ".join(fields)} from "stripe"."stripe".{table} '
                "where not is_deleted"
            ).fetchall()
            stale = [
                (object_id, values, [api[object_id][f] for f in fields])
                for object_id, *values in rows
                if object_id in api and values != [api[object_id][f] for f in fields]
            ]
            assert not stale, f"sequence {sequence}: {table} rows differ from the API: {stale}"


@pytest.fixture(scope="module")
def zones() -> dict[int, Path]:
    return {}


@pytest.mark.parametrize("sequence", range(SEQUENCES))
def test_any_subsets_in_any_order_lose_nothing(sandbox, zones, sequence, monkeypatch, tmp_path):
    monkeypatch.setenv("STRIPE_API_KEY", sandbox.api_key)
    root = zones.setdefault(sequence // SEQUENCES_PER_ZONE, tmp_path)
    draw = random.Random(sequence)
    for _ in range(draw.randint(1, 2)):
        days = draw.randint(0, 4)
        if days:
            answer = requests.post(f"{sandbox.url}/_sandbox/advance", json={"days": days})
            assert answer.status_code == 200, answer.text
        subset = ",".join(draw.sample(SELECTABLE, draw.randint(1, 4)))
        with monkeypatch.context() as patch:
            if draw.random() < 0.25:
                patch.setattr(StripeClient, "get", killed_after(draw.randint(1, 20)))
            land(sandbox, root, subset)
    assert land(sandbox, root, "", with_raw=True), f"sequence {sequence}"
    assert_raw_is_what_the_api_holds(sandbox, root, sequence)
