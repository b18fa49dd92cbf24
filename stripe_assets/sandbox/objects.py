"""Render simulation records as Stripe API objects, in the shapes of API version `API_VERSION`.

Field names, nesting and id prefixes follow Stripe's published example objects (fixtures3.json in
stripe/openapi): expandable fields hold ids, embedded lists hold their first page of 10 with
`has_more`, and fields the simulation has no use for carry Stripe's empty values rather than
being left out, so clients see the real shape. A record renders as it stands at this moment of
the simulation, which is how events carry snapshots of their objects.
"""

from __future__ import annotations

from typing import Any

from .records import (
    BalanceTransaction,
    Charge,
    Coupon,
    CreditNote,
    Customer,
    Discount,
    Dispute,
    Event,
    Invoice,
    InvoiceItem,
    InvoiceLine,
    PaymentIntent,
    Payout,
    Price,
    Product,
    Refund,
    Subscription,
    SubscriptionItem,
)

API_VERSION = "2026-10-28.endive"
EMBEDDED_LIST_PAGE = 10

StripeObject = dict[str, Any]

DISPUTE_EVIDENCE_FIELDS = (
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "enhanced_evidence",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
)


def list_object(data: list[StripeObject], has_more: bool, url: str) -> StripeObject:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def embedded_list(records: list, render_one, url: str) -> StripeObject:
    """The first page of a child list, rendering only the records that page shows."""
    page = [render_one(record) for record in records[:EMBEDDED_LIST_PAGE]]
    return list_object(page, len(records) > EMBEDDED_LIST_PAGE, url)


def address(country: str | None, city: str | None = None) -> StripeObject:
    return {
        "city": city,
        "country": country,
        "line1": None,
        "line2": None,
        "postal_code": None,
        "state": None,
    }


def deleted(object_id: str, object_name: str) -> StripeObject:
    return {"id": object_id, "object": object_name, "deleted": True}


def is_delinquent(record: Customer) -> bool:
    return any(s.status in ("past_due", "unpaid") for s in record.subscriptions)


def account(created: int) -> StripeObject:
    """The sandbox business's own Stripe account (clients read `created` to plan backfills)."""
    return {
        "id": "acct_sandbox",
        "object": "account",
        "business_profile": {"name": "Sandbox SaaS Inc.", "url": None},
        "business_type": "company",
        "charges_enabled": True,
        "country": "US",
        "created": created,
        "default_currency": "usd",
        "details_submitted": True,
        "email": "billing@example.com",
        "payouts_enabled": True,
        "type": "standard",
    }


