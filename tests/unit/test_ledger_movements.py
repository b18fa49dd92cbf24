"""The sandbox ledger's MRR bridge (truth.mrr_movements), on hand-made subscription histories:
the independent truth that tests/test_mrr_reconciliation.py holds mrr_movements to."""

from datetime import UTC, datetime
from fractions import Fraction

from stripe_assets.sandbox.records import Customer, MrrPoint, Subscription
from stripe_assets.sandbox.simulation import Business
from stripe_assets.sandbox.truth import mrr_movements


def at(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())


def subscription(customer: Customer, currency: str, *points: tuple[str, Fraction]) -> Subscription:
    created = at(points[0][0])
    record = Subscription(
        id=f"sub_{customer.id}_{currency}_{created}",
        customer=customer,
        created=created,
        status="active",
        current_period_start=created,
        current_period_end=created,
        billing_anchor=created,
        currency=currency,
    )
    record.history = [MrrPoint(at(day), "active", Fraction(mrr)) for day, mrr in points]
    return record


def customer(name: str) -> Customer:
    return Customer(f"cus_{name}", at("2026-01-01"), name, f"{name}@example.com", "usd", "US", "")


def bridge() -> dict[tuple[str, str], dict]:
    replaces, moves, returns, thirds = (customer(n) for n in ("a", "b", "c", "d"))
    business = Business(as_of=at("2026-03-15"), events_retention_days=30)
    business.subscriptions = [
        # cancelled and replaced by a dearer subscription within February
        subscription(replaces, "usd", ("2026-01-10", 1000), ("2026-02-05", 0)),
        subscription(replaces, "usd", ("2026-02-05", 1500)),
        # leaves usd for eur in February
        subscription(moves, "usd", ("2026-01-01", 2000), ("2026-02-10", 0)),
        subscription(moves, "eur", ("2026-02-10", 1800)),
        # pays in January, nothing in February, again in March
        subscription(returns, "usd", ("2026-01-01", 300), ("2026-02-15", 0)),
        subscription(returns, "usd", ("2026-03-01", 300)),
        # a third of a minor unit to round
        subscription(thirds, "usd", ("2026-01-01", Fraction(1000, 3))),
    ]
    return {(row["month"], row["currency"]): row for row in mrr_movements(business)}


def figures(row: dict) -> tuple[int, ...]:
    names = ("starting", "new", "expansion", "reactivation", "contraction", "churned", "ending")
    return tuple(row[f"{name}_mrr_minor"] for name in names)


def test_a_replacement_within_the_month_moves_only_by_the_difference():
    january, february = bridge()[("2026-01", "usd")], bridge()[("2026-02", "usd")]
    assert figures(january) == (0, 3633, 0, 0, 0, 0, 3633)
    # replaced: +500 expansion, not 1000 churned and 1500 new; moved away and paused: churned
    assert figures(february) == (3633, 0, 500, 0, 0, 2300, 1833)


def test_a_customer_moving_currency_is_new_in_the_second():
    rows = bridge()
    assert figures(rows[("2026-02", "eur")]) == (0, 1800, 0, 0, 0, 0, 1800)
    assert figures(rows[("2026-03", "eur")]) == (1800, 0, 0, 0, 0, 0, 1800)
    assert ("2026-01", "eur") not in rows, "a currency's bridge starts at its first MRR"


def test_a_return_is_a_reactivation_and_the_bridge_closes_on_rounded_totals():
    rows = bridge()
    assert figures(rows[("2026-03", "usd")]) == (1833, 0, 0, 300, 0, 0, 2133)
    for row in rows.values():
        start, new, expansion, reactivation, contraction, churned, end = figures(row)
        assert end == start + new + expansion + reactivation - contraction - churned
