"""A deterministic simulated subscription business: the sandbox's source of truth.

The simulation keeps plain records of what happened (signups, subscriptions, invoices, charges).
The HTTP API renders those records as Stripe objects (`objects.py`), and the ledger (`truth.py`)
reads the records directly, so a mistake in the API rendering can never hide inside the truth the
pipeline is tested against.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import date

from .calendar import DAY, add_months, from_epoch, midnight

ID_ALPHABET = string.ascii_letters + string.digits

# (currency, share of signups, country) — North America, Europe and Asia-Pacific.
MARKETS = [("usd", 0.45, "US"), ("eur", 0.25, "DE"), ("gbp", 0.10, "GB"), ("jpy", 0.20, "JP")]

# Monthly list price per currency in minor units; yearly plans cost ten months.
PLANS = {
    "Starter": {"usd": 2000, "eur": 1900, "gbp": 1700, "jpy": 3000},
    "Professional": {"usd": 5000, "eur": 4700, "gbp": 4200, "jpy": 7500},
}
YEARLY_MONTHS_CHARGED = 10
TRIAL_DAYS = 14


@dataclass
class Product:
    id: str
    name: str
    created: int


@dataclass
class Price:
    id: str
    product: Product
    currency: str
    unit_amount: int
    interval: str
    interval_count: int
    usage_type: str
    created: int

    @property
    def months_per_period(self) -> int:
        return {"month": 1, "year": 12}[self.interval] * self.interval_count


@dataclass
class Customer:
    id: str
    created: int
    name: str
    email: str
    currency: str
    country: str
    deleted_at: int | None = None


@dataclass
class SubscriptionItem:
    id: str
    subscription_id: str
    price: Price
    quantity: int
    created: int


@dataclass
class Subscription:
    id: str
    customer: Customer
    created: int
    items: list[SubscriptionItem] = field(default_factory=list)
    trial_start: int | None = None
    trial_end: int | None = None
    canceled_at: int | None = None
    ended_at: int | None = None
    invoices: list[Invoice] = field(default_factory=list)

    @property
    def currency(self) -> str:
        return self.customer.currency

    @property
    def billing_anchor(self) -> int:
        return self.trial_end or self.created

    def status_at(self, instant: int) -> str:
        """Stripe's status as it stood at `instant` (the subscription exists by then)."""
        if self.ended_at is not None and instant >= self.ended_at:
            return "canceled"
        if self.trial_end is not None and instant < self.trial_end:
            return "trialing"
        return "active"


@dataclass
class InvoiceLine:
    id: str
    item: SubscriptionItem
    amount: int
    period_start: int
    period_end: int


@dataclass
class Invoice:
    id: str
    subscription: Subscription
    created: int
    billing_reason: str
    period_start: int
    period_end: int
    lines: list[InvoiceLine] = field(default_factory=list)
    charge: Charge | None = None

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)


@dataclass
class Charge:
    id: str
    invoice: Invoice
    created: int


@dataclass(frozen=True)
class BusinessPlan:
    """What to simulate: how many signups over which dates, from which seed."""

    customers: int
    start: date
    end: date
    seed: int


@dataclass
class Business:
    """Everything the simulated company has done up to `as_of`."""

    as_of: int
    products: list[Product] = field(default_factory=list)
    prices: list[Price] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    charges: list[Charge] = field(default_factory=list)


