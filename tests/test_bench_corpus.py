"""The benchmark's synthetic corpus: deterministic, valid, and read the same by both YAML paths.

Only correctness is tested here; timings live in benchmarks/run.py, never in `make test`.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import pytest
from bench_scripts import load_script

from konspekt import yamlnodes
from konspekt.load import load_glossary


@pytest.fixture(scope="module")
def corpus() -> ModuleType:
    return load_script("corpus")


def test_same_seed_same_bytes_other_seed_other_bytes(corpus: ModuleType) -> None:
    first = corpus.generate(120, seed=7)
    assert corpus.generate(120, seed=7) == first
    assert corpus.generate(120, seed=8) != first


def test_a_200_entry_corpus_is_valid_and_looks_like_real_cards(
    corpus: ModuleType, tmp_path: Path
) -> None:
    corpus.write_corpus(tmp_path / "cards", 200, seed=1)
    glossary = load_glossary(tmp_path / "cards")
    entries = glossary.entries
    assert len(entries) == 200
    assert all(2 <= len(entry.related) <= 5 for entry in entries)
    assert sum(1 for entry in entries if entry.aliases) > 100
    assert any(example.is_code for entry in entries for example in entry.examples)
    # Mentions are inflected, «рабочего узла», «в рабочих узлах», so the linker has work.
    texts = " ".join(f"{entry.definition} {entry.details}" for entry in entries)
    assert len(re.findall(r"\b\w+(?:ого|его|ому|ыми|ых|ой) \w+", texts)) > 500


def test_topics_hold_200_to_500_entries(corpus: ModuleType) -> None:
    sizes = corpus.topic_sizes(5000, corpus.Random(1))
    assert sum(sizes) == 5000
    assert all(200 <= size <= 500 for size in sizes)


def test_fast_yaml_path_reads_what_the_reference_walker_reads(corpus: ModuleType) -> None:
    # yamlnodes reads plain files from libyaml's events and falls back to composing and
    # walking nodes for anything unusual; on realistic cards both must give equal values,
    # positions included.
    for name, text in corpus.generate(150, seed=3).items():
        assert yamlnodes._read_events(text, name) == yamlnodes._compose_and_walk(text, name)[0]
