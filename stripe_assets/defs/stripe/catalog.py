"""The Stripe resources we extract, each landing in a table of the same plural snake_case name.

How a resource is kept up to date (`sync`):
- `catalog`: small (products, prices, coupons), listed in full on every run;
- `immutable`: never changes once created (events, balance transactions), listed by `created`
  cursor;
- `mutable`: changes over time, listed in full on the first run, then updated from the events
  Stripe emits (its 30-day events window permitting);
- `child`: embedded in a parent object (subscription items, invoice lines), read with the parent
  and paginated past the parent's first 10.

Columns listed here are declared up front because they are often null: dlt only creates a column
once it sees a value, and the dbt staging models must find every column they read.

`expand` names id fields read as whole objects, a dotted path for one nested in another (the
discounts of subscriptions, customers and invoices with their coupons, which the MRR models need
and which no list endpoint serves as they were redeemed). Event payloads carry such fields as
bare ids, so an object that arrives through an event with one of them set is retrieved again,
expanded.

`references` names the fields that hold another resource's id (a dotted path for one nested in
a JSON field). Stripe stops listing an object
once it is deleted (a customer, say) while objects that point to it stay; extraction retrieves such
referenced-but-unlisted ids one by one, so raw keeps them as `is_deleted` tombstones and every
reference in raw resolves. A first backfill from `STRIPE_SYNC_START` lists only newer objects, so
older ones that newer ones point to (a refunded charge, a credited invoice) are retrieved the same
way; `owns` names the fields of what such an object brings with it (a charge's balance
transaction), as its children come with it, so the raw reconciliations find each one complete.
"""

from dataclasses import dataclass, field

ID, JSON, INT = "text", "json", "bigint"


@dataclass(frozen=True)
class StripeResource:
    table: str
    path: str | None
    object_name: str  # Stripe's `object` value, which is how events say what they carry
    sync: str  # catalog | immutable | mutable | child
    params: dict[str, str] = field(default_factory=dict)
    nullable_columns: dict[str, str] = field(default_factory=dict)
    parent: str | None = None
    embedded_field: str | None = None
    references: dict[str, str] = field(default_factory=dict)
    expand: tuple[str, ...] = ()
    owns: dict[str, str] = field(default_factory=dict)  # field → table of an object it brings

    @property
    def reads_events(self) -> bool:
        """Mutable resources read their changes from events, catalog ones their deletions, and
        the events table the events themselves: each keeps an events cursor of its own."""
        return self.sync in ("mutable", "catalog") or self.table == "events"

    def list_params(self) -> dict:
        expansions = {"expand[]": [f"data.{name}" for name in self.expand]} if self.expand else {}
        return {**self.params, **expansions}

    def retrieve_params(self) -> dict:
        return {"expand[]": list(self.expand)} if self.expand else {}

    def needs_expanding(self, obj: dict) -> bool:
        """Whether an object (from an event) holds a bare id where we read expanded objects."""
        return any(_holds_an_id(obj, path.split(".")) for path in self.expand)


def _holds_an_id(value: object, path: list[str]) -> bool:
    """Whether a bare id stands anywhere along `path` (through lists, as Stripe expands them)."""
    if isinstance(value, str):
        return True
    if isinstance(value, list):
        return any(_holds_an_id(element, path) for element in value)
    if not path or not isinstance(value, dict):
        return False
    return _holds_an_id(value.get(path[0]), path[1:])


def field_value(obj: dict, path: str) -> object:
    """A field of a Stripe object, `parent.subscription_details.subscription` for a nested one."""
    value: object = obj
    for name in path.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    return value


