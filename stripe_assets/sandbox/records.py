"""The simulation's own records: what happened to the business, as plain mutable objects.

Records are the single source for both the API (rendered as Stripe objects in `objects.py`) and
the ledger (`truth.py`, which never looks at rendered objects). They change only when the
simulation clock reaches the moment of a change, so rendering a record at any instant of the
simulation gives the object as Stripe would have returned it then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction


@dataclass(slots=True, eq=False)
class Product:
    id: str
    name: str
    created: int
    updated: int
    active: bool = True
    deleted_at: int | None = None


@dataclass(frozen=True, slots=True)
class Tier:
    up_to: int | None  # None: the last tier, without bound
    unit_amount: int
    flat_amount: int = 0


@dataclass(slots=True, eq=False)
class Price:
    id: str
    product: Product
    currency: str
    unit_amount: int | None  # None for a tiered price
    interval: str
    interval_count: int
    usage_type: str  # licensed | metered
    created: int
    nickname: str
    lookup_key: str | None = None
    active: bool = True
    tiers_mode: str | None = None  # graduated | volume: billing_scheme `tiered`
    tiers: tuple[Tier, ...] = ()
    transform_quantity: tuple[int, str] | None = None  # (divide_by, round: up | down)

    @property
    def months_per_period(self) -> int:
        return {"month": 1, "year": 12}[self.interval] * self.interval_count

    def amount(self, quantity: int) -> int:
        """What one period of `quantity` costs, as Stripe prices it: per unit; in packages
        (`transform_quantity`: the quantity divided, rounded up or down, times the unit amount);
        or in tiers, `volume` (every unit at the tier the quantity falls in, plus its flat
        amount) or `graduated` (each unit at the tier it falls in, plus the flat amount of each
        tier reached)."""
        if self.transform_quantity is not None:
            divide_by, rounding = self.transform_quantity
            packages = -(-quantity // divide_by) if rounding == "up" else quantity // divide_by
            return self.unit_amount * packages
        if self.tiers_mode == "volume":
            tier = next(t for t in self.tiers if t.up_to is None or quantity <= t.up_to)
            return quantity * tier.unit_amount + tier.flat_amount
        if self.tiers_mode == "graduated":
            total, below = 0, 0
            for tier in self.tiers:
                if quantity <= below:
                    break
                units = (quantity if tier.up_to is None else min(quantity, tier.up_to)) - below
                total += units * tier.unit_amount + tier.flat_amount
                below = tier.up_to if tier.up_to is not None else quantity
            return total
        return self.unit_amount * quantity


@dataclass(slots=True, eq=False)
class Coupon:
    id: str
    name: str
    created: int
    duration: str  # forever | once | repeating
    duration_in_months: int | None
    percent_off: float | None
    amount_off: int | None
    currency: str | None
    times_redeemed: int = 0
    deleted_at: int | None = None


@dataclass(slots=True, eq=False)
class Discount:
    """A coupon redeemed on a subscription, or on a customer for all its subscriptions."""

    id: str
    coupon: Coupon
    customer: Customer
    subscription: Subscription | None  # None: the customer's own discount
    start: int
    end: int | None  # repeating coupons end; forever and once do not

    def applies_at(self, instant: int) -> bool:
        return self.start <= instant and (self.end is None or instant < self.end)


@dataclass(slots=True, eq=False)
class Customer:
    id: str
    created: int
    name: str
    email: str
    currency: str
    country: str
    city: str
    deleted_at: int | None = None
    discount: Discount | None = None
    subscriptions: list[Subscription] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class SubscriptionItem:
    id: str
    subscription: Subscription
    price: Price
    quantity: int
    created: int
    deleted_at: int | None = None
    # after a change made with proration_behavior=none: the price and quantity billed until
    # then, which MRR counts until a period is billed at the new ones (truth.py)
    counted: tuple[Price, int] | None = None


@dataclass(slots=True, eq=False)
class MrrPoint:
    """The subscription's status and MRR from `at` until the next point (exact, minor units)."""

    at: int
    status: str
    mrr: Fraction


@dataclass(slots=True, eq=False)
class Subscription:
    id: str
    customer: Customer
    created: int
    status: str
    current_period_start: int
    current_period_end: int
    billing_anchor: int
    currency: str  # the customer's when created: a customer may switch currency later
    items: list[SubscriptionItem] = field(default_factory=list)
    discounts: list[Discount] = field(default_factory=list)
    trial_start: int | None = None
    trial_end: int | None = None
    cancel_at_period_end: bool = False
    cancel_at: int | None = None
    canceled_at: int | None = None
    ended_at: int | None = None
    invoices: list[Invoice] = field(default_factory=list)
    history: list[MrrPoint] = field(default_factory=list)

    @property
    def live_items(self) -> list[SubscriptionItem]:
        return [item for item in self.items if item.deleted_at is None]

    def discounts_at(self, instant: int) -> list[Discount]:
        """The discounts in effect, in the order Stripe applies them: the subscription's own,
        or, when it has none, its customer's (a subscription whose `discounts` are empty
        "inherits the discount from the subscription's customer")."""
        own = [d for d in self.discounts if d.applies_at(instant)]
        inherited = self.customer.discount
        if own or inherited is None or not inherited.applies_at(instant):
            return own
        return [inherited]


