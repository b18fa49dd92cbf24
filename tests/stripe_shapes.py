"""Which fields of a served object the official `stripe` package does not declare, and which it
declares (and Stripe's published example shows) that the object lacks.

The package's classes are generated from Stripe's OpenAPI spec for the API version it pins, the
version we pin too (`STRIPE_API_VERSION`), so they say which fields that version has, down to
the nested objects. They do not say which of them a default response includes (expandable-only
or includable fields are declared like the rest), so the other direction uses Stripe's example
objects (`tests/data/stripe_fixtures3_subset.json`): a field both declare is one every object of
that type carries.
"""

import ast
import functools
import importlib
import inspect
import sys
import typing
from typing import Any, ForwardRef

import stripe
from stripe._object_classes import OBJECT_CLASSES
from stripe._stripe_object import StripeObject, UntypedStripeObject


def class_of(object_name: str) -> type:
    module, name = OBJECT_CLASSES[object_name]
    return getattr(importlib.import_module(module), name)


@functools.cache
def _imports(module: str) -> dict[str, tuple[str, str]]:
    """The names a module imports for type checkers only (`Refund as RefundResource`), which
    its forward references use and which do not exist when it runs."""
    tree = ast.parse(inspect.getsource(sys.modules[module]))
    return {
        alias.asname or alias.name: (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }


def _resolve(annotation: Any, module: str) -> Any:
    if isinstance(annotation, ForwardRef):
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        source, name = _imports(module)[annotation]
        return getattr(importlib.import_module(source), name)
    return annotation


def _candidates(annotation: Any, module: str) -> list[Any]:
    """The alternatives of a Union/Optional, resolved."""
    annotation = _resolve(annotation, module)
    if typing.get_origin(annotation) is typing.Union:
        return [c for arg in typing.get_args(annotation) for c in _candidates(arg, module)]
    return [annotation]


def _declared(cls: type) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        fields.update(
            {k: v for k, v in vars(klass).get("__annotations__", {}).items() if k != "OBJECT_NAME"}
        )
    return fields


def differences(value: Any, annotation: Any, example: Any, path: str, module: str) -> list[str]:
    """Every difference between a served value and its declared type (annotated in `module`),
    as `path: what`."""
    if value is None:
        return []
    for candidate in _candidates(annotation, module):
        origin = typing.get_origin(candidate)
        if isinstance(value, list) and origin is list:
            (item,) = typing.get_args(candidate)
            sample = example[0] if isinstance(example, list) and example else None
            return [d for v in value for d in differences(v, item, sample, path, module)]
        if not isinstance(value, dict):
            continue
        if candidate is UntypedStripeObject or origin is UntypedStripeObject:
            return []  # free-form: metadata and the like
        klass = origin or candidate
        if isinstance(klass, type) and issubclass(klass, stripe.ListObject):
            (item,) = typing.get_args(candidate) or (Any,)
            sample = (example or {}).get("data") if isinstance(example, dict) else None
            extra = sorted(set(value) - {"object", "data", "has_more", "url", "total_count"})
            return [f"{path}: not declared {extra}"] * bool(extra) + differences(
                value.get("data", []), list[item], sample, f"{path}.data[]", module
            )
        if isinstance(klass, type) and issubclass(klass, StripeObject):
            return object_differences(value, klass, example, path)
    return []


def object_differences(obj: dict, cls: type, example: Any, path: str) -> list[str]:
    if cls is StripeObject and isinstance(obj.get("object"), str):
        cls = class_of(obj["object"])
    declared = _declared(cls)
    found = []
    undeclared = sorted(set(obj) - set(declared))
    if undeclared:
        found.append(f"{path}: not declared {undeclared}")
    if isinstance(example, dict) and not obj.get("deleted"):  # a tombstone: id, object, deleted
        missing = sorted((set(declared) & set(example)) - set(obj))
        if missing:
            found.append(f"{path}: missing {missing}")
    for name, value in obj.items():
        if name in declared:
            sample = example.get(name) if isinstance(example, dict) else None
            found += differences(value, declared[name], sample, f"{path}.{name}", cls.__module__)
    return found
