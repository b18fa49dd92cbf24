"""Our extractor's client against the sandbox over real HTTP: windowed lists split for idle
threads and still return every object exactly once, and a list closed early stops its readers."""

import threading
from datetime import UTC, datetime

import pytest
import requests

from stripe_assets.defs.stripe.client import CreatedWindows, StripeApiError, StripeClient
from stripe_assets.sandbox.process import RunningSandbox, running_sandbox

# six hundred customers over two years; a little latency so that readers overlap as they
# do against Stripe, where a request takes a few hundred milliseconds
BUSINESS = ("--customers", "600", "--seed", "11", "--start", "2024-01-01", "--end", "2026-01-01")
START, END = datetime(2024, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def sandbox() -> RunningSandbox:
    with running_sandbox(*BUSINESS, "--latency-ms", "20") as running:
        yield running


def windows_over_history(count: int) -> list[tuple[int, int | None]]:
    first, last = int(START.timestamp()), int(END.timestamp())
    edges = [first + (last - first) * i // count for i in range(count)]
    return list(zip(edges, [*edges[1:], None], strict=True))


@pytest.fixture
def splits(monkeypatch) -> list[int]:
    """Every split a windowed list makes, observed (not changed) by wrapping the real method."""
    made: list[int] = []
    keep_newer_half = CreatedWindows.keep_newer_half

    def observed(self, token, start, last):
        new_start = keep_newer_half(self, token, start, last)
        if new_start != start:
            made.append(new_start)
        return new_start

    monkeypatch.setattr(CreatedWindows, "keep_newer_half", observed)
    return made


@pytest.mark.parametrize(
    "path, table",
    # events span only the sandbox's last 30 days, so all but the last window are empty at once;
    # invoices crowd into recent months as the business grows
    [("/v1/events", "events"), ("/v1/invoices", "invoices"), ("/v1/invoiceitems", "invoice_items")],
)
def test_windows_split_for_idle_threads_and_read_every_object_once(sandbox, splits, path, table):
    client = StripeClient(sandbox.api_key, sandbox.url, requests_per_second=1_000)
    one_by_one = [obj["id"] for page in client.list_all(path, resource=table) for obj in page]
    windowed = [
        obj["id"]
        for page in client.list_windows(
            path, {}, CreatedWindows(windows_over_history(4)), resource=table
        )
        for obj in page
    ]
    assert len(one_by_one) > 400, "the business is too small to need several pages a window"
    assert splits, "no idle thread was handed part of a window"
    assert len(windowed) == len(set(windowed)), "an object was read twice"
    assert sorted(windowed) == sorted(one_by_one)


def test_a_windowed_list_closed_early_stops_its_readers(sandbox):
    """A consumer that stops (a failed run, dlt closing the resource) must not leave readers
    blocked on a full page queue, which would hang the run for ever."""
    client = StripeClient(sandbox.api_key, sandbox.url, requests_per_second=1_000)
    windows = CreatedWindows(windows_over_history(4))
    pages = client.list_windows("/v1/events", {}, windows, resource="events")
    closed = threading.Event()

    def read_one_page_then_close() -> None:
        next(pages)
        pages.close()
        closed.set()

    threading.Thread(target=read_one_page_then_close, daemon=True).start()
    assert closed.wait(timeout=60), "closing the list waited for ever on its readers"
    assert not [t for t in threading.enumerate() if t.name.startswith("events_")], "readers left"


def test_what_a_windowed_list_cut_short_has_left_is_exactly_the_rest(sandbox, splits):
    """A consumer that stops after a few pages (a failed run keeps those) and then lists the
    windows `left()` names gets every other object: none skipped, and only the objects sharing
    the second of a window's last kept object read twice."""
    client = StripeClient(sandbox.api_key, sandbox.url, requests_per_second=1_000)
    every = {
        obj["id"] for page in client.list_all("/v1/invoices", resource="invoices") for obj in page
    }
    windows = CreatedWindows(windows_over_history(4))
    pages = client.list_windows("/v1/invoices", {}, windows, resource="invoices")
    kept = [obj for _, page in zip(range(6), pages, strict=False) for obj in page]
    pages.close()
    left = windows.left()
    rest = [
        obj
        for page in client.list_windows(
            "/v1/invoices", {}, CreatedWindows(left), resource="invoices"
        )
        for obj in page
    ]
    assert splits, "no idle thread was handed part of a window"
    assert {obj["id"] for obj in kept} | {obj["id"] for obj in rest} == every
    twice = {obj["id"] for obj in kept} & {obj["id"] for obj in rest}
    assert len(twice) < 10 and len(rest) < len(every) - len(kept) + 10


@pytest.mark.parametrize(
    "resource, way_out",
    [
        ("customers", "leave customers out of STRIPE_RESOURCES to sync the others."),
        ("events", "check STRIPE_API_BASE and rerun."),  # every sync reads events
    ],
)
def test_a_400_names_the_resource_and_the_way_past_it(sandbox, resource, way_out):
    client = StripeClient(sandbox.api_key, sandbox.url, requests_per_second=1_000)
    with pytest.raises(StripeApiError) as refused:
        list(client.list_all(f"/v1/{resource}", {"no_such_parameter": "1"}, resource=resource))
    message = str(refused.value)
    assert message.startswith(f"Stripe refused the request for {resource} (400: ")
    assert message.endswith(f"this is not retryable: {way_out}")


def test_a_trickling_answer_is_cut_at_the_timeout_and_retried():
    """A server that answers 200 at once and then sends its body a few bytes at a time, each
    within the timeout, would hold a reader for ever if the timeout bounded only the gaps:
    every attempt here trickles, so each is cut at STRIPE_TIMEOUT_S and the last one says so.
    The thread's join only detects a hang; nothing is timed."""
    trickling = ("--customers", "5", "--faults", "trickle", "--fault-rate", "1", "--slow-ms", "100")
    with running_sandbox(*trickling) as slow:
        client = StripeClient(slow.api_key, slow.url, timeout_s=0.5, max_attempts=3, backoff_s=0)
        outcome: list[BaseException] = []

        def read() -> None:
            try:
                client.get("/v1/customers", {"limit": 100}, resource="customers")
            except StripeApiError as error:
                outcome.append(error)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout=120)
        assert not reader.is_alive(), "a trickling answer held the reader"
    assert [str(e) for e in outcome] == [
        "Stripe gave no usable answer for customers in 3 attempts, 3 of which did not answer "
        "whole within STRIPE_TIMEOUT_S (0.5 s): raise STRIPE_TIMEOUT_S or check the network, "
        "then rerun."
    ]


def test_a_rate_limit_far_below_the_budget_slows_the_client_down_instead_of_failing():
    """Stripe's limit for this key is 2 requests a second, the client's budget 25: six readers
    at once hear 429s, the shared budget falls on them and climbs back on successes, and every
    object is read, with most requests answered rather than refused."""
    with running_sandbox("--customers", "300", "--seed", "3", "--rate-limit", "2") as limited:
        client = StripeClient(limited.api_key, limited.url, requests_per_second=25)
        last = int(datetime.now(UTC).timestamp())  # the business's three years up to today
        edges = [last - 3 * 365 * 86_400 * (6 - i) // 6 for i in range(6)]
        windows = list(zip(edges, [*edges[1:], None], strict=True))
        read = [
            obj["id"]
            for page in client.list_windows(
                "/v1/invoices", {}, CreatedWindows(windows), resource="invoices"
            )
            for obj in page
        ]
        stats = requests.get(f"{limited.url}/_sandbox/stats", timeout=30).json()
    refused = sum(row["count"] for row in stats["requests"] if row["status"] == 429)
    answered = sum(row["count"] for row in stats["requests"] if row["status"] == 200)
    assert len(read) == len(set(read)) and len(read) > 500
    assert refused < answered, (refused, answered)
    assert client.budget.per_second < 25, "the budget never slowed down"
