"""Which objects from events hold bare ids where the models read expanded ones."""

from stripe_assets.defs.stripe.catalog import RESOURCES

SUBSCRIPTIONS = next(r for r in RESOURCES if r.table == "subscriptions")
CUSTOMERS = next(r for r in RESOURCES if r.table == "customers")


def test_a_bare_discount_or_a_bare_coupon_in_a_discount_needs_expanding():
    assert SUBSCRIPTIONS.needs_expanding({"discounts": ["di_1"]})
    coupon_id = {"id": "di_1", "source": {"coupon": "co_1", "type": "coupon"}}
    assert SUBSCRIPTIONS.needs_expanding({"discounts": [coupon_id]})
    assert CUSTOMERS.needs_expanding({"discount": coupon_id})


def test_expanded_or_absent_discounts_do_not():
    expanded = {"id": "di_1", "source": {"coupon": {"id": "co_1"}, "type": "coupon"}}
    assert not SUBSCRIPTIONS.needs_expanding({"discounts": [expanded]})
    assert not SUBSCRIPTIONS.needs_expanding({"discounts": []})
    assert not CUSTOMERS.needs_expanding({"discount": None})
    assert not CUSTOMERS.needs_expanding({"discount": expanded})
