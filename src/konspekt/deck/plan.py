"""Planning a deck: every note, its id, time and fields, and the next ledger; no I/O."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from types import MappingProxyType
from typing import NamedTuple

from ..link import Linker
from ..media import anki_name
from ..model import Glossary, Topic
from ..pool import Beside, map_in_two, worth_forking
from .cache import FieldCache, joined, split
from .history import Peak
from .ledger import Ledger, NoteRecord, StampRecord
from .memo import Known, Memo, StoredMemo, memo_key
from .notes import (
    NoteContext,
    NoteSource,
    digest_json,
    media_hashes,
    note_fields,
    note_hash,
    tags_of,
    with_question,
)
from .notetype import TEMPLATES, notetype_identity
from .options import DeckOptions, note_guid
from .questions import Questions


class PlannedNote(NamedTuple):
    """A note as the package writes it. (A named tuple: made for every note of every
    build, where a frozen dataclass's __init__ cost 8 ms at 5,000 notes.)"""

    entry_id: str
    guid: str
    note_id: int
    mtime: int
    joined_fields: bytes  # the fields joined by Anki's separator, UTF-8 (cache.joined)
    tags: tuple[str, ...]
    topic: str | None  # None: retired, shipped without cards
    due: int

    @property
    def fields(self) -> tuple[str, ...]:
        return split(self.joined_fields)


@dataclass(frozen=True)
class DeckPlan:
    """Everything the package holds, decided before anything is written."""

    options: DeckOptions
    topics: tuple[Topic, ...]
    notes: tuple[PlannedNote, ...]
    notetype_mtime: int
    ledger: Ledger
    new: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]
    retired: tuple[str, ...]  # ids retired by this build
    retired_total: int
    subdeck_names: tuple[str, ...]
    media: tuple[tuple[str, bytes], ...] = ()  # (name in Anki, bytes), sorted
    # The fields of exactly this deck's notes, by note hash: the next build's cache.
    fields_by_hash: FieldCache = field(default_factory=lambda: MappingProxyType({}))
    fresh: int = 0  # notes rendered by this build; the others came from the field cache
    # The hashes of the notes of each card file (memo.py) under `memo_key`: the next
    # build's memo; `remembered` notes took theirs from this build's.
    memo: Memo = field(default_factory=dict)
    memo_key: str = ""
    remembered: int = 0


class _Source:
    """A note in the making: its source is made only when it is asked for (`note`), so a
    note whose hash the memo gives (`known`) is neither made nor hashed again."""

    __slots__ = ("_make", "_note", "entry_id", "known", "own_tags", "related", "term", "topic",
                 "topic_id")  # fmt: skip
    _note: NoteSource | None
    _make: Callable[[], NoteSource] | None

    def __init__(
        self,
        entry_id: str,
        topic: str | None,  # None: retired (the entry left the cards; its note is the ledger's)
        note: NoteSource | Callable[[], NoteSource],
        *,
        term: str,
        related: tuple[str, ...],
        topic_id: str,
        own_tags: tuple[str, ...],
        known: Known | None = None,
    ) -> None:
        self.entry_id = entry_id
        self.topic = topic
        if isinstance(note, NoteSource):
            self._note, self._make = note, None
        else:
            self._note, self._make = None, note
        # what the note's source says, known without making it
        self.term, self.related, self.topic_id, self.own_tags = term, related, topic_id, own_tags
        self.known = known  # the memo of the note: its id, related terms and hash

    @property
    def note(self) -> NoteSource:
        if self._note is None:
            assert self._make is not None
            self._note = self._make()
        return self._note


