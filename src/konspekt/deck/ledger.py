"""The deck ledger `cards/anki.lock`: when each note last changed, and what it last said.

Anki's default import updates a note only if the incoming note is newer than the one
in the collection. So a note's modification time must change exactly when its content
does, across builds on any machine; the build cannot know that without remembering.
The ledger remembers, per entry id: a hash of what the note is made from, when the
entry was first added and last changed, and the entry's content, so an entry that
disappears from the cards can still be rebuilt as a retired note.

It is committed next to the cards and written as sorted, indented JSON so a review
shows which notes changed. The cards loader reads only *.yaml/*.yml, so it is safe there.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from json.encoder import encode_basestring
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import BuildError, DamagedLedgerError, OutputError
from ..output import write_file
from .notes import NoteSource

log = logging.getLogger(__name__)

LEDGER_NAME = "anki.lock"
FORMAT = 1
ABOUT = (
    "konspekt deck ledger: when each Anki note last changed. Written by `make deck` "
    "(python build.py deck); commit it with the cards, never edit it by hand."
)


class NoteRecord:
    """What the ledger knows about one entry's note (immutable).

    A record read through the ledger's index (`ledger_from_index`) parses its entry from
    the ledger's bytes only when it is asked for: a build reads every record's times and
    hash, but the content of only the few it must compare or rebuild.
    """

    __slots__ = ("_entry", "_text", "added", "changed", "hash", "retired")

    hash: str
    added: int  # Unix seconds: when the entry first appeared; it orders note ids
    changed: int  # Unix seconds: the note's modification time in the deck
    retired: int | None  # Unix seconds: when the entry left the cards
    _entry: NoteSource | None
    _text: tuple[str, bytes, int, int] | None

    def __init__(
        self,
        hash: str,
        added: int,
        changed: int,
        entry: NoteSource | None,
        retired: int | None = None,
        *,
        text: tuple[str, bytes, int, int] | None = None,  # (entry id, bytes, start, end):
        # the record's JSON, parsed if its entry is asked for
    ) -> None:
        set_ = object.__setattr__
        set_(self, "hash", hash)
        set_(self, "added", added)
        set_(self, "changed", changed)
        set_(self, "retired", retired)
        set_(self, "_entry", entry)
        set_(self, "_text", text)

    @property
    def entry(self) -> NoteSource:
        """The entry's content, to rebuild its note once the entry is removed."""
        if self._entry is None:
            assert self._text is not None
            entry_id, data, start, end = self._text
            try:
                raw = json.loads(data[start:end])["entry"]
            except (ValueError, KeyError, TypeError) as error:
                raise DamagedLedgerError(f"the ledger's record of '{entry_id}': {error}") from None
            object.__setattr__(self, "_entry", NoteSource.from_json(entry_id, raw))
        assert self._entry is not None
        return self._entry

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a NoteRecord is immutable (setting {name})")

    def _key(self) -> tuple[Any, ...]:
        return (self.hash, self.added, self.changed, self.retired)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NoteRecord):
            return NotImplemented
        return self is other or (self._key() == other._key() and self.entry == other.entry)

    __hash__ = None  # type: ignore[assignment]  # (as the frozen dataclass it was: its entry is not hashable)

    def __repr__(self) -> str:
        return (
            f"NoteRecord(hash={self.hash!r}, added={self.added!r}, changed={self.changed!r}, "
            f"entry={self.entry!r}, retired={self.retired!r})"
        )


@dataclass(frozen=True)
class StampRecord:
    """A hash and the time it last changed: used for the note type."""

    hash: str
    changed: int


@dataclass(frozen=True)
class Ledger:
    notes: Mapping[str, NoteRecord] = field(default_factory=lambda: MappingProxyType({}))
    notetype: StampRecord | None = None
    # The namespace the notes were built in: a build in another one warns that every
    # learner would get every note twice (None: a ledger from before it was recorded).
    namespace: str | None = None


def read_ledger(path: Path) -> tuple[Ledger, str | None]:
    """The ledger and its exact text; no file yet (the first build) is an empty ledger."""
    read = read_ledger_file(path)
    return read.ledger, None if read.data is None else read.data.decode("utf-8")


