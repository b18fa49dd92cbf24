"""`make run` and `make dev`: one command from a clone to a materialized warehouse or the UI.

With `STRIPE_API_KEY` unset both start the built-in sandbox on a free port and point the pipeline
at it; with the key set they use `STRIPE_API_BASE` (Stripe itself by default). Runs are stored in
`data/dagster_home`, so the UI started by `make dev` shows the runs `make run` made.
"""

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stripe_assets.settings import PROJECT_ROOT, load_settings

DAGSTER_HOME_DEFAULT = PROJECT_ROOT / "data" / "dagster_home"
UI_HOST, UI_PORT = "127.0.0.1", 3000


@contextmanager
def stripe_endpoint(port: int = 0) -> Iterator[None]:
    """Use the real Stripe settings when a key is set, else a sandbox for the block's duration."""
    if os.environ.get("STRIPE_API_KEY"):
        print(f"Using Stripe at {load_settings().stripe_api_base} (STRIPE_API_KEY is set).")
        yield
        return
    from stripe_assets.sandbox.process import running_sandbox

    with running_sandbox(port=port) as sandbox:
        os.environ["STRIPE_API_BASE"] = sandbox.url
        os.environ["STRIPE_API_KEY"] = sandbox.api_key
        print(f"STRIPE_API_KEY is not set: using the built-in sandbox at {sandbox.url}.")
        yield


def prepare_dagster_home() -> Path:
    """A persistent instance configured by the project's dagster.yaml (pools, no welcome modal)."""
    home = Path(os.environ.get("DAGSTER_HOME") or DAGSTER_HOME_DEFAULT)
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def prepare_dbt_manifest() -> None:
    """dagster-dbt reads target/manifest.json when the code location loads."""
    from stripe_assets.defs.dbt.project import dbt_project

    dbt_project.preparer.prepare(dbt_project)


def run() -> int:
    prepare_dagster_home()
    with stripe_endpoint():
        prepare_dbt_manifest()
        from stripe_assets.run_summary import run_pipeline_with_summary

        return run_pipeline_with_summary()


def dev() -> int:
    prepare_dagster_home()
    with stripe_endpoint(port=int(os.environ.get("SANDBOX_PORT", "12111"))):
        print(f"Starting the Dagster UI at http://{UI_HOST}:{UI_PORT} (Ctrl-C to stop).")
        command = ["dagster", "dev", "-w", str(PROJECT_ROOT / "workspace.yaml")]
        command += ["-h", UI_HOST, "-p", str(UI_PORT)]
        dagster = str(Path(sys.executable).with_name("dagster"))
        try:
            return subprocess.call([dagster, *command[1:]], cwd=PROJECT_ROOT)
        except KeyboardInterrupt:
            return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m stripe_assets.launcher")
    parser.add_argument("command", choices=["run", "dev"])
    args = parser.parse_args(argv)
    sys.exit({"run": run, "dev": dev}[args.command]())


if __name__ == "__main__":
    main()
