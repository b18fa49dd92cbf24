"""The per-resource events cursors kept in the landing zone's dlt state (extract.py)."""

from stripe_assets.defs.stripe.catalog import BY_TABLE, select
from stripe_assets.defs.stripe.extract import _events_cursors

CURSOR = {"id": "evt_1", "created": 1_790_000_000}


def test_a_landing_zone_with_one_shared_cursor_carries_on_incrementally():
    """A landing zone from before per-resource cursors had one for all: every resource that
    reads events takes it as its own, so the upgrade lists nothing again."""
    state = {"events_cursor": CURSOR}
    cursors = _events_cursors(state)
    readers = {table for table, resource in BY_TABLE.items() if resource.reads_events}
    assert set(cursors) == readers and all(c == CURSOR for c in cursors.values())
    assert "events_cursor" not in state and state["events_cursors"] is cursors
    assert {"customers", "products", "events"} <= readers and "balance_transactions" not in readers


def test_a_new_landing_zone_has_no_cursor():
    assert _events_cursors({}) == {}


def test_a_parent_brings_its_children_and_a_child_its_parent():
    assert {r.table for r in select(["invoices"])} == {"invoices", "invoice_line_items"}
    assert {r.table for r in select(["subscription_items"])} == {
        "subscriptions",
        "subscription_items",
    }
