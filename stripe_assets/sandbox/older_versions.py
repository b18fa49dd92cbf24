"""Objects in the shape of an older API version, as Stripe sends them in an older account's events.

Stripe renders an event's `data.object` in the API version the event was created with (the
account's default version then), whatever `Stripe-Version` the request that reads the event
sends; lists and retrieves follow the request's version. Most real accounts' default is older than
the version the pipeline pins, so `serve --account-api-version 2024-06-20` gives the sandbox's
account that default: each event says so in `api_version`, and its object has that version's
shape.

The shapes are what Stripe's changelog lists as changed, between 2024-06-20 and our pinned
version, in the objects the pipeline reads (2025-03-31.basil moved them):
- invoices name their `subscription`, `charge` and `payment_intent` at the top level, say `paid`,
  and have no `parent`, `total_taxes` or `total_pretax_credit_amounts`;
- invoice lines and invoice items carry `price`, `plan` and `proration` (lines also `type`,
  `subscription_item`, `invoice_item`, `proration_details`, `tax_amounts`), not `pricing` or
  `parent`;
- a subscription's billing period is its own (`current_period_start`/`_end`), not its items';
- charges and payment intents name their `invoice`.
"""

from .objects import API_VERSION, plan, price
from .records import Charge, Invoice, InvoiceItem, PaymentIntent, Subscription

ACCOUNT_API_VERSIONS = (API_VERSION, "2024-06-20")


def in_version(record, rendered: dict, version: str) -> dict:
    """`rendered` (the record in the pinned version's shape) as `version` shows it."""
    if version == API_VERSION:
        return rendered
    downgrade = _DOWNGRADES.get(type(record))
    return downgrade(record, dict(rendered)) if downgrade else rendered


def _invoice(record: Invoice, obj: dict) -> dict:
    for name in ("parent", "total_taxes", "total_pretax_credit_amounts", "amount_overpaid"):
        obj.pop(name, None)
    intent = record.payment_intent
    obj.update(
        subscription=record.subscription.id if record.subscription else None,
        subscription_details={"metadata": {}},
        subscription_proration_date=None,
        quote=None,
        charge=intent.charges[-1].id if intent and intent.charges else None,
        payment_intent=intent.id if intent else None,
        paid=record.status == "paid",
        paid_out_of_band=False,
        tax=None,
        total_tax_amounts=[],
    )
    lines = {line.id: line for line in record.lines}
    obj["lines"] = {
        **obj["lines"],
        "data": [_line(lines[line["id"]], dict(line)) for line in obj["lines"]["data"]],
    }
    return obj


def _line(record, obj: dict) -> dict:
    parent = obj.pop("parent")
    details = parent["subscription_item_details"] or parent["invoice_item_details"]
    for name in ("pricing", "taxes", "pretax_credit_amounts", "subtotal"):
        obj.pop(name, None)
    obj.update(
        amount_excluding_tax=obj["amount"],
        type="subscription" if parent["type"] == "subscription_item_details" else "invoiceitem",
        subscription_item=details.get("subscription_item"),
        invoice_item=details.get("invoice_item"),
        proration=details["proration"],
        proration_details={"credited_items": None},
        price=price(record.price) if record.price else None,
        plan=plan(record.price) if record.price else None,
        tax_amounts=[],
        tax_rates=[],
        unit_amount_excluding_tax=None
        if record.price is None or record.price.unit_amount is None
        else str(record.price.unit_amount),
    )
    return obj


def _invoice_item(record: InvoiceItem, obj: dict) -> dict:
    for name in ("pricing", "parent", "net_amount"):
        obj.pop(name, None)
    unit_amount = record.amount // record.quantity if record.quantity else record.amount
    obj.update(
        price=price(record.price) if record.price else None,
        plan=plan(record.price) if record.price else None,
        subscription=record.subscription.id if record.subscription else None,
        subscription_item=record.subscription_item.id if record.subscription_item else None,
        unit_amount=unit_amount,
        unit_amount_decimal=str(unit_amount),
    )
    return obj


def _subscription(record: Subscription, obj: dict) -> dict:
    obj.update(
        current_period_start=record.current_period_start,
        current_period_end=record.current_period_end,
    )
    items = [dict(item) for item in obj["items"]["data"]]
    for item in items:
        item.pop("current_period_start", None)
        item.pop("current_period_end", None)
    obj["items"] = {**obj["items"], "data": items}
    return obj


def _charge(record: Charge, obj: dict) -> dict:
    obj["invoice"] = record.payment_intent.invoice.id
    return obj


def _payment_intent(record: PaymentIntent, obj: dict) -> dict:
    obj["invoice"] = record.invoice.id
    return obj


_DOWNGRADES = {
    Invoice: _invoice,
    InvoiceItem: _invoice_item,
    Subscription: _subscription,
    Charge: _charge,
    PaymentIntent: _payment_intent,
}
