"""Study notes in: what of a learner's Markdown notes the cards cover, and what is new.

`konspekt notes` reads notes as people write them (headings, bold, lists, «X – это …»
lines, typos), splits them into paragraphs and list items, and for each one finds the
entries that cover it — their `source` quotes it, or the linker finds their terms in
it — and the candidate terms nobody has written an entry for yet: bold phrases, the
subject of a «X – …» line, Latin names, and jargon the dictionary does not know. Every
candidate is keyed by its lemma, so «поды» and «подами» are one, and a known name in a
new form («Jobs» beside the alias «Job») is not a candidate. It also reports entries
whose `source` no longer occurs in the notes it quotes (drift), with the closest
passage, and drafts a topic file for the candidates (`draft_yaml`).

This module is named for the learner's notes; `deck/notes.py` is about Anki notes.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tempfile
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import NotesError
from .link import Linker, Mention
from .model import Entry, Glossary
from .ru import WORD_RE, Russian, declension_rule, is_cyrillic, is_latin, name_key, normalize
from .validate import TODO

# --- the notes as blocks of plain text ---


@dataclass(frozen=True)
class Block:
    """A paragraph or list item: its first line, its text with the Markdown markup removed,
    and where in that text bold (or code) runs are."""

    path: str
    line: int
    kind: str  # "paragraph" or "item"
    text: str
    emphasis: tuple[tuple[int, int], ...] = ()

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}(?:[ \t]|$)")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")
_RULE = re.compile(r"^[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*$")


def read_notes(path: Path, shown: str | None = None) -> list[Block]:
    """The blocks of a notes file; NotesError if it cannot be read as UTF-8 text."""
    where = shown or str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise NotesError(f"{where}: cannot read the notes: {error.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        line_start = data.rfind(b"\n", 0, error.start) + 1
        col = len(data[line_start : error.start].decode("utf-8")) + 1  # characters, not bytes
        raise NotesError(
            f"{where}:{line}:{col}: the notes are not UTF-8 text (save the file as UTF-8)"
        ) from None
    return blocks_of(text, where)


def blocks_of(text: str, path: str) -> list[Block]:
    """Paragraphs and list items of Markdown `text`; headings and code blocks are left out."""
    blocks: list[Block] = []
    lines: list[str] = []
    start, kind = 0, "paragraph"
    fence: str | None = None

    def close() -> None:
        raw = "\n".join(lines).strip()
        if raw:
            plain, emphasis = strip_inline(raw)
            if WORD_RE.search(plain):
                blocks.append(Block(path, start, kind, plain, emphasis))
        lines.clear()

    for number, line in enumerate(text.splitlines(), start=1):
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1) == fence:
                fence = None
            continue
        if opened:
            close()
            fence = opened.group(1)
        elif not line.strip() or _HEADING.match(line) or _RULE.match(line):
            close()
        elif item := _LIST_ITEM.match(line):
            close()
            start, kind = number, "item"
            lines.append(line[item.end() :])
        else:
            if not lines:
                start, kind = number, "paragraph"
            lines.append(line)
    close()
    return blocks


_INLINE = re.compile(r"\*\*|__|`[^`\n]*`|\[([^\]\n]*)\]\([^)\n]*\)|(?<!\w)[*_](?=\S)|(?<=\S)[*_]")


def strip_inline(raw: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """`raw` without emphasis, code and link markup, and the spans of bold and code in it.

    Bold runs separated only by spaces are one run: «**API** **Server**» is «API Server».
    """
    out: list[str] = []
    length = 0
    spans: list[tuple[int, int]] = []
    bold_from: int | None = None
    pos = 0
    for match in _INLINE.finditer(raw):
        piece = raw[pos : match.start()]
        out.append(piece)
        length += len(piece)
        pos = match.end()
        token = match.group(0)
        if token in ("**", "__"):
            if bold_from is None:
                bold_from = length
            else:
                spans.append((bold_from, length))
                bold_from = None
        elif token.startswith("`"):
            code = token[1:-1]
            spans.append((length, length + len(code)))
            out.append(code)
            length += len(code)
        elif token.startswith("["):
            out.append(match.group(1))
            length += len(match.group(1))
    out.append(raw[pos:])
    text = "".join(out)
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and not text[merged[-1][1] : s].strip():
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return text, tuple(merged)


# --- the report ---


@dataclass(frozen=True)
class Occurrence:
    """Where a candidate was seen, and as what."""

    text: str
    block: Block


@dataclass
class Candidate:
    """A term the notes use that no entry names, with every form it was seen in."""

    key: str  # the lemma, normalized: what makes two forms one candidate
    term: str  # the dictionary form, as a draft's `term`
    kind: str  # bold, definition, latin, jargon (the strongest seen)
    occurrences: list[Occurrence] = field(default_factory=list)

    @property
    def forms(self) -> list[str]:
        seen: dict[str, str] = {}
        for occurrence in self.occurrences:
            seen.setdefault(normalize(occurrence.text), occurrence.text)
        return list(seen.values())

    @property
    def places(self) -> list[str]:
        return list(dict.fromkeys(o.block.where for o in self.occurrences))


@dataclass(frozen=True)
class Paragraph:
    block: Block
    quoted_by: tuple[str, ...]  # entries whose source quotes it
    mentions: tuple[str, ...]  # entries the linker finds in it
    candidates: tuple[str, ...]  # candidate keys seen in it

    @property
    def covered_by(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.quoted_by, *self.mentions)))

    @property
    def status(self) -> str:
        if not self.covered_by:
            return "not covered"
        return "partly covered" if self.candidates else "covered"


@dataclass(frozen=True)
class Drift:
    """An entry's `source` no longer found in the notes it quotes, and the closest passage."""

    entry: Entry
    quote: str
    closest: str
    where: str
    ratio: float


