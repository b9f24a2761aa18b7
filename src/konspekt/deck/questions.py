"""The «definition → term» card's question: the entry's clue with its names masked.

Masking needs the linker's index (every form of every name), and loading even a cached
index is a large part of a deck build that only re-renders one edited note. So what
masking produced is kept in the project's cache, per entry, with the texts it read,
under a key of everything else it reads: a hash of every entry's names and of the
linking code and dictionary (`memo.names_key`: it changes whenever the linker's index
key does, see link.py) and the masking code. While that key holds and an entry's
question text and topic title are the ones it was masked from, its masked question is
reused. Under the same key an entry's names (`Linker.keys_of`) are the same too, so
they are kept beside: an edited question is masked with them. When they are not kept
(the names changed, or no build kept them), masking needs only the entry's own keys,
not the index of every entry: they are made one entry at a time (`EntryKeys`, whose
kept keys spare inflecting the names that did not change). A missing or unreadable
cache only means masking everything again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import BuildError
from ..link import EntryKeys, Key, Linker
from ..mask import Masker
from ..model import Entry, Glossary, Topic
from ..output import write_file
from ..ru import russian
from .memo import names_key

log = logging.getLogger(__name__)

CACHE_NAME = "deck-questions.jsonl"
# A line per record: first {"key": ...}, then [id, text, title, masked, topic] per entry,
# a later line standing for an earlier one of the same id. An edit appends a line or two
# instead of writing 3 MB again (5,000 entries); the file is written anew under another
# key, or once most of its lines are stale. A line cut short (or damaged) is skipped: its
# entry is masked again.
# + the key + ".txt": each entry's names (`Linker.keys_of`) under that key, a line per
# entry (its id and its keys, each as JSON, a tab between): an edit needs one entry's
# line, found in the bytes without parsing the 10 MB of the others (5,000 entries).
NAMES_PREFIX = "deck-names-"
NAMES_SUFFIX = ".txt"


@dataclass(frozen=True)
class Question:
    """An entry's question as masking leaves it."""

    text: str  # card Markdown, every name of the entry replaced by MASK
    topic: str | None  # the topic label, None when it names the answer


# entry id → (question text before masking, topic title, the Question)
_Masked = dict[str, tuple[str, str, Question]]


