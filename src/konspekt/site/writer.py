"""A new folder of many files, written by a forked child while this process makes them.

Creating a file is a system call that cost from 20 µs to half a millisecond on the
machine measured (the same script, minutes apart: 0.1 s to 2.4 s for 5,000 files),
and a glossary's folder of term pages is thousands of files. On a thread the writes
did not overlap the pages being made at all (each call back into Python waits for the
GIL the page-making thread holds): in another process they do. So when the folder is
new (a cold build: nothing to compare with, nothing to remove), its pages are sent
down a pipe as they are made, and a forked child writes them into a hidden staging
folder (output.py's partial name), renamed into place once every page is written.

Correct by construction rather than by care: the caller keeps every page anyway, and
anything the child cannot do (an error, a crash, a broken pipe) makes `finish` answer
False and remove the staging folder, so the caller writes the pages itself as without
the child. The child is always waited for (killed first if this process fails), never
runs the parent's cleanup, and writes only inside the staging folder.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import shutil
import signal
import struct
import sys
import tempfile
import threading
from pathlib import Path

from ..output import partial_name, remove_leftovers, umask

# Below this many files a fork (a few milliseconds for a process with a glossary
# loaded) costs about what it saves.
MIN_FILES = 400
_FRAME = struct.Struct("<II")  # the name's length and the data's, then both
_PIPE_BYTES = 1 << 20  # Linux's default limit for an unprivileged process
_CHUNK = 1 << 20


def can_fork_writer() -> bool:
    """fork is there and no other thread runs: `serve` regenerates with its server
    running, and a fork copies no thread, only the locks those threads may hold."""
    return hasattr(os, "fork") and threading.active_count() == 1


class FolderWriter:
    """Writes the files `send` is given into a staging folder for `target`, in a forked
    child; `finish` says whether all of them were, and puts the folder in place."""

    @classmethod
    def start(cls, target: Path, files: int) -> FolderWriter | None:
        """A writer of `files` files into `target`, a folder not there yet; None where a
        child is not worth it or cannot be had (the caller writes the files itself)."""
        if files < MIN_FILES or target.exists() or not can_fork_writer():
            return None
        try:
            return cls(target)
        except OSError:  # (no folder, no pipe, no fork: writing here says what is wrong)
            return None

    def __init__(self, target: Path) -> None:
        self.target = target
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(target)
        self.staging = Path(tempfile.mkdtemp(prefix=partial_name(target), dir=target.parent))
        os.chmod(self.staging, 0o777 & ~umask())
        self._pending = bytearray()  # framed files the pipe had no room for yet
        self._broken = False
        try:
            read_end, self._pipe = os.pipe()
            _widen(self._pipe)
            sys.stdout.flush()  # buffered output is not printed twice
            sys.stderr.flush()
            self._pid = os.fork()
        except OSError:
            shutil.rmtree(self.staging, ignore_errors=True)
            raise
        if self._pid == 0:  # the child: write, then leave without the parent's cleanup
            os.close(self._pipe)
            gc.disable()  # its few buffers need no collector; the parent's heap no scan
            code = 1
            try:
                _write_all(read_end, self.staging)
                code = 0
            finally:
                os._exit(code)
        os.close(read_end)
        os.set_blocking(self._pipe, False)  # `send` never waits for the child

    def send(self, name: str, data: bytes) -> None:
        """Have `name` (a path relative to the folder, '/' between parts) hold `data`."""
        if self._broken:
            return
        encoded = name.encode("utf-8")
        self._pending += _FRAME.pack(len(encoded), len(data)) + encoded + data
        self._flush()

    def finish(self) -> bool:
        """Wait for every file to be written; True once the folder is at `target`. False
        (the staging folder removed) if the child could not write them all, or `target`
        appeared meanwhile: the caller writes the files itself."""
        try:
            if not self._broken:
                os.set_blocking(self._pipe, True)
                self._flush()  # (blocking now: all of it)
        finally:
            os.close(self._pipe)
            _, status = os.waitpid(self._pid, 0)
            self._pid = 0
        done = not self._broken and os.waitstatus_to_exitcode(status) == 0
        if done:
            try:
                os.rename(self.staging, self.target)  # (refused if target is there now)
            except OSError:
                done = False
        if not done:
            shutil.rmtree(self.staging, ignore_errors=True)
        return done

    def abandon(self) -> None:
        """Stop the child and remove what it wrote (this process failed)."""
        if self._pid:
            with contextlib.suppress(OSError):
                os.close(self._pipe)
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
            self._pid = 0
        shutil.rmtree(self.staging, ignore_errors=True)

    def _flush(self) -> None:
        sent = 0
        view = memoryview(self._pending)
        try:
            while sent < len(view):
                sent += os.write(self._pipe, view[sent : sent + _CHUNK])
        except BlockingIOError:
            pass  # the pipe is full: the rest goes with the next file, or at the end
        except BrokenPipeError:
            self._broken = True  # the child is gone: `finish` says so
        finally:
            view.release()
        if self._broken:
            self._pending.clear()
        else:
            del self._pending[:sent]


def _widen(pipe: int) -> None:
    """A larger pipe, where Linux allows it: fewer waits for the child to read."""
    import fcntl  # (POSIX only, as fork is)

    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)


def _write_all(read_end: int, folder: Path) -> None:
    """The child's work: every framed file from the pipe, created in `folder`."""
    buffer = bytearray()
    made = {folder}
    mode = 0o666  # as write_file leaves a file: the umask applies
    while True:
        chunk = os.read(read_end, _CHUNK)
        if not chunk:
            break
        buffer += chunk
        at = 0
        while len(buffer) - at >= _FRAME.size:
            name_size, data_size = _FRAME.unpack_from(buffer, at)
            end = at + _FRAME.size + name_size + data_size
            if len(buffer) < end:
                break
            name = buffer[at + _FRAME.size : at + _FRAME.size + name_size].decode("utf-8")
            path = folder / name
            if path.parent not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
            write_new(path, memoryview(buffer)[end - data_size : end], mode)
            at = end
        del buffer[:at]
    if buffer:
        raise OSError(errno.EPIPE, "the last file was cut short")


def write_new(path: Path, data: memoryview, mode: int) -> None:
    """Create `path` (it must not exist) holding `data`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        with data:
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
    finally:
        os.close(fd)
