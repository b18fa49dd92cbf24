"""The shared request budget's arithmetic (client.RequestBudget): how far it falls on a 429 and
how it climbs back, fast until near the rate the 429 came at, slowly past it, and falls less
when refused there again. Nothing is timed:
each call's effect on the rate is read right after it."""

import pytest

from stripe_assets.defs.stripe.client import (
    PROBING_SHARE,
    PROBING_SLOWDOWN,
    RATE_DECREASE,
    RATE_GROWTH_PER_SUCCESS,
    RequestBudget,
)


def test_a_429_lowers_the_rate_once_per_request_slot():
    budget = RequestBudget(10)
    budget.rate_limited()
    assert budget.per_second == pytest.approx(10 * RATE_DECREASE)
    budget.rate_limited()  # another thread hearing the same refusal
    assert budget.per_second == pytest.approx(10 * RATE_DECREASE)


def test_a_429_lowers_the_rate_to_what_was_answered_in_the_last_second_when_less():
    budget = RequestBudget(25)
    budget.succeeded()
    budget.succeeded()
    budget.rate_limited()
    assert budget.per_second == 2


def test_the_rate_climbs_fast_up_to_near_the_limit_found_then_slowly():
    budget = RequestBudget(10)
    budget.rate_limited()  # heard at 10 requests a second
    probe_from = PROBING_SHARE * 10
    climbs = 0
    while budget.per_second < probe_from - 1e-9:  # sums of tenths are not exact
        budget.succeeded()
        climbs += 1
    assert budget.per_second == pytest.approx(probe_from), "it overshot into the probing range"
    assert climbs == pytest.approx((probe_from - 10 * RATE_DECREASE) / RATE_GROWTH_PER_SUCCESS, 1)
    budget.succeeded()
    assert budget.per_second == pytest.approx(
        probe_from + RATE_GROWTH_PER_SUCCESS / PROBING_SLOWDOWN
    )


def test_a_429_near_the_limit_found_lowers_the_rate_only_a_little():
    budget = RequestBudget(10)
    budget.rate_limited()  # heard at 10: the rate falls to 7 and climbs back
    while budget.per_second < PROBING_SHARE * 10 - 1e-9:
        budget.succeeded()
    budget.succeeded()  # well inside the probing range, whatever the sums' rounding
    budget._slowed_at = float("-inf")  # as if a request slot had passed since the last fall
    rate = budget.per_second
    budget.rate_limited()
    assert budget.per_second == pytest.approx(PROBING_SHARE * rate)


def test_the_rate_never_climbs_above_the_configured_one():
    budget = RequestBudget(3)
    for _ in range(100):
        budget.succeeded()
    assert budget.per_second == 3
