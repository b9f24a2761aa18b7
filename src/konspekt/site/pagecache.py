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
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
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
    """What linking reads of an entry (see `_EntryView`), as one string."""
    return "" if entry is None else json.dumps([entry.id, entry.topic, entry.context])


class LinkRecorder:
    """Links texts through a view of the linker that notes what each text looked up."""

    def __init__(self, linker: Linker) -> None:
        self.words: set[str] = set()
        self.entries: dict[str, str] = {}
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
    table = index.table
    fields: tuple[str, ...] = ("id", "rank", "order", "cased", "ambiguous")
    for targets in table.values():
        fields = targets[0]._fields  # the positions of the named fields in a target
        break
    at = {name: fields.index(name) for name in ("id", "rank", "cased", "ambiguous")}
    ident, rank, cased, ambiguous = at["id"], at["rank"], at["cased"], at["ambiguous"]
    result: dict[str, str] = {}
    current: str | None = None
    parts: list[str] = []
    # Keys sorted: a word's keys are together, and in one order in every process. No word
    # or separator holds a control character: US, RS and GS delimit unambiguously.
    for key in sorted(table):
        if key[0] != current:
            if current is not None:
                result[current] = short_digest("\x1e".join(parts))
            current, parts = key[0], []
        parts.append("\x1f".join(key))
        for t in table[key]:
            words = cast(tuple[str, ...] | None, t[cased])
            case = "-" if words is None else "\x1f".join(words)
            parts.append(f"{t[ident]}\x1d{t[rank]}\x1d{t[ambiguous]}\x1d{case}")
    if current is not None:
        result[current] = short_digest("\x1e".join(parts))
    return result


# --- the cache file -------------------------------------------------------------------


@dataclass(frozen=True)
class TextRow:
    """A text unit's linking as stored: plain strings, split only when needed."""

    fingerprint: str  # of the unit's texts and mentions: what a page reads of them
    ids: str  # the entries the unit mentions, in order of first mention, space-separated
    reads: str  # the entries linking read (see `_EntryView`), space-separated
    words: str  # the first words of the lookups, one per line
    mentions: str  # JSON: per text, a JSON string of its [start, end, id] mentions


@dataclass(frozen=True)
class PageRow:
    output: str  # digest of the page's bytes
    facts: str  # every fact the page read, "kind key", one per line (see `pages.Facts`)
    wants: str  # the links it made, "page#anchor", one per line (see `Links.want`)


_TABLES = {
    "meta": "data",
    "texts": "fingerprint, ids, reads, words, mentions",
    "pages": "output, facts, wants",
    "shorts": "data",
}
# The columns read when the file is opened; the others only when a run needs them.
_READ = {"meta": "data", "texts": "fingerprint, ids", "pages": "output, facts, wants",
         "shorts": "data"}  # fmt: skip


