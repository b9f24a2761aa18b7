"""What page generation did last time, kept so that one edit regenerates a few pages.

Two layers, each keyed by everything its value read, recorded on the code path itself:

- Linking a text: its mentions depend on the text, its page, and the linker's index only
  through the lookups the scan made, and on other entries only through what `_resolve`
  read of them (their topic and context). Linking runs on a `Linker.reading` view whose
  index and entries are recording stand-ins (`LinkRecorder`): every lookup notes its first
  word (all of a lookup's answers — `starts`, `prefixes`, `table` — come from the keys
  that begin with that word), every entry read notes what was read. A stored result is
  reused while no key beginning with a noted word changed (its targets compared by id,
  rank, case and ambiguity — not by `order`, which shifts when an entry is inserted) and
  the noted entries read the same.
- A page: `pages.Facts` notes each fact (an entry, a tooltip, backlinks…) a page reads
  while it is written; the page is reused while every noted fact reads the same, and
  its text is then the file an earlier run wrote into docs/, if its bytes still have the
  recorded digest (the cache does not keep a second copy of 80 MB of Markdown).

Everything is also keyed by the generator itself (the source of konspekt's modules, the
versions of the libraries that shape output) and by the settings every page reads. One
SQLite file; values are JSON, never pickle: a cache file in a checkout is input, and a
damaged one is dropped and rebuilt, never trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, cast

from ..link import Linker, LinkIndex, index_key
from ..model import Entry

if TYPE_CHECKING:
    from ..markdown_safe import Document

log = logging.getLogger(__name__)

CACHE_NAME = "site-pages.sqlite"
_FORMAT = "1"
# Libraries whose output lands in generated pages: linking (pymorphy3), tooltips and code
# colours (Markdown, nh3, Pygments), the site config (PyYAML).
_LIBRARIES = ("pymorphy3", "pymorphy3-dicts-ru", "Markdown", "nh3", "Pygments", "PyYAML")


def digest(*parts: str) -> str:
    hasher = hashlib.blake2b(digest_size=16)
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        hasher.update(len(data).to_bytes(8, "little"))
        hasher.update(data)
    return hasher.hexdigest()


def short_digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def bytes_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@cache
def generator_key() -> str:
    """A hash of the code that generates pages: every module of konspekt outside deck/
    (generous: an edit anywhere in them drops the cache) and the libraries' versions."""
    import konspekt

    root = Path(str(konspekt.__file__)).parent
    parts = [_FORMAT, sys.version]
    parts += [f"{name}={version(name)}" for name in _LIBRARIES]
    for path in sorted([*root.glob("*.py"), *(root / "site").glob("*.py")]):
        parts += [path.name, path.read_text("utf-8")]
    return digest(*parts)


# --- recording what linking a text read --------------------------------------------


class _Words:
    """A set of words or keys that notes the first word of every membership test."""

    __slots__ = ("_items", "_noted")

    def __init__(self, items: frozenset[object], noted: set[str]) -> None:
        self._items = items
        self._noted = noted

    def __contains__(self, item: object) -> bool:
        self._noted.add(item if isinstance(item, str) else cast(tuple[str, ...], item)[0])
        return item in self._items


class _Table:
    """The index's table, noting the first word of every key looked up."""

    __slots__ = ("_noted", "_table")

    def __init__(self, table: Mapping[tuple[str, ...], object], noted: set[str]) -> None:
        self._table = table
        self._noted = noted

    def get(self, key: tuple[str, ...]) -> object:
        self._noted.add(key[0])
        return self._table.get(key)


class _RecordingIndex:
    """What `Linker` reads of a LinkIndex while scanning, and nothing else: a new read
    fails here (AttributeError) instead of going unrecorded.

    `longest` is read unrecorded: it only bounds how far a lookup extends, and a lookup
    stops earlier at the first key that no name continues (`prefixes`), which is noted.
    """

    def __init__(self, index: LinkIndex, noted: set[str]) -> None:
        self.longest = index.longest
        self.starts = _Words(cast(frozenset[object], index.starts), noted)
        self.prefixes = _Words(cast(frozenset[object], index.prefixes), noted)
        self.table = _Table(index.table, noted)


@dataclass(frozen=True)
class _EntryView:
    """What linking reads of another entry: a new read fails here instead of going
    unrecorded."""

    id: str
    topic: str
    context: tuple[str, ...]


class _RecordingEntries:
    def __init__(self, entries: Mapping[str, Entry], noted: dict[str, str]) -> None:
        self._entries = entries
        self._noted = noted
        self._views: dict[str, tuple[_EntryView | None, str]] = {}

    def get(self, entry_id: str) -> _EntryView | None:
        found = self._views.get(entry_id)
        if found is None:
            entry = self._entries.get(entry_id)
            view = None if entry is None else _EntryView(entry.id, entry.topic, entry.context)
            found = self._views[entry_id] = (view, entry_reads(entry))
        self._noted[entry_id] = found[1]
        return found[0]


