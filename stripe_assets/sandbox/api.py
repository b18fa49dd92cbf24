"""Stripe's REST semantics over the simulated business, independent of any HTTP server.

`SandboxApi.handle` takes a method, path, query parameters and API key and returns a status and a
JSON body, so the list, retrieve, pagination, filter and error rules can be read in one place.
"""

from __future__ import annotations

import bisect
import gc
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import objects, truth
from .records import Coupon
from .simulation import Business, Simulation

StripeObject = dict[str, Any]

COMMON_LIST_PARAMS = frozenset({"limit", "starting_after", "ending_before", "created", "expand"})


@dataclass(frozen=True)
class Endpoint:
    """A list endpoint: where its records live and which filters it accepts."""

    path: str
    records: Callable[[Business], list]
    object_name: str
    filters: dict[str, Callable[[Any], Any]]


def _id(record) -> str | None:
    return record.id if record is not None else None


ENDPOINTS = {
    endpoint.path: endpoint
    for endpoint in [
        Endpoint(
            "customers",
            lambda b: [c for c in b.customers if c.deleted_at is None],
            "customer",
            {"email": lambda r: r.email},
        ),
        Endpoint(
            "products",
            lambda b: [p for p in b.products if p.deleted_at is None],
            "product",
            {"active": lambda r: str(r.active).lower()},
        ),
        Endpoint(
            "prices",
            lambda b: b.prices,
            "price",
            {
                "product": lambda r: r.product.id,
                "active": lambda r: str(r.active).lower(),
                "currency": lambda r: r.currency,
                "type": lambda r: "recurring",
            },
        ),
        Endpoint("coupons", lambda b: [c for c in b.coupons if c.deleted_at is None], "coupon", {}),
        Endpoint(
            "subscriptions",
            lambda b: b.subscriptions,
            "subscription",
            {"status": lambda r: r.status, "customer": lambda r: r.customer.id},
        ),
        Endpoint(
            "subscription_items",
            lambda b: [i for i in b.subscription_items if i.deleted_at is None],
            "subscription_item",
            {"subscription": lambda r: r.subscription.id},
        ),
        Endpoint(
            "invoices",
            lambda b: b.invoices,
            "invoice",
            {
                "customer": lambda r: r.customer.id,
                "subscription": lambda r: _id(r.subscription),
                "status": lambda r: r.status,
            },
        ),
        Endpoint(
            "invoiceitems",
            lambda b: b.invoice_items,
            "invoiceitem",
            {
                "customer": lambda r: r.customer.id,
                "invoice": lambda r: _id(r.invoice),
                "pending": lambda r: str(r.invoice is None).lower(),
            },
        ),
        Endpoint(
            "credit_notes",
            lambda b: b.credit_notes,
            "credit_note",
            {"customer": lambda r: r.invoice.customer.id, "invoice": lambda r: r.invoice.id},
        ),
        Endpoint(
            "payment_intents",
            lambda b: b.payment_intents,
            "payment_intent",
            {"customer": lambda r: r.customer.id},
        ),
        Endpoint(
            "charges",
            lambda b: b.charges,
            "charge",
            {"customer": lambda r: r.customer.id, "payment_intent": lambda r: r.payment_intent.id},
        ),
        Endpoint(
            "refunds",
            lambda b: b.refunds,
            "refund",
            {
                "charge": lambda r: r.charge.id,
                "payment_intent": lambda r: r.charge.payment_intent.id,
            },
        ),
        Endpoint(
            "disputes",
            lambda b: b.disputes,
            "dispute",
            {
                "charge": lambda r: r.charge.id,
                "payment_intent": lambda r: r.charge.payment_intent.id,
            },
        ),
        Endpoint(
            "balance_transactions",
            lambda b: b.balance_transactions,
            "balance_transaction",
            {
                "type": lambda r: r.type,
                "source": lambda r: r.source_id,
                "currency": lambda r: r.currency,
            },
        ),
        Endpoint(
            "payouts",
            lambda b: b.payouts,
            "payout",
            {"status": lambda r: "paid", "currency": lambda r: r.currency},
        ),
        Endpoint("events", lambda b: b.events, "event", {"type": lambda r: r.type}),
    ]
}
# What API drift looks like, on products (listed in full on every sync): a field the pinned API
# version never had appears and an optional one is left out; or a field changes its type.
PRODUCT_DRIFTS: dict[str, Callable[[StripeObject], StripeObject]] = {
    "none": lambda product: product,
    "fields": lambda product: {
        **{k: v for k, v in product.items() if k != "description"},
        "tagline": f"{product['name']}, now with more",
    },
    "types": lambda product: {
        **product,
        "updated": datetime.fromtimestamp(product["updated"], UTC).isoformat(),
    },
}
# Stripe hides ended subscriptions unless asked for them with `status=all` or their status.
HIDDEN_SUBSCRIPTION_STATUSES = frozenset({"canceled", "incomplete_expired"})
REQUIRED_FILTERS = {"subscription_items": "subscription"}


