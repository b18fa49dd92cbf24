"""The sandbox: a simulated subscription business behind a Stripe-compatible HTTP API."""

# The key the sandbox accepts unless told otherwise; no key of Stripe's looks like it, so a sync
# made with it is known to hold the sandbox's data (extract.data_origin).
DEFAULT_API_KEY = "sk_test_sandbox"
