"""The «definition → term» card's question: the entry's clue with its names masked.

Masking needs the linker's index (every form of every name), and loading even a cached
index is a large part of a deck build that only re-renders one edited note. So what
masking produced is kept in the project's cache, per entry, with the texts it read,
under a key of everything else it reads: a hash of every entry's names and of the
linking code and dictionary (`memo.names_key`: it changes whenever the linker's index
key does, see link.py) and the masking code. While that key holds and an entry's
question text and topic title are the ones it was masked from, its masked question is
reused. Under the same key an entry's names (`Linker.keys_of`) are the same too, so
they are kept beside: an edited question is masked with them, and the linker is loaded
only when the names change. A missing or unreadable cache only means masking
everything again.
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
from ..link import Linker
from ..mask import Masker
from ..model import Entry, Glossary, Topic
from ..output import write_file
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
    """Every entry's masked question; the linker is loaded only for what the cache lacks.

    `linker` is the glossary's when the caller has one (the site links pages with it);
    otherwise `Linker.for_glossary(glossary, cache_dir)` is called at the first miss
    whose entry's names are not kept.
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
        self._current: _Masked = {}
        self._kept: set[str] = set()  # entries whose kept record stands, not asked for
        self.masked = 0  # questions masked by this build; the others came from the cache

    def linker(self) -> Linker:
        if self._linker is None:
            # Its index is kept for the next build by `save`, which the deck runs beside
            # packaging, not here, before the questions can be masked.
            self._linker = Linker.for_glossary(self._glossary, self._cache_dir, save=False)
        return self._linker

    def of(self, entry: Entry, text: str, topic: Topic) -> Question:
        """`text` (the entry's clue or definition, as the note shows it) masked."""
        hit = self._previous.get(entry.id)
        if hit is not None and hit[0] == text and hit[1] == topic.title:
            question = hit[2]
        else:
            question = mask_question(self._masker(entry.id), text, topic)
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

    def _masker(self, entry_id: str) -> Masker:
        if self._linker is None:
            if self._names is None:
                self._names = _read_names(self._cache_dir, self._key)
            keys = _names_of(self._names, entry_id)
            if keys is not None:
                return Masker.of_keys(keys)
        return Masker.of(self.linker(), entry_id)

    def save(self) -> None:
        """Keep this build's questions for the next, and the entries' names if the
        linker was loaded and they are not kept yet; only what changed is written. The
        linker's index, if built here, is kept too (`Linker.save_index`)."""
        if self._cache_dir is None:
            return
        if self._linker is not None:
            self._linker.save_index()
        names_path = self._cache_dir / f"{NAMES_PREFIX}{self._key}{NAMES_SUFFIX}"
        try:
            if self._linker is not None and not names_path.exists():
                names = "".join(
                    f"{_id_json(entry.id)}\t"
                    f"{json.dumps(self._linker.keys_of(entry.id), ensure_ascii=False)}\n"
                    for entry in self._glossary.entries
                )
                for old in self._cache_dir.glob(f"{NAMES_PREFIX}*"):
                    old.unlink(missing_ok=True)  # one is kept: the current names'
                write_file(names_path, ("\n" + names).encode("utf-8"))
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
