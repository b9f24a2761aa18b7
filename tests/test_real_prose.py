"""The linker on Russian technical prose nobody here wrote (tests/fixtures/prose).

The sentences are copied verbatim from published documentation (kubernetes.io/ru, Yandex
Cloud, the Yii guide, READMEs; the source of each is recorded beside it) and annotated by
hand. The score is printed at the end of every test run (conftest.py) and by the benchmark.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from prose_score import Score, score, sentences

from conftest import ROOT
from konspekt import load_glossary
from konspekt.link import Linker


@cache
def real_score() -> Score:
    return score(Linker.for_glossary(load_glossary(ROOT / "cards")), sentences())


def test_the_set_is_large_enough_and_names_its_sources() -> None:
    items = sentences()
    assert len(items) >= 60
    assert sum(item.negative for item in items) >= 15
    assert all(item.source.startswith("https://") for item in items)
    assert len({item.text for item in items}) == len(items)  # no sentence counted twice


def test_every_annotated_link_names_words_of_its_sentence_and_a_real_entry() -> None:
    ids = set(load_glossary(ROOT / "cards").by_id)
    for item in sentences():
        for words, entry_id in item.links | item.optional:
            assert words in item.text, (words, item.text)
            assert entry_id in ids, entry_id


def test_the_linker_is_precise_on_published_prose() -> None:
    result = real_score()
    assert result.f1 >= 0.95, (result.summary(), result.false, result.missed)
    assert result.linked_negatives <= 1, result.false


def test_without_the_senses_in_the_cards_the_linker_fails_the_set() -> None:
    """The senses carry the score: the same cards without them fall below the bar."""
    entries = [
        replace(entry, collocations=(), not_in=(), ambiguous=(), context=())
        for entry in load_glossary(ROOT / "cards").entries
    ]
    bare = score(Linker(entries), sentences())
    assert bare.f1 < 0.95
    assert bare.linked_negatives > 1
