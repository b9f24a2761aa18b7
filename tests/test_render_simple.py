"""The simple-grammar fast path (`render.simple_html`) makes what Python-Markdown makes.

Every test here compares `markdown_html` with Python-Markdown forced (the same instance
and sanitizer, `_by_markdown`), and checks that the fast path was taken often enough
for the comparison to say something about it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path

from bench_scripts import load_script
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from konspekt import load_glossary, render
from konspekt.deck.notes import _MASK_MARK, note_sources
from konspekt.deck.questions import Questions
from konspekt.mask import MASK
from konspekt.render import markdown_html, sanitize


def _by_markdown(text: str) -> str:
    md = render._markdown()
    md.reset()
    return sanitize(md.convert(text))


def _compare(texts: Iterable[str]) -> int:
    """Assert both ways agree on every text; how many took the fast path."""
    taken = 0
    for text in texts:
        taken += render.simple_html(text) is not None
        assert markdown_html(text) == _by_markdown(text), repr(text)
    return taken


# Characters that mean something to Markdown's blocks or inlines, or to nh3, or nothing.
GRID_CHARACTERS = "a *`_\n-&1.\\"


def _strings(alphabet: str, longest: int) -> Iterator[str]:
    for size in range(1, longest + 1):
        for letters in itertools.product(alphabet, repeat=size):
            yield "".join(letters)


def test_every_short_string_of_markdown_characters() -> None:
    # 16,104 strings: every start, end and neighbour of stars, backticks, underscores,
    # escapes, list and numbered-list starts, breaks and paragraphs, up to four long.
    taken = _compare(_strings(GRID_CHARACTERS, 4))
    assert taken > 1_000


# Around a span: starts, ends, spaces, punctuation, letters, other spans and blocks.
BEFORE = ["", "a", " ", "(", "*", "_", "`x`", "\n", "\n\n", "- ", "\\", "\u00a0"]
AFTER = ["", "a", " ", ")", "*", "_", "`x`", "\n", "\\", "&", "\ue000"]
RUNS = ["*", "**", "***", "`", "``", "_", "__"]
CONTENTS = [
    "a", "a b", " a", "a ", "a\nb", "a*b", "a *b* c", "a **b** c", "`c`", "a_b", "&", "&amp;",
    "<a@b.c>", ">", "\"'", "\u00a0a", "\ue000", "\\*", "[a](b)", "a\tb", "",
]  # fmt: skip


def _spans() -> Iterator[str]:
    for run in RUNS:
        for content in CONTENTS:
            yield f"{run}{content}{run}"
    for opening, closing in itertools.permutations(RUNS, 2):
        yield f"{opening}a b{closing}"


def test_every_span_between_every_pair_of_sides() -> None:
    # 24,948 texts: each span (well formed, or not) after and before every side.
    texts = [f"{before}{span}{after}" for span in _spans() for before in BEFORE for after in AFTER]
    taken = _compare(texts)
    assert taken > 1_000


# Blocks Markdown may read as paragraphs, lists, list items, headings, quotes, rules,
# numbered items, code, setext headings, and their neighbours.
BLOCKS = [
    "a", "a\nb", "*a* b", "`c` d", "- a", "- a\n- *b* `c`", "- a\nb", "-a", "* a", "+ a",
    "1. a", "1 a", "# a", "> a", " a", "a ", "---", "===", "a  \nb", "**b**", "- - a",
    "- # a", "- 1. a", "- > a", "~~~", "```", "- ", "- a\n- ", "a\n-", "`a\nb` c",
]  # fmt: skip
GAPS = ["\n", "\n\n", "\n\n\n", "\n \n"]
# Three in a row: lists before and after lists and paragraphs.
TRIPLES = ["a", "a\nb", "- a", "- a\n- b", "- a\nb", "1. a", "* a", "a ", "---", "> a"]


def test_every_sequence_of_blocks() -> None:
    texts: list[str] = []
    for first, second in itertools.product(BLOCKS, repeat=2):
        texts += [f"{first}{gap}{second}" for gap in GAPS]
    for blocks in itertools.product(TRIPLES, repeat=3):
        texts += ["\n\n".join(blocks), "\n" + "\n\n".join(blocks) + "\n"]
    taken = _compare(texts)
    assert taken > 200


ALPHABET = "aб1 .,:;!?()\"'*`_-\n\\&<>[]#=~\u00a0\u2009\u2028\ue000\t\r\x02"
PIECES = [
    "a", "б", " ", "\n", "\n\n", "- ", "*", "**", "`", "_", "\\", "&", "&amp;", "<", ">",
    "[", "]", "(", ")", "1. ", "# ", "> ", "\u00a0", "\ue000", "слово", "`код`", "*курсив*",
    "**жирный**", "a_b", "&#42;", "\t", "!",
]  # fmt: skip


@settings(max_examples=2_000, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=30))
def test_any_text_of_markdown_characters(text: str) -> None:
    assert markdown_html(text) == _by_markdown(text)


@settings(max_examples=2_000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=14).map("".join))
def test_any_text_of_markdown_pieces(text: str) -> None:
    assert markdown_html(text) == _by_markdown(text)


def _card_texts(folder: Path) -> list[str]:
    texts: list[str] = []
    for entry in load_glossary(folder).entries:
        texts += [entry.definition, entry.clue or "", entry.details or ""]
        texts += [example.text for example in entry.examples]
    return [text for text in texts if text]


def _questions(folder: Path) -> list[str]:
    """The questions as the deck renders them: names masked, each mask one mark."""
    glossary = load_glossary(folder)
    notes = note_sources(glossary, {}, Questions(glossary)).values()
    return [note.question.replace(_MASK_MARK, "").replace(MASK, _MASK_MARK) for note in notes]


def test_every_text_of_the_real_cards() -> None:
    texts: list[str] = []
    for folder in (ROOT / "cards", ROOT / "tests" / "fixtures" / "deck"):
        texts += _card_texts(folder) + _questions(folder)
    taken = _compare(texts)
    details = [text for text in texts if "\n\n" in text.strip()]
    assert taken > len(texts) // 4
    assert sum(render.simple_html(text) is not None for text in details) > len(details) * 0.9


def test_every_text_and_question_of_a_synthetic_corpus(tmp_path: Path) -> None:
    corpus = load_script("corpus")
    corpus.write_corpus(tmp_path / "cards", 1_000, seed=1)
    texts = _card_texts(tmp_path / "cards")
    questions = _questions(tmp_path / "cards")
    assert all(_MASK_MARK in question for question in questions)
    taken = _compare(texts + questions)
    # Every paragraph text of the corpus takes the fast path: that is its point.
    details = [text for text in texts if "\n\n" in text.strip()]
    assert all(render.simple_html(text) is not None for text in details)
    assert taken > len(texts) // 3
