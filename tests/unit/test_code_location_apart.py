"""The code location (definitions.py, defs/, and the settings, compat and lock modules they use)
never imports developer tooling: not the sandbox, not the launcher, the run summary, the
benchmark or the UI guard. It knows the sandbox's default key without importing the sandbox,
so the two constants must stay one key."""

import ast
from pathlib import Path

from stripe_assets.defs.stripe.client import SANDBOX_API_KEY
from stripe_assets.sandbox import DEFAULT_API_KEY

PACKAGE = Path(__file__).parents[2] / "stripe_assets"
TOOLING = ("stripe_assets.sandbox", "stripe_assets.tooling")


def code_location() -> list[Path]:
    return [
        path
        for path in PACKAGE.rglob("*.py")
        if not {"sandbox", "tooling"} & set(path.relative_to(PACKAGE).parts)
    ]


def package_of(path: Path) -> str:
    return ".".join(("stripe_assets", *path.relative_to(PACKAGE).parent.parts))


def imported_modules(source: str, package: str) -> list[str]:
    """Every module a source imports, relative imports resolved against its package."""
    modules = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            modules += [module, *(f"{module}.{alias.name}" for alias in node.names)]
    return modules


def test_the_code_location_names_the_sandboxs_key():
    assert SANDBOX_API_KEY == DEFAULT_API_KEY


def test_nothing_in_the_code_location_imports_developer_tooling():
    located = code_location()
    assert PACKAGE / "definitions.py" in located and PACKAGE / "settings.py" in located
    imported = {
        (path.relative_to(PACKAGE).as_posix(), module)
        for path in located
        for module in imported_modules(path.read_text(), package_of(path))
        if module.startswith(TOOLING)
    }
    assert imported == set()


def test_the_check_sees_tooling_imported_relatively_or_by_name():
    """The check above can fail: each way of importing the sandbox is seen."""
    for source in (
        "from ...sandbox import DEFAULT_API_KEY",
        "from ... import sandbox",
        "import stripe_assets.tooling.launcher",
        "def f():\n    from stripe_assets.sandbox.process import running_sandbox",
    ):
        imported = imported_modules(source, "stripe_assets.defs.stripe")
        assert any(module.startswith(TOOLING) for module in imported), source
