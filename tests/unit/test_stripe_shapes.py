"""The shape comparison the sandbox test relies on (tests/stripe_shapes.py), on hand-made
objects, against the official `stripe` package's classes for the pinned API version."""

from tests.stripe_shapes import class_of, object_differences

EXAMPLE = {"id": "in_1", "object": "invoice", "parent": {"type": "subscription_details"}}


def _invoice(**fields) -> dict:
    return {"id": "in_1", "object": "invoice", **fields}


def test_a_field_the_version_removed_is_reported():
    found = object_differences(_invoice(subscription="sub_1"), class_of("invoice"), None, "invoice")
    assert found == ["invoice: not declared ['subscription']"]


def test_a_field_the_example_and_the_version_have_is_required():
    found = object_differences(_invoice(), class_of("invoice"), EXAMPLE, "invoice")
    assert found == ["invoice: missing ['parent']"]


def test_nested_objects_are_compared_too():
    served = _invoice(
        parent={"type": "subscription_details", "subscription_details": {"plan": "x"}}
    )
    found = object_differences(served, class_of("invoice"), EXAMPLE, "invoice")
    assert found == ["invoice.parent.subscription_details: not declared ['plan']"]


def test_expandable_fields_take_an_id_or_the_object():
    line = {"id": "il_1", "object": "line_item", "subscription": {"id": "sub_1", "bogus": 1}}
    found = object_differences(line, class_of("line_item"), None, "line")
    assert found == ["line.subscription: not declared ['bogus']"]


def test_a_tombstone_is_not_missing_anything():
    tombstone = {"id": "in_1", "object": "invoice", "deleted": True}
    assert object_differences(tombstone, class_of("invoice"), EXAMPLE, "invoice") == []
