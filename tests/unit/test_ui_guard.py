"""What the guard in front of `make dev`'s UI refuses (stripe_assets/tooling/ui_guard.py)."""

import pytest

from stripe_assets.tooling.ui_guard import refusal

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
