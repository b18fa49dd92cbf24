"""Runs whose process died: marked failed, their pool slots freed, so the next run can start.

`make run` executes the pipeline in its own process. Killed there (SIGKILL, OOM, a lost
machine), the run stays STARTED in the Dagster instance and keeps the slots it claimed in the
`landing` and `duckdb` pools; with no daemon to notice, every later run would wait on those slots
for ever. Runs started here carry the host and pid of their process, so the next one can tell a
dead run from one still running beside it.
"""

import os
import socket
from pathlib import Path

import dagster as dg

HOST_TAG = "stripe_assets/host"
PID_TAG = "stripe_assets/pid"
UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def process_tags() -> dict[str, str]:
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def fail_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark this host's unfinished runs whose process is gone as failed; returns their ids."""
    abandoned = [
        run
        for run in instance.get_runs(
            filters=dg.RunsFilter(statuses=UNFINISHED, tags={HOST_TAG: socket.gethostname()})
        )
        if not _is_running(int(run.tags[PID_TAG]))
    ]
    for run in abandoned:
        instance.report_run_failed(
            run, f"The process running it (pid {run.tags[PID_TAG]}) died before it finished."
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
    return [run.run_id for run in abandoned]


def _is_running(pid: int) -> bool:
    """Alive and still one of ours: a pid the system reused for another program does not count."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    return not cmdline.exists() or b"stripe_assets" in cmdline.read_bytes()
