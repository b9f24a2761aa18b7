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
Anything else is a miss: the note is made and hashed as without the memo. Beside them,
each file's record keeps a hash of its entries' names (`topic_names`, under the linking
code's key): the question cache's key is made of those (`names_key`), so an edit hashes
the names of one file, not of 5,000 entries. A missing, damaged or foreign memo is
simply not used; it is JSON, checked as it is read (a file per card file read).
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
from ..model import Glossary, Topic
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


def topic_names(topic: Topic) -> str:
    """A hash of what the linker's index is made from in this topic: each entry's id and
    name fields (`link._name_fields`, link.py's own list), as `link.index_key` hashes
    them for the whole glossary."""
    from ..link import _name_fields

    names = [[entry.id, *_name_fields(entry)] for entry in topic.entries]
    text = json.dumps(names, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def names_key(glossary: Glossary, kept: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """A key of every name of the glossary and of the linking code: it changes whenever
    `link.index_key` does, but needs only the names of topics not in `kept` (read key →
    `topic_names` of that read, under this linking code). Also each topic's hash, by read
    key, for the memo."""
    from ..link import code_key

    parts = [code_key()]
    hashes: dict[str, str] = {}
    for topic in glossary.topics:
        names = kept.get(topic.read_key) if topic.read_key else None
        if not names:
            names = topic_names(topic)
        if topic.read_key:
            hashes[topic.read_key] = names
        parts.append(names)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32], hashes


@dataclass(frozen=True)
class StoredMemo:
    """The memo as read: per card file read (its read key), the key its memos were kept
    under and the memos; and the `topic_names` of each read, if kept under the current
    linking code."""

    files: Mapping[str, tuple[str, tuple[Known, ...]]] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def kept(cls, key: str, memo: Memo, names: Mapping[str, str] | None = None) -> StoredMemo:
        """What `write_memo(..., key, memo, ..., names)` keeps."""
        return cls({read_key: (key, known) for read_key, known in memo.items()}, names or {})

    def under(self, key: str) -> Memo:
        """The memos kept under `key`."""
        if not key:
            return {}
        return {read_key: known for read_key, (kept, known) in self.files.items() if kept == key}


# A file per card file read, named by its read key: an edit rewrites one small file.
MEMO_FOLDER = "deck-notes"


def read_memo(cache_dir: Path | None, read_keys: Iterable[str]) -> StoredMemo:
    """The memos kept in `cache_dir` of the card files read with these keys; a missing
    or damaged file is no memo."""
    if cache_dir is None:
        return StoredMemo()
    from ..link import code_key

    folder = cache_dir / MEMO_FOLDER
    files: dict[str, tuple[str, tuple[Known, ...]]] = {}
    names: dict[str, str] = {}
    for read_key in read_keys:
        if not _file_name(read_key):
            continue
        data = _json(folder / f"{read_key}.json")
        if type(data) is not dict:
            continue
        kept = data.get("names")  # [linking code key, topic_names]
        if type(kept) is list and len(kept) == 2 and kept[0] == code_key():
            names[read_key] = kept[1] if type(kept[1]) is str else ""
        known = _file(data.get("notes"))
        if type(data.get("key")) is str and known is not None:
            files[read_key] = (data["key"], known)
    return StoredMemo(files, names)


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
    names: Mapping[str, str] | None = None,
) -> None:
    """Keep `memo` (this build's card files') under `key`, with each file's `topic_names`
    (`names`, by read key): only the files that differ from what is stored are written,
    and the memos of card files no longer read are removed."""
    if cache_dir is None or not key:
        return
    from ..link import code_key

    names = names or {}
    folder = cache_dir / MEMO_FOLDER
    try:
        written = False
        for read_key, known in memo.items():
            same = stored.files.get(read_key) == (key, known)
            if not _file_name(read_key) or (
                same and stored.names.get(read_key) == names.get(read_key)
            ):
                continue
            notes = [
                [entry_id, list(terms), digest, guid] for entry_id, terms, digest, guid in known
            ]
            data = {"key": key, "names": [code_key(), names.get(read_key)], "notes": notes}
            write_file(folder / f"{read_key}.json", json.dumps(data, ensure_ascii=False).encode())
            written = True
        if written:  # (a card file read anew: the memo of its earlier read goes)
            for path in folder.iterdir():
                if path.stem not in memo:
                    path.unlink(missing_ok=True)
    except (BuildError, OSError, UnicodeEncodeError) as error:  # a cache: the deck is written
        log.warning("could not save the note memo: %s", error)
