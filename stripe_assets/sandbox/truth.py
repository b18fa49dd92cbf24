"""The simulation's own ledger: object counts and MRR, computed from its records, not its API.

MRR follows DESIGN.md: a subscription counts while `active` or `past_due`; each licensed recurring
item contributes unit_amount × quantity normalized to a month; figures are taken at the last
instant of each month (the current month at `as_of`), summed per currency, rounded once to whole
minor units. Only subscriptions with positive MRR count as active subscriptions and customers.
"""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from .calendar import add_months, from_epoch, month_label, month_start
from .simulation import Business, Subscription

API_VERSION = "2026-10-28.endive"
COUNTED_STATUSES = frozenset({"active", "past_due"})


def subscription_mrr_at(subscription: Subscription, instant: int) -> Fraction:
    if subscription.created > instant or subscription.status_at(instant) not in COUNTED_STATUSES:
        return Fraction(0)
    return sum(
        (
            Fraction(item.price.unit_amount * item.quantity, item.price.months_per_period)
            for item in subscription.items
            if item.price.usage_type == "licensed"
        ),
        Fraction(0),
    )


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
    rows = []
    for month, instant in month_end_instants(business):
        totals: dict[str, Fraction] = defaultdict(Fraction)
        subscriptions: dict[str, int] = defaultdict(int)
        customers: dict[str, set[str]] = defaultdict(set)
        for subscription in business.subscriptions:
            mrr = subscription_mrr_at(subscription, instant)
            if mrr > 0:
                totals[subscription.currency] += mrr
                subscriptions[subscription.currency] += 1
                customers[subscription.currency].add(subscription.customer.id)
        for currency in sorted(totals):
            rows.append(
                {
                    "month": month,
                    "currency": currency,
                    "mrr_minor": _round_half_up(totals[currency]),
                    "active_subscriptions": subscriptions[currency],
                    "active_customers": len(customers[currency]),
                }
            )
    return rows


def table_counts(business: Business) -> dict[str, dict[str, int]]:
    deleted_customers = sum(1 for c in business.customers if c.deleted_at is not None)
    listed = {
        "customers": len(business.customers) - deleted_customers,
        "products": len(business.products),
        "prices": len(business.prices),
        "subscriptions": len(business.subscriptions),
        "subscription_items": sum(len(s.items) for s in business.subscriptions),
        "invoices": len(business.invoices),
        "invoice_line_items": sum(len(i.lines) for i in business.invoices),
        "charges": len(business.charges),
    }
    deleted = {"customers": deleted_customers}
    return {table: {"live": n, "deleted": deleted.get(table, 0)} for table, n in listed.items()}


def truth(business: Business) -> dict:
    return {
        "as_of": from_epoch(business.as_of).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "api_version": API_VERSION,
        "tables": table_counts(business),
        "mrr": mrr_by_month(business),
    }


def _round_half_up(amount: Fraction) -> int:
    return int((Decimal(amount.numerator) / Decimal(amount.denominator)).quantize(0, ROUND_HALF_UP))