def entry_reads(entry: Entry | None) -> str:
    """The fingerprint of what linking reads of an entry (see `_EntryView`)."""
    return "" if entry is None else json.dumps([entry.id, entry.topic, entry.context])


class LinkRecorder:
    """Links texts through a view of the linker that notes what each text looked up."""

    def __init__(self, linker: Linker) -> None:
        self.words: set[str] = set()
        self.entries: dict[str, str] = {}
        self._words = self.words
        entries = {entry.id: entry for entry in linker.entries}
        self._view = linker.reading(
            cast(LinkIndex, _RecordingIndex(linker.index, self.words)),
            cast(Mapping[str, Entry], _RecordingEntries(entries, self.entries)),
        )

    def start(self) -> None:
        self.words.clear()
        self.entries.clear()

    def document(self, text: str, page: str | None) -> Document:
        return self._view.document(text, page=page)


# --- the first words whose keys changed -----------------------------------------------


def word_digests(index: LinkIndex) -> dict[str, str]:
    """For each first word of the index's keys, a digest of every key beginning with it
    and its targets (id, rank, case, ambiguity; not `order`)."""
    fields: tuple[str, ...] = ("id", "rank", "cased", "ambiguous")
    for targets in index.table.values():
        fields = targets[0]._fields  # the positions of the named fields in a target
        break
    strip = itemgetter(*(fields.index(name) for name in ("id", "rank", "cased", "ambiguous")))
    groups: dict[str, list[tuple[object, ...]]] = {}
    for key, targets in index.table.items():
        group = groups.get(key[0])
        if group is None:
            group = groups[key[0]] = []
        group.append((key, list(map(strip, targets))))
    result = {}
    for word, items in groups.items():
        items.sort()
        data = json.dumps(items, ensure_ascii=False)
        result[word] = hashlib.blake2b(data.encode("utf-8"), digest_size=12).hexdigest()
    return result


# --- the cache file -------------------------------------------------------------------


@dataclass(frozen=True)
class TextRow:
    """A text unit's linking as stored: per text, its mentions (start, end, entry id)."""

    mentions: tuple[tuple[tuple[int, int, str], ...], ...]
    words: str  # the noted first words, one per line: parsed only when keys changed
    reads: dict[str, str]  # entry id → what was read of it
    fingerprint: str  # of the unit's texts and mentions: what a page reads of them


@dataclass(frozen=True)
class PageRow:
    key: str  # digest of every fact the page read, in order, with its value
    output: str  # digest of the page's text
    facts: tuple[str, ...]  # "kind key", as `pages.Facts` notes them
    wants: tuple[str, ...]  # links to check (Links.want), as "page#anchor"


