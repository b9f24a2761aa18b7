"""Find mentions of glossary terms in Russian Markdown (written out by `markdown_safe`).

The linker works in one pass over the words of the prose: every form of every name of
every entry (see `ru`) is a key of one dict, keyed by normalized word tuples with the
separators between them; at each word it looks up the longest key first. No regular
expression per term, no parsing of the text itself; pymorphy3 is consulted only for the
few forms that are also function words («под», «том»).
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from itertools import accumulate, compress, repeat
from operator import attrgetter, itemgetter
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple, cast

from . import ru as ru_module
from .errors import BuildError
from .load import no_gc_pauses
from .markdown_safe import LIST_ITEM, Document, Kind, Segment, scan
from .model import Entry, Glossary
from .output import write_file
from .ru import (
    EMPHASIS,
    WORD_RE,
    Russian,
    fold_yo,
    function_word_use,
    gap,
    in_fixed_expression,
    join_key,
    name_key,
    name_parts,
    normalize,
    normalize_text,
    russian,
    spelling_variants,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mention:
    """A term mentioned in a text: character offsets into it, the words, the entry id."""

    start: int
    end: int
    text: str
    id: str

    def as_json(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "text": self.text, "id": self.id}


@dataclass(frozen=True)
class Candidate:
    """Words that name an entry, and whether they became a link and why: `link --explain`."""

    start: int
    end: int
    text: str
    id: str
    linked: bool
    reason: str

    def as_json(self) -> dict[str, object]:
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "id": self.id,
            "linked": self.linked,
            "reason": self.reason,
        }


class _Found(NamedTuple):
    """A key of the index found in the text, before the paragraph decides on it.

    A named tuple, as `_Target`: one is made per mention, and a frozen dataclass costs
    several times more to create."""

    start: int
    end: int
    text: str
    para: int
    target: _Target
    problem: str | None  # why these words are not the entry, if they are not
    linkable: bool  # prose; False for a link's text

    @property
    def why(self) -> str:
        return _RANK_REASONS[self.target.rank] + (
            " (ambiguous: the paragraph is about its subject)" if self.target.ambiguous else ""
        )


def words_of(
    text: str, start: int = 0, end: int | None = None
) -> tuple[list[tuple[int, int]], list[str], list[str]]:
    """The words of `text[start:end]` as the linker and the masking compare them: their
    spans, normalized words, and the normalized gaps between them (see `ru.gap`)."""
    firsts, lasts, norms, gaps = _words(text, start, len(text) if end is None else end)
    return list(zip(firsts, lasts, strict=True)), norms, gaps


def _words(text: str, start: int, stop: int) -> tuple[list[int], list[int], list[str], list[str]]:
    """`words_of`, with the spans as two lists, where each word starts and ends: the scan
    reads the spans of the few words that name something, and makes no pair for the rest."""
    raw = text[start:stop]
    # One pass of the regular expression: with the words captured, split() gives the
    # text before the first word, then each word and the gap after it, and the text
    # after the last. The spans follow from the pieces' lengths (C loops, not Python).
    pieces = _WORDS_AND_GAPS.split(raw)
    bounds = list(accumulate(map(len, pieces), initial=start))
    words = pieces[1::2]
    # Words joined by a line break, which none of them holds and which stops the one
    # rule of lower() that reads the letters around (a final sigma): normalizing the
    # whole is normalizing each word. A capital sigma is still left to `normalize`.
    if "Σ" in raw:
        norms = list(map(normalize, words))
    else:
        norms = normalize_text("\n".join(words)).split("\n") if words else []
    gaps = list(map(_GAPS.__getitem__, pieces[2:-1:2]))
    return bounds[1:-1:2], bounds[2::2], norms, gaps


class _GapCache(dict[str, str]):
    """`gap` of each text found between two words, kept: prose repeats a few dozen."""

    def __missing__(self, between: str) -> str:
        if len(self) >= 10_000:  # bounded, whatever the texts
            self.clear()
        self[between] = found = gap(between)
        return found


_GAPS = _GapCache()


# WORD_RE with the word captured: split() then returns words and gaps in turn.
_WORDS_AND_GAPS = re.compile(f"({WORD_RE.pattern})")

# --- the linker ---

# Ranks of the ways a key can name an entry: a phrase the entry says is not it comes
# first (it only stops the words from linking), then a collocation, a name as written, a
# form the entry lists, a generated form, and the English name.
RANK_NOT_IN, RANK_COLLOCATION, RANK_NAME, RANK_FORM, RANK_GENERATED, RANK_ENGLISH = range(6)
_RANK_REASONS = (
    "not_in",
    "a collocation of the entry",
    "a name of the entry",
    "a form the entry lists",
    "a form of a name",
    "the English name",
)


class _Target(NamedTuple):
    """One entry a key may name (a named tuple: the index holds one per form of a name)."""

    id: str
    rank: int
    order: int
    cased: tuple[str, ...] | None  # match_case entries: the key with its letters' case
    ambiguous: bool = False  # a form of a name the entry lists as `ambiguous` only


# Stands for a word we cannot see past (code, a link) when a rule looks ahead.
_OPAQUE = "_"
_SENTENCE_END = ".!?…"
_MARKUP = " \t\r\n*_~\"'«„“(>[-+|"


Key = tuple[str, ...]  # normalized words with the normalized separators between them
_CACHE_FORMAT = 3


@dataclass(frozen=True)
class LinkIndex:
    """Every form of every name → the entries it may name, best first: the linker's data.

    A plain value, built from the entries by `build_index` and kept between builds as
    JSON, which loading cannot turn into code (a cache file in a checkout is input).
    """

    targets: Mapping[Key, tuple[_Target, ...]]
    # Derived from `targets`: the longest name in words, and every proper prefix of every
    # key (a lookup stops at the first word that no name has there).
    longest: int = field(init=False, repr=False, compare=False)
    prefixes: frozenset[Key] = field(init=False, repr=False, compare=False)
    # The first word of every key: any other word is passed over without a lookup.
    starts: frozenset[str] = field(init=False, repr=False, compare=False)
    # `targets` as a plain dict: a lookup in it is cheaper than through the proxy.
    table: dict[Key, tuple[_Target, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # (a proxy's copy() is its dict's, in C; dict() would read the proxy key by key)
        targets = self.targets
        table = targets.copy() if isinstance(targets, MappingProxyType) else dict(targets)
        longest = max(map(len, table), default=1)
        # The prefixes of n words (2n - 1 items) of the keys longer than that, n = 1, 2, …:
        # made in C loops (map, compress), as 10⁵ keys are read at every build and load.
        # Most keys are two words, whose one prefix is a word: its words are collected
        # first (a string's hash is kept, a new tuple's is not), then made tuples.
        longer = list(compress(table, map((1).__lt__, map(len, table))))
        prefixes: set[Key] = set(zip(set(map(itemgetter(0), longer))))
        for n in range(3, longest, 2):
            longer = list(compress(longer, map(n.__lt__, map(len, longer))))
            prefixes.update(map(itemgetter(slice(n)), longer))
        object.__setattr__(self, "longest", (longest + 1) // 2)
        object.__setattr__(self, "prefixes", frozenset(prefixes))
        object.__setattr__(self, "starts", frozenset(map(itemgetter(0), table)))
        object.__setattr__(self, "table", table)

    @cached_property
    def keys(self) -> Mapping[str, tuple[Key, ...]]:
        """An entry's keys, sorted: made when first asked (masking, pages), not for linking."""
        keys: dict[str, set[Key]] = {}
        for key, targets in self.table.items():
            for target in targets:
                if target.rank != RANK_NOT_IN:
                    keys.setdefault(target.id, set()).add(key)
        return MappingProxyType(
            {entry_id: tuple(sorted(found)) for entry_id, found in keys.items()}
        )

    def to_json(self) -> str:
        """The index as JSON, flat: C code does most of writing and reading it.

        Keys are in the index's own order (made in glossary order, so the same in every
        process): words joined by US, keys by RS — characters no word or separator has
        (they are whitespace, which `gap` drops). Targets repeat (one per form of a name):
        each distinct tuple of them is written once, in `groups`, and `rows` gives each
        key's group; a target names its entry by its place in `ids`.
        """
        ids: dict[str, int] = {}
        groups: dict[tuple[_Target, ...], int] = {}
        # The forms of a name share one tuple of targets: a group is found once per
        # tuple (by identity, in C), not hashed again for each of 10⁵ keys.
        values = list(self.table.values())
        distinct = dict(zip(map(id, values), values, strict=True))
        by_id = {
            ident: groups.setdefault(targets, len(groups)) for ident, targets in distinct.items()
        }
        rows = list(map(by_id.__getitem__, map(id, values)))
        encoded = [
            [[ids.setdefault(t.id, len(ids)), t.rank, t.order,
              None if t.cased is None else _WORD_SEP.join(t.cased), t.ambiguous] for t in targets]
            for targets in groups
        ]  # fmt: skip
        data = {
            "format": _CACHE_FORMAT,
            "keys": _KEY_SEP.join(map(_WORD_SEP.join, self.table)),
            "ids": list(ids),
            "groups": encoded,
            "rows": rows,
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, ids: Collection[str]) -> LinkIndex:
        """The index `to_json` wrote; ValueError unless it is exactly that shape, naming `ids`."""
        with no_gc_pauses():  # 10⁵ keys and targets, all kept: nothing to collect
            return cls._from_json(text, ids)

    @classmethod
    def _from_json(cls, text: str, ids: Collection[str]) -> LinkIndex:
        try:
            data = json.loads(text)
            if data["format"] != _CACHE_FORMAT:
                raise ValueError("another format")
            known = set(ids)
            entry_ids = data["ids"]
            if not isinstance(entry_ids, list) or not all(
                type(entry_id) is str and entry_id in known for entry_id in entry_ids
            ):
                raise ValueError("not the ids of these entries")
            make = tuple.__new__  # _Target's own constructor, without its Python wrapper
            groups: list[tuple[_Target, ...]] = []
            for row in data["groups"]:
                found = []
                for entry, rank, order, cased, ambiguous in row:
                    if (
                        type(entry) is not int
                        or not 0 <= entry < len(entry_ids)
                        or type(rank) is not int
                        or type(order) is not int
                        or type(ambiguous) is not bool
                        or not (cased is None or type(cased) is str)
                    ):
                        raise ValueError("not a target of these entries")
                    cased_key = None if cased is None else tuple(cased.split(_WORD_SEP))
                    found.append(
                        make(_Target, (entry_ids[entry], rank, order, cased_key, ambiguous))
                    )
                if not found:
                    raise ValueError("a key without targets")
                groups.append(tuple(found))
            keys_text, rows = data["keys"], data["rows"]
            if type(keys_text) is not str or type(rows) is not list:
                raise ValueError("not keys and rows")
            # (C loops: map over 10⁵ keys and rows, at every build that reads the cache)
            keys = (
                list(map(tuple, map(str.split, keys_text.split(_KEY_SEP), repeat(_WORD_SEP))))
                if rows
                else []
            )
            if len(keys) != len(rows) or (
                rows
                and (set(map(type, rows)) != {int} or min(rows) < 0 or max(rows) >= len(groups))
            ):
                raise ValueError("not a group for every key")
            targets = dict(zip(keys, map(groups.__getitem__, rows), strict=True))
            if len(targets) != len(keys):
                raise ValueError("a key written twice")
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a linker index: {error}") from None
        return cls(MappingProxyType(targets))


