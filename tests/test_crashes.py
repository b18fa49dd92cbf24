"""A run killed at any point loses nothing and duplicates nothing.

Four seeded kill points in one chain of runs on one business: the very first run's extraction
(a backfill, the costliest to lose), then extraction, the raw load and dbt of incremental runs, in
a seeded order. For each kill point the business lives on a little
(`advance`, so every run has work to do), a run is started as `make run` starts it and its whole
process group is SIGKILLed at the kill point, the way a machine dies; the process must really
have died inside the stage aimed at. Then the next run must complete with every check it runs
passing, and the warehouse must equal the sandbox's ledger: exact live counts, no duplicate id,
MRR equal for every month and currency.

A kill point is a stage and a seeded fraction: the run is killed that fraction of the step's
shortest duration so far after the step starts (read from the step events in the run's Dagster
event log, of killed runs and completing ones, except the extraction that completes the first
run's backfill). A run can still be quicker than every one before it (a short incremental run
on an idle machine): it is then killed as soon as the step ends, so that run counts as one more
crash elsewhere, and the point is aimed again, at half the fraction, on the next run.
"""

import os
import random
import signal
import subprocess
import time
from dataclasses import dataclass

import dagster as dg
import pytest
import requests

from stripe_assets.sandbox.process import RunningSandbox, running_sandbox
from stripe_assets.tooling.launcher import write_dagster_home

from .conftest import (
    QUIET_GROUP,
    RUN_TIMEOUT_S,
    WITHOUT_DBT_TESTS,
    Workspace,
    assert_mrr_equals_truth,
    assert_raw_equals_truth,
    launch,
    pipeline_env,
    raw_rows,
    start,
)
from .test_mrr_reconciliation import truth_of

SEED = 20261122
STEPS = {"extraction": "stripe_landing", "raw load": "stripe_raw", "dbt": "stripe_dbt_models"}
# a little latency stretches extraction, so kill points land inside it
CRASH_BUSINESS = ("--customers", "40", "--seed", "8", "--latency-ms", "50")
AIMS_PER_POINT = 3
UNMEASURED_STEP_S = 1.0  # before a step's first measure: the first run's extraction takes seconds
STEP_EVENTS = {
    dg.DagsterEventType.STEP_START,
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_FAILURE,
}


@dataclass(frozen=True)
class KillPoint:
    stage: str
    fraction: float  # of the step's shortest duration so far

    def __str__(self) -> str:
        return f"{self.stage} at {self.fraction:.0%}"


def kill_points() -> list[KillPoint]:
    """Seeded; the first is the very first run's extraction, the costliest to lose, then every
    stage once in a seeded order."""
    rng = random.Random(SEED)
    stages = list(STEPS)
    rng.shuffle(stages)
    return [KillPoint(stage, rng.uniform(0.05, 0.95)) for stage in ["extraction", *stages]]


class Instance:
    """The Dagster instance a workspace's runs write to."""

    def __init__(self, workspace: Workspace):
        home = workspace.dagster_home
        write_dagster_home(home)  # as `make run` prepares it, which the runs then share
        self.instance = dg.DagsterInstance.from_config(str(home))

    def run_ids(self) -> list[str]:
        return [run.run_id for run in self.instance.get_runs()]

    def steps(self, run_id: str) -> dict[str, tuple[float, float | None]]:
        """step -> (start, end or None while it runs), in seconds since the epoch.

        Read from the run's step events alone: polled every 50 ms while a run starts, Dagster's
        step statistics (which read every event of the run) cost 40 ms of CPU a call."""
        records = self.instance.get_records_for_run(run_id, of_type=STEP_EVENTS).records
        started, ended = {}, {}
        for record in records:
            entry = record.event_log_entry
            times = started if entry.dagster_event_type == dg.DagsterEventType.STEP_START else ended
            times[entry.step_key] = entry.timestamp
        return {step: (start, ended.get(step)) for step, start in started.items()}