class GenerationCache:
    """The SQLite file: read whole when opened, written in one transaction by `commit`."""

    def __init__(self, path: Path, settings: str) -> None:
        self.path = path
        self.key = digest(generator_key(), settings)
        self._texts: dict[str, str] = {}
        self._pages: dict[str, str] = {}
        self._shorts: dict[str, str] = {}
        self._meta: dict[str, str] = {}
        self.new_texts: dict[str, str] = {}
        self.used_texts: set[str] = set()
        self.new_pages: dict[str, str] = {}
        self.used_pages: set[str] = set()
        self.new_shorts: dict[str, str] = {}
        self.used_shorts: set[str] = set()
        self.new_meta: dict[str, str] = {}
        self._db: sqlite3.Connection | None = None
        try:
            self._open()
        except (sqlite3.Error, OSError) as error:
            log.info("generation cache %s unreadable (%s): starting afresh", path, error)
            self._drop()

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self._db = db
        for table in ("meta", "texts", "pages", "shorts"):
            db.execute(f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, data TEXT)")
        self._meta = dict(db.execute("SELECT key, data FROM meta"))
        if self._meta.get("key") != self.key:
            self._meta = {}
            return  # another generator or settings: nothing stored is used (commit clears)
        self._texts = dict(db.execute("SELECT key, data FROM texts"))
        self._pages = dict(db.execute("SELECT key, data FROM pages"))
        self._shorts = dict(db.execute("SELECT key, data FROM shorts"))

    def _drop(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        for stale in (self.path, self.path.with_name(self.path.name + "-journal")):
            stale.unlink(missing_ok=True)
        self._meta, self._texts, self._pages, self._shorts = {}, {}, {}, {}
        try:
            self._open()
        except (sqlite3.Error, OSError) as error:
            log.warning("could not open the generation cache %s: %s", self.path, error)
            self._db = None

    # --- the linker's index

    def _same_index(self, linker: Linker) -> bool:
        """Whether the linker's index is the stored run's (`index_key` names it)."""
        if "index" not in self.new_meta:
            self.new_meta["index"] = index_key(linker.entries)
        return self._meta.get("index") == self.new_meta["index"]

    def keys_fingerprints(self, linker: Linker) -> dict[str, str]:
        """For each entry, a digest of its keys in the index (`Linker.keys_of`)."""
        if self._same_index(linker) and "keys" in self._meta:
            try:
                stored = json.loads(self._meta["keys"])
                if isinstance(stored, dict):
                    self.new_meta["keys"] = self._meta["keys"]
                    return {str(k): str(v) for k, v in stored.items()}
            except ValueError:
                pass
        found = {
            entry_id: digest(json.dumps(keys, ensure_ascii=False))
            for entry_id, keys in linker.index.keys.items()
        }
        self.new_meta["keys"] = json.dumps(found, ensure_ascii=False)
        return found

    def changed_words(self, linker: Linker) -> frozenset[str] | None:
        """The first words whose keys changed since the stored run; None: unknown (all)."""
        if self._same_index(linker) and "words" in self._meta:
            self.new_meta["words"] = self._meta["words"]
            return frozenset()
        now = word_digests(linker.index)
        self.new_meta["words"] = json.dumps(now, ensure_ascii=False)
        try:
            before = json.loads(self._meta["words"])
            if not isinstance(before, dict):
                return None
        except (KeyError, ValueError):
            return None
        return frozenset(w for w in now.keys() | before.keys() if now.get(w) != before.get(w))

    # --- linked texts

    def text(self, key: str) -> TextRow | None:
        data = self._texts.get(key)
        if data is None:
            return None
        try:
            mentions, words, reads, fingerprint = json.loads(data)
            row = TextRow(
                tuple(tuple((int(s), int(e), str(i)) for s, e, i in ms) for ms in mentions),
                str(words),
                {str(k): str(v) for k, v in reads.items()},
                str(fingerprint),
            )
        except (ValueError, TypeError, AttributeError):
            return None  # damaged: linked again
        return row

    def keep_text(self, key: str) -> None:
        self.used_texts.add(key)

    def put_text(self, key: str, row: TextRow) -> None:
        self.used_texts.add(key)
        data = [[list(m) for m in ms] for ms in row.mentions]
        self.new_texts[key] = json.dumps(
            [data, row.words, row.reads, row.fingerprint], ensure_ascii=False
        )

    # --- short definitions (their tooltips): a Markdown rendering each

    def short(self, key: str) -> str | None:
        found = self._shorts.get(key)
        if found is not None:
            self.used_shorts.add(key)
        return found

    def put_short(self, key: str, value: str) -> None:
        self.used_shorts.add(key)
        self.new_shorts[key] = value

    # --- pages

    def page(self, path: str) -> PageRow | None:
        data = self._pages.get(path)
        if data is None:
            return None
        try:
            key, output, facts, wants = json.loads(data)
            return PageRow(
                str(key), str(output), tuple(facts.split("\n")), tuple(wants.split("\n"))
            )
        except (ValueError, TypeError, AttributeError):
            return None

    def keep_page(self, path: str) -> None:
        self.used_pages.add(path)

    def put_page(self, path: str, row: PageRow) -> None:
        self.used_pages.add(path)
        facts, wants = "\n".join(row.facts), "\n".join(row.wants)
        self.new_pages[path] = json.dumps([row.key, row.output, facts, wants], ensure_ascii=False)

    def commit(self) -> None:
        """Store this run: its rows replace the file's, unused ones are dropped."""
        if self._db is None:
            return
        meta = {**self.new_meta, "key": self.key}
        try:
            db = self._db
            db.execute("BEGIN")
            if self._meta.get("key") != self.key:
                for table in ("meta", "texts", "pages", "shorts"):
                    db.execute(f"DELETE FROM {table}")
            for table, stored, used, new in (
                ("texts", self._texts, self.used_texts, self.new_texts),
                ("pages", self._pages, self.used_pages, self.new_pages),
                ("shorts", self._shorts, self.used_shorts, self.new_shorts),
            ):
                stale = [(key,) for key in stored if key not in used]
                db.executemany(f"DELETE FROM {table} WHERE key=?", stale)
                _replace(db, table, new.items())
            _replace(db, "meta", meta.items())
            db.execute("COMMIT")
        except (sqlite3.Error, OSError) as error:
            log.warning("could not save the generation cache: %s", error)
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
        finally:
            self._db.close()
            self._db = None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _replace(db: sqlite3.Connection, table: str, rows: Iterable[tuple[str, str]]) -> None:
    db.executemany(f"INSERT OR REPLACE INTO {table} (key, data) VALUES (?, ?)", rows)


def settings_key(directory_urls: bool) -> str:
    """The settings every cached page reads: the URLs its links use."""
    return json.dumps({"directory_urls": directory_urls})


def words_text(words: Sequence[str]) -> str:
    return "\n".join(sorted(words))
