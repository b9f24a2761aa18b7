"""The field cache: what an earlier build rendered, by note hash.

Rendering Markdown and highlighting code is most of a deck build, and an edit touches
few notes. A note hash covers what a note is made from, not how it is rendered, so the
whole cache is keyed by the rendering code itself (the source of the modules that
render, and the versions of the libraries they call): after any change to them the
cache is simply not used. It is never needed: a missing or unreadable cache only means
rendering everything, and a test checks a build gives the same bytes with or without it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType

from ..errors import BuildError
from ..output import write_file
from .notetype import FIELD_NAMES

log = logging.getLogger(__name__)

# note hash → the rendered fields joined by Anki's separator, UTF-8: as the collection's
# notes table holds them, and as this cache keeps them (neither split nor joined again)
FieldCache = Mapping[str, bytes]

CACHE_NAME = "deck-fields.bin"


@cache
def renderer_key() -> str:
    """A hash of the code that turns a NoteSource into fields."""
    import nh3
    import pygments

    from .. import media, render
    from . import notes, notetype

    digest = hashlib.sha256()
    # The libraries' own version attributes: importlib.metadata would cost a build more
    # (it imports the email package and searches every folder of sys.path).
    for name, library in (("Pygments", pygments), ("nh3", nh3)):
        digest.update(f"{name}={library.__version__};".encode())
    # Markdown's is read from its source, not imported: most builds never run it
    # (render.simple_html), and importing it costs a build after one edit 25 ms.
    digest.update(b"Markdown=" + _package_file("markdown", "__meta__.py") + b";")
    for module in (notes, notetype, render, media):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:24]


def _package_file(package: str, name: str) -> bytes:
    """The bytes of a file of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, package  # a dependency
    return Path(spec.submodule_search_locations[0], name).read_bytes()


def cache_path(cache_dir: Path) -> Path:
    return cache_dir / CACHE_NAME


# The file is a record per note: the renderer key, the note hash, the length of the
# fields (UTF-8) and the fields, joined by Anki's own separator. An edit adds a record
# or two at the end instead of writing 12 MB again (0.15 s of CPU at 5,000 notes), and
# reading it is a third of parsing the same as JSON. Records of notes no longer in the
# deck stay until they are as many as the current ones, then the file is written anew.
# Each record names its renderers, so one appended by another version of the code is
# never taken for this one's.
_SEPARATOR = "\x1f"
_SEPARATOR_BYTE = b"\x1f"
_HEAD = struct.Struct("<24s20sI")  # renderer key, note hash, length of the fields


def _key() -> bytes:
    return renderer_key().encode("utf-8").ljust(24, b"\0")  # as struct stores it


@dataclass(frozen=True)
class StoredFields:
    """The field cache as read: the current renderers' fields, and how many records the
    file has (any renderers'): what a rewrite would drop."""

    fields: FieldCache = field(default_factory=lambda: MappingProxyType({}))
    records: int = 0


def read_field_cache(cache_dir: Path | None) -> StoredFields:
    if cache_dir is None:
        return StoredFields()
    try:
        data = cache_path(cache_dir).read_bytes()
    except OSError:
        return StoredFields()
    key = _key()
    separators = len(FIELD_NAMES) - 1
    fields: dict[str, bytes] = {}
    records = 0
    at = 0
    head = _HEAD.size
    unpack = _HEAD.unpack_from
    while at + head <= len(data):
        renderers, digest, size = unpack(data, at)
        at += head + size
        if at > len(data):
            break  # an append cut short: the records before it stand
        records += 1
        if renderers != key:
            continue
        value = data[at - size : at]
        try:
            value.decode("utf-8")  # (checked: text that is not UTF-8 is never used)
            name = digest.decode("ascii")
        except UnicodeDecodeError:
            continue
        # A field holding the separator would split in more: rendered again, not cached.
        if value.count(_SEPARATOR_BYTE) == separators:
            fields[name] = value
    return StoredFields(MappingProxyType(fields), records)


def joined(fields: tuple[str, ...]) -> bytes:
    """A note's fields as the cache and the collection keep them."""
    return _SEPARATOR.join(fields).encode("utf-8")


def split(value: bytes) -> tuple[str, ...]:
    """`joined`'s fields back."""
    return tuple(value.decode("utf-8").split(_SEPARATOR))


def write_field_cache(cache_dir: Path | None, rendered: FieldCache, stored: StoredFields) -> None:
    """Keep `rendered` (this deck's fields) for the next build: appended to what is
    stored, or the file written anew once most of it would be records no longer needed."""
    if cache_dir is None:
        return
    new = [digest for digest in rendered if digest not in stored.fields]
    append = stored.records > 0 and stored.records + len(new) <= 2 * len(rendered)
    if append and not new:
        return
    key = _key()
    parts = []
    for digest in new if append else sorted(rendered):
        encoded = digest.encode("ascii")
        if len(encoded) != 20:
            continue  # not a note hash (digest_json): never read back as one
        value = rendered[digest]
        parts += [_HEAD.pack(key, encoded, len(value)), value]
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        if append:
            with cache_path(cache_dir).open("ab") as file:
                file.write(b"".join(parts))
        else:
            write_file(cache_path(cache_dir), b"".join(parts))
    except (BuildError, OSError) as error:  # a cache: the deck is already written
        log.warning("could not save the field cache: %s", error)
