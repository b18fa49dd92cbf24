"""The sandbox over real HTTP, through the official `stripe` package and plain requests."""

import json
from collections import Counter, defaultdict
from datetime import UTC, datetime

import pytest
import requests
import stripe

from stripe_assets.defs.stripe.client import STRIPE_API_VERSION
from stripe_assets.sandbox.process import RunningSandbox, running_sandbox
from stripe_assets.settings import PROJECT_ROOT

from .stripe_shapes import class_of, object_differences

# Its dates are fixed: a business ending today differs from day to day, and on some days lacks
# a case the tests look for (a customer deleted in the events' last 30 days).
FULL_SANDBOX_ARGS = ("--customers", "400", "--seed", "5", "--end", "2026-12-07")
FIXTURES = json.loads((PROJECT_ROOT / "tests/data/stripe_fixtures3_subset.json").read_text())
DAY = 86_400

# table -> (stripe client service, list params, fixture object name)
RESOURCES = {
    "customers": ("customers", {}, "customer"),
    "products": ("products", {}, "product"),
    "prices": ("prices", {}, "price"),
    "coupons": ("coupons", {}, "coupon"),
    "subscriptions": ("subscriptions", {"status": "all"}, "subscription"),
    "invoices": ("invoices", {}, "invoice"),
    "invoice_items": ("invoice_items", {}, "invoiceitem"),
    "credit_notes": ("credit_notes", {}, "credit_note"),
    "payment_intents": ("payment_intents", {}, "payment_intent"),
    "charges": ("charges", {}, "charge"),
    "refunds": ("refunds", {}, "refund"),
    "disputes": ("disputes", {}, "dispute"),
    "balance_transactions": ("balance_transactions", {}, "balance_transaction"),
    "payouts": ("payouts", {}, "payout"),
    "events": ("events", {}, "event"),
}


@pytest.fixture(scope="module")
def full_sandbox() -> RunningSandbox:
    with running_sandbox(*FULL_SANDBOX_ARGS) as running:
        yield running


@pytest.fixture(scope="module")
def full_truth(full_sandbox) -> dict:
    return requests.get(f"{full_sandbox.url}/_sandbox/truth", timeout=60).json()


@pytest.fixture(scope="module")
def client(full_sandbox: RunningSandbox) -> stripe.StripeClient:
    return stripe.StripeClient(full_sandbox.api_key, base_addresses={"api": full_sandbox.url})


@pytest.fixture(scope="module")
def listed(client) -> dict[str, list]:
    """Every resource, listed to its end through the official client's auto-pagination."""
    return {
        table: list_all(client, service, **params)
        for table, (service, params, _) in RESOURCES.items()
    }


def list_all(client: stripe.StripeClient, service: str, **params) -> list:
    return list(getattr(client.v1, service).list({"limit": 100, **params}).auto_paging_iter())


@pytest.mark.parametrize("table", sorted(RESOURCES))
def test_auto_pagination_lists_exactly_truth(listed, full_truth, table):
    ids = [obj.id for obj in listed[table]]
    assert len(ids) == len(set(ids)) == full_truth["tables"][table]["live"]
    created = [_created(obj.to_dict()) for obj in listed[table]]
    assert created == sorted(created, reverse=True), "lists are newest first"


def _created(obj: dict) -> int:
    return obj["created"] if "created" in obj else obj["date"]  # invoice items have a date


def test_embedded_lists_complete_through_their_endpoints(client, listed, full_truth):
    items = {
        item.id
        for subscription in listed["subscriptions"]
        for item in list_all(client, "subscription_items", subscription=subscription.id)
    }
    assert len(items) == full_truth["tables"]["subscription_items"]["live"]
    long_invoices = [i for i in listed["invoices"] if i.lines.has_more]
    assert long_invoices, "some invoices have more lines than Stripe embeds"
    lines = 0
    for invoice in listed["invoices"]:
        fetched = list(client.v1.invoices.line_items.list(invoice.id).auto_paging_iter())
        assert [line.id for line in fetched[:10]] == [line.id for line in invoice.lines.data]
        lines += len(fetched)
    assert lines == full_truth["tables"]["invoice_line_items"]["live"]


def test_small_pages_walk_the_same_objects(client, listed):
    paged = [c.id for c in client.v1.customers.list({"limit": 7}).auto_paging_iter()]
    assert paged == [c.id for c in listed["customers"]]


def test_created_filters_return_exact_slices(client, listed):
    invoices = listed["invoices"]
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
    window = list_all(client, "invoices", created={"gt": middle - 30 * DAY, "lte": middle})
    assert {i.id for i in window} == {
        i.id for i in invoices if middle - 30 * DAY < i.created <= middle
    }


