"""Russian behind a small interface: word forms of terms, function-word homonyms, collation.

The linker never parses the text it links: it generates every form of every term
once (here) and then only looks words up. pymorphy3 supplies the paradigms; where
its dictionary is wrong for IT jargon (it knows «под» only as an indeclinable
abbreviation, and guesses «пайплайн» from a girl's name) a plain declension rule
by the word's ending takes over, and an entry's own `forms` cover the rest.

Everything is normalized the same way before comparing: lower case, «ё» as «е»,
a typographic apostrophe as a straight one.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from itertools import chain, repeat
from typing import Any, cast

import pymorphy3

# A word: letters and digits, with inner hyphens and apostrophes («мастер-нода», «Docker'а»).
WORD_RE = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN_OR_DIGIT = re.compile(r"^[a-z0-9'\-]+$", re.IGNORECASE)

# Case endings Russian writers glue to Latin names: «Docker'а», «kubectl-ом», «Jenkins'е».
_LATIN_ENDINGS = ("а", "у", "ом", "ем", "е", "ы", "и", "ов", "ей", "ам", "ами", "ах")

# Fixed expressions in which a term's form is not the term: «таким образом» is "thus",
# not a Docker image. Pairs of (previous word, word), normalized.
FIXED_EXPRESSIONS = frozenset(
    (previous, "образом")
    for previous in (
        "таким",
        "каким",
        "никаким",
        "главным",
        "следующим",
        "должным",
        "подобным",
        "аналогичным",
        "иным",
        "другим",
        "некоторым",
        "определенным",
        "соответствующим",
        "особым",
        "прямым",
        "всяким",
        "любым",
        "тем",
        "этим",
        "неким",
        "известным",
    )
)

# Parts of speech that can be the object of a preposition, and the cases «под» governs.
_OBJECT_POS = frozenset({"NOUN", "ADJF", "PRTF", "NPRO", "NUMR"})
_OBJECT_CASES = frozenset({"ablt", "accs"})
_FUNCTION_POS = frozenset({"PREP", "CONJ", "PRCL", "INTJ"})
# Words that may stand between a preposition and its object: «под очень большой нагрузкой».
_SKIPPABLE_POS = frozenset({"ADVB", "PRCL"})
# Analyses that are people's names: pymorphy3 offers them for unknown words, never wanted here.
_NAME_GRAMMEMES = frozenset({"Name", "Surn", "Patr", "Geox", "Orgn", "Trad"})

CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct")


def fold_yo(word: str) -> str:
    """«ё» as «е» and one kind of apostrophe, case kept (for `match_case` names)."""
    return word.replace("ё", "е").replace("Ё", "Е").replace("’", "'")


@lru_cache(maxsize=1 << 18)
def normalize(word: str) -> str:
    """How words are compared: lower case, «ё» as «е», one kind of apostrophe."""
    # Memoized: names and prose repeat their words. lower() first, so one replace
    # covers «Ё» too.
    return word.lower().replace("ё", "е").replace("’", "'")


def normalize_text(text: str) -> str:
    """`normalize` of a whole text, uncached; position for position the same length as
    `text` whenever `len()` says so (lower() only ever lengthens: «İ» → «i̇»)."""
    return text.lower().replace("ё", "е").replace("’", "'")


def gap(between: str) -> str:
    """The text between two words, as compared: spaces and line breaks are one space;
    punctuation is kept (CI/CD), the spaces around it are not (CI / CD is CI/CD).

    Emphasis marks beside a space are not there for a reader: «под _сервисным_» and
    «**базового** образа» are separated by a space. Marks between letters are kept
    (`my_var` is one identifier, not two words).
    """
    if between == " ":
        return between  # most gaps: one space, nothing to squeeze
    squeezed = "".join(between.split())
    if squeezed != between:
        squeezed = squeezed.strip(EMPHASIS)
    return squeezed if squeezed else " "


EMPHASIS = "*_"


def name_parts(name: str) -> tuple[list[str], list[str]]:
    """A name's words as written, and the compared separators between them."""
    spans = [m.span() for m in WORD_RE.finditer(name)]
    found = [name[s:e] for s, e in spans]
    gaps = [gap(name[spans[i][1] : spans[i + 1][0]]) for i in range(len(spans) - 1)]
    return found, gaps