def read_ledger_file(path: Path, cache_dir: Path | None = None) -> LedgerFile:
    """The ledger file; no file yet (the first build) is an empty ledger.

    With `cache_dir`, a ledger this code wrote is read through its index (written by
    `write_ledger_index` with it): every record's hash and times, and where its value
    is, without parsing 12 MB of JSON (5,000 entries) into every entry's content.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return LedgerFile(Ledger(), None)
    except OSError as error:
        raise OutputError(f"{path}: cannot read the deck ledger: {error.strerror}") from error
    if cache_dir is not None:
        indexed = _read_index(cache_dir, data)
        if indexed is not None:
            return indexed
    try:
        return LedgerFile(_from_json(json.loads(data.decode("utf-8"))), data)
    except (ValueError, KeyError, TypeError, DamagedLedgerError) as error:
        raise DamagedLedgerError(
            f"{path}: the deck ledger is damaged ({error}); restore it from git "
            f"(git checkout -- {path}) rather than deleting it, or every note's "
            "history starts over"
        ) from error


# The ledger's index, in the project's cache folder: the stamp of the ledger's bytes it
# describes (a hash of them and of this code), and per record its hash, times and span.
# While the ledger has those bytes, they are exactly what ledger_bytes gave the ledger
# the index holds, so a build may take its records from the index and copy the unchanged
# ones' bytes; a ledger edited by hand, or from another version of the code, is parsed
# and written out in full. A cache: missing, damaged or stale, it is not used.
INDEX_NAME = "deck-ledger-index.json"
_OLD_STAMP_NAME = "deck-ledger-stamp.json"  # what the index replaced


@cache
def _code_key() -> str:
    from . import notes

    digest = hashlib.sha256()
    for module_file in (__file__, notes.__file__):
        digest.update(Path(str(module_file)).read_bytes())
    return digest.hexdigest()[:24]


def ledger_stamp(data: bytes) -> str:
    """The stamp of the ledger's bytes (the file's)."""
    return f"{_code_key()}-{hashlib.sha256(data).hexdigest()}"


def write_ledger_index(cache_dir: Path | None, data: bytes, ledger: Ledger, spans: Spans) -> None:
    """Index `data`, the ledger's bytes that `ledger_bytes(ledger)` gave with `spans`."""
    if cache_dir is None:
        return
    path = cache_dir / INDEX_NAME
    try:
        if len(spans) != len(ledger.notes):  # (json.dumps wrote it: no spans)
            path.unlink(missing_ok=True)
            return
        notetype = ledger.notetype
        index = {
            "stamp": ledger_stamp(data),
            "namespace": ledger.namespace,
            "notetype": None if notetype is None else [notetype.hash, notetype.changed],
            "notes": [
                [entry_id, r.hash, r.added, r.changed, r.retired, *spans[entry_id]]
                for entry_id, r in ledger.notes.items()
            ],
        }
        text = json.dumps(index, ensure_ascii=False, separators=(",", ":"))
        write_file(path, text.encode("utf-8"))
        (cache_dir / _OLD_STAMP_NAME).unlink(missing_ok=True)
    except (BuildError, OSError) as error:  # a cache: the ledger is already written
        log.warning("could not save the ledger's index: %s", error)


def _read_index(cache_dir: Path, data: bytes) -> LedgerFile | None:
    try:
        index = json.loads((cache_dir / INDEX_NAME).read_bytes())
    except (OSError, ValueError):
        return None
    if type(index) is not dict or index.get("stamp") != ledger_stamp(data):
        return None
    size = len(data)
    notes: dict[str, NoteRecord] = {}
    spans: dict[str, tuple[int, int]] = {}
    try:
        namespace = index["namespace"]
        raw = index["notetype"]
        if not (namespace is None or type(namespace) is str):
            return None
        notetype = None
        if raw is not None:
            stamp_hash, changed = raw
            if type(stamp_hash) is not str or type(changed) is not int:
                return None
            notetype = StampRecord(stamp_hash, changed)
        for entry_id, note_hash, added, changed, retired, start, end in index["notes"]:
            if not (
                type(entry_id) is str
                and type(note_hash) is str
                and type(added) is int
                and type(changed) is int
                and (retired is None or type(retired) is int)
                and type(start) is int
                and type(end) is int
                and 0 <= start <= end <= size
            ):
                return None
            notes[entry_id] = NoteRecord(
                note_hash, added, changed, None, retired, text=(entry_id, data, start, end)
            )
            spans[entry_id] = (start, end)
    except (KeyError, TypeError, ValueError):
        return None
    return LedgerFile(Ledger(MappingProxyType(notes), notetype, namespace), data, spans)


def loads_ledger(text: str) -> Ledger:
    """The ledger in `text`, as read from a file or from git; ValueError, KeyError or
    TypeError if it is damaged."""
    return _from_json(json.loads(text))


def dumps_ledger(ledger: Ledger) -> str:
    """The ledger as text: the same ledger always gives the same bytes."""
    return ledger_bytes(ledger)[0].decode("utf-8")


# A record's place in the ledger's bytes: (start, end) of its value, the text after its key.
Spans = Mapping[str, tuple[int, int]]


@dataclass(frozen=True)
class LedgerFile:
    """The ledger file as a build read it.

    `spans` is where each record's value stands in `data`, when this code wrote those
    bytes (the index says so, see `read_ledger_file`); None when it is not known.
    """

    ledger: Ledger
    data: bytes | None  # None: no file yet
    spans: Spans | None = None


