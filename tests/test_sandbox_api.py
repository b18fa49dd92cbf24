"""The sandbox over real HTTP, through the official `stripe` package."""

import json

import pytest
import requests
import stripe

from stripe_assets.sandbox.process import RunningSandbox, running_sandbox

from .conftest import SANDBOX_ARGS

LISTED = {
    "customers": ("customers", {}),
    "products": ("products", {}),
    "prices": ("prices", {}),
    "subscriptions": ("subscriptions", {"status": "all"}),
    "invoices": ("invoices", {}),
    "charges": ("charges", {}),
}


@pytest.fixture(scope="module")
def client(sandbox: RunningSandbox) -> stripe.StripeClient:
    return stripe.StripeClient(sandbox.api_key, base_addresses={"api": sandbox.url})


def list_all(client: stripe.StripeClient, resource: str, **params) -> list:
    service = getattr(client.v1, resource)
    return list(service.list({"limit": 100, **params}).auto_paging_iter())


@pytest.mark.parametrize("table", sorted(LISTED))
def test_auto_pagination_lists_exactly_truth(client, truth, table):
    resource, params = LISTED[table]
    objects = list_all(client, resource, **params)
    ids = [obj.id for obj in objects]
    assert len(ids) == len(set(ids)) == truth["tables"][table]["live"]
    created = [obj.created for obj in objects]
    assert created == sorted(created, reverse=True), "lists are newest first"


def test_small_pages_walk_the_same_objects(client):
    full = [c.id for c in list_all(client, "customers")]
    paged = [c.id for c in client.v1.customers.list({"limit": 7}).auto_paging_iter()]
    assert paged == full


def test_embedded_lists_complete_through_their_endpoints(client, truth):
    subscriptions = list_all(client, "subscriptions", status="all")
    items = sum(
        len(list_all(client, "subscription_items", subscription=s.id)) for s in subscriptions
    )
    assert items == truth["tables"]["subscription_items"]["live"]
    invoices = list_all(client, "invoices")
    lines = sum(
        len(list(client.v1.invoices.line_items.list(invoice.id).auto_paging_iter()))
        for invoice in invoices
    )
    assert lines == truth["tables"]["invoice_line_items"]["live"]


def test_created_filters_return_exact_slices(client):
    invoices = list_all(client, "invoices")
    middle = sorted({i.created for i in invoices})[len(invoices) // 2]
    expected = {
        "gte": {i.id for i in invoices if i.created >= middle},
        "gt": {i.id for i in invoices if i.created > middle},
        "lt": {i.id for i in invoices if i.created < middle},
        "lte": {i.id for i in invoices if i.created <= middle},
    }
    for operator, ids in expected.items():
        sliced = list_all(client, "invoices", created={operator: middle})
        assert {i.id for i in sliced} == ids, operator


def test_starting_after_and_ending_before_are_exact(client):
    ids = [c.id for c in list_all(client, "customers")]
    after = client.v1.customers.list({"limit": 5, "starting_after": ids[10]})
    assert [c.id for c in after.data] == ids[11:16] and after.has_more
    before = client.v1.customers.list({"limit": 5, "ending_before": ids[10]})
    assert [c.id for c in before.data] == ids[5:10] and before.has_more
    first = client.v1.customers.list({"limit": 5, "ending_before": ids[3]})
    assert [c.id for c in first.data] == ids[0:3] and not first.has_more


def test_expand_replaces_ids_with_objects(client):
    invoice = client.v1.invoices.list({"limit": 1, "expand": ["data.customer"]}).data[0]
    assert invoice.customer.object == "customer"


def test_bad_key_is_401_with_stripes_error_json(sandbox):
    bad = stripe.StripeClient("sk_test_not_the_key", base_addresses={"api": sandbox.url})
    with pytest.raises(stripe.AuthenticationError) as raised:
        bad.v1.customers.list()
    assert raised.value.http_status == 401
    assert raised.value.json_body["error"]["type"] == "invalid_request_error"
    assert "Invalid API Key provided" in raised.value.json_body["error"]["message"]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"colour": "blue"}])
def test_bad_parameters_are_400_with_stripes_error_json(client, params):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.list(params)
    assert raised.value.http_status == 400
    assert raised.value.json_body["error"]["param"] == next(iter(params))


def test_truth_has_the_documented_shape(truth):
    assert set(truth) == {"as_of", "api_version", "tables", "mrr"}
    assert set(truth["tables"]) >= set(LISTED) | {"subscription_items", "invoice_line_items"}
    assert all(set(counts) == {"live", "deleted"} for counts in truth["tables"].values())
    assert truth["tables"]["customers"]["deleted"] > 0
    row_keys = {"month", "currency", "mrr_minor", "active_subscriptions", "active_customers"}
    assert truth["mrr"] and all(set(row) == row_keys for row in truth["mrr"])
    assert {"usd", "eur", "gbp", "jpy"} <= {row["currency"] for row in truth["mrr"]}


def test_same_seed_serves_the_same_bytes(sandbox):
    def snapshot(url: str) -> list[bytes]:
        headers = {"Authorization": f"Bearer {sandbox.api_key}"}
        paths = ["/v1/invoices?limit=100", "/v1/subscriptions?status=all&limit=100"]
        pages = [requests.get(url + path, headers=headers, timeout=30).content for path in paths]
        truth = requests.get(url + "/_sandbox/truth", timeout=30).json()
        return [*pages, json.dumps(truth, sort_keys=True).encode()]

    with running_sandbox(*SANDBOX_ARGS) as twin:
        assert snapshot(twin.url) == snapshot(sandbox.url)
