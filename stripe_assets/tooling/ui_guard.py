"""A guard in front of `make dev`'s Dagster UI, which has no defence of its own against the web
pages its user visits.

Dagster's webserver answers GraphQL mutations (launch a run, wipe assets) sent as a plain GET
and ignores `Origin` and `Host`: any page open in the user's browser could drive it with an
image tag or a form, and a page on a hostname that resolves to 127.0.0.1 (DNS rebinding) could
read it too. The guard listens where the user opens the UI and passes everything on to the
webserver, on a loopback port of its own, except:

- a request whose `Host` is not this machine's address for the UI (DNS rebinding);
- a request that can change something (any method but GET, HEAD and OPTIONS, or a WebSocket,
  which carries GraphQL subscriptions) sent by a page of another origin;
- a GraphQL mutation sent as a GET, which the UI itself never sends.

Clients that send no `Origin` (scripts, curl, the tests) are let through: a browser always sends
it with the requests above, so only pages can be told apart, and they are what is guarded against.

It also asks, before the webserver sees a run launch, what would stop that run in its first
step (`preflight`: a rejected key, a bad setting). The webserver records every materialization
and check a run plans as it creates the run, so a run failing at once would show all of them
failed; a launch the preflight refuses is answered with its sentence, as the UI shows a launch
error, and no run is created.
"""

import asyncio
import json
import re
import threading
from collections.abc import Callable
from urllib.parse import parse_qs

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector, WSMsgType, web
from multidict import CIMultiDict

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "host"}
)
MUTATION = re.compile(r"(^|[\s{}])mutation\b")
# the UI's and the GraphQL API's ways to start runs
LAUNCH = re.compile(
    r"\b(launchPipelineExecution|launchRun|launchMultipleRuns|launchPipelineReexecution"
    r"|launchRunReexecution|launchPartitionBackfill)\s*\("
)


def refusal(method: str, path: str, query: str, headers: dict[str, str], port: int) -> str | None:
    """Why the guard refuses a request, in one sentence, or None to pass it on."""
    hosts = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
    host = headers.get("host", "")
    if host not in hosts:
        return f"Host {host!r} is not this machine's Dagster UI: open http://127.0.0.1:{port}."
    origin = headers.get("origin")
    changes = method not in SAFE_METHODS or headers.get("upgrade", "").lower() == "websocket"
    if changes and origin is not None and origin != f"http://{host}":
        return f"A page of {origin} may not drive the Dagster UI at http://{host}."
    if method == "GET" and path.rstrip("/") == "/graphql":
        operations = parse_qs(query).get("query", [])
        if any(MUTATION.search(operation) for operation in operations):
            return "GraphQL mutations are accepted only as POST requests from the UI itself."
    return None


def launch_of(body: bytes) -> tuple[str, str] | None:
    """The field a GraphQL request launching runs answers under, and its variables as text."""
    try:
        request = json.loads(body)
    except ValueError:
        return None
    if not isinstance(request, dict) or not isinstance(request.get("query"), str):
        return None
    if not MUTATION.search(request["query"]) or not (launch := LAUNCH.search(request["query"])):
        return None
    return launch.group(1), json.dumps(request.get("variables") or {})


def launch_refused(field: str, sentence: str) -> dict:
    """The answer of a launch that did not happen, shaped as the webserver's own errors."""
    error = {"message": sentence, "stack": [], "errorChain": [], "className": "ConfigurationError"}
    return {"data": {field: {"__typename": "PythonError", **error}}}