def join_key(words: Sequence[str], gaps: Sequence[str]) -> tuple[str, ...]:
    """Words with the separators between them: («ci», "/", «cd»)."""
    key: list[str] = [words[0]]
    for between, word in zip(gaps, words[1:], strict=True):
        key += [between, word]
    return tuple(key)


@lru_cache(maxsize=1 << 17)
def name_key(name: str) -> tuple[str, ...]:
    """When two names are the same name: for validation (one entry per name) and for the
    linker, which keys every name so. «CI / CD» is «ci/cd»; «Ёмкость» is «емкость»."""
    # Memoized: validation, the linker and the pages each ask it of every name.
    found, gaps = name_parts(name)
    if not found:  # no word at all («—»): the text itself, spaces collapsed
        return (" ".join(normalize(name).split()),)
    return join_key([normalize(word) for word in found], gaps)


def same_name(one: str, other: str) -> bool:
    return name_key(one) == name_key(other)


def shown_aliases(term: str, english: str | None, aliases: Iterable[str]) -> list[str]:
    """The aliases worth showing beside a term and its English name: none that repeats a
    name already shown (by `name_key`), each once, in their written order."""
    shown = {name_key(term)}
    if english:
        shown.add(name_key(english))
    result = []
    for alias in aliases:
        if name_key(alias) not in shown:
            shown.add(name_key(alias))
            result.append(alias)
    return result


def words(text: str) -> list[str]:
    return WORD_RE.findall(text)


def is_cyrillic(word: str) -> bool:
    return bool(_CYRILLIC.search(word))


def is_latin(word: str) -> bool:
    """Latin letters or digits only (names like Docker, k8s, RUN): not inflected by rule."""
    return bool(_LATIN_OR_DIGIT.match(word))


@dataclass(frozen=True)
class Form:
    """One form of a noun with the grammemes an agreeing adjective needs."""

    text: str
    case: str
    number: str


@dataclass(frozen=True)
class _Noun:
    forms: tuple[Form, ...]
    gender: str  # masc, femn, neut
    animacy: str  # anim, inan

    # (made once per noun: every name with this head reads them)
    @cached_property
    def normalized(self) -> tuple[str, ...]:
        """The text of each form, normalized."""
        return tuple(normalize(form.text) for form in self.forms)

    @cached_property
    def grammemes(self) -> tuple[tuple[str, str], ...]:
        """The case and number of each form."""
        return tuple((form.case, form.number) for form in self.forms)

    @cached_property
    def grammeme_set(self) -> frozenset[tuple[str, str]]:
        return frozenset(self.grammemes)