def customer(record: Customer) -> StripeObject:
    if record.deleted_at is not None:
        return deleted(record.id, "customer")
    return {
        "id": record.id,
        "object": "customer",
        "address": address(record.country, record.city),
        "balance": 0,
        "created": record.created,
        "currency": record.currency,
        "customer_account": None,
        "default_source": None,
        "delinquent": is_delinquent(record),
        "description": None,
        "discount": discount(record.discount) if record.discount else None,
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


def product(record: Product) -> StripeObject:
    if record.deleted_at is not None:
        return deleted(record.id, "product")
    return {
        "id": record.id,
        "object": "product",
        "active": record.active,
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
        "unit_label": "seat" if record.name == "Team" else None,
        "updated": record.updated,
        "url": None,
    }


def _decimal(amount: int | None) -> str | None:
    return None if amount is None else str(amount)


def _transform(record: Price) -> StripeObject | None:
    if record.transform_quantity is None:
        return None
    divide_by, rounding = record.transform_quantity
    return {"divide_by": divide_by, "round": rounding}


def price_tiers(record: Price) -> list[StripeObject] | None:
    """A tiered price's tiers: Stripe includes them only when asked (`expand[]=tiers`)."""
    if not record.tiers_mode:
        return None
    return [
        {
            "flat_amount": tier.flat_amount,
            "flat_amount_decimal": str(tier.flat_amount),
            "unit_amount": tier.unit_amount,
            "unit_amount_decimal": str(tier.unit_amount),
            "up_to": tier.up_to,
        }
        for tier in record.tiers
    ]


def price(record: Price) -> StripeObject:
    return {
        "id": record.id,
        "object": "price",
        "active": record.active,
        "billing_scheme": "tiered" if record.tiers_mode else "per_unit",
        "created": record.created,
        "currency": record.currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": record.lookup_key,
        "metadata": {},
        "nickname": record.nickname,
        "product": record.product.id,
        "recurring": {
            "interval": record.interval,
            "interval_count": record.interval_count,
            "meter": None,
            "trial_period_days": None,
            "usage_type": record.usage_type,
        },
        "tax_behavior": "exclusive",
        "tiers_mode": record.tiers_mode,
        "transform_quantity": _transform(record),
        "type": "recurring",
        "unit_amount": record.unit_amount,
        "unit_amount_decimal": _decimal(record.unit_amount),
    }


def plan(record: Price) -> StripeObject:
    """The legacy `plan` view of a recurring price that Stripe still embeds in items."""
    return {
        "id": record.id,
        "object": "plan",
        "active": record.active,
        "amount": record.unit_amount,
        "amount_decimal": _decimal(record.unit_amount),
        "billing_scheme": "tiered" if record.tiers_mode else "per_unit",
        "created": record.created,
        "currency": record.currency,
        "interval": record.interval,
        "interval_count": record.interval_count,
        "livemode": False,
        "metadata": {},
        "meter": None,
        "nickname": record.nickname,
        "product": record.product.id,
        "tiers_mode": record.tiers_mode,
        "transform_usage": _transform(record),
        "trial_period_days": None,
        "usage_type": record.usage_type,
    }


def coupon(record: Coupon) -> StripeObject:
    if record.deleted_at is not None:
        return deleted(record.id, "coupon")
    return coupon_body(record)


def coupon_body(record: Coupon) -> StripeObject:
    """The coupon in full: how discounts show it, even once it is deleted (and no longer valid)."""
    return {
        "id": record.id,
        "object": "coupon",
        "amount_off": record.amount_off,
        "created": record.created,
        "currency": record.currency,
        "duration": record.duration,
        "duration_in_months": record.duration_in_months,
        "livemode": False,
        "max_redemptions": None,
        "metadata": {},
        "name": record.name,
        "percent_off": record.percent_off,
        "redeem_by": None,
        "times_redeemed": record.times_redeemed,
        "valid": record.deleted_at is None,
    }


def discount(record: Discount) -> StripeObject:
    """A discount names its coupon by id (`source.coupon` is expandable)."""
    subscription = record.subscription
    return {
        "id": record.id,
        "object": "discount",
        "checkout_session": None,
        "customer": record.customer.id,
        "customer_account": None,
        "end": record.end,
        "invoice": None,
        "invoice_item": None,
        "promotion_code": None,
        "source": {"coupon": record.coupon.id, "type": "coupon"},
        "start": record.start,
        "subscription": subscription.id if subscription else None,
        "subscription_item": None,
    }


def subscription_item(record: SubscriptionItem) -> StripeObject:
    subscription = record.subscription
    return {
        "id": record.id,
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": record.created,
        "current_period_end": subscription.current_period_end,
        "current_period_start": subscription.current_period_start,
        "discounts": [],
        "metadata": {},
        "plan": plan(record.price),
        "price": price(record.price),
        "quantity": record.quantity,
        "subscription": subscription.id,
        "tax_rates": [],
    }


def render_items(record: Subscription) -> StripeObject:
    """The first page of items, newest first like /v1/subscription_items lists them."""
    newest_first = list(reversed(record.live_items))
    url = f"/v1/subscription_items?subscription={record.id}"
    return embedded_list(newest_first, subscription_item, url)


def subscription(record: Subscription) -> StripeObject:
    return {
        "id": record.id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": record.billing_anchor,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic"},
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": record.cancel_at,
        "cancel_at_period_end": record.cancel_at_period_end,
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
        "discounts": [d.id for d in record.discounts],
        "ended_at": record.ended_at,
        "invoice_settings": {
            "account_tax_ids": None,
            "custom_fields": None,
            "description": None,
            "footer": None,
            "issuer": {"type": "self"},
        },
        "items": render_items(record),
        "latest_invoice": record.invoices[-1].id if record.invoices else None,
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
        "status": record.status,
        "test_clock": None,
        "transfer_data": None,
        "trial_end": record.trial_end,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": record.trial_start,
    }


def _pricing(line_price: Price | None, unit_amount: int | None) -> StripeObject:
    return {
        "price_details": {"price": line_price.id, "product": line_price.product.id}
        if line_price
        else None,
        "type": "price_details",
        "unit_amount_decimal": None if unit_amount is None else str(unit_amount),
    }