class Questions:
    """Every entry's masked question; names are inflected only for what the cache lacks.

    `linker` is the glossary's when the caller has one (the site links pages with it);
    otherwise an entry whose question and names are not kept has its keys made alone
    (`EntryKeys.own`), as the linker's index would list them.
    """

    def __init__(
        self,
        glossary: Glossary,
        linker: Linker | None = None,
        cache_dir: Path | None = None,
        names: str | None = None,
    ) -> None:
        """`names`, if the caller knows it, is `memo.names_key(glossary, ...)`: a key of
        every name of the glossary and the linking code."""
        self._glossary = glossary
        self._linker = linker
        self._cache_dir = cache_dir
        self._key = ""
        if cache_dir is not None:
            self._key = f"{names or names_key(glossary, {})[0]}-{_masking_code()}"
        self._previous, self._records = _read(cache_dir, self._key)
        self._names: bytes | None = None  # read at the first miss
        # Without a linker: the keys of entries masked here, made one entry at a time.
        self._known: EntryKeys | None = None
        self._made: dict[str, tuple[Key, ...]] = {}
        self._current: _Masked = {}
        self._kept: set[str] = set()  # entries whose kept record stands, not asked for
        self.masked = 0  # questions masked by this build; the others came from the cache

    def of(self, entry: Entry, text: str, topic: Topic) -> Question:
        """`text` (the entry's clue or definition, as the note shows it) masked."""
        hit = self._previous.get(entry.id)
        if hit is not None and hit[0] == text and hit[1] == topic.title:
            question = hit[2]
        else:
            question = mask_question(self._masker(entry), text, topic)
            self.masked += 1
        self._current[entry.id] = (text, topic.title, question)
        return question

    @property
    def key(self) -> str:
        """What a masked question depends on besides its text and topic title (every
        name of the glossary, the linking and masking code); "" without a cache folder."""
        return self._key

    def keep(self, entry_id: str) -> None:
        """Keep the entry's kept question for the next build without asking for it: a
        caller that knows the entry is unchanged (memo.py) needs nothing from it."""
        if entry_id in self._previous:
            self._kept.add(entry_id)  # (its record is parsed only if the file is rewritten)

    def _masker(self, entry: Entry) -> Masker:
        if self._linker is not None:
            return Masker.of(self._linker, entry.id)
        if self._names is None:
            self._names = _read_names(self._cache_dir, self._key)
        keys = _names_of(self._names, entry.id)
        return Masker.of_keys(self._own_keys(entry) if keys is None else keys)

    def _own_keys(self, entry: Entry) -> tuple[Key, ...]:
        """The entry's keys, made here (its kept keys are in `EntryKeys`' file, if any)."""
        keys = self._made.get(entry.id)
        if keys is None:
            if self._known is None:
                cache_dir = self._cache_dir
                self._known = EntryKeys() if cache_dir is None else EntryKeys.in_cache(cache_dir)
            keys = self._made[entry.id] = self._known.own(russian(), entry)
        return keys

    def save(self) -> None:
        """Keep this build's questions for the next, and the entries' names if they were
        made or the linker was given and they are not kept yet; only what changed is
        written. The keys made here are kept too, once every entry's were (`_save_keys`)."""
        if self._cache_dir is None:
            return
        names_path = self._cache_dir / f"{NAMES_PREFIX}{self._key}{NAMES_SUFFIX}"
        try:
            if (self._linker is not None or self._made) and not names_path.exists():
                linker = self._linker
                names = "".join(
                    f"{_id_json(entry.id)}\t"
                    + json.dumps(
                        linker.keys_of(entry.id) if linker else list(self._own_keys(entry)),
                        ensure_ascii=False,
                    )
                    + "\n"
                    for entry in self._glossary.entries
                )
                for old in self._cache_dir.glob(f"{NAMES_PREFIX}*"):
                    old.unlink(missing_ok=True)  # one is kept: the current names'
                write_file(names_path, ("\n" + names).encode("utf-8"))
            self._save_keys(self._cache_dir)
            new = [
                entry_id
                for entry_id, value in self._current.items()
                if self._previous.get(entry_id) != value
            ]
            kept = {entry_id: None for entry_id in self._kept if entry_id not in self._current}
            current = len(self._current) + len(kept)
            append = self._records > 0 and self._records + len(new) <= 2 * current
            if append and not new:
                return
            lines = [] if append else [json.dumps({"key": self._key}) + "\n"]
            for entry_id in new if append else sorted(self._current.keys() | kept.keys()):
                value = self._current.get(entry_id) or self._previous.get(entry_id)
                if value is None:
                    continue  # (a kept record that turned out damaged: masked again next time)
                text, title, question = value
                record = [entry_id, text, title, question.text, question.topic]
                lines.append(json.dumps(record, ensure_ascii=False) + "\n")
            data = "".join(lines).encode("utf-8")
            if append:
                with (self._cache_dir / CACHE_NAME).open("ab") as file:
                    file.write(data)
            else:
                write_file(self._cache_dir / CACHE_NAME, data)
                (self._cache_dir / "deck-questions.json").unlink(missing_ok=True)  # its old form
        except (BuildError, OSError) as error:  # a cache: the deck is already written
            log.warning("could not save the question cache: %s", error)

    def _save_keys(self, cache_dir: Path) -> None:
        # The kept keys' file holds the entries that asked for them: one glossary's
        # entries, all of them only if every entry was asked (a few edited questions
        # would leave the others out and the site's next index would inflect them again).
        if self._known is not None and len(self._made) == len(self._glossary.entries):
            self._known.save(cache_dir)


def mask_question(masker: Masker, text: str, topic: Topic) -> Question:
    """The question `text` with the entry's names masked; the topic label unless it
    names the answer."""
    return Question(masker.mask(text), None if masker.spans(topic.title) else topic.title)


