"""Render simulation records as Stripe API objects.

Field names, nesting and id prefixes follow Stripe's published example objects (fixtures3.json in
stripe/openapi) for API version `API_VERSION`: expandable fields hold ids, embedded lists hold
their first page (10 items) with `has_more`, and fields the simulation has no use for carry
Stripe's empty values rather than being left out, so clients see the real shape.
"""

from typing import Any

from .simulation import (
    Business,
    Charge,
    Customer,
    Invoice,
    InvoiceLine,
    Price,
    Product,
    Subscription,
    SubscriptionItem,
)

API_VERSION = "2026-10-28.endive"
EMBEDDED_LIST_PAGE = 10

StripeObject = dict[str, Any]

_EMPTY_ADDRESS = {
    "city": None,
    "country": None,
    "line1": None,
    "line2": None,
    "postal_code": None,
    "state": None,
}


def list_object(data: list[StripeObject], has_more: bool, url: str) -> StripeObject:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def embedded_list(objects: list[StripeObject], url: str) -> StripeObject:
    return list_object(objects[:EMBEDDED_LIST_PAGE], len(objects) > EMBEDDED_LIST_PAGE, url)


def customer(record: Customer) -> StripeObject:
    return {
        "id": record.id,
        "object": "customer",
        "address": {**_EMPTY_ADDRESS, "country": record.country},
        "balance": 0,
        "created": record.created,
        "currency": record.currency,
        "customer_account": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": record.email,
        "invoice_prefix": record.id[-8:].upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {},
        "name": record.name,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def deleted_customer(record: Customer) -> StripeObject:
    return {"id": record.id, "object": "customer", "deleted": True}


def product(record: Product) -> StripeObject:
    return {
        "id": record.id,
        "object": "product",
        "active": True,
        "created": record.created,
        "default_price": None,
        "description": f"The {record.name} plan",
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": {},
        "name": record.name,
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": "service",
        "unit_label": None,
        "updated": record.created,
        "url": None,
    }


def price(record: Price) -> StripeObject:
    return {
        "id": record.id,
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": record.created,
        "currency": record.currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": f"{record.product.name} {record.interval}ly",
        "product": record.product.id,
        "recurring": {
            "interval": record.interval,
            "interval_count": record.interval_count,
            "meter": None,
            "trial_period_days": None,
            "usage_type": record.usage_type,
        },
        "tax_behavior": "exclusive",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": record.unit_amount,
        "unit_amount_decimal": str(record.unit_amount),
    }


def _plan(record: Price) -> StripeObject:
    """The legacy `plan` view of a recurring price that Stripe still embeds in items."""
    return {
        "id": record.id,
        "object": "plan",
        "active": True,
        "amount": record.unit_amount,
        "amount_decimal": str(record.unit_amount),
        "billing_scheme": "per_unit",
        "created": record.created,
        "currency": record.currency,
        "interval": record.interval,
        "interval_count": record.interval_count,
        "livemode": False,
        "metadata": {},
        "meter": None,
        "nickname": None,
        "product": record.product.id,
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": record.usage_type,
    }


def current_period(subscription: Subscription) -> tuple[int, int]:
    """The latest billing period: the one running now, or the last before the subscription ended."""
    invoiced = [i for i in subscription.invoices if i.period_end > i.period_start]
    if not invoiced:
        return subscription.created, subscription.trial_end or subscription.created
    last = invoiced[-1]
    return last.period_start, last.period_end


def subscription_item(record: SubscriptionItem, subscription: Subscription) -> StripeObject:
    period_start, period_end = current_period(subscription)
    return {
        "id": record.id,
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": record.created,
        "current_period_end": period_end,
        "current_period_start": period_start,
        "discounts": [],
        "metadata": {},
        "plan": _plan(record.price),
        "price": price(record.price),
        "quantity": record.quantity,
        "subscription": record.subscription_id,
        "tax_rates": [],
    }


def subscription(record: Subscription, as_of: int) -> StripeObject:
    items = [subscription_item(item, record) for item in record.items]
    latest_invoice = record.invoices[-1].id if record.invoices else None
    return {
        "id": record.id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": record.billing_anchor,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"type": "classic"},
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": record.canceled_at,
        "cancellation_details": {
            "comment": None,
            "feedback": None,
            "reason": "cancellation_requested" if record.canceled_at else None,
        },
        "collection_method": "charge_automatically",
        "created": record.created,
        "currency": record.currency,
        "customer": record.customer.id,
        "customer_account": None,
        "days_until_due": None,
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ended_at": record.ended_at,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": embedded_list(items, f"/v1/subscription_items?subscription={record.id}"),
        "latest_invoice": latest_invoice,
        "livemode": False,
        "managed_payments": None,
        "metadata": {},
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": record.created,
        "status": record.status_at(as_of),
        "test_clock": None,
        "transfer_data": None,
        "trial_end": record.trial_end,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": record.trial_start,
    }


def invoice_line(record: InvoiceLine, invoice: Invoice) -> StripeObject:
    item = record.item
    return {
        "id": record.id,
        "object": "line_item",
        "amount": record.amount,
        "currency": invoice.subscription.currency,
        "description": f"{item.quantity} × {item.price.product.name} "
        f"(at {item.price.unit_amount} / {item.price.interval})",
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": invoice.id,
        "livemode": False,
        "metadata": {},
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": invoice.subscription.id,
                "subscription_item": item.id,
            },
            "type": "subscription_item_details",
        },
        "period": {"end": record.period_end, "start": record.period_start},
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": {"price": item.price.id, "product": item.price.product.id},
            "type": "price_details",
            "unit_amount_decimal": str(item.price.unit_amount),
        },
        "quantity": item.quantity,
        "quantity_decimal": str(item.quantity),
        "subscription": invoice.subscription.id,
        "subtotal": record.amount,
        "taxes": [],
    }


