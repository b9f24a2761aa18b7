"""Term pages on two cores: the same pages, links and errors as in one process."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bench_scripts import load_script

import konspekt.pool
from conftest import ROOT
from konspekt import load_glossary
from konspekt.errors import SiteLinkError
from konspekt.model import Glossary
from konspekt.pool import Beside, worth_forking
from konspekt.site.pages import Site, generated_pages

FIXTURE = ROOT / "tests" / "fixtures" / "site"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Glossary:
    cards = tmp_path_factory.mktemp("corpus") / "cards"
    load_script("corpus").write_corpus(cards, 120, seed=3)
    return load_glossary(cards)


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], None]:
    """Forking on (any number of entries, as if a core were idle) or off."""

    def choose(fork: bool) -> None:
        monkeypatch.setattr(konspekt.pool, "spare_core", lambda: fork)
        monkeypatch.setattr(konspekt.pool, "MIN_JOBS", 1 if fork else 10**9)

    return choose


@pytest.fixture
def pids(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[[], set[int]]]:
    """The processes that made term pages (noted in a file: the child's memory is its own)."""
    noted = tmp_path / "pids"
    term_page = Site.term_page

    def noting(self: Site, entry_id: str) -> str:
        with noted.open("a") as file:
            file.write(f"{os.getpid()}\n")
        return term_page(self, entry_id)

    monkeypatch.setattr(Site, "term_page", noting)
    yield lambda: {int(line) for line in noted.read_text().split()}


def _no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.mark.parametrize("cards", ["fixture", "real", "corpus"])
def test_pages_made_on_two_cores_are_the_pages_made_in_one(
    cards: str, corpus: Glossary, two_cores: Callable[[bool], None], pids: Callable[[], set[int]]
) -> None:
    glossary = {"fixture": load_glossary(FIXTURE), "real": load_glossary(ROOT / "cards")}.get(
        cards, corpus
    )
    two_cores(False)
    one = generated_pages(glossary)
    assert pids() == {os.getpid()}
    two_cores(True)
    assert generated_pages(glossary) == one
    assert len(pids()) == 2  # fails if the child made no page
    assert _no_children_left()


@pytest.mark.parametrize("page", ["term_page", "topic_page"])
def test_a_child_that_dies_is_replaced_by_this_process(
    page: str,
    corpus: Glossary,
    two_cores: Callable[[bool], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    two_cores(False)
    one = generated_pages(corpus)
    parent = os.getpid()
    make = getattr(Site, page)

    def dying(self: Site, key: str) -> str:
        if os.getpid() != parent:
            os._exit(3)
        return make(self, key)  # type: ignore[no-any-return]

    monkeypatch.setattr(Site, page, dying)
    two_cores(True)
    assert generated_pages(corpus) == one
    assert _no_children_left()


def test_a_child_that_dies_while_linking_is_replaced_by_this_process(
    corpus: Glossary, two_cores: Callable[[bool], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    two_cores(False)
    one = generated_pages(corpus)
    parent = os.getpid()
    shorts = Site._shorts

    def dying(self: Site, entries: object) -> dict[str, str]:
        if os.getpid() != parent:
            os._exit(3)
        return shorts(self, entries)  # type: ignore[arg-type]

    monkeypatch.setattr(Site, "_shorts", dying)
    two_cores(True)
    assert generated_pages(corpus) == one
    assert _no_children_left()


def test_broken_links_give_the_same_error_from_either_half(
    corpus: Glossary, two_cores: Callable[[bool], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Links made in the child are checked with this process's, the first one named."""
    ids = [entry.id for entry in corpus.entries]
    broken = {ids[1], ids[-2], ids[-1]}  # one in each half
    term_page = Site.term_page

    def linking_nowhere(self: Site, entry_id: str) -> str:
        if entry_id in broken:
            self.links.href(f"glossary/{entry_id}.md", f"glossary/gone-{entry_id}.md")
        return term_page(self, entry_id)

    monkeypatch.setattr(Site, "term_page", linking_nowhere)
    errors = []
    for fork in (False, True):
        two_cores(fork)
        with pytest.raises(SiteLinkError) as error:
            generated_pages(corpus)
        errors.append(str(error.value))
    assert errors[0] == errors[1]
    assert "3 such links" in errors[0]
    assert _no_children_left()


def test_an_error_in_the_childs_pages_is_raised_here_as_in_one_process(
    corpus: Glossary, two_cores: Callable[[bool], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    last = corpus.entries[-1].id
    term_page = Site.term_page

    def failing(self: Site, entry_id: str) -> str:
        if entry_id == last:
            raise SiteLinkError(f"cannot make {entry_id}")
        return term_page(self, entry_id)

    monkeypatch.setattr(Site, "term_page", failing)
    two_cores(True)
    with pytest.raises(SiteLinkError, match=f"cannot make {last}"):
        generated_pages(corpus)
    assert _no_children_left()


def test_pages_made_beside_the_deck_do_not_fork_again(
    corpus: Glossary, two_cores: Callable[[bool], None], pids: Callable[[], set[int]]
) -> None:
    """`site` builds the deck in a child beside the pages: both cores are taken."""
    two_cores(True)
    with Beside(lambda: worth_forking(10**6, 1)) as deck:
        assert not worth_forking(10**6)
        generated_pages(corpus)
        assert pids() == {os.getpid()}
        assert deck.result() is False  # the child itself does not fork either
    assert worth_forking(10**6)  # the child is gone: the core is free again
    assert _no_children_left()


def test_an_error_in_a_topic_page_made_by_the_child_is_raised_here(
    corpus: Glossary, two_cores: Callable[[bool], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Topic pages come after every term page, in one process and in two."""
    last = corpus.topics[-1].topic
    topic_page = Site.topic_page

    def failing(self: Site, topic_id: str) -> str:
        if topic_id == last:
            raise SiteLinkError(f"cannot make topic {topic_id}")
        return topic_page(self, topic_id)

    monkeypatch.setattr(Site, "topic_page", failing)
    two_cores(True)
    with pytest.raises(SiteLinkError, match=f"cannot make topic {last}"):
        generated_pages(corpus)
    assert _no_children_left()


def test_neither_side_of_an_exchange_forks_again(two_cores: Callable[[bool], None]) -> None:
    from konspekt.pool import Exchange

    two_cores(True)

    def child(exchange: Exchange) -> bool:
        return worth_forking(10**6)

    with Exchange(child) as exchange:
        assert not worth_forking(10**6)
        assert exchange.finish() == (True, False)
    assert worth_forking(10**6)
    assert _no_children_left()