@cache
def _masking_code() -> str:
    """A hash of the masking code; the linking code it calls is in the index key."""
    from .. import mask
    from . import questions

    digest = hashlib.sha256()
    for module in (mask, questions):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:16]


def _keys(text: str) -> list[tuple[str, ...]] | None:
    """Keys kept by `Questions.save`; None if they are not exactly that shape."""
    try:
        keys = json.loads(text)
    except ValueError:
        return None
    if not isinstance(keys, list) or not all(
        isinstance(key, list) and all(isinstance(word, str) for word in key) for key in keys
    ):
        return None
    return [tuple(key) for key in keys]


def _read(cache_dir: Path | None, key: str) -> tuple[_Kept, int]:
    """The kept questions under `key`, and how many record lines the file has."""
    if cache_dir is None:
        return _Kept([]), 0
    try:
        lines = (cache_dir / CACHE_NAME).read_bytes().split(b"\n")
        if json.loads(lines[0]) != {"key": key}:
            return _Kept([]), 0
    except (OSError, ValueError):
        return _Kept([]), 0
    body = [line for line in lines[1:] if line]
    return _Kept(body), len(body)


class _Kept:
    """The kept questions by entry id, each record's line parsed when it is asked for: a
    build after an edit asks for one card file's (the note memo stands for the others),
    where parsing every line was a tenth of the build (5,000 entries)."""

    def __init__(self, lines: list[bytes]) -> None:
        self._lines: dict[str, bytes] = {}  # a later line stands for an earlier one
        for line in lines:
            entry_id = _line_id(line)
            if entry_id is not None:
                self._lines[entry_id] = line
        self._parsed: dict[str, tuple[str, str, Question] | None] = {}

    def __contains__(self, entry_id: str) -> bool:
        return entry_id in self._lines

    def get(self, entry_id: str) -> tuple[str, str, Question] | None:
        """The entry's kept (question text, topic title, Question); None if none, or
        its line is damaged."""
        if entry_id not in self._parsed:
            line = self._lines.get(entry_id)
            self._parsed[entry_id] = None if line is None else _record(line, entry_id)
        return self._parsed[entry_id]


def _line_id(line: bytes) -> str | None:
    """The entry id a record's line starts with: read off its first string when that has
    no escapes (an id never does), else from the parsed line; `_record` checks it."""
    end = line.find(b'"', 2)
    if line.startswith(b'["') and end > 2 and line[end + 1 : end + 2] == b",":
        candidate = line[2:end]
        if b"\\" not in candidate:
            try:
                return candidate.decode("utf-8")
            except UnicodeDecodeError:
                return None
    record = _line(line)
    if type(record) is list and record and type(record[0]) is str:
        return record[0]
    return None


def _record(line: bytes, entry_id: str) -> tuple[str, str, Question] | None:
    record = _line(line)
    if type(record) is not list or len(record) != 5 or record[0] != entry_id:
        return None
    _, text, title, masked, topic = record
    if not all(isinstance(value, str) for value in (text, title, masked)):
        return None
    if topic is not None and not isinstance(topic, str):
        return None
    return text, title, Question(masked, topic)


def _line(line: bytes) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None  # cut short or damaged: its entry is masked again


def _read_names(cache_dir: Path | None, key: str) -> bytes:
    if cache_dir is None:
        return b""
    try:
        return (cache_dir / f"{NAMES_PREFIX}{key}{NAMES_SUFFIX}").read_bytes()
    except OSError:
        return b""


def _id_json(entry_id: str) -> str:
    # JSON escapes tabs and line breaks: an id's text never spans the line's separators.
    return json.dumps(entry_id, ensure_ascii=False)


def _names_of(names: bytes, entry_id: str) -> list[tuple[str, ...]] | None:
    """The entry's keys in the names file's bytes; None if it has none, or not those."""
    start = f"\n{_id_json(entry_id)}\t".encode()
    at = names.find(start)
    if at < 0:
        return None
    at += len(start)
    end = names.find(b"\n", at)
    try:
        return _keys(names[at : end if end >= 0 else len(names)].decode("utf-8"))
    except UnicodeDecodeError:
        return None
