"""The simulation's own ledger: object counts and MRR, computed from its records, not its API.

MRR follows docs/DESIGN.md: a subscription counts while `active` or `past_due`; each licensed
recurring item contributes its price for its quantity (per unit, per package or by tiers)
normalized to a month, less `forever` coupons, never below
zero; figures are taken at the last instant of each month (the current month at `as_of`), summed
per currency, rounded once to whole minor units. A coupon's `amount_off` applies per billing
period, so it is normalized to a month like the items. Only subscriptions with positive MRR count
as active subscriptions and customers.

The ledger reads each subscription's MRR history, which the simulation appends to whenever the
status, items or discount change; it never renders or reads an API object.
"""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from .calendar import add_months, from_epoch, month_label, month_start
from .objects import API_VERSION
from .records import Subscription
from .simulation import Business


def iso(instant: int) -> str:
    return from_epoch(instant).strftime("%Y-%m-%dT%H:%M:%SZ")


def mrr_at(subscription: Subscription, instant: int) -> Fraction:
    """The subscription's MRR at `instant`: the last history point at or before it."""
    current = Fraction(0)
    for point in subscription.history:
        if point.at > instant:
            break
        current = point.mrr
    return current


def month_end_instants(business: Business) -> list[tuple[str, int]]:
    """(month, instant) pairs: each month's last second, and `as_of` for the current month."""
    first = min((s.created for s in business.subscriptions), default=business.as_of)
    instants, month = [], month_start(first)
    while month <= business.as_of:
        next_month = add_months(month, 1)
        instants.append((month_label(month), min(next_month - 1, business.as_of)))
        month = next_month
    return instants


def mrr_by_month(business: Business) -> list[dict]:
    totals: dict[tuple[str, str], Fraction] = defaultdict(Fraction)
    subscriptions: dict[tuple[str, str], int] = defaultdict(int)
    customers: dict[tuple[str, str], set[str]] = defaultdict(set)
    instants = month_end_instants(business)
    for subscription in business.subscriptions:
        if not subscription.history:
            continue
        first_change = subscription.history[0].at
        for month, instant in instants:
            if instant < first_change:
                continue
            mrr = mrr_at(subscription, instant)
            if mrr > 0:
                key = (month, subscription.currency)
                totals[key] += mrr
                subscriptions[key] += 1
                customers[key].add(subscription.customer.id)
    return [
        {
            "month": month,
            "currency": currency,
            "mrr_minor": _round_half_up(totals[(month, currency)]),
            "active_subscriptions": subscriptions[(month, currency)],
            "active_customers": len(customers[(month, currency)]),
        }
        for month, currency in sorted(totals)
    ]


def table_counts(business: Business) -> dict[str, dict[str, int]]:
    """Per raw table, what the API lists now (`live`) and what was deleted so far."""

    def split(records) -> dict[str, int]:
        deleted = sum(1 for r in records if r.deleted_at is not None)
        return {"live": len(records) - deleted, "deleted": deleted}

    def listed(records) -> dict[str, int]:
        return {"live": len(records), "deleted": 0}

    return {
        "customers": split(business.customers),
        "products": split(business.products),
        "prices": listed(business.prices),
        "coupons": split(business.coupons),
        "subscriptions": listed(business.subscriptions),
        "subscription_items": split(business.subscription_items),
        "invoices": listed(business.invoices),
        "invoice_line_items": {"live": sum(len(i.lines) for i in business.invoices), "deleted": 0},
        "invoice_items": listed(business.invoice_items),
        "credit_notes": listed(business.credit_notes),
        "payment_intents": listed(business.payment_intents),
        "charges": listed(business.charges),
        "refunds": listed(business.refunds),
        "disputes": listed(business.disputes),
        "balance_transactions": listed(business.balance_transactions),
        "payouts": listed(business.payouts),
        "events": listed(business.events),
    }


def truth(business: Business) -> dict:
    return {
        "as_of": iso(business.as_of),
        "api_version": API_VERSION,
        "tables": table_counts(business),
        "mrr": mrr_by_month(business),
    }


def _round_half_up(amount: Fraction) -> int:
    return int((Decimal(amount.numerator) / Decimal(amount.denominator)).quantize(0, ROUND_HALF_UP))
