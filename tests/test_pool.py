"""Rendering on two cores: the same list as in one process, errors as in one process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import konspekt.pool
from konspekt.errors import BuildError, CardsError, Pos, Problem
from konspekt.pool import Beside, in_child, map_in_two


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


# --- in_child: a step whose memory goes back to the system when it ends --------------


def test_a_step_in_a_child_returns_its_value_computed_there() -> None:
    parent = os.getpid()
    value, pid = in_child(lambda: ("pages", os.getpid()))
    assert value == "pages"
    assert pid != parent  # fails if the step ran here
    assert _no_children_left()


def test_what_a_step_in_a_child_allocates_is_not_kept_by_the_parent() -> None:
    def allocate() -> list[str]:
        # Small objects, a few kept: the kept ones pin the allocator's arenas, as the
        # linker's and the pages' survivors do after a build.
        made = [f"form {i}" for i in range(3_000_000)]
        return made[::1000]

    before = _rss_mb()
    kept = in_child(allocate)
    assert _rss_mb() - before < 50  # ≈ 180 MB more if the step ran here
    assert len(kept) == 3000


def test_a_konspekt_error_in_the_child_is_raised_here_with_its_problems() -> None:
    problem = Problem(Pos("cards/x.yaml", 3, 5), "a definition is missing", "add one")
    parent = os.getpid()

    def fail() -> None:
        if os.getpid() != parent:  # raised in the child only: it must come from there
            raise CardsError([problem])

    with pytest.raises(CardsError) as raised:
        in_child(fail)
    assert raised.value.problems == [problem]
    assert str(raised.value) == str(CardsError([problem]))
    assert _no_children_left()


def test_a_bug_in_the_child_is_raised_by_the_parent_running_the_step_itself() -> None:
    parent = os.getpid()

    def step() -> int:
        if os.getpid() != parent:
            raise KeyError("only in the child")
        return os.getpid()

    assert in_child(step) == parent  # the child failed, the parent ran it
    assert _no_children_left()


def _rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# --- Beside: a job on the other core while this process goes on ----------------------


def test_a_job_beside_runs_in_another_process_while_this_one_goes_on(tmp_path: Path) -> None:
    started = tmp_path / "started"

    def job() -> int:
        started.write_text("x")
        time.sleep(0.5)
        return os.getpid()

    with Beside(job) as child:
        while not started.exists():  # the job runs before anyone asks for its result
            time.sleep(0.01)
        assert child.result() != os.getpid()
    assert _no_children_left()


def test_a_job_not_forked_is_done_here_at_once_and_raises_at_once() -> None:
    done: list[int] = []
    child = Beside(lambda: done.append(os.getpid()), fork=False)
    assert done == [os.getpid()]  # before result() is asked for
    child.result()

    def fail() -> None:
        raise BuildError("no deck")

    with pytest.raises(BuildError, match="no deck"):
        Beside(fail, fork=False)


def test_a_job_never_asked_for_is_finished_before_the_block_is_left(tmp_path: Path) -> None:
    written = tmp_path / "deck.apkg"

    def job() -> None:
        time.sleep(0.3)
        written.write_text("deck")

    with pytest.raises(RuntimeError), Beside(job):
        raise RuntimeError("the pages failed")
    assert written.read_text() == "deck"  # the child's write was waited for
    assert _no_children_left()


def test_a_konspekt_error_beside_is_raised_when_the_result_is_asked_for() -> None:
    parent = os.getpid()

    def job() -> None:
        if os.getpid() != parent:
            raise BuildError("stale ledger")

    with Beside(job) as child, pytest.raises(BuildError, match="stale ledger"):
        child.result()
    assert _no_children_left()


def test_a_bug_beside_is_raised_as_itself_when_the_parent_runs_the_job_again() -> None:
    """The child fails, the parent runs the job, and the job's own error leaves the
    block: not an error about the child, which is already reaped."""

    def job() -> None:
        raise KeyError("a bug")

    with pytest.raises(KeyError, match="a bug"), Beside(job) as child:
        child.result()
    assert _no_children_left()


def pids_of_halves() -> set[int]:
    """The processes that computed map_in_two's halves, asked to fork at any size."""
    return set(map_in_two(lambda _: os.getpid(), range(10), min_jobs=1))


def test_a_job_beside_other_work_does_not_fork_again() -> None:
    # Its parent works on the other core: a second child would only compete with both.
    with Beside(pids_of_halves) as beside:
        assert len(beside.result()) == 1
    assert len(in_child(pids_of_halves)) == 2  # the parent only waits: both cores are free


def test_the_running_count_is_read_from_the_kernels_text() -> None:
    assert konspekt.pool.running_count("0.52 0.58 0.59 3/190 4242\n") == 3


@pytest.mark.skipif(not Path("/proc/loadavg").exists(), reason="no /proc/loadavg")
def test_no_core_is_spare_while_every_core_is_busy_now() -> None:
    # Busy processes started a moment ago barely move the load average (a minute's
    # mean); the count of processes running now sees them at once.
    cores = os.cpu_count() or 1
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)]
    try:
        time.sleep(0.2)
        assert not konspekt.pool.spare_core()
    finally:
        for process in busy:
            process.kill()
            process.wait()