@dataclass(frozen=True)
class NotesReport:
    paragraphs: tuple[Paragraph, ...]
    candidates: tuple[Candidate, ...]
    drift: tuple[Drift, ...]

    def counts(self) -> dict[str, int]:
        statuses = [p.status for p in self.paragraphs]
        return {
            "paragraphs": len(self.paragraphs),
            "covered": statuses.count("covered"),
            "partly_covered": statuses.count("partly covered"),
            "not_covered": statuses.count("not covered"),
            "candidates": len(self.candidates),
            "drifted_sources": len(self.drift),
        }


def _mentions(linker: Linker, blocks: Sequence[Block], index: int) -> list[Mention]:
    """The linker's mentions in block `index`, read with its neighbours as context: a
    lead-in line («В узлах присутствуют такие сервисы как:») is about what follows, and
    an ambiguous name («узел») links only where its topic is near. The block comes first,
    so its own mentions are the ones found."""
    block = blocks[index]
    around = [blocks[k].text for k in (index - 1, index + 1) if 0 <= k < len(blocks)]
    text = " ".join([block.text, *around])
    return [m for m in linker.find(text) if m.end <= len(block.text)]


def analyze(glossary: Glossary, linker: Linker, notes: Sequence[Sequence[Block]]) -> NotesReport:
    """The report on notes files (each a list of blocks) against the glossary."""
    known = _Known(glossary, linker)
    finder = _CandidateFinder(linker.ru, known)
    # A jargon word's dictionary form is best the one the notes themselves use.
    finder.seen = frozenset(
        normalize(w) for blocks in notes for block in blocks for w in WORD_RE.findall(block.text)
    )
    fragments = {e.id: _fragments(e.source) for e in glossary.entries if e.source}
    paragraphs: list[Paragraph] = []
    found: list[tuple[str, str, str, Occurrence]] = []
    for blocks in notes:
        for index, block in enumerate(blocks):
            plain = _flat(block.text)
            quoted = tuple(
                entry_id
                for entry_id, parts in fragments.items()
                if any(p in plain or (len(plain) >= 12 and plain in p) for p in parts)
            )
            mentions = _mentions(linker, blocks, index)
            spans = [(m.start, m.end) for m in mentions]
            here = list(finder.find(block, spans))
            found += here
            paragraphs.append(
                Paragraph(
                    block,
                    quoted,
                    tuple(dict.fromkeys(m.id for m in mentions)),
                    tuple(dict.fromkeys(key for key, _, _, _ in here)),
                )
            )
    candidates = _group(found)
    keys_in_order = [c.key for c in candidates]
    paragraphs = [
        Paragraph(
            p.block,
            p.quoted_by,
            p.mentions,
            tuple(sorted(p.candidates, key=keys_in_order.index)),
        )
        for p in paragraphs
    ]
    drift = tuple(_drift(glossary, fragments, notes))
    return NotesReport(tuple(paragraphs), tuple(candidates), drift)