# Separators of the cache's flat keys: control characters that are whitespace to
# `str.split`, so `gap` never keeps one and no word (letters, digits) has one.
_WORD_SEP = "\x1f"
_KEY_SEP = "\x1e"


def build_index(entries: Sequence[Entry], ru: Russian, known: EntryKeys | None = None) -> LinkIndex:
    """Every form of every name of `entries`: the costly half of linking, done once.

    With `known`, the keys of an entry whose names it holds are taken from it; those of
    every other entry are made (and added to it, if it is kept: `Linker.for_glossary`)."""
    with no_gc_pauses():  # 10⁵ keys and targets, all kept: nothing to collect
        return _build_index(entries, ru, known if known is not None else EntryKeys())


def _build_index(entries: Sequence[Entry], ru: Russian, known: EntryKeys) -> LinkIndex:
    index: dict[Key, tuple[_Target, ...]] = {}
    get = index.get
    make = tuple.__new__  # _Target's own constructor, without its Python wrapper
    merged: list[Key] = []
    # Not on two cores: a forked child that generates half of the forms costs more CPU
    # than it saves here (copy-on-write faults, cold caches, pickling) — measured.
    own: dict[str, tuple[Key, ...]] = {}  # each entry's keys (`LinkIndex.keys`)
    for order, entry in enumerate(entries):
        keys, specs, rows = known.of(ru, entry)
        found = _own_keys(keys, specs, rows)
        if found:
            own[entry.id] = found
        # Most keys name one target, and the forms of a name share it: they share its
        # one-item tuple too (fewer objects to keep and for the collector to scan).
        alone = [
            (make(_Target, (entry.id, rank, order, cased, ambiguous)),)
            for rank, cased, ambiguous in specs
        ]
        # Most keys are new, each once in the entry: added at once (dict and map in C),
        # and only the keys that other entries have too are merged one by one.
        mine: dict[Key, tuple[_Target, ...]] = dict(
            zip(keys, map(alone.__getitem__, rows), strict=True)
        )
        if len(mine) == len(keys):
            for key in sorted(mine.keys() & index.keys()):  # (sorted: the same log in every run)
                mine[key] = _merged(index[key], mine[key][0])
                merged.append(key)
            index.update(mine)
            continue
        for key, row in zip(keys, rows, strict=True):  # a key the entry names twice
            targets = get(key)
            if targets is None:
                index[key] = alone[row]
            else:
                index[key] = _merged(targets, alone[row][0])
                merged.append(key)
    debug = log.isEnabledFor(logging.DEBUG)
    for key in dict.fromkeys(merged):  # (only a merged key can have several targets)
        targets = index[key]
        if len(targets) > 1:
            index[key] = targets = tuple(sorted(targets, key=_rank_order))
            if (
                debug
                and len({t.id for t in targets if t.rank == targets[0].rank and not t.cased}) > 1
            ):
                log.debug("'%s' names several entries: %s", " ".join(key), targets)
    built = LinkIndex(MappingProxyType(index))
    # What `keys` would read from the whole table (0.16 s at 5,000 entries), known here.
    built.__dict__["keys"] = MappingProxyType(own)
    return built