@dataclass(slots=True, eq=False)
class InvoiceItem:
    """A pending one-off amount or proration, pulled into the customer's next invoice."""

    id: str
    customer: Customer
    subscription: Subscription | None
    created: int
    amount: int
    description: str
    period_start: int
    period_end: int
    currency: str
    price: Price | None = None
    quantity: int = 1
    proration: bool = False
    subscription_item: SubscriptionItem | None = None  # the item a proration re-prices
    invoice: Invoice | None = None


@dataclass(slots=True, eq=False)
class InvoiceLine:
    id: str
    amount: int
    description: str
    period_start: int
    period_end: int
    quantity: int
    price: Price | None
    proration: bool
    discount_amounts: list[tuple[Discount, int]] = field(default_factory=list)
    subscription_item: SubscriptionItem | None = None
    invoice_item: InvoiceItem | None = None

    @property
    def discount_amount(self) -> int:
        return sum(amount for _, amount in self.discount_amounts)


@dataclass(slots=True, eq=False)
class Invoice:
    id: str
    customer: Customer
    subscription: Subscription | None
    created: int
    billing_reason: str
    period_start: int
    period_end: int
    number: str
    customer_email: str  # invoices keep the customer's details as they were when issued
    customer_name: str
    customer_address: tuple[str, str]  # (country, city)
    currency: str  # its subscription's
    lines: list[InvoiceLine] = field(default_factory=list)
    discounts: list[Discount] = field(default_factory=list)
    status: str = "draft"  # draft | open | paid | uncollectible | void
    finalized_at: int | None = None
    paid_at: int | None = None
    voided_at: int | None = None
    marked_uncollectible_at: int | None = None
    attempt_count: int = 0
    next_payment_attempt: int | None = None
    payment_intent: PaymentIntent | None = None
    credit_notes: list[CreditNote] = field(default_factory=list)

    @property
    def subtotal(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def total_discount(self) -> int:
        return sum(line.discount_amount for line in self.lines)

    def discount_total(self, discount: Discount) -> int:
        return sum(a for line in self.lines for d, a in line.discount_amounts if d is discount)

    @property
    def total(self) -> int:
        return self.subtotal - self.total_discount

    @property
    def amount_paid(self) -> int:
        return self.total if self.status == "paid" else 0


@dataclass(slots=True, eq=False)
class PaymentIntent:
    id: str
    customer: Customer
    invoice: Invoice
    created: int
    amount: int
    status: str = "requires_payment_method"
    charges: list[Charge] = field(default_factory=list)

    @property
    def currency(self) -> str:
        return self.invoice.currency


@dataclass(slots=True, eq=False)
class BalanceTransaction:
    id: str
    created: int
    available_on: int
    amount: int
    fee: int
    currency: str
    type: str  # charge | refund | adjustment | payout
    reporting_category: str
    source_id: str | None  # none for Stripe's own fees
    description: str
    exchange_rate: Decimal | None = None  # the source's currency to this one, when converted

    @property
    def net(self) -> int:
        return self.amount - self.fee


@dataclass(slots=True, eq=False)
class Charge:
    id: str
    customer: Customer
    payment_intent: PaymentIntent
    created: int
    amount: int
    succeeded: bool
    failure_code: str | None = None
    balance_transaction: BalanceTransaction | None = None
    amount_refunded: int = 0
    refunds: list[Refund] = field(default_factory=list)
    dispute: Dispute | None = None

    @property
    def currency(self) -> str:
        return self.payment_intent.currency


@dataclass(slots=True, eq=False)
class Refund:
    id: str
    charge: Charge
    created: int
    amount: int
    reason: str
    balance_transaction: BalanceTransaction
    credit_note: CreditNote | None = None


@dataclass(slots=True, eq=False)
class Dispute:
    id: str
    charge: Charge
    created: int
    amount: int
    reason: str
    status: str = "needs_response"  # needs_response | under_review | won | lost
    closed_at: int | None = None
    balance_transactions: list[BalanceTransaction] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class CreditNote:
    id: str
    invoice: Invoice
    created: int
    amount: int
    reason: str
    number: str
    refund: Refund | None = None


@dataclass(slots=True, eq=False)
class Payout:
    id: str
    created: int
    arrival_date: int
    amount: int
    currency: str
    balance_transaction: BalanceTransaction | None = None


@dataclass(slots=True, eq=False)
class Event:
    id: str
    type: str
    created: int
    data_object: dict
    previous_attributes: dict | None
    api_version: str  # the account's default version when the event was created