_KIND_RANK = {"definition": 0, "bold": 1, "latin": 2, "jargon": 3}


def _group(found: Iterable[tuple[str, str, str, Occurrence]]) -> list[Candidate]:
    by_key: dict[str, Candidate] = {}
    for key, term, kind, occurrence in found:
        candidate = by_key.get(key)
        if candidate is None:
            candidate = by_key[key] = Candidate(key, term, kind)
        elif _KIND_RANK[kind] < _KIND_RANK[candidate.kind]:
            candidate.kind = kind
        candidate.occurrences.append(occurrence)
    return list(by_key.values())


# --- what the glossary already names ---


class _Known:
    """Every name and every form the glossary knows, normalized, to test candidates."""

    def __init__(self, glossary: Glossary, linker: Linker) -> None:
        keys: set[tuple[str, ...]] = set()
        names: set[str] = set()
        for entry in glossary.entries:
            every = [*entry.names, *entry.forms, *([entry.en] if entry.en else [])]
            if entry.english_name:
                every.append(entry.english_name)
            for name in every:
                keys.add(name_key(name))
                names.add(" ".join(name_key(name)))
            keys.update(linker.keys_of(entry.id))
        self.keys = keys
        self.names = sorted(names)

    def knows(self, text: str) -> bool:
        """Whether `text` (a phrase, a lemma) is a name or a form of one, or a misspelling."""
        key = name_key(text)
        if key in self.keys:
            return True
        flat = " ".join(key)
        # A Latin name in a plural the linker does not generate: Jobs, WorkerNodes.
        if (
            is_latin(flat.replace(" ", ""))
            and flat.endswith("s")
            and (
                name_key(flat[:-1]) in self.keys
                or (flat.endswith("es") and name_key(flat[:-2]) in self.keys)
            )
        ):
            return True
        # A misspelled name: «Continueons Integration».
        return len(flat) >= 6 and bool(difflib.get_close_matches(flat, self.names, 1, 0.85))


# --- candidates ---

# «X – …», «X — это …», «X - это …» at the start of a paragraph: X is being defined.
_DEFINITION = re.compile(
    r"^\s*(?:[-–—]\s*)?(?P<subject>[^\n–—]{1,60}?)\s*(?:\s-|[–—])\s+(?:это\s)?"
)
_LATIN_ENDING = re.compile(r"^(?P<name>[a-z0-9][a-z0-9.+]*?)['’-](?:[а-яё]{1,3})$", re.IGNORECASE)
_CYRILLIC_LETTERS = "абвгдежзийклмнопрстуфхцчшщъыьэюя"
_FUNCTION_POS = frozenset({"PREP", "CONJ", "PRCL", "INTJ", "NPRO"})
_VERB_POS = frozenset({"VERB", "INFN", "GRND", "PRTS"})