class UiGuard:
    """The guard on `listen_port`, in a thread of its own, passing requests to `upstream_port`;
    `preflight(variables)` says why a run launch must not reach the webserver, or None."""

    def __init__(
        self,
        host: str,
        listen_port: int,
        upstream_port: int,
        preflight: Callable[[str], str | None] | None = None,
    ):
        self.host, self.listen_port = host, listen_port
        self.upstream = f"http://127.0.0.1:{upstream_port}"
        self.preflight = preflight
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: asyncio.Future | None = None
        self._refused: OSError | None = None

    def __enter__(self) -> "UiGuard":
        threading.Thread(target=self._run, name="ui-guard", daemon=True).start()
        self._started.wait()
        if self._refused is not None:
            raise SystemExit(
                f"Port {self.listen_port} on {self.host} cannot be used for the Dagster UI "
                f"({self._refused.strerror}): stop what holds it, or set DAGSTER_UI_PORT to "
                "another port."
            )
        return self

    def __exit__(self, *_exc) -> None:
        if self._loop is not None and self._done is not None:
            self._loop.call_soon_threadsafe(self._done.set_result, None)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        finally:  # however it ended, __enter__ stops waiting
            self._started.set()

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.listen_port).start()
        except OSError as refused:  # the port is taken
            self._refused = refused
            self._started.set()
            return
        # a new connection to the webserver per request: uvicorn closes an idle connection after
        # 5 s, and a request sent on a pooled one as it closes would fail with nothing to retry
        # it (a run launch must not be sent twice)
        async with ClientSession(
            connector=TCPConnector(force_close=True),
            timeout=ClientTimeout(total=None),
            auto_decompress=False,
        ) as session:
            self._session = session
            self._loop, self._done = (
                asyncio.get_running_loop(),
                asyncio.get_running_loop().create_future(),
            )
            self._started.set()
            await self._done
        await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        headers = {name.lower(): value for name, value in request.headers.items()}
        reason = refusal(
            request.method, request.path, request.query_string, headers, self.listen_port
        )
        if reason is not None:
            return web.Response(status=403, text=reason + "\n")
        forwarded = CIMultiDict(
            (name, value)
            for name, value in request.headers.items()
            if name.lower() not in HOP_BY_HOP
        )
        url = f"{self.upstream}{request.rel_url}"
        if headers.get("upgrade", "").lower() == "websocket":
            return await self._websocket(request, url, forwarded)
        body = request.content if request.body_exists else None
        if self.preflight and request.method == "POST" and request.path.rstrip("/") == "/graphql":
            body = await request.read()
            if launch := launch_of(body):
                field, variables = launch
                loop = asyncio.get_running_loop()
                # the preflight may ask Stripe: off the loop, which serves the UI meanwhile
                if sentence := await loop.run_in_executor(None, self._judge, variables):
                    return web.json_response(launch_refused(field, sentence))
        try:
            answer = await self._session.request(
                request.method, url, headers=forwarded, data=body, allow_redirects=False
            )
        except ClientError as error:
            return web.Response(
                status=502,
                text=f"The Dagster webserver behind this UI did not answer ({error!r}): see "
                "`make dev`'s console for why.\n",
            )
        async with answer:
            response = web.StreamResponse(status=answer.status, reason=answer.reason)
            for name, value in answer.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    response.headers.add(name, value)
            await response.prepare(request)
            async for chunk in answer.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response

    def _judge(self, variables: str) -> str | None:
        try:
            return self.preflight(variables)
        except Exception:  # noqa: BLE001 (the run, once launched, judges and says it)
            return None

    async def _websocket(
        self, request: web.Request, url: str, forwarded: CIMultiDict
    ) -> web.WebSocketResponse:
        protocols = [p.strip() for p in forwarded.pop("Sec-WebSocket-Protocol", "").split(",")]
        protocols = [p for p in protocols if p]
        for name in ("Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Extensions"):
            forwarded.pop(name, None)
        browser = web.WebSocketResponse(protocols=protocols)
        await browser.prepare(request)
        async with self._session.ws_connect(url, protocols=protocols, headers=forwarded) as server:

            async def pump(source, target) -> None:
                async for message in source:
                    if message.type == WSMsgType.TEXT:
                        await target.send_str(message.data)
                    elif message.type == WSMsgType.BINARY:
                        await target.send_bytes(message.data)
                    else:
                        break
                await target.close()

            # either side closing ends both; a connection reset is no error of ours
            await asyncio.gather(
                pump(browser, server), pump(server, browser), return_exceptions=True
            )
        return browser