class StripeError(Exception):
    """An error answered the way Stripe answers it: a status code and an `error` object."""

    def __init__(
        self, status: int, message: str, error_type: str = "invalid_request_error", **extra
    ):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"message": message, "type": error_type, **extra}}


@dataclass
class Query:
    """Stripe-style form parameters: `created[gte]=1`, `expand[]=x` and `expand[0]=x` all work."""

    pairs: list[tuple[str, str]]

    def names(self) -> set[str]:
        return {key.split("[", 1)[0] for key, _ in self.pairs}

    def get(self, name: str) -> str | None:
        return next((value for key, value in self.pairs if key == name), None)

    def sub_keys(self, name: str) -> dict[str, str]:
        prefix = name + "["
        return {
            key[len(prefix) : -1]: value
            for key, value in self.pairs
            if key.startswith(prefix) and key.endswith("]")
        }

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name or key.startswith(name + "[")]


class _Listing:
    """One endpoint's records newest first, with positions and creation times for slicing."""

    def __init__(self, records: list):
        self.records = list(reversed(records))  # records are kept in creation order
        self.position = {record.id: index for index, record in enumerate(self.records)}
        self.negated_created = [-record.created for record in self.records]


class _Window(Sequence):
    """`records[low:high]` without copying: a page touches only its own hundred records."""

    def __init__(self, records: list, low: int, high: int):
        self.records, self.low, self.high = records, low, max(low, high)

    def __len__(self) -> int:
        return self.high - self.low

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, _ = index.indices(len(self))
            return self.records[self.low + start : self.low + stop]
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self.records[self.low + index % len(self)]