class _CandidateFinder:
    def __init__(self, ru: Russian, known: _Known) -> None:
        self.ru = ru
        self.known = known
        self.seen: frozenset[str] = frozenset()  # every word of the notes, normalized
        self._morph = ru._morph  # word_is_known: dictionary words, not pymorphy3's guesses

    def find(
        self, block: Block, mentions: Sequence[tuple[int, int]]
    ) -> Iterator[tuple[str, str, str, Occurrence]]:
        """(lemma key, term, kind, occurrence) of every candidate in `block`."""
        text = block.text
        taken: list[tuple[int, int]] = list(mentions)
        phrases: list[tuple[int, int, str]] = [(s, e, "bold") for s, e in block.emphasis]
        definition = _DEFINITION.match(text)
        if definition:
            phrases.insert(0, (*definition.span("subject"), "definition"))
        for start, end, kind in phrases:
            start, end = _trim(text, start, end)
            if (start, end) in taken:
                continue  # the bold subject of a definition: seen once
            phrase = text[start:end]
            words = WORD_RE.findall(phrase)
            if not words or len(words) > 4 or all(is_latin(w) for w in words):
                continue  # not a name, or a Latin one: the word scan below sees it
            if not _free(start, end, mentions):
                taken.append((start, end))  # a known term's phrase: nothing new inside
                continue
            if any(self._pos(w) in _VERB_POS for w in words) or self._pos(words[0]) in (
                _FUNCTION_POS
            ):
                continue  # a sentence or a fragment of one, not a name
            taken.append((start, end))
            lemma = self.phrase_lemma(words)
            if self.known.knows(phrase) or self.known.knows(lemma):
                continue
            yield normalize(lemma), _term(lemma), kind, Occurrence(phrase, block)
        yield from self._words(block, mentions, taken)

    def _words(
        self, block: Block, mentions: Sequence[tuple[int, int]], taken: list[tuple[int, int]]
    ) -> Iterator[tuple[str, str, str, Occurrence]]:
        text = block.text
        spans = [m.span() for m in WORD_RE.finditer(text)]
        i = 0
        while i < len(spans):
            start, end = spans[i]
            word = text[start:end]
            if is_latin(word) and any(c.isalpha() for c in word) and len(word) > 1:
                # Capitalized Latin words in a row are one name: «Continueons Integration»,
                # new even beside a known one: «Service Mesh».
                j = i
                while (
                    word[:1].isupper()
                    and j + 1 < len(spans)
                    and text[spans[j][1] : spans[j + 1][0]] == " "
                    and text[spans[j + 1][0]].isupper()
                    and is_latin(text[spans[j + 1][0] : spans[j + 1][1]])
                ):
                    j += 1
                end = spans[j][1]
                name = text[start:end]
                covered = all(not _free(s, e, mentions) for s, e in spans[i : j + 1])
                i = j + 1
                # English words in prose are not names; a capital, code or bold makes one.
                marked = not word.islower() or not _free(start, end, block.emphasis)
                if covered or not marked or not _free(start, end, taken[len(mentions) :]):
                    continue
                if not self.known.knows(name):
                    yield name.lower(), name, "latin", Occurrence(name, block)
                continue
            i += 1
            if not _free(start, end, taken):
                continue
            glued = _LATIN_ENDING.match(word)
            if glued:  # «Helm'а»: a Latin name with a Russian case ending
                name = glued.group("name")
                if not self.known.knows(name):
                    yield name.lower(), name, "latin", Occurrence(word, block)
                continue
            lower = word.lower()
            if (
                not is_cyrillic(word)
                or len(word) < 4
                or self._morph.word_is_known(lower)
                or ("-" in lower and self._morph.word_is_known(lower.rsplit("-", 1)[1]))
                or self._pos(lower) != "NOUN"
                or self._typo(lower)
            ):
                continue
            lemma = self.word_lemma(lower)
            if self.known.knows(lemma):
                continue
            yield normalize(lemma), _term(lemma), "jargon", Occurrence(word, block)

    def _pos(self, word: str) -> str | None:
        parses = self.ru.parse(word.lower())
        return str(parses[0].tag.POS) if parses else None

    def _typo(self, word: str) -> bool:
        """Whether one letter more, less, doubled or swapped makes a dictionary word
        («комуникацию»): a typo of an ordinary word, not jargon."""
        known = self._morph.word_is_known
        for i in range(len(word) + 1):
            left, right = word[:i], word[i:]
            if right and known(left + right[1:]):
                return True
            if len(right) > 1 and known(left + right[1] + right[0] + right[2:]):
                return True
            for letter in _CYRILLIC_LETTERS:
                if known(left + letter + right) or (right and known(left + letter + right[1:])):
                    return True
        return False

    def word_lemma(self, word: str) -> str:
        """The dictionary form of a noun: nominative singular where pymorphy3 knows the
        word; for jargon, the base whose regular declension gives this form («подами» → «под»)."""
        lower = word.lower()
        if not is_cyrillic(lower):
            glued = _LATIN_ENDING.match(word)
            return glued.group("name") if glued else word
        if self._morph.word_is_known(lower):
            for parse in self.ru.parse(lower):
                if parse.tag.POS == "NOUN":
                    nominative = parse.inflect({"nomn", "sing"})
                    return nominative.word if nominative else str(parse.normal_form)
            return lower
        bases = jargon_bases(lower, self.seen)
        return bases[0] if bases else lower

    def phrase_lemma(self, words: Sequence[str]) -> str:
        """A phrase in the dictionary form: adjectives before the head agree with it."""
        if len(words) == 1:
            return self.word_lemma(words[0])
        lower = [w.lower() for w in words]
        for index, word in enumerate(lower):
            if not is_cyrillic(word):
                continue
            parses = [p for p in self.ru.parse(word) if p.tag.POS in ("ADJF", "PRTF")]
            later = any(is_cyrillic(w) for w in lower[index + 1 :])
            if parses and later:
                continue
            head = self.word_lemma(word)
            gender = self._gender(head)
            result = list(words)
            result[index] = head
            for k in range(index):
                if not is_cyrillic(lower[k]):
                    continue
                for parse in self.ru.parse(lower[k]):
                    if parse.tag.POS in ("ADJF", "PRTF"):
                        agreed = parse.inflect({"nomn", "sing", gender})
                        if agreed is not None:
                            result[k] = agreed.word
                        break
            return " ".join(result)
        return " ".join(words)

    def _gender(self, noun: str) -> str:
        for parse in self.ru.parse(noun):
            if parse.tag.POS == "NOUN" and parse.tag.gender:
                return str(parse.tag.gender)
        return declension_rule(noun).gender


