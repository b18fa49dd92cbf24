"""The sandbox's HTTP front: Stripe's wire format plus the realism switches.

Latency, rate limiting and injected faults (FAULTS) live here, in front of `SandboxApi`, so the API
semantics stay free of them and the same faults hit every endpoint alike. So does an outage:
`POST /_sandbox/outage {"after": N}` answers every API request after the next N with Stripe's 500
`api_error`, until `{"after": null}` ends it. `POST /_sandbox/keys {"accepted": [...]}` replaces
the keys the API accepts, as revoking or rolling a key in Stripe's Dashboard would: any other key
is answered 401.
"""

import base64
import itertools
import json
import random
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import orjson

from .api import Query, SandboxApi, StripeError
from .objects import API_VERSION

# What an injected fault does: answer 500, drop the connection, cut the body halfway, serve an
# HTML error page as a 200, answer `slow_ms` late (past a client's timeout), or answer at once
# and then trickle the body, TRICKLE_BYTES every `slow_ms` (each gap within a client's timeout,
# the whole far past it).
FAULTS = ("500", "drop", "truncated", "not_json", "slow", "trickle")
TRICKLE_BYTES = 64


@dataclass(frozen=True)
class Realism:
    latency_ms: float = 0.0
    rate_limit: float = 0.0  # requests per second; 0 means unlimited
    fault_rate: float = 0.0  # share of API requests answered with one of `faults`
    seed: int = 0
    faults: tuple[str, ...] = ("500", "drop")  # of FAULTS
    slow_ms: float = 0.0  # how late a "slow" fault answers


class _RateLimiter:
    """A token bucket holding one second's worth of requests, like Stripe's per-key limiter."""

    def __init__(self, per_second: float):
        self.per_second = per_second
        self.tokens = per_second
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def allow(self) -> bool:
        if self.per_second <= 0:
            return True
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.per_second, self.tokens + (now - self.updated) * self.per_second)
            self.updated = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], api: SandboxApi, realism: Realism):
        super().__init__(address, _Handler)
        self.api = api
        self.realism = realism
        self.limiter = _RateLimiter(realism.rate_limit)
        self.fault_draws = random.Random(realism.seed)
        self.faults_lock = threading.Lock()
        self.faults_served: Counter[str] = Counter()
        self.stats: Counter[tuple[str, str, int]] = Counter()  # (method, endpoint, status)
        self.stats_lock = threading.Lock()
        self.request_ids = itertools.count(1)
        self.outage_after: int | None = None  # API requests still answered before an outage

    def in_outage(self) -> bool:
        with self.faults_lock:
            if self.outage_after is None:
                return False
            self.outage_after = max(0, self.outage_after - 1)
            return self.outage_after == 0

    def draw_fault(self) -> str | None:
        if self.realism.fault_rate <= 0:
            return None
        with self.faults_lock:
            if self.fault_draws.random() >= self.realism.fault_rate:
                return None
            fault = self.fault_draws.choice(self.realism.faults)
            self.faults_served[fault] += 1
            return fault

    def record(self, method: str, endpoint: str, status: int) -> None:
        with self.stats_lock:
            self.stats[(method, endpoint, status)] += 1

    def stats_body(self) -> dict:
        with self.stats_lock:
            rows = sorted(self.stats.items())
        return {
            "requests": [
                {"method": m, "endpoint": e, "status": s, "count": n} for (m, e, s), n in rows
            ],
            "total": sum(n for _, n in rows),
            "faults": dict(self.faults_served),
        }


