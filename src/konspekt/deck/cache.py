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
import json
import logging
from collections.abc import Mapping
from functools import cache
from importlib.metadata import version
from pathlib import Path

from ..errors import BuildError
from ..output import write_file

log = logging.getLogger(__name__)

FieldCache = Mapping[str, tuple[str, ...]]  # note hash → rendered fields

CACHE_NAME = "deck-fields.json"
_RENDERERS = ("Markdown", "Pygments", "nh3")


@cache
def renderer_key() -> str:
    """A hash of the code that turns a NoteSource into fields."""
    from .. import media, render
    from . import notes, notetype

    digest = hashlib.sha256()
    for name in _RENDERERS:
        digest.update(f"{name}={version(name)};".encode())
    for module in (notes, notetype, render, media):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:24]


def cache_path(cache_dir: Path) -> Path:
    return cache_dir / CACHE_NAME


def read_field_cache(cache_dir: Path | None) -> FieldCache:
    if cache_dir is None:
        return {}
    try:
        data = json.loads(cache_path(cache_dir).read_text(encoding="utf-8"))
        if data.get("renderers") != renderer_key():
            return {}
        return {digest: tuple(fields) for digest, fields in data["notes"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def write_field_cache(cache_dir: Path | None, rendered: FieldCache) -> None:
    if cache_dir is None:
        return
    data = {"renderers": renderer_key(), "notes": dict(sorted(rendered.items()))}
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        write_file(cache_path(cache_dir), json.dumps(data, ensure_ascii=False).encode("utf-8"))
    except (BuildError, OSError) as error:  # a cache: the deck is already written
        log.warning("could not save the field cache: %s", error)


# The ledger's stamp: a hash of the text this code last wrote (or found) as the ledger.
# While the file still has that text, it is exactly what dumps_ledger gives the ledger
# read from it, so the next build may copy its unchanged records (ledger.py); a ledger
# edited by hand, or from another version of the code, is written out in full.
LEDGER_STAMP_NAME = "deck-ledger-stamp.json"


@cache
def ledger_code_key() -> str:
    from . import ledger, notes

    digest = hashlib.sha256()
    for module in (ledger, notes):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:24]


def ledger_stamp(text: str) -> str:
    return f"{ledger_code_key()}-{hashlib.sha256(text.encode('utf-8')).hexdigest()}"


def read_ledger_stamp(cache_dir: Path | None) -> str | None:
    if cache_dir is None:
        return None
    try:
        value = json.loads((cache_dir / LEDGER_STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, str) else None


def write_ledger_stamp(cache_dir: Path | None, stamp: str) -> None:
    if cache_dir is None:
        return
    try:
        write_file(cache_dir / LEDGER_STAMP_NAME, json.dumps(stamp).encode("utf-8"))
    except BuildError as error:  # a cache: the ledger is already written
        log.warning("could not save the ledger stamp: %s", error)