class Russian:
    """Word forms and word-class questions, with pymorphy3's work cached.

    Create one (it loads the dictionaries: use `russian()`); every method takes
    and returns lower-case words.
    """

    def __init__(self) -> None:
        self._morph = pymorphy3.MorphAnalyzer()
        # Bound caches, so the cache lives and dies with this analyzer.
        self.parse = lru_cache(maxsize=65536)(self._parse)
        self.noun = lru_cache(maxsize=16384)(self._noun)
        # Inflecting is pymorphy3's slowest call, and a glossary reuses few adjectives
        # («базовый», «рабочий») in many terms: one inflection per adjective and form.
        self._inflect = lru_cache(maxsize=65536)(self._inflect_adjective)
        self._lexeme = lru_cache(maxsize=16384)(self._lexeme_of)
        self._agreement = lru_cache(maxsize=16384)(self._agreement_of)
        # The last words of names repeat («…образа», «…контейнеров»); inflecting is slow.
        self.genitive_numbers = lru_cache(maxsize=16384)(self._genitive_numbers)
        # A name's words recur across names («базовый …», «…образ»): classified and
        # agreed once per word and per head, not once per name.
        self._is_adjective = lru_cache(maxsize=65536)(self._adjective_reading)
        self._inflections = lru_cache(maxsize=65536)(self._inflections_of)
        # Asked of every one-word mention in every text: once per word.
        self.maybe_function_word = lru_cache(maxsize=65536)(self._maybe_function_word)

    def _parse(self, word: str) -> tuple[pymorphy3.analyzer.Parse, ...]:
        try:
            return tuple(self._morph.parse(word))
        except ValueError:
            # pymorphy3 asks unicodedata for the name of each character of a word to
            # tell Latin from other scripts, and some characters have none (U+17000):
            # a word it cannot read is a word it does not know.
            return ()

    # --- forms of terms ---

    def phrase_forms(self, tokens: Sequence[str]) -> frozenset[tuple[str, ...]]:
        """Every form of a name given as words: «базовый образ» → («базового», «образа»), …

        The head is the first Cyrillic word that is not an adjective in front of a noun;
        adjectives before it agree with it in case, number and gender; words after it
        («слой образа», «инструкция FROM») and Latin words stay as written.
        """
        return frozenset(self.phrase_form_list(tokens))

    def phrase_form_list(self, tokens: Sequence[str]) -> tuple[tuple[str, ...], ...]:
        """`phrase_forms` in the order they are made, each once: an index built from them
        has the same order in every process (a set's order depends on string hashing)."""
        return tuple(self.phrase_keys(tokens))

    def phrase_keys(
        self, tokens: Sequence[str], gaps: Sequence[str] | None = None
    ) -> list[tuple[str, ...]]:
        """`phrase_form_list`, each form with `gaps` between its words if given (as
        `join_key` puts them): the linker's keys, made without a tuple per form first.

        A name's forms differ only in the words that inflect (the head, its adjectives):
        the other words and the gaps are the same in every form, so each form's tuple is
        made by `zip` from columns, most of them one word repeated (10⁵ keys, in C).
        """
        lowered = [t.lower() for t in tokens]
        modifiers: list[int] = []
        head = -1
        cyrillic = [_CYRILLIC.search(word) is not None for word in lowered]  # (`is_cyrillic`)
        for index, word in enumerate(lowered):
            if not cyrillic[index]:
                continue
            # (only these words are parsed: pymorphy3 fails on some other scripts)
            if any(cyrillic[index + 1 :]) and self._is_adjective(word):
                modifiers.append(index)
                continue
            head = index
            break
        if head < 0:
            forms = [tuple(lowered)]
            # «Docker'а», «Stages»; of several words only a proper name: «GitLab Runner'ах».
            if is_latin(lowered[-1]) and (len(tokens) == 1 or tokens[-1][:1].isupper()):
                forms += [(*lowered[:-1], form) for form in _latin_forms(lowered[-1])]
            normalized = [[normalize(w) for w in f] for f in forms]
            if gaps is None:
                return list(dict.fromkeys(map(tuple, normalized)))
            return list(dict.fromkeys(join_key(f, gaps) for f in normalized))

        # A last noun in the genitive after the head says the same in either number:
        # «среда выполнения контейнеров» and «…контейнера», «слой образа» and «слои образов».
        tails = [lowered]
        if head < len(lowered) - 1 and cyrillic[-1]:
            tails = [[*lowered[:-1], last] for last in self.genitive_numbers(lowered[-1])]
        # The inflected words by place: the head's forms, then each adjective's.
        columns = self._inflections(lowered[head], tuple(lowered[i] for i in modifiers))
        made = []
        for tail in tails if columns else ():
            places: list[Iterable[str]] = [repeat(normalize(w)) for w in tail]
            for index, column in zip((head, *modifiers), columns, strict=True):
                places[index] = column
            if gaps is not None:  # (as `join_key`: word, gap, word, …)
                spaced = places[:1]
                for between, place in zip(gaps, places[1:], strict=True):
                    spaced += [repeat(between), place]
                places = spaced
            made.append(zip(*places, strict=False))  # (a repeat never ends: the columns do)
        # The forms of each replacement in turn, each tail after another (as in a loop
        # over the replacements, then the tails); the name as written last.
        forms_made = made[0] if len(made) == 1 else chain.from_iterable(zip(*made, strict=True))
        written = tuple(map(normalize, lowered))
        result = dict.fromkeys(forms_made)
        result[written if gaps is None else join_key(written, gaps)] = None
        return list(result)

    def _adjective_reading(self, word: str) -> bool:
        """Whether `word` has a nominative adjective reading: it may be a modifier."""
        return self._adjective(word) is not None

    def _inflections_of(self, head: str, modifiers: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
        """The head noun in each of its forms, normalized, then its adjectives agreeing
        with that form; forms where an adjective has no agreeing form are left out. By
        place: the head's forms, then each adjective's (empty if no form is left).

        Memoized (one call per head and adjectives, not per name and tail)."""
        noun = self.noun(head)
        texts, grammemes = noun.normalized, noun.grammemes
        columns: list[tuple[str | None, ...]] = [texts]
        for word in modifiers:
            agreement = self._agreement(word, noun.gender, noun.animacy)
            if not agreement.keys() >= noun.grammeme_set:  # once per adjective and gender
                for form, wanted in zip(noun.forms, grammemes, strict=True):
                    if wanted not in agreement:
                        inflected = self._agree(word, form, noun)
                        agreement[wanted] = None if inflected is None else normalize(inflected)
            columns.append(tuple(map(agreement.__getitem__, grammemes)))
        if any(None in column for column in columns):
            kept = [row for row in zip(*columns, strict=True) if None not in row]
            columns = list(zip(*kept, strict=True))
        return cast(tuple[tuple[str, ...], ...], tuple(columns))  # (no None is left)

    @staticmethod
    def _agreement_of(word: str, gender: str, animacy: str) -> dict[tuple[str, str], str | None]:
        """An adjective's agreeing forms with nouns of that gender and animacy, normalized,
        by case and number: filled in as they are asked (memoized, so shared by heads)."""
        return {}

    def _noun(self, word: str) -> _Noun:
        """The paradigm of a noun: the dictionary's if it knows the word, else a rule's."""
        if "-" in word and is_cyrillic(word.rsplit("-", 1)[1]):
            # Compounds inflect their last part only: «мастер-нода» → «мастер-ноды».
            prefix, last = word.rsplit("-", 1)
            tail = self.noun(last)
            forms = tuple(Form(f"{prefix}-{f.text}", f.case, f.number) for f in tail.forms)
            return _Noun(forms, tail.gender, tail.animacy)
        parse = self._dictionary_noun(word)
        if parse is not None:
            forms = tuple(
                Form(item.word, str(item.tag.case), str(item.tag.number))
                for item in parse.lexeme
                if item.tag.case in CASES and item.tag.number
            )
            return _Noun(
                forms or (Form(word, "nomn", "sing"),),
                str(parse.tag.gender or "masc"),
                str(parse.tag.animacy or "inan"),
            )
        return declension_rule(word)

    def _dictionary_noun(self, word: str) -> pymorphy3.analyzer.Parse | None:
        """The best noun reading pymorphy3 takes from its dictionary, not a guess.

        Guesses (unknown words, unknown prefixes, hyphen splits) and indeclinable
        abbreviations are refused: for jargon they are the wrong paradigm.
        """
        candidates = [
            p
            for p in self.parse(word)
            if p.tag.POS == "NOUN"
            and p.word == word
            and "Fixd" not in p.tag
            and "Abbr" not in p.tag
            and not (_NAME_GRAMMEMES & p.tag.grammemes)
            and len(p.methods_stack) == 1
            and type(p.methods_stack[0][0]).__name__ == "DictionaryAnalyzer"
        ]
        if not candidates:
            return None
        return max(candidates, key=lambda p: (p.tag.case == "nomn", p.score))

    def _genitive_numbers(self, word: str) -> tuple[str, ...]:
        """`word` and, if the dictionary reads it as a genitive noun, the genitive of the
        other number: «образа» → («образа», «образов»)."""
        found = [word]
        for p in self.parse(word):
            if (
                p.tag.POS == "NOUN"
                and p.tag.case == "gent"
                and p.word == word
                and p.tag.number
                and type(p.methods_stack[0][0]).__name__ == "DictionaryAnalyzer"
            ):
                other = p.inflect({"gent", "plur" if p.tag.number == "sing" else "sing"})
                if other is not None and other.word not in found:
                    found.append(other.word)
        return tuple(found)

    def _adjective(self, word: str) -> pymorphy3.analyzer.Parse | None:
        """A nominative adjective or participle reading of `word`, if it has one."""
        for p in self.parse(word):
            if p.tag.POS in ("ADJF", "PRTF") and p.tag.case == "nomn":
                return p
        return None

    def _agree(self, word: str, form: Form, noun: _Noun) -> str | None:
        """`word` (an adjective) in the case and number of `form` of `noun`."""
        return self._inflect(word, form.case, form.number, noun.gender, noun.animacy)

    def _inflect_adjective(
        self, word: str, case: str, number: str, gender: str, animacy: str
    ) -> str | None:
        readings = [p for p in self.parse(word) if p.tag.POS in ("ADJF", "PRTF")]
        # The reading whose gender matches the noun, so «рабочий» is not read as feminine.
        readings.sort(key=lambda p: p.tag.gender != gender)
        for parse in readings[:1]:
            wanted = {case, number}
            if number == "sing":
                wanted.add(gender)
            if case == "accs" and (number == "plur" or gender == "masc"):
                wanted.add(animacy)
            inflected = self._inflect_parse(parse, wanted) or self._inflect_parse(
                parse, {case, number}
            )
            if inflected is not None:
                return inflected.word
        return None

    def _inflect_parse(
        self, parse: pymorphy3.analyzer.Parse, wanted: set[str]
    ) -> pymorphy3.analyzer.Parse | None:
        """`parse.inflect(wanted)`, by pymorphy3's own rule, over a lexeme made once.

        pymorphy3 makes the whole lexeme again for every form asked of a word: an
        adjective is asked for a dozen forms and three genders. The rule is copied from
        `MorphAnalyzer._inflect`; a test holds it to `Parse.inflect` on many words."""
        lexeme = self._lexeme(parse)  # (a reading is a hashable named tuple)
        possible = [f for f, tag in lexeme if wanted <= tag]
        if not possible:
            wanted = self._morph.TagClass.fix_rare_cases(wanted)
            possible = [f for f, tag in lexeme if wanted <= tag]
        grammemes = parse.tag.updated_grammemes(wanted)

        def similarity(form: pymorphy3.analyzer.Parse) -> float:
            tag = form.tag.grammemes
            return len(grammemes & tag) - 0.1 * len(grammemes ^ tag)

        best = heapq.nlargest(1, possible, key=similarity)
        return best[0] if best else None

    @staticmethod
    def _lexeme_of(parse: pymorphy3.analyzer.Parse) -> tuple[tuple[Any, frozenset[str]], ...]:
        """The forms of `parse`'s word, each with its grammemes (read once, not per form
        asked: a property of pymorphy3's tag)."""
        return tuple((form, form.tag.grammemes) for form in parse.lexeme)

    # --- homonyms ---

    def _maybe_function_word(self, word: str) -> bool:
        """Whether `word` may be a function word at all: a preposition or a pronoun. Most
        words of a text are neither, and `function_word_use` need not look around them."""
        return self.is_preposition(word) or self.pronoun_case(word) is not None

    def is_preposition(self, word: str) -> bool:
        """Whether pymorphy3 reads `word` first of all as a preposition («под», «при»)."""
        parses = self.parse(word)
        return bool(parses) and parses[0].tag.POS == "PREP" and parses[0].score > 0.5

    def can_be_object(self, word: str) -> bool:
        """Whether `word` can be what «под» governs: a noun phrase in ablt or accs.

        A Latin name or a number counts («под Linux», «под 2 ГБ»): when in doubt
        the linker does not link.
        """
        if not is_cyrillic(word):
            return True
        parses = self.parse(word)
        if parses and parses[0].tag.POS in _FUNCTION_POS and parses[0].score > 0.5:
            return False  # «в», «и», «же»: a letter-abbreviation reading is not an object
        return any(p.tag.POS in _OBJECT_POS and p.tag.case in _OBJECT_CASES for p in parses)

    def pronoun_case(self, word: str) -> str | None:
        """The case of `word` if pymorphy3 reads it first of all as a pronoun («том» of «тот»)."""
        parses = self.parse(word)
        if not parses or parses[0].score <= 0.5:
            return None
        tag = parses[0].tag
        if tag.POS == "NPRO" or "Apro" in tag:
            return str(tag.case) if tag.case else None
        return None

    def has_case(self, word: str, case: str) -> bool:
        """Whether `word` can be a noun or adjective in `case`."""
        return any(
            p.tag.POS in ("NOUN", "ADJF", "PRTF") and p.tag.case == case for p in self.parse(word)
        )

    def is_skippable(self, word: str) -> bool:
        """An adverb or particle that may sit between a preposition and its object."""
        parses = self.parse(word)
        return bool(parses) and is_cyrillic(word) and parses[0].tag.POS in _SKIPPABLE_POS


@cache
def russian() -> Russian:
    """The one analyzer of the process: creating pymorphy3's is slow."""
    return Russian()


def function_word_use(
    ru: Russian, word: str, previous: str | None, following: Iterable[str | None]
) -> bool:
    """Whether `word`, a form of a term, is here the function word it is spelled like.

    `previous` is the word right before it in the same sentence (None after
    punctuation or at the start); `following` the next words while they are
    separated by spaces only (None stands for punctuation or the end).

    Prepositions («под»): after another preposition it is a noun («в под»); it is
    the preposition when it governs something — the next word (past adverbs like
    «очень») can be a noun phrase in the instrumental or accusative, or is a Latin
    name or a number («под нагрузкой», «Под управлением Kubernetes», «под Linux»);
    otherwise — punctuation, a verb, a conjunction, the end — it is the noun
    («Под — это…», «Под состоит из контейнеров»).

    Pronouns («том», «тому» of «тот»): the pronoun after a preposition («в том
    числе», «о том, что», «к тому же») or before a word in its case («том случае»);
    otherwise the noun («Том монтируется в под»).
    """
    if ru.is_preposition(word):
        if previous is not None and ru.is_preposition(previous):
            return False
        for nxt in following:
            if nxt is None:
                return False
            if ru.is_skippable(nxt):
                continue
            return ru.can_be_object(nxt)
        return False
    case = ru.pronoun_case(word)
    if case is None:
        return False
    if previous is not None and ru.is_preposition(previous):
        return True
    nxt = next(iter(following), None)
    return nxt is not None and ru.has_case(nxt, case)


def in_fixed_expression(previous: str | None, word: str) -> bool:
    """«таким образом», «главным образом»: the word is part of an idiom, not a term."""
    return previous is not None and (previous, word) in FIXED_EXPRESSIONS


# --- declension rules for words the dictionary does not know ---

_VELAR_OR_SIBILANT = "гкхжшщч"
_SIBILANT = "жшщчц"


def declension_rule(word: str) -> _Noun:
    """Forms by the word's ending: the regular declensions, for jargon.

    Consonant and «-й» words are masculine (пайплайн, деплой), «-а»/«-я» and «-ь»
    feminine (джоба, нода); anything else (репо, CI) is left indeclinable. After
    sibilants both spellings of an unstressed ending are produced (кэшем/кэшом):
    an extra form that never occurs costs nothing.
    """
    last = word[-1:]
    forms: list[tuple[str, str, str]] = []
    if not is_cyrillic(last):
        return _Noun((Form(word, "nomn", "sing"),), "masc", "inan")
    if last in "бвгджзклмнпрстфхцчшщ":
        stem = word
        y = "и" if last in _VELAR_OR_SIBILANT else "ы"
        o_forms = ("ом", "ем") if last in _SIBILANT else ("ом",)
        gen_pl = ("ей", "ов") if last in "жшщч" else ("ев", "ов") if last == "ц" else ("ов",)
        forms += [("", "nomn", "sing"), ("а", "gent", "sing"), ("у", "datv", "sing")]
        forms += [("", "accs", "sing"), ("е", "loct", "sing")]
        forms += [(o, "ablt", "sing") for o in o_forms]
        forms += [(y, "nomn", "plur"), (y, "accs", "plur"), ("ам", "datv", "plur")]
        forms += [(g, "gent", "plur") for g in gen_pl]
        forms += [("ами", "ablt", "plur"), ("ах", "loct", "plur")]
        gender = "masc"
    elif last == "й":
        stem = word[:-1]
        forms += [("й", "nomn", "sing"), ("я", "gent", "sing"), ("ю", "datv", "sing")]
        forms += [("й", "accs", "sing"), ("ем", "ablt", "sing"), ("ем", "loct", "sing")]
        forms += [("е", "loct", "sing"), ("и", "nomn", "plur"), ("ев", "gent", "plur")]
        forms += [("ям", "datv", "plur"), ("и", "accs", "plur"), ("ями", "ablt", "plur")]
        forms += [("ях", "loct", "plur")]
        gender = "masc"
    elif last in "ая":
        stem = word[:-1]
        before = stem[-1:]
        soft = last == "я"
        y = "и" if soft or before in _VELAR_OR_SIBILANT else "ы"
        a, u = ("я", "ю") if soft else ("а", "у")
        o_forms = ("ей",) if soft else ("ой", "ей") if before in _SIBILANT else ("ой",)
        forms += [(a, "nomn", "sing"), (y, "gent", "sing"), ("е", "datv", "sing")]
        forms += [(u, "accs", "sing"), ("е", "loct", "sing")]
        forms += [(o, "ablt", "sing") for o in o_forms]
        forms += [(y, "nomn", "plur"), ("ь" if soft else "", "gent", "plur")]
        forms += [(y, "accs", "plur"), ("ям" if soft else "ам", "datv", "plur")]
        forms += [("ями" if soft else "ами", "ablt", "plur")]
        forms += [("ях" if soft else "ах", "loct", "plur")]
        gender = "femn"
    elif last == "ь":
        stem = word[:-1]
        forms += [("ь", "nomn", "sing"), ("и", "gent", "sing"), ("и", "datv", "sing")]
        forms += [("ь", "accs", "sing"), ("ью", "ablt", "sing"), ("и", "loct", "sing")]
        forms += [("и", "nomn", "plur"), ("ей", "gent", "plur"), ("ям", "datv", "plur")]
        forms += [("и", "accs", "plur"), ("ями", "ablt", "plur"), ("ях", "loct", "plur")]
        gender = "femn"
    else:
        return _Noun((Form(word, "nomn", "sing"),), "neut", "inan")
    return _Noun(
        tuple(Form(stem + ending, case, number) for ending, case, number in forms),
        gender,
        "inan",
    )


def _latin_forms(word: str) -> list[str]:
    """Russian endings glued to a Latin name, and its English plural (Stages, Jobs)."""
    forms = [f"{word}{sep}{ending}" for sep in ("'", "-") for ending in _LATIN_ENDINGS]
    if len(word) > 2 and word.isalpha():
        if word.endswith("s"):
            pass  # a plural already, or a name that has none (Kubernetes)
        elif word.endswith(("x", "ch", "sh")):
            forms.append(word + "es")
        elif word.endswith("y") and word[-2] not in "aeiou":
            forms.append(word[:-1] + "ies")
        else:
            forms.append(word + "s")
    return forms


def _abbreviation_beside_word(one: str, two: str) -> bool:
    """A Latin abbreviation (API, CI) before a Russian word."""
    return is_latin(one) and one.isupper() and is_cyrillic(two)


# How an abbreviation (`is_latin`, all capitals) begins: every other spelling has one,
# as a word or before a hyphen in it. (İ and the Kelvin sign: `is_latin` ignores case,
# and to `re` they are the capitals of i and k.)
_ABBREVIATION_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\u0130\u212a")


def spelling_variants(
    words: Sequence[str], gaps: Sequence[str]
) -> list[tuple[list[str], list[str]]]:
    """A name and its other spelling where a Latin abbreviation meets a Russian word:
    «API-сервер» and «API сервер» are written both ways, so each is also a name as the other.
    Only abbreviations (all capitals): «Docker-контейнер» is not «Docker контейнер» split."""
    variants = [(list(words), list(gaps))]
    if not any(word[:1] in _ABBREVIATION_START for word in words):
        return variants  # most names: no word begins with an abbreviation
    split_words: list[str] = []
    split_gaps: list[str] = []
    for index, word in enumerate(words):
        if index:
            split_gaps.append(gaps[index - 1])
        parts = word.split("-")
        mixed = len(parts) == 2 and all(parts) and _abbreviation_beside_word(*parts)
        split_words += parts if mixed else [word]
        split_gaps += [" "] if mixed else []
    if split_words != list(words):
        variants.append((split_words, split_gaps))
    for index in range(len(words) - 1):
        one, two = words[index], words[index + 1]
        if gaps[index] == " " and "-" not in one + two and _abbreviation_beside_word(one, two):
            joined = [*words[:index], f"{one}-{two}", *words[index + 2 :]]
            variants.append((joined, [*gaps[:index], *gaps[index + 1 :]]))
    return variants


# --- collation for the alphabetical index ---

# Ё is sorted and grouped with Е, as Russian dictionaries do; Й is a letter of its own.
YO_POLICY = "Ё стоит вместе с Е, Й — отдельная буква."


def sort_key(text: str) -> tuple[int, str, str]:
    """Russian collation: Cyrillic А…Я (Ё as Е), then Latin A…Z, then the rest."""
    folded = normalize(text.strip())
    first = folded[:1]
    if "а" <= first <= "я":
        group = 0
    elif "a" <= first <= "z":
        group = 1
    else:
        group = 2
    # The written text breaks ties (е/ё, case), so the order is total and builds are stable.
    return (group, folded, text)


def index_letter(text: str) -> str:
    """The letter a name is filed under: «Ёлка» under Е, «k8s» under K, «3scale» under #."""
    first = normalize(text.strip())[:1]
    if "а" <= first <= "я" or "a" <= first <= "z":
        return first.upper()
    return "#"


def lemma(word: str) -> str:
    """A word's dictionary form as pymorphy3 reads it best; other scripts lowered as they are."""
    folded = normalize(word)
    if not is_cyrillic(folded):
        return folded
    parses = russian().parse(folded)
    return normalize(str(parses[0].normal_form)) if parses else folded
