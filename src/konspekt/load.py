"""Load a cards folder: read every card file, validate it, return one Glossary."""

from __future__ import annotations

import dataclasses
import gc
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType

from .errors import CardsError, Pos, Problem
from .media import check_media
from .model import Glossary
from .readcache import ReadCache
from .validate import TopicRead, check_glossary, topic_from_yaml, unreadable
from .yamlnodes import parse_bytes, read_bytes

log = logging.getLogger(__name__)

CARD_SUFFIXES = (".yaml", ".yml")


def card_files(cards_dir: Path) -> list[Path]:
    """The card files of a folder, in a stable order (ledger and lock files are not cards)."""
    return sorted(p for p in cards_dir.iterdir() if p.suffix in CARD_SUFFIXES and p.is_file())


def display_path(path: Path) -> str:
    """How messages name a file: relative to the working directory when it is below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


def load_glossary(
    cards_dir: Path | str,
    cache_dir: Path | str | None = None,
    *,
    later: list[Callable[[], None]] | None = None,
) -> Glossary:
    """Read and validate every card file in `cards_dir`.

    Raises CardsError listing every problem in every file; returns only a fully
    valid Glossary, so later stages never see inconsistent data. With `cache_dir`
    (the project's cache folder), a file read without problems before and unchanged
    since is not read again (`readcache`); the result is the same. With `later`, the
    read cache's writes are appended to it instead of done here: the caller runs them
    when it has a core to spare (the deck build: while it packages).
    """
    cards_dir = Path(cards_dir)
    if not cards_dir.is_dir():
        raise CardsError(
            [
                Problem(
                    None,
                    f"cards folder '{display_path(cards_dir)}' not found",
                    "create it, or pass --cards DIR",
                )
            ]
        )
    paths = card_files(cards_dir)
    if not paths:
        raise CardsError(
            [
                Problem(
                    Pos(display_path(cards_dir)),
                    "no card files (*.yaml) in this folder",
                    "add a topic file such as docker.yaml, or pass --cards DIR",
                )
            ]
        )
    cache = ReadCache(Path(cache_dir)) if cache_dir is not None else None
    with no_gc_pauses():
        return _load(cards_dir, paths, cache, later)


@contextmanager
def no_gc_pauses() -> Iterator[None]:
    """Pause the cycle collector while a large structure that is kept is built.

    Loading allocates about a hundred objects per entry and keeps them all; each
    collection re-scans the survivors, which cost a third of the load time at 5,000
    entries (and as much of building the linker's index). The loader makes no
    reference cycles, so nothing is left for the collector; it runs again as soon as
    the glossary is built.

    What was made meanwhile is filed with the oldest objects at once: freezing and
    unfreezing move whole generations without looking at them, where the first young
    collection would scan all of it, at a cost per object that grows with the heap
    (the one stage of loading that grew faster than the glossary). Full collections
    still see it. Only when nothing is frozen: unfreezing would undo a caller's freeze.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def _load(
    cards_dir: Path,
    paths: list[Path],
    cache: ReadCache | None,
    later: list[Callable[[], None]] | None,
) -> Glossary:
    problems: list[Problem] = []
    reads: list[TopicRead] = []
    for path in paths:
        read, read_problems = _read(path, display_path(path), cache)
        problems += read_problems  # (duplicate keys, tags: the value is still read)
        problems += read.problems
        reads.append(read)
    problems = check_glossary(reads).apply(problems)
    media, media_problems = check_media([e for read in reads for e in read.entries], cards_dir)
    problems += media_problems
    if problems:
        raise CardsError(problems)  # (bad cards write nothing, not even to the cache)
    if cache is not None:
        if later is None:
            cache.save()
        else:
            later.append(cache.save)
    topics = [read.topic for read in reads if read.topic is not None]
    topics.sort(key=lambda t: (t.order, t.topic))
    log.debug("loaded %d topics from %s", len(topics), cards_dir)
    return Glossary(tuple(topics), MappingProxyType(media))


def _read(path: Path, display: str, cache: ReadCache | None) -> tuple[TopicRead, list[Problem]]:
    """One file's read, and the problems of its YAML that did not keep it from being read.
    The cache is asked by the bytes read here, and those same bytes are parsed on a miss."""
    data, problems = read_bytes(path, display)
    if data is None:
        return unreadable(problems), []
    key = cache.key(data, display) if cache is not None else ""
    if cache is not None:
        cached = cache.get(key, display)
        if cached is not None:
            return _keyed(cached, key), []
    node, problems = parse_bytes(data, display)
    if node is None:
        if not problems:
            problems = [
                Problem(Pos(display), "file is empty", "add 'topic:', 'title:' and 'entries:'")
            ]
        return unreadable(problems), []
    read = _keyed(topic_from_yaml(node, display), key)
    if cache is not None and not problems:
        cache.put(key, read)
    return read, problems


def _keyed(read: TopicRead, key: str) -> TopicRead:
    """The read with its topic carrying `key`, the read cache's key of its bytes (or ""):
    set here for a kept read too, whatever its cached copy says."""
    if read.topic is None or read.topic.read_key == key:
        return read
    return dataclasses.replace(read, topic=dataclasses.replace(read.topic, read_key=key))
