"""What the simulated company sells: plans, prices per currency, add-ons and coupons.

Amounts are monthly list prices in minor units; a zero-decimal currency (jpy) has no cents, so its
minor unit is the yen. Yearly prices cost ten months.
"""

from dataclasses import dataclass

# (currency, share of signups, countries with a city each) — North America, Europe, Asia-Pacific.
MARKETS = [
    ("usd", 0.45, [("US", "San Francisco"), ("US", "New York"), ("CA", "Toronto")]),
    ("eur", 0.25, [("DE", "Berlin"), ("FR", "Paris"), ("NL", "Amsterdam")]),
    ("gbp", 0.10, [("GB", "London"), ("GB", "Manchester")]),
    ("jpy", 0.20, [("JP", "Tokyo"), ("JP", "Osaka")]),
]
CURRENCIES = [currency for currency, _, _ in MARKETS]
ZERO_DECIMAL = {"jpy"}  # currencies whose minor unit is the major unit
# An account that settles in one currency (`--settlement-currency usd`) has what it charges in
# the others converted, each balance transaction at the rate of its month: a major unit of the
# currency in USD, moving by up to 3% from month to month.
USD_PER_UNIT = {"usd": 1.0, "eur": 1.08, "gbp": 1.27, "jpy": 0.0067}


@dataclass(frozen=True)
class Plan:
    name: str
    monthly: dict[str, int]  # currency -> unit amount per month, minor units
    share: float  # of new subscriptions
    seats: tuple[int, int] = (1, 1)  # quantity range
    yearly: bool = True


PLANS = [
    Plan("Free", {"usd": 0, "eur": 0, "gbp": 0, "jpy": 0}, 0.10, yearly=False),
    Plan("Starter", {"usd": 2000, "eur": 1900, "gbp": 1700, "jpy": 3000}, 0.45),
    Plan("Professional", {"usd": 5000, "eur": 4700, "gbp": 4200, "jpy": 7500}, 0.30),
    Plan("Team", {"usd": 1200, "eur": 1100, "gbp": 1000, "jpy": 1800}, 0.15, seats=(2, 25)),
]
YEARLY_MONTHS_CHARGED = 10
# Starter's price rises part-way through the history; the old prices are archived.
STARTER_PRICE_RISE = {"usd": 2500, "eur": 2300, "gbp": 2100, "jpy": 3800}

# Some Team subscriptions buy their seats another way Stripe prices them (monthly; unit amounts
# as shares of Team's per-seat price): graduated tiers, volume tiers with a flat fee on the
# largest, and packs of 5 seats rounded up.
SEAT_TIERS = {
    "graduated": [(5, 1.0, 0.0), (20, 0.8, 0.0), (None, 0.6, 0.0)],
    "volume": [(10, 1.0, 0.0), (None, 0.75, 2.0)],
}
SEAT_PACK = (5, 4.5)  # seats a pack, packs priced at this many seats
SEAT_SETUP_SHARE = 0.3  # of monthly Team subscriptions

METERED_UNIT_AMOUNT = {"usd": 2, "eur": 2, "gbp": 2, "jpy": 3}  # per API call
ADD_ON_COUNT = 12  # enough add-ons that a subscription can exceed Stripe's embedded page of 10
ADD_ON_MONTHLY = {"usd": 500, "eur": 450, "gbp": 400, "jpy": 700}
ONE_OFF_FEE = {"usd": 15000, "eur": 14000, "gbp": 12000, "jpy": 20000}
DISPUTE_FEE = {"usd": 1500, "eur": 1500, "gbp": 1500, "jpy": 2000}


@dataclass(frozen=True)
class CouponSpec:
    name: str
    duration: str
    duration_in_months: int | None = None
    percent_off: float | None = None
    amount_off: int | None = None
    currency: str | None = None


COUPONS = [
    CouponSpec("Launch 25% forever", "forever", percent_off=25.0),
    CouponSpec("Partner 10 USD forever", "forever", amount_off=1000, currency="usd"),
    CouponSpec("Welcome 50% once", "once", percent_off=50.0),
    CouponSpec("Welcome 10 EUR once", "once", amount_off=1000, currency="eur"),
    CouponSpec("Spring 20% for 3 months", "repeating", duration_in_months=3, percent_off=20.0),
    CouponSpec("Loyalty 500 JPY forever", "forever", amount_off=500, currency="jpy"),
    CouponSpec(
        "Kickoff 300 GBP for 6 months",
        "repeating",
        duration_in_months=6,
        amount_off=300,
        currency="gbp",
    ),
]
RETIRED_COUPON = "Spring 20% for 3 months"  # deleted part-way through the history
# Some customers get a coupon of their own, for all their subscriptions; some subscriptions stack
# a second coupon on their first.
CUSTOMER_DISCOUNT_SHARE = 0.04  # of customers, at signup
# of customers with a discount, removed later: only within the events Stripe still serves, since
# nothing else says when (a customer without it shows no trace; its old invoices show it was on)
CUSTOMER_DISCOUNT_REMOVED_SHARE = 0.5
STACKED_DISCOUNT_SHARE = 0.3  # of subscriptions with a coupon
UNPRORATED_SHARE = 0.3  # of paid plan switches, made with proration_behavior=none
# Of the customers who subscribe again after a cancellation, some do it minutes later (a plan
# change made by cancelling and resubscribing), and some of those move to another currency.
REPLACED_SHARE = 0.5
CURRENCY_SWITCH_SHARE = 0.4