def ledger_bytes(ledger: Ledger, previous: LedgerFile | None = None) -> tuple[bytes, Spans]:
    """The ledger as UTF-8 text, `dumps_ledger`'s, and where each record's value is in it.

    A record equal to its record in `previous` (with spans) is copied from those bytes
    rather than written again: the same bytes in a fraction of the time.
    """
    before: Mapping[str, NoteRecord] = {}
    old: memoryview | None = None
    spans: Spans = {}
    if previous is not None and previous.data is not None and previous.spans is not None:
        before, old, spans = previous.ledger.notes, memoryview(previous.data), previous.spans
    notes: dict[str, Any] = {}
    for note_id, record in ledger.notes.items():
        span = spans.get(note_id)
        earlier = before.get(note_id)
        if old is not None and span is not None and (earlier is record or earlier == record):
            notes[note_id] = _Record(note_id, old[span[0] : span[1]])
        else:
            notes[note_id] = _Record(note_id, _record_json(record))
    data: dict[str, Any] = {"about": ABOUT, "format": FORMAT, "notes": notes}
    if ledger.namespace is not None:
        data["namespace"] = ledger.namespace
    if ledger.notetype is not None:
        data["notetype"] = {
            "changed": _iso(ledger.notetype.changed),
            "hash": ledger.notetype.hash,
        }
    out: list[Any] = []
    try:
        _write(data, "\n", out)
    except _Unusual:  # (a ledger holds nothing unusual; as json.dumps would write it)
        for note_id, record in ledger.notes.items():
            notes[note_id] = _record_json(record)
        return (dumps_indented(data) + "\n").encode("utf-8"), {}
    out.append("\n")
    # The text between records is encoded as it comes; a record's value is copied (bytes)
    # or written at its depth (a notes value's lines are indented by four spaces).
    chunks: list[bytes | memoryview] = []
    written: dict[str, tuple[int, int]] = {}
    at = 0
    pending: list[str] = []
    for item in out:
        if type(item) is not _Record:
            pending.append(item)
            continue
        chunk = "".join(pending).encode("utf-8")
        pending = []
        chunks.append(chunk)
        at += len(chunk)
        value = item.value
        if isinstance(value, dict):
            text: list[str] = []
            _write(value, "\n    ", text)
            chunks.append("".join(text).encode("utf-8"))
        else:
            chunks.append(value)
        size = len(chunks[-1])
        written[item.entry_id] = (at, at + size)
        at += size
    chunks.append("".join(pending).encode("utf-8"))
    return b"".join(chunks), written


def dumps_indented(value: Any) -> str:
    """`json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)`, the same text.

    The standard library encodes indented JSON in pure Python, generator in generator;
    a ledger has a record per note, so this writer, specialized to what a ledger holds
    (objects with string keys, lists, strings, integers, booleans, null), is several
    times faster. Anything else is left to json.dumps.
    """
    out: list[str] = []
    try:
        _write(value, "\n", out)
    except _Unusual:
        return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)
    return "".join(out)


class _Unusual(Exception):
    """A value the ledger writer does not handle itself."""


class _Record:
    """A record's value in the notes: its bytes in the previous ledger, or its JSON to
    write; `_write` leaves it in its output for `ledger_bytes` to place."""

    __slots__ = ("entry_id", "value")

    def __init__(self, entry_id: str, value: memoryview | dict[str, Any]) -> None:
        self.entry_id = entry_id
        self.value = value


def _write(value: Any, newline: str, out: list[Any]) -> None:
    kind = type(value)
    if kind is _Record:
        out.append(value)
    elif kind is str:
        out.append(encode_basestring(value))
    elif kind is dict:
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        separator = "{" + inner
        for key in sorted(value):
            if type(key) is not str:
                raise _Unusual
            out.append(separator)
            out.append(encode_basestring(key))
            out.append(": ")
            _write(value[key], inner, out)
            separator = "," + inner
        out.append(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        separator = "[" + inner
        for item in value:
            out.append(separator)
            _write(item, inner, out)
            separator = "," + inner
        out.append(newline + "]")
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        out.append(int.__repr__(value))
    else:
        raise _Unusual


def _record_json(record: NoteRecord) -> dict[str, Any]:
    data: dict[str, Any] = {
        "added": _iso(record.added),
        "changed": _iso(record.changed),
        "entry": record.entry.to_json(),
        "hash": record.hash,
    }
    if record.retired is not None:
        data["retired"] = _iso(record.retired)
    return data


def _from_json(data: Any) -> Ledger:
    if not isinstance(data, dict):
        raise TypeError("not a JSON object")
    if data.get("format") != FORMAT:
        raise ValueError(f"unknown format {data.get('format')!r}, expected {FORMAT}")
    notes = {
        str(note_id): NoteRecord(
            hash=str(raw["hash"]),
            added=seconds(raw["added"]),
            changed=seconds(raw["changed"]),
            entry=NoteSource.from_json(str(note_id), raw["entry"]),
            retired=seconds(raw["retired"]) if "retired" in raw else None,
        )
        for note_id, raw in data["notes"].items()
    }
    notetype = None
    if "notetype" in data:
        raw = data["notetype"]
        notetype = StampRecord(hash=str(raw["hash"]), changed=seconds(raw["changed"]))
    namespace = str(data["namespace"]) if "namespace" in data else None
    return Ledger(MappingProxyType(dict(sorted(notes.items()))), notetype, namespace)


# Times are written as UTC ISO 8601 so a reader of a diff sees dates, not numbers.
def _iso(moment: int) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seconds(text: Any) -> int:
    if not isinstance(text, str):
        raise TypeError(f"time {text!r} is not a string")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"time {text!r} has no time zone")
    return int(moment.timestamp())