_VOWELS = "аеёиоуыэюя"
# Endings that are rarely a jargon noun's dictionary form: «подами», «сайдкаров», «поды».
_INFLECTED = (
    *("ами", "ями", "ов", "ев", "ей", "ам", "ям", "ах", "ях"),
    *("ом", "ем", "ой", "ы", "и", "у", "ю", "е"),
)
_GENDER_ORDER = {"й": 1, "а": 2, "я": 3, "ь": 4}


def jargon_bases(word: str, seen: Collection[str] = ()) -> list[str]:
    """Dictionary forms whose regular declension (`ru.declension_rule`) gives `word`, best
    first: one the notes also use, then not the word itself when its ending looks like a
    case ending, masculine first («подами» → «под», «пода»; «сайдкар» → «сайдкар», «сайдкара»)."""
    found: list[str] = []
    for cut in range(0, min(4, len(word) - 1)):
        stem = word[: len(word) - cut]
        if not stem or not is_cyrillic(stem[-1]):
            continue
        vowel_end = stem[-1] in _VOWELS
        for ending in ("й",) if vowel_end else ("", "а", "я", "ь"):
            base = stem + ending
            if base in found or len(base) < 3:
                continue
            if any(form.text == word for form in declension_rule(base).forms):
                found.append(base)

    def rank(base: str) -> tuple[bool, bool, int, int]:
        inflected = base == word and word.endswith(_INFLECTED)
        return (base not in seen, inflected, _GENDER_ORDER.get(base[-1], 0), len(base))

    return sorted(found, key=rank)


