"""What would stop a run in its first step, asked before the run exists.

Dagster records every materialization and check a run plans as it creates the run, so a run
failing at once (a revoked key, say) marks all of them failed in the UI though no data changed.
Each question here is asked where a run is about to be created: `make run` and `make check`
(tooling/launcher.py), a launch in `make dev`'s UI (tooling/ui_guard.py), the automation's cron
(`ReadyToSync`) and the landing sensor. The run asks each again, holding the state it reads.
"""

import dagster as dg

from stripe_assets.settings import ConfigurationError

from .client import UNREACHABLE_ATTEMPTS, StripeApiError, StripeClient, StripeUnreachable
from .extract import data_origin, mixed_origins
from .landing import raw_from_another_zone
from .resources import StorageResource, StripeApiResource


def key_problem(api: StripeApiResource) -> str | None:
    """A key Stripe rejects, or an API that cannot be reached at all. One cheap request (the
    first customer) tells; anything else is left for the run to judge."""
    client = StripeClient(
        api.api_key, api.api_base, timeout_s=api.timeout_s, max_attempts=UNREACHABLE_ATTEMPTS
    )
    try:
        client.get("/v1/customers", {"limit": 1}, resource="customers", handled=(403,))
    except StripeApiError as error:
        if error.status == 401 or isinstance(error, StripeUnreachable):
            return str(error)
    return None


def origin_problem(api: StripeApiResource, storage: StorageResource) -> str | None:
    """A key reading other data than the landing zone holds (the sandbox's, then an account's);
    the sync judges it again with its state locked (extract.StripeSync._keep_to_one_origin)."""
    return mixed_origins(storage.landed_origin(), data_origin(api.api_key))


def raw_zone_problem(storage: StorageResource) -> str | None:
    """A warehouse whose raw was loaded from another landing zone; the raw load judges it again
    with its state locked (landing.AnotherLandingZone)."""
    return raw_from_another_zone(storage.landing_bucket_url, storage.raw_last_loads())


def sync_problem() -> str | None:
    """Why a sync started now would fail in its first step, or None: the settings it reads,
    the storage, the key and whose data the key reads."""
    try:
        api, storage = StripeApiResource.from_environment(), StorageResource.from_environment()
    except ConfigurationError as malformed:
        return " ".join(malformed.problems)
    problems = storage.problems()
    return " ".join(problems) or key_problem(api) or origin_problem(api, storage)


class _OncePerTick:
    """`sync_problem` asked, and said in the tick's log, once per automation tick however many
    landing assets ask."""

    def __init__(self) -> None:
        self.tick: float | None = None
        self.problem: str | None = None

    def __call__(self, tick: float, log) -> str | None:
        if tick != self.tick:
            self.tick, self.problem = tick, sync_problem()
            if self.problem:
                log.warning(f"No sync on this tick of STRIPE_SYNC_CRON: {self.problem}")
        return self.problem


_sync_problem_this_tick = _OncePerTick()


class ReadyToSync(dg.AutomationCondition):
    """True while a sync would get past its first step (`sync_problem`). The automation's cron
    requests no sync otherwise, and says why in its tick's log; the cron tick stays unhandled,
    so the sync runs at the first tick after the problem is fixed. Evaluated in the code
    location (the automation sensor's `use_user_code_server`), where the settings are."""

    @property
    def name(self) -> str:
        return "ready_to_sync"

    @property
    def description(self) -> str:
        return "Settings usable, STRIPE_API_KEY accepted, the landing zone holds its data"

    def evaluate(self, context: dg.AutomationContext) -> dg.AutomationResult:
        if context.candidate_subset.is_empty:
            return dg.AutomationResult(context, true_subset=context.get_empty_subset())
        if _sync_problem_this_tick(context.evaluation_time.timestamp(), context.log):
            return dg.AutomationResult(context, true_subset=context.get_empty_subset())
        return dg.AutomationResult(context, true_subset=context.candidate_subset)
