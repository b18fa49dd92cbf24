"""A small read-only Stripe API client: pinned version, pagination, retries, plain-English errors.

We do not use the official `stripe` package here because extraction needs control it does not give:
one shared HTTP session, retries that honour `Retry-After` and `Stripe-Should-Retry`, and error
messages that name the resource and never contain the key.
"""

import functools
import itertools
import queue
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson
import requests
import urllib3

from stripe_assets.settings import stripe_key_problem

STRIPE_API_VERSION = "2026-10-28.endive"
# The key the built-in sandbox accepts unless told otherwise (stripe_assets.sandbox's
# DEFAULT_API_KEY, which tests/unit/test_code_location_apart.py holds equal to it: the code location
# never imports the sandbox). No key of Stripe's looks like it, so a sync made with it is known
# to hold the sandbox's data.
SANDBOX_API_KEY = "sk_test_sandbox"
PAGE_SIZE = 100
RETRYABLE_STATUSES = frozenset({409, 429, 500, 502, 503, 504})

StripeObject = dict[str, Any]


class StripeApiError(Exception):
    """A failure the user can act on; the message is one sentence that says what to do."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class StripeUnreachable(StripeApiError):
    """No connection to the API at all: the network or STRIPE_API_BASE, not a passing fault."""


UNREACHABLE_ATTEMPTS = 3
MIN_REQUESTS_PER_SECOND = 0.25
RATE_DECREASE = 0.7  # the rate's factor on a 429
# per request answered: at r requests a second the rate grows by r/10 a second, so a rate just
# below Stripe's limit takes about ten seconds to cross it again
RATE_GROWTH_PER_SUCCESS = 0.1
# Past this share of the rate the last 429 came at, the rate grows PROBING_SLOWDOWN times slower
# (and a 429 there lowers it only to this share): it stays just under a limit it has found,
# instead of crossing it again every few seconds, and still finds a limit that was raised.
PROBING_SHARE = 0.9
PROBING_SLOWDOWN = 30
REQUEUE_GROWTH = 0.1  # see RequestBudget
BODY_CHUNK_BYTES = 65_536


class ResponseDeadline(requests.Timeout):
    """The response did not arrive whole within the timeout: retried like any timeout."""


# A window is split for an idle thread only while it spans this much (see CreatedWindows).
MIN_SPLIT_SECONDS = 3_600


class RequestBudget:
    """One request rate shared by every thread, since Stripe limits requests per second per key.

    On a 429 it falls to RATE_DECREASE of itself, or at once to what Stripe answered in the last
    second when that is less (once per request slot, however many threads hear one); it climbs
    back by RATE_GROWTH_PER_SUCCESS for each request answered, a tenth of itself a second, never
    above the configured rate. Within PROBING_SHARE of the rate the last 429 came at, it climbs
    PROBING_SLOWDOWN times slower, and a 429 there lowers it only to PROBING_SHARE of itself. A
    run against a lower limit than ours (an endpoint's own, a key shared with other software,
    Connect) then goes just under that limit instead of failing.

    Each waiting thread holds a turn, spaced from the one before by the rate when it was given.
    When the rate falls, or has grown by REQUEUE_GROWTH since, the turns given out are taken
    again at the new rate: dozens of threads on turns of the old one would otherwise all go at
    once after a fall, and after a fall to one request a second, six readers' turns would keep
    the old, slower pace for six seconds as the rate climbs back.
    """

    def __init__(self, per_second: float):
        self.ceiling = per_second
        self.per_second = per_second
        self._changed = threading.Condition()
        self._next_slot = time.monotonic()
        self._slowed_at = float("-inf")
        self._answered: deque[float] = deque()  # when requests succeeded, this last second
        self._requeues = 0  # how many times the turns given out were taken again
        self._requeued_at_rate = per_second
        self._limited_at = float("inf")  # the rate the last 429 came at

    def wait(self, stop: threading.Event) -> None:
        """Until this thread's turn, or until `stop` is set (see `stop_waiting`)."""
        with self._changed:
            while not stop.is_set():
                now = time.monotonic()
                slot = max(now, self._next_slot)
                self._next_slot = slot + 1 / self.per_second
                given_at = self._requeues
                while self._requeues == given_at and not stop.is_set():
                    if (delay := slot - time.monotonic()) <= 0:
                        return
                    self._changed.wait(delay)

    def stop_waiting(self) -> None:
        """Wake every waiting thread, to see that `stop` is set."""
        with self._changed:
            self._changed.notify_all()

    def rate_limited(self) -> None:
        with self._changed:
            now = time.monotonic()
            if now - self._slowed_at < 1 / self.per_second:
                return
            self._slowed_at = now
            # refused again about where the last 429 came: the limit is known, fall just under it
            near_the_limit = self.per_second >= PROBING_SHARE * self._limited_at
            self._limited_at = self.per_second
            rate = self.per_second * (PROBING_SHARE if near_the_limit else RATE_DECREASE)
            if answered := self._recent(now):
                rate = min(rate, answered)
            self.per_second = max(MIN_REQUESTS_PER_SECOND, rate)
            self._requeue(now)

    def succeeded(self) -> None:
        with self._changed:
            now = time.monotonic()
            self._answered.append(now)
            self._recent(now)  # keeps only the last second's
            probe_from = PROBING_SHARE * self._limited_at
            rate = self.per_second + RATE_GROWTH_PER_SUCCESS
            if rate > probe_from:
                rate = max(probe_from, self.per_second + RATE_GROWTH_PER_SUCCESS / PROBING_SLOWDOWN)
            self.per_second = min(self.ceiling, rate)
            if self.per_second >= self._requeued_at_rate * (1 + REQUEUE_GROWTH):
                self._requeue(now)

    def _requeue(self, now: float) -> None:
        self._requeues += 1
        self._requeued_at_rate = self.per_second
        self._next_slot = now + 1 / self.per_second
        self._changed.notify_all()

    def _recent(self, now: float) -> int:
        while self._answered and self._answered[0] < now - 1:
            self._answered.popleft()
        return len(self._answered)


