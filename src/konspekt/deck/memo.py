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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import BuildError
from ..model import Glossary
from ..output import write_file

log = logging.getLogger(__name__)

# One entry's memo: its id, the terms of the entries it relates to, its note hash and
# its note's GUID (a function of the id and the deck's namespace, in the key).
Known = tuple[str, tuple[str, ...], str, str]
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
    questions_key: str,
    site_url: str | None,
    tag_root: str,
    media_hashes: Mapping[str, str],
    namespace: str = "",
) -> str:
    """The key of what a note's hash depends on besides its card file and related terms;
    "" (no memo) without the question cache's key, as when there is no cache folder."""
    if not questions_key:
        return ""
    data = [_code_key(), questions_key, site_url, tag_root, sorted(media_hashes.items())]
    data.append(namespace)  # (the GUIDs')
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
    """The memo as read: per card file read (its read key), the key its memos were kept
    under and the memos; and the linker's index key of the glossary with the
    `reads_key` it was kept under."""

    files: Mapping[str, tuple[str, tuple[Known, ...]]] = field(default_factory=dict)
    index: tuple[str, str] = ("", "")  # (reads_key, index key)

    @classmethod
    def kept(cls, key: str, memo: Memo, index: tuple[str, str] = ("", "")) -> StoredMemo:
        """What `write_memo(..., key, memo, ..., index)` keeps."""
        return cls({read_key: (key, known) for read_key, known in memo.items()}, index)

    def index_key(self, reads: str) -> str | None:
        """The linker's index key of the glossary with this `reads_key`, if kept."""
        return self.index[1] if reads and self.index[0] == reads else None

    def under(self, key: str) -> Memo:
        """The memos kept under `key`."""
        if not key:
            return {}
        return {read_key: known for read_key, (kept, known) in self.files.items() if kept == key}


# A file per card file read, named by its read key: an edit rewrites one small file.
MEMO_FOLDER = "deck-notes"
_INDEX_NAME = "index.json"


def read_memo(cache_dir: Path | None, read_keys: Iterable[str]) -> StoredMemo:
    """The memos kept in `cache_dir` of the card files read with these keys; a missing
    or damaged file is no memo."""
    if cache_dir is None:
        return StoredMemo()
    folder = cache_dir / MEMO_FOLDER
    files: dict[str, tuple[str, tuple[Known, ...]]] = {}
    for read_key in read_keys:
        if not _file_name(read_key):
            continue
        data = _json(folder / f"{read_key}.json")
        if type(data) is not dict or type(data.get("key")) is not str:
            continue
        known = _file(data.get("notes"))
        if known is not None:
            files[read_key] = (data["key"], known)
    index = _json(folder / _INDEX_NAME)
    if type(index) is not list or len(index) != 2 or not all(type(v) is str for v in index):
        index = ["", ""]
    return StoredMemo(files, (index[0], index[1]))


def _file_name(read_key: str) -> bool:
    """Whether a read key can name a file here (read keys are hex digests)."""
    return bool(read_key) and read_key.isascii() and read_key.isalnum()


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def _file(raw: Any) -> tuple[Known, ...] | None:
    """A file's memos as kept; None (not used) unless exactly that shape."""
    if type(raw) is not list:
        return None
    known = []
    for item in raw:
        if type(item) is not list or len(item) != 4:
            return None
        entry_id, related, digest, guid = item
        if type(entry_id) is not str or type(digest) is not str or type(related) is not list:
            return None
        if type(guid) is not str or not all(type(term) is str for term in related):
            return None
        known.append((entry_id, tuple(related), digest, guid))
    return tuple(known)


def write_memo(
    cache_dir: Path | None,
    key: str,
    memo: Memo,
    stored: StoredMemo,
    index: tuple[str, str] = ("", ""),
) -> None:
    """Keep `memo` (this build's card files') under `key`, and `index` (a `reads_key` and
    the linker's index key of that glossary): only what differs from what is stored is
    written, and the memos of card files no longer read are removed."""
    if cache_dir is None or not key:
        return
    folder = cache_dir / MEMO_FOLDER
    try:
        written = False
        for read_key, known in memo.items():
            if not _file_name(read_key) or stored.files.get(read_key) == (key, known):
                continue
            notes = [
                [entry_id, list(related), digest, guid] for entry_id, related, digest, guid in known
            ]
            text = json.dumps({"key": key, "notes": notes}, ensure_ascii=False)
            write_file(folder / f"{read_key}.json", text.encode("utf-8"))
            written = True
        if stored.index != index:
            write_file(folder / _INDEX_NAME, json.dumps(list(index)).encode("utf-8"))
        if written:  # (a card file read anew: the memo of its earlier read goes)
            for path in folder.iterdir():
                if path.name != _INDEX_NAME and path.stem not in memo:
                    path.unlink(missing_ok=True)
    except (BuildError, OSError, UnicodeEncodeError) as error:  # a cache: the deck is written
        log.warning("could not save the note memo: %s", error)
