"""Start and stop a sandbox server as a child process (for `make run`, `make dev` and tests)."""

import ctypes
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from . import DEFAULT_API_KEY

STARTUP_TIMEOUT_S = 120
PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


@dataclass(frozen=True)
class RunningSandbox:
    url: str
    api_key: str
    process: subprocess.Popen


def _prepare_child() -> None:
    """Runs in the child before exec: make sure the server can stop and cannot be orphaned.

    A shell may start us with SIGINT/SIGTERM ignored, so restore their defaults; and on Linux ask
    the kernel to SIGTERM the server when the process that started it dies, even by SIGKILL.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@contextmanager
def running_sandbox(
    *serve_args: str,
    port: int = 0,
    api_key: str = DEFAULT_API_KEY,
    startup_timeout_s: float = STARTUP_TIMEOUT_S,
) -> Iterator[RunningSandbox]:
    """Serve a sandbox on 127.0.0.1 (a free port by default), accepting `api_key`, until the
    block exits. It generates its whole business before it listens: minutes for the largest."""
    command = [sys.executable, "-m", "stripe_assets.sandbox", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--api-key", api_key, *serve_args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=_prepare_child,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        url = _wait_for_listening(process, startup_timeout_s)
        yield RunningSandbox(url=url, api_key=api_key, process=process)
    finally:
        _stop(process)


def _wait_for_listening(process: subprocess.Popen, timeout_s: float) -> str:
    assert process.stdout is not None
    deadline, output = time.monotonic() + timeout_s, []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 1.0)
        if not ready:
            continue
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith("listening on "):
            return line.removeprefix("listening on ").strip()
        output.append(line)
    raise RuntimeError("The sandbox did not start listening:\n" + "".join(output))


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout:
        process.stdout.close()