@dataclass
class RequestLog:
    """Requests and retries per resource, for the run's metadata."""

    requests: Counter = field(default_factory=Counter)
    retries: Counter = field(default_factory=Counter)
    answered: bool = False  # the API has answered at least once (any status)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, resource: str, retry: bool) -> None:
        with self._lock:
            self.requests[resource] += 1
            if retry:
                self.retries[resource] += 1


def default_requests_per_second(api_key: str) -> float:
    """Stripe's read limits: 100 requests per second in live mode, 25 in test mode."""
    return 100.0 if "_live_" in api_key else 25.0


class StripeClient:
    def __init__(
        self,
        api_key: str,
        api_base: str,
        *,
        requests_per_second: float | None = None,
        timeout_s: float = 30.0,
        max_attempts: int = 8,
        backoff_s: float = 0.5,
    ):
        if not api_key:
            raise StripeApiError(
                "STRIPE_API_KEY is not set: export a secret (sk_...) or restricted (rk_...) key, "
                "or unset STRIPE_API_BASE and run `make run` to use the built-in sandbox."
            )
        if problem := stripe_key_problem(api_key):  # a run's config can name another variable
            raise StripeApiError(problem)
        self.api_base = api_base.rstrip("/")
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.budget = RequestBudget(requests_per_second or default_requests_per_second(api_key))
        self.log = RequestLog()
        # Set by the first error that ends the extraction: every other reader then stops at
        # once instead of spending its own retries (dozens of threads, under the budget, can
        # take many seconds to see for themselves that the API cannot be reached).
        self._failed = threading.Event()
        self._failure: StripeApiError | None = None
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Stripe-Version": STRIPE_API_VERSION,
            "User-Agent": "stripe-assets/0.1",
        }
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        """One HTTP session (keep-alive connection pool) per thread."""
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
            self._local.session.headers.update(self._headers)
        return self._local.session

    def get(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        resource: str,
        handled: Collection[int] = (),
    ) -> StripeObject:
        """GET one API path, retrying what Stripe says is retryable. An error whose status the
        caller `handled` does not end the extraction; any other stops every reader."""
        url = f"{self.api_base}{path}"
        trouble: Counter[str] = Counter()  # what went wrong with each attempt, for the message
        for attempt in range(1, self.max_attempts + 1):
            self.budget.wait(self._failed)
            self._stop_if_failed()
            self.log.count(resource, retry=attempt > 1)
            response = None
            try:
                deadline = time.monotonic() + self.timeout_s
                response = self.session.get(url, params=params, timeout=self.timeout_s, stream=True)
                self.log.answered = True
                body = self._body_by(response, deadline)
            except requests.RequestException as error:
                if self._unreachable(error, attempt):
                    raise self._fail(
                        StripeUnreachable(
                            f"Could not reach the Stripe API at {self.api_base} while reading "
                            f"{resource} ({type(error).__name__}): check STRIPE_API_BASE and "
                            "the network, then rerun."
                        )
                    ) from None
                trouble["timeouts" if isinstance(error, requests.Timeout) else "dropped"] += 1
            else:
                if response.status_code == 200:
                    self.budget.succeeded()
                    try:
                        return orjson.loads(body)
                    except orjson.JSONDecodeError:
                        trouble["not_json"] += 1
                elif self._should_retry(response):
                    if response.status_code == 429:
                        self.budget.rate_limited()
                    trouble[str(response.status_code)] += 1
                else:
                    error = self._error(response, body, resource)
                    raise error if error.status in handled else self._fail(error)
            if attempt < self.max_attempts:
                self._sleep_before_retry(attempt, response)
        raise self._fail(self._gave_up(resource, trouble)) from None

    def _gave_up(self, resource: str, trouble: Counter[str]) -> StripeApiError:
        """One sentence naming what went wrong most often, not just the last attempt's."""
        cause, count = trouble.most_common(1)[0]
        what, advice = {
            "429": ("were rate-limited (429)", "lower STRIPE_REQUESTS_PER_SECOND, or rerun later"),
            "timeouts": (
                f"did not answer whole within STRIPE_TIMEOUT_S ({self.timeout_s:g} s)",
                "raise STRIPE_TIMEOUT_S or check the network, then rerun",
            ),
            "dropped": ("lost their connection", "check the network, then rerun"),
            "not_json": ("got a page that is not JSON", "a proxy may be answering: rerun later"),
        }.get(cause, (f"got a server error ({cause})", "Stripe is having trouble: rerun later"))
        return StripeApiError(
            f"Stripe gave no usable answer for {resource} in {self.max_attempts} attempts, "
            f"{count} of which {what}: {advice}.",
            429 if cause == "429" else None,
        )

    def _body_by(self, response: requests.Response, deadline: float) -> bytes:
        """The whole body, by `deadline`. requests' timeout bounds each wait for bytes, not the
        response: a server sending a byte a second would hold the reader for ever."""
        body = bytearray()
        try:
            while chunk := response.raw.read1(BODY_CHUNK_BYTES, decode_content=True):
                body += chunk
                if time.monotonic() > deadline:
                    raise ResponseDeadline(f"no whole response within {self.timeout_s:g} s")
        except urllib3.exceptions.ReadTimeoutError as error:  # no byte within the timeout
            raise requests.ReadTimeout(error) from None
        except urllib3.exceptions.HTTPError as error:  # the body cut short
            raise requests.ConnectionError(error) from None
        finally:
            response.close()
        return bytes(body)

    def _fail(self, error: StripeApiError) -> StripeApiError:
        """Note an error that ends the extraction, for the other readers to stop on."""
        self._failure = self._failure or error
        self._failed.set()
        self.budget.stop_waiting()
        return error

    def _stop_if_failed(self) -> None:
        if self._failed.is_set():
            raise StripeApiError(str(self._failure), self._failure.status)

    def get_optional(
        self, path: str, *, resource: str, absent: Collection[int] = (404,)
    ) -> StripeObject | None:
        """GET an object that may not be there: None instead of an error on an `absent`
        status (404: it no longer exists)."""
        try:
            return self.get(path, resource=resource, handled=absent)
        except StripeApiError as error:
            if error.status in absent:
                return None
            raise

    def list_all(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        resource: str,
        narrow: Callable[[int, StripeObject], int] | None = None,
    ) -> Iterator[list[StripeObject]]:
        """Yield every page of a list endpoint, newest first, following `starting_after`.

        When the list is one of several windows read side by side, `narrow` may raise its
        lower `created` bound after each page, to hand the older half to an idle reader.
        """
        query = {**(params or {}), "limit": PAGE_SIZE}
        while True:
            page = self.get(path, query, resource=resource)
            objects = page.get("data", [])
            if objects:
                yield objects
            if not page.get("has_more") or not objects:
                return
            query["starting_after"] = objects[-1]["id"]
            if narrow is not None:
                query["created[gte]"] = narrow(query["created[gte]"], objects[-1])

    def list_windows(
        self, path: str, params: dict[str, Any], windows: "CreatedWindows", *, resource: str
    ) -> Iterator[list[StripeObject]]:
        """Every page of a list, its `created` windows read side by side.

        Each window [start, end) (no end: open) is paginated by one thread; a thread that runs out
        of windows takes the older half of what is left of one still being read (see
        `CreatedWindows`), so an account whose objects crowd into recent months, or whose events
        span only Stripe's last 30 days, keeps every thread busy to the end. Pages are handed
        over through a small queue, so memory holds a few pages whatever the backfill's size;
        `windows` learns of each page as it is handed over, so that a list cut short knows what
        is left of it (`CreatedWindows.left`).
        """
        readers = windows.readers
        pages: queue.Queue = queue.Queue(maxsize=2 * readers)
        done = object()

        def read() -> None:
            try:
                while (taken := windows.take()) is not None:
                    self._read_window(path, params, *taken, windows, pages, resource)
            except BaseException as error:  # re-raised in the consuming thread
                pages.put(error)
            finally:
                pages.put(done)

        with ThreadPoolExecutor(max_workers=readers, thread_name_prefix=resource) as pool:
            for _ in range(readers):
                pool.submit(read)
            finished = 0
            try:
                while finished < readers:
                    item = pages.get()
                    if item is done:
                        finished += 1
                    elif isinstance(item, BaseException):
                        raise item
                    elif (page := item[1]) is None:
                        windows.read_to_end(item[0])
                    else:
                        windows.handed_over(item[0], page[-1])
                        yield page
            finally:  # failed or closed early: stop the readers, freeing any stuck on a full queue
                windows.abandon()
                while finished < readers:
                    finished += pages.get() is done

    def _read_window(
        self,
        path: str,
        params: dict[str, Any],
        token: int,
        window: tuple[int, int | None],
        windows: "CreatedWindows",
        pages: queue.Queue,
        resource: str,
    ) -> None:
        start, end = window
        query = {**params, "created[gte]": start}
        if end is not None:
            query["created[lt]"] = end
        narrow = functools.partial(windows.keep_newer_half, token)
        try:
            for page in self.list_all(path, query, resource=resource, narrow=narrow):
                pages.put((token, page))
                if windows.abandoned:
                    return
            pages.put((token, None))  # the window is read to its end
        finally:
            windows.finished()

    def complete_list(self, embedded: StripeObject, *, resource: str) -> list[StripeObject]:
        """An embedded list (invoice lines, subscription items) with all its pages, not only 10.

        When the embedded page is cut, the whole list is read again from its own endpoint
        rather than continued after the embedded page's last id: Stripe does not promise that
        an embedded page and its endpoint order objects alike.
        """
        objects = list(embedded.get("data", []))
        if not embedded.get("has_more"):
            return objects
        path, _, query = embedded["url"].partition("?")
        params = dict(part.split("=", 1) for part in query.split("&") if part)
        by_id = {obj["id"]: obj for obj in objects}
        for page in self.list_all(path, params, resource=resource):
            by_id.update((obj["id"], obj) for obj in page)
        return list(by_id.values())

    @staticmethod
    def _should_retry(response: requests.Response) -> bool:
        hint = response.headers.get("Stripe-Should-Retry")
        if hint is not None:
            return hint == "true"
        return response.status_code in RETRYABLE_STATUSES

    def _unreachable(self, error: requests.RequestException, attempt: int) -> bool:
        """No connection could be opened and none ever was: a wrong STRIPE_API_BASE or no
        network, not a passing fault; three quick attempts tell, not a minute of backoff."""
        reason = getattr(error.args[0], "reason", None) if error.args else None
        refused = isinstance(reason, urllib3.exceptions.NewConnectionError)  # DNS included
        return refused and not self.log.answered and attempt >= UNREACHABLE_ATTEMPTS

    def _sleep_before_retry(self, attempt: int, response: requests.Response | None) -> None:
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after and retry_after.replace(".", "", 1).isdigit():
            delay = float(retry_after)
        elif response is not None and response.status_code == 429:
            delay = 0.0  # the shared budget, slowed down by it, paces the retry
        else:
            delay = self.backoff_s * 2 ** (attempt - 1)
        self._failed.wait(min(delay, 30.0))

    def _error(self, response: requests.Response, body: bytes, resource: str) -> StripeApiError:
        status = response.status_code
        if status == 401:
            return StripeApiError(
                f"Stripe rejected STRIPE_API_KEY (401 Unauthorized) while reading {resource}: "
                "check that the key is correct, belongs to this account and is not revoked.",
                status,
            )
        if status == 403:
            permission = re.search(r"'(rak_\w+)'", _stripe_message(response, body))
            return StripeApiError(
                f"STRIPE_API_KEY may not read {resource} (403 Forbidden): give the restricted key "
                f"read permission on {resource}"
                + (f" ({permission.group(1)})" if permission else "")
                + ", or leave it out of STRIPE_RESOURCES.",
                status,
            )
        message = _stripe_message(response, body)
        way_out = (
            "check STRIPE_API_BASE and rerun"  # every sync reads events: no leaving them out
            if resource == "events"
            else f"leave {resource} out of STRIPE_RESOURCES to sync the others"
        )
        return StripeApiError(
            f"Stripe refused the request for {resource} ({status}: {message}); this is not "
            f"retryable: {way_out}.",
            status,
        )