def _own_keys(
    keys: list[Key], specs: list[tuple[int, Key | None, bool]], rows: list[int]
) -> tuple[Key, ...]:
    """An entry's keys as `LinkIndex.keys` reads them from the index: every key with a
    target of the entry whose rank is not RANK_NOT_IN. The entry's targets of a key are
    one per case (`_merged`), each with the best rank of its specs; RANK_NOT_IN is the
    best, so a key is left out for a case if any of the entry's specs for it is not_in."""
    blocked = {(key, specs[row][1]) for key, row in zip(keys, rows, strict=True)
               if specs[row][0] == RANK_NOT_IN}  # fmt: skip
    if not blocked:
        return tuple(sorted(set(keys)))
    return tuple(sorted({key for key, row in zip(keys, rows, strict=True)
                         if (key, specs[row][1]) not in blocked}))  # fmt: skip


def _merged(targets: tuple[_Target, ...], target: _Target) -> tuple[_Target, ...]:
    """`targets` with `target` added: one target per entry (and case), the best rank."""
    for i, other in enumerate(targets):
        if other.id == target.id and other.cased == target.cased:
            best = min(target, other, key=_rank_order)
            # A key that some plain name of the entry also yields is not ambiguous.
            merged = best._replace(ambiguous=target.ambiguous and other.ambiguous)
            return (*targets[:i], merged, *targets[i + 1 :])
    return (*targets, target)