def invoice(record: Invoice) -> StripeObject:
    subscription = record.subscription
    customer_record = subscription.customer
    total = record.total
    paid_at = record.charge.created if record.charge else record.created
    lines = [invoice_line(line, record) for line in record.lines]
    return {
        "id": record.id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Sandbox SaaS Inc.",
        "account_tax_ids": None,
        "amount_due": total,
        "amount_overpaid": 0,
        "amount_paid": total,
        "amount_remaining": 0,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 1 if total else 0,
        "attempted": bool(total),
        "auto_advance": False,
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": None,
        "billing_reason": record.billing_reason,
        "collection_method": "charge_automatically",
        "created": record.created,
        "currency": subscription.currency,
        "custom_fields": None,
        "customer": customer_record.id,
        "customer_account": None,
        "customer_address": {**_EMPTY_ADDRESS, "country": customer_record.country},
        "customer_email": customer_record.email,
        "customer_name": customer_record.name,
        "customer_phone": None,
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "due_date": None,
        "effective_at": record.created,
        "ending_balance": 0,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": embedded_list(lines, f"/v1/invoices/{record.id}/lines"),
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": f"{customer_record.id[-8:].upper()}-{record.id[-4:].upper()}",
        "on_behalf_of": None,
        "parent": {
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": subscription.id},
            "type": "subscription_details",
        },
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": record.period_end,
        "period_start": record.period_start,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": "paid",
        "status_transitions": {
            "finalized_at": record.created,
            "marked_uncollectible_at": None,
            "paid_at": paid_at,
            "voided_at": None,
        },
        "subscription": subscription.id,
        "subtotal": total,
        "subtotal_excluding_tax": total,
        "test_clock": None,
        "total": total,
        "total_discount_amounts": [],
        "total_excluding_tax": total,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": record.created,
    }


def charge(record: Charge) -> StripeObject:
    invoice_record = record.invoice
    customer_record = invoice_record.subscription.customer
    amount = invoice_record.total
    return {
        "id": record.id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": None,
        "billing_details": {
            "address": {**_EMPTY_ADDRESS, "country": customer_record.country},
            "email": customer_record.email,
            "name": customer_record.name,
            "phone": None,
            "tax_id": None,
        },
        "calculated_statement_descriptor": "SANDBOX SAAS",
        "captured": True,
        "created": record.created,
        "currency": invoice_record.subscription.currency,
        "customer": customer_record.id,
        "description": "Subscription update"
        if invoice_record.billing_reason == "subscription_cycle"
        else "Subscription creation",
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "livemode": False,
        "metadata": {},
        "on_behalf_of": None,
        "outcome": {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
        "paid": True,
        "payment_intent": None,
        "payment_method": None,
        "payment_method_details": None,
        "receipt_email": None,
        "receipt_number": None,
        "receipt_url": None,
        "refunded": False,
        "refunds": list_object([], False, f"/v1/charges/{record.id}/refunds"),
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded",
        "transfer_data": None,
        "transfer_group": None,
    }


def render_all(business: Business) -> dict[str, list[StripeObject]]:
    """Every listable object per list endpoint, in creation order (oldest first)."""
    as_of = business.as_of
    return {
        "customers": [customer(c) for c in business.customers if c.deleted_at is None],
        "products": [product(p) for p in business.products],
        "prices": [price(p) for p in business.prices],
        "subscriptions": [subscription(s, as_of) for s in business.subscriptions],
        "invoices": [invoice(i) for i in business.invoices],
        "charges": [charge(c) for c in business.charges],
    }
