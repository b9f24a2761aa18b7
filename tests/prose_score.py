"""The linker scored on published prose (tests/fixtures/prose), for the test and the bench.

Each sentence is linked as a paragraph of its own with the real cards. A link found that the
annotation expects is a hit; one it lists as optional is neither hit nor miss; any other is
a false link. A sentence the annotation gives no link at all is a negative: linking anything
in it counts once more, as a linked negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from konspekt.link import Linker

PROSE = Path(__file__).resolve().parent / "fixtures" / "prose" / "sentences.yaml"


@dataclass(frozen=True)
class Sentence:
    text: str
    source: str  # the URL it was copied from
    links: frozenset[tuple[str, str]]  # (words as written, entry id)
    optional: frozenset[tuple[str, str]]

    @property
    def negative(self) -> bool:
        return not self.links and not self.optional


@dataclass(frozen=True)
class Score:
    sentences: int
    negatives: int
    hits: int
    false: tuple[tuple[str, str, str], ...]  # (sentence, words, id) linked but not expected
    missed: tuple[tuple[str, str, str], ...]  # (sentence, words, id) expected but not linked
    linked_negatives: int

    @property
    def precision(self) -> float:
        return self.hits / ((self.hits + len(self.false)) or 1)

    @property
    def recall(self) -> float:
        return self.hits / ((self.hits + len(self.missed)) or 1)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / ((p + r) or 1)

    def summary(self) -> str:
        return (
            f"linker on published prose: {self.sentences} sentences ({self.negatives} "
            f"that need no link): precision {self.precision:.3f}, recall {self.recall:.3f}, "
            f"F1 {self.f1:.3f}, linked negatives {self.linked_negatives}"
        )


def sentences(path: Path = PROSE) -> list[Sentence]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    sources: dict[str, str] = data["sources"]
    return [
        Sentence(
            item["text"],
            sources[item["source"]],
            frozenset((words, id_) for words, id_ in item.get("links", ())),
            frozenset((words, id_) for words, id_ in item.get("optional", ())),
        )
        for item in data["sentences"]
    ]


def score(linker: Linker, items: list[Sentence]) -> Score:
    hits = 0
    false: list[tuple[str, str, str]] = []
    missed: list[tuple[str, str, str]] = []
    linked_negatives = 0
    for item in items:
        found = {(m.text, m.id) for m in linker.find(item.text)}
        hits += len(found & item.links)
        false += [(item.text, w, i) for w, i in sorted(found - item.links - item.optional)]
        missed += [(item.text, w, i) for w, i in sorted(item.links - found)]
        linked_negatives += item.negative and bool(found)
    negatives = sum(item.negative for item in items)
    return Score(len(items), negatives, hits, tuple(false), tuple(missed), linked_negatives)
