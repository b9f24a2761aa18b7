"""The generation cache: after any edit, docs/ generated with it is docs/ generated cold.

Each step edits the cards the way an author does, then generates docs/ twice from the
same cards: with the project's cache (kept across the steps) and with none. The two
trees must agree file for file, and the cached run must actually have reused pages and
linked texts, so that the comparison tests the cache and not a cache that gave up.
"""

from __future__ import annotations

import logging
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from random import Random

import pytest
from bench_scripts import load_script
from test_mkdocs_run import differences

from conftest import ROOT, make_project
from konspekt import load_glossary
from konspekt.site.build import generate, project_settings
from konspekt.site.pagecache import CACHE_NAME
from konspekt.site.pages import INDEX_SPLIT, Site, letter_path

Edit = Callable[[Path], None]


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def entry_block(text: str, entry_id: str) -> str:
    """The lines of one entry in a card file, from its `- id:` to the next entry's."""
    match = re.search(rf"^  - id: {re.escape(entry_id)}\n(?:(?!  - id: ).*\n?)*", text, re.M)
    assert match, entry_id
    return match.group(0)


REUSED = re.compile(r"generation cache: (\d+) of (\d+) pages reused, (\d+) of (\d+) texts")


def generate_both(
    project: Path,
    caplog: pytest.LogCaptureFixture,
    what: str = "",
    index_split: int | None = INDEX_SPLIT,
) -> tuple[int, int, int, int]:
    """docs/ with the cache, and docs-cold/ without; (pages reused, pages, texts reused,
    texts) of the cached run."""
    glossary = load_glossary(project / "cards")
    settings = project_settings(project / "mkdocs.yml")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="konspekt.site.pagecache"):
        generate(
            glossary, project / "docs", None, project / ".cache", None, settings,
            index_split=index_split,
        )  # fmt: skip
    match = REUSED.search(caplog.text)
    assert match, caplog.text
    cold = project / "docs-cold"
    shutil.rmtree(cold, ignore_errors=True)
    generate(load_glossary(project / "cards"), cold, None, None, None, settings,
             index_split=index_split)  # fmt: skip
    assert differences(project / "docs" / "glossary", cold / "glossary") == [], what
    for name in ("topics", "index-az.md", "index-az", "changes.md", "assets/generated"):
        assert differences(project / "docs" / name, cold / name) == [], (what, name)
    pages, total, texts, all_texts = (int(g) for g in match.groups())
    return pages, total, texts, all_texts


# --- the project's own cards: each kind of edit ----------------------------------------


def edit_definition(project: Path) -> None:
    replace(project / "cards" / "kubernetes.yaml", "Наименьшая единица", "Самая маленькая единица")


NEW_TERM = """
  - id: environment-variable
    term: Переменная окружения
    en: Environment variable
    definition: >-
      Именованное значение, которое процесс получает от среды при запуске.
"""


def add_mentioned_term(project: Path) -> None:
    """A new term whose name other cards already use: their texts link to it now."""
    path = project / "cards" / "cicd.yaml"
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + NEW_TERM, "utf-8")


def rename_term(project: Path) -> None:
    replace(project / "cards" / "kubernetes.yaml", "term: Под\n", "term: Под Kubernetes\n")


def add_alias(project: Path) -> None:
    path = project / "cards" / "kubernetes.yaml"
    text = path.read_text(encoding="utf-8")
    ids = re.findall(r"^  - id: (\S+)$", text, re.M)
    block = next(b for b in (entry_block(text, i) for i in ids) if "aliases:" not in b)
    term = re.search(r"^    term: .*\n", block, re.M)
    assert term
    replace(path, block, block.replace(term.group(0), term.group(0) + "    aliases: [версия]\n"))


def change_related(project: Path) -> None:
    replace(
        project / "cards" / "kubernetes.yaml",
        "related: [kubernetes, container, cluster, autoscaling, containerization]",
        "related: [kubernetes, container, autoscaling, containerization]",
    )


def change_topic_title(project: Path) -> None:
    replace(project / "cards" / "kubernetes.yaml", "title: Kubernetes\n", "title: Кубернетес\n")


def drop_context(project: Path) -> None:
    """The index stays the same; only what linking reads of an ambiguous entry changes."""
    replace(project / "cards" / "docker.yaml", "    context: [kubernetes]\n", "")


def move_entry(project: Path) -> None:
    """An entry moves to another topic: its topic, read by the linker, changes."""
    source, target = project / "cards" / "docker.yaml", project / "cards" / "cicd.yaml"
    block = entry_block(source.read_text(encoding="utf-8"), "container")
    replace(source, block, "")
    target.write_text(target.read_text(encoding="utf-8").rstrip("\n") + "\n" + block, "utf-8")