class _NameKeys(NamedTuple):
    """The keys of one spelling of one name of an entry, as `_name_keys` makes them."""

    rank: int
    exact: Key  # the name as written (`name_key`): its one key that is not generated
    ambiguous: bool  # a name the entry lists as `ambiguous`
    words: list[str]  # the words as written, and the separators between them
    gaps: list[str]
    keys: list[Key]  # every form, each once, in the order made


def _name_keys(ru: Russian, entry: Entry) -> Iterator[_NameKeys]:
    """Every spelling of every name of `entry` with its keys: the one rule of what keys
    an entry has, for `_entry_keys` (a target per key) and `_entry_record` (in bulk)."""
    ambiguous = {name_key(name) for name in entry.ambiguous}
    for name, rank in _names(entry):
        parts = name_parts(name)
        if not parts[0]:
            continue
        exact = name_key(name)
        is_ambiguous = exact in ambiguous
        for words, gaps in spelling_variants(*parts):
            if rank == RANK_FORM:
                keys = [join_key([normalize(w) for w in words], gaps)]
            else:
                keys = ru.phrase_keys(words, gaps)
            yield _NameKeys(rank, exact, is_ambiguous, words, gaps, keys)


def _entry_keys(ru: Russian, order: int, entry: Entry) -> list[tuple[Key, _Target]]:
    """Every key of every name of `entry`, with the target it gives, in the order made."""
    found: list[tuple[Key, _Target]] = []
    make = tuple.__new__  # _Target's own constructor, without its Python wrapper
    cased_entry = entry.match_case
    for rank, exact, is_ambiguous, words, gaps, keys in _name_keys(ru, entry):
        # The targets of a name's forms without case: two values, shared by every form.
        as_named = make(_Target, (entry.id, rank, order, None, is_ambiguous))
        generated = as_named
        if rank == RANK_NAME:
            generated = make(_Target, (entry.id, RANK_GENERATED, order, None, is_ambiguous))
        cased_name = cased_entry and rank not in (RANK_NOT_IN, RANK_COLLOCATION)
        for key in keys:
            # A generated form ranks below every name as written: «поды» as a form
            # of «Под» yields to an entry whose name is «Поды».
            target = as_named if key == exact else generated
            if cased_name:
                form = key[::2]  # (the words, without the separators)
                cased = join_key(
                    [_apply_case(w, f) for w, f in zip(words, form, strict=True)], gaps
                )
                target = target._replace(cased=cased)
            found.append((key, target))
    return found


class _Record(NamedTuple):
    """What `_entry_keys` makes, without the entry's id and place: its keys in the order
    made, each with a spec of its target, (rank, cased, ambiguous); the specs are few
    (the forms of a name share one), so each key gives its spec's place in `specs`."""

    keys: list[Key]
    specs: list[tuple[int, Key | None, bool]]
    rows: list[int]


def _entry_record(ru: Russian, entry: Entry) -> _Record:
    if entry.match_case:  # a target per key (its case): made one by one
        return _record_of(_entry_keys(ru, 0, entry))
    keys: list[Key] = []
    rows: list[int] = []
    specs: dict[tuple[int, Key | None, bool], int] = {}
    # What `_record_of(_entry_keys(…))` gives, a name's keys at once: every form has the
    # spec of a generated form but the name as written; specs are numbered in the order
    # their first key comes.
    for rank, exact, is_ambiguous, _words, _gaps, made in _name_keys(ru, entry):
        named_spec = (rank, None, is_ambiguous)
        if rank != RANK_NAME:  # its forms are as named: one spec
            rows += repeat(specs.setdefault(named_spec, len(specs)), len(made))
            keys += made
            continue
        try:
            at = made.index(exact)
        except ValueError:
            at = -1
        if at == 0:
            named = specs.setdefault(named_spec, len(specs))
        base = len(rows)
        if len(made) > (at >= 0):  # some key is a generated form
            generated_spec = (RANK_GENERATED, None, is_ambiguous)
            rows += repeat(specs.setdefault(generated_spec, len(specs)), len(made))
        else:
            rows.append(named)
        if at > 0:
            named = specs.setdefault(named_spec, len(specs))
        if at >= 0:
            rows[base + at] = named
        keys += made
    return _Record(keys, list(specs), rows)


def _record_of(found: Iterable[tuple[Key, _Target]]) -> _Record:
    """The record of an entry's keys and targets, as `_entry_keys` gives them."""
    keys: list[Key] = []
    rows: list[int] = []
    specs: dict[tuple[int, Key | None, bool], int] = {}
    # The forms of a name share their target: its spec is looked up once (the list
    # `_entry_keys` returns keeps every target alive, so no id is reused meanwhile).
    seen: dict[int, int] = {}
    for key, target in found:
        keys.append(key)
        row = seen.get(id(target))
        if row is None:
            spec = (target.rank, target.cased, target.ambiguous)
            row = seen[id(target)] = specs.setdefault(spec, len(specs))
        rows.append(row)
    return _Record(keys, list(specs), rows)


def _encoded(record: _Record) -> list[object]:
    """`record` as JSON data, flat as the index's cache (see `LinkIndex.to_json`)."""
    return [
        _KEY_SEP.join(map(_WORD_SEP.join, record.keys)),
        [[rank, None if cased is None else _WORD_SEP.join(cased), ambiguous]
         for rank, cased, ambiguous in record.specs],
        record.rows,
    ]  # fmt: skip


