"""`make bench`: how fast extraction runs against Stripe's rate limits, and what the rest costs.

Every figure is measured here, on loopback, against the sandbox, and printed as a table and
written to docs/bench/results.json as a list of {"name", "value", "unit"}: tracked, so the
latest figures live beside the code and no commit edits the README for a timing.

1. ceiling_ratio_test / ceiling_ratio_live: a full extraction from a sandbox that answers in
   250 ms and allows 25 (test mode) or 100 (live mode) requests a second; objects per second
   over the most the API allows (requests per second x 100 objects a page).
2. objects_per_s_unthrottled, cpu_s_per_100k_objects: the same extraction with no latency and no
   rate limit, for our extractor and for a naive baseline (the official `stripe` package's
   auto-pagination, one resource after another), and speedup_vs_naive.
3. incremental_requests, incremental_s, incremental_to_full_ratio: after the test-mode business
   lives one more day, an incremental run, against that full extraction.
4. {pinned,older}_account_{full,incremental}_requests and _incremental_to_full_requests: the
   same business unthrottled on an account whose default API version is ours, then 2024-06-20,
   so that every event renders its object in that version's shape and the changed objects are
   read again at ours (see StripeSync.changed); after one more day, requests of the incremental
   run against the full one's.
5. limited_<n>rps_{request_rate_ratio,refused_share,s}: a full extraction of a small business
   against a limit of n requests a second (5, then 1) far below the client's test-mode budget
   of 25: requests answered per second over the limit, the share of requests refused with 429
   while the shared budget adapts (client.RequestBudget), and how long it took.
6. e2e_<size>_{extract,raw,dbt,checks}_s, e2e_<size>_<stage>_peak_rss_mb and
   e2e_<size>_peak_rss_mb: `make run` end to end (sandbox → landing → raw → every dbt model →
   every check), stage times from Dagster, memory of the run's process tree sampled throughout;
   then e2e_<size>_next_day_dbt_s and e2e_<size>_next_day_to_full_dbt_ratio: the dbt build of
   the run after the business lives one more day (the incremental facts topped up) against the
   first, full one. The same figures on PostgreSQL (a local server from this machine's
   binaries) are named e2e_postgres_<size>_..., on Spark (a local session) e2e_spark_<size>_...
"""

import argparse
import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

from stripe_assets.defs.stripe.client import STRIPE_API_VERSION
from stripe_assets.sandbox.process import RunningSandbox, running_sandbox
from stripe_assets.settings import PROJECT_ROOT
from stripe_assets.tooling.local_postgres import running_postgres

# a 100,000-customer business over five years takes minutes to generate before it listens
LARGE_SANDBOX_STARTUP_S = 1800
RESULTS = PROJECT_ROOT / "docs" / "bench" / "results.json"
PAGE = 100
CEILING_BUSINESS = ("--customers", "6000", "--seed", "3", "--start", "2023-11-01")
STAGE_STEPS = {"stripe_landing": "extract", "stripe_raw": "raw", "stripe_dbt_models": "dbt"}
E2E_SIZES = {"10k": ("10000", 3), "50k": ("50000", 5)}
# the naive baseline reads what a connector would: every top-level list endpoint
NAIVE_RESOURCES = [
    "products",
    "prices",
    "coupons",
    "customers",
    "subscriptions",
    "invoices",
    "invoice_items",
    "credit_notes",
    "payment_intents",
    "charges",
    "refunds",
    "disputes",
    "balance_transactions",
    "payouts",
    "events",
]


@dataclass
class Figure:
    name: str
    value: float
    unit: str


def machine() -> dict:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    memory_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    return {"cores": os.cpu_count(), "memory_gb": round(memory_kb / 1024 / 1024, 1)}


def served(sandbox: RunningSandbox) -> int:
    return requests.get(f"{sandbox.url}/_sandbox/stats", timeout=30).json()["total"]


