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
import os
import pickle
import signal
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

from .errors import KonspektError

Job = TypeVar("Job")
Result = TypeVar("Result")

# Below this many jobs a fork costs more than it saves (forking a process with the
# dictionaries loaded takes a few milliseconds; a job takes about a millisecond).
MIN_JOBS = 400


def spare_core() -> bool:
    """Whether a second process would find a core to run on.

    On a machine whose cores are busy anyway (the load average counts this process
    too), the child only competes with the parent: measured with a load of 6 on two
    cores, a deck built in one process was a second faster than in two.
    """
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:  # not known here
        return cores >= 2
    return load < cores - 0.5


def map_in_two(
    function: Callable[[Job], Result], jobs: Sequence[Job], *, min_jobs: int | None = None
) -> list[Result]:
    """`[function(job) for job in jobs]`, the second half computed in a forked child.

    With the default `min_jobs`, only when a core is idle (`spare_core`); a given
    `min_jobs` forks whenever there are that many jobs.
    """
    if min_jobs is None:
        min_jobs = MIN_JOBS if spare_core() else len(jobs) + 1
    if len(jobs) < min_jobs or not hasattr(os, "fork") or (os.cpu_count() or 1) < 2:
        return [function(job) for job in jobs]
    middle = (len(jobs) + 1) // 2
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, leave without running the parent's cleanup
        os.close(read_end)
        code = 0
        try:
            data = pickle.dumps([function(job) for job in jobs[middle:]], pickle.HIGHEST_PROTOCOL)
            view = memoryview(data)
            while view:
                view = view[os.write(write_end, view) :]
        except BaseException:  # the parent renders this half and raises
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    reaped = False
    pipe = os.fdopen(read_end, "rb")
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
    runs beside it. A KonspektError the child raises is raised here; anything else the
    child cannot deliver (another exception, a crash) makes the parent call `function`
    itself, so a bug shows its own traceback, exactly as without the child. What the
    child prints is flushed before it leaves; the result must pickle.
    """
    if not hasattr(os, "fork"):
        return function()
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, send, leave without running the parent's cleanup
        os.close(read_end)
        code = 0
        try:
            try:
                answer: tuple[bool, object] = (True, function())
            except KonspektError as error:
                answer = (False, error)
            data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
            view = memoryview(data)
            while view:
                view = view[os.write(write_end, view) :]
        except BaseException:  # the parent runs `function` itself and raises
            code = 1
        finally:
            with contextlib.suppress(BaseException):  # nothing may keep it from leaving
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)
    os.close(write_end)
    reaped = False
    pipe = os.fdopen(read_end, "rb")
    try:
        data = pipe.read()
        _, status = os.waitpid(pid, 0)
        reaped = True
    finally:
        pipe.close()
        if not reaped:  # interrupted while waiting: leave no child behind
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0:
        try:
            ok, value = pickle.loads(data)
        except Exception:  # a damaged answer: run it here
            return function()
        if not ok:
            raise value  # a KonspektError, as the child raised it
        result: Result = value
        return result
    return function()