def _decoded(data: object) -> _Record:
    """The record `_encoded` wrote; ValueError unless it is exactly that shape."""
    try:
        keys_text, spec_data, rows = cast(list[object], data)
        if type(keys_text) is not str or type(spec_data) is not list or type(rows) is not list:
            raise ValueError("not keys, targets and rows")
        specs = []
        for rank, cased, ambiguous in spec_data:
            if (
                type(rank) is not int
                or not RANK_NOT_IN <= rank <= RANK_ENGLISH
                or type(ambiguous) is not bool
                or not (cased is None or type(cased) is str)
            ):
                raise ValueError("not a target")
            specs.append(
                (rank, None if cased is None else tuple(cased.split(_WORD_SEP)), ambiguous)
            )
        if rows and (set(map(type, rows)) != {int} or min(rows) < 0 or max(rows) >= len(specs)):
            raise ValueError("not a target for every key")
        keys = [tuple(key.split(_WORD_SEP)) for key in keys_text.split(_KEY_SEP)] if rows else []
        if len(keys) != len(rows):
            raise ValueError("not a key for every target")
    except (TypeError, ValueError) as error:  # unpacking: ValueError, or TypeError
        raise ValueError(f"not an entry's keys: {error}") from None
    return _Record(keys, specs, rows)


class EntryKeys:
    """The keys of entries by their names, kept between builds beside the index.

    The index depends on the whole glossary (`index_key`), but most of its cost is each
    entry's forms, which depend only on that entry's names: after a term is renamed or
    added, `build_index` takes every other entry's keys from here, and only the new names
    are inflected. Stored as JSON data, by a digest of each entry's name fields; the file
    is named by the code and dictionary (`code_key`).
    """

    def __init__(self, stored: Mapping[str, object] | None = None, *, keep: bool = False) -> None:
        self._stored = stored if stored is not None else {}
        # What the current entries used, encoded, when it is to be saved: only these are
        # kept, so the file holds one glossary's entries and no more.
        self._keep = keep
        self._used: dict[str, object] = {}
        self.made = 0  # entries whose keys were made, not taken from here

    @classmethod
    def load(cls, path: Path) -> EntryKeys:
        """The keys saved at `path`; none if there are none or the file is damaged (an
        entry whose record is damaged is made again: `of`)."""
        try:
            with no_gc_pauses():  # 10⁵ strings, kept: nothing to collect
                data = json.loads(path.read_text(encoding="utf-8"))
            if type(data) is dict and data.get("format") == _KEYS_FORMAT:
                stored = data.get("entries")
                if type(stored) is dict:
                    return cls(stored, keep=True)
        except (OSError, ValueError):
            pass
        return cls(keep=True)

    def of(self, ru: Russian, entry: Entry) -> _Record:
        """`entry`'s keys: taken from here if its names are known, else made."""
        if not self._stored and not self._keep:  # a plain build: nothing to look up
            return _entry_record(ru, entry)
        digest = _names_digest(entry)
        data = self._stored.get(digest)
        if data is not None:
            try:
                record = _decoded(data)
            except ValueError:
                pass  # damaged: made again, never trusted
            else:
                self._used[digest] = data
                return record
        record = _entry_record(ru, entry)
        self.made += 1
        if self._keep:
            self._used[digest] = _encoded(record)
        return record

    def own(self, ru: Russian, entry: Entry) -> tuple[Key, ...]:
        """`entry`'s keys as the index lists them (`LinkIndex.keys`), without an index:
        what masking its names needs (the deck masks each entry's own names only)."""
        return _own_keys(*self.of(ru, entry))

    @classmethod
    def in_cache(cls, cache_dir: Path) -> EntryKeys:
        """The keys kept in `cache_dir` by this code and dictionary, to be saved there
        again (`save`)."""
        return cls.load(_entry_keys_path(cache_dir))

    def save(self, cache_dir: Path) -> None:
        """Keep these keys in `cache_dir` if `worth_saving`, in place of any other code's.
        An error is logged, not raised: this is a cache."""
        path = _entry_keys_path(cache_dir)
        try:
            for old in cache_dir.glob("entry-keys-*"):
                if old != path:
                    old.unlink(missing_ok=True)
            if self.worth_saving:
                write_file(path, self.to_json().encode("utf-8"))
        except (BuildError, OSError) as error:
            log.warning("could not save the entries' keys: %s", error)

    @property
    def worth_saving(self) -> bool:
        """Whether many entries' keys differ from those loaded. After a few renames it
        is not: saving costs more than making those few entries' keys at the next build
        again, and the file is no larger for the names it holds that are gone."""
        dropped = len(self._stored) - len(self._used.keys() & self._stored.keys())
        return (self.made + dropped) * 16 > len(self._used)

    def to_json(self) -> str:
        data = {"format": _KEYS_FORMAT, "entries": self._used}
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


_KEYS_FORMAT = 1


def _rank_order(target: _Target) -> tuple[int, int]:
    return target.rank, target.order


