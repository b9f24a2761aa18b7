"""The writer's child process (writer.py): files read from stdin, created in a folder.

Run as `python -I -S -c <this file's text> FOLDER`: a bare interpreter, the standard
library only, so it starts in milliseconds and shares nothing with the build. Each file
comes framed: the lengths of its name and of its data (two little-endian uint32), the
name (UTF-8, '/' between parts, relative to FOLDER), the data. Exit status 0 once
stdin ends with every file created; anything else is a failure (the parent writes the
files itself). A name that is absolute or climbs out of FOLDER is a failure too.
"""

from __future__ import annotations

import os
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
    while True:
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
            parts = name.split("/")
            if not name or name.startswith("/") or ".." in parts or "" in parts:
                raise ValueError(f"not a relative path: {name!r}")
            path = folder.joinpath(*parts)
            if path.parent not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
            with memoryview(buffer) as view:
                create(path, view[end - data_size : end])
            at = end
        del buffer[:at]
    if buffer:
        raise ValueError("the last file was cut short")


def create(path: Path, data: memoryview) -> None:
    """Create `path` (it must not exist) holding `data`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, MODE)
    try:
        with data:
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
    finally:
        os.close(fd)


if __name__ == "__main__":
    write_all(sys.stdin.fileno(), Path(sys.argv[1]))