class CreatedWindows:
    """The `created` windows of one list still to be read, shared by the threads reading them.

    A thread that finds none waiting, while others still read, waits for one of them to split:
    after each page a reader whose window still spans `MIN_SPLIT_SECONDS` hands the older half of
    it, [start, middle), to the idle thread and goes on with [middle, ...) from its cursor. The
    cursor's object (created at or after the middle) stays inside the narrowed window, so the two
    halves meet with no object read twice and none skipped. Each split costs one part-filled page
    at most, so only idle threads cause one.

    It also knows what is left of the list once the pages handed over so far are kept: the
    windows not taken yet, and each window being read down to the `created` second of its last
    handed-over object (that second is read again: rows read twice merge away by id).
    """

    def __init__(self, bounds: list[tuple[int, int | None]]):
        self._changed = threading.Condition()
        self._waiting = list(bounds)
        self._open: dict[int, tuple[int, int | None]] = {}  # by reader's token: what is left
        self._tokens = itertools.count()
        self._reading = 0
        self._idle = 0
        self.readers = len(bounds)
        self.abandoned = False

    def take(self) -> tuple[int, tuple[int, int | None]] | None:
        """A token and the next window to read, or None when every window has been read."""
        with self._changed:
            self._idle += 1
            while not self._waiting and self._reading and not self.abandoned:
                self._changed.wait()
            self._idle -= 1
            if not self._waiting or self.abandoned:
                return None
            self._reading += 1
            token, window = next(self._tokens), self._waiting.pop(0)
            self._open[token] = window
            return token, window

    def keep_newer_half(self, token: int, start: int, last: StripeObject) -> int:
        """The reader's new lower bound: its `start`, or the middle if it gave the older half
        away. Lists are newest first, so what is left is at or before `last`'s second."""
        created = _created(last)
        if created is None or created - start < MIN_SPLIT_SECONDS:
            return start
        with self._changed:
            if not self._idle or self._waiting:
                return start
            middle = start + (created - start) // 2
            self._waiting.append((start, middle))
            self._open[token] = (middle, self._open[token][1])
            self._changed.notify()
            return middle

    def handed_over(self, token: int, last: StripeObject) -> None:
        """A page of the token's window, ending with `last`, is kept: the rest lies below."""
        created = _created(last)
        if created is not None:
            with self._changed:
                self._open[token] = (self._open[token][0], created + 1)

    def read_to_end(self, token: int) -> None:
        with self._changed:
            del self._open[token]

    def left(self) -> list[tuple[int, int | None]]:
        """What is left to read, as windows, oldest first; adjacent ones joined."""
        with self._changed:
            windows = sorted([*self._waiting, *self._open.values()])
        joined: list[tuple[int, int | None]] = []
        for start, end in windows:
            if joined and (joined[-1][1] is None or start <= joined[-1][1]):
                first, last_end = joined[-1]
                joined[-1] = (first, None if None in (end, last_end) else max(end, last_end))
            else:
                joined.append((start, end))
        return joined

    def finished(self) -> None:
        with self._changed:
            self._reading -= 1
            self._changed.notify_all()

    def abandon(self) -> None:
        """The list will not be read to its end (a reader failed, or the consumer stopped): no
        thread takes another window or reads another page."""
        with self._changed:
            self.abandoned = True
            self._changed.notify_all()


def _created(obj: StripeObject) -> int | None:
    created = obj.get("created", obj.get("date"))  # invoice items call it `date`
    return created if isinstance(created, int) else None


def _stripe_message(response: requests.Response, body: bytes) -> str:
    try:
        return str(orjson.loads(body)["error"]["message"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return response.reason or "no details"
