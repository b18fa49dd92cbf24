"""The crash test's second chain of kill points (see test_crashes.py), in a module of its own so
that `make test`, which hands each worker whole modules, runs it beside the first chain."""

from .test_crashes import run_chain


def test_a_run_killed_anywhere_is_completed_by_the_next_second_chain(tmp_path):
    run_chain(1, tmp_path)
