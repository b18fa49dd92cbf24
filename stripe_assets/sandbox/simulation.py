"""A deterministic simulated subscription business: the sandbox's source of truth.

A discrete-event simulation: every change (a signup, a renewal, a failed payment, an upgrade) is
scheduled at an instant and applied when the clock reaches it, and each applied change emits the
event Stripe would. `advance(days)` simply runs the same clock further, so the business "lives on"
exactly as it would have if it had been simulated that far from the start.

Everything random comes from generators seeded by the plan, so a seed and its arguments always
produce the same business, byte for byte.
"""

from __future__ import annotations

import gc
import heapq
import itertools
import math
import random
import string
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from . import catalog, objects
from .calendar import DAY, add_months, from_epoch, midnight
from .objects import API_VERSION
from .older_versions import in_version
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
    MrrPoint,
    PaymentIntent,
    Payout,
    Price,
    Product,
    Refund,
    Subscription,
    SubscriptionItem,
    Tier,
)

ID_ALPHABET = string.ascii_letters + string.digits
HOUR = 3600
COUNTED_STATUSES = frozenset({"active", "past_due"})
ENDED_STATUSES = frozenset({"canceled", "incomplete_expired"})
RETRY_DAYS = (3, 5, 7)  # Smart Retries after a failed renewal payment
TRIAL_DAYS = 14
PAYOUT_EVERY_DAYS = 7
# Stripe bills its own fees (Billing's 0.7% of recurring volume, Radar, ...) as balance
# transactions of type `stripe_fee` in the account's default currency: once a month here
BILLING_FEE_RATE = Fraction(7, 1000)
FEE_CURRENCY = "usd"


@dataclass(frozen=True)
class BusinessPlan:
    """What to simulate: how many signups over which dates, from which seed.

    `lifecycle="basic"` keeps only changes that never alter a live subscription's MRR mid-life
    (no upgrades, seat changes, discounts, failed payments or pauses), for consumers that do not
    yet rebuild that history; `"full"` switches every case on.
    """

    customers: int
    start: date
    end: date
    seed: int
    lifecycle: str = "full"
    events_retention_days: int = 30
    account_api_version: str = API_VERSION  # the shape of events' objects (older_versions.py)
    settlement_currency: str | None = None  # None: each currency settles in itself

    @property
    def full(self) -> bool:
        return self.lifecycle == "full"


@dataclass
class Business:
    """Everything the simulated company has done up to `as_of`, in creation order."""

    as_of: int
    events_retention_days: int
    products: list[Product] = field(default_factory=list)
    prices: list[Price] = field(default_factory=list)
    coupons: list[Coupon] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    subscription_items: list[SubscriptionItem] = field(default_factory=list)
    invoice_items: list[InvoiceItem] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    payment_intents: list[PaymentIntent] = field(default_factory=list)
    charges: list[Charge] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    disputes: list[Dispute] = field(default_factory=list)
    balance_transactions: list[BalanceTransaction] = field(default_factory=list)
    credit_notes: list[CreditNote] = field(default_factory=list)
    payouts: list[Payout] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    @property
    def events_since(self) -> int:
        return self.as_of - self.events_retention_days * DAY