class _Handler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm and delayed
        # ACKs add ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        endpoint = _endpoint_template(url.path)
        if url.path == "/_sandbox/stats":
            self._send(200, self.server.stats_body())
            return
        if url.path == "/_sandbox/outage" and method == "POST":
            after = self._json_body().get("after")
            with self.server.faults_lock:
                self.server.outage_after = None if after is None else int(after) + 1
            self._send(200, {"outage_after": after})
            return
        if url.path == "/_sandbox/keys" and method == "POST":
            self.server.api.api_keys = set(self._json_body().get("accepted", []))
            self._send(200, {"accepted": len(self.server.api.api_keys)})
            return
        realism = self.server.realism
        if realism.latency_ms:
            time.sleep(realism.latency_ms / 1000)
        fault = None
        if url.path.startswith("/v1/"):
            if not self.server.limiter.allow():
                self._reply(
                    method, endpoint, 429, _rate_limited_body(), {"Stripe-Should-Retry": "true"}
                )
                return
            fault = "500" if self.server.in_outage() else self.server.draw_fault()
            if fault == "drop":
                self.server.record(method, endpoint, 0)
                self.close_connection = True
                self.connection.close()
                return
            if fault == "500":
                body = {"error": {"type": "api_error", "message": "An unknown error occurred."}}
                self._reply(method, endpoint, 500, body, {"Stripe-Should-Retry": "true"})
                return
            if fault == "not_json":  # a proxy's error page, served as a success
                self.server.record(method, endpoint, 200)
                self._send_bytes(200, b"<html><body>upstream hiccup</body></html>", "text/html")
                return
            if fault == "slow":
                time.sleep(realism.slow_ms / 1000)
        query = Query(parse_qsl(url.query, keep_blank_values=True))
        status, body = self.server.api.handle(
            method, url.path, query, self._api_key(), self._json_body()
        )
        if fault == "truncated":  # the connection drops halfway through the body
            self.server.record(method, endpoint, status)
            payload = orjson.dumps(body)
            self._send_bytes(status, payload[: len(payload) // 2], length=len(payload))
            self.close_connection = True
            return
        if fault == "trickle":
            self.server.record(method, endpoint, status)
            self._trickle(status, orjson.dumps(body), realism.slow_ms / 1000)
            return
        self._reply(method, endpoint, status, body)

    def _json_body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return {}
        try:
            body = json.loads(self.rfile.read(length))
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def _api_key(self) -> str | None:
        header = self.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return header.removeprefix("Bearer ").strip()
        if header.startswith("Basic "):
            user = base64.b64decode(header.removeprefix("Basic ")).decode(errors="replace")
            return user.split(":", 1)[0]
        return None

    def _reply(
        self, method: str, endpoint: str, status: int, body: dict, headers: dict | None = None
    ) -> None:
        self.server.record(method, endpoint, status)
        self._send(status, body, headers)

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        # a page of invoices is ~400 KB: stdlib json halves throughput
        self._send_bytes(status, orjson.dumps(body), headers=headers)

    def _send_bytes(
        self,
        status: int,
        payload: bytes,
        content_type: str = "application/json",
        headers: dict | None = None,
        length: int | None = None,
    ) -> None:
        """`length` larger than the payload announces more than is sent: a truncated body."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length or len(payload)))
        self.send_header("Request-Id", f"req_sandbox{next(self.server.request_ids):08d}")
        self.send_header("Stripe-Version", self.headers.get("Stripe-Version") or API_VERSION)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _trickle(self, status: int, payload: bytes, gap_s: float) -> None:
        self._send_bytes(status, payload[:TRICKLE_BYTES], length=len(payload))
        try:
            for start in range(TRICKLE_BYTES, len(payload), TRICKLE_BYTES):
                time.sleep(gap_s)
                self.wfile.write(payload[start : start + TRICKLE_BYTES])
                self.wfile.flush()
        except OSError:  # the client gave up on it
            self.close_connection = True

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        """Quiet: the sandbox serves thousands of pages; /_sandbox/stats has the counts."""


def _endpoint_template(path: str) -> str:
    """`/v1/invoices/in_123/lines` → `/v1/invoices/{id}/lines`, for per-endpoint stats."""
    parts = path.strip("/").split("/")
    return "/" + "/".join("{id}" if index == 2 else part for index, part in enumerate(parts))


def _rate_limited_body() -> dict:
    return StripeError(
        429,
        "Request rate limit exceeded. You can learn more about rate limits here "
        "https://stripe.com/docs/rate-limits.",
        code="rate_limit",
    ).body
