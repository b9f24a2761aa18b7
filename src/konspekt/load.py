"""Load a cards folder: read every card file, validate it, return one Glossary."""

from __future__ import annotations

import dataclasses
import gc
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from .errors import CardsError, Pos, Problem
from .media import check_media
from .model import Glossary
from .pool import map_in_two, second_core
from .readcache import ReadCache
from .validate import TopicRead, check_glossary, topic_from_yaml, unreadable
from .yamlnodes import parse_bytes, read_bytes

log = logging.getLogger(__name__)

CARD_SUFFIXES = (".yaml", ".yml")
# Below this many bytes of card files to parse, one process: a fork and sending half
# the reads back cost ≈ 10 ms; 512 KiB of cards (≈ 300 entries) take ≈ 60 ms to parse.
MIN_SPLIT_BYTES = 512 * 1024


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
    Asking that walks every frozen object (`gc.get_freeze_count`, 5 ms at 500,000): a
    pause is for one large structure, never one per item.
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
    for read, read_problems in _read_all(paths, cache):
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


class _Parse(NamedTuple):
    """A card file to parse: the read cache did not have it."""

    at: int  # its place among the files
    data: bytes
    display: str
    key: str  # the read cache's key of `data` ("" without a cache)


def _read_all(
    paths: Sequence[Path], cache: ReadCache | None
) -> list[tuple[TopicRead, list[Problem]]]:
    """Each file's read, and the problems of its YAML that did not keep it from being read.
    The cache is asked by the bytes read here, and those same bytes are parsed on a miss:
    on both cores when there are many (half the files' bytes each), in file order."""
    done: list[tuple[TopicRead, list[Problem]] | None] = []
    todo: list[_Parse] = []
    for at, path in enumerate(paths):
        display = display_path(path)
        data, problems = read_bytes(path, display)
        if data is None:
            done.append((unreadable(problems), []))
            continue
        key = cache.key(data, display) if cache is not None else ""
        cached = cache.get(key, display) if cache is not None else None
        done.append(None if cached is None else (_keyed(cached, key), []))
        if cached is None:
            todo.append(_Parse(at, data, display, key))
    for job, (read, problems) in zip(todo, _parse_all(todo), strict=True):
        if cache is not None and not problems:
            cache.put(job.key, read)
        done[job.at] = (read, problems)
    return [read for read in done if read is not None]


def _parse_all(todo: list[_Parse]) -> list[tuple[TopicRead, list[Problem]]]:
    """`_parse` of each, in order; the second half of the bytes in a forked child when
    they are worth it and `second_core` (never beside another thread: `serve` reloads
    with its server running)."""
    size = sum(len(job.data) for job in todo)
    if len(todo) < 2 or size < MIN_SPLIT_BYTES or not second_core():
        return [_parse(job) for job in todo]
    # Largest first, dealt out in turns, so that the two halves map_in_two takes (the
    # first in this process) have about as many bytes; then put back in order.
    order = sorted(range(len(todo)), key=lambda i: -len(todo[i].data))
    halves = (order[0::2], order[1::2])
    dealt = [todo[i] for i in halves[0]] + [todo[i] for i in halves[1]]
    parsed = map_in_two(_parse, dealt, min_jobs=2)
    result: list[tuple[TopicRead, list[Problem]] | None] = [None] * len(todo)
    for i, read in zip(halves[0] + halves[1], parsed, strict=True):
        result[i] = read
    return [read for read in result if read is not None]


def _parse(job: _Parse) -> tuple[TopicRead, list[Problem]]:
    node, problems = parse_bytes(job.data, job.display)
    if node is None:
        if not problems:
            problems = [
                Problem(Pos(job.display), "file is empty", "add 'topic:', 'title:' and 'entries:'")
            ]
        return unreadable(problems), []
    return _keyed(topic_from_yaml(node, job.display), job.key), problems


def _keyed(read: TopicRead, key: str) -> TopicRead:
    """The read with its topic carrying `key`, the read cache's key of its bytes (or ""):
    set here for a kept read too, whatever its cached copy says."""
    if read.topic is None or read.topic.read_key == key:
        return read
    return dataclasses.replace(read, topic=dataclasses.replace(read.topic, read_key=key))
