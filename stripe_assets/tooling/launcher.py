"""`make run`, `make check` and `make dev`: one command from a clone to a warehouse or the UI.

With `STRIPE_API_KEY` unset both start the built-in sandbox on a free port and point the pipeline
at it; with the key set they use `STRIPE_API_BASE` (Stripe itself by default). Runs are stored in
`data/dagster_home`, so the UI started by `make dev` shows the runs `make run` made.
"""

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from dagster import DagsterInstance

from stripe_assets.defs.dbt.project import prepare_manifest
from stripe_assets.defs.dbt.settings import DbtSettingsResource
from stripe_assets.defs.resources import require_valid_settings
from stripe_assets.defs.stripe.assets import LANDING_GROUP
from stripe_assets.defs.stripe.preflight import key_problem, origin_problem, raw_zone_problem
from stripe_assets.defs.stripe.resources import StorageResource, StripeApiResource
from stripe_assets.defs.stripe.warehouse import RAW_SCHEMA
from stripe_assets.file_lock import exclusive_lock
from stripe_assets.settings import (
    DBT_PROJECT_DIR,
    PROJECT_ROOT,
    ConfigurationError,
    writable_folder,
)
from stripe_assets.tooling.instance import instance_storage, instance_storage_problems
from stripe_assets.tooling.ui_guard import UiGuard

DAGSTER_HOME_DEFAULT = PROJECT_ROOT / "data" / "dagster_home"
INSTANCE_SETTINGS = Path(__file__).with_name("dagster.yaml")  # copied into DAGSTER_HOME
CHECK_STORAGE = {
    "DUCKDB_PATH": PROJECT_ROOT / "data" / "check" / "stripe.duckdb",
    "LANDING_BUCKET_URL": PROJECT_ROOT / "data" / "check" / "landing",
    "DAGSTER_HOME": PROJECT_ROOT / "data" / "check" / "dagster_home",
    "SPARK_DIR": PROJECT_ROOT / "data" / "check" / "spark",
}
UI_HOST = "127.0.0.1"
SHUTDOWN_GRACE_S = 20


@contextmanager
def stripe_endpoint(port: int = 0) -> Iterator[None]:
    """Use the real Stripe settings when a key is set, else a sandbox for the block's duration."""
    if os.environ.get("STRIPE_API_KEY"):
        api_base = StripeApiResource.from_environment().api_base
        print(f"Using Stripe at {api_base} (STRIPE_API_KEY is set).")
        yield
        return
    from stripe_assets.sandbox.process import running_sandbox

    with running_sandbox(port=port) as sandbox:
        os.environ["STRIPE_API_BASE"] = sandbox.url
        os.environ["STRIPE_API_KEY"] = sandbox.api_key
        print(f"STRIPE_API_KEY is not set: using the built-in sandbox at {sandbox.url}.")
        yield


def dagster_home() -> Path:
    return Path(os.environ.get("DAGSTER_HOME") or DAGSTER_HOME_DEFAULT)


def prepare_dagster_home() -> Path:
    """A persistent instance configured by the project's dagster.yaml (pools, no welcome modal)."""
    home = dagster_home()
    write_dagster_home(home)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def write_dagster_home(home: Path) -> None:
    """The project's dagster.yaml, and the instance's storage (instance.py: PostgreSQL when
    DAGSTER_POSTGRES_URL is set, else SQLite files in `home`).

    Then the storage is created, one process at a time: Dagster creates its databases' tables
    when it first opens them, and two processes doing so at once (`make dev` beside `make run`
    on a fresh clone) can both stamp the schema's version, after which no process can open the
    instance again.
    """
    storage = instance_storage(home)
    settings = INSTANCE_SETTINGS.read_text()
    with exclusive_lock(home / "storage.lock"):
        # written whole, then renamed: a process that opens the instance without this lock
        # (a run the UI launched) reads the old file or the new
        written = home / f".dagster.yaml.{os.getpid()}"
        written.write_text(f"{settings}{yaml.safe_dump(storage)}")
        os.replace(written, home / "dagster.yaml")
        DagsterInstance.from_config(str(home)).dispose()


def require_usable_configuration(*port_variables: str) -> None:
    """Stop before anything starts when a setting is malformed or names something that cannot
    be used; main() prints each problem as one sentence."""
    problems = [
        f"{variable} {value!r} is not a port number (0 to 65535): fix it."
        for variable in port_variables
        if (value := os.environ.get(variable, "")) and not (value.isdigit() and int(value) < 65536)
    ]
    if not writable_folder(dagster_home()):
        problems.append(
            f"DAGSTER_HOME {str(dagster_home())!r} cannot be written: point it at a folder you "
            "can write to, or unset it for data/dagster_home."
        )
    problems += instance_storage_problems()
    try:
        require_valid_settings()
        problems = StorageResource.from_environment().problems() + problems
    except ConfigurationError as malformed:
        problems = malformed.problems + problems
    if problems:
        raise ConfigurationError(problems)