class SandboxApi:
    def __init__(
        self, simulation: Simulation, api_keys: set[str], forbidden: frozenset[str] = frozenset()
    ):
        self.simulation = simulation
        self.api_keys = api_keys
        self.forbidden = forbidden  # list endpoints a restricted key may not read
        self.drift = "none"  # how products drift from their usual shape (`/_sandbox/drift`)
        self._advance_lock = threading.Lock()
        self._index()

    @property
    def business(self) -> Business:
        return self.simulation.business

    def _index(self) -> None:
        business = self.business
        listings = {path: _Listing(e.records(business)) for path, e in ENDPOINTS.items()}
        by_id: dict[str, Any] = {}
        for attribute in (
            "products",
            "prices",
            "coupons",
            "customers",
            "subscriptions",
            "subscription_items",
            "invoices",
            "invoice_items",
            "payment_intents",
            "charges",
            "refunds",
            "disputes",
            "balance_transactions",
            "credit_notes",
            "payouts",
            "events",
        ):
            by_id.update((record.id, record) for record in getattr(business, attribute))
        # discounts have no list endpoint; they are reached by expanding `discounts`
        by_id.update((d.id, d) for s in business.subscriptions for d in s.discounts)
        by_id.update((c.discount.id, c.discount) for c in business.customers if c.discount)
        # and a customer's removed discount by expanding the invoices it was on
        by_id.update((d.id, d) for i in business.invoices for d in i.discounts)
        self.listings, self.by_id = listings, by_id
        gc.freeze()  # the indexes live as long as the records: keep them out of GC scans

    def handle(
        self, method: str, path: str, query: Query, api_key: str | None, body: dict
    ) -> tuple[int, Any]:
        try:
            return 200, self._route(method, path, query, api_key, body)
        except StripeError as error:
            return error.status, error.body

    def _route(self, method: str, path: str, query: Query, api_key: str | None, body: dict) -> Any:
        if path == "/_sandbox/truth" and method == "GET":
            return truth.truth(self.business)
        if path == "/_sandbox/advance" and method == "POST":
            return self._advance(body)
        if path == "/_sandbox/drift" and method == "POST":
            return self._set_drift(body)
        self._authenticate(api_key)
        if path == "/v1/account" and method == "GET":
            if api_key.startswith("rk_"):
                raise _account_refused(api_key)
            return objects.account(self.simulation.start)
        parts = path.strip("/").split("/")
        if method != "GET" or len(parts) < 2 or parts[0] != "v1" or parts[1] not in ENDPOINTS:
            raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")
        endpoint = ENDPOINTS[parts[1]]
        if endpoint.path in self.forbidden:
            raise _permission_error(api_key, endpoint)
        if len(parts) == 2:
            return self._list(endpoint, query)
        if len(parts) == 3:
            return self._retrieve(endpoint, parts[2], query)
        if len(parts) == 4 and endpoint.path == "invoices" and parts[3] == "lines":
            invoice = self._find(endpoint, parts[2])
            _reject_unknown(query, COMMON_LIST_PARAMS - {"created"})
            lines = objects.invoice_lines(invoice)  # in invoice order, as Stripe lists them
            return self._paginate(lines, query, f"/v1/invoices/{invoice.id}/lines")
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")

    def _advance(self, body: dict) -> dict:
        days = body.get("days")
        if not isinstance(days, int) or days < 1:
            raise StripeError(400, "`days` must be a positive integer.", param="days")
        with self._advance_lock:
            before = truth.table_counts(self.business)
            self.simulation.advance(days)
            self._index()
            after = truth.table_counts(self.business)
        return {
            "as_of": truth.iso(self.business.as_of),
            "days": days,
            "before": before,
            "after": after,
        }

    def _set_drift(self, body: dict) -> dict:
        mode = body.get("mode")
        if mode not in PRODUCT_DRIFTS:
            raise StripeError(400, f"`mode` must be one of {sorted(PRODUCT_DRIFTS)}.", param="mode")
        self.drift = mode
        return {"mode": mode}

    def _render(self, record) -> StripeObject:
        """The object as the API shows it now, products drifted as `/_sandbox/drift` asked."""
        rendered = objects.render(record)
        if rendered.get("object") != "product" or rendered.get("deleted"):
            return rendered
        return PRODUCT_DRIFTS[self.drift](rendered)

    def _authenticate(self, api_key: str | None) -> None:
        if not api_key:
            raise StripeError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY').",
            )
        if api_key.startswith(("sk_live_", "rk_live_")):
            raise StripeError(
                401,
                "The sandbox refuses live-mode keys: use a test key (sk_test_... or rk_test_...).",
            )
        if api_key not in self.api_keys:
            raise StripeError(401, f"Invalid API Key provided: {_redact(api_key)}")

    def _find(self, endpoint: Endpoint, object_id: str):
        record = self.by_id.get(object_id)
        if record is None or objects.render_name(record) != endpoint.object_name:
            raise StripeError(
                404,
                f"No such {endpoint.object_name}: '{object_id}'",
                code="resource_missing",
                param="id",
            )
        return record

    def _retrieve(self, endpoint: Endpoint, object_id: str, query: Query) -> StripeObject:
        _reject_unknown(query, {"expand"})
        return self._expand(self._render(self._find(endpoint, object_id)), query.values("expand"))

    def _list(self, endpoint: Endpoint, query: Query) -> StripeObject:
        allowed = COMMON_LIST_PARAMS | set(endpoint.filters)
        if endpoint.path == "events":
            allowed |= {"types"}
        _reject_unknown(query, allowed)
        required = REQUIRED_FILTERS.get(endpoint.path)
        if required and not query.get(required):
            raise StripeError(400, f"Missing required param: {required}.", param=required)
        listing = self.listings[endpoint.path]
        low, high = _created_bounds(listing, query)
        records: Sequence = _Window(listing.records, low, high)  # no copy of a long list
        filtered = False
        for name, value_of in endpoint.filters.items():
            wanted = query.get(name)
            if name == "status" and endpoint.path == "subscriptions":
                if wanted != "all":
                    records, filtered = _filter_subscription_status(records, wanted), True
            elif wanted is not None:
                records, filtered = [r for r in records if value_of(r) == wanted], True
        types = query.values("types")
        if types:
            records, filtered = [r for r in records if r.type in types], True

        def locate(object_id: str) -> int | None:
            index = listing.position.get(object_id)
            return index - low if index is not None and low <= index < high else None

        return self._paginate(
            records, query, f"/v1/{endpoint.path}", render=True, locate=None if filtered else locate
        )

    def _paginate(
        self,
        items: Sequence,
        query: Query,
        url: str,
        render: bool = False,
        locate: Callable[[str], int | None] | None = None,
    ) -> StripeObject:
        """One page of `items`; `locate` finds a cursor's index without scanning the list."""
        limit = _limit(query.get("limit"))
        starting_after, ending_before = query.get("starting_after"), query.get("ending_before")
        if starting_after:
            start = _position(items, starting_after, "starting_after", locate) + 1
            page, has_more = items[start : start + limit], start + limit < len(items)
        elif ending_before:
            end = _position(items, ending_before, "ending_before", locate)
            page, has_more = items[max(0, end - limit) : end], end - limit > 0
        else:
            page, has_more = items[:limit], limit < len(items)
        requested = query.values("expand")
        if any(not path.startswith("data.") for path in requested):
            raise StripeError(400, "Expansions on lists must start with `data.`", param="expand")
        expand = [path.removeprefix("data.") for path in requested]
        rendered = [self._render(item) for item in page] if render else page
        return objects.list_object([self._expand(obj, expand) for obj in rendered], has_more, url)

    def _expand(self, obj: StripeObject, paths: list[str]) -> StripeObject:
        for path in paths:
            obj = self._expand_path(obj, path.split("."), path)
        return obj

    def _expand_path(self, obj: StripeObject, fields: list[str], path: str) -> StripeObject:
        head, rest = fields[0], fields[1:]
        if isinstance(obj, dict) and obj.get("object") == "price" and fields == ["tiers"]:
            # includable rather than expandable: present only when asked for
            return {**obj, "tiers": objects.price_tiers(self.by_id[obj["id"]])}
        value = obj.get(head) if isinstance(obj, dict) else None
        if isinstance(obj, dict) and (obj.get("deleted") or (value is None and head in obj)):
            return obj  # an empty field (a customer with no discount) stays empty
        if isinstance(value, list):  # a list of ids (`discounts`) expands element by element
            return {**obj, head: [self._expanded(element, rest, path) for element in value]}
        return {**obj, head: self._expanded(value, rest, path)}

    def _expanded(self, value: Any, rest: list[str], path: str) -> StripeObject:
        if isinstance(value, str) and value in self.by_id:
            record = self.by_id[value]
            # a discount's coupon expands in full even once deleted (and no longer `valid`)
            is_coupon = isinstance(record, Coupon)
            value = objects.coupon_body(record) if is_coupon else self._render(record)
        if not isinstance(value, dict):
            raise StripeError(400, f"This property cannot be expanded ({path}).", param="expand")
        return self._expand_path(value, rest, path) if rest else value


