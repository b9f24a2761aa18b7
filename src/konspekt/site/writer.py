"""A new folder of many files, written by a child process while this process makes them.

Creating a file is a system call that cost from 20 µs to half a millisecond on the
machine measured (the same script, minutes apart: 0.1 s to 2.4 s for 5,000 files),
and a glossary's folder of term pages is thousands of files. On a thread the writes
did not overlap the pages being made at all (each call back into Python waits for the
GIL the page-making thread holds): in another process they do. So when the folder is
new (a cold build: nothing to compare with, nothing to remove), its pages are sent
down a pipe as they are made, and a child (write_child.py: a bare interpreter, not a
fork, so it shares no memory to copy and no locks with this process's threads) writes
them into a hidden staging folder (output.py's partial name), renamed into place once
every page is written.

Correct by construction rather than by care: the caller keeps every page anyway, and
anything the child cannot do (an error, a crash, a broken pipe) makes `finish` answer
False and remove the staging folder, so the caller writes the pages itself as without
the child. The child is always waited for (killed first if this process fails), and
writes only inside the staging folder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Sequence
from itertools import islice
from pathlib import Path

from ..output import partial_name, remove_leftovers, umask
from .write_child import FRAME

log = logging.getLogger(__name__)

# Below this many files the child's start (a bare interpreter: ≈ 20 ms) costs about
# what it saves.
MIN_FILES = 400
_PIPE_BYTES = 1 << 20  # Linux's default limit for an unprivileged process
MAX_PENDING = 8 << 20  # bytes waiting for the pipe (pages: ≈ 2,500 at 3.5 KB)
_IOV_MAX = 512  # buffers per writev (Linux takes up to 1,024)
_CHILD = Path(__file__).with_name("write_child.py")


class FolderWriter:
    """Writes the files `send` is given into a staging folder for `target`, in a child
    process; `finish` says whether all of them were, and puts the folder in place."""

    @classmethod
    def start(cls, target: Path, names: Sequence[str]) -> FolderWriter | None:
        """A writer into `target`, a folder not there yet, of the files `names` (those
        to be sent, as far as known now); None where a child is not worth it or cannot
        be had (the caller writes the files itself)."""
        if len(names) < MIN_FILES or target.exists() or not sys.executable:
            return None
        try:
            return cls(target, names)
        except OSError as error:  # (writing here says what is wrong, if anything is)
            log.debug("no writer for %s: %s", target, error)
            return None

    def __init__(self, target: Path, names: Sequence[str] = ()) -> None:
        """`names`: files to create (empty) while none is waiting to be written, so that
        when they are sent only their bytes are left to write. One not sent is removed."""
        self.target = target
        # What the pipe had no room for yet: frame headers and the files' bytes (views,
        # not copies), at most MAX_PENDING bytes of them (`send` waits beyond that).
        self._pending: deque[memoryview] = deque()
        self._pending_bytes = 0
        self._broken = False
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(target)
        self.staging = Path(tempfile.mkdtemp(prefix=partial_name(target), dir=target.parent))
        try:
            os.chmod(self.staging, 0o777 & ~umask())
            code = _CHILD.read_text(encoding="utf-8")
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", code, str(self.staging)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,  # a failure only means writing here
            )
        except (OSError, subprocess.SubprocessError) as error:
            shutil.rmtree(self.staging, ignore_errors=True)
            raise OSError(f"cannot start the writer: {error}") from error
        assert self._process.stdin is not None
        self._pipe = self._process.stdin.fileno()
        _widen(self._pipe)
        try:
            os.set_blocking(self._pipe, False)  # `send` never waits for the child
        except OSError:
            self.abandon()
            raise
        if names:  # (a frame without a name: see write_child.py)
            self._send(b"", "\0".join(names).encode("utf-8"))

    def send(self, name: str, data: bytes) -> None:
        """Have `name` (a path relative to the folder, '/' between parts) hold `data`."""
        if not name:
            raise ValueError("a file needs a name")
        self._send(name.encode("utf-8"), data)

    def _send(self, encoded: bytes, data: bytes) -> None:
        if self._broken:
            return
        header = FRAME.pack(len(encoded), len(data)) + encoded
        self._pending.append(memoryview(header))
        if data:
            self._pending.append(memoryview(data))
        self._pending_bytes += len(header) + len(data)
        if self._pending_bytes <= MAX_PENDING:
            self._flush()
            return
        # The child is far behind (file creation is slow now): wait for it rather than
        # keep the files meanwhile, which would add their size to the build's peak.
        os.set_blocking(self._pipe, True)
        try:
            self._flush()
        finally:
            os.set_blocking(self._pipe, False)

    def finish(self) -> bool:
        """Wait for every file to be written; True once the folder is at `target`. False
        (the staging folder removed) if the child could not write them all, or `target`
        appeared meanwhile: the caller writes the files itself."""
        try:
            if not self._broken:
                os.set_blocking(self._pipe, True)
                self._flush()  # (blocking now: all of it)
        finally:
            with contextlib.suppress(OSError):
                self._close_pipe()
            code = self._process.wait()
        done = not self._broken and code == 0
        if done:
            try:
                os.rename(self.staging, self.target)  # (refused if target is there now)
            except OSError:
                done = False
        if not done:
            log.debug("the writer of %s did not finish (exit %s): written here", self.target, code)
            shutil.rmtree(self.staging, ignore_errors=True)
        return done

    def abandon(self) -> None:
        """Stop the child and remove what it wrote (this process failed)."""
        if self._process.returncode is None:
            with contextlib.suppress(OSError):
                self._close_pipe()
            self._process.kill()
            self._process.wait()
        shutil.rmtree(self.staging, ignore_errors=True)

    def _close_pipe(self) -> None:
        stdin = self._process.stdin
        if stdin is not None and not stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                stdin.close()  # (nothing buffered in it: every write went to its fd)

    def _flush(self) -> None:
        pending = self._pending
        try:
            while pending:
                sent = os.writev(self._pipe, list(islice(pending, _IOV_MAX)))
                self._pending_bytes -= sent
                while sent and sent >= len(pending[0]):
                    sent -= len(pending.popleft())
                if sent:
                    pending[0] = pending[0][sent:]
        except BlockingIOError:
            pass  # the pipe is full: the rest goes with the next file, or at the end
        except BrokenPipeError:
            self._broken = True  # the child is gone: `finish` says so
            pending.clear()
            self._pending_bytes = 0


def _widen(pipe: int) -> None:
    """A larger pipe, where Linux allows it: fewer waits for the child to read."""
    with contextlib.suppress(ImportError, OSError, AttributeError):
        import fcntl  # (POSIX only)

        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