def cpu_seconds() -> float:
    """This process's CPU time and its finished children's: a backfill is normalized by worker
    processes too (the sandbox, still running, is not counted)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def extract(sandbox: RunningSandbox, workdir: Path, requests_per_second: float) -> tuple:
    """One extraction into a landing folder, in this process: (objects, seconds, cpu seconds)."""
    import dagster as dg

    from stripe_assets.defs.stripe.assets import stripe_landing
    from stripe_assets.defs.stripe.resources import StorageResource, StripeApiResource
    from stripe_assets.tooling.run_summary import QUIET_CONSOLE

    resources = {
        "stripe_api": StripeApiResource(
            api_key=sandbox.api_key,
            api_base=sandbox.url,
            requests_per_second=requests_per_second,
        ),
        "storage": StorageResource(
            landing_bucket_url=str(workdir / "landing"),
            duckdb_path=str(workdir / "stripe.duckdb"),
        ),
    }
    # closed here, in this thread: disposed of later by the garbage collector, from another
    # thread, its SQLite connections print tracebacks
    with dg.DagsterInstance.ephemeral() as instance:
        started, cpu = time.perf_counter(), cpu_seconds()
        result = dg.materialize(
            [stripe_landing],
            resources=resources,
            instance=instance,
            run_config=QUIET_CONSOLE,
        )
        seconds, cpu_s = time.perf_counter() - started, cpu_seconds() - cpu
    assert result.success, "extraction failed"
    objects = sum(
        event.materialization.metadata["rows_landed"].value
        for event in result.get_asset_materialization_events()
    )
    return objects, seconds, cpu_s


def naive_extract(sandbox: RunningSandbox) -> tuple:
    """The official client's auto-pagination, one resource after another: (objects, s, cpu s)."""
    import stripe

    client = stripe.StripeClient(sandbox.api_key, base_addresses={"api": sandbox.url})
    started, cpu, objects = time.perf_counter(), cpu_seconds(), 0
    for name in NAIVE_RESOURCES:
        service = getattr(client.v1, name)
        params = {"limit": PAGE, **({"status": "all"} if name == "subscriptions" else {})}
        for _ in service.list(params).auto_paging_iter():
            objects += 1
    return objects, time.perf_counter() - started, cpu_seconds() - cpu


def ceiling(figures: list[Figure], workdir: Path) -> None:
    full_s = None
    for mode, rate in (("test", 25), ("live", 100)):
        args = ("--latency-ms", "250", "--rate-limit", str(rate))
        with running_sandbox(*CEILING_BUSINESS, *args) as sandbox:
            objects, seconds, _ = extract(sandbox, workdir / f"ceiling_{mode}", rate)
            per_s, requests_per_s = objects / seconds, served(sandbox) / seconds
            figures += [
                Figure(f"ceiling_objects_{mode}", objects, "objects"),
                Figure(f"objects_per_s_{mode}", round(per_s, 1), "objects/s"),
                Figure(f"ceiling_ratio_{mode}", round(per_s / (rate * PAGE), 3), "ratio"),
                # how much of the request budget was used: objects per request is the API's
                # doing (an invoice with more than 10 lines costs a request of its own)
                Figure(f"request_rate_ratio_{mode}", round(requests_per_s / rate, 3), "ratio"),
                Figure(f"objects_per_request_{mode}", round(per_s / requests_per_s, 1), "objects"),
            ]
            if mode == "test":
                full_s = seconds
                requests.post(f"{sandbox.url}/_sandbox/advance", json={"days": 1}, timeout=600)
                before = served(sandbox)
                _, incremental_s, _ = extract(sandbox, workdir / f"ceiling_{mode}", rate)
                figures += [
                    Figure("incremental_requests", served(sandbox) - before, "requests"),
                    Figure("incremental_s", round(incremental_s, 2), "s"),
                    Figure("incremental_to_full_ratio", round(incremental_s / full_s, 4), "ratio"),
                ]
            save(figures)


def older_account_cost(figures: list[Figure], workdir: Path) -> None:
    for label, version in (("pinned_account", STRIPE_API_VERSION), ("older_account", "2024-06-20")):
        with running_sandbox(*CEILING_BUSINESS, "--account-api-version", version) as sandbox:
            extract(sandbox, workdir / label, 100_000)
            full = served(sandbox)
            requests.post(f"{sandbox.url}/_sandbox/advance", json={"days": 1}, timeout=600)
            extract(sandbox, workdir / label, 100_000)
            incremental = served(sandbox) - full
        figures += [
            Figure(f"{label}_full_requests", full, "requests"),
            Figure(f"{label}_incremental_requests", incremental, "requests"),
            Figure(f"{label}_incremental_to_full_requests", round(incremental / full, 4), "ratio"),
        ]
        save(figures)


LIMITED_BUSINESS = ("--customers", "100", "--seed", "3")


def below_the_budget(figures: list[Figure], workdir: Path) -> None:
    for limit in (5, 1):
        with running_sandbox(*LIMITED_BUSINESS, "--rate-limit", str(limit)) as sandbox:
            _, seconds, _ = extract(sandbox, workdir / f"limited_{limit}", 25)
            counts = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=60).json()["requests"]
        answered = sum(row["count"] for row in counts if row["status"] == 200)
        refused = sum(row["count"] for row in counts if row["status"] == 429)
        figures += [
            Figure(
                f"limited_{limit}rps_request_rate_ratio",
                round(answered / seconds / limit, 3),
                "ratio",
            ),
            Figure(
                f"limited_{limit}rps_refused_share",
                round(refused / (answered + refused), 3),
                "ratio",
            ),
            Figure(f"limited_{limit}rps_s", round(seconds, 1), "s"),
        ]
        save(figures)