def _created_bounds(listing: _Listing, query: Query) -> tuple[int, int]:
    """Index range of records within the `created` bounds, by binary search (newest first)."""
    bounds = query.sub_keys("created")
    if query.get("created") is not None:
        bounds = {**bounds, "eq": query.get("created")}
    low, high = 0, len(listing.records)
    for comparison, raw in bounds.items():
        try:
            bound = int(raw)
        except ValueError:
            raise StripeError(
                400, f"Invalid integer: {raw}", param=f"created[{comparison}]"
            ) from None
        keys = listing.negated_created
        if comparison in ("gt", "gte", "eq"):  # newer records come first: cut the tail
            side = bisect.bisect_left if comparison == "gt" else bisect.bisect_right
            high = min(high, side(keys, -bound))
        if comparison in ("lt", "lte", "eq"):  # cut the head
            side = bisect.bisect_right if comparison == "lt" else bisect.bisect_left
            low = max(low, side(keys, -bound))
        if comparison not in ("gt", "gte", "lt", "lte", "eq"):
            raise StripeError(
                400, f"Received unknown parameter: created[{comparison}]", param="created"
            )
    return low, high


def _filter_subscription_status(records: list, status: str | None) -> list:
    if status is not None:
        return [r for r in records if r.status == status]
    return [r for r in records if r.status not in HIDDEN_SUBSCRIPTION_STATUSES]


