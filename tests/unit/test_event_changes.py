"""Which objects events say changed (extract.EventChanges), on events as Stripe sends them."""

from stripe_assets.defs.stripe.catalog import BY_TABLE
from stripe_assets.defs.stripe.client import STRIPE_API_VERSION
from stripe_assets.defs.stripe.extract import EventChanges, StripeSync

DISCOUNT = {"id": "di_1", "object": "discount", "customer": "cus_1", "subscription": None}


def event(event_type: str, obj: dict, created: int = 1_790_000_000) -> dict:
    return {
        "id": f"evt_{event_type}",
        "object": "event",
        "type": event_type,
        "created": created,
        "api_version": STRIPE_API_VERSION,
        "data": {"object": obj},
    }


def test_a_customers_discount_removed_has_the_customer_read_again():
    """Stripe says a discount left a customer only with `customer.discount.deleted`, whose
    object is the discount: the customer, which no longer shows it, is what changed."""
    changes = EventChanges()
    changes.add(event("customer.discount.deleted", DISCOUNT))
    (change,) = changes.objects["customers"].values()
    assert change.obj == {"id": "cus_1", "object": "customer"} and not change.deleted
    stale = StripeSync._stale(BY_TABLE["customers"], changes)
    assert stale == [change], "read again: the event does not carry the customer"
    assert not changes.created, "no customer was created"


def test_a_subscriptions_discount_has_the_subscription_read_again():
    changes = EventChanges()
    changes.add(event("customer.discount.created", {**DISCOUNT, "subscription": "sub_1"}))
    assert list(changes.objects["subscriptions"]) == ["sub_1"]
    assert not changes.objects["customers"] and not changes.created


def test_a_later_event_carrying_the_customer_is_kept_instead():
    """Events arrive newest first: a `customer.updated` after the removal carries the customer
    as it is now, so nothing needs reading again."""
    customer = {"id": "cus_1", "object": "customer", "discount": None}
    changes = EventChanges()
    changes.add(event("customer.updated", customer, created=1_790_000_100))
    changes.add(event("customer.discount.deleted", DISCOUNT))
    assert changes.objects["customers"]["cus_1"].obj is customer
    assert StripeSync._stale(BY_TABLE["customers"], changes) == []