def client_cost(figures: list[Figure], workdir: Path) -> None:
    with running_sandbox(*CEILING_BUSINESS) as sandbox:
        ours = extract(sandbox, workdir / "unthrottled", 100_000)
        naive = naive_extract(sandbox)
    for who, (objects, seconds, cpu_s) in (("", ours), ("naive_", naive)):
        figures += [
            Figure(f"{who}objects_per_s_unthrottled", round(objects / seconds, 1), "objects/s"),
            Figure(f"{who}cpu_s_per_100k_objects", round(cpu_s / objects * 100_000, 2), "s"),
        ]
    speedup = (ours[0] / ours[1]) / (naive[0] / naive[1])
    figures.append(Figure("speedup_vs_naive", round(speedup, 2), "x"))
    save(figures)


def end_to_end(
    figures: list[Figure], workdir: Path, label: str, customers: str, years: int, warehouse: str
):
    """`make run` on a sandbox of this size in this warehouse, then again after the business
    lives one more day; stage times from the runs' Dagster step stats. DuckDB's figures are
    named `e2e_<size>_...`, another warehouse's `e2e_<warehouse>_<size>_...`."""
    name = f"e2e_{label}" if warehouse == "duckdb" else f"e2e_{warehouse}_{label}"
    end = time.strftime("%Y-%m-%d", time.gmtime())
    start = f"{int(end[:4]) - years}{end[4:]}"
    root = workdir / name
    env = {
        **os.environ,
        "DUCKDB_PATH": str(root / "stripe.duckdb"),
        "LANDING_BUCKET_URL": str(root / "landing"),
        "DAGSTER_HOME": str(root / "dagster_home"),
        "STRIPE_REQUESTS_PER_SECOND": "100000",
    }
    with contextlib.ExitStack() as stack:
        if warehouse == "postgres":
            server = stack.enter_context(running_postgres())
            server.create_database("bench")
            env |= {
                "WAREHOUSE": "postgres",
                "POSTGRES_HOST": "127.0.0.1",
                "POSTGRES_PORT": str(server.port),
                "POSTGRES_USER": server.user,
                "POSTGRES_PASSWORD": server.password,
                "POSTGRES_DB": "bench",
            }
        if warehouse == "spark":
            env |= {"WAREHOUSE": "spark", "SPARK_DIR": str(root / "spark")}
        sandbox = stack.enter_context(
            running_sandbox(
                *("--customers", customers, "--start", start, "--end", end),
                startup_timeout_s=LARGE_SANDBOX_STARTUP_S,
            )
        )
        env.update(STRIPE_API_BASE=sandbox.url, STRIPE_API_KEY=sandbox.api_key)
        total_s, samples = timed_run(env, root, name)
        stages = stage_figures(root / "dagster_home", samples)
        advanced = requests.post(f"{sandbox.url}/_sandbox/advance", json={"days": 1}, timeout=600)
        advanced.raise_for_status()
        _, next_day_samples = timed_run(env, root, name)
        next_day = stage_figures(root / "dagster_home", next_day_samples)
    for stage, (seconds, peak_mb) in stages.items():
        figures += [
            Figure(f"{name}_{stage}_s", seconds, "s"),
            Figure(f"{name}_{stage}_peak_rss_mb", peak_mb, "MB"),
        ]
    dbt_full_s, dbt_next_day_s = stages["dbt"][0], next_day["dbt"][0]
    figures += [
        Figure(f"{name}_total_s", round(total_s, 1), "s"),
        Figure(f"{name}_peak_rss_mb", round(max(mb for _, mb in samples)), "MB"),
        Figure(f"{name}_next_day_dbt_s", dbt_next_day_s, "s"),
        Figure(
            f"{name}_next_day_to_full_dbt_ratio",
            round(dbt_next_day_s / dbt_full_s, 3) if dbt_full_s else 0.0,
            "ratio",
        ),
    ]
    save(figures)


def timed_run(env: dict[str, str], root: Path, name: str) -> tuple[float, list]:
    """One `make run`: its wall time and its process tree's memory samples."""
    root.mkdir(parents=True, exist_ok=True)
    log = root / "run.log"
    started = time.perf_counter()
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "stripe_assets.tooling.launcher", "run"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a group of its own: the launcher, dbt and their JVMs
        )
        try:
            samples = sample_rss_mb(process)
        except BaseException:  # the bench stopped (Ctrl-C, SIGTERM): the run goes with it
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
    if process.returncode != 0:
        raise SystemExit(f"{name} failed:\n{log.read_text()[-4000:]}")
    return time.perf_counter() - started, samples


