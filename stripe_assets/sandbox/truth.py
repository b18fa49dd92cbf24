"""The simulation's own ledger: object counts and MRR, computed from its records, not its API.

MRR follows docs/DESIGN.md: a subscription counts while `active` or `past_due`; each licensed
recurring item contributes its price for its quantity (per unit, per package or by tiers)
normalized to a month, less `forever` coupons, never below
zero; figures are taken at the last instant of each month (the current month at `as_of`), summed
per currency, rounded once to whole minor units. A coupon's `amount_off` applies per billing
period, so it is normalized to a month like the items. Only subscriptions with positive MRR count
as active subscriptions and customers.

Movements are read per customer within a currency: a customer's MRR in a currency is the sum of
its subscriptions' there, and its change from one month end to the next is new (the first month
it pays in that currency), reactivation (it paid before, then nothing), churn, expansion or
contraction. Each currency's bridge is rounded from running totals (starting, + new,
+ expansion, + reactivation, - contraction, - churned), each figure the difference of the
rounded totals around it, so it closes exactly.

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


MOVEMENTS = ("new", "expansion", "reactivation", "contraction", "churned")


def mrr_movements(business: Business) -> list[dict]:
    instants = month_end_instants(business)
    paying: dict[tuple[str, str], list[Fraction]] = {}  # (customer, currency) -> MRR by month
    for subscription in business.subscriptions:
        if not subscription.history:
            continue
        key = (subscription.customer.id, subscription.currency)
        series = paying.setdefault(key, [Fraction(0)] * len(instants))
        for index, (_, instant) in enumerate(instants):
            if instant >= subscription.history[0].at:
                series[index] += mrr_at(subscription, instant)
    exact: dict[tuple[int, str], dict[str, Fraction]] = defaultdict(
        lambda: dict.fromkeys(("starting", *MOVEMENTS, "ending"), Fraction(0))
    )
    first_month: dict[str, int] = {}
    for (_, currency), series in paying.items():
        paid = [index for index, mrr in enumerate(series) if mrr > 0]
        if not paid:
            continue
        first_month[currency] = min(first_month.get(currency, paid[0]), paid[0])
        for index, mrr in enumerate(series):
            previous = series[index - 1] if index else Fraction(0)
            figures = exact[(index, currency)]
            figures["starting"] += previous
            figures["ending"] += mrr
            if previous == 0 and mrr > 0:
                figures["new" if index == paid[0] else "reactivation"] += mrr
            elif previous > 0 and mrr == 0:
                figures["churned"] += previous
            elif mrr > previous:
                figures["expansion"] += mrr - previous
            else:
                figures["contraction"] += previous - mrr
    rows = []
    for currency, first in sorted(first_month.items()):
        for index in range(first, len(instants)):
            rows.append({"month": instants[index][0], "currency": currency})
            rows[-1].update(_rounded_bridge(exact[(index, currency)]))
    return rows


def _rounded_bridge(exact: dict[str, Fraction]) -> dict[str, int]:
    after_new = exact["starting"] + exact["new"]
    after_expansion = after_new + exact["expansion"]
    after_reactivation = after_expansion + exact["reactivation"]
    after_contraction = exact["ending"] + exact["churned"]
    totals = [exact["starting"], after_new, after_expansion, after_reactivation]
    totals += [after_contraction, exact["ending"]]
    r_start, r_new, r_expansion, r_reactivation, r_contraction, r_end = map(_round_half_up, totals)
    return {
        "starting_mrr_minor": r_start,
        "new_mrr_minor": r_new - r_start,
        "expansion_mrr_minor": r_expansion - r_new,
        "reactivation_mrr_minor": r_reactivation - r_expansion,
        "contraction_mrr_minor": r_reactivation - r_contraction,
        "churned_mrr_minor": r_contraction - r_end,
        "ending_mrr_minor": r_end,
    }


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
        "mrr_movements": mrr_movements(business),
    }


def _round_half_up(amount: Fraction) -> int:
    return int((Decimal(amount.numerator) / Decimal(amount.denominator)).quantize(0, ROUND_HALF_UP))