def invoice_line(record: InvoiceLine, invoice_record: Invoice) -> StripeObject:
    subscription_id = invoice_record.subscription.id if invoice_record.subscription else None
    if record.invoice_item is not None:
        parent = {
            "invoice_item_details": {
                "invoice_item": record.invoice_item.id,
                "proration": record.proration,
                "proration_details": {"credited_items": None},
                "subscription": subscription_id,
            },
            "subscription_item_details": None,
            "type": "invoice_item_details",
        }
    else:
        parent = {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": record.proration,
                "proration_details": {"credited_items": None},
                "subscription": subscription_id,
                "subscription_item": record.subscription_item.id
                if record.subscription_item
                else None,
            },
            "type": "subscription_item_details",
        }
    unit_amount = record.price.unit_amount if record.price else None
    return {
        "id": record.id,
        "object": "line_item",
        "amount": record.amount,
        "currency": invoice_record.currency,
        "description": record.description,
        "discount_amounts": [
            {"amount": amount, "discount": d.id} for d, amount in record.discount_amounts if amount
        ],
        "discountable": record.amount > 0,
        "discounts": [],
        "invoice": invoice_record.id,
        "livemode": False,
        "metadata": {},
        "parent": parent,
        "period": {"end": record.period_end, "start": record.period_start},
        "pretax_credit_amounts": [],
        "pricing": _pricing(record.price, unit_amount),
        "quantity": record.quantity,
        "quantity_decimal": str(record.quantity),
        "subscription": subscription_id,
        "subtotal": record.amount,
        "taxes": [],
    }


def invoice_lines(record: Invoice) -> list[StripeObject]:
    return [invoice_line(line, record) for line in record.lines]


def invoice(record: Invoice) -> StripeObject:
    customer_record = record.customer
    subscription_id = record.subscription.id if record.subscription else None
    total = record.total
    paid = record.amount_paid
    open_amount = total if record.status == "open" else 0
    return {
        "id": record.id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Sandbox SaaS Inc.",
        "account_tax_ids": None,
        "amount_due": total,
        "amount_overpaid": 0,
        "amount_paid": paid,
        "amount_remaining": open_amount,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": record.attempt_count,
        "attempted": record.attempt_count > 0,
        "auto_advance": record.status == "open",
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
        "currency": record.currency,
        "custom_fields": None,
        "customer": customer_record.id,
        "customer_account": None,
        "customer_address": address(*record.customer_address),
        "customer_email": record.customer_email,
        "customer_name": record.customer_name,
        "customer_phone": None,
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [d.id for d in record.discounts],
        "due_date": None,
        "effective_at": record.finalized_at,
        "ending_balance": 0 if record.finalized_at else None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": embedded_list(
            record.lines, lambda line: invoice_line(line, record), f"/v1/invoices/{record.id}/lines"
        ),
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": record.next_payment_attempt,
        "number": record.number if record.finalized_at else None,
        "on_behalf_of": None,
        "parent": {
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": subscription_id},
            "type": "subscription_details",
        },
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": record.period_end,
        "period_start": record.period_start,
        "post_payment_credit_notes_amount": sum(n.amount for n in record.credit_notes),
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": record.status,
        "status_transitions": {
            "finalized_at": record.finalized_at,
            "marked_uncollectible_at": record.marked_uncollectible_at,
            "paid_at": record.paid_at,
            "voided_at": record.voided_at,
        },
        "subtotal": record.subtotal,
        "subtotal_excluding_tax": record.subtotal,
        "test_clock": None,
        "total": total,
        "total_discount_amounts": [
            {"amount": record.discount_total(d), "discount": d.id} for d in record.discounts
        ],
        "total_excluding_tax": total,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": record.created,
    }


def invoice_item(record: InvoiceItem) -> StripeObject:
    subscription_id = record.subscription.id if record.subscription else None
    unit_amount = record.amount // record.quantity if record.quantity else record.amount
    return {
        "id": record.id,
        "object": "invoiceitem",
        "amount": record.amount,
        "currency": record.currency,
        "customer": record.customer.id,
        "customer_account": None,
        "date": record.created,
        "description": record.description,
        "discountable": record.amount > 0,
        "discounts": [],
        "invoice": record.invoice.id if record.invoice else None,
        "livemode": False,
        "metadata": {},
        "net_amount": record.amount,
        "parent": {
            "subscription_details": {
                "subscription": subscription_id,
                "subscription_item": record.subscription_item.id
                if record.subscription_item
                else None,
            },
            "type": "subscription_details",
        },
        "period": {"end": record.period_end, "start": record.period_start},
        "pricing": _pricing(record.price, unit_amount),
        "proration": record.proration,
        "quantity": record.quantity,
        "quantity_decimal": str(record.quantity),
        "tax_rates": [],
        "test_clock": None,
    }