class Simulation:
    """Plays one business forward in time; `run_until` and `advance` move the clock."""

    def __init__(self, plan: BusinessPlan):
        self.plan = plan
        self.rng = random.Random(plan.seed)
        self.id_rng = random.Random(plan.seed + 1)
        # the billing setups added since (free-to-paid upgrades, ...) draw from a stream of
        # their own, so that each one added leaves the rest of a seed's business as it was
        self.setup_rng = random.Random(plan.seed + 2)
        self.discount_rng = random.Random(plan.seed + 3)
        self.proration_rng = random.Random(plan.seed + 4)
        self.replacement_rng = random.Random(plan.seed + 5)
        self.removal_rng = random.Random(plan.seed + 6)
        self.start = midnight(plan.start)
        self.business = Business(as_of=self.start, events_retention_days=plan.events_retention_days)
        self._queue: list[tuple[int, int, Callable, tuple]] = []
        self._sequence = itertools.count()
        self._used_ids: set[str] = set()
        self._keep_events_after = self.start
        self._not_paid_out: list[BalanceTransaction] = []
        self._billed_volume = 0  # FEE_CURRENCY charged since the last Billing fee
        # per (customer, currency): an invoice pulls in only the items of its own currency
        self._pending_items: dict[tuple[str, str], list[InvoiceItem]] = defaultdict(list)
        self._pending_events: list[tuple[str, object, dict | None, dict | None]] = []
        self.now = self.start
        self._build_catalog()
        end = midnight(plan.end)
        self._schedule_signups(self.start, end, plan.customers)
        self._at(self.start + PAYOUT_EVERY_DAYS * DAY, self._pay_out)
        self._at(_next_month_start(self.start), self._charge_billing_fee, self.start)
        self.run_until(end)

    # -- the clock -------------------------------------------------------------------------

    def _at(self, instant: int, action: Callable, *args) -> None:
        heapq.heappush(self._queue, (instant, next(self._sequence), action, args))

    def run_until(self, end: int) -> None:
        """Apply every scheduled change before `end`; the business then stands at `end`.

        The records only grow and never become garbage, so the cyclic garbage collector is
        paused while they are built and then told to leave them alone (`gc.freeze`): scanning
        millions of live records would otherwise dominate both simulating and serving them.
        """
        self._keep_events_after = end - self.plan.events_retention_days * DAY
        gc.disable()
        try:
            while self._queue and self._queue[0][0] < end:
                instant, _, action, args = heapq.heappop(self._queue)
                self.now = instant
                action(*args)
                self._flush_events()
            self.now = self.business.as_of = end
            events_since = self.business.events_since
            self.business.events = [e for e in self.business.events if e.created >= events_since]
        finally:
            gc.enable()
            gc.freeze()

    def advance(self, days: int) -> None:
        """Live on for `days` more days, with signups at the rate the history ended on."""
        end = self.business.as_of + days * DAY
        daily = self.plan.customers / max(1, (midnight(self.plan.end) - self.start) // DAY)
        growth = 1.0 + 0.5 * (self.business.as_of - self.start) / max(
            1, midnight(self.plan.end) - self.start
        )
        day = self.business.as_of
        while day < end:
            expected = daily * growth * _season(day)
            count = int(expected) + (1 if self.rng.random() < expected - int(expected) else 0)
            for _ in range(count):
                self._at(day + self.rng.randrange(DAY), self._sign_up)
            day += DAY
        self.run_until(end)

    def _schedule_signups(self, start: int, end: int, customers: int) -> None:
        """Signups grow over the period and follow the seasons."""
        days = max(1, (end - start) // DAY)
        weights = [(0.4 + d / days) * _season(start + d * DAY) for d in range(days)]
        cumulative = list(itertools.accumulate(weights))
        for day in self.rng.choices(range(days), cum_weights=cumulative, k=customers):
            self._at(start + day * DAY + self.rng.randrange(DAY), self._sign_up)

    # -- ids and events ----------------------------------------------------------------------

    def new_id(self, prefix: str, length: int = 14) -> str:
        while True:
            candidate = prefix + "_" + "".join(self.id_rng.choices(ID_ALPHABET, k=length))
            if candidate not in self._used_ids:
                self._used_ids.add(candidate)
                return candidate

    def _emit(self, event_type: str, record, previous_attributes: dict | None = None) -> None:
        """Queue the event Stripe would send; its object is rendered when the action ends.

        Rendering at the end of the action means the last event about an object always carries
        the object as the API now returns it, so a consumer applying events stays exact.
        """
        if self.now >= self._keep_events_after:  # older events are never served: skip them
            self._pending_events.append((event_type, record, previous_attributes, None))

    def _emit_deletion(self, event_type: str, record) -> None:
        """A `*.deleted` event carries the object as it was: call before marking it deleted."""
        if self.now >= self._keep_events_after:
            self._pending_events.append((event_type, record, None, self._rendered(record)))

    def _touch(self, event_type: str, record) -> None:
        """A change with no event of its own: emit `event_type` unless one is already queued."""
        if not any(pending[1] is record for pending in self._pending_events):
            self._emit(event_type, record)

    def _rendered(self, record) -> dict:
        """An event's object, in the account's default API version as Stripe renders it."""
        return in_version(record, objects.render(record), self.plan.account_api_version)

    def _flush_events(self) -> None:
        for event_type, record, previous, snapshot in self._pending_events:
            self.business.events.append(
                Event(
                    id=self.new_id("evt", 24),
                    type=event_type,
                    created=self.now,
                    data_object=snapshot or self._rendered(record),
                    previous_attributes=previous,
                    api_version=self.plan.account_api_version,
                )
            )
        self._pending_events.clear()

    # -- catalog -----------------------------------------------------------------------------

    def _build_catalog(self) -> None:
        business = self.business
        self.plan_prices: dict[tuple[str, str, str], Price] = {}
        for plan in catalog.PLANS:
            product = self._product(plan.name)
            for currency, monthly in plan.monthly.items():
                intervals = ["month", "year"] if plan.yearly else ["month"]
                for interval in intervals:
                    amount = monthly * (catalog.YEARLY_MONTHS_CHARGED if interval == "year" else 1)
                    price = self._price(product, currency, amount, interval, "licensed")
                    self.plan_prices[(plan.name, currency, interval)] = price
        self._build_seat_prices()
        usage = self._product("API usage")
        self.metered_prices = {
            c: self._price(usage, c, a, "month", "metered")
            for c, a in catalog.METERED_UNIT_AMOUNT.items()
        }
        self.add_on_prices: dict[str, list[Price]] = defaultdict(list)
        for number in range(1, catalog.ADD_ON_COUNT + 1):
            add_on = self._product(f"Add-on module {number}")
            for currency, amount in catalog.ADD_ON_MONTHLY.items():
                self.add_on_prices[currency].append(
                    self._price(add_on, currency, amount, "month", "licensed")
                )
        for spec in catalog.COUPONS:
            business.coupons.append(
                Coupon(
                    id=self.new_id("co", 8),
                    name=spec.name,
                    created=self.start,
                    duration=spec.duration,
                    duration_in_months=spec.duration_in_months,
                    percent_off=spec.percent_off,
                    amount_off=spec.amount_off,
                    currency=spec.currency,
                )
            )
        beta = self._product("Beta programme")
        span = midnight(self.plan.end) - self.start
        self._at(self.start + int(span * 0.3), self._delete_product, beta)
        self._at(self.start + int(span * 0.4), self._raise_starter_price)
        self._at(self.start + int(span * 0.7), self._delete_coupon, catalog.RETIRED_COUPON)

    def _build_seat_prices(self) -> None:
        """Team's seats sold in tiers and in packs (catalog.SEAT_TIERS, SEAT_PACK), monthly."""
        self.seat_prices: dict[str, list[Price]] = defaultdict(list)
        team = next(p for p in self.business.products if p.name == "Team")
        plan = next(p for p in catalog.PLANS if p.name == "Team")
        seats, priced_as = catalog.SEAT_PACK
        for currency, seat in plan.monthly.items():
            for mode, tiers in catalog.SEAT_TIERS.items():
                price = self._price(team, currency, None, "month", "licensed")
                price.tiers_mode, price.nickname = mode, f"{price.nickname} ({mode})"
                price.tiers = tuple(
                    Tier(up_to, round(seat * unit), round(seat * flat))
                    for up_to, unit, flat in tiers
                )
                self.seat_prices[currency].append(price)
            price = self._price(team, currency, round(seat * priced_as), "month", "licensed")
            price.transform_quantity = (seats, "up")
            price.nickname = f"{price.nickname} (packs)"
            self.seat_prices[currency].append(price)

    def _product(self, name: str) -> Product:
        product = Product(self.new_id("prod"), name, self.now, self.now)
        self.business.products.append(product)
        self._emit("product.created", product)
        return product

    def _price(
        self, product: Product, currency: str, amount: int | None, interval: str, usage: str
    ) -> Price:
        price = Price(
            id=self.new_id("price", 24),
            product=product,
            currency=currency,
            unit_amount=amount,
            interval=interval,
            interval_count=1,
            usage_type=usage,
            created=self.now,
            nickname=f"{product.name} {interval}ly {currency.upper()}",
        )
        self.business.prices.append(price)
        self._emit("price.created", price)
        return price

    def _delete_product(self, product: Product) -> None:
        self._emit_deletion("product.deleted", product)
        product.deleted_at = product.updated = self.now
        product.active = False

    def _raise_starter_price(self) -> None:
        starter = next(p for p in self.business.products if p.name == "Starter")
        for currency, monthly in catalog.STARTER_PRICE_RISE.items():
            old = self.plan_prices[("Starter", currency, "month")]
            old.active = False
            self._emit("price.updated", old, {"active": True})
            self.plan_prices[("Starter", currency, "month")] = self._price(
                starter, currency, monthly, "month", "licensed"
            )

    def _delete_coupon(self, name: str) -> None:
        coupon = next(c for c in self.business.coupons if c.name == name)
        self._emit_deletion("coupon.deleted", coupon)
        coupon.deleted_at = self.now

    # -- customers ---------------------------------------------------------------------------

    def _sign_up(self) -> None:
        currency, country, city = self._market()
        number = len(self.business.customers) + 1
        customer = Customer(
            id=self.new_id("cus"),
            created=self.now,
            name=f"Customer {number}",
            email=f"customer{number}@example.com",
            currency=currency,
            country=country,
            city=city,
        )
        self.business.customers.append(customer)
        if self.plan.full and self.discount_rng.random() < catalog.CUSTOMER_DISCOUNT_SHARE:
            coupon = self.discount_rng.choice(self._usable_coupons(currency))
            customer.discount = self._redeem(coupon, customer, None)
            if self.removal_rng.random() < catalog.CUSTOMER_DISCOUNT_REMOVED_SHARE:
                # from the events window on, as far as a month and a half: some come after
                # the first sync, as events the incremental sync has to apply
                removal = max(self.now, self._keep_events_after)
                removal += self.removal_rng.randint(DAY, 45 * DAY)
                self._at(removal, self._remove_customer_discount, customer)
        self._emit("customer.created", customer)
        self._at(self.now + self.rng.randint(30, 900), self._subscribe, customer, True)

    def _market(self) -> tuple[str, str, str]:
        shares = [share for _, share, _ in catalog.MARKETS]
        currency, _, places = self.rng.choices(catalog.MARKETS, weights=shares)[0]
        country, city = self.rng.choice(places)
        return currency, country, city

    def _update_customer(self, customer: Customer) -> None:
        if customer.deleted_at is not None:
            return
        if self.rng.random() < 0.5:
            previous = {"email": customer.email}
            customer.email = customer.email.replace("@", f"+{self.rng.randint(1, 99)}@")
        else:
            previous = {"address": objects.address(customer.country, customer.city)}
            currency_places = next(p for c, _, p in catalog.MARKETS if c == customer.currency)
            customer.country, customer.city = self.rng.choice(currency_places)
        self._emit("customer.updated", customer, previous)

    def _remove_customer_discount(self, customer: Customer) -> None:
        """`DELETE /v1/customers/:id/discount`: Stripe says so with `customer.discount.deleted`,
        whose object is the discount; the customer no longer shows it, and the subscriptions
        that inherited it are billed without it from now on."""
        if customer.deleted_at is not None or customer.discount is None:
            return
        self._emit_deletion("customer.discount.deleted", customer.discount)
        customer.discount = None
        for subscription in customer.subscriptions:
            self._record_mrr(subscription)

    def _delete_customer(self, customer: Customer) -> None:
        if customer.deleted_at is not None or any(
            s.status not in ENDED_STATUSES for s in customer.subscriptions
        ):
            return
        self._emit_deletion("customer.deleted", customer)
        customer.deleted_at = self.now

    # -- subscriptions -----------------------------------------------------------------------

    def _subscribe(self, customer: Customer, first: bool) -> None:
        if customer.deleted_at is not None:
            return
        plan = self.rng.choices(catalog.PLANS, weights=[p.share for p in catalog.PLANS])[0]
        interval = "year" if plan.yearly and self.rng.random() < 0.2 else "month"
        currency = customer.currency
        subscription = Subscription(
            id=self.new_id("sub", 24),
            customer=customer,
            created=self.now,
            status="incomplete",
            current_period_start=self.now,
            current_period_end=self.now,
            billing_anchor=self.now,
            currency=customer.currency,
        )
        self.business.subscriptions.append(subscription)
        customer.subscriptions.append(subscription)
        price = self.plan_prices[(plan.name, currency, interval)]
        monthly_team = plan.name == "Team" and interval == "month"
        if monthly_team and self.setup_rng.random() < catalog.SEAT_SETUP_SHARE:
            price = self.setup_rng.choice(self.seat_prices[currency])
        self._add_item(subscription, price, self.rng.randint(*plan.seats))
        if plan.name in ("Professional", "Team") and interval == "month":
            if self.rng.random() < 0.25:
                self._add_item(subscription, self.metered_prices[currency], 1)
            if plan.name == "Team" and self.rng.random() < 0.3:
                for price in self.add_on_prices[currency][
                    : self.rng.randint(10, catalog.ADD_ON_COUNT)
                ]:
                    self._add_item(subscription, price, 1)
        if self.plan.full and plan.name != "Free" and self.rng.random() < 0.2:
            self._apply_coupon(subscription)
        if plan.name != "Free" and first and self.rng.random() < 0.4:
            subscription.trial_start = self.now
            subscription.trial_end = self.now + TRIAL_DAYS * DAY
            subscription.status = "trialing"  # from creation: no status change to announce
            subscription.current_period_end = subscription.trial_end
            subscription.billing_anchor = subscription.trial_end
            self._emit("customer.subscription.created", subscription)
            self._record_mrr(subscription)
            self._invoice(subscription, "subscription_create", self.now, self.now, trial=True)
            self._at(subscription.trial_end, self._end_trial, subscription)
            return
        self._start_period(subscription, self.now)
        self._emit("customer.subscription.created", subscription)
        self._bill_period(subscription, "subscription_create", first_invoice=True)

    def _add_item(self, subscription: Subscription, price: Price, quantity: int) -> None:
        item = SubscriptionItem(self.new_id("si"), subscription, price, quantity, self.now)
        subscription.items.append(item)
        self.business.subscription_items.append(item)

    def _usable_coupons(self, currency: str) -> list[Coupon]:
        return [
            c
            for c in self.business.coupons
            if c.deleted_at is None and (c.currency is None or c.currency == currency)
        ]

    def _apply_coupon(self, subscription: Subscription) -> None:
        """A coupon on the subscription, now and then a second one stacked on it.

        A customer with a discount of its own keeps it for all its subscriptions: none gets one
        (so no subscription discount that ends hands the customer's back, which Stripe's
        subscriptions, dropping ended discounts, would not show afterwards).
        """
        usable = self._usable_coupons(subscription.currency)
        coupon = self.rng.choice(usable)
        if subscription.customer.discount is not None:
            return
        subscription.discounts.append(self._redeem(coupon, subscription.customer, subscription))
        others = [c for c in usable if c is not coupon]
        if self.discount_rng.random() < catalog.STACKED_DISCOUNT_SHARE:
            second = self.discount_rng.choice(others)
            subscription.discounts.append(self._redeem(second, subscription.customer, subscription))

    def _redeem(
        self, coupon: Coupon, customer: Customer, subscription: Subscription | None
    ) -> Discount:
        coupon.times_redeemed += 1
        self._touch("coupon.updated", coupon)
        end = None
        if coupon.duration == "repeating":
            end = add_months(self.now, coupon.duration_in_months or 1)
        return Discount(self.new_id("di", 24), coupon, customer, subscription, self.now, end)

    def _start_period(self, subscription: Subscription, start: int) -> None:
        months = subscription.items[0].price.months_per_period
        subscription.billing_anchor = start
        subscription.current_period_start = start
        subscription.current_period_end = add_months(start, months)

    def _end_trial(self, subscription: Subscription) -> None:
        if subscription.status != "trialing":
            return
        roll = self.rng.random()
        if roll < 0.6:
            self._start_period(subscription, self.now)
            self._bill_period(subscription, "subscription_cycle", first_invoice=True)
        elif roll < 0.7 and self.plan.full:
            self._set_status(subscription, "paused", "customer.subscription.paused")
            if self.rng.random() < 0.5:
                self._at(self.now + self.rng.randint(7, 60) * DAY, self._resume, subscription)
            else:
                self._at(
                    self.now + 30 * DAY, self._cancel_now, subscription, "cancellation_requested"
                )
        else:
            self._end(subscription, "cancellation_requested")

    def _resume(self, subscription: Subscription) -> None:
        if subscription.status != "paused":
            return
        self._start_period(subscription, self.now)
        self._set_status(subscription, "active", "customer.subscription.resumed")
        self._bill_period(subscription, "subscription_cycle")

    def _bill_period(
        self, subscription: Subscription, reason: str, first_invoice: bool = False
    ) -> None:
        """Invoice the period that starts now, collect it, and plan what may happen in it."""
        invoice = self._invoice(
            subscription, reason, subscription.current_period_start, subscription.current_period_end
        )
        self._collect(invoice, first_invoice)
        if subscription.status in ("incomplete", "incomplete_expired"):
            return
        self._at(subscription.current_period_end, self._renew, subscription)
        self._plan_changes_during_period(subscription)

    def _renew(self, subscription: Subscription) -> None:
        if subscription.status in ("canceled", "incomplete_expired", "paused"):
            return
        if subscription.cancel_at_period_end:
            self._end(subscription, "cancellation_requested")
            return
        if subscription.status == "unpaid":
            return  # no new invoices until the open one is paid
        previous = {
            "current_period_start": subscription.current_period_start,
            "current_period_end": subscription.current_period_end,
        }
        months = subscription.items[0].price.months_per_period
        anchor_day = from_epoch(subscription.billing_anchor).day  # Jan 31 → Feb 28 → Mar 31
        subscription.current_period_start = self.now
        subscription.current_period_end = add_months(self.now, months, anchor_day)
        self._emit("customer.subscription.updated", subscription, previous)
        self._bill_period(subscription, "subscription_cycle")

    def _plan_changes_during_period(self, subscription: Subscription) -> None:
        start, end = subscription.current_period_start, subscription.current_period_end
        months = subscription.items[0].price.months_per_period

        def sometime(margin: int = 0) -> int:
            """An instant inside the period, at least `margin` seconds before its end."""
            return start + 1 + self.rng.randrange(max(1, end - start - 1 - margin))

        churn = {"Free": 0.05, "Starter": 0.035, "Professional": 0.025, "Team": 0.015}
        plan_name = subscription.items[0].price.product.name
        if self.rng.random() < 1 - (1 - churn.get(plan_name, 0.03)) ** months:
            if self.rng.random() < 0.7:
                self._at(sometime(), self._cancel_at_period_end, subscription)
            else:
                self._at(sometime(), self._cancel_now, subscription, "cancellation_requested")
        if self.rng.random() < 0.03:
            self._at(sometime(), self._update_customer, subscription.customer)
        if self.rng.random() < 0.03:
            self._at(sometime(), self._add_one_off, subscription)
        if self.plan.full:
            # a day before the period ends at the latest, so no proration rounds to zero
            if plan_name in ("Starter", "Professional") and self.rng.random() < 0.05:
                self._at(sometime(DAY), self._switch_plan, subscription)
            if plan_name == "Free" and self.setup_rng.random() < 0.08:
                self._at(sometime(DAY), self._switch_plan, subscription)  # credits $0
            if plan_name == "Team" and self.rng.random() < 0.15:
                self._at(sometime(DAY), self._change_seats, subscription)

    def _cancel_at_period_end(self, subscription: Subscription) -> None:
        if subscription.status not in COUNTED_STATUSES or subscription.cancel_at_period_end:
            return
        subscription.cancel_at_period_end = True
        subscription.cancel_at = subscription.current_period_end
        subscription.canceled_at = self.now
        self._emit(
            "customer.subscription.updated",
            subscription,
            {"cancel_at_period_end": False, "cancel_at": None, "canceled_at": None},
        )

    def _cancel_now(self, subscription: Subscription, reason: str) -> None:
        if subscription.status in ENDED_STATUSES:
            return
        subscription.canceled_at = self.now
        self._end(subscription, reason)

    def _end(self, subscription: Subscription, reason: str) -> None:
        subscription.ended_at = self.now
        subscription.canceled_at = subscription.canceled_at or self.now
        self._set_status(subscription, "canceled", "customer.subscription.deleted")
        customer = subscription.customer
        if self.rng.random() < 0.12:
            later = self.now + self.rng.randint(20, 300) * DAY
            if self.plan.full and self.replacement_rng.random() < catalog.REPLACED_SHARE:
                soon = self.now + self.replacement_rng.randint(5, 180) * 60
                self._at(soon, self._replace, customer)
            else:
                self._at(later, self._subscribe, customer, False)
        elif self.rng.random() < 0.3:
            self._at(self.now + self.rng.randint(1, 90) * DAY, self._delete_customer, customer)

    def _replace(self, customer: Customer) -> None:
        """A new subscription minutes after the last one ended, so within its month, as a
        customer changing plans by cancelling and resubscribing does; some move to another
        currency on the way, which Stripe allows once no subscription of theirs is live
        ("you can't have two active subscriptions with different currencies")."""
        if customer.deleted_at is not None:
            return
        live = [s for s in customer.subscriptions if s.status not in ENDED_STATUSES]
        moves = customer.discount is None and not live
        if moves and self.replacement_rng.random() < catalog.CURRENCY_SWITCH_SHARE:
            currency, _, places = self.replacement_rng.choice(
                [market for market in catalog.MARKETS if market[0] != customer.currency]
            )
            previous = {
                "currency": customer.currency,
                "address": objects.address(customer.country, customer.city),
            }
            customer.currency = currency
            customer.country, customer.city = self.replacement_rng.choice(places)
            self._emit("customer.updated", customer, previous)
        self._subscribe(customer, False)

    def _switch_plan(self, subscription: Subscription) -> None:
        """Upgrade or downgrade mid-period: Starter and Professional trade places, Free moves
        up to Starter (the unused free time is credited at 0, as Stripe does).

        Mostly prorated on the next invoice (Stripe's default); some switches are made with
        proration_behavior=none, which leaves no invoice item: the new price is first billed
        when the next period starts, and MRR counts it from then (docs/DESIGN.md §2)."""
        if subscription.status not in COUNTED_STATUSES:
            return
        item = subscription.items[0]
        old = item.price
        target = "Professional" if old.product.name == "Starter" else "Starter"
        new = self.plan_prices[(target, subscription.currency, old.interval)]
        previous = {"items": objects.render_items(subscription)}
        unprorated = old.unit_amount and self.proration_rng.random() < catalog.UNPRORATED_SHARE
        if unprorated:
            item.counted = item.counted or (old, item.quantity)
        else:
            self._prorate(subscription, item, new, item.quantity)
        item.price = new
        self._emit("customer.subscription.updated", subscription, previous)
        self._record_mrr(subscription)

    def _change_seats(self, subscription: Subscription) -> None:
        if subscription.status not in COUNTED_STATUSES:
            return
        item = subscription.items[0]
        quantity = max(1, item.quantity + self.rng.choice([-3, -2, -1, 1, 2, 3, 5]))
        if quantity == item.quantity:
            return
        previous = {"items": objects.render_items(subscription), "quantity": item.quantity}
        self._prorate(subscription, item, item.price, quantity)
        item.quantity = quantity
        self._emit("customer.subscription.updated", subscription, previous)
        self._record_mrr(subscription)

    def _prorate(
        self, subscription: Subscription, item: SubscriptionItem, price: Price, quantity: int
    ) -> None:
        start, end = subscription.current_period_start, subscription.current_period_end
        remaining = Fraction(end - self.now, max(1, end - start))
        unused = -round(item.price.amount(item.quantity) * remaining)
        new_time = round(price.amount(quantity) * remaining)
        for amount, description, line_price, line_quantity in (
            (unused, f"Unused time on {item.price.nickname}", item.price, item.quantity),
            (new_time, f"Remaining time on {price.nickname}", price, quantity),
        ):
            self._invoice_item(
                subscription,
                amount,
                description,
                self.now,
                end,
                line_price,
                line_quantity,
                proration_of=item,
            )

    def _add_one_off(self, subscription: Subscription) -> None:
        if subscription.customer.deleted_at is not None:
            return
        amount = catalog.ONE_OFF_FEE[subscription.currency]
        self._invoice_item(subscription, amount, "Onboarding services", self.now, self.now)

    def _invoice_item(
        self,
        subscription: Subscription,
        amount: int,
        description: str,
        period_start: int,
        period_end: int,
        price: Price | None = None,
        quantity: int = 1,
        proration_of: SubscriptionItem | None = None,
    ) -> None:
        item = InvoiceItem(
            id=self.new_id("ii", 24),
            customer=subscription.customer,
            subscription=subscription,
            created=self.now,
            amount=amount,
            description=description,
            period_start=period_start,
            period_end=period_end,
            currency=subscription.currency,
            price=price,
            quantity=quantity,
            proration=proration_of is not None,
            subscription_item=proration_of,
        )
        self.business.invoice_items.append(item)
        self._pending_items[(subscription.customer.id, subscription.currency)].append(item)
        self._emit("invoiceitem.created", item)

    # -- invoices and payments ---------------------------------------------------------------

    def _invoice(
        self,
        subscription: Subscription,
        reason: str,
        period_start: int,
        period_end: int,
        trial: bool = False,
    ) -> Invoice:
        customer = subscription.customer
        invoice = Invoice(
            id=self.new_id("in", 24),
            customer=customer,
            subscription=subscription,
            created=self.now,
            billing_reason=reason,
            period_start=period_start,
            period_end=period_end,
            number=f"{customer.id[-8:].upper()}-{len(subscription.invoices) + 1:04d}",
            customer_email=customer.email,
            customer_name=customer.name,
            customer_address=(customer.country, customer.city),
            currency=subscription.currency,
        )
        for item in subscription.live_items:
            self._add_line_for_item(invoice, item, trial)
        if any(item.counted for item in subscription.items):  # billed at last: counted now
            for item in subscription.items:
                item.counted = None
            self._record_mrr(subscription)
        for pending in self._pending_items.pop((customer.id, invoice.currency), []):
            pending.invoice = invoice
            self._touch("invoiceitem.updated", pending)
            invoice.lines.append(
                InvoiceLine(
                    id=self.new_id("il", 24),
                    amount=pending.amount,
                    description=pending.description,
                    period_start=pending.period_start,
                    period_end=pending.period_end,
                    quantity=pending.quantity,
                    price=pending.price,
                    proration=pending.proration,
                    invoice_item=pending,
                )
            )
        self._apply_discount(invoice, subscription)
        self.business.invoices.append(invoice)
        subscription.invoices.append(invoice)
        self._touch("customer.subscription.updated", subscription)  # its latest_invoice
        self._emit("invoice.created", invoice)
        invoice.status, invoice.finalized_at = "open", self.now
        self._emit("invoice.finalized", invoice, {"status": "draft"})
        if invoice.total <= 0:
            self._mark_paid(invoice)
        return invoice

    def _add_line_for_item(self, invoice: Invoice, item: SubscriptionItem, trial: bool) -> None:
        price = item.price
        if price.usage_type == "metered":
            # usage of the period that just ended, billed in arrears
            if trial or invoice.billing_reason == "subscription_create":
                return
            usage = self.rng.randint(0, 5000)
            amount, quantity = usage * price.unit_amount, usage
        else:
            amount, quantity = (0 if trial else price.amount(item.quantity)), item.quantity
        description = f"{quantity} × {price.product.name}" + (" (trial)" if trial else "")
        invoice.lines.append(
            InvoiceLine(
                id=self.new_id("il", 24),
                amount=amount,
                description=description,
                period_start=invoice.period_start,
                period_end=invoice.period_end,
                quantity=quantity,
                price=price,
                proration=False,
                subscription_item=item,
            )
        )

    def _apply_discount(self, invoice: Invoice, subscription: Subscription) -> None:
        """Each discount in effect, in order, on what the ones before it left of the invoice;
        each one's amount shared among the lines in proportion to what is left of them."""
        discountable = [line for line in invoice.lines if line.amount > 0]
        for discount in subscription.discounts_at(self.now):
            if discount.coupon.duration == "once" and any(
                discount in i.discounts for s in discount.customer.subscriptions for i in s.invoices
            ):
                continue
            left = {id(line): line.amount - line.discount_amount for line in discountable}
            subtotal = sum(left.values())
            if subtotal <= 0:
                return
            coupon = discount.coupon
            if coupon.percent_off is not None:
                total_off = round(subtotal * Fraction(str(coupon.percent_off)) / 100)
            else:
                total_off = min(coupon.amount_off or 0, subtotal)
            invoice.discounts.append(discount)
            remaining = total_off
            for index, line in enumerate(discountable):
                last = index == len(discountable) - 1
                share = remaining if last else total_off * left[id(line)] // subtotal
                line.discount_amounts.append((discount, share))
                remaining -= share

    def _collect(self, invoice: Invoice, first_invoice: bool) -> None:
        subscription = invoice.subscription
        if invoice.status == "paid":
            if subscription.status in ("incomplete", "trialing", "paused"):
                self._activate(subscription)
            return
        failure_rate = 0.08 if self.plan.full else 0.0
        if self._attempt_payment(invoice, failure_rate):
            if subscription.status != "active":
                self._activate(subscription)
            return
        if first_invoice and subscription.status in ("incomplete",):
            self._at(self.now + 23 * HOUR, self._expire_incomplete, subscription)
            return
        self._set_status(subscription, "past_due")
        self._at(self.now + RETRY_DAYS[0] * DAY, self._retry, invoice, 0)

    def _activate(self, subscription: Subscription) -> None:
        self._set_status(subscription, "active")

    def _set_status(
        self, subscription: Subscription, status: str, event: str = "customer.subscription.updated"
    ) -> None:
        """Change status, announce it, and keep the customer's `delinquent` flag in step."""
        customer = subscription.customer
        was_delinquent = objects.is_delinquent(customer)
        previous = {"status": subscription.status}
        subscription.status = status
        self._emit(event, subscription, previous)
        self._record_mrr(subscription)
        if objects.is_delinquent(customer) != was_delinquent:
            self._emit("customer.updated", customer, {"delinquent": was_delinquent})

    def _attempt_payment(self, invoice: Invoice, failure_rate: float) -> bool:
        customer = invoice.customer
        intent = invoice.payment_intent
        if intent is None:
            intent = PaymentIntent(
                self.new_id("pi", 24), customer, invoice, self.now, invoice.total
            )
            invoice.payment_intent = intent
            self.business.payment_intents.append(intent)
            self._emit("payment_intent.created", intent)
        invoice.attempt_count += 1
        succeeded = self.rng.random() >= failure_rate
        charge = Charge(
            id=self.new_id("ch", 24),
            customer=customer,
            payment_intent=intent,
            created=self.now,
            amount=invoice.total,
            succeeded=succeeded,
            failure_code=None
            if succeeded
            else self.rng.choice(["card_declined", "insufficient_funds", "expired_card"]),
        )
        intent.charges.append(charge)
        self.business.charges.append(charge)
        if not succeeded:
            intent.status = "requires_payment_method"
            self._emit("charge.failed", charge)
            self._emit("payment_intent.payment_failed", intent)
            self._emit("invoice.payment_failed", invoice)
            return False
        charge.balance_transaction = self._balance_transaction(
            charge.amount,
            _card_fee(charge.amount, charge.currency),
            charge.currency,
            "charge",
            "charge",
            charge.id,
            "Subscription payment",
        )
        intent.status = "succeeded"
        self._emit("charge.succeeded", charge)
        self._emit("payment_intent.succeeded", intent)
        self._mark_paid(invoice)
        self._plan_after_payment(charge)
        return True

    def _mark_paid(self, invoice: Invoice) -> None:
        invoice.status, invoice.paid_at = "paid", self.now
        invoice.next_payment_attempt = None
        self._emit("invoice.paid", invoice, {"status": "open"})

    def _retry(self, invoice: Invoice, attempt: int) -> None:
        subscription = invoice.subscription
        if invoice.status != "open" or subscription.status == "canceled":
            return
        if self._attempt_payment(invoice, 0.5):
            if subscription.status != "active":
                self._activate(subscription)
            return
        if attempt + 1 < len(RETRY_DAYS):
            self._at(self.now + RETRY_DAYS[attempt + 1] * DAY, self._retry, invoice, attempt + 1)
            return
        if self.rng.random() < 0.5:
            invoice.status, invoice.marked_uncollectible_at = "uncollectible", self.now
            self._emit("invoice.marked_uncollectible", invoice, {"status": "open"})
            self._cancel_now(subscription, "payment_failed")
            return
        self._set_status(subscription, "unpaid")
        if self.rng.random() < 0.4:
            self._at(self.now + self.rng.randint(5, 40) * DAY, self._settle_unpaid, invoice)
        else:
            self._at(self.now + 60 * DAY, self._void_and_cancel, invoice)

    def _settle_unpaid(self, invoice: Invoice) -> None:
        subscription = invoice.subscription
        if invoice.status != "open" or subscription.status != "unpaid":
            return
        self._attempt_payment(invoice, 0.0)
        self._activate(subscription)
        if subscription.current_period_end <= self.now:
            self._renew(subscription)

    def _void_and_cancel(self, invoice: Invoice) -> None:
        if invoice.status == "open":
            invoice.status, invoice.voided_at = "void", self.now
            self._emit("invoice.voided", invoice, {"status": "open"})
        self._cancel_now(invoice.subscription, "payment_failed")

    def _expire_incomplete(self, subscription: Subscription) -> None:
        if subscription.status != "incomplete":
            return
        invoice = subscription.invoices[-1]
        if self.rng.random() < 0.5 and self._attempt_payment(invoice, 0.0):
            self._activate(subscription)
            self._at(subscription.current_period_end, self._renew, subscription)
            self._plan_changes_during_period(subscription)
            return
        invoice.status, invoice.voided_at = "void", self.now
        self._emit("invoice.voided", invoice, {"status": "open"})
        subscription.ended_at = self.now
        self._set_status(subscription, "incomplete_expired")

    # -- money after payment -----------------------------------------------------------------

    def _balance_transaction(
        self,
        amount: int,
        fee: int,
        currency: str,
        kind: str,
        category: str,
        source: str | None,
        description: str,
    ) -> BalanceTransaction:
        rate, settled = None, self.plan.settlement_currency
        if settled is not None and currency != settled:
            rate = self._exchange_rate(currency, settled)
            amount, fee = (
                _converted(amount, currency, rate, settled),
                _converted(fee, currency, rate, settled),
            )
            currency = settled
        transaction = BalanceTransaction(
            id=self.new_id("txn", 24),
            created=self.now,
            available_on=self.now + 2 * DAY if kind == "charge" else self.now,
            amount=amount,
            fee=fee,
            currency=currency,
            type=kind,
            reporting_category=category,
            source_id=source,
            description=description,
            exchange_rate=rate,
        )
        self.business.balance_transactions.append(transaction)
        self._not_paid_out.append(transaction)
        if category == "charge" and currency == FEE_CURRENCY:
            self._billed_volume += amount
        return transaction

    def _exchange_rate(self, currency: str, settled: str) -> Decimal:
        """Stripe's `exchange_rate` this month: an amount in `currency` (major units) times it
        is the amount in `settled`; six decimals, as Stripe shows it."""
        moment = from_epoch(self.now)
        drift = 1 + 0.03 * math.sin(moment.year * 12 + moment.month + len(currency))
        usd_per = catalog.USD_PER_UNIT
        return Decimal(usd_per[currency] / usd_per[settled] * drift).quantize(Decimal("0.000001"))

    def _charge_billing_fee(self, since: int) -> None:
        """Stripe Billing's fee for the month that just ended, as Stripe books it: a
        `stripe_fee` balance transaction (reporting category `fee`) whose negative amount is the
        fee, with no fee of its own and no source object."""
        fee = math.floor(self._billed_volume * BILLING_FEE_RATE + Fraction(1, 2))
        if fee > 0:
            period = f"{from_epoch(since):%Y-%m-%d} - {from_epoch(self.now - 1):%Y-%m-%d}"
            self._balance_transaction(
                -fee, 0, FEE_CURRENCY, "stripe_fee", "fee", None, f"Billing - Usage Fee ({period})"
            )
        self._billed_volume = 0
        self._at(_next_month_start(self.now), self._charge_billing_fee, self.now)

    def _plan_after_payment(self, charge: Charge) -> None:
        roll = self.rng.random()
        if roll < 0.03:
            self._at(self.now + self.rng.randint(1, 14) * DAY, self._refund, charge)
        elif roll < 0.035:
            self._at(self.now + self.rng.randint(10, 45) * DAY, self._open_dispute, charge)

    def _refund(self, charge: Charge) -> None:
        if charge.dispute is not None or charge.amount_refunded >= charge.amount:
            return
        full = self.rng.random() < 0.6
        amount = charge.amount if full else max(1, charge.amount // self.rng.choice([2, 3, 4]))
        transaction = self._balance_transaction(
            -amount, 0, charge.currency, "refund", "refund", charge.id, "Refund for charge"
        )
        refund = Refund(
            self.new_id("re", 24), charge, self.now, amount, "requested_by_customer", transaction
        )
        transaction.source_id = refund.id
        charge.refunds.append(refund)
        charge.amount_refunded += amount
        self.business.refunds.append(refund)
        invoice = charge.payment_intent.invoice
        if self.rng.random() < 0.5:
            note = CreditNote(
                id=self.new_id("cn", 24),
                invoice=invoice,
                created=self.now,
                amount=amount,
                reason="product_unsatisfactory",
                number=f"{invoice.number}-CN-{len(invoice.credit_notes) + 1:02d}",
                refund=refund,
            )
            refund.credit_note = note
            invoice.credit_notes.append(note)
            self.business.credit_notes.append(note)
            self._emit("credit_note.created", note)
            self._touch("invoice.updated", invoice)
        self._emit("refund.created", refund)
        self._emit("charge.refunded", charge, {"amount_refunded": charge.amount_refunded - amount})

    def _open_dispute(self, charge: Charge) -> None:
        if charge.amount_refunded or charge.dispute is not None:
            return
        dispute = Dispute(
            self.new_id("dp", 24),
            charge,
            self.now,
            charge.amount,
            self.rng.choice(["fraudulent", "product_not_received", "subscription_canceled"]),
        )
        dispute.balance_transactions.append(
            self._balance_transaction(
                -charge.amount,
                catalog.DISPUTE_FEE[charge.currency],
                charge.currency,
                "adjustment",
                "dispute",
                dispute.id,
                "Chargeback withdrawal",
            )
        )
        charge.dispute = dispute
        self.business.disputes.append(dispute)
        self._emit("charge.updated", charge, {"disputed": False})
        self._emit("charge.dispute.created", dispute)
        self._at(self.now + self.rng.randint(20, 60) * DAY, self._close_dispute, dispute)

    def _close_dispute(self, dispute: Dispute) -> None:
        won = self.rng.random() < 0.4
        dispute.status, dispute.closed_at = ("won" if won else "lost"), self.now
        if won:
            dispute.balance_transactions.append(
                self._balance_transaction(
                    dispute.amount,
                    0,
                    dispute.charge.currency,
                    "adjustment",
                    "dispute_reversal",
                    dispute.id,
                    "Chargeback reversal",
                )
            )
        self._emit("charge.dispute.closed", dispute, {"status": "needs_response"})

    def _pay_out(self) -> None:
        """Weekly payouts of each currency's available balance, when it is positive."""
        available: dict[str, list[BalanceTransaction]] = defaultdict(list)
        pending: list[BalanceTransaction] = []
        for transaction in self._not_paid_out:
            if transaction.available_on <= self.now:
                available[transaction.currency].append(transaction)
            else:
                pending.append(transaction)
        self._not_paid_out = pending
        for currency in catalog.CURRENCIES:
            amount = sum(t.net for t in available[currency])
            if amount <= 0:
                self._not_paid_out.extend(available[currency])  # carried to the next payout
                continue
            payout = Payout(self.new_id("po", 24), self.now, self.now + 2 * DAY, amount, currency)
            payout.balance_transaction = self._balance_transaction(
                -amount, 0, currency, "payout", "payout", payout.id, "STRIPE PAYOUT"
            )
            self._not_paid_out.remove(payout.balance_transaction)
            self.business.payouts.append(payout)
            self._emit("payout.created", payout)
        self._at(self.now + PAYOUT_EVERY_DAYS * DAY, self._pay_out)

    # -- MRR history for the ledger ------------------------------------------------------------

    def _record_mrr(self, subscription: Subscription) -> None:
        point = MrrPoint(self.now, subscription.status, subscription_mrr(subscription, self.now))
        history = subscription.history
        if history and history[-1].at == self.now:
            history[-1] = point
        elif not history or (history[-1].status, history[-1].mrr) != (point.status, point.mrr):
            history.append(point)


def subscription_mrr(subscription: Subscription, instant: int) -> Fraction:
    """MRR in minor units, exact: docs/DESIGN.md's definition applied to the current state."""
    if subscription.status not in COUNTED_STATUSES:
        return Fraction(0)
    licensed = [
        item.counted or (item.price, item.quantity)
        for item in subscription.live_items
        if item.price.usage_type == "licensed"
    ]
    if not licensed:
        return Fraction(0)
    months = licensed[0][0].months_per_period
    gross = sum(
        (Fraction(price.amount(quantity), months) for price, quantity in licensed), Fraction(0)
    )
    # forever discounts, compounded in the order Stripe applies them (never below zero)
    for discount in subscription.discounts_at(instant):
        coupon = discount.coupon
        if coupon.duration != "forever":
            continue
        if coupon.percent_off is not None:
            gross *= 1 - Fraction(str(coupon.percent_off)) / 100
        else:
            gross -= Fraction(coupon.amount_off or 0, months)
        gross = max(gross, Fraction(0))
    return gross


def _season(instant: int) -> float:
    """Signups peak in January and dip in August."""
    day_of_year = from_epoch(instant).timetuple().tm_yday
    return 1.0 + 0.3 * math.cos(2 * math.pi * (day_of_year - 15) / 365)


def _card_fee(amount: int, currency: str) -> int:
    if currency == "jpy":
        return round(amount * 0.036)
    return round(amount * 0.029) + 30


def _next_month_start(instant: int) -> int:
    moment = from_epoch(instant)
    return midnight(date(moment.year + moment.month // 12, moment.month % 12 + 1, 1))


def _converted(amount: int, currency: str, rate: Decimal, settled: str) -> int:
    """An amount in minor units of `currency`, in minor units of `settled` (half away from 0)."""
    factor = {c: Decimal(1 if c in catalog.ZERO_DECIMAL else 100) for c in (currency, settled)}
    exact = Decimal(amount) / factor[currency] * rate * factor[settled]
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
