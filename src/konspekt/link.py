"""Find mentions of glossary terms in Russian Markdown (written out by `markdown_safe`).

The linker works in one pass over the words of the prose: every form of every name of
every entry (see `ru`) is a key of one dict, keyed by normalized word tuples with the
separators between them; at each word it looks up the longest key first. No regular
expression per term, no parsing of the text itself; pymorphy3 is consulted only for the
few forms that are also function words («под», «том»).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from types import MappingProxyType

from . import ru as ru_module
from .errors import BuildError
from .markdown_safe import LIST_ITEM, Document, Kind, Segment, scan
from .model import Entry, Glossary
from .output import write_file
from .ru import (
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
    russian,
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


# --- the linker ---

# Ranks of the ways a key can name an entry: a name as written beats a form the entry
# lists, which beats a generated form, which beats the English name.
RANK_NAME, RANK_FORM, RANK_GENERATED, RANK_ENGLISH = range(4)


@dataclass(frozen=True)
class _Target:
    id: str
    rank: int
    order: int
    cased: tuple[str, ...] | None  # match_case entries: the key with its letters' case


# Stands for a word we cannot see past (code, a link) when a rule looks ahead.
_OPAQUE = "_"
_SENTENCE_END = ".!?…"
_MARKUP = " \t\r\n*_~\"'«„“(>[-+|"


Key = tuple[str, ...]  # normalized words with the normalized separators between them
_CACHE_FORMAT = 1


@dataclass(frozen=True)
class LinkIndex:
    """Every form of every name → the entries it may name, best first: the linker's data.

    A plain value, built from the entries by `build_index` and kept between builds as
    JSON, which loading cannot turn into code (a cache file in a checkout is input).
    """

    targets: Mapping[Key, tuple[_Target, ...]]
    # Derived from `targets`: an entry's keys, the longest name in words, and every proper
    # prefix of every key (a lookup stops at the first word that no name has there).
    keys: Mapping[str, tuple[Key, ...]] = field(init=False, repr=False, compare=False)
    longest: int = field(init=False, repr=False, compare=False)
    prefixes: frozenset[Key] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys: dict[str, set[Key]] = {}
        prefixes: set[Key] = set()
        longest = 1
        for key, targets in self.targets.items():
            longest = max(longest, (len(key) + 1) // 2)
            prefixes.update(key[:n] for n in range(1, len(key), 2))
            for target in targets:
                keys.setdefault(target.id, set()).add(key)
        sorted_keys = {entry_id: tuple(sorted(found)) for entry_id, found in keys.items()}
        object.__setattr__(self, "keys", MappingProxyType(sorted_keys))
        object.__setattr__(self, "longest", longest)
        object.__setattr__(self, "prefixes", frozenset(prefixes))

    def to_json(self) -> str:
        rows = [
            [list(key), [[t.id, t.rank, t.order, None if t.cased is None else list(t.cased)]
                         for t in targets]]
            for key, targets in sorted(self.targets.items())
        ]  # fmt: skip
        return json.dumps({"format": _CACHE_FORMAT, "targets": rows}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str, ids: Collection[str]) -> LinkIndex:
        """The index `to_json` wrote; ValueError unless it is exactly that shape, naming `ids`."""
        try:
            data = json.loads(text)
            if data["format"] != _CACHE_FORMAT:
                raise ValueError("another format")
            targets: dict[Key, tuple[_Target, ...]] = {}
            for key, row in data["targets"]:
                found = []
                for entry_id, rank, order, cased in row:
                    if entry_id not in ids or type(rank) is not int or type(order) is not int:
                        raise ValueError("not a target of these entries")
                    found.append(
                        _Target(entry_id, rank, order, None if cased is None else _words(cased))
                    )
                targets[_words(key)] = tuple(found)
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a linker index: {error}") from None
        return cls(MappingProxyType(targets))


def _words(value: object) -> Key:
    if not isinstance(value, list) or not all(isinstance(word, str) for word in value):
        raise ValueError("not a list of words")
    return tuple(value)


def build_index(entries: Sequence[Entry], ru: Russian) -> LinkIndex:
    """Every form of every name of `entries`: the costly half of linking, done once."""
    index: dict[Key, list[_Target]] = {}

    def add(key: Key, target: _Target) -> None:
        targets = index.setdefault(key, [])
        for i, other in enumerate(targets):
            if other.id == target.id and other.cased == target.cased:
                if (target.rank, target.order) < (other.rank, other.order):
                    targets[i] = target
                return
        targets.append(target)

    for order, entry in enumerate(entries):
        for name, rank in _names(entry):
            words, gaps = name_parts(name)
            if not words:
                continue
            if rank == RANK_FORM:
                forms = {tuple(normalize(w) for w in words)}
            else:
                forms = set(ru.phrase_forms(words))
            exact = name_key(name)
            for form in forms:
                key = join_key(list(form), gaps)
                # A generated form ranks below every name as written: «поды» as a form of
                # «Под» yields to an entry whose name is «Поды».
                form_rank = rank if key == exact or rank != RANK_NAME else RANK_GENERATED
                cased = None
                if entry.match_case:
                    cased = join_key(
                        [_apply_case(w, f) for w, f in zip(words, form, strict=True)], gaps
                    )
                add(key, _Target(entry.id, form_rank, order, cased))
    for key, targets in index.items():
        targets.sort(key=lambda t: (t.rank, t.order))
        if len({t.id for t in targets if t.rank == targets[0].rank and not t.cased}) > 1:
            log.debug("'%s' names several entries: %s", " ".join(key), targets)
    return LinkIndex(MappingProxyType({key: tuple(targets) for key, targets in index.items()}))


class Linker:
    """Finds entry mentions in Markdown; build once per glossary, use for every text."""

    def __init__(
        self, entries: Sequence[Entry], ru: Russian | None = None, index: LinkIndex | None = None
    ) -> None:
        self.entries = entries
        self.ru = ru if ru is not None else russian()
        self.index = index if index is not None else build_index(entries, self.ru)

    @classmethod
    def for_glossary(cls, glossary: Glossary, cache_dir: Path | None = None) -> Linker:
        """The linker of a glossary; with `cache_dir`, its index is kept between builds.

        Building the index (every form of every name) is most of the linker's cost, and
        it depends only on the names: editing a definition, the usual change, reuses it.
        """
        entries = glossary.entries
        if cache_dir is None:
            return cls(entries)
        path = cache_dir / f"linker-{_index_key(entries)}.json"
        try:
            index = LinkIndex.from_json(path.read_text(encoding="utf-8"), glossary.by_id)
            return cls(entries, index=index)
        except (OSError, ValueError):  # none yet, or damaged: built again, never trusted
            pass
        linker = cls(entries)
        for old in cache_dir.glob("linker-*"):
            old.unlink(missing_ok=True)  # one index is kept: the current one
        try:
            write_file(path, linker.index.to_json().encode("utf-8"))
        except BuildError as error:
            log.warning("could not save the linker index: %s", error)
        return linker

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
        mentions: list[Mention] = []
        seen: set[str] = set()
        para = -1
        for index, seg in enumerate(segments):
            if seg.para != para:
                para, seen = seg.para, set()
            if seg.kind is Kind.PROSE:
                opaque_after = _continues(segments, index)
                mentions.extend(self._find_in(text, seg, opaque_after, page, seen))
        return Document(text, tuple(segments), tuple(mentions))

    def _find_in(
        self,
        text: str,
        seg: Segment,
        opaque_after: bool,
        page: str | None,
        seen: set[str],
    ) -> Iterator[Mention]:
        spans = [m.span() for m in WORD_RE.finditer(text, seg.start, seg.end)]
        norms = [normalize(text[s:e]) for s, e in spans]
        gaps = [gap(text[spans[i][1] : spans[i + 1][0]]) for i in range(len(spans) - 1)]
        i = 0
        while i < len(spans):
            hit = self._lookup(text, spans, norms, gaps, i)
            if hit is None:
                i += 1
                continue
            n, target = hit
            start, end = spans[i][0], spans[i + n - 1][1]
            i += n
            if n == 1:
                previous = norms[i - 2] if i >= 2 and gaps[i - 2] == " " else None
                following = _following(norms, gaps, i - 1, opaque_after)
                if in_fixed_expression(previous, norms[i - 1]) or function_word_use(
                    self.ru, norms[i - 1], previous, following
                ):
                    continue
            if target.id == page or target.id in seen:
                continue  # the words are still this entry's: no shorter term inside them
            seen.add(target.id)
            yield Mention(start, end, text[start:end], target.id)

    def _lookup(
        self,
        text: str,
        spans: Sequence[tuple[int, int]],
        norms: Sequence[str],
        gaps: Sequence[str],
        i: int,
    ) -> tuple[int, _Target] | None:
        """The longest key starting at word `i` that names an entry here, and that entry."""
        longest = min(self.index.longest, len(norms) - i)
        key: tuple[str, ...] = (norms[i],)
        keys = [key]
        for n in range(1, longest):
            if key not in self.index.prefixes:
                break  # no name goes on from here: most words end the search at once
            key += (gaps[i + n - 1], norms[i + n])
            keys.append(key)
        for n in range(len(keys), 0, -1):
            targets = self.index.targets.get(keys[n - 1])
            if not targets:
                continue
            start, end = spans[i][0], spans[i + n - 1][1]
            if _glued(text, start, end):
                continue
            for target in targets:
                if target.cased is None or self._case_fits(text, spans, gaps, i, n, target):
                    return n, target
        return None

    @staticmethod
    def _case_fits(
        text: str,
        spans: Sequence[tuple[int, int]],
        gaps: Sequence[str],
        i: int,
        n: int,
        target: _Target,
    ) -> bool:
        """For match_case entries: the words as written, or capitalized at a sentence start."""
        assert target.cased is not None
        words = [fold_yo(text[s:e]) for s, e in spans[i : i + n]]
        written = join_key(words, gaps[i : i + n - 1])
        if written == target.cased:
            return True
        first = target.cased[0]
        capitalized = (first[:1].upper() + first[1:], *target.cased[1:])
        return written == capitalized and _sentence_start(text, spans[i][0])


def _index_key(entries: Sequence[Entry]) -> str:
    """A hash of everything the index is built from: names, and the code and dictionary."""
    digest = hashlib.sha256()
    for module in (__file__, ru_module.__file__):
        digest.update(Path(module).read_bytes())
    for package in ("pymorphy3", "pymorphy3-dicts-ru"):
        digest.update(version(package).encode())
    names = [[e.id, e.term, e.aliases, e.forms, e.en, e.match_case] for e in entries]
    digest.update(json.dumps(names, ensure_ascii=False).encode())
    return digest.hexdigest()[:32]


def _names(entry: Entry) -> Iterator[tuple[str, int]]:
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


def _glued(text: str, start: int, end: int) -> bool:
    """Whether the words are part of an identifier (docker-compose.yml, --image, $HOME)."""
    before = text[start - 1] if start > 0 else " "
    if before in "-$@/\\_#" or (before in ".:" and start >= 2 and text[start - 2].isalnum()):
        return True
    after = text[end] if end < len(text) else " "
    return after in "@/\\_" or (after in ".:" and end + 1 < len(text) and text[end + 1].isalnum())


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
