"""Editorial and learning checks: what makes a card teach, apart from what makes it valid.

`check` says whether the cards can be built; `lint` says whether they are good cards.
Each finding is a warning in the compiler's form, `file:line:col: warning: … (how to fix)`;
`konspekt lint --strict` turns warnings into a failure, for CI. The rules:

- name-visible: a name of the entry is still on the question side after masking
  (a form the masker does not know: add it to `aliases` or `forms`, or give a `clue`);
- masked: so much of the question is masked that it no longer reads (give a `clue`);
- long-answer: the definition a card asks to recall is over 30 words;
- confusable: two definitions say nearly the same (a learner will mix them up);
- meta: card text refers to «конспект» or «заметки», context a card does not carry;
- missing-en, missing-related: an entry without its English name or related terms;
- typography: a hyphen as a dash, "straight quotes", «е» where «ё» is meant.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import combinations

from .errors import Pos
from .link import Linker
from .mask import MASK, Masker
from .model import Entry, Glossary
from .ru import WORD_RE, is_cyrillic, lemma, normalize

MAX_ANSWER_WORDS = 30
# A question with more masks than this, or masks for more than a fifth of its words,
# reads as a puzzle rather than a definition.
MAX_MASKS = 2
# Two definitions sharing this share of their content words read as the same answer.
CONFUSABLE = 0.5
_META = re.compile(r"\b(конспект|заметк)", re.IGNORECASE)
_NOT_CONFUSE = re.compile(r"не путать", re.IGNORECASE)
# Words that carry no meaning of their own when comparing definitions.
_STOP_WORDS = (
    "и в во на с со к по из за для от до о об при а но или что как который это его её "
    "их он она оно они не так же ли бы также то чтобы где когда если уже только один "
    "одна одно каждый весь свой этот тот такой через без под над между у"
)
_STOP = frozenset(_STOP_WORDS.split())


@dataclass(frozen=True, order=True)
class LintWarning:
    """One editorial finding, with where it is and how to fix it."""

    pos: Pos
    rule: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.pos}: warning: {self.message}{hint} [{self.rule}]"


def lint_glossary(glossary: Glossary, linker: Linker | None = None) -> list[LintWarning]:
    """Every warning for the glossary, ordered by file and line."""
    linker = linker or Linker.for_glossary(glossary)
    found: list[LintWarning] = []
    for entry in glossary.entries:
        masker = Masker.of(linker, entry.id)
        found += _name_visible(entry, masker)
        found += _masked(entry, masker)
        found += _long_answer(entry)
        found += _meta(entry)
        found += _missing(entry)
        found += _typography(entry)
    found += _confusable(glossary.entries, linker)
    return sorted(found)


def words_of(text: str) -> list[str]:
    return WORD_RE.findall(_prose(text))


def _prose(text: str) -> str:
    """Text outside code spans and fenced blocks."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return re.sub(r"`[^`]*`", "", text)


# --- the question never shows the answer -------------------------------------------------


def _name_visible(entry: Entry, masker: Masker) -> Iterator[LintWarning]:
    """A name left on the question: by its lemma, for names the masker has no form of."""
    question = masker.mask(entry.clue or entry.definition)
    field = "clue" if entry.clue else "definition"
    # A form the masker knows and still left (the preposition «под») was left on purpose.
    known = {key[0] for key in masker.keys if len(key) == 1}
    shown = {
        lemma(word): word
        for word in WORD_RE.findall(question.replace(MASK, " "))
        if normalize(word) not in known
    }
    names = [*entry.names, *([entry.english_name] if entry.english_name else [])]
    reported: set[str] = set()
    for name in names:
        parts = [lemma(w) for w in WORD_RE.findall(name) if len(w) >= 3 or not is_cyrillic(w)]
        # A multiword name shows when all its words do; a generic word of it («образ» in
        # «Базовый образ») alone is context, not the answer.
        if parts and all(part in shown for part in parts) and name not in reported:
            reported.add(name)
            visible = " … ".join(shown[part] for part in parts)
            yield LintWarning(
                entry.pos_of(field),
                "name-visible",
                f"the question of '{entry.id}' still shows «{visible}», a form of its name "
                f"«{name}»",
                "reword it, add the form to `forms` or `aliases`, or give a `clue`",
            )


def _masked(entry: Entry, masker: Masker) -> Iterator[LintWarning]:
    question = masker.mask(entry.clue or entry.definition)
    masks = question.count(MASK)
    words = len(WORD_RE.findall(question.replace(MASK, " ")))
    if masks > MAX_MASKS or (masks and masks * 5 > words):
        field = "clue" if entry.clue else "definition"
        yield LintWarning(
            entry.pos_of(field),
            "masked",
            f"the question of '{entry.id}' hides its names {masks} times in {words} words: "
            "it no longer reads",
            "reword the definition without them, or give a `clue` for the question",
        )


# --- answers one can recall ------------------------------------------------------------


def _long_answer(entry: Entry) -> Iterator[LintWarning]:
    count = len(WORD_RE.findall(entry.definition))
    if count > MAX_ANSWER_WORDS:
        yield LintWarning(
            entry.pos_of("definition"),
            "long-answer",
            f"the definition of '{entry.id}' is {count} words; a card asks to recall it",
            f"keep one idea in at most {MAX_ANSWER_WORDS} words; move the rest to `details`",
        )


def _content_lemmas(text: str) -> frozenset[str]:
    return frozenset(
        lemma(word) for word in words_of(text) if len(word) > 2 and word.lower() not in _STOP
    )


def _confusable(entries: Iterable[Entry], linker: Linker) -> Iterator[LintWarning]:
    """Pairs of definitions that share most of their content words."""
    entries = list(entries)
    lemmas = {entry.id: _content_lemmas(entry.definition) for entry in entries}
    by_lemma: defaultdict[str, list[str]] = defaultdict(list)
    for entry_id, found in lemmas.items():
        for word in found:
            by_lemma[word].append(entry_id)
    # Only pairs that share some word can be alike: count shared words through the index,
    # skipping words most definitions use, so a large glossary is not compared pairwise.
    limit = max(20, len(entries) // 10)
    shared: Counter[tuple[str, str]] = Counter()
    for ids in by_lemma.values():
        if len(ids) <= limit:
            shared.update(combinations(sorted(ids), 2))
    by_id = {entry.id: entry for entry in entries}
    for (one, other), common in sorted(shared.items()):
        union = len(lemmas[one] | lemmas[other])
        if not union or common / union < CONFUSABLE:
            continue
        first, second = sorted((by_id[one], by_id[other]), key=lambda e: e.pos)
        if _told_apart(first, second, linker) or _told_apart(second, first, linker):
            continue
        yield LintWarning(
            second.pos_of("definition"),
            "confusable",
            f"the definitions of '{second.id}' and '{first.id}' ({first.pos}) share "
            f"{common} of {union} words: a learner will mix them up",
            f"say what differs, and add «Не путать с {first.term}: …» to `details`",
        )


def _told_apart(entry: Entry, other: Entry, linker: Linker) -> bool:
    """Whether `entry`'s details have a «не путать с» paragraph that names `other`."""
    return any(
        _NOT_CONFUSE.search(paragraph) and any(m.id == other.id for m in linker.find(paragraph))
        for paragraph in (entry.details or "").split("\n\n")
    )


# --- text a card carries on its own ------------------------------------------------------


def _meta(entry: Entry) -> Iterator[LintWarning]:
    for field, text in entry.card_texts():
        match = _META.search(_prose(text))
        if match:
            yield LintWarning(
                entry.pos_of(field),
                "meta",
                f"the {field} of '{entry.id}' refers to «{match.group(0)}…»: a card does not "
                "carry that context",
                "say it without the notes; their wording stays in `source`",
            )


def _missing(entry: Entry) -> Iterator[LintWarning]:
    if not entry.en:
        yield LintWarning(
            entry.pos,
            "missing-en",
            f"entry '{entry.id}' has no English name",
            "add `en:` — the name English documentation uses",
        )
    if not entry.related:
        yield LintWarning(
            entry.pos,
            "missing-related",
            f"entry '{entry.id}' has no related entries",
            "add `related:` with the ids of the terms a learner should see next to it",
        )


_YO = re.compile(r"развертыв|развернут|\bеще\b|\bвсе еще\b")


def _typography(entry: Entry) -> Iterator[LintWarning]:
    for field, text in entry.card_texts():
        prose = _prose(text)
        if " - " in prose:
            yield LintWarning(
                entry.pos_of(field),
                "typography",
                f"a hyphen between words in the {field} of '{entry.id}'",
                "use a dash «—»",
            )
        if '"' in prose:
            yield LintWarning(
                entry.pos_of(field),
                "typography",
                f"straight quotes \" in the {field} of '{entry.id}'",
                "use «ёлочки» in Russian text",
            )
        found = _YO.search(prose.lower())
        if found:
            yield LintWarning(
                entry.pos_of(field),
                "typography",
                f"«{found.group(0).strip()}» in the {field} of '{entry.id}' is written with ё",
                "write ё: развёртывание, ещё",
            )