def sample_rss_mb(process: subprocess.Popen) -> list[tuple[float, float]]:
    """(epoch seconds, MB) of the run's whole process tree (launcher, dbt, ...) every 0.2 s until
    it exits; the sandbox, a separate process, is not part of it."""
    import psutil

    root, samples = psutil.Process(process.pid), []
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            rss = sum(p.memory_info().rss for p in tree if p.is_running())
            samples.append((time.time(), rss / 1024 / 1024))
        except psutil.Error:
            pass
        time.sleep(0.2)
    return samples


def stage_figures(
    dagster_home: Path, samples: list[tuple[float, float]]
) -> dict[str, tuple[float, float]]:
    """Per stage of the latest run: (seconds, peak MB while it ran). Checks are every check step;
    a stage's peak tells which one to look at when the whole run's peak grows."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        [run] = instance.get_runs(limit=1)  # the latest
        spans = {
            s.step_key: (s.start_time, s.end_time) for s in instance.get_run_step_stats(run.run_id)
        }
    by_stage: dict[str, list[tuple[float, float]]] = {}
    for step, span in spans.items():
        by_stage.setdefault(STAGE_STEPS.get(step, "checks"), []).append(span)
    figures = {}
    for stage in ("extract", "raw", "dbt", "checks"):
        windows = by_stage.get(stage, [])
        seconds = sum(end - start for start, end in windows)
        peak = max(
            (mb for at, mb in samples if any(start <= at <= end for start, end in windows)),
            default=0.0,
        )
        figures[stage] = (round(seconds, 1), round(peak))
    return figures


def save(figures: list[Figure]) -> None:
    """Written after every stage, so a long run keeps what it measured if it is cut short; figures
    this run did not measure (`--only`) keep their earlier values."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    earlier = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    measured = {f.name for f in figures}
    kept = [f for f in earlier if f["name"] not in measured]
    RESULTS.write_text(json.dumps(kept + [asdict(f) for f in figures], indent=1))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m stripe_assets.tooling.benchmark")
    parser.add_argument(
        "--only",
        choices=["ceiling", "client", "older", "limited", "e2e"],
        action="append",
        help="default: all",
    )
    parser.add_argument(
        "--e2e", action="append", metavar="CUSTOMERS:YEARS", help="sizes (default 10000:3, 50000:5)"
    )
    parser.add_argument(
        "--warehouse",
        choices=["duckdb", "postgres", "spark"],
        action="append",
        help="default: DuckDB at every size, PostgreSQL and Spark at the first (local ones)",
    )
    args = parser.parse_args(argv)
    # stopped by SIGTERM (`kill`, a CI job's timeout), the bench unwinds as on Ctrl-C: the
    # sandboxes and PostgreSQL servers it started are stopped, its temporary folder removed
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    info = machine()
    print(
        f"Machine: {info['cores']} cores, {info['memory_gb']} GB. Ceiling business: "
        f"{' '.join(CEILING_BUSINESS)} (3 years).",
        flush=True,
    )
    figures = [
        Figure("machine_cores", info["cores"], "cores"),
        Figure("machine_memory", info["memory_gb"], "GB"),
    ]
    only = set(args.only or ["ceiling", "client", "older", "limited", "e2e"])
    sizes = (
        {
            f"{c[:-3]}k" if c.endswith("000") else c: (c, int(y))
            for c, y in (s.split(":") for s in args.e2e)
        }
        if args.e2e
        else E2E_SIZES
    )
    with tempfile.TemporaryDirectory(prefix="stripe-bench-") as tmp:
        workdir = Path(tmp)
        if "ceiling" in only:
            ceiling(figures, workdir)
        if "client" in only:
            client_cost(figures, workdir)
        if "older" in only:
            older_account_cost(figures, workdir)
        if "limited" in only:
            below_the_budget(figures, workdir)
        if "e2e" in only:
            for index, (label, (customers, years)) in enumerate(sizes.items()):
                for warehouse in args.warehouse or ["duckdb", "postgres", "spark"]:
                    if args.warehouse or warehouse == "duckdb" or index == 0:
                        end_to_end(figures, workdir, label, customers, years, warehouse)
    print(f"\n{'figure':<36} {'value':>14}  unit")
    for figure in figures:
        print(f"{figure.name:<36} {figure.value:>14,}  {figure.unit}")
    print(f"\nWritten to {RESULTS.relative_to(PROJECT_ROOT)}.")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("Stopped: the servers the bench started are stopped, its temporary folder gone.")
