"""Rendering on two cores: the same list as in one process, errors as in one process."""

from __future__ import annotations

import os

import pytest

import konspekt.pool
from konspekt.errors import BuildError
from konspekt.pool import map_in_two


def _no_children_left() -> bool:
    """No child of this process, running or a zombie, is left."""
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_the_second_half_is_computed_in_another_process_in_order() -> None:
    parent = os.getpid()
    jobs = list(range(50))
    results = map_in_two(lambda job: (job * job, os.getpid()), jobs, min_jobs=10)
    assert [value for value, _ in results] == [job * job for job in jobs]
    pids = [pid for _, pid in results]
    assert set(pids[:25]) == {parent}
    assert parent not in set(pids[25:])  # fails if everything ran here
    assert _no_children_left()


def test_small_inputs_stay_in_one_process() -> None:
    parent = os.getpid()
    results = map_in_two(lambda job: os.getpid(), list(range(5)), min_jobs=10)
    assert results == [parent] * 5


def test_an_error_in_the_childs_half_is_raised_here_as_the_same_error() -> None:
    def render(job: int) -> int:
        if job == 40:
            raise BuildError(f"cannot render note {job}")
        return job

    with pytest.raises(BuildError, match="cannot render note 40"):
        map_in_two(render, list(range(50)), min_jobs=10)
    assert _no_children_left()


def test_a_child_that_dies_is_replaced_by_the_parent() -> None:
    parent = os.getpid()

    def render(job: int) -> int:
        if os.getpid() != parent:
            os._exit(3)  # a crash: no answer at all
        return job + 1

    assert map_in_two(render, list(range(30)), min_jobs=10) == list(range(1, 31))
    assert _no_children_left()


def test_an_error_in_the_parents_half_leaves_no_child_behind() -> None:
    def render(job: int) -> int:
        if job == 3:
            raise BuildError("first half")
        return job

    with pytest.raises(BuildError, match="first half"):
        map_in_two(render, list(range(30)), min_jobs=10)
    assert _no_children_left()


def test_a_busy_machine_gets_no_second_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(konspekt.pool, "spare_core", lambda: False)
    parent = os.getpid()
    jobs = list(range(konspekt.pool.MIN_JOBS * 2))
    assert set(map_in_two(lambda job: os.getpid(), jobs)) == {parent}
    monkeypatch.setattr(konspekt.pool, "spare_core", lambda: True)
    assert set(map_in_two(lambda job: os.getpid(), jobs)) != {parent}
    assert _no_children_left()