class GenerationCache:
    """The SQLite file: read whole when opened, written in one transaction by `commit`.

    What a run uses it notes (`keep_*`, `put_*`); the rest is dropped on commit.
    """

    def __init__(self, path: Path, settings: str) -> None:
        self.path = path
        self.key = digest(generator_key(), settings)
        self._meta: dict[str, str] = {}
        self._rows: dict[str, dict[str, tuple[str, ...]]] = {t: {} for t in _TABLES}
        self._new: dict[str, dict[str, tuple[str, ...]]] = {t: {} for t in _TABLES}
        self._used: dict[str, set[str]] = {t: set() for t in _TABLES}
        self.new_meta: dict[str, str] = {}
        self._columns: dict[str, dict[str, str]] = {}
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
        for table, columns in _TABLES.items():
            db.execute(f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, {columns})")
        meta = {key: data for key, data in db.execute("SELECT key, data FROM meta")}
        if meta.get("key") != self.key:
            return  # another generator or settings: nothing stored is used (commit clears)
        self._meta = meta
        for table, columns in _READ.items():
            rows = db.execute(f"SELECT key, {columns} FROM {table}")
            self._rows[table] = {row[0]: row[1:] for row in rows}

    def _column(self, column: str) -> dict[str, str]:
        """One column of every stored text, read when first needed."""
        if column not in self._columns:
            found: dict[str, str] = {}
            if self._db is not None and self._meta:
                rows = self._db.execute(f"SELECT key, {column} FROM texts")
                found = {key: value for key, value in rows if type(value) is str}
            self._columns[column] = found
        return self._columns[column]

    def stored_mentions(self, key: str) -> str:
        """A stored text unit's mentions (see `TextRow`); "" if there are none."""
        row = None
        if self._db is not None and self._meta:
            row = self._db.execute("SELECT mentions FROM texts WHERE key=?", (key,)).fetchone()
        return row[0] if row is not None and type(row[0]) is str else ""

    def _drop(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        for stale in (self.path, self.path.with_name(self.path.name + "-journal")):
            stale.unlink(missing_ok=True)
        self._meta = {}
        self._rows = {t: {} for t in _TABLES}
        try:
            self._open()
        except (sqlite3.Error, OSError) as error:
            log.warning("could not open the generation cache %s: %s", self.path, error)
            self._db = None

    def _row(self, table: str, key: str, width: int) -> tuple[str, ...] | None:
        row = self._rows[table].get(key)
        if row is None or len(row) != width or not all(type(v) is str for v in row):
            return None  # none, or damaged: made again
        return row

    def meta(self, name: str) -> object:
        """A stored JSON value of this run's kind; None if there is none (or it is damaged)."""
        data = self._meta.get(name)
        if data is None:
            return None
        try:
            return json.loads(data)
        except ValueError:
            return None

    def put_meta(self, name: str, value: object) -> None:
        self.new_meta[name] = json.dumps(value, ensure_ascii=False)

    # --- the linker's index

    def _same_index(self, linker: Linker) -> bool:
        """Whether the linker's index is the stored run's (`index_key` names it)."""
        if "index" not in self.new_meta:
            self.put_meta("index", index_key(linker.entries))
        return self._meta.get("index") == self.new_meta["index"]

    def keys_fingerprints(self, linker: Linker) -> dict[str, str]:
        """For each entry, a digest of its keys in the index (`Linker.keys_of`)."""
        stored = self.meta("keys")
        if self._same_index(linker) and isinstance(stored, dict):
            self.new_meta["keys"] = self._meta["keys"]
            return {str(k): str(v) for k, v in stored.items()}
        found = {
            entry_id: short_digest("\x1e".join("\x1f".join(key) for key in keys))
            for entry_id, keys in linker.index.keys.items()
        }
        self.put_meta("keys", found)
        return found

    def changed_words(self, linker: Linker) -> frozenset[str] | None:
        """The first words whose keys changed since the stored run; None: unknown (all)."""
        if self._same_index(linker) and "words" in self._meta:
            self.new_meta["words"] = self._meta["words"]
            return frozenset()
        now = word_digests(linker.index)
        self.put_meta("words", now)
        before = self.meta("words")
        if not isinstance(before, dict):
            return None
        return frozenset(w for w in now.keys() | before.keys() if now.get(w) != before.get(w))

    def changed_entries(self, reads: dict[str, str]) -> frozenset[str] | None:
        """The entries whose `entry_reads` changed since the stored run; None: unknown."""
        self.put_meta("reads", reads)
        before = self.meta("reads")
        if not isinstance(before, dict):
            return None
        return frozenset(i for i in reads.keys() | before.keys() if reads.get(i) != before.get(i))

    # --- linked texts

    def text(self, key: str) -> tuple[str, str] | None:
        """A stored text unit's fingerprint and ids (see `TextRow`)."""
        row = self._row("texts", key, 2)
        return None if row is None else (row[0], row[1])

    def words(self, key: str) -> str:
        return self._column("words").get(key, "")

    def reads(self, key: str) -> str:
        return self._column("reads").get(key, "")

    def keep_text(self, key: str) -> None:
        self._used["texts"].add(key)

    def put_text(self, key: str, row: TextRow) -> None:
        self._used["texts"].add(key)
        self._new["texts"][key] = (row.fingerprint, row.ids, row.reads, row.words, row.mentions)

    # --- short definitions (their tooltips): a Markdown rendering each

    def short(self, key: str) -> str | None:
        row = self._row("shorts", key, 1)
        if row is None:
            return None
        self._used["shorts"].add(key)
        return row[0]

    def put_short(self, key: str, value: str) -> None:
        self._used["shorts"].add(key)
        self._new["shorts"][key] = (value,)

    # --- pages

    def page(self, path: str) -> PageRow | None:
        row = self._row("pages", path, 3)
        return None if row is None else PageRow(*row)

    def keep_page(self, path: str) -> None:
        self._used["pages"].add(path)

    def put_page(self, path: str, row: PageRow) -> None:
        self._used["pages"].add(path)
        self._new["pages"][path] = (row.output, row.facts, row.wants)

    def commit(self) -> None:
        """Store this run: its rows replace the file's, unused ones are dropped."""
        pages, texts = self._used["pages"], self._used["texts"]
        log.info(
            "generation cache: %d of %d pages reused, %d of %d texts reused",
            len(pages) - len(self._new["pages"]),
            len(pages),
            len(texts) - len(self._new["texts"]),
            len(texts),
        )
        if self._db is None:
            return
        meta = {**self.new_meta, "key": self.key}
        db = self._db
        try:
            db.execute("BEGIN")
            if self._meta.get("key") != self.key:
                for table in _TABLES:
                    db.execute(f"DELETE FROM {table}")
            else:
                db.execute("DELETE FROM meta")
            for table, columns in _TABLES.items():
                if table == "meta":
                    continue
                used = self._used[table]
                stale = [(key,) for key in self._rows[table] if key not in used]
                db.executemany(f"DELETE FROM {table} WHERE key=?", stale)
                marks = ", ".join("?" * (columns.count(",") + 2))
                db.executemany(
                    f"INSERT OR REPLACE INTO {table} (key, {columns}) VALUES ({marks})",
                    [(key, *row) for key, row in self._new[table].items()],
                )
            db.executemany("INSERT INTO meta (key, data) VALUES (?, ?)", meta.items())
            db.execute("COMMIT")
        except (sqlite3.Error, OSError) as error:
            log.warning("could not save the generation cache: %s", error)
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
        finally:
            self.close()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def settings_key(directory_urls: bool, index_split: int | None) -> str:
    """The settings cached pages read: the URLs their links use, and the size above
    which the index is split (None: never)."""
    return json.dumps({"directory_urls": directory_urls, "index_split": index_split})
