"""Bad configuration gets one sentence saying what is wrong and what to do, and a non-zero exit,
before anything is written."""

import pytest

from .conftest import Workspace, launch

CASES = {
    "malformed key": (
        {"STRIPE_API_KEY": "pk_test_publishableNotSecret"},
        "STRIPE_API_KEY is not a Stripe secret or restricted key",
    ),
    "malformed landing url": (
        {"STRIPE_API_KEY": "sk_test_x", "LANDING_BUCKET_URL": "ftp://bucket/stripe"},
        "LANDING_BUCKET_URL 'ftp://bucket/stripe' is neither a folder nor s3://bucket/prefix",
    ),
    "unwritable warehouse": (
        {"STRIPE_API_KEY": "sk_test_x", "DUCKDB_PATH": "/proc/stripe/stripe.duckdb"},
        "DUCKDB_PATH '/proc/stripe/stripe.duckdb' cannot be written",
    ),
    "unreachable api": (
        {"STRIPE_API_KEY": "sk_test_x", "STRIPE_API_BASE": "http://127.0.0.1:9"},
        "Could not reach the Stripe API at http://127.0.0.1:9",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_configuration_is_one_clear_sentence(case, tmp_path):
    overrides, sentence = CASES[case]
    workspace = Workspace(tmp_path)
    process = launch("run", workspace.env(**overrides))
    output = process.stdout + process.stderr
    assert process.returncode != 0
    assert sentence in output
    assert "Traceback" not in output
    assert "sk_test_x" not in output and "pk_test_publishableNotSecret" not in output
    assert not workspace.landing.exists(), "nothing landed"