class _Simulator:
    """Plays one business forward; every random choice comes from one seeded generator."""

    def __init__(self, plan: BusinessPlan):
        self.rng = random.Random(plan.seed)
        self.plan = plan
        self.start = midnight(plan.start)
        self.business = Business(as_of=midnight(plan.end))
        self._used_ids: set[str] = set()

    def new_id(self, prefix: str, length: int = 14) -> str:
        while True:
            candidate = prefix + "_" + "".join(self.rng.choices(ID_ALPHABET, k=length))
            if candidate not in self._used_ids:
                self._used_ids.add(candidate)
                return candidate

    def run(self) -> Business:
        self.build_catalog()
        for signup in sorted(self.signup_times()):
            self.sign_up(signup)
        return self.business

    def build_catalog(self) -> None:
        for name, monthly_amounts in PLANS.items():
            product = Product(self.new_id("prod"), name, self.start)
            self.business.products.append(product)
            for currency, amount in monthly_amounts.items():
                for interval, unit_amount in (
                    ("month", amount),
                    ("year", amount * YEARLY_MONTHS_CHARGED),
                ):
                    self.business.prices.append(
                        Price(
                            id=self.new_id("price", 24),
                            product=product,
                            currency=currency,
                            unit_amount=unit_amount,
                            interval=interval,
                            interval_count=1,
                            usage_type="licensed",
                            created=self.start,
                        )
                    )

    def signup_times(self) -> list[int]:
        """Signups grow linearly over the period: density rises from the start to the end."""
        span = self.business.as_of - self.start - DAY
        return [
            self.start + int(span * self.rng.random() ** 0.5) for _ in range(self.plan.customers)
        ]

    def sign_up(self, signup: int) -> None:
        currency, country = self.pick_market()
        number = len(self.business.customers) + 1
        customer = Customer(
            id=self.new_id("cus"),
            created=signup,
            name=f"Customer {number}",
            email=f"customer{number}@example.com",
            currency=currency,
            country=country,
        )
        self.business.customers.append(customer)
        self.subscribe(customer, signup + self.rng.randint(30, 600))

    def pick_market(self) -> tuple[str, str]:
        roll, cumulative = self.rng.random(), 0.0
        for currency, share, country in MARKETS:
            cumulative += share
            if roll < cumulative:
                return currency, country
        return MARKETS[-1][0], MARKETS[-1][2]

    def pick_price(self, currency: str) -> tuple[Price, int]:
        plan_name = "Starter" if self.rng.random() < 0.65 else "Professional"
        interval = "month" if self.rng.random() < 0.8 else "year"
        price = next(
            p
            for p in self.business.prices
            if p.product.name == plan_name and p.currency == currency and p.interval == interval
        )
        seats = self.rng.randint(1, 5) if plan_name == "Professional" else 1
        return price, seats

    def subscribe(self, customer: Customer, created: int) -> None:
        as_of = self.business.as_of
        subscription = Subscription(id=self.new_id("sub", 24), customer=customer, created=created)
        price, quantity = self.pick_price(customer.currency)
        subscription.items.append(
            SubscriptionItem(self.new_id("si"), subscription.id, price, quantity, created)
        )
        if self.rng.random() < 0.4:
            subscription.trial_start = created
            subscription.trial_end = created + TRIAL_DAYS * DAY
            self.invoice(subscription, created, "subscription_create", created, created, trial=True)
            if self.rng.random() < 0.35 and subscription.trial_end < as_of:
                subscription.canceled_at = subscription.ended_at = subscription.trial_end
        self.business.subscriptions.append(subscription)
        if subscription.ended_at is None:
            self.bill_until_churn(subscription, price)
        self.maybe_delete_customer(customer, subscription)

    def bill_until_churn(self, subscription: Subscription, price: Price) -> None:
        """Invoice each period; at each renewal the customer may have cancelled mid-period."""
        as_of, anchor = self.business.as_of, subscription.billing_anchor
        churn_per_period = 0.03 if price.interval == "month" else 0.2
        anchor_day = from_epoch(anchor).day
        period = 0
        period_start = anchor
        while period_start < as_of:
            period_end = add_months(anchor, (period + 1) * price.months_per_period, anchor_day)
            reason = (
                "subscription_create"
                if period_start == subscription.created
                else "subscription_cycle"
            )
            self.invoice(subscription, period_start, reason, period_start, period_end)
            if self.rng.random() < churn_per_period:
                cancel = period_start + 1 + int((period_end - period_start - 1) * self.rng.random())
                if cancel < as_of:
                    subscription.canceled_at = subscription.ended_at = cancel
                    return
            period, period_start = period + 1, period_end

    def invoice(
        self,
        subscription: Subscription,
        created: int,
        reason: str,
        period_start: int,
        period_end: int,
        trial: bool = False,
    ) -> None:
        invoice = Invoice(
            id=self.new_id("in", 24),
            subscription=subscription,
            created=created,
            billing_reason=reason,
            period_start=period_start,
            period_end=period_end,
        )
        for item in subscription.items:
            amount = 0 if trial else item.price.unit_amount * item.quantity
            invoice.lines.append(
                InvoiceLine(self.new_id("il", 24), item, amount, period_start, period_end)
            )
        self.business.invoices.append(invoice)
        subscription.invoices.append(invoice)
        if invoice.total > 0:
            charge_time = min(created + self.rng.randint(60, 3600), self.business.as_of - 1)
            invoice.charge = Charge(self.new_id("ch", 24), invoice, charge_time)
            self.business.charges.append(invoice.charge)

    def maybe_delete_customer(self, customer: Customer, subscription: Subscription) -> None:
        if subscription.ended_at is None or self.rng.random() >= 0.25:
            return
        deleted_at = subscription.ended_at + self.rng.randint(1, 60) * DAY
        if deleted_at < self.business.as_of:
            customer.deleted_at = deleted_at


def simulate(plan: BusinessPlan) -> Business:
    return _Simulator(plan).run()
