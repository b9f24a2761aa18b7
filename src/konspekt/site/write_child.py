"""The writer's child process (writer.py): files read from stdin, created in a folder.

Run as `python -I -S -c <this file's text> FOLDER`: a bare interpreter, the standard
library only, so it starts in milliseconds and shares nothing with the build. Each file
comes framed: the lengths of its name and of its data (two little-endian uint32), the
name (UTF-8, '/' between parts, relative to FOLDER), the data. A frame with an empty
name announces files to come (their names, NUL-separated): while stdin has nothing
waiting, those are created empty, so that when their data comes only the writing is
left (creating a file is what costs: see writer.py). Exit status 0 once stdin ends
with every file created and every announced file never sent removed again; anything
else is a failure (the parent writes the files itself). A name that is absolute or
climbs out of FOLDER is a failure too, as is a file sent twice.
"""

from __future__ import annotations

import os
import select
import struct
import sys
from pathlib import Path

FRAME = struct.Struct("<II")
CHUNK = 1 << 20
MODE = 0o666  # as konspekt's write_file leaves a file: the umask applies


def write_all(source: int, folder: Path) -> None:
    """Every framed file from `source` (a file descriptor), created in `folder`."""
    buffer = bytearray()
    made = {folder}
    ahead: dict[Path, None] = {}  # announced, not created yet (in the order announced)
    empty: set[Path] = set()  # created ahead, their data still to come

    def path_of(name: str) -> Path:
        parts = name.split("/")
        if not name or name.startswith("/") or ".." in parts or "" in parts:
            raise ValueError(f"not a relative path: {name!r}")
        path = folder.joinpath(*parts)
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        return path

    while True:
        if ahead and not select.select([source], [], [], 0)[0]:
            path = next(iter(ahead))
            del ahead[path]
            create(path, memoryview(b""))
            empty.add(path)
            continue
        chunk = os.read(source, CHUNK)
        if not chunk:
            break
        buffer += chunk
        at = 0
        while len(buffer) - at >= FRAME.size:
            name_size, data_size = FRAME.unpack_from(buffer, at)
            end = at + FRAME.size + name_size + data_size
            if len(buffer) < end:
                break
            name = buffer[at + FRAME.size : at + FRAME.size + name_size].decode("utf-8")
            with memoryview(buffer) as view:
                data = view[end - data_size : end]
                if not name:  # an announcement
                    names = bytes(data).decode("utf-8").split("\0")
                    ahead.update(dict.fromkeys(path_of(n) for n in names if n))
                    data.release()
                    at = end
                    continue
                path = path_of(name)
                if path in empty:
                    empty.discard(path)
                    fill(path, data)
                else:
                    ahead.pop(path, None)
                    create(path, data)
            at = end
        del buffer[:at]
    if buffer:
        raise ValueError("the last file was cut short")
    for path in empty:  # announced, never sent: not wanted after all
        path.unlink()
        while path.parent != folder:  # nor a folder made for it alone
            path = path.parent
            try:
                path.rmdir()
            except OSError:  # (not empty)
                break


def create(path: Path, data: memoryview) -> None:
    """Create `path` (it must not exist) holding `data`."""
    _write(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, MODE), data)


def fill(path: Path, data: memoryview) -> None:
    """Write `data` into `path`, an empty file this process created."""
    _write(os.open(path, os.O_WRONLY | os.O_CLOEXEC), data)


def _write(fd: int, data: memoryview) -> None:
    try:
        with data:
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
    finally:
        os.close(fd)


if __name__ == "__main__":
    write_all(sys.stdin.fileno(), Path(sys.argv[1]))