def test_starting_after_and_ending_before_are_exact(client, listed):
    ids = [c.id for c in listed["customers"]]
    after = client.v1.customers.list({"limit": 5, "starting_after": ids[10]})
    assert [c.id for c in after.data] == ids[11:16] and after.has_more
    before = client.v1.customers.list({"limit": 5, "ending_before": ids[10]})
    assert [c.id for c in before.data] == ids[5:10] and before.has_more
    first = client.v1.customers.list({"limit": 5, "ending_before": ids[3]})
    assert [c.id for c in first.data] == ids[0:3] and not first.has_more


def test_filters_and_expand(client, listed):
    customer = listed["subscriptions"][0].customer
    mine = list_all(client, "invoices", customer=customer)
    assert mine and all(invoice.customer == customer for invoice in mine)
    assert {s.status for s in list_all(client, "subscriptions")} <= {
        "active",
        "past_due",
        "trialing",
        "unpaid",
        "paused",
        "incomplete",
    }, "canceled subscriptions are listed only with status=all"
    invoice = client.v1.invoices.list({"limit": 1, "expand": ["data.customer"]}).data[0]
    assert invoice.customer.object == "customer"
    charge = client.v1.charges.retrieve(listed["charges"][0].id, {"expand": ["payment_intent"]})
    assert charge.payment_intent.object == "payment_intent"


def test_events_filter_by_type_and_stay_within_retention(client, listed, full_truth):
    as_of = int(datetime.fromisoformat(full_truth["as_of"]).timestamp())
    assert min(e.created for e in listed["events"]) >= as_of - 30 * DAY
    created = list_all(client, "events", type="customer.created")
    assert created and all(e.type == "customer.created" for e in created)
    some = list_all(client, "events", types=["invoice.paid", "charge.refunded"])
    assert {e.type for e in some} <= {"invoice.paid", "charge.refunded"}
    updated = next(e for e in listed["events"] if e.type == "customer.subscription.updated")
    assert updated.data.object.object == "subscription" and updated.data.previous_attributes


def _served(sandbox: RunningSandbox, path: str, **params) -> dict:
    headers = {"Authorization": f"Bearer {sandbox.api_key}"}
    response = requests.get(f"{sandbox.url}{path}", params=params, headers=headers, timeout=30)
    response.raise_for_status()
    return response.json()


def _everything_served(sandbox: RunningSandbox, listed: dict[str, list]) -> list[tuple[str, dict]]:
    """Every shape the pipeline reads: each list's objects, each event's payload, a retrieve of
    each kind (deleted ones included), the embedded lists' own endpoints, expansions, the
    account."""
    served = []
    for table, objects in listed.items():
        served += [(table, obj.to_dict()) for obj in objects]
        endpoint = "invoiceitems" if table == "invoice_items" else table
        served.append(
            (f"GET /v1/{endpoint}/id", _served(sandbox, f"/v1/{endpoint}/{objects[0].id}"))
        )
    served += [("event payload", e["data"]["object"]) for _, e in served if e["object"] == "event"]
    deleted = {i.customer for i in listed["invoices"]} - {c.id for c in listed["customers"]}
    served.append(("deleted customer", _served(sandbox, f"/v1/customers/{min(deleted)}")))
    invoice = next(i for i in listed["invoices"] if i.lines.has_more)
    served.append(("invoice lines", _served(sandbox, f"/v1/invoices/{invoice.id}/lines")))
    subscription = listed["subscriptions"][0].id
    served.append(("items", _served(sandbox, "/v1/subscription_items", subscription=subscription)))
    coupons = {"expand[]": "data.discounts.source.coupon"}
    expanded = _served(sandbox, "/v1/subscriptions", status="all", **coupons)
    served.append(("expanded discounts", expanded))
    coupon = {"expand[]": "data.discount.source.coupon"}
    served.append(("customers' discounts", _served(sandbox, "/v1/customers", **coupon)))
    served.append(("invoices' discounts", _served(sandbox, "/v1/invoices", **coupons)))
    served.append(
        ("prices with tiers", _served(sandbox, "/v1/prices", **{"expand[]": "data.tiers"}))
    )
    served.append(("account", _served(sandbox, "/v1/account")))
    return served