class Linker:
    """Finds entry mentions in Markdown; build once per glossary, use for every text."""

    def __init__(
        self, entries: Sequence[Entry], ru: Russian | None = None, index: LinkIndex | None = None
    ) -> None:
        self.entries = entries
        self.ru = ru if ru is not None else russian()
        self.index = index if index is not None else build_index(entries, self.ru)
        self._entries: dict[str, Entry] = {entry.id: entry for entry in entries}

    @classmethod
    def for_glossary(cls, glossary: Glossary, cache_dir: Path | None = None) -> Linker:
        """The linker of a glossary; with `cache_dir`, its index is kept between builds.

        Building the index (every form of every name) is most of the linker's cost, and
        it depends only on the names: editing a definition, the usual change, reuses it.
        """
        entries = glossary.entries
        if cache_dir is None:
            return cls(entries)
        path = cache_dir / f"linker-{index_key(entries)}.json"
        try:
            index = LinkIndex.from_json(path.read_text(encoding="utf-8"), glossary.by_id)
            return cls(entries, index=index)
        except (OSError, ValueError):  # none yet, or damaged: built again, never trusted
            pass
        # The names changed: the keys of entries whose names did not are reused.
        known = EntryKeys.in_cache(cache_dir)
        ru = russian()
        linker = cls(entries, ru, build_index(entries, ru, known))
        for old in cache_dir.glob("linker-*"):
            old.unlink(missing_ok=True)  # one index is kept: the current one
        try:
            write_file(path, linker.index.to_json().encode("utf-8"))
        except BuildError as error:
            log.warning("could not save the linker index: %s", error)
        known.save(cache_dir)
        return linker

    def reading(self, index: LinkIndex, entries: Mapping[str, Entry]) -> Linker:
        """This linker, reading `index` and `entries` in place of its own: the site's
        generation cache (site/pagecache.py) passes recording stand-ins, to learn what
        linking a text looked up in them. A stand-in offers only what the scan reads."""
        view = copy.copy(self)
        view.index = index
        view._entries = cast(dict[str, Entry], entries)  # only .get is called on it
        return view

    def keys_of(self, entry_id: str) -> list[tuple[str, ...]]:
        """Every normalized form the linker knows for an entry (words and separators)."""
        return list(self.index.keys.get(entry_id, ()))

    @property
    def size(self) -> int:
        """How many distinct keys the index holds (for logs and benchmarks)."""
        return len(self.index.targets)

    def find(self, text: str, *, page: str | None = None) -> list[Mention]:
        """Mentions in Markdown `text`: the first of each entry per paragraph, none of `page`."""
        return list(self.document(text, page=page).mentions)

    def document(self, text: str, *, page: str | None = None) -> Document:
        """Scan `text` once; the result renders Markdown with links and lists the mentions."""
        segments = scan(text)
        mentions = [
            Mention(item.start, item.end, item.text, item.target.id)
            for item, reason in self._decide(text, segments, page)
            if reason is None
        ]
        return Document(text, tuple(segments), tuple(mentions))

    def explain(self, text: str, *, page: str | None = None) -> list[Candidate]:
        """Every candidate mention in `text`, linked or not, with the reason."""
        return [
            Candidate(item.start, item.end, item.text, item.target.id, reason is None,
                      item.why if reason is None else reason)
            for item, reason in self._decide(text, scan(text), page)
        ]  # fmt: skip

    def _decide(
        self, text: str, segments: Sequence[Segment], page: str | None
    ) -> Iterator[tuple[_Found, str | None]]:
        """The candidates of each paragraph, decided once the whole paragraph is read: an
        ambiguous name needs another term of its subject anywhere in the paragraph. Each
        comes with why it is not linked, None if it is (a Candidate only for `explain`)."""
        page_entry = self._entries.get(page) if page else None
        found: list[_Found] = []
        for index, seg in enumerate(segments):
            if found and seg.para != found[-1].para:
                yield from self._resolve(found, page, page_entry)
                found = []
            if seg.kind is Kind.PROSE:
                opaque_after = _continues(segments, index)
                found += self._find_in(text, seg.start, seg.end, seg.para, opaque_after, True)
            elif seg.kind is Kind.LINK and text.startswith("[", seg.start):
                # A link's text is read for what the paragraph is about, never linked again.
                label_end = text.find("](", seg.start)
                if label_end < 0:
                    label_end = text.find("][", seg.start)
                if label_end > seg.start:
                    found += self._find_in(text, seg.start + 1, label_end, seg.para, True, False)
        if found:
            yield from self._resolve(found, page, page_entry)

    def _resolve(
        self, found: Sequence[_Found], page: str | None, page_entry: Entry | None
    ) -> Iterator[tuple[_Found, str | None]]:
        # The topics and entry ids the paragraph is about: the page's, and those its
        # plainly named entries show. Only an ambiguous name asks, and most paragraphs
        # have none: then no entry is read (nor recorded by a `reading` view, as linking
        # did not depend on it).
        subjects: set[str] = set()
        if page_entry is not None:
            subjects.update((page_entry.topic, page_entry.id))
        # (entries are read through `_entries.get`: a `reading` view records those reads)
        entries = self._entries
        if any(map(_AMBIGUOUS, found)):
            for item in found:
                if item.problem is None and not item.target.ambiguous:
                    entry_id = item.target.id
                    entry = entries.get(entry_id)
                    subjects.add(entry.topic if entry is not None else "")
                    subjects.add(entry_id)
        seen: set[str] = set()
        for item in found:
            target = item.target
            reason = item.problem
            if reason is None and target.ambiguous:
                reason = self._ambiguity(target.id, subjects)
            if reason is None and not item.linkable:
                reason = "inside a link's text (read only for what the paragraph is about)"
            elif reason is None and target.id == page:
                reason = "the page's own entry"
            elif reason is None and target.id in seen:
                reason = "mentioned before in this paragraph (one link per entry)"
            if reason is None:
                seen.add(target.id)
                yield item, None
            elif item.linkable:
                yield item, reason

    def _ambiguity(self, entry_id: str, subjects: Collection[str]) -> str | None:
        """None if the paragraph is about the subject of ambiguous `entry_id`, else why not."""
        entry = self._entries.get(entry_id)
        wanted = (entry.topic, *entry.context) if entry is not None else ()
        for subject in wanted:
            if subject in subjects:
                return None
        return (
            f"an ambiguous name, and nothing else in the paragraph is about "
            f"{' or '.join(s for s in wanted if s) or 'its subject'}"
        )

    def _find_in(
        self,
        text: str,
        start: int,
        end: int,
        para: int,
        opaque_after: bool,
        linkable: bool,
    ) -> Iterator[_Found]:
        firsts, lasts, norms, gaps = _words(text, start, end)
        index = self.index
        starts, prefixes, table, longest = index.starts, index.prefixes, index.table, index.longest
        maybe_function_word = self.ru.maybe_function_word
        make = tuple.__new__  # _Found's own constructor, without its Python wrapper
        i = 0  # the first word not yet part of a name found
        count = len(norms)
        # Only a word that begins a key can begin a name, and most words begin none: they
        # are passed over in one C loop rather than one by one.
        for k in compress(range(count), map(starts.__contains__, norms)):
            if k < i:
                continue  # inside the name found before
            i = k
            word = norms[i]
            key: Key = (word,)
            # The longest key starting at word `i` that names an entry here (inlined: this
            # runs for most words of every text).
            keys = [key]
            for n in range(1, min(longest, count - i)):
                if key not in prefixes:
                    break  # no name goes on from here: most words end the search at once
                key += (gaps[i + n - 1], norms[i + n])
                keys.append(key)
            hit = None
            for n in range(len(keys), 0, -1):
                targets = table.get(keys[n - 1])
                if targets:
                    hit = self._fitting(text, firsts, lasts, gaps, i, n, targets)
                    if hit is not None:
                        break
            if hit is None:
                continue
            target = hit
            first, last = firsts[i], lasts[i + n - 1]
            i += n
            problem = None
            if target.rank == RANK_NOT_IN:
                problem = f"a phrase in which the name does not mean {target.id} (not_in)"
            elif n == 1:
                word = norms[i - 1]
                previous = norms[i - 2] if i >= 2 and gaps[i - 2] == " " else None
                if in_fixed_expression(previous, word):
                    problem = f"part of the fixed expression «{previous} {word}»"
                elif maybe_function_word(word) and function_word_use(
                    self.ru, word, previous, _following(norms, gaps, i - 1, opaque_after)
                ):
                    problem = f"the function word «{word}», not the term"
            # Either way the words are this entry's: no shorter term inside them.
            yield make(_Found, (first, last, text[first:last], para, target, problem, linkable))

    def _fitting(
        self,
        text: str,
        firsts: Sequence[int],
        lasts: Sequence[int],
        gaps: Sequence[str],
        i: int,
        n: int,
        targets: tuple[_Target, ...],
    ) -> _Target | None:
        """The first of `targets` that the `n` words from word `i` can name, if any."""
        start, end = firsts[i], lasts[i + n - 1]
        # Most names stand between spaces and punctuation that glues nothing: the
        # characters beside them are looked at here, without calling `_glued`.
        before = text[start - 1] if start > 0 else " "
        after = text[end] if end < len(text) else " "
        if (before in _GLUE_BEFORE or after in _GLUE_AFTER) and _glued(text, start, end):
            return None
        if n > 1 and _EMPHASIS_MARK.search(text, start, end) is not None:
            # «**слои** образов»: a link around it would cut the emphasis in two.
            return None
        for target in targets:
            if target.cased is None or self._case_fits(text, firsts, lasts, gaps, i, n, target):
                return target
        return None

    @staticmethod
    def _case_fits(
        text: str,
        firsts: Sequence[int],
        lasts: Sequence[int],
        gaps: Sequence[str],
        i: int,
        n: int,
        target: _Target,
    ) -> bool:
        """For match_case entries: the words as written, or capitalized at a sentence start."""
        assert target.cased is not None
        words = [
            fold_yo(text[s:e]) for s, e in zip(firsts[i : i + n], lasts[i : i + n], strict=True)
        ]
        written = join_key(words, gaps[i : i + n - 1])
        if written == target.cased:
            return True
        first = target.cased[0]
        capitalized = (first[:1].upper() + first[1:], *target.cased[1:])
        return written == capitalized and _sentence_start(text, firsts[i])


