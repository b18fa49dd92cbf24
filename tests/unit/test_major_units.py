"""The MRR bridge preview shows amounts as people read them, by Stripe's count of each
currency's decimals (https://docs.stripe.com/currencies#zero-decimal)."""

import pytest

from stripe_assets.defs.stripe.currencies import format_amount


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [
        (628575, "usd", "6,285.75"),
        (5, "eur", "0.05"),
        (-120000, "gbp", "-1,200.00"),
        (1234567, "jpy", "1,234,567"),
        (12345, "kwd", "12.345"),
        (0, "usd", "0.00"),
    ],
)
def test_minor_units_read_as_major_units(minor, currency, shown):
    assert format_amount(minor, currency) == shown