def test_every_served_shape_is_the_pinned_api_versions(full_sandbox, listed):
    """Stripe's definition, not ours: every field served is one the official `stripe` package
    declares for our pinned API version, in nested objects too, and every field it declares
    that Stripe's published example carries is served (tests/stripe_shapes.py)."""
    assert stripe.api_version == STRIPE_API_VERSION, "the package is generated for our version"
    found = Counter()
    for where, served in _everything_served(full_sandbox, listed):
        if served["object"] == "list":
            assert set(served) == {"object", "data", "has_more", "url"}, where
        for obj in served["data"] if served["object"] == "list" else [served]:
            name = obj["object"]
            example = FIXTURES["resources"].get(name)
            differences = object_differences(obj, class_of(name), example, name)
            found.update(f"{where}: {difference}" for difference in differences)
    assert not found, "\n".join(f"{n} × {difference}" for difference, n in found.items())


def test_bad_key_is_401_and_live_keys_are_refused(full_sandbox):
    for key in ("sk_test_not_the_key", "sk_live_0123456789abcdef", "rk_live_0123456789abcdef"):
        bad = stripe.StripeClient(key, base_addresses={"api": full_sandbox.url})
        with pytest.raises(stripe.AuthenticationError) as raised:
            bad.v1.customers.list()
        assert raised.value.http_status == 401
        assert raised.value.json_body["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"colour": "blue"}])
def test_bad_parameters_are_400_with_stripes_error_json(client, params):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.list(params)
    assert raised.value.http_status == 400
    assert raised.value.json_body["error"]["param"] == next(iter(params))


def test_over_the_rate_limit_is_429_with_stripes_error_json():
    with running_sandbox("--customers", "20", "--rate-limit", "3") as limited:
        client = stripe.StripeClient(
            limited.api_key, base_addresses={"api": limited.url}, max_network_retries=0
        )
        with pytest.raises(stripe.RateLimitError) as raised:
            for _ in range(20):
                client.v1.customers.list({"limit": 1})
        assert raised.value.http_status == 429
        assert raised.value.json_body["error"]["code"] == "rate_limit"
        stats = requests.get(f"{limited.url}/_sandbox/stats", timeout=10).json()
        limited = {"method": "GET", "endpoint": "/v1/customers", "status": 429, "count": 1}
        assert limited in stats["requests"]


def test_fault_rate_answers_500s_and_drops_connections():
    with running_sandbox("--customers", "20", "--fault-rate", "0.3", "--seed", "3") as faulty:
        headers = {"Authorization": f"Bearer {faulty.api_key}"}
        outcomes = []
        for _ in range(60):
            try:
                answer = requests.get(f"{faulty.url}/v1/products", headers=headers, timeout=10)
                outcomes.append(answer.status_code)
            except requests.ConnectionError:
                outcomes.append("dropped")
        assert 500 in outcomes and "dropped" in outcomes and 200 in outcomes
        assert 8 <= sum(o != 200 for o in outcomes) <= 30


def test_truth_has_the_documented_shape(full_truth):
    assert set(full_truth) == {"as_of", "api_version", "tables", "mrr", "mrr_movements"}
    assert set(full_truth["tables"]) == set(RESOURCES) | {
        "subscription_items",
        "invoice_line_items",
    }
    assert all(set(counts) == {"live", "deleted"} for counts in full_truth["tables"].values())
    row_keys = {"month", "currency", "mrr_minor", "active_subscriptions", "active_customers"}
    assert full_truth["mrr"] and all(set(row) == row_keys for row in full_truth["mrr"])
    bridge_keys = {"month", "currency", "starting_mrr_minor", "new_mrr_minor", "ending_mrr_minor"}
    assert all(bridge_keys <= set(row) for row in full_truth["mrr_movements"])


def test_the_business_contains_every_case(listed, full_truth):
    invoices, subscriptions = listed["invoices"], listed["subscriptions"]
    assert {"usd", "eur", "gbp", "jpy"} <= {row["currency"] for row in full_truth["mrr"]}
    assert any(i.lines.has_more for i in invoices), "an invoice with more than 10 lines"
    assert any(s["items"].has_more for s in subscriptions), "a subscription with >10 items"
    assert {c.duration for c in listed["coupons"]} == {"forever", "once", "repeating"}
    assert {"past_due", "trialing", "canceled", "active"} <= {s.status for s in subscriptions}
    assert any(s.trial_end for s in subscriptions), "trials"
    assert any(s.discounts for s in subscriptions), "discounted subscriptions"
    assert any(len(s.discounts) > 1 for s in subscriptions), "stacked discounts"
    assert any(c.discount for c in listed["customers"]), "a customer's own discount"
    assert _unprorated_switches(listed), "a plan switched with proration_behavior=none"
    assert _customers_in_two_currencies(subscriptions), "a customer who moved currency"
    assert _replaced_within_the_month(subscriptions), "a cancel and resubscribe in one month"
    assert any(i.proration for i in listed["invoice_items"]), "prorations"
    assert any(not i.proration for i in listed["invoice_items"]), "one-off invoice items"
    assert any(p.recurring.usage_type == "metered" for p in listed["prices"]), "metered price"
    assert any(p.unit_amount == 0 for p in listed["prices"]), "free plan"
    assert {"graduated", "volume"} <= {p.tiers_mode for p in listed["prices"]}, "tiered prices"
    assert any(p.transform_quantity for p in listed["prices"]), "a package price"
    seat_setups = {
        item.price.tiers_mode or bool(item.price.transform_quantity)
        for s in subscriptions
        for item in s["items"].data
    }
    assert {"graduated", "volume", True} <= seat_setups, "subscriptions on each seat setup"
    free = {p.id for p in listed["prices"] if p.unit_amount == 0}
    assert any(
        i.proration and i.amount == 0 and i.pricing.price_details.price in free
        for i in listed["invoice_items"]
    ), "an upgrade from a free price"
    assert any(
        b.type == "stripe_fee" and b.reporting_category == "fee"
        for b in listed["balance_transactions"]
    )
    assert any(not p.active for p in listed["prices"]), "archived prices"
    assert any(s["items"].data[0].quantity > 1 for s in subscriptions), "seats"
    assert any(s.cancel_at_period_end for s in subscriptions), "cancel at period end"
    assert any(s.status == "canceled" and not s.cancel_at_period_end for s in subscriptions)
    assert any(c.status == "failed" for c in listed["charges"]), "failed payments"
    assert {r.amount == c_amount for r, c_amount in _refunds_with_charge(listed)} == {True, False}
    assert {"won", "lost"} <= {d.status for d in listed["disputes"]}
    assert any(b.fee > 0 for b in listed["balance_transactions"])
    for table in ("customers", "products", "coupons"):
        assert full_truth["tables"][table]["deleted"] > 0, f"deleted {table}"
    assert {"customer.updated", "customer.deleted", "price.updated", "coupon.deleted"} <= {
        e.type for e in listed["events"]
    } | _older_event_types()


def _customers_in_two_currencies(subscriptions) -> set[str]:
    currencies = defaultdict(set)
    for subscription in subscriptions:
        currencies[subscription.customer].add(subscription.currency)
    return {customer for customer, seen in currencies.items() if len(seen) > 1}


def _replaced_within_the_month(subscriptions) -> list[str]:
    """Subscriptions created in the month their customer's previous one, in the same
    currency, ended."""
    ended = defaultdict(list)
    for subscription in subscriptions:
        if subscription.ended_at:
            ended[(subscription.customer, subscription.currency)].append(subscription.ended_at)
    return [
        subscription.id
        for subscription in subscriptions
        if any(
            at <= subscription.created and _month(at) == _month(subscription.created)
            for at in ended[(subscription.customer, subscription.currency)]
        )
    ]


def _month(instant: int) -> str:
    return datetime.fromtimestamp(instant, UTC).strftime("%Y-%m")


def _refunds_with_charge(listed) -> list[tuple]:
    amounts = {c.id: c.amount for c in listed["charges"]}
    return [(refund, amounts[refund.charge]) for refund in listed["refunds"]]


# Fixed-date businesses: which changes fall in the full business's last 30 days (Stripe keeps
# events that long) depends on today's date, theirs do not. The first one's whole history is in
# the window, so it shows the catalog changes made early on; the second deletes customers in its
# last 30 days (a customer is deleted up to 90 days after its last subscription ends).
OLDER_EVENT_BUSINESSES = [
    ("--customers", "60", "--start", "2026-01-01", "--end", "2026-01-25"),
    ("--customers", "150", "--start", "2025-01-01", "--end", "2026-01-25"),
]


def _older_event_types() -> set[str]:
    types = set()
    for business in OLDER_EVENT_BUSINESSES:
        with running_sandbox(*business) as fixed:
            client = stripe.StripeClient(fixed.api_key, base_addresses={"api": fixed.url})
            types |= {e.type for e in list_all(client, "events")}
    return types


def test_unpaid_and_paused_happen_in_the_history():
    """Statuses that come and go: look for them in the simulation's own records."""
    from datetime import date

    from stripe_assets.sandbox.simulation import BusinessPlan, Simulation

    business = Simulation(BusinessPlan(2000, date(2023, 1, 1), date(2026, 1, 1), 1)).business
    statuses = {point.status for s in business.subscriptions for point in s.history}
    assert {"unpaid", "paused", "past_due", "incomplete_expired"} <= statuses


def test_advance_changes_exactly_what_truth_says():
    with running_sandbox("--customers", "200", "--seed", "9") as living:
        client = stripe.StripeClient(living.api_key, base_addresses={"api": living.url})
        before = requests.get(f"{living.url}/_sandbox/truth", timeout=30).json()
        customers_before = {c.id for c in list_all(client, "customers")}
        answer = requests.post(f"{living.url}/_sandbox/advance", json={"days": 10}, timeout=120)
        assert answer.status_code == 200
        after = requests.get(f"{living.url}/_sandbox/truth", timeout=30).json()
        assert answer.json()["after"] == after["tables"]
        old_as_of = int(datetime.fromisoformat(before["as_of"]).timestamp())
        assert datetime.fromisoformat(after["as_of"]) == datetime.fromtimestamp(
            old_as_of + 10 * DAY, tz=UTC
        )
        for table, (service, params, _) in RESOURCES.items():
            assert len(list_all(client, service, **params)) == after["tables"][table]["live"], table
        customers_after = {c.id for c in list_all(client, "customers")}
        created_events = list_all(
            client, "events", type="customer.created", created={"gt": old_as_of}
        )
        deleted_events = list_all(
            client, "events", type="customer.deleted", created={"gt": old_as_of}
        )
        assert customers_after == (
            customers_before | {e.data.object.id for e in created_events}
        ) - {e.data.object.id for e in deleted_events}
        assert after["mrr"][: len(before["mrr"]) - 4] == before["mrr"][: len(before["mrr"]) - 4]


def test_same_seed_serves_the_same_bytes(full_sandbox):
    def snapshot(url: str) -> list[bytes]:
        headers = {"Authorization": f"Bearer {full_sandbox.api_key}"}
        paths = [
            "/v1/invoices?limit=100",
            "/v1/events?limit=100",
            "/v1/subscriptions?status=all&limit=100",
        ]
        pages = [requests.get(url + path, headers=headers, timeout=30).content for path in paths]
        truth = requests.get(url + "/_sandbox/truth", timeout=30).json()
        return [*pages, json.dumps(truth, sort_keys=True).encode()]

    with running_sandbox(*FULL_SANDBOX_ARGS) as twin:
        assert snapshot(twin.url) == snapshot(full_sandbox.url)


LIST_PATHS = {
    "customer": "customers",
    "product": "products",
    "price": "prices",
    "coupon": "coupons",
    "subscription": "subscriptions",
    "invoice": "invoices",
    "invoiceitem": "invoiceitems",
    "credit_note": "credit_notes",
    "payment_intent": "payment_intents",
    "charge": "charges",
    "refund": "refunds",
    "dispute": "disputes",
    "payout": "payouts",
}


def test_the_latest_event_about_an_object_carries_it_as_the_api_returns_it(full_sandbox):
    """What lets a consumer apply events instead of re-fetching every changed object."""
    headers = {"Authorization": f"Bearer {full_sandbox.api_key}"}
    latest: dict[str, dict] = {}
    url = f"{full_sandbox.url}/v1/events?limit=100"
    page = requests.get(url, headers=headers, timeout=30).json()
    while True:
        for event in page["data"]:  # newest first: the first event seen per object is its latest
            latest.setdefault(event["data"]["object"]["id"], event)
        if not page["has_more"]:
            break
        last = page["data"][-1]["id"]
        page = requests.get(f"{url}&starting_after={last}", headers=headers, timeout=30).json()
    compared = 0
    for object_id, event in latest.items():
        obj = event["data"]["object"]
        if event["type"].endswith(".deleted") and event["type"] != "customer.subscription.deleted":
            continue  # deleted objects retrieve as Stripe's stub
        path = LIST_PATHS[obj["object"]]
        current = requests.get(
            f"{full_sandbox.url}/v1/{path}/{object_id}", headers=headers, timeout=30
        )
        assert current.json() == obj, (event["type"], object_id)
        compared += 1
    assert compared > 100


def _unprorated_switches(listed) -> set[str]:
    """Items billed at another price than in their previous period, with no proration."""
    prorated = {
        ii.parent.subscription_details.subscription_item
        for ii in listed["invoice_items"]
        if ii.proration and ii.parent.subscription_details
    }
    billed: dict[str, list[tuple[int, str]]] = {}
    for invoice in listed["invoices"]:
        for line in invoice.lines.data:
            details = line.parent.subscription_item_details
            if details and not details.proration:
                price = line.pricing.price_details.price
                billed.setdefault(details.subscription_item, []).append((line.period.start, price))
    return {
        item
        for item, periods in billed.items()
        if item not in prorated and len({price for _, price in periods}) > 1
    }
