"""What learners may already have: the newest time each note was committed with.

The ledger in the working tree is not enough to keep updates monotonic. A change that
is reverted (`git revert` of the cards and the ledger together) brings back the ledger's
older time with the older text, and Anki's "update if newer" would keep the newer,
wrong text in every collection that imported the change. The committed versions of
the ledger remember what was built since: for each note, the latest time any version
gave it and the content hash it had then. A build whose content differs from that
must be newer than it (plan.py).

Outside a git checkout, or when git is missing, there is no history to consult and the
ledger alone decides, as before.
"""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .ledger import seconds

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Peak:
    """The newest time a committed ledger gave a note, and the note's hash then."""

    hash: str
    changed: int


def published_peaks(ledger_path: Path) -> Mapping[str, Peak]:
    """Per entry id, the newest (hash, time) of every committed version of the ledger."""
    blobs = _ledger_blobs(ledger_path)
    peaks: dict[str, Peak] = {}
    for text in _read_blobs(ledger_path.parent, blobs):
        try:
            notes = json.loads(text)["notes"]
            records = [(str(k), str(v["hash"]), seconds(v["changed"])) for k, v in notes.items()]
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # a damaged old version says nothing reliable
        for entry_id, digest, changed in records:
            peak = peaks.get(entry_id)
            if peak is None or changed > peak.changed:
                peaks[entry_id] = Peak(digest, changed)
    return peaks


def _git(folder: Path, *args: str, stdin: bytes | None = None) -> bytes | None:
    try:
        result = subprocess.run(
            ["git", "-C", str(folder), *args], input=stdin, capture_output=True, check=False
        )
    except OSError:
        return None
    return result.stdout if result.returncode == 0 else None


def _ledger_blobs(ledger_path: Path) -> list[str]:
    folder = ledger_path.parent
    if not folder.is_dir():
        return []
    if _git(folder, "rev-parse", "--is-shallow-repository") == b"true\n":
        log.warning(
            "this git checkout is shallow: a reverted change may not reach learners' "
            "collections; build from a full clone (in CI: fetch-depth: 0)"
        )
    out = _git(folder, "log", "--format=", "--raw", "--no-abbrev", "--", ledger_path.name)
    if out is None:
        return []
    blobs: list[str] = []
    for line in out.decode("utf-8", "replace").splitlines():
        fields = line.split()
        if len(fields) >= 5 and line.startswith(":") and set(fields[3]) != {"0"}:
            blobs.append(fields[3])
    return list(dict.fromkeys(blobs))


def _read_blobs(folder: Path, blobs: list[str]) -> list[str]:
    if not blobs:
        return []
    out = _git(folder, "cat-file", "--batch", stdin="".join(b + "\n" for b in blobs).encode())
    if out is None:
        return []
    texts: list[str] = []
    position = 0
    while position < len(out):
        header_end = out.index(b"\n", position)
        header = out[position:header_end].split()
        if len(header) != 3:  # "<sha> missing"
            position = header_end + 1
            continue
        size = int(header[2])
        start = header_end + 1
        texts.append(out[start : start + size].decode("utf-8", "replace"))
        position = start + size + 1
    return texts