def require_accepted_key() -> None:
    """A key Stripe rejects, or an API that cannot be reached at all, stops the command before a
    run exists (preflight.py says why)."""
    if sentence := key_problem(StripeApiResource.from_environment()):
        raise ConfigurationError([sentence])


def require_one_origin() -> None:
    api, storage = StripeApiResource.from_environment(), StorageResource.from_environment()
    if sentence := origin_problem(api, storage):
        raise ConfigurationError([sentence])


def require_raw_from_this_zone() -> None:
    if sentence := raw_zone_problem(StorageResource.from_environment()):
        raise ConfigurationError([sentence])


def require_whole_run_startable() -> None:
    """What would stop a run of the whole graph (`make run`, `make check`) in its first step,
    asked before the run exists."""
    require_accepted_key()
    require_one_origin()
    require_raw_from_this_zone()


def selected_prefixes(variables: str) -> set[str] | None:
    """The first parts of the asset keys a launch (its GraphQL variables) selects, or None
    when it names no assets (a job, a re-execution): all of the job's may run."""
    found: set[str] = set()
    selecting = False

    def walk(value) -> None:
        nonlocal selecting
        if isinstance(value, dict):
            for name, item in value.items():
                if name == "assetSelection" and isinstance(item, list):
                    selecting = True
                    found.update(key["path"][0] for key in item if key.get("path"))
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(json.loads(variables))
    return found if selecting else None


def reads_stripe(variables: str) -> bool:
    """Whether a launch may read Stripe: it may run a landing asset."""
    return _may_run_under(variables, LANDING_GROUP)


def loads_raw(variables: str) -> bool:
    """Whether a launch may load raw from the landing zone as it stands: it may run a raw
    asset."""
    return _may_run_under(variables, RAW_SCHEMA)


def _may_run_under(variables: str, prefix: str) -> bool:
    """Whether a launch may run an asset whose key starts with `prefix`: not a raw rebuild
    (it reads no Stripe, and reloads raw from the landing zone alone), and not a selection
    without one."""
    if "stripe_raw_rebuild" in variables:
        return False
    selected = selected_prefixes(variables)
    return selected is None or prefix in selected


def launch_problem(variables: str) -> str | None:
    """Why a run the UI is about to launch would fail in its first step, or None: the settings;
    for a run that reads Stripe, the key and whose data it reads; for one that loads raw, the
    landing zone raw was loaded from. `make dev`'s guard asks before the webserver creates the
    run (ui_guard.py says why)."""
    try:
        require_usable_configuration()
        if reads_stripe(variables):
            require_accepted_key()
            require_one_origin()
        if loads_raw(variables):
            require_raw_from_this_zone()
    except ConfigurationError as refused:
        return " ".join(refused.problems)
    return None


def run() -> int:
    require_usable_configuration()
    prepare_dagster_home()
    with stripe_endpoint():
        require_whole_run_startable()
        prepare_manifest()
        from stripe_assets.tooling.run_summary import run_pipeline_with_summary

        return run_pipeline_with_summary()


def check() -> int:
    """`make check`, for CI: the whole graph with every check; fails on any failed ERROR check.

    It runs in its own storage under data/check unless DUCKDB_PATH, LANDING_BUCKET_URL,
    DAGSTER_HOME or SPARK_DIR say otherwise, so checking never touches the warehouse `make run`
    fills. On PostgreSQL it builds in the database POSTGRES_DB names: give it one of its own.
    """
    for variable, default in CHECK_STORAGE.items():
        os.environ.setdefault(variable, str(default))
    require_usable_configuration()
    prepare_dagster_home()
    with stripe_endpoint():
        require_whole_run_startable()
        prepare_manifest()
        from stripe_assets.tooling.run_summary import run_pipeline_with_summary

        return run_pipeline_with_summary(explain_checks=True)


def rebuild_raw() -> int:
    """Reload raw from the landing zone alone: no key needed, no request to Stripe."""
    require_usable_configuration()
    prepare_dagster_home()
    prepare_manifest()
    from stripe_assets.defs.stripe.automation import stripe_raw_rebuild_job
    from stripe_assets.tooling.run_summary import run_pipeline_with_summary

    return run_pipeline_with_summary(stripe_raw_rebuild_job.name)


