"""The note memo: each note's hash, kept per card file read, for a build after an edit.

Making every entry's NoteSource and hashing it (JSON and sha256) was a third of a deck
build after one edit at 5,000 entries, though an edit changes one card file. A note's
hash is a function of what it is made from: its entry and topic, its masked question,
its images, the terms of the entries it relates to, the deck's site URL and tag root,
and the code that makes and hashes it. So the memo keeps, per card file, each entry's
id, related terms and hash under

- the read cache's key of the file's bytes (`Topic.read_key`): the entries and topic,
  exactly, as the reader gave them;
- a key of the rest (`memo_key`): the question cache's key (every name of the glossary
  and the masking and linking code: what a masked question depends on besides its
  text, which is in the file), the hashes of every image of the cards, the site URL
  and tag root, and the source of the modules that make and hash a note;

and a note's related terms are compared as they are now (they come from other files).
Anything else is a miss: the note is made and hashed as without the memo. Beside it,
the linker's index key of the glossary (what the question cache's key is made from: a
hash of every entry's names, 15 ms at 5,000 entries) is kept under the card files'
read keys in order and the linking code (`reads_key`). A missing, damaged or foreign
memo is simply not used; it is JSON, checked as it is read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import BuildError
from ..model import Glossary
from ..output import write_file

log = logging.getLogger(__name__)

MEMO_NAME = "deck-note-hashes.json"

# One entry's memo: its id, the terms of the entries it relates to, its note hash.
Known = tuple[str, tuple[str, ...], str]
# A card file's read key → its entries' memos, in the file's order.
Memo = Mapping[str, tuple[Known, ...]]


@cache
def _code_key() -> str:
    """The source of the modules that make a NoteSource and hash a note."""
    from .. import media
    from . import notes, options, plan

    digest = hashlib.sha256(sys.version.encode())
    for module_file in (__file__, notes.__file__, media.__file__, options.__file__, plan.__file__):
        digest.update(Path(str(module_file)).read_bytes())
    return digest.hexdigest()[:24]


def memo_key(
    questions_key: str, site_url: str | None, tag_root: str, media_hashes: Mapping[str, str]
) -> str:
    """The key of what a note's hash depends on besides its card file and related terms;
    "" (no memo) without the question cache's key, as when there is no cache folder."""
    if not questions_key:
        return ""
    data = [_code_key(), questions_key, site_url, tag_root, sorted(media_hashes.items())]
    text = json.dumps(data, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def reads_key(glossary: Glossary) -> str:
    """A key of every card file's read, in the glossary's order, and of the linking code:
    the linker's index key (`link.index_key`, a hash of every entry's names) is a
    function of it; "" if a topic was not read with the read cache."""
    if not all(topic.read_key for topic in glossary.topics):
        return ""
    from ..link import code_key

    text = "\n".join([code_key(), *(topic.read_key for topic in glossary.topics)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class StoredMemo:
    """The memo as read: the key it was kept under, and its card files' memos; and the
    linker's index key of the glossary with the `reads_key` it was kept under."""

    key: str = ""
    files: Memo = field(default_factory=dict)
    index: tuple[str, str] = ("", "")  # (reads_key, index key)

    def index_key(self, reads: str) -> str | None:
        """The linker's index key of the glossary with this `reads_key`, if kept."""
        return self.index[1] if reads and self.index[0] == reads else None

    def under(self, key: str) -> Memo:
        """The memos, if they were kept under `key`; none otherwise."""
        return self.files if key and self.key == key else {}


def read_memo(cache_dir: Path | None) -> StoredMemo:
    """The memo kept in `cache_dir`; empty if there is none (or it is damaged)."""
    if cache_dir is None:
        return StoredMemo()
    try:
        data = json.loads((cache_dir / MEMO_NAME).read_bytes())
    except (OSError, ValueError):
        return StoredMemo()
    if type(data) is not dict or type(data.get("key")) is not str:
        return StoredMemo()
    raw = data.get("files")
    if type(raw) is not dict:
        return StoredMemo()
    files: dict[str, tuple[Known, ...]] = {}
    for read_key, value in raw.items():
        known = _file(value)
        if known is not None:
            files[read_key] = known
    index = data.get("index")
    if type(index) is not list or len(index) != 2 or not all(type(v) is str for v in index):
        index = ["", ""]
    return StoredMemo(data["key"], files, (index[0], index[1]))


def _file(raw: Any) -> tuple[Known, ...] | None:
    """A file's memos as kept; None (not used) unless exactly that shape."""
    if type(raw) is not list:
        return None
    known = []
    for item in raw:
        if type(item) is not list or len(item) != 3:
            return None
        entry_id, related, digest = item
        if type(entry_id) is not str or type(digest) is not str or type(related) is not list:
            return None
        if not all(type(term) is str for term in related):
            return None
        known.append((entry_id, tuple(related), digest))
    return tuple(known)


def write_memo(
    cache_dir: Path | None,
    key: str,
    memo: Memo,
    stored: StoredMemo,
    index: tuple[str, str] = ("", ""),
) -> None:
    """Keep `memo` (this build's card files') under `key`, and `index` (a `reads_key` and
    the linker's index key of that glossary), unless that is what is stored."""
    if cache_dir is None or not key:
        return
    if stored.key == key and stored.files == memo and stored.index == index:
        return
    files = {
        read_key: [[entry_id, list(related), digest] for entry_id, related, digest in known]
        for read_key, known in memo.items()
    }
    data = {"key": key, "index": list(index), "files": files}
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        write_file(cache_dir / MEMO_NAME, text.encode("utf-8"))
    except (BuildError, OSError, UnicodeEncodeError) as error:  # a cache: the deck is written
        log.warning("could not save the note memo: %s", error)