def remove_entry(project: Path) -> None:
    """An entry others mention but none lists as related goes."""
    glossary = load_glossary(project / "cards")
    related = {r for entry in glossary.entries for r in entry.related}
    mentioned = [
        e for e in glossary.entries if e.id not in related and e.term in _all_text(project)
    ]
    victim = mentioned[0]
    path = next(
        p
        for p in (project / "cards").glob("*.yaml")
        if f"- id: {victim.id}\n" in p.read_text("utf-8")
    )
    replace(path, entry_block(path.read_text(encoding="utf-8"), victim.id), "")


def _all_text(project: Path) -> str:
    return "".join(p.read_text("utf-8") for p in (project / "cards").glob("*.yaml"))


STEPS: list[tuple[str, Edit]] = [
    ("a definition changed", edit_definition),
    ("a term added that other texts mention", add_mentioned_term),
    ("a term renamed", rename_term),
    ("an alias added", add_alias),
    ("a related list changed", change_related),
    ("a topic's title changed", change_topic_title),
    ("an ambiguous entry's context dropped", drop_context),
    ("an entry moved to another topic", move_entry),
    ("an entry removed", remove_entry),
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project", ROOT / "cards")


def test_after_each_edit_cached_generation_is_cold_generation(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pages, total, texts, _ = generate_both(project, caplog)
    assert pages == 0 and texts == 0  # the first run: nothing stored yet
    pages, total, texts, all_texts = generate_both(project, caplog)
    assert (pages, texts) == (total, all_texts)  # nothing changed: everything reused
    for what, edit in STEPS:
        edit(project)
        pages, total, texts, all_texts = generate_both(project, caplog, what)
        assert 0 < pages < total, (what, pages, total)
        assert 0 < texts <= all_texts, (what, texts, all_texts)


SPLIT = 50  # names: the project's 344 are a split index of 41 letters


def test_with_a_split_index_after_each_edit_cached_generation_is_cold_generation(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    generate_both(project, caplog, index_split=SPLIT)
    assert len(list((project / "docs" / "index-az").glob("*.md"))) > 30
    for what, edit in STEPS:
        edit(project)
        pages, total, _, _ = generate_both(project, caplog, what, SPLIT)
        assert 0 < pages < total, (what, pages, total)


def letters_showing(project: Path, entry_id: str) -> set[str]:
    """The letter pages with a line of the entry: its term's and its other names'."""
    groups = Site(load_glossary(project / "cards"), index_split=SPLIT).index_groups
    return {
        letter_path(letter)
        for letter, lines in groups.items()
        if any(line.entry_id == entry_id for line in lines)
    }


def index_written(project: Path) -> set[str]:
    """The index's pages generating docs/ with the cache wrote."""
    glossary = load_glossary(project / "cards")
    report = generate(glossary, project / "docs", None, project / ".cache", index_split=SPLIT)
    return {path for path in report.written if path.startswith("index-az")}


def test_a_letter_page_reads_only_its_lines_and_their_entries(project: Path) -> None:
    """What each letter page recorded: the letters, its lines, and the term and tooltip
    of each entry they lead to; nothing of the other letters' entries."""
    index_written(project)
    groups = Site(load_glossary(project / "cards"), index_split=SPLIT).index_groups
    db = sqlite3.connect(project / ".cache" / CACHE_NAME)
    rows = dict(db.execute("SELECT key, facts FROM pages WHERE key LIKE 'index-az/%'"))
    db.close()
    assert len(rows) == len(groups) > 30
    for letter, lines in groups.items():
        ids = {line.entry_id for line in lines}
        expected = {"letters ", f"letter {letter}"}
        expected |= {f"{kind} {i}" for i in ids for kind in ("term", "title")}
        assert set(rows[letter_path(letter)].split("\n")) == expected, letter


def test_an_edit_rewrites_only_the_letter_pages_that_show_the_entry(project: Path) -> None:
    index_written(project)
    pod = letters_showing(project, "pod")
    assert len(pod) > 1  # «Под», «Pod»
    edit_definition(project)  # the tooltip of the pod's links
    assert index_written(project) == pod
    add_alias(project)  # a name for another entry, under В
    assert index_written(project) == {"index-az/ru-v.md"}
    rename_term(project)  # «Под Kubernetes»: still under П
    assert index_written(project) == pod


def test_an_index_crossing_the_threshold_is_the_cold_index(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Names removed take the index below the threshold (one page, no letter pages), and
    above it again when they return: each time, the cold index."""
    names = sum(map(len, Site(load_glossary(project / "cards")).index_groups.values()))
    saved = {path: path.read_text("utf-8") for path in (project / "cards").glob("*.yaml")}
    generate_both(project, caplog, index_split=names - 1)
    assert (project / "docs" / "index-az" / "ru-p.md").is_file()
    cards = project / "cards" / "kubernetes.yaml"
    aliases = re.search(r"^    aliases: .*\n", saved[cards], re.M)
    assert aliases
    replace(cards, aliases.group(0), "")  # one entry's other names go
    generate_both(project, caplog, "shrunk", names - 1)
    assert not (project / "docs" / "index-az").exists()
    for path, text in saved.items():
        path.write_text(text, "utf-8")
    generate_both(project, caplog, "grown", names - 1)
    assert (project / "docs" / "index-az" / "ru-p.md").is_file()


def test_a_damaged_cache_is_replaced(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    generate_both(project, caplog)
    (project / ".cache" / CACHE_NAME).write_bytes(b"not a database, " * 100)
    assert generate_both(project, caplog)[0] == 0
    assert generate_both(project, caplog)[0] > 0
    # A generated page changed by hand is not the page the cache recorded: made again.
    (project / "docs" / "glossary" / "pod.md").write_text("# Под\n\nНе то.\n", "utf-8")
    pages, total, _, _ = generate_both(project, caplog)
    assert pages == total - 1


def test_crafted_rows_cannot_unescape_card_text(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A mention stored across markup is dropped when the page is made: card text's own
    HTML stays escaped whatever the cache file says."""
    cards = project / "cards" / "kubernetes.yaml"
    replace(cards, "Наименьшая единица", "Наименьшая <b>единица</b>")
    generate_both(project, caplog)
    db = sqlite3.connect(project / ".cache" / CACHE_NAME)
    with db:
        db.execute('UPDATE texts SET mentions = \'["[[0, 60, \\"pod\\"]]"]\'')
        db.execute("DELETE FROM pages")  # every page made again, from the crafted mentions
    db.close()
    generate(load_glossary(project / "cards"), project / "docs", None, project / ".cache")
    page = (project / "docs" / "glossary" / "pod.md").read_text("utf-8")
    assert "Наименьшая &lt;b&gt;единица" in page, page
    assert "<b>" not in page


# --- the synthetic corpus: random edits --------------------------------------------------


def test_random_edits_of_a_synthetic_corpus(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    corpus = load_script("corpus")
    project = make_project(tmp_path / "project", ROOT / "cards")
    shutil.rmtree(project / "cards")
    corpus.write_corpus(project / "cards", 100, seed=5)
    generate_both(project, caplog)
    random = Random(11)
    for _ in range(6):
        edits = random.sample(RANDOM_EDITS, 2)
        for edit in edits:
            edit(project, random)
        pages, total, _, _ = generate_both(project, caplog)
        assert pages < total, [e.__name__ for e in edits]


def _entries(project: Path) -> list[tuple[Path, str, str]]:
    """(file, id, term) of every entry."""
    found = []
    for path in sorted((project / "cards").glob("*.yaml")):
        text = path.read_text("utf-8")
        for entry_id, term in re.findall(r"^  - id: (\S+)\n    term: (.*)\n", text, re.M):
            found.append((path, entry_id, term))
    return found


def mention_another(project: Path, random: Random) -> None:
    """A definition starts mentioning another entry by name."""
    path, entry_id, _ = random.choice(_entries(project))
    _, _, other = random.choice(_entries(project))
    block = entry_block(path.read_text("utf-8"), entry_id)
    replace(
        path,
        block,
        block.replace("    definition: >-\n      ", f"    definition: >-\n      {other}: ", 1),
    )


def rename(project: Path, random: Random) -> None:
    path, entry_id, term = random.choice(_entries(project))
    block = entry_block(path.read_text("utf-8"), entry_id)
    replace(
        path,
        block,
        block.replace(
            f"    term: {term}\n",
            f"    term: {term} {random.choice(['нового образца', 'узла', 'Pro'])}\n",
            1,
        ),
    )


def alias(project: Path, random: Random) -> None:
    path, entry_id, term = random.choice(_entries(project))
    _, _, other = random.choice(_entries(project))
    block = entry_block(path.read_text("utf-8"), entry_id)
    if "    aliases:" in block:
        return
    new = f"    term: {term}\n    aliases: [{other.split()[-1]} {entry_id.split('-')[0]}]\n"
    replace(path, block, block.replace(f"    term: {term}\n", new, 1))


def remove(project: Path, random: Random) -> None:
    text = _all_text(project)
    candidates = [
        e for e in _entries(project) if not re.search(rf"[\[ ,]{re.escape(e[1])}[\],]", text)
    ]
    if candidates:
        path, entry_id, _ = random.choice(candidates)
        replace(path, entry_block(path.read_text("utf-8"), entry_id), "")


RANDOM_EDITS = [mention_another, rename, alias, remove]