def plan_deck(
    glossary: Glossary,
    ledger: Ledger,
    options: DeckOptions,
    now: int,
    field_cache: FieldCache | None = None,
    masks: Linker | Questions | None = None,
    peaks: Mapping[str, Peak] | None = None,
    memo: StoredMemo | None = None,
) -> DeckPlan:
    """Decide every note, its time and id, and the next ledger; write nothing.

    A note whose hash is in `field_cache` (rendered by an earlier build) is not
    rendered again. `masks`, the glossary's linker or `Questions` (which reuses what
    earlier builds masked), masks the names on questions; without it each entry's
    names are inflected here (`Questions`). `peaks` (history.py) are the newest
    times committed ledgers gave each note: a note that differs from its peak must be
    newer than it, so a reverted change still reaches learners. `memo` (memo.py) holds
    the hashes of notes of card files read before: those notes are not made again.
    """
    peaks = peaks or {}
    previous_render = field_cache or {}
    media = {path: file.read_bytes() for path, file in sorted(glossary.media.items())}
    hashes = media_hashes(media)
    # A cold build renders every note: its fields other than the question (which needs
    # the entry's names in every form) are rendered in a forked child meanwhile, on the
    # other core, while this process inflects the names and masks the questions.
    early = None
    if not previous_render and worth_forking(len(glossary.entries)):

        def render_unmasked() -> list[tuple[str, ...]]:
            return [
                note_fields(s.entry_id, s.note, context, question=False)
                for s, context in _with_contexts(_sources(glossary, ledger, hashes), options)
            ]

        early = Beside(render_unmasked)
    with early or contextlib.nullcontext():
        questions = masks if isinstance(masks, Questions) else Questions(glossary, masks)
        key = memo_key(questions.key, options.site_url, options.tag_root, hashes, options.ns)
        known = memo.under(key) if memo is not None else {}
        sources = _sources(glossary, ledger, hashes, questions, known)
        contexts = [context for _, context in _with_contexts(sources, options)]
        digests = []
        remembered = 0
        for s, context in zip(sources, contexts, strict=True):
            if s.known is not None and s.known[1] == context.related_terms:
                digests.append(s.known[2])
                remembered += 1
                questions.keep(s.entry_id)  # (not asked for: kept for the next build)
            else:
                digests.append(note_hash(s.entry_id, s.note, context))
        guids = [
            note_guid(options.ns, s.entry_id) if s.known is None else s.known[3] for s in sources
        ]
        kept = _memo(glossary, sources, contexts, digests, guids)
        # Only what no earlier build rendered is rendered, on both cores when there is much.
        todo = [
            (s.entry_id, s.note, context)
            for s, context, digest in zip(sources, contexts, digests, strict=True)
            if not previous_render.get(digest)
        ]
        if early is None:
            fresh_fields = iter(map_in_two(_render, todo))
        else:  # every note is in `todo`, in the child's order
            fresh_fields = iter([
                with_question(fields, note)
                for (_, note, _), fields in zip(todo, early.result(), strict=True)
            ])  # fmt: skip

    records: dict[str, NoteRecord] = {}
    kinds: dict[str, list[str]] = {"new": [], "changed": [], "unchanged": [], "retired": []}
    rendered: dict[str, bytes] = {}
    planned: list[tuple[_Source, bytes, tuple[str, ...]]] = []
    for source, context, digest in zip(sources, contexts, digests, strict=True):
        retired = source.topic is None
        fields = previous_render.get(digest) or joined(next(fresh_fields))
        rendered[digest] = fields
        previous = ledger.notes.get(source.entry_id)
        peak = peaks.get(source.entry_id)
        if previous is not None and (peak is None or peak.changed <= previous.changed):
            peak = Peak(previous.hash, previous.changed)  # the working tree is the newest
        if previous is None:
            kind, added = "new", now
            if peak is None:
                changed = now
            else:  # the ledger lost it, but learners may have it: as they have it, or newer
                changed = peak.changed if peak.hash == digest else _later(now, peak.changed)
        elif peak is not None and peak.hash == digest:
            kind, added, changed = "unchanged", previous.added, peak.changed
        else:
            kind, added = "changed", previous.added
            changed = _later(now, peak.changed if peak is not None else previous.changed)
        retired_at = None
        if retired and previous is not None:  # retired entries always come from the ledger
            if previous.retired is None:
                kind = "retired"
            retired_at = now if previous.retired is None else previous.retired
        kinds[kind].append(source.entry_id)
        if (
            previous is not None
            and previous.hash == digest
            and (previous.added, previous.changed, previous.retired) == (added, changed, retired_at)
        ):
            # The hash covers the entry: the ledger's record stands as it is, and its
            # writer (dumps_ledger) sees that without comparing every field.
            records[source.entry_id] = previous
        else:
            records[source.entry_id] = NoteRecord(digest, added, changed, source.note, retired_at)
        planned.append((source, fields, tags_of(source.topic_id, source.own_tags, context)))

    stamp = _notetype_stamp(options, ledger.notetype, now)
    note_ids = dict(_note_ids(records))
    notes = tuple(
        PlannedNote(
            entry_id=source.entry_id,
            guid=guid,
            note_id=note_ids[source.entry_id],
            mtime=records[source.entry_id].changed,
            joined_fields=fields,
            tags=tags,
            topic=source.topic,
            due=due,
        )
        for due, ((source, fields, tags), guid) in enumerate(
            zip(planned, guids, strict=True), start=1
        )
    )
    retired_total = sum(1 for note in notes if note.topic is None)
    subdecks = tuple(subdeck_name(options, topic) for topic in glossary.topics)
    return DeckPlan(
        options=options,
        topics=glossary.topics,
        notes=notes,
        notetype_mtime=stamp.changed,
        ledger=Ledger(MappingProxyType(dict(sorted(records.items()))), stamp, options.ns),
        new=tuple(kinds["new"]),
        changed=tuple(kinds["changed"]),
        unchanged=tuple(kinds["unchanged"]),
        retired=tuple(kinds["retired"]),
        retired_total=retired_total,
        subdeck_names=subdecks,
        media=tuple((anki_name(path), data) for path, data in media.items()),
        fields_by_hash=MappingProxyType(rendered),
        fresh=sum(1 for digest in rendered if digest not in previous_render),
        memo=kept,
        memo_key=key,
        remembered=remembered,
    )


