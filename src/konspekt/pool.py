"""Work in forked children: the second half of a list on the other core, or a whole
step whose memory should go back to the system when it ends.

Rendering the deck's notes (Markdown, nh3, Pygments) is pure CPU work in Python, one
note at a time, so a second process halves it on a two-core machine. The child is
forked, so it starts with everything loaded and sends back only strings. (Generating
the linker's forms this way was measured too: the child's copy-on-write faults, cold
caches and pickling cost more than its half saved, so the index is built in one.)

Correct by construction rather than by care:
- the result is the list the same function gives in one process, in the same order;
- anything the child cannot deliver (an exception, a crash, a broken pipe) makes the
  parent render the child's half itself, so an error is raised here, as the same named
  error, exactly as without the child;
- the child is always waited for (killed first if the parent fails), so none is left
  behind; it leaves through os._exit, never through the parent's cleanup code.
"""

from __future__ import annotations

import contextlib
import copyreg
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import Any, BinaryIO, Generic, TypeVar, cast

from .errors import KonspektError

Job = TypeVar("Job")
Result = TypeVar("Result")

# Below this many jobs a fork costs more than it saves (forking a process with the
# dictionaries loaded takes a few milliseconds; a job takes about a millisecond).
MIN_JOBS = 400


def _read_only(mapping: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(mapping)


# What a child sends back is pickled, and the model's read-only mappings (an entry's
# field positions) would not pickle: they go as their dict, and come back read-only.
copyreg.pickle(MappingProxyType, lambda proxy: (_read_only, (dict(proxy),)))


# Set in a `Beside` child: its parent works on the other core meanwhile, so the child
# does not fork again (two processes on two cores already).
_other_core_taken = False


def spare_core() -> bool:
    """Whether a second process would find a core to run on.

    On a machine whose cores are busy anyway, the child only competes with the parent:
    measured with a load of 6 on two cores, a deck built in one process was a second
    faster than in two. What counts is how many processes want a core now (this one
    included), not the load average: that is a minute's mean, so on an idle machine it
    still counts the builds that just ended: six cold decks run one after another drove
    it from 1.1 to 1.6 on a two-core machine, so the later ones went on one core, while
    the count of running processes was mostly 1 (this one) between them.
    """
    cores = os.cpu_count() or 1
    running = _running_now()
    if running is None:  # not known here: the load average, lag and all
        try:
            running = os.getloadavg()[0]
        except OSError:
            return cores >= 2
    return running < cores - 0.5


def _running_now() -> float | None:
    """Processes running or ready to run on the machine now, this one included: the
    middle of three looks at the kernel's count (a shell starting at that instant
    should not decide), or None where there is no /proc/loadavg."""
    counts = []
    try:
        for look in range(3):
            if look:
                time.sleep(0.002)
            with open("/proc/loadavg", encoding="ascii") as file:
                counts.append(running_count(file.read()))
    except (OSError, ValueError):
        return None
    return sorted(counts)[1]


def running_count(loadavg: str) -> int:
    """The running count in /proc/loadavg's text ("0.52 0.58 0.59 3/190 4242" → 3)."""
    return int(loadavg.split()[3].split("/")[0])


def worth_forking(jobs: int, min_jobs: int | None = None) -> bool:
    """Whether `jobs` jobs are worth a second process: enough of them (`min_jobs`, by
    default MIN_JOBS and only when `spare_core`), two cores, `fork_is_safe`, and no
    `Beside` parent on the other core already."""
    if not _can_fork():
        return False
    if min_jobs is None:
        return jobs >= MIN_JOBS and spare_core()
    return jobs >= min_jobs


def second_core() -> bool:
    """Whether a forked child would have a core to itself: `worth_forking`, for work
    measured otherwise than in jobs (a caller that has decided it is enough)."""
    return _can_fork() and spare_core()


def _can_fork() -> bool:
    return not _other_core_taken and (os.cpu_count() or 1) >= 2 and fork_is_safe()


def fork_is_safe() -> bool:
    """Whether this process may fork: fork is how processes start here, and no other
    thread runs (`serve`'s server has threads, and a lock one of them held at the fork
    would stay locked in the child forever: a fork copies no thread, only its locks)."""
    return hasattr(os, "fork") and threading.active_count() == 1


def map_in_two(
    function: Callable[[Job], Result], jobs: Sequence[Job], *, min_jobs: int | None = None
) -> list[Result]:
    """`[function(job) for job in jobs]`, the second half computed in a forked child.

    With the default `min_jobs`, only when a core is idle (`spare_core`); a given
    `min_jobs` forks whenever there are that many jobs.
    """
    if not worth_forking(len(jobs), min_jobs):
        return [function(job) for job in jobs]
    middle = (len(jobs) + 1) // 2
    # If the child fails, the parent renders this half itself and raises.
    pid, pipe = _fork_sending(lambda: [function(job) for job in jobs[middle:]])
    reaped = False
    try:
        first = [function(job) for job in jobs[:middle]]
        data = pipe.read()
        _, status = os.waitpid(pid, 0)
        reaped = True
        second: list[Result] | None = None
        if os.waitstatus_to_exitcode(status) == 0:
            try:
                second = pickle.loads(data)
            except Exception:  # a damaged answer: compute it here
                second = None
        if second is None or len(second) != len(jobs) - middle:
            second = [function(job) for job in jobs[middle:]]
        return first + second
    finally:
        pipe.close()
        if not reaped:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def in_child(function: Callable[[], Result]) -> Result:
    """`function()`, run in a forked child: what it allocates is freed when the child ends.

    CPython rarely gives freed memory back to the system, so a process that built a
    large glossary's linker and pages keeps that size while the next step (MkDocs)
    runs beside it. Errors and output as `Beside.result` says.
    """
    with Beside(function, parent_waits=True) as child:
        return child.result()


class Beside(Generic[Result]):
    """`function()` computed in a forked child while this process goes on; `result()`
    waits for it. With `fork=False`, computed here and now instead, as without a child.

    A KonspektError the child raises is raised by `result()`; anything else the child
    cannot deliver (another exception, a crash) makes `result()` call `function` here,
    so a bug shows its own traceback, exactly as without the child. What the child
    prints is flushed before it leaves; the result must pickle. Used as a context
    manager, the child is waited for on the way out even if `result()` never was, so
    what it writes is finished (its files are written atomically) and no child is left.

    The child takes one core and this process the other, so the child's `map_in_two`
    stays in one process; `parent_waits` (as `in_child`): both cores are the child's.
    """

    def __init__(
        self, function: Callable[[], Result], *, fork: bool = True, parent_waits: bool = False
    ) -> None:
        self._function = function
        self._pid = 0
        self._answer: tuple[bool, object] | None = None  # (ok, value or error)
        if not fork or not hasattr(os, "fork"):
            self._answer = (True, function())  # an error is raised now, as in one process
            return

        def job() -> tuple[bool, object]:
            if not parent_waits:  # the parent works on the other core meanwhile
                global _other_core_taken
                _other_core_taken = True
            return _call(function)

        self._pid, self._pipe = _fork_sending(job)

    def result(self) -> Result:
        if self._answer is None:
            self._answer = self._wait()
        ok, value = self._answer
        if not ok:
            raise cast(BaseException, value)
        return cast(Result, value)

    def _wait(self) -> tuple[bool, object]:
        reaped = False
        try:
            data = self._pipe.read()
            _, status = os.waitpid(self._pid, 0)
            reaped = True
        finally:
            self._pipe.close()
            if not reaped:  # interrupted while waiting: leave no child behind
                os.kill(self._pid, signal.SIGKILL)
                os.waitpid(self._pid, 0)
            self._pid = 0  # reaped: `__exit__` has no child to wait for, even if this raises
        if os.waitstatus_to_exitcode(status) == 0:
            try:
                answer = pickle.loads(data)
            except Exception:  # a damaged answer: run it here
                answer = None
            if isinstance(answer, tuple) and len(answer) == 2:
                return cast(tuple[bool, object], answer)
        return _call(self._function)

    def __enter__(self) -> Beside[Result]:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._answer is None and self._pid:
            self._answer = (True, None)  # not asked for: the child is only waited for
            try:
                self._pipe.read()
                os.waitpid(self._pid, 0)
            except BaseException:
                os.kill(self._pid, signal.SIGKILL)
                os.waitpid(self._pid, 0)
                raise
            finally:
                self._pipe.close()


def _call(function: Callable[[], Result]) -> tuple[bool, object]:
    """(True, `function()`), or (False, the KonspektError it raised); any other error
    propagates."""
    try:
        return True, function()
    except KonspektError as error:
        return False, error


def _fork_sending(job: Callable[[], object]) -> tuple[int, BinaryIO]:
    """A forked child that sends `job()` pickled down a pipe and leaves (exit status 1 if
    it could not); its pid and the pipe's reading end."""
    sys.stdout.flush()  # buffered output is not printed twice
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, send, leave without running the parent's cleanup
        os.close(read_end)
        code = 0
        try:
            data = pickle.dumps(job(), pickle.HIGHEST_PROTOCOL)
            view = memoryview(data)
            while view:
                view = view[os.write(write_end, view) :]
        except BaseException:
            code = 1
        finally:
            with contextlib.suppress(BaseException):  # nothing may keep it from leaving
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)
    os.close(write_end)
    return pid, os.fdopen(read_end, "rb")