def wait_for(condition, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while not condition():
        assert process.poll() is None, f"the run ended (exit {process.returncode}) before {what}"
        assert time.monotonic() < deadline, f"no {what} within {RUN_TIMEOUT_S} s"
        time.sleep(0.05)


def kill_at(
    point: KillPoint, env: dict[str, str], instance: Instance, shortest: dict[str, float]
) -> tuple[bool, dict[str, float]]:
    """Start a run and SIGKILL its process group at the kill point. Returns whether it died
    inside the step aimed at (rather than after it), and how long each step it finished took."""
    runs_before = set(instance.run_ids())
    # in its own process group, so killing the group takes dbt with it
    process = start("run", env, **QUIET_GROUP)
    step = STEPS[point.stage]

    def this_run() -> str | None:
        new = set(instance.run_ids()) - runs_before
        return new.pop() if new else None

    wait_for(lambda: this_run() is not None, process, "a run in the instance")
    run_id = this_run()
    wait_for(lambda: step in instance.steps(run_id), process, f"{step} starting")
    started, _ = instance.steps(run_id)[step]
    aimed = started + point.fraction * shortest.get(step, UNMEASURED_STEP_S)
    # A step over before the aimed time is missed whenever the kill comes, so it comes at once
    # rather than after work the run would do in vain.
    while time.time() < aimed and instance.steps(run_id)[step][1] is None:
        time.sleep(min(0.05, max(0.0, aimed - time.time())))
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    steps = instance.steps(run_id)
    return steps[step][1] is None, durations(steps)


def durations(steps: dict[str, tuple[float, float | None]]) -> dict[str, float]:
    return {step: end - start for step, (start, end) in steps.items() if end is not None}


def complete_run(workspace: Workspace, sandbox: RunningSandbox, instance: Instance) -> dict:
    """The next run: it must succeed, pass every check, and leave the warehouse equal to truth.
    Returns how long each of its steps took."""
    truth = truth_of(sandbox)
    process = launch("run", workspace.env(**pipeline_env(sandbox, truth), **WITHOUT_DBT_TESTS))
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    assert ", 0 failed" in process.stdout
    assert_raw_equals_truth(raw_rows(workspace.duckdb_path), truth)
    assert_mrr_equals_truth(workspace, truth)
    return durations(instance.steps(instance.run_ids()[0]))


def test_kill_points_are_seeded_and_cover_every_stage():
    points = kill_points()
    assert len(points) == 1 + len(STEPS) and points == kill_points()
    assert {point.stage for point in points[1:]} == set(STEPS)
    assert points[0].stage == "extraction"


def test_a_run_killed_anywhere_is_completed_by_the_next(tmp_path):
    with running_sandbox(*CRASH_BUSINESS) as business:
        workspace, rng = Workspace(tmp_path), random.Random(SEED)
        instance = Instance(workspace)
        # Kill points are fractions of the shortest time each step has taken so far, so they
        # land inside the step however much work this run has.
        shortest: dict[str, float] = {}
        runs = 0
        for point in kill_points():
            for _ in range(AIMS_PER_POINT):
                if runs:
                    days = rng.randint(1, 3)
                    answer = requests.post(
                        f"{business.url}/_sandbox/advance", json={"days": days}, timeout=120
                    )
                    answer.raise_for_status()
                stripe = pipeline_env(business, truth_of(business))
                env = workspace.env(**stripe, **WITHOUT_DBT_TESTS)
                died_inside, killed_run_took = kill_at(point, env, instance, shortest)
                took = complete_run(workspace, business, instance)
                if not runs:
                    # It finished the backfill the first kill interrupted: its extraction is no
                    # measure of the incremental ones to come.
                    del took[STEPS["extraction"]]
                # The killed run's finished steps count too: they had the work a killed run
                # has, where a completing run may have had more (what the kill left).
                for step, seconds in [*took.items(), *killed_run_took.items()]:
                    if step in STEPS.values():
                        shortest[step] = min(seconds, shortest.get(step, seconds))
                runs += 1
                if died_inside:
                    break
                point = KillPoint(point.stage, point.fraction / 2)
            else:
                pytest.fail(f"{AIMS_PER_POINT} runs in a row ended {point.stage} before the kill")
