"""The code location knows the sandbox's default key without importing the sandbox (developer
tooling, kept apart from it): the two constants must stay one key."""

import ast
from pathlib import Path

from stripe_assets.defs.stripe.client import SANDBOX_API_KEY
from stripe_assets.sandbox import DEFAULT_API_KEY

PACKAGE = Path(__file__).parents[2] / "stripe_assets"
CODE_LOCATION = [PACKAGE / "definitions.py", *(PACKAGE / "defs").rglob("*.py")]


def test_the_code_location_names_the_sandboxs_key():
    assert SANDBOX_API_KEY == DEFAULT_API_KEY


def test_nothing_in_the_code_location_imports_the_sandbox():
    imported = {
        (path.name, name)
        for path in CODE_LOCATION
        for node in ast.walk(ast.parse(path.read_text()))
        for name in (
            [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else []
        )
        if "sandbox" in name
    }
    assert imported == set()