def index_key(entries: Sequence[Entry]) -> str:
    """The identity of `build_index(entries)`: a hash of everything the index is built
    from (names, the code and the dictionary); equal keys, equal indexes."""
    digest = hashlib.sha256(code_key().encode())
    names = [[e.id, *_name_fields(e)] for e in entries]
    digest.update(json.dumps(names, ensure_ascii=False).encode())
    return digest.hexdigest()[:32]


@cache  # read once per process: every index_key and the kept keys' file name ask
def code_key() -> str:
    """A hash of what turns names into keys besides the names: the code, the dictionary."""
    digest = hashlib.sha256()
    for module in (__file__, ru_module.__file__):
        digest.update(Path(module).read_bytes())
    # (their version attributes: importlib.metadata costs a deck build more than this)
    import pymorphy3
    import pymorphy3_dicts_ru

    for package in (pymorphy3, pymorphy3_dicts_ru):
        digest.update(package.__version__.encode())
    return digest.hexdigest()[:32]


def _name_fields(entry: Entry) -> list[object]:
    """Every field of `entry` that its keys are made from (`_entry_keys`), but its id."""
    return [
        entry.term,
        entry.aliases,
        entry.forms,
        entry.en,
        entry.match_case,
        entry.collocations,
        entry.not_in,
        entry.ambiguous,
    ]


