"""What the guard in front of `make dev`'s UI refuses (stripe_assets/tooling/ui_guard.py)."""

import json
import socket
import threading

import pytest
import requests

from stripe_assets.tooling.ui_guard import UiGuard, launch_of, launch_refused, refusal

from ..conftest import free_port

PORT = 3000
LAUNCH = "mutation { launchRun(executionParams: {}) { __typename } }"


def ask(method="POST", path="/graphql", query="", **headers) -> str | None:
    headers = {"host": f"127.0.0.1:{PORT}", **{k.replace("_", "-"): v for k, v in headers.items()}}
    return refusal(method, path, query, headers, PORT)


@pytest.mark.parametrize(
    "request_",
    [
        {"method": "GET", "path": "/assets"},
        {"method": "POST"},  # a script: no Origin
        {"method": "POST", "origin": f"http://127.0.0.1:{PORT}"},  # the UI itself
        {"method": "POST", "host": f"localhost:{PORT}", "origin": f"http://localhost:{PORT}"},
        {"method": "GET", "query": "query=%7B+version+%7D"},  # a GraphQL query as a GET
        {"method": "GET", "upgrade": "websocket", "origin": f"http://127.0.0.1:{PORT}"},
    ],
)
def test_the_ui_and_scripts_pass(request_):
    assert ask(**request_) is None


@pytest.mark.parametrize(
    "request_, says",
    [
        ({"origin": "https://evil.example"}, "A page of https://evil.example may not drive"),
        ({"origin": "http://127.0.0.1:8080"}, "A page of http://127.0.0.1:8080"),  # same site
        ({"origin": "null"}, "A page of null"),  # a sandboxed frame
        ({"method": "GET", "upgrade": "websocket", "origin": "https://evil.example"}, "A page"),
        ({"host": f"rebound.example:{PORT}"}, "is not this machine's Dagster UI"),
        ({"method": "GET", "query": "query=" + LAUNCH}, "only as POST"),
        ({"method": "GET", "path": "/graphql/", "query": "query=%20mutation%7Bx%7D"}, "POST"),
    ],
)
def test_what_a_web_page_could_send_is_refused_in_one_sentence(request_, says):
    reason = ask(**request_)
    assert reason is not None and says in reason
    assert reason.endswith(".") and reason.count(". ") == 0


@pytest.mark.parametrize(
    "body, launch",
    [
        ({"query": LAUNCH, "variables": {"a": 1}}, ("launchRun", '{"a": 1}')),
        (  # the UI's Materialize button
            {
                "operationName": "LaunchPipelineExecution",
                "query": "mutation LaunchPipelineExecution($executionParams: ExecutionParams!) "
                "{ launchPipelineExecution(executionParams: $executionParams) { __typename } }",
                "variables": {"executionParams": {"selector": {"jobName": "stripe_pipeline"}}},
            },
            ("launchPipelineExecution", '{"executionParams": {"selector": {"jobName": '),
        ),
        (
            {"query": "mutation { launchPartitionBackfill(backfillParams: {}) { __typename } }"},
            ("launchPartitionBackfill", "{}"),
        ),
        ({"query": "{ runsOrError { __typename } }"}, None),  # a query, not a launch
        ({"query": "mutation { wipeAssets(assetPartitionRanges: []) { __typename } }"}, None),
        ("not json", None),
    ],
)
def test_run_launches_are_told_apart_for_the_preflight(body, launch):
    found = launch_of(json.dumps(body).encode() if isinstance(body, dict) else body.encode())
    if launch is None:
        assert found is None
    else:
        assert found[0] == launch[0] and found[1].startswith(launch[1])


def test_a_refused_launch_is_answered_as_the_webservers_own_errors():
    answer = launch_refused("launchRun", "Stripe rejected STRIPE_API_KEY (401 Unauthorized).")
    assert answer == {
        "data": {
            "launchRun": {
                "__typename": "PythonError",
                "message": "Stripe rejected STRIPE_API_KEY (401 Unauthorized).",
                "stack": [],
                "errorChain": [],
                "className": "ConfigurationError",
            }
        }
    }


def selecting(*keys: str) -> dict:
    return {"p": {"selector": {"assetSelection": [{"path": key.split("/")} for key in keys]}}}


@pytest.mark.parametrize(
    "variables, reads, loads",
    [
        ({"params": {"selector": {"jobName": "stripe_pipeline"}}}, True, True),
        ({"executionParams": {"selector": {"jobName": "stripe_raw_rebuild"}}}, False, False),
        (selecting("stripe_landing/customers"), True, False),
        (selecting("stripe/customers", "analytics/fct_mrr"), False, True),
        (selecting("analytics/fct_mrr"), False, False),
        ({"executionParams": {"executionMetadata": {"parentRunId": "abc"}}}, True, True),
    ],
)
def test_stripe_and_the_landing_zone_are_asked_only_for_launches_that_use_them(
    variables, reads, loads
):
    from stripe_assets.tooling.launcher import loads_raw, reads_stripe

    assert reads_stripe(json.dumps(variables)) is reads
    assert loads_raw(json.dumps(variables)) is loads


def serve_one_request_per_connection(listener: socket.socket) -> None:
    """A webserver that answers the first request on each connection and drops any later one
    unanswered, as uvicorn does to a request arriving just as it closes an idle connection."""
    while True:
        try:
            connection, _ = listener.accept()
        except OSError:  # the listener was closed: the test is over
            return
        with connection:
            request = b""
            while b"\r\n\r\n" not in request:
                request += connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: 2\r\nConnection: keep-alive\r\n\r\n{}"
            )
            connection.recv(65536)  # the next request on this connection: left unanswered


def test_each_request_reaches_the_webserver_on_a_connection_of_its_own():
    """A pooled connection the webserver closes as the next request goes out would answer that
    request with the guard's 500: the UI's polling every few seconds met exactly that."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        threading.Thread(
            target=serve_one_request_per_connection, args=(listener,), daemon=True
        ).start()
        guard_port = free_port()
        upstream_port = listener.getsockname()[1]
        with UiGuard("127.0.0.1", guard_port, upstream_port), requests.Session() as browser:
            answers = [
                browser.post(f"http://127.0.0.1:{guard_port}/graphql", json={}, timeout=30)
                for _ in range(3)
            ]
    assert [(answer.status_code, answer.text) for answer in answers] == [(200, "{}")] * 3


def test_a_webserver_that_does_not_answer_is_named_in_one_sentence():
    guard_port = free_port()
    with UiGuard("127.0.0.1", guard_port, free_port()):
        answer = requests.get(f"http://127.0.0.1:{guard_port}/assets", timeout=30)
    assert answer.status_code == 502
    assert answer.text.startswith("The Dagster webserver behind this UI did not answer"), (
        answer.text
    )
