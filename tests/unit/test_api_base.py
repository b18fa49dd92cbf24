"""STRIPE_API_BASE, judged before anything starts (stripe_assets/settings.py)."""

import pytest

from stripe_assets.settings import api_base_problem

LIVE, TEST = "rk_live_" + "x" * 24, "sk_test_" + "x" * 24


@pytest.mark.parametrize(
    "base, key",
    [
        ("https://api.stripe.com", LIVE),
        ("http://127.0.0.1:12111", LIVE),  # the sandbox, or a proxy on this machine
        ("http://localhost:12111", LIVE),
        ("http://[::1]:12111", LIVE),
        ("http://stripe-mock.internal:12111", TEST),  # a test key is no secret of consequence
        ("https://api.stripe.com/", TEST),
    ],
)
def test_a_server_alone_is_accepted(base, key):
    assert api_base_problem(base, key) is None


@pytest.mark.parametrize(
    "base, key, says",
    [
        ("ftp://x", TEST, "is not an http(s) URL"),
        ("not a url", TEST, "is not an http(s) URL"),
        ("https://", TEST, "is not an http(s) URL"),
        ("https://api.stripe.com/v1", TEST, "has a path"),
        ("https://api.stripe.com?x=1", TEST, "has a path"),
        ("http://api.stripe.com", LIVE, "would send the live STRIPE_API_KEY unencrypted"),
        ("http://10.0.0.5:12111", LIVE, "would send the live STRIPE_API_KEY unencrypted"),
    ],
)
def test_a_base_the_client_cannot_use_is_one_sentence(base, key, says):
    problem = api_base_problem(base, key)
    assert problem is not None and says in problem
    assert problem.startswith(f"STRIPE_API_BASE {base!r} ") and problem.count(": ") == 1
    assert key not in problem