def _entry_keys_path(cache_dir: Path) -> Path:
    return cache_dir / f"entry-keys-{code_key()}.json"


def _names_digest(entry: Entry) -> str:
    text = json.dumps(_name_fields(entry), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _names(entry: Entry) -> Iterator[tuple[str, int]]:
    for phrase in entry.not_in:
        yield phrase, RANK_NOT_IN
    for phrase in entry.collocations:
        yield phrase, RANK_COLLOCATION
    for name in entry.names:
        yield name, RANK_NAME
    for form in entry.forms:
        yield form, RANK_FORM
    if entry.english_name:
        yield entry.english_name, RANK_ENGLISH


def _apply_case(pattern: str, form: str) -> str:
    """`form` written in the case of `pattern`: RUN → RUN, Деплоймент → Деплойменты."""
    pattern = fold_yo(pattern)
    if len(pattern) > 1 and pattern.isupper():
        return form.upper()
    if pattern.lower() == form:
        return pattern  # the name as written, mixed case and all (ReplicaSet)
    if pattern[:1].isupper():
        return form[:1].upper() + form[1:]
    return form


_EMPHASIS_MARK = re.compile(f"[{re.escape(EMPHASIS)}]")


# Every character `_glued` may find glue in, before the words and after them.
_GLUE_BEFORE = "-$@/\\_#.:"
_GLUE_AFTER = "@/\\_.:"
# Whether a candidate names an entry by a name the entry lists as `ambiguous` (C code).
_AMBIGUOUS = attrgetter("target.ambiguous")


def _glued(text: str, start: int, end: int) -> bool:
    """Whether the words are part of an identifier (docker-compose.yml, --image, $HOME).

    An underscore that opens or closes emphasis (`_Мастер_ —`) is markup, not glue.
    """
    before = text[start - 1] if start > 0 else " "
    if before == "_" and _emphasis_opens(text, start):
        before = " "
    if before in "-$@/\\_#" or (before in ".:" and start >= 2 and text[start - 2].isalnum()):
        return True
    after = text[end] if end < len(text) else " "
    if after == "_" and _emphasis_closes(text, end):
        after = " "
    return after in "@/\\_" or (after in ".:" and end + 1 < len(text) and text[end + 1].isalnum())


_BEFORE_EMPHASIS = " \t\r\n([{«\"'“„>"


def _emphasis_opens(text: str, pos: int) -> bool:
    """Whether the run of `*`/`_` right before `pos` opens emphasis: after a space or bracket."""
    k = pos
    while k > 0 and text[k - 1] in EMPHASIS:
        k -= 1
    return k < pos and (k == 0 or text[k - 1] in _BEFORE_EMPHASIS)


def _emphasis_closes(text: str, pos: int) -> bool:
    """Whether the run of `*`/`_` at `pos` closes emphasis: before a space or punctuation."""
    k = pos
    while k < len(text) and text[k] in EMPHASIS:
        k += 1
    return k > pos and (k == len(text) or not (text[k].isalnum() or text[k] in "-$@/\\#"))


def _continues(segments: Sequence[Segment], index: int) -> bool:
    """Whether the paragraph goes on after segment `index` with something other than prose."""
    para = segments[index].para
    for other in segments[index + 1 :]:
        if other.para != para:
            return False
        if other.kind is not Kind.TEXT or other.end > other.start:
            return True
    return False


def _following(
    norms: Sequence[str], gaps: Sequence[str], i: int, opaque_after: bool
) -> Iterable[str | None]:
    """The words after word `i` while only spaces separate them; then None (punctuation)."""
    for k in range(i + 1, len(norms)):
        if gaps[k - 1] != " ":
            yield None
            return
        yield norms[k]
    yield _OPAQUE if opaque_after else None


_BLOCK_START = re.compile(r"^[ \t]*(?:(?:[-*+]|\d{1,9}[.)]|>|#{1,6})[ \t]+)*[*_«\"(\[]*$")


def _sentence_start(text: str, pos: int) -> bool:
    """Whether the word at `pos` begins a sentence, a paragraph, a list item or a quote."""
    line_start = text.rfind("\n", 0, pos) + 1
    if _BLOCK_START.match(text[line_start:pos]):
        before = text[:line_start].rstrip(" \t")
        # A line that starts a block: the first line, one after a blank line, a list item.
        if not before or before.endswith("\n\n") or LIST_ITEM.match(text[line_start:pos]):
            return True
    k = pos - 1
    while k >= 0 and text[k] in _MARKUP:
        k -= 1
    return k < 0 or text[k] in _SENTENCE_END
