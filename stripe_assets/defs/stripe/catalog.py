"""The Stripe resources we extract, each landing in a table of the same plural snake_case name.

Columns listed here are declared up front because they are often null: dlt only creates a column
once it sees a value, and the dbt staging models must find every column they read.

`references` names the fields that hold another resource's id. Stripe stops listing an object
once it is deleted (a customer, say) while objects that point to it stay; extraction retrieves such
referenced-but-unlisted ids one by one, so raw keeps them as `is_deleted` tombstones and every
reference in raw resolves.
"""

from dataclasses import dataclass, field

ID, JSON, INT, BOOL = "text", "json", "bigint", "bool"


@dataclass(frozen=True)
class StripeResource:
    table: str
    path: str | None
    params: dict[str, str] = field(default_factory=dict)
    nullable_columns: dict[str, str] = field(default_factory=dict)
    # A child list embedded in each parent object (subscription items, invoice lines).
    parent: str | None = None
    embedded_field: str | None = None
    references: dict[str, str] = field(default_factory=dict)


RESOURCES: tuple[StripeResource, ...] = (
    StripeResource(
        "customers",
        "/v1/customers",
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
    ),
    StripeResource(
        "products",
        "/v1/products",
        nullable_columns={"description": ID, "default_price": ID, "unit_label": ID, "url": ID},
    ),
    StripeResource(
        "prices",
        "/v1/prices",
        nullable_columns={
            "nickname": ID,
            "lookup_key": ID,
            "unit_amount": INT,
            "recurring": JSON,
            "tiers_mode": ID,
            "transform_quantity": JSON,
        },
    ),
    StripeResource(
        "subscriptions",
        "/v1/subscriptions",
        params={"status": "all"},
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
        parent="subscriptions",
        embedded_field="items",
        nullable_columns={"quantity": INT, "discounts": JSON, "billing_thresholds": JSON},
    ),
    StripeResource(
        "invoices",
        "/v1/invoices",
        references={"customer": "customers"},
        nullable_columns={
            "subscription": ID,
            "number": ID,
            "status": ID,
            "due_date": INT,
            "description": ID,
            "parent": JSON,
            "status_transitions": JSON,
            "discounts": JSON,
        },
    ),
    StripeResource(
        "invoice_line_items",
        None,
        parent="invoices",
        embedded_field="lines",
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
        "charges",
        "/v1/charges",
        references={"customer": "customers"},
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
)

TABLES: tuple[str, ...] = tuple(resource.table for resource in RESOURCES)
BY_TABLE: dict[str, StripeResource] = {resource.table: resource for resource in RESOURCES}


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
