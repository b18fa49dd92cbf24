"""The columns each raw table's `always_sent` names (in the dbt source,
dbt_project/models/staging/stripe/_stripe__sources.yml) are exactly those Stripe sends, non-null,
on every object at the pinned API version: the official `stripe` package declares them
non-optional, and Stripe's example object carries them. A staging model refuses a raw table with
live rows that lacks one, so a name too many would stop a model on a real account, and a name too
few would let a model build empty without a word."""

import json
import types

import pytest
import yaml

from stripe_assets.defs.stripe.catalog import RESOURCES
from stripe_assets.defs.stripe.client import STRIPE_API_VERSION
from stripe_assets.settings import DBT_PROJECT_DIR
from tests.stripe_shapes import _candidates, _declared, class_of

SOURCES = yaml.safe_load(
    (DBT_PROJECT_DIR / "models/staging/stripe/_stripe__sources.yml").read_text()
)["sources"][0]
TABLES = {table["name"]: table for table in SOURCES["tables"]}
EXAMPLES = json.loads(
    (DBT_PROJECT_DIR.parent / "tests/data/stripe_fixtures3_subset.json").read_text()
)


def always_sent_by_stripe(table: dict, object_name: str) -> list[str]:
    cls = class_of(object_name)
    declared = _declared(cls)
    example = EXAMPLES["resources"][object_name]
    return [
        column["name"]
        for column in table["columns"]
        if column["name"] in declared
        and column["name"] in example
        and types.NoneType not in _candidates(declared[column["name"]], cls.__module__)
    ]


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda resource: resource.table)
def test_always_sent_names_what_stripe_always_sends(resource):
    table = TABLES[resource.table]
    assert table["config"]["meta"]["always_sent"] == always_sent_by_stripe(
        table, resource.object_name
    )


def test_the_sources_api_version_is_the_pinned_one():
    assert SOURCES["config"]["meta"]["api_version"] == STRIPE_API_VERSION
