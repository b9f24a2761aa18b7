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

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import DamagedLedgerError, OutputError
from .notes import NoteSource

LEDGER_NAME = "anki.lock"
FORMAT = 1
ABOUT = (
    "konspekt deck ledger: when each Anki note last changed. Written by `make deck` "
    "(python build.py deck); commit it with the cards, never edit it by hand."
)


@dataclass(frozen=True)
class NoteRecord:
    """What the ledger knows about one entry's note."""

    hash: str
    added: int  # Unix seconds: when the entry first appeared; it orders note ids
    changed: int  # Unix seconds: the note's modification time in the deck
    entry: NoteSource  # the entry's content, to rebuild its note once the entry is removed
    retired: int | None = None  # Unix seconds: when the entry left the cards


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
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Ledger(), None
    except OSError as error:
        raise OutputError(f"{path}: cannot read the deck ledger: {error.strerror}") from error
    try:
        return _from_json(json.loads(text)), text
    except (ValueError, KeyError, TypeError, DamagedLedgerError) as error:
        raise DamagedLedgerError(
            f"{path}: the deck ledger is damaged ({error}); restore it from git "
            f"(git checkout -- {path}) rather than deleting it, or every note's "
            "history starts over"
        ) from error


def loads_ledger(text: str) -> Ledger:
    """The ledger in `text`, as read from a file or from git; ValueError, KeyError or
    TypeError if it is damaged."""
    return _from_json(json.loads(text))


def dumps_ledger(ledger: Ledger, previous: tuple[Ledger, str] | None = None) -> str:
    """The ledger as text: the same ledger always gives the same bytes.

    `previous` is a ledger and the text this function gave it (the caller must know
    that, see build.py): a record equal to its previous one is copied from that text
    rather than written again, the same characters in a fraction of the time.
    """
    kept = _record_texts(*previous) if previous is not None else {}
    before = previous[0].notes if previous is not None else {}
    notes: dict[str, Any] = {}
    for note_id, record in ledger.notes.items():
        text = kept.get(note_id)
        if text is not None and (before.get(note_id) is record or before.get(note_id) == record):
            notes[note_id] = _Written(text)
        else:
            notes[note_id] = _record_json(record)
    data: dict[str, Any] = {"about": ABOUT, "format": FORMAT, "notes": notes}
    if ledger.namespace is not None:
        data["namespace"] = ledger.namespace
    if ledger.notetype is not None:
        data["notetype"] = {
            "changed": _iso(ledger.notetype.changed),
            "hash": ledger.notetype.hash,
        }
    return dumps_indented(data) + "\n"


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


class _Written(str):
    """A record's value as `_write` wrote it in the previous text: copied as it is."""


_NOTES_START = '\n  "notes": {\n    "'
_RECORD_START = ',\n    "'  # record values' own lines are indented deeper


def _record_texts(ledger: Ledger, text: str) -> dict[str, str]:
    """Each record's value as it stands in `text`, which dumps_ledger(ledger) gave;
    empty if `text` is not shaped that way after all."""
    start = text.find(_NOTES_START)
    end = text.find("\n  }", start)  # the first line back at the notes' own depth
    if start < 0 or end < 0:
        return {}
    pieces = text[start + len(_NOTES_START) : end].split(_RECORD_START)
    ids = sorted(ledger.notes)  # the order _write gives them
    if len(pieces) != len(ids):
        return {}
    found: dict[str, str] = {}
    for note_id, piece in zip(ids, pieces, strict=True):
        key = encode_basestring(note_id)[1:] + ": "  # its opening quote ends _RECORD_START
        if not piece.startswith(key + "{"):
            return {}
        found[note_id] = piece[len(key) :]
    return found


def _write(value: Any, newline: str, out: list[str]) -> None:
    kind = type(value)
    if kind is _Written:
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