def docs() -> int:
    """dbt's documentation site for the project, generated from the warehouse and served."""
    from stripe_assets.defs.dbt.project import dbt_resource

    require_usable_configuration("DBT_DOCS_PORT")
    port = os.environ.get("DBT_DOCS_PORT", "8080")
    storage = StorageResource.from_environment()
    Path(storage.duckdb_path).parent.mkdir(parents=True, exist_ok=True)  # before any run
    dbt = dbt_resource()
    # A folder of its own: `docs generate` writes a manifest too, which must not overwrite the
    # one a code location may be reading.
    site = Path("target") / "docs"
    warehouse = ["--target", storage.dbt_target]
    warehouse += ["--vars", DbtSettingsResource.from_environment().cli_vars(storage)]
    dbt.cli(["docs", "generate", *warehouse], target_path=site).wait()
    print(f"Serving dbt docs at http://{UI_HOST}:{port} (Ctrl-C to stop).", flush=True)
    serve = [dbt.dbt_executable, "docs", "serve", "--host", UI_HOST, "--port", port]
    options = ["--no-browser", "--target-path", str(site), "--profiles-dir", str(DBT_PROJECT_DIR)]
    return _serve([*serve, *options], DBT_PROJECT_DIR, stop_with=signal.SIGTERM)


def dev() -> int:
    """`dg dev` (Dagster's webserver and daemon) beside a sandbox, both stopped by Ctrl-C or
    SIGTERM."""
    require_usable_configuration("DAGSTER_UI_PORT", "SANDBOX_PORT")
    ui_port = os.environ.get("DAGSTER_UI_PORT", "3000")
    prepare_dagster_home()
    webserver_port = str(_free_loopback_port())  # behind the guard (ui_guard.py)
    with (
        stripe_endpoint(port=int(os.environ.get("SANDBOX_PORT", "12111"))),
        UiGuard(UI_HOST, int(ui_port), int(webserver_port), preflight=launch_problem),
    ):
        print(f"Starting the Dagster UI at http://{UI_HOST}:{ui_port} (Ctrl-C to stop).")
        print(
            "Its sensors start stopped, so nothing runs on its own until you turn them on "
            "under Automation: stripe_automation (the sync's cron, the daily dbt build), "
            "landing_zone_sensor (loads each landing load into raw), freshness_sensor."
        )
        dg_cli = str(Path(sys.executable).with_name("dg"))
        command = [dg_cli, "dev", "-w", str(PROJECT_ROOT / "workspace.yaml")]
        return _serve([*command, "-h", UI_HOST, "-p", webserver_port], PROJECT_ROOT)


def _free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind((UI_HOST, 0))
        return probe.getsockname()[1]


def _serve(command: list[str], cwd: Path, stop_with: signal.Signals | None = None) -> int:
    """Run a server in the foreground until it stops, and make sure it does stop.

    Ctrl-C and SIGTERM are passed on to the server (as `stop_with` when given: dbt's docs server
    answers SIGINT with a KeyboardInterrupt traceback, SIGTERM quietly), which shuts its own
    processes down; one that has not finished after SHUTDOWN_GRACE_S (dg dev can wait for ever
    on a web server holding a connection) is killed with its whole process group. Either way
    context managers (the sandbox) close on the way out, and a server stopped so exits 0.
    """
    server = subprocess.Popen(command, cwd=cwd, start_new_session=True)
    stopped = threading.Event()

    def stop(signum: int, _frame) -> None:
        stopped.set()
        with contextlib.suppress(ProcessLookupError):
            server.send_signal(stop_with or signum)
        force = threading.Timer(SHUTDOWN_GRACE_S, _kill_group, args=(server.pid,))
        force.daemon = True
        force.start()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = server.wait()
    _kill_group(server.pid)  # whatever the server left running
    return 0 if stopped.is_set() else code


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m stripe_assets.tooling.launcher")
    parser.add_argument("command", choices=["run", "check", "dev", "rebuild-raw", "docs"])
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show dbt's and dlt's output live (VERBOSE=1)"
    )
    args = parser.parse_args(argv)
    if args.verbose:
        os.environ["VERBOSE"] = "1"
    # dbt's unit tests check the models' logic on fixed inputs, which no sync changes: dbt Labs
    # recommends running them in development and CI only. `make check` runs them; `make run`
    # and the runs of `make dev` leave them out, unless DBT_EXCLUDE_RESOURCE_TYPES is set.
    if args.command != "check":
        os.environ.setdefault("DBT_EXCLUDE_RESOURCE_TYPES", "unit_test")
    # Tools we start (dg dev, its code server, dbt) come from this Python's environment.
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    commands = {"run": run, "check": check, "dev": dev, "rebuild-raw": rebuild_raw, "docs": docs}
    try:
        sys.exit(commands[args.command]())
    except ConfigurationError as error:
        print(*error.problems, sep="\n", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
