"""Outputs appear whole or not at all.

Every file and folder a build produces is first written under a hidden *partial*
name beside its final place (same folder, so same file system) and then renamed
over it, which is atomic. A build that fails or is interrupted (Ctrl-C, SIGTERM)
removes its partial output and leaves the previous output exactly as it was. A
build killed outright (SIGKILL) cannot clean up; its partial files are hidden, and
the next build removes them. Folders are swapped with renameat2(RENAME_EXCHANGE)
where the system has it, so even the site/ folder is never missing for a moment.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import OutputError

if TYPE_CHECKING:
    import ctypes

_PARTIAL = ".partial-"


def partial_name(target: Path) -> str:
    """The prefix of a target's partial files: hidden, and naming the process that made it."""
    return f".{target.name}{_PARTIAL}{os.getpid()}-"


def remove_leftovers(target: Path) -> None:
    """Remove partial output that killed builds of `target` left behind."""
    prefix = f".{target.name}{_PARTIAL}"
    with contextlib.suppress(FileNotFoundError):
        for path in target.parent.iterdir():
            if path.name.startswith(prefix) and not _alive(path.name[len(prefix) :]):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)


def write_file(path: Path, data: bytes, *, tidy: bool = True) -> None:
    """Replace the file at `path` with `data`, atomically.

    `tidy` also removes what killed builds left beside it; writers of many files in
    one folder pass False and tidy once, as a folder scan per file would be quadratic.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if tidy:
            remove_leftovers(path)
        fd, temp = tempfile.mkstemp(prefix=partial_name(path), dir=path.parent)
        try:
            os.fchmod(fd, 0o666 & ~umask())  # mkstemp's 0600 would survive the rename
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as error:
        raise OutputError(f"{path}: cannot write: {error.strerror or error}") from error


@contextlib.contextmanager
def staged_dir(target: Path, reuse: Path | None = None) -> Iterator[Path]:
    """A hidden folder beside `target` to build into; swapped into place on success.

    If the body raises (or the process is interrupted), the staging folder is removed
    and `target` is untouched. With `reuse`, a folder kept there (by the previous
    build: what `target` held before it) is the staging folder, and afterwards the
    folder swapped out (or the staging folder, after a failure) goes back there
    instead of being deleted, so a builder can rewrite only what changed. Whoever
    builds into it must expect arbitrary content in it.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target)
    staging = _reused(reuse, target) if reuse is not None else None
    if staging is None:
        staging = Path(tempfile.mkdtemp(prefix=partial_name(target), dir=target.parent))
        os.chmod(staging, 0o777 & ~umask())
    try:
        yield staging
        replace_dir(staging, target)
    finally:  # after a swap, `staging` holds the previous output
        if reuse is None or not _move(staging, reuse):
            shutil.rmtree(staging, ignore_errors=True)


def _reused(reuse: Path, target: Path) -> Path | None:
    """The folder kept at `reuse`, moved beside `target` as a staging folder."""
    if not reuse.is_dir() or reuse.is_symlink():
        return None
    staging = target.parent / f"{partial_name(target)}{os.urandom(4).hex()}"
    if _move(reuse, staging):
        return staging
    shutil.rmtree(reuse, ignore_errors=True)  # e.g. on another file system
    return None


def _move(source: Path, destination: Path) -> bool:
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.rename(source, destination)  # an existing non-empty destination: refused
    except OSError:
        return False
    return True


def replace_dir(new: Path, target: Path) -> None:
    """Put folder `new` at `target`; the previous `target` ends up at `new`'s path."""
    try:
        if not target.exists():
            os.rename(new, target)
            new.mkdir()  # the caller removes `new` afterwards, as after a swap
        elif not _exchange(new, target):
            # No atomic exchange here: two renames, with target briefly missing.
            aside = new.with_name(new.name + "-old")
            os.rename(target, aside)
            os.rename(new, target)
            os.rename(aside, new)
    except OSError as error:
        raise OutputError(f"{target}: cannot replace: {error.strerror or error}") from error


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Turn SIGTERM into an exception while the body runs, so cleanup code runs for it too."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def die_with_parent() -> None:
    """For subprocess preexec_fn: the child gets SIGKILL when its parent dies (Linux).

    A builder child (MkDocs) orphaned by a killed build would go on writing into a
    staging folder nobody will use, re-creating it after the next build tidied it.
    """
    libc = _libc()
    if libc is not None and hasattr(libc, "prctl"):
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths with renameat2(RENAME_EXCHANGE); False if unsupported."""
    renameat2 = getattr(_libc(), "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if result == 0:
        return True
    import ctypes  # (imported where needed: a deck build writes no folder)

    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: file system or kernel lacks it
        return False
    raise OSError(errno, os.strerror(errno), str(b))


@functools.cache
def _libc() -> ctypes.CDLL | None:
    import ctypes.util  # (imported where needed: ctypes.util costs every command a little)

    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name, use_errno=True) if name else None
    except OSError:
        return None


def _alive(suffix: str) -> bool:
    pid_text = suffix.split("-", 1)[0]
    if not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Our own pid can only be a reused pid of a killed build: nothing of ours is in flight.
    return int(pid_text) != os.getpid()


def umask() -> int:
    """The process's umask (read by setting it, so set back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