def _free(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    """Whether [start, end) overlaps none of `spans`."""
    return all(end <= s or start >= e for s, e in spans)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """A phrase without the punctuation and dashes around it: «**Docker -**» is «Docker»."""
    while start < end and not (text[start].isalnum()):
        start += 1
    while end > start and not (text[end - 1].isalnum() or text[end - 1] in ")"):
        end -= 1
    return start, end


def _term(lemma: str) -> str:
    """A lemma as a term: Russian terms start with a capital («Сайдкар»), Latin names as written."""
    return lemma[:1].upper() + lemma[1:] if is_cyrillic(lemma[:1]) else lemma


# --- sources, quotes and drift ---


def _flat(text: str) -> str:
    """Text as quotes are compared: one space for any whitespace, «ё» as «е»."""
    return " ".join(text.replace("ё", "е").replace("Ё", "Е").split())


def _fragments(source: str) -> list[str]:
    """The parts of a quote, each verbatim from the notes: a quote may join lines and
    leave out words with «…»."""
    parts = re.split(r"\n|…|\.\.\.", source)
    return [flat for part in parts if len(flat := _flat(part).strip(" -–—")) >= 3]


def _passages(blocks: Sequence[Block]) -> Iterator[tuple[str, str]]:
    """Every block and each of its sentences, with where it is."""
    for block in blocks:
        flat = _flat(block.text)
        yield block.where, flat
        sentences = re.split(r"(?<=[.!?])\s+", flat)
        if len(sentences) > 1:
            for sentence in sentences:
                yield block.where, sentence


# A quote is taken to be from these notes when its closest passage is at least this alike;
# below it, the entry quotes other notes.
DRIFT_SIMILARITY = 0.6


def _drift(
    glossary: Glossary, fragments: dict[str, list[str]], notes: Sequence[Sequence[Block]]
) -> Iterator[Drift]:
    texts = [[_flat(b.text) for b in blocks] for blocks in notes]
    for entry in glossary.entries:
        parts = fragments.get(entry.id)
        if not parts:
            continue
        for flats in texts:
            if all(any(part in flat for flat in flats) for part in parts):
                break  # quoted from these notes, word for word
        else:
            best: tuple[float, str, str, str] | None = None
            for blocks in notes:
                for part in parts:
                    if any(part in flat for flat in (_flat(b.text) for b in blocks)):
                        continue
                    for where, passage in _passages(blocks):
                        ratio = difflib.SequenceMatcher(None, part, passage, False).ratio()
                        if best is None or ratio > best[0]:
                            best = (ratio, part, passage, where)
            if best is not None and best[0] >= DRIFT_SIMILARITY:
                ratio, part, passage, where = best
                yield Drift(entry, part, passage, where, ratio)


# --- the draft topic file ---

_LETTERS = "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya"
_TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", _LETTERS.split(" "), strict=True))


def slug(text: str) -> str:
    """An id from a term: transliterated, lowercase, dashes («Сайдкар» → «saydkar»)."""
    latin = "".join(_TRANSLIT.get(c, c) for c in text.lower() if c not in "ъь")
    return re.sub(r"[^a-z0-9]+", "-", latin).strip("-") or "term"


TODO_DEFINITION = f"{TODO}: определение своими словами, до 30 слов"


def draft_yaml(
    glossary: Glossary, candidates: Sequence[Candidate], topic_name: str, notes_name: str
) -> str:
    """A topic file with one entry per candidate, its definition left as a TODO that
    `check` rejects, so a draft cannot be published by accident."""
    ids = set(glossary.by_id)
    topics = set(glossary.topic_by_id)
    topic = _unique(slug(topic_name), topics)
    lines = [
        "# yaml-language-server: $schema=../schema/cards.schema.json",
        f"# Drafted by `konspekt notes` from {notes_name}: write each definition in place of",
        "# its TODO (`konspekt check` rejects a TODO), then review the terms and sources.",
        f"topic: {topic}",
        f"title: {_quoted('Черновик: ' + topic_name)}",
        "entries:",
    ]
    for candidate in candidates:
        entry_id = _unique(slug(candidate.term), ids)
        ids.add(entry_id)
        first = candidate.occurrences[0].block
        lines += [
            f"  - id: {entry_id}",
            f"    term: {_quoted(candidate.term)}",
            f"    definition: {_quoted(TODO_DEFINITION)}",
            f"    source: {_quoted(first.text)}",
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"


def _unique(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is YAML's)."""
    return json.dumps(text, ensure_ascii=False)


# --- output ---


def report_lines(report: NotesReport) -> list[str]:
    """The report as text: a line per paragraph, the candidates, the drift, the summary."""
    by_key = {c.key: c for c in report.candidates}
    lines = []
    for p in report.paragraphs:
        parts = []
        if p.covered_by:
            quoted = set(p.quoted_by)
            shown = [f"{i} (quoted)" if i in quoted else i for i in p.covered_by]
            parts.append(", ".join(shown))
        if p.candidates:
            parts.append("candidates: " + ", ".join(by_key[k].term for k in p.candidates))
        lines.append(f"{p.block.where}: {p.status}" + (": " + "; ".join(parts) if parts else ""))
    for c in report.candidates:
        forms = ", ".join(f"«{form}»" for form in c.forms)
        lines.append(f"candidate {c.term} ({c.kind}): {forms} at {', '.join(c.places)}")
    for d in report.drift:
        lines.append(
            f"{d.entry.pos_of('source')}: drift: the source of '{d.entry.id}' is no longer "
            f"in the notes: «{d.quote}»; closest at {d.where} ({d.ratio:.0%}): «{d.closest}»"
        )
    lines.append(summary_line(report))
    return lines


def summary_line(report: NotesReport) -> str:
    n = report.counts()
    return (
        f"{n['paragraphs']} paragraphs: {n['covered']} covered, "
        f"{n['partly_covered']} partly covered, {n['not_covered']} not covered; "
        f"{_count(n['candidates'], 'candidate')}; {_count(n['drifted_sources'], 'drifted source')}"
    )


def _count(number: int, one: str) -> str:
    return f"{number} {one}{'' if number == 1 else 's'}"


def report_json(report: NotesReport) -> str:
    data = {
        "paragraphs": [
            {
                "at": p.block.where,
                "kind": p.block.kind,
                "status": p.status,
                "quoted_by": list(p.quoted_by),
                "mentions": list(p.mentions),
                "candidates": list(p.candidates),
            }
            for p in report.paragraphs
        ],
        "candidates": [
            {
                "lemma": c.key,
                "term": c.term,
                "kind": c.kind,
                "forms": c.forms,
                "at": c.places,
            }
            for c in report.candidates
        ],
        "drift": [
            {
                "entry": d.entry.id,
                "at": str(d.entry.pos_of("source")),
                "quote": d.quote,
                "closest": {"at": d.where, "text": d.closest, "similarity": round(d.ratio, 2)},
            }
            for d in report.drift
        ],
        "summary": report.counts(),
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def write_draft(path: Path, text: str) -> None:
    """Write a draft to `path`, which must not exist: a hard link from a finished temporary
    file fails rather than replace a file, even one created meanwhile."""
    if path.exists() or path.is_symlink():
        raise NotesError(
            f"{path} exists; a draft is never written over a file "
            "(choose another --draft path, or move that file away)"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.draft-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temp, 0o644)
        os.link(temp, path)
    except FileExistsError:
        raise NotesError(
            f"{path} exists; a draft is never written over a file "
            "(choose another --draft path, or move that file away)"
        ) from None
    except OSError as error:
        raise NotesError(f"cannot write {path}: {error.strerror}") from None
    finally:
        os.unlink(temp)