def _reject_unknown(query: Query, allowed: set[str] | frozenset[str]) -> None:
    unknown = sorted(query.names() - set(allowed))
    if unknown:
        raise StripeError(400, f"Received unknown parameter: {unknown[0]}", param=unknown[0])


def _limit(raw: str | None) -> int:
    if raw is None:
        return 10
    try:
        limit = int(raw)
    except ValueError:
        raise StripeError(400, f"Invalid integer: {raw}", param="limit") from None
    if not 1 <= limit <= 100:
        raise StripeError(
            400,
            "This value must be greater than or equal to 1 and less than or equal to 100.",
            param="limit",
        )
    return limit


def _position(
    items: Sequence, object_id: str, param: str, locate: Callable[[str], int | None] | None
) -> int:
    if locate is not None:
        index = locate(object_id)
        if index is not None:
            return index
    else:
        for index, item in enumerate(items):
            if (item["id"] if isinstance(item, dict) else item.id) == object_id:
                return index
    raise StripeError(400, f"No such object: '{object_id}'", param=param, code="resource_missing")


def _permission_error(api_key: str, endpoint: Endpoint) -> StripeError:
    """What Stripe answers a restricted key that lacks a resource's read permission."""
    return StripeError(
        403,
        f"The provided key '{_redact(api_key)}' does not have the required permissions for this "
        "endpoint on account 'acct_sandbox'. Having the "
        f"'rak_{endpoint.object_name}_read' permission would allow this request to continue.",
    )


def _account_refused(api_key: str) -> StripeError:
    """What Stripe answers a restricted key asking for the account: no permission allows it."""
    return StripeError(
        403,
        f"The provided key '{_redact(api_key)}' does not have the required permissions for this "
        "endpoint on account 'acct_sandbox'. This is a restricted API key, but the required "
        "permissions are not available for use by restricted keys.",
    )


def _redact(api_key: str) -> str:
    """Stripe's style (`sk_test_****abcd`), showing the last four only of a long enough key."""
    prefix, secret = api_key[:8], api_key[8:]
    tail = secret[-4:] if len(secret) > 12 else ""
    return prefix + "*" * (len(secret) - len(tail)) + tail
