"""Stripe's REST semantics over the rendered business, independent of any HTTP server.

`SandboxApi.handle` takes a method, path, query parameters and API key and returns a status and a
JSON body, so the list, retrieve, pagination and error rules can be read in one place.
"""

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import objects, truth
from .simulation import Business

StripeObject = dict[str, Any]

COMMON_LIST_PARAMS = frozenset({"limit", "starting_after", "ending_before", "created", "expand"})
LIST_FILTERS = {
    "customers": {"email"},
    "products": {"active"},
    "prices": {"product", "active", "currency", "type"},
    "subscriptions": {"status", "customer", "price"},
    "subscription_items": {"subscription"},
    "invoices": {"customer", "subscription", "status"},
    "charges": {"customer", "payment_intent"},
}
OBJECT_NAMES = {
    "customers": "customer",
    "products": "product",
    "prices": "price",
    "subscriptions": "subscription",
    "subscription_items": "subscription_item",
    "invoices": "invoice",
    "charges": "charge",
}
# Stripe hides ended subscriptions unless asked for them with `status=all` or their status.
HIDDEN_SUBSCRIPTION_STATUSES = frozenset({"canceled", "incomplete_expired"})


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


class SandboxApi:
    def __init__(self, business: Business, api_keys: set[str]):
        self.business = business
        self.api_keys = api_keys
        rendered = objects.render_all(business)
        rendered["subscription_items"] = [
            objects.subscription_item(item, sub)
            for sub in business.subscriptions
            for item in sub.items
        ]
        self.lines_by_invoice = {
            invoice.id: [objects.invoice_line(line, invoice) for line in invoice.lines]
            for invoice in business.invoices
        }
        # Lists are newest first; among equal timestamps the later-created object comes first.
        self.lists = {
            name: list(reversed(_stable_by_created(items))) for name, items in rendered.items()
        }
        self.by_id: dict[str, StripeObject] = {
            obj["id"]: obj for items in self.lists.values() for obj in items
        }
        for customer in business.customers:
            if customer.deleted_at is not None:
                self.by_id[customer.id] = objects.deleted_customer(customer)

    def handle(self, method: str, path: str, query: Query, api_key: str | None) -> tuple[int, Any]:
        try:
            return 200, self._route(method, path, query, api_key)
        except StripeError as error:
            return error.status, error.body

    def _route(self, method: str, path: str, query: Query, api_key: str | None) -> Any:
        if path == "/_sandbox/truth" and method == "GET":
            return truth.truth(self.business)
        self._authenticate(api_key)
        parts = path.strip("/").split("/")
        if method != "GET" or len(parts) < 2 or parts[0] != "v1":
            raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")
        resource = parts[1]
        if resource not in self.lists:
            raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")
        if len(parts) == 2:
            return self._list(resource, query)
        if len(parts) == 3:
            return self._retrieve(resource, parts[2], query)
        if len(parts) == 4 and resource == "invoices" and parts[3] == "lines":
            self._retrieve(resource, parts[2], Query([]))
            _reject_unknown(query, COMMON_LIST_PARAMS - {"created"})
            lines = self.lines_by_invoice[parts[2]]  # in invoice order, as Stripe lists them
            return self._paginate(lines, query, f"/v1/invoices/{parts[2]}/lines")
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")

    def _authenticate(self, api_key: str | None) -> None:
        if not api_key:
            raise StripeError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY').",
            )
        if api_key not in self.api_keys:
            raise StripeError(401, f"Invalid API Key provided: {_redact(api_key)}")

    def _retrieve(self, resource: str, object_id: str, query: Query) -> StripeObject:
        _reject_unknown(query, {"expand"})
        obj = self.by_id.get(object_id)
        if obj is None or OBJECT_NAMES[resource] != obj["object"]:
            raise StripeError(
                404,
                f"No such {OBJECT_NAMES[resource]}: '{object_id}'",
                code="resource_missing",
                param="id",
            )
        return self._expand(obj, query.values("expand"))

    def _list(self, resource: str, query: Query) -> StripeObject:
        _reject_unknown(query, COMMON_LIST_PARAMS | LIST_FILTERS[resource])
        items = self.lists[resource]
        if resource == "subscription_items" and not query.get("subscription"):
            raise StripeError(400, "Missing required param: subscription.", param="subscription")
        for name in LIST_FILTERS[resource] - {"status"}:
            wanted = query.get(name)
            if wanted is not None:
                items = [obj for obj in items if _filter_value(obj, name) == wanted]
        if resource in ("subscriptions", "invoices"):
            items = _filter_status(resource, items, query.get("status"))
        items = _filter_created(items, query)
        return self._paginate(items, query, f"/v1/{resource}")

    def _paginate(self, items: list[StripeObject], query: Query, url: str) -> StripeObject:
        limit = _limit(query.get("limit"))
        starting_after, ending_before = query.get("starting_after"), query.get("ending_before")
        if starting_after:
            start = _position(items, starting_after, "starting_after") + 1
            page, has_more = items[start : start + limit], start + limit < len(items)
        elif ending_before:
            end = _position(items, ending_before, "ending_before")
            page, has_more = items[max(0, end - limit) : end], end - limit > 0
        else:
            page, has_more = items[:limit], limit < len(items)
        requested = query.values("expand")
        if any(not path.startswith("data.") for path in requested):
            raise StripeError(400, "Expansions on lists must start with `data.`", param="expand")
        expand = [path.removeprefix("data.") for path in requested]
        return objects.list_object([self._expand(obj, expand) for obj in page], has_more, url)

    def _expand(self, obj: StripeObject, paths: list[str]) -> StripeObject:
        for path in paths:
            obj = self._expand_path(obj, path.split("."), path)
        return obj

    def _expand_path(self, obj: StripeObject, fields: list[str], path: str) -> StripeObject:
        head, rest = fields[0], fields[1:]
        value = obj.get(head) if isinstance(obj, dict) else None
        if isinstance(value, str):
            value = self.by_id.get(value)
        if not isinstance(value, dict):
            raise StripeError(400, f"This property cannot be expanded ({path}).", param="expand")
        return {**obj, head: self._expand_path(value, rest, path) if rest else value}


