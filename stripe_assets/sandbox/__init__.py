"""The sandbox: a simulated subscription business behind a Stripe-compatible HTTP API."""