def _sources(
    glossary: Glossary,
    ledger: Ledger,
    hashes: Mapping[str, str],
    questions: Questions | None = None,
    memo: Memo | None = None,
) -> list[_Source]:
    """Every note in reading order (topics, then entries as written), then the retired
    ones: entries the ledger knows that left the cards. Without `questions`, questions
    are left unmasked. A note of a card file in `memo` gets its hash from it (`known`)."""
    memo = memo or {}
    sources = []
    for topic in glossary.topics:
        kept = memo.get(topic.read_key) if topic.read_key else None
        if kept is not None and len(kept) != len(topic.entries):
            kept = None
        for i, entry in enumerate(topic.entries):
            sources.append(
                _Source(
                    entry.id,
                    entry.topic,
                    partial(NoteSource.from_entry, entry, topic, hashes, questions),
                    term=entry.term,
                    related=entry.related,
                    topic_id=topic.topic,
                    own_tags=entry.tags,
                    known=None if kept is None else _known(kept[i], entry.id),
                )
            )
    for entry_id, record in ledger.notes.items():
        if entry_id not in glossary.by_id:
            note = record.entry
            sources.append(
                _Source(
                    entry_id,
                    None,
                    note,
                    term=note.term,
                    related=note.related,
                    topic_id=note.topic,
                    own_tags=note.tags,
                )
            )
    return sources


def _known(kept: Known, entry_id: str) -> Known | None:
    """The memo of the entry's note (its related terms are compared by the caller)."""
    return kept if kept[0] == entry_id else None


def _memo(
    glossary: Glossary,
    sources: list[_Source],
    contexts: list[NoteContext],
    digests: list[str],
    guids: list[str],
) -> Memo:
    """This build's memo: the hash of each note of each card file read with the cache."""
    memo: dict[str, tuple[Known, ...]] = {}
    at = 0  # the entries' sources come first, topic by topic
    for topic in glossary.topics:
        end = at + len(topic.entries)
        if topic.read_key:
            memo[topic.read_key] = tuple(
                (sources[i].entry_id, contexts[i].related_terms, digests[i], guids[i])
                for i in range(at, end)
            )
        at = end
    return memo


def _with_contexts(
    sources: list[_Source], options: DeckOptions
) -> Iterator[tuple[_Source, NoteContext]]:
    # Related entries that left the cards still show their last term.
    terms = {source.entry_id: source.term for source in sources}
    for s in sources:
        context = NoteContext.of_related(
            s.related, terms=terms, options=options, retired=s.topic is None
        )
        yield s, context


def _render(job: tuple[str, NoteSource, NoteContext]) -> tuple[str, ...]:
    return note_fields(*job)


def _later(now: int, previous: int) -> int:
    # A change must look newer than what learners already imported, even if the clock
    # (or a fixed SOURCE_DATE_EPOCH) says otherwise; Anki compares whole seconds.
    return max(now, previous + 1)


def _note_ids(records: Mapping[str, NoteRecord]) -> Iterator[tuple[str, int]]:
    """Note ids in Anki's style (milliseconds of creation), derived from the ledger.

    Anki shows a note's id as its creation date and matches imports by GUID, so ids
    only need to be plausible, unique and stable; a note's cards get id and id + 1.
    """
    last = 0
    for entry_id, record in sorted(records.items(), key=lambda item: (item[1].added, item[0])):
        last = max(record.added * 1000, last + len(TEMPLATES))
        yield entry_id, last


def subdeck_name(options: DeckOptions, topic: Topic) -> str:
    # '::' separates deck levels in Anki; a topic title must stay one level.
    return f"{options.title}::{topic.title.replace('::', ':')}"


def _notetype_stamp(options: DeckOptions, previous: StampRecord | None, now: int) -> StampRecord:
    digest = digest_json(notetype_identity(options.title))
    if previous is not None and previous.hash == digest:
        return previous
    return StampRecord(digest, now if previous is None else _later(now, previous.changed))