RESOURCES: tuple[StripeResource, ...] = (
    StripeResource(
        "products",
        "/v1/products",
        "product",
        "catalog",
        nullable_columns={"description": ID, "default_price": ID, "unit_label": ID, "url": ID},
    ),
    StripeResource(
        "prices",
        "/v1/prices",
        "price",
        "catalog",
        expand=("tiers",),  # includable, not an id: present only when asked for
        nullable_columns={
            "tiers": JSON,
            "nickname": ID,
            "lookup_key": ID,
            "unit_amount": INT,
            "recurring": JSON,
            "tiers_mode": ID,
            "transform_quantity": JSON,
        },
    ),
    StripeResource(
        "coupons",
        "/v1/coupons",
        "coupon",
        "catalog",
        nullable_columns={
            "name": ID,
            "amount_off": INT,
            "percent_off": "double",
            "currency": ID,
            "duration_in_months": INT,
            "max_redemptions": INT,
            "redeem_by": INT,
        },
    ),
    StripeResource(
        "customers",
        "/v1/customers",
        "customer",
        "mutable",
        nullable_columns={
            "email": ID,
            "name": ID,
            "currency": ID,
            "description": ID,
            "phone": ID,
            "address": JSON,
            "discount": JSON,
            "shipping": JSON,
            "default_source": ID,
        },
        expand=("discount.source.coupon",),
    ),
    StripeResource(
        "subscriptions",
        "/v1/subscriptions",
        "subscription",
        "mutable",
        params={"status": "all"},
        expand=("discounts.source.coupon",),
        references={"customer": "customers"},
        nullable_columns={
            "cancel_at": INT,
            "canceled_at": INT,
            "ended_at": INT,
            "trial_start": INT,
            "trial_end": INT,
            "latest_invoice": ID,
            "description": ID,
            "schedule": ID,
            "pause_collection": JSON,
            "discounts": JSON,
            "default_payment_method": ID,
        },
    ),
    StripeResource(
        "subscription_items",
        None,
        "subscription_item",
        "child",
        parent="subscriptions",
        embedded_field="items",
        references={"subscription": "subscriptions"},
        nullable_columns={"quantity": INT, "discounts": JSON, "billing_thresholds": JSON},
    ),
    StripeResource(
        "invoices",
        "/v1/invoices",
        "invoice",
        "mutable",
        # since API version 2025-03-31 an invoice names its subscription only under `parent`
        references={
            "customer": "customers",
            "parent.subscription_details.subscription": "subscriptions",
        },
        nullable_columns={
            "number": ID,
            "status": ID,
            "due_date": INT,
            "description": ID,
            "next_payment_attempt": INT,
            "parent": JSON,
            "status_transitions": JSON,
            "discounts": JSON,
        },
        # a customer's discount, which a deleted customer no longer shows, stays on its invoices
        expand=("discounts.source.coupon",),
    ),
    StripeResource(
        "invoice_line_items",
        None,
        "line_item",
        "child",
        parent="invoices",
        embedded_field="lines",
        references={"invoice": "invoices"},
        nullable_columns={
            "subscription": ID,
            "description": ID,
            "quantity": INT,
            "period": JSON,
            "parent": JSON,
            "pricing": JSON,
        },
    ),
    StripeResource(
        "invoice_items",
        "/v1/invoiceitems",
        "invoiceitem",
        "mutable",
        references={"customer": "customers", "invoice": "invoices"},
        nullable_columns={"invoice": ID, "description": ID, "pricing": JSON, "parent": JSON},
    ),
    StripeResource(
        "credit_notes",
        "/v1/credit_notes",
        "credit_note",
        "mutable",
        references={"customer": "customers", "invoice": "invoices"},
        nullable_columns={"memo": ID, "reason": ID, "voided_at": INT, "refunds": JSON},
    ),
    StripeResource(
        "payment_intents",
        "/v1/payment_intents",
        "payment_intent",
        "mutable",
        references={"customer": "customers"},
        nullable_columns={
            "customer": ID,
            "latest_charge": ID,
            "last_payment_error": JSON,
            "description": ID,
            "canceled_at": INT,
        },
    ),
    StripeResource(
        "charges",
        "/v1/charges",
        "charge",
        "mutable",
        references={"customer": "customers"},
        owns={"balance_transaction": "balance_transactions"},
        nullable_columns={
            "customer": ID,
            "description": ID,
            "payment_intent": ID,
            "payment_method": ID,
            "balance_transaction": ID,
            "failure_code": ID,
            "failure_message": ID,
        },
    ),
    StripeResource(
        "refunds",
        "/v1/refunds",
        "refund",
        "mutable",
        references={"charge": "charges"},
        owns={"balance_transaction": "balance_transactions"},
        nullable_columns={"reason": ID, "payment_intent": ID, "balance_transaction": ID},
    ),
    StripeResource(
        "disputes",
        "/v1/disputes",
        "dispute",
        "mutable",
        references={"charge": "charges"},
        nullable_columns={"payment_intent": ID, "balance_transactions": JSON},
    ),
    StripeResource(
        "balance_transactions",
        "/v1/balance_transactions",
        "balance_transaction",
        "immutable",
        nullable_columns={"description": ID, "source": ID, "exchange_rate": "double"},
    ),
    StripeResource(
        "payouts",
        "/v1/payouts",
        "payout",
        "mutable",
        nullable_columns={"balance_transaction": ID, "failure_code": ID, "description": ID},
    ),
    StripeResource(
        "events",
        "/v1/events",
        "event",
        "immutable",
        nullable_columns={"api_version": ID, "request": JSON},
    ),
)

TABLES: tuple[str, ...] = tuple(resource.table for resource in RESOURCES)
BY_TABLE: dict[str, StripeResource] = {resource.table: resource for resource in RESOURCES}
BY_OBJECT: dict[str, StripeResource] = {resource.object_name: resource for resource in RESOURCES}


def select(names: list[str] | None) -> tuple[StripeResource, ...]:
    """The resources to sync; a child brings its parent (its rows come with the parent's), and
    a parent its children: a parent synced alone would move past changes whose children the
    child's next sync, fed only by the parents read then, would never see."""
    if not names:
        return RESOURCES
    unknown = sorted(set(names) - set(TABLES))
    if unknown:
        raise ValueError(
            f"Unknown Stripe resource {', '.join(unknown)}: choose from {', '.join(TABLES)}."
        )
    wanted = set(names)
    wanted |= {BY_TABLE[name].parent for name in names if BY_TABLE[name].parent}
    wanted |= {resource.table for resource in RESOURCES if resource.parent in wanted}
    return tuple(resource for resource in RESOURCES if resource.table in wanted)


def column_hints(resource: StripeResource) -> dict[str, dict]:
    hints = {
        name: {"data_type": data_type, "nullable": True}
        for name, data_type in resource.nullable_columns.items()
    }
    hints["id"] = {"data_type": "text", "nullable": False}
    hints["is_deleted"] = {"data_type": "bool", "nullable": False}
    hints["_extracted_at"] = {"data_type": "timestamp", "nullable": False}
    hints["_api_version"] = {"data_type": "text", "nullable": False}
    return hints