def payment_intent(record: PaymentIntent) -> StripeObject:
    latest = record.charges[-1] if record.charges else None
    failed = latest is not None and not latest.succeeded
    return {
        "id": record.id,
        "object": "payment_intent",
        "amount": record.amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": record.amount if record.status == "succeeded" else 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{record.id}_secret_sandbox",
        "confirmation_method": "automatic",
        "created": record.created,
        "currency": record.currency,
        "customer": record.customer.id,
        "customer_account": None,
        "description": "Subscription payment",
        "excluded_payment_method_types": None,
        "last_payment_error": {"code": latest.failure_code, "type": "card_error"}
        if failed
        else None,
        "latest_charge": latest.id if latest else None,
        "livemode": False,
        "managed_payments": None,
        "metadata": {},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": record.status,
        "transfer_data": None,
        "transfer_group": None,
    }


def charge(record: Charge) -> StripeObject:
    return {
        "id": record.id,
        "object": "charge",
        "amount": record.amount,
        "amount_captured": record.amount if record.succeeded else 0,
        "amount_refunded": record.amount_refunded,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": record.balance_transaction.id
        if record.balance_transaction
        else None,
        "billing_details": {
            "address": address(None),
            "email": None,
            "name": None,
            "phone": None,
            "tax_id": None,
        },
        "calculated_statement_descriptor": "SANDBOX SAAS",
        "captured": record.succeeded,
        "created": record.created,
        "currency": record.currency,
        "customer": record.customer.id,
        "description": "Subscription payment",
        "disputed": record.dispute is not None,
        "failure_balance_transaction": None,
        "failure_code": record.failure_code,
        "failure_message": None if record.succeeded else "Your card was declined.",
        "fraud_details": {},
        "livemode": False,
        "metadata": {},
        "on_behalf_of": None,
        "outcome": {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network" if record.succeeded else "declined_by_network",
            "reason": None if record.succeeded else "generic_decline",
            "risk_level": "normal",
            "seller_message": "Payment complete." if record.succeeded else "The bank declined.",
            "type": "authorized" if record.succeeded else "issuer_declined",
        },
        "paid": record.succeeded,
        "payment_intent": record.payment_intent.id,
        "payment_method": None,
        "payment_method_details": None,
        "receipt_email": None,
        "receipt_number": None,
        "receipt_url": None,
        "refunded": record.amount_refunded >= record.amount > 0,
        "refunds": embedded_list(record.refunds, refund, f"/v1/charges/{record.id}/refunds"),
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded" if record.succeeded else "failed",
        "transfer_data": None,
        "transfer_group": None,
    }


def refund(record: Refund) -> StripeObject:
    return {
        "id": record.id,
        "object": "refund",
        "amount": record.amount,
        "balance_transaction": record.balance_transaction.id,
        "charge": record.charge.id,
        "created": record.created,
        "currency": record.charge.currency,
        "customer": record.charge.customer.id,
        "customer_account": None,
        "destination_details": {"card": {"type": "refund"}, "type": "card"},
        "metadata": {},
        "payment_intent": record.charge.payment_intent.id,
        "payment_method": None,
        "reason": record.reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }


def dispute(record: Dispute) -> StripeObject:
    return {
        "id": record.id,
        "object": "dispute",
        "amount": record.amount,
        "balance_transactions": [balance_transaction(t) for t in record.balance_transactions],
        "charge": record.charge.id,
        "created": record.created,
        "currency": record.charge.currency,
        "enhanced_eligibility_types": [],
        "evidence": {field: None for field in DISPUTE_EVIDENCE_FIELDS},
        "evidence_details": {
            "due_by": record.created + 14 * 86_400,
            "enhanced_eligibility": {},
            "has_evidence": record.status != "needs_response",
            "past_due": False,
            "submission_count": 0 if record.status == "needs_response" else 1,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": record.charge.payment_intent.id,
        "payment_method_details": {
            "card": {
                "brand": "visa",
                "case_type": "chargeback",
                "network": "visa",
                "network_reason_code": "10.4",
            },
            "type": "card",
        },
        "reason": record.reason,
        "status": record.status,
    }


def balance_transaction(record: BalanceTransaction) -> StripeObject:
    return {
        "id": record.id,
        "object": "balance_transaction",
        "amount": record.amount,
        "available_on": record.available_on,
        "balance_type": "payments",
        "created": record.created,
        "currency": record.currency,
        "description": record.description,
        "exchange_rate": None if record.exchange_rate is None else float(record.exchange_rate),
        "fee": record.fee,
        "fee_details": [
            {
                "amount": record.fee,
                "application": None,
                "currency": record.currency,
                "description": "Stripe processing fees",
                "type": "stripe_fee",
            }
        ]
        if record.fee
        else [],
        "net": record.net,
        "reporting_category": record.reporting_category,
        "source": record.source_id,
        "status": "available",
        "type": record.type,
    }


def credit_note(record: CreditNote) -> StripeObject:
    invoice_record = record.invoice
    line = {
        "id": record.id.replace("cn_", "cnli_", 1),
        "object": "credit_note_line_item",
        "amount": record.amount,
        "description": "Credit for a refunded payment",
        "discount_amount": 0,
        "discount_amounts": [],
        "invoice_line_item": None,
        "livemode": False,
        "metadata": None,
        "pretax_credit_amounts": [],
        "quantity": 1,
        "tax_rates": [],
        "taxes": [],
        "type": "custom_line_item",
        "unit_amount": record.amount,
        "unit_amount_decimal": str(record.amount),
    }
    return {
        "id": record.id,
        "object": "credit_note",
        "amount": record.amount,
        "amount_shipping": 0,
        "created": record.created,
        "currency": invoice_record.currency,
        "customer": invoice_record.customer.id,
        "customer_account": None,
        "customer_balance_transaction": None,
        "discount_amount": 0,
        "discount_amounts": [],
        "effective_at": record.created,
        "invoice": invoice_record.id,
        "lines": embedded_list([line], dict, f"/v1/credit_notes/{record.id}/lines"),
        "livemode": False,
        "memo": None,
        "metadata": {},
        "number": record.number,
        "out_of_band_amount": None,
        "pdf": None,
        "post_payment_amount": record.amount,
        "pre_payment_amount": 0,
        "pretax_credit_amounts": [],
        "reason": record.reason,
        "refunds": [
            {
                "amount_refunded": record.amount,
                "payment_record_refund": None,
                "refund": record.refund.id,
                "type": "refund",
            }
        ]
        if record.refund
        else [],
        "shipping_cost": None,
        "status": "issued",
        "subtotal": record.amount,
        "subtotal_excluding_tax": record.amount,
        "total": record.amount,
        "total_excluding_tax": record.amount,
        "total_taxes": [],
        "type": "post_payment",
        "voided_at": None,
    }


def payout(record: Payout) -> StripeObject:
    return {
        "id": record.id,
        "object": "payout",
        "amount": record.amount,
        "application_fee": None,
        "application_fee_amount": None,
        "arrival_date": record.arrival_date,
        "automatic": True,
        "balance_transaction": record.balance_transaction.id
        if record.balance_transaction
        else None,
        "created": record.created,
        "currency": record.currency,
        "description": "STRIPE PAYOUT",
        "destination": "ba_sandboxbankaccount",
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "livemode": False,
        "metadata": {},
        "method": "standard",
        "original_payout": None,
        "payout_method": None,
        "reconciliation_status": "completed",
        "reversed_by": None,
        "source_type": "card",
        "statement_descriptor": None,
        "status": "paid",
        "trace_id": None,
        "type": "bank_account",
    }


def event(record: Event) -> StripeObject:
    data: StripeObject = {"object": record.data_object}
    if record.previous_attributes is not None:
        data["previous_attributes"] = record.previous_attributes
    return {
        "id": record.id,
        "object": "event",
        "api_version": record.api_version,
        "created": record.created,
        "data": data,
        "livemode": False,
        "pending_webhooks": 0,
        "request": {"id": None, "idempotency_key": None},
        "type": record.type,
    }


_RENDERERS = {
    Customer: customer,
    Product: product,
    Price: price,
    Coupon: coupon,
    Discount: discount,
    Subscription: subscription,
    SubscriptionItem: subscription_item,
    Invoice: invoice,
    InvoiceItem: invoice_item,
    PaymentIntent: payment_intent,
    Charge: charge,
    Refund: refund,
    Dispute: dispute,
    BalanceTransaction: balance_transaction,
    CreditNote: credit_note,
    Payout: payout,
    Event: event,
}


def render(record) -> StripeObject:
    return _RENDERERS[type(record)](record)


def render_name(record) -> str:
    """The Stripe `object` name of a record, deleted or not."""
    return _OBJECT_NAMES[type(record)]


_OBJECT_NAMES = {
    Customer: "customer",
    Product: "product",
    Price: "price",
    Coupon: "coupon",
    Discount: "discount",
    Subscription: "subscription",
    SubscriptionItem: "subscription_item",
    Invoice: "invoice",
    InvoiceItem: "invoiceitem",
    PaymentIntent: "payment_intent",
    Charge: "charge",
    Refund: "refund",
    Dispute: "dispute",
    BalanceTransaction: "balance_transaction",
    CreditNote: "credit_note",
    Payout: "payout",
    Event: "event",
}