def _stable_by_created(items: list[StripeObject]) -> list[StripeObject]:
    return sorted(items, key=lambda obj: obj["created"])


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


def _position(items: list[StripeObject], object_id: str, param: str) -> int:
    for index, obj in enumerate(items):
        if obj["id"] == object_id:
            return index
    raise StripeError(400, f"No such object: '{object_id}'", param=param, code="resource_missing")


def _filter_value(obj: StripeObject, name: str) -> str:
    value = obj.get(name)
    if name == "price":
        return next((i["price"]["id"] for i in obj["items"]["data"]), "")
    if isinstance(value, bool):
        return str(value).lower()
    return value


def _filter_status(
    resource: str, items: list[StripeObject], status: str | None
) -> list[StripeObject]:
    if status == "all":
        return items
    if status is not None:
        return [obj for obj in items if obj["status"] == status]
    if resource == "subscriptions":
        return [obj for obj in items if obj["status"] not in HIDDEN_SUBSCRIPTION_STATUSES]
    return items


_CREATED_COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    "eq": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def _filter_created(items: list[StripeObject], query: Query) -> list[StripeObject]:
    bounds = query.sub_keys("created")
    exact = query.get("created")
    if exact is not None:
        bounds = {**bounds, "eq": exact}
    for comparison, raw in bounds.items():
        compare = _CREATED_COMPARISONS.get(comparison)
        if compare is None:
            raise StripeError(
                400, f"Received unknown parameter: created[{comparison}]", param="created"
            )
        try:
            bound = int(raw)
        except ValueError:
            raise StripeError(
                400, f"Invalid integer: {raw}", param=f"created[{comparison}]"
            ) from None
        items = [obj for obj in items if compare(obj["created"], bound)]
    return items


def _redact(api_key: str) -> str:
    """Stripe's style (`sk_test_****abcd`), showing the last four only of a long enough key."""
    prefix, secret = api_key[:8], api_key[8:]
    tail = secret[-4:] if len(secret) > 12 else ""
    return prefix + "*" * (len(secret) - len(tail)) + tail
