"""`python -m stripe_assets.sandbox serve ...`: run the sandbox Stripe API on a local port."""

import argparse
import sys
from datetime import UTC, date, datetime, timedelta

from . import DEFAULT_API_KEY
from .api import SandboxApi
from .catalog import CURRENCIES
from .objects import API_VERSION
from .older_versions import ACCOUNT_API_VERSIONS
from .server import FAULTS, Realism, SandboxServer
from .simulation import BusinessPlan, Simulation


def parse_args(argv: list[str]) -> argparse.Namespace:
    today = datetime.now(UTC).date()
    parser = argparse.ArgumentParser(prog="python -m stripe_assets.sandbox")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve a simulated business over Stripe's API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=12111, help="0 picks a free port")
    serve.add_argument("--customers", type=int, default=500, help="signups over the whole period")
    serve.add_argument("--seed", type=int, default=42)
    serve.add_argument(
        "--start", type=date.fromisoformat, default=None, help="default: 3 years before --end"
    )
    serve.add_argument("--end", type=date.fromisoformat, default=today, help="default: today (UTC)")
    serve.add_argument("--latency-ms", type=float, default=0.0)
    serve.add_argument(
        "--rate-limit", type=float, default=0.0, help="requests per second, 0 = none"
    )
    serve.add_argument("--fault-rate", type=float, default=0.0, help="share of API requests")
    serve.add_argument(
        "--faults",
        default="500,drop",
        help=f"comma-separated fault kinds to draw from: {','.join(FAULTS)}",
    )
    serve.add_argument("--slow-ms", type=float, default=0.0, help="how late a `slow` fault answers")
    serve.add_argument(
        "--lifecycle",
        choices=["full", "basic"],
        default="full",
        help="basic: no mid-life MRR changes (upgrades, seats, coupons, failed payments, pauses)",
    )
    serve.add_argument("--events-retention-days", type=int, default=30)
    serve.add_argument(
        "--account-api-version",
        choices=ACCOUNT_API_VERSIONS,
        default=API_VERSION,
        help="the account's default API version, in which Stripe renders events' objects",
    )
    serve.add_argument(
        "--settlement-currency",
        choices=CURRENCIES,
        default=None,
        help="settle every charge in this currency, converted at a monthly exchange_rate "
        "(default: each currency settles in itself)",
    )
    serve.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        help=f"accepted secret key (repeatable; default {DEFAULT_API_KEY})",
    )
    serve.add_argument(
        "--forbid",
        action="append",
        default=[],
        metavar="RESOURCE",
        help="answer 403 to reads of this list endpoint (e.g. disputes), as Stripe answers a "
        "restricted key without that permission (repeatable)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    start = args.start or args.end - timedelta(days=3 * 365)
    plan = BusinessPlan(
        args.customers,
        start,
        args.end,
        args.seed,
        args.lifecycle,
        args.events_retention_days,
        args.account_api_version,
        args.settlement_currency,
    )
    api = SandboxApi(
        Simulation(plan), set(args.api_keys or [DEFAULT_API_KEY]), frozenset(args.forbid)
    )
    faults = tuple(kind.strip() for kind in args.faults.split(",") if kind.strip())
    unknown = set(faults) - set(FAULTS)
    if unknown:
        raise SystemExit(f"Unknown --faults {sorted(unknown)}: choose from {', '.join(FAULTS)}.")
    realism = Realism(
        args.latency_ms, args.rate_limit, args.fault_rate, args.seed, faults, args.slow_ms
    )
    server = SandboxServer((args.host, args.port), api, realism)
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
