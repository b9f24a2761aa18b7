"""The reference site: generated Markdown (golden files), writing, safety, and real builds."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, make_project, run_cli
from konspekt import load_glossary
from konspekt.errors import SiteLinkError
from konspekt.link import Linker
from konspekt.markdown_safe import safe_markdown
from konspekt.model import Topic
from konspekt.site.build import build_site, generate, read_settings, sync_tree
from konspekt.site.pages import Links, Site, generated_pages
from safety import HOSTILE, active_content, site_markdown

FIXTURE = ROOT / "tests" / "fixtures" / "site"
GOLDEN = ROOT / "tests" / "golden" / "site"
UPDATE = os.environ.get("KONSPEKT_UPDATE_GOLDEN") == "1"


# --- golden files ---


def test_generated_markdown_matches_golden_files() -> None:
    """Set KONSPEKT_UPDATE_GOLDEN=1 to rewrite tests/golden/site/ after an intended change."""
    pages = generated_pages(load_glossary(FIXTURE))
    if UPDATE:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for path, text in pages.items():
            (GOLDEN / path).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / path).write_text(text, encoding="utf-8")
    expected = {
        p.relative_to(GOLDEN).as_posix(): p.read_text(encoding="utf-8")
        for p in GOLDEN.rglob("*")
        if p.is_file()
    }
    assert sorted(pages) == sorted(expected), "run with KONSPEKT_UPDATE_GOLDEN=1 to update"
    for path, text in pages.items():
        assert text == expected[path], f"{path} differs from tests/golden/site/{path}"


_GENERATE = """
import json, sys
from konspekt import load_glossary
from konspekt.site.pages import generated_pages
json.dump(list(generated_pages(load_glossary(sys.argv[1])).items()), sys.stdout)
"""


def test_generation_is_deterministic() -> None:
    """The same cards give the same pages, in the same order, whatever the hash seed:
    set and dict order can only differ between processes, so two are compared."""
    outputs = []
    for seed in ("1", "2"):
        run = subprocess.run(
            [sys.executable, "-c", _GENERATE, str(FIXTURE)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1]
    assert len(json.loads(outputs[0])) > 10


def test_generation_handles_thousands_of_entries() -> None:
    """Every page of a big glossary, linked (its speed is measured by `make bench`)."""
    from konspekt.model import Entry, Glossary, Topic

    syllables = ["ба", "ве", "ги", "до", "жу", "зе", "ки", "ло", "му", "но"]

    def word(i: int) -> str:
        return "".join(syllables[int(d)] for d in f"{i:04d}") + "р"

    entries = tuple(
        Entry(
            id=f"t{i}",
            term=word(i).capitalize(),
            definition=f"Связан с {word((i + 1) % 2000)}ом и {word((i + 7) % 2000)}ами.",
            related=(f"t{(i + 3) % 2000}",),
            topic=f"topic{i % 4}",
        )
        for i in range(2000)
    )
    topics = tuple(
        Topic(topic=f"topic{k}", title=f"Тема {k}", entries=entries[k::4]) for k in range(4)
    )
    pages = generated_pages(Glossary(topics))
    assert len(pages) == 2000 + 4 + 7  # terms, topics, index, changes, site.yml, 3 snippets, css
    last = pages["glossary/t1999.md"]
    # mentions (as reference links, defined at the end) and backlinks
    assert "][&t0]" in last and '[&t0]: t0.md "' in last and "## Упоминается в" in last


# --- links written as HTML: MkDocs does not check them, so generation does ---


@pytest.mark.parametrize(
    ("directory_urls", "source", "target", "anchor", "expected"),
    [
        (True, "glossary/pod.md", "glossary/node.md", "", "../node/"),
        (True, "glossary/pod.md", "topics/k8s.md", "pod", "../../topics/k8s/#pod"),
        (True, "index-az.md", "glossary/node.md", "", "../glossary/node/"),
        (True, "index-az.md", "index-az.md", "ru-a", "#ru-a"),
        (True, "topics/k8s.md", "index.md", "", "../../"),
        (False, "glossary/pod.md", "glossary/node.md", "", "node.html"),
        (False, "glossary/pod.md", "topics/k8s.md", "pod", "../topics/k8s.html#pod"),
        (False, "index-az.md", "glossary/node.md", "", "glossary/node.html"),
        (False, "topics/k8s.md", "index.md", "", "../index.html"),
    ],
)
def test_links_are_the_urls_mkdocs_writes(
    directory_urls: bool, source: str, target: str, anchor: str, expected: str
) -> None:
    assert Links(directory_urls).href(source, target, anchor) == expected


def test_a_link_to_a_page_not_generated_fails() -> None:
    links = Links()
    links.href("glossary/pod.md", "glossary/node.md")
    links.check({"glossary/pod.md": "", "glossary/node.md": ""})
    links.href("glossary/pod.md", "glossary/gone.md")
    message = "docs/glossary/pod.md: a link to glossary/gone.md"
    with pytest.raises(SiteLinkError, match=re.escape(message)):
        links.check({"glossary/pod.md": "", "glossary/node.md": ""})


def test_generation_fails_on_a_link_to_an_anchor_it_did_not_write() -> None:
    """The check runs on every generation: a topic page that lost its entries' anchors
    breaks the term pages' links to it, and generation says so instead of shipping them."""

    class Broken(Site):
        def topic_page(self, topic: Topic) -> str:
            return super().topic_page(topic).replace(" {#pod}", "")

    site = Broken(load_glossary(FIXTURE))
    with pytest.raises(
        SiteLinkError, match=re.escape("docs/glossary/pod.md: a link to topics/kubernetes.md#pod")
    ):
        site.pages()


def test_links_written_as_html_follow_use_directory_urls() -> None:
    pages = generated_pages(load_glossary(FIXTURE), directory_urls=False)
    pod = pages["glossary/pod.md"]
    assert 'href="../topics/kubernetes.html#pod"' in pod and 'href="container.html"' in pod
    assert 'href="glossary/pod.html"' in pages["index-az.md"]


# --- a big glossary's index: one page per letter ---

SPLIT = 10  # names: the fixture's 29 are a split index


def index_lines(page: str) -> list[str]:
    """The index's lines, their links as from the site's root folder."""
    lines = re.findall(r"^<li>.*</li>$", page, re.MULTILINE)
    return [line.replace('href="../../', 'href="../') for line in lines]


def test_a_big_index_is_a_hub_and_a_page_per_letter_with_the_same_lines() -> None:
    glossary = load_glossary(FIXTURE)
    one = generated_pages(glossary)
    split = generated_pages(glossary, index_split=SPLIT)
    letters = [path for path in split if path.startswith("index-az/")]
    assert not any(path.startswith("index-az/") for path in one)
    assert len(letters) == 19 and "index-az/ru-p.md" in letters and "index-az/en-k.md" in letters
    # The same lines in the same order, each letter's on its page; every other page as it was.
    assert [line for path in letters for line in index_lines(split[path])] == index_lines(
        one["index-az.md"]
    )
    assert {p: t for p, t in split.items() if "index-az" not in p} == {
        p: t for p, t in one.items() if "index-az" not in p
    }
    hub = split["index-az.md"]
    assert "<li>" not in hub and "Ё стоит вместе с Е" in hub
    assert '<a href="ru-p/">П</a>' in hub and '<a href="en-k/">K</a>' in hub
    pod = split["index-az/ru-p.md"]
    assert pod.startswith("---\nsearch:\n  exclude: true\n---\n")
    assert "# Алфавитный указатель: П {#index-title}" in pod
    assert "<strong>П</strong>" in pod and '<a href="../ru-b/">Б</a>' in pod
    assert '<a href="../../glossary/pod/" title="Наименьшая единица' in pod
    # Without directory URLs: pages and links as MkDocs names them then.
    flat = generated_pages(glossary, index_split=SPLIT, directory_urls=False)
    assert '<a href="index-az/ru-p.html">П</a>' in flat["index-az.md"]
    assert '<a href="ru-b.html">Б</a>' in flat["index-az/ru-p.md"]
    assert 'href="../glossary/pod.html"' in flat["index-az/ru-p.md"]


@pytest.mark.parametrize(("index_split", "pages"), [(28, 19), (29, 0), (None, 0)])
def test_the_index_splits_above_its_threshold(index_split: int | None, pages: int) -> None:
    generated = generated_pages(load_glossary(FIXTURE), index_split=index_split)
    assert sum(path.startswith("index-az/") for path in generated) == pages


def test_the_real_glossary_keeps_its_index_on_one_page() -> None:
    pages = generated_pages(load_glossary(ROOT / "cards"))
    assert not any(path.startswith("index-az/") for path in pages)
    assert len(index_lines(pages["index-az.md"])) > 300


def test_an_index_that_shrinks_below_the_threshold_loses_its_letter_pages(
    tmp_path: Path,
) -> None:
    docs = tmp_path / "docs"
    generate(load_glossary(FIXTURE), docs, index_split=SPLIT)
    assert (docs / "index-az" / "ru-p.md").is_file()
    report = generate(load_glossary(FIXTURE), docs, index_split=100)
    assert len(report.removed) == 19 and all(p.startswith("index-az/") for p in report.removed)
    assert not (docs / "index-az").exists()  # the folder too: MkDocs sees no stray folder
    assert "index-az.md" in report.written and (docs / "glossary" / "pod.md").is_file()


def test_an_older_mkdocs_yml_keeps_the_index_on_one_page(tmp_path: Path) -> None:
    """A project made before letter pages existed lists only /glossary/ in not_in_nav:
    its strict build would fail on letter pages left out of the nav."""
    project = make_project(tmp_path, FIXTURE)
    config = project / "mkdocs.yml"
    assert read_settings(config).letters_out_of_nav
    config.write_text(config.read_text("utf-8").replace("  /index-az/\n", ""), "utf-8")
    assert not read_settings(config).letters_out_of_nav
    glossary = load_glossary(project / "cards")
    build_site(glossary, config, None, build=False, index_split=SPLIT)
    assert not (project / "docs" / "index-az").exists()
    assert len(index_lines((project / "docs" / "index-az.md").read_text("utf-8"))) == 29


# --- writing ---


def test_writes_only_changed_files_and_removes_stale_ones(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    first = generate(load_glossary(FIXTURE), docs)
    assert first.unchanged == 0 and not first.removed
    page = docs / "glossary" / "pod.md"
    stamp = 1_000_000_000
    for path in docs.rglob("*"):
        if path.is_file():
            os.utime(path, (stamp, stamp))

    again = generate(load_glossary(FIXTURE), docs)
    assert again.written == () and again.removed == ()
    assert page.stat().st_mtime == stamp

    cards = tmp_path / "cards"
    shutil.copytree(FIXTURE, cards)
    edge = cards / "edge.yaml"
    edge.write_text(edge.read_text(encoding="utf-8").split("  - id: yo-entry")[0], "utf-8")
    changed = generate(load_glossary(cards), docs)
    assert changed.removed == ("glossary/yo-entry.md",)
    assert "index-az.md" in changed.written and "topics/edge.md" in changed.written
    assert page.stat().st_mtime == stamp  # the pod page does not mention the removed entry


def test_source_note_is_shown_beside_the_quote(tmp_path: Path) -> None:
    cards = tmp_path / "cards"
    shutil.copytree(FIXTURE, cards)
    k8s = cards / "kubernetes.yaml"
    quote = "      Под состоит из одного или нескольких контейнеров\n"
    note = "    source_note: под — не *место на диске* <b>x</b>\n"
    k8s.write_text(k8s.read_text(encoding="utf-8").replace(quote, quote + note, 1), "utf-8")
    page = generated_pages(load_glossary(cards))["glossary/pod.md"]
    quote_at = page.index('??? quote "Из конспекта"')
    # Inside the quote's admonition, escaped like any other card text.
    assert "\n    В конспекте неточно: под — не *место на диске* &lt;b&gt;x&lt;/b&gt;\n" in page
    assert page.index("В конспекте неточно") > quote_at
    assert "В конспекте неточно" not in generated_pages(load_glossary(FIXTURE))["glossary/pod.md"]


def test_sync_tree_leaves_hand_written_files_alone(tmp_path: Path) -> None:
    (tmp_path / "index.md").write_text("hand-written", encoding="utf-8")
    (tmp_path / "glossary").mkdir()
    (tmp_path / "glossary" / "old.md").write_text("stale", encoding="utf-8")
    report = sync_tree(tmp_path, {"glossary/new.md": b"new"})
    assert report.removed == ("glossary/old.md",)
    assert (tmp_path / "index.md").read_text(encoding="utf-8") == "hand-written"


# --- safety: card text is text ---


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(HOSTILE), max_size=14).map("".join))
def test_no_card_text_becomes_markup(text: str) -> None:
    md = site_markdown()
    assert active_content(md.convert(safe_markdown(text))) == []
    linked = fixture_linker().document(text).markdown(lambda i: f"{i}.md", lambda i: '"<x>"')
    assert active_content(md.reset().convert(linked)) == []


@cache
def fixture_linker() -> Linker:
    return Linker.for_glossary(load_glossary(FIXTURE))


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture cards built with mkdocs --strict, with a (fake) deck to download."""
    project = make_project(tmp_path_factory.mktemp("fixture-site"), FIXTURE)
    deck = project / "dist" / "devops.apkg"
    deck.parent.mkdir()
    deck.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip stands in for the deck
    report = build_site(load_glossary(project / "cards"), project / "mkdocs.yml", deck)
    assert report.build is not None and report.build.warnings == ()
    return project / "site"


@pytest.mark.slow
def test_built_pages_show_card_html_as_text(fixture_site: Path) -> None:
    pages = sorted(fixture_site.rglob("*.html"))
    assert len(pages) > 10
    for page in pages:
        assert active_content(page.read_text(encoding="utf-8"), page=True) == [], page
    raw = (fixture_site / "glossary" / "raw-html" / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    assert 'href="https://example.org/?a=1&amp;b=2"' in raw
    # The unclosed fence in the card ends with the card: the page goes on after it.
    assert 'id="examples"' in raw and 'id="backlinks"' not in raw


@pytest.mark.slow
def test_built_site_structure(fixture_site: Path) -> None:
    pod = (fixture_site / "glossary" / "pod" / "index.html").read_text(encoding="utf-8")
    assert '<h1 id="term">Под' in pod
    assert 'id="backlinks"' in pod and 'href="../container/"' in pod
    assert "Из конспекта" in pod and "подах" not in pod
    # The word forms are search-only: in the index as the page's tags, not on the page.
    index_json = json.loads((fixture_site / "search" / "search_index.json").read_text("utf-8"))
    pod_doc = next(d for d in index_json["docs"] if d["location"] == "glossary/pod/")
    assert "подах" in pod_doc["tags"] and "подах" not in pod_doc["text"]
    assert 'id="_1"' not in pod and 'id="details-1"' in pod  # the card's own heading
    home = (fixture_site / "index.html").read_text(encoding="utf-8")
    assert 'href="downloads/devops.apkg"' in home and "md-button" in home
    assert (fixture_site / "downloads" / "devops.apkg").is_file()
    topic = (fixture_site / "topics" / "kubernetes" / "index.html").read_text(encoding="utf-8")
    assert 'class="mermaid"' in topic
    index = (fixture_site / "index-az" / "index.html").read_text(encoding="utf-8")
    assert "Ё стоит вместе с Е" in index
    assert index.index('id="ru-e"') < index.index("Ёлочная гирлянда") < index.index('id="ru-k"')
    # Term pages are not in the nav; the nav holds the home, the topics and the index.
    assert "glossary/pod/" not in home.split('class="md-nav__list"', 1)[1].split("</nav>")[0]


def broken_links(site: Path) -> list[str]:
    """Relative links in the built pages whose file or id does not exist: the links
    generation writes as HTML, which MkDocs's strict build does not check."""
    found = []
    ids: dict[Path, set[str]] = {}
    for page in sorted(site.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        for href in re.findall(r'<a [^>]*href="([^":]*)"', text):
            path, _, anchor = href.partition("#")
            target = (page.parent / path).resolve() if path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                found.append(f"{page.relative_to(site)}: {href}")
            elif anchor:
                if target not in ids:
                    ids[target] = set(re.findall(r' id="([^"]+)"', target.read_text("utf-8")))
                if anchor not in ids[target]:
                    found.append(f"{page.relative_to(site)}: {href}")
    return found


@pytest.mark.slow
def test_every_link_of_the_built_site_resolves(fixture_site: Path) -> None:
    assert broken_links(fixture_site) == []


@pytest.mark.slow
def test_links_resolve_without_directory_urls(tmp_path: Path) -> None:
    project = make_project(tmp_path, FIXTURE)
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("use_directory_urls: true", "use_directory_urls: false"))
    report = build_site(load_glossary(project / "cards"), config, None)
    assert report.build is not None and report.build.warnings == ()
    site = project / "site"
    assert 'href="container.html"' in (site / "glossary" / "pod.html").read_text("utf-8")
    assert broken_links(site) == []


@pytest.mark.slow
@pytest.mark.parametrize("directory_urls", [True, False], ids=["directory-urls", "html-urls"])
def test_a_split_index_builds_strict_and_every_link_resolves(
    tmp_path: Path, directory_urls: bool
) -> None:
    project = make_project(tmp_path, FIXTURE)
    config = project / "mkdocs.yml"
    if not directory_urls:
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace("use_directory_urls: true", "use_directory_urls: false"))
    report = build_site(load_glossary(project / "cards"), config, None, index_split=SPLIT)
    assert report.build is not None and report.build.warnings == ()
    site = project / "site"
    assert broken_links(site) == []

    def page(path: str) -> str:
        name = f"{path}/index.html" if directory_urls else f"{path}.html"
        return (site / name).read_text(encoding="utf-8")

    hub, letter = page("index-az"), page("index-az/ru-p")
    assert ("ru-p/" if directory_urls else "index-az/ru-p.html") in hub
    assert "Алфавитный указатель: П" in letter and ">Под</a>" in letter
    # Out of the nav, which every page shows (the hub is in it), and out of search.
    home = (site / "index.html").read_text(encoding="utf-8")
    assert ('href="index-az/"' if directory_urls else 'href="index-az.html"') in home
    assert "ru-p" not in home and "en-k" not in home
    docs = json.loads((site / "search" / "search_index.json").read_text("utf-8"))["docs"]
    locations = {doc["location"].split("#")[0] for doc in docs}
    assert ("index-az/" if directory_urls else "index-az.html") in locations
    assert not [where for where in locations if where.startswith("index-az/") and where[9:]]


@pytest.mark.slow
def test_site_builds_without_a_deck(tmp_path: Path) -> None:
    project = make_project(tmp_path, FIXTURE)
    report = build_site(
        load_glossary(project / "cards"), project / "mkdocs.yml", project / "missing.apkg"
    )
    assert report.build is not None and report.build.warnings == ()
    home = (project / "site" / "index.html").read_text(encoding="utf-8")
    assert "make deck" in home and "downloads/devops.apkg" not in home


def test_the_site_command_builds_the_deck_it_offers(tmp_path: Path) -> None:
    """`site` in a fresh checkout (no dist/, a stale deck elsewhere): one run, one deck."""
    project = make_project(tmp_path, FIXTURE)
    result = subprocess.run(
        [sys.executable, str(ROOT / "build.py"), "site"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    deck = (project / "dist" / "devops.apkg").read_bytes()
    assert (project / "site" / "downloads" / "devops.apkg").read_bytes() == deck
    assert result.stdout.startswith("wrote dist/devops.apkg: 11 notes, 22 cards")

    # An edit: the next `site` ships the new deck, never the previous one.
    card = project / "cards" / "docker.yaml"
    card.write_text(
        card.read_text(encoding="utf-8").replace("Неизменяемый шаблон", "Шаблон"),
        encoding="utf-8",
    )
    again = subprocess.run(
        [sys.executable, str(ROOT / "build.py"), "site"],
        cwd=project,
        check=True,
        capture_output=True,
    )
    assert again.returncode == 0
    new_deck = (project / "dist" / "devops.apkg").read_bytes()
    assert new_deck != deck
    assert (project / "site" / "downloads" / "devops.apkg").read_bytes() == new_deck


@pytest.mark.parametrize("beside", [True, False], ids=["deck-beside-pages", "deck-first"])
def test_after_an_edit_the_home_page_offers_the_deck_just_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, beside: bool
) -> None:
    """A deck with rendered notes is built on the other core while the pages are made;
    the home page's size and the copy in downloads/ are still those of the new deck."""
    project = make_project(tmp_path, FIXTURE)
    monkeypatch.chdir(project)
    if not beside:  # one core: the deck is built first
        monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert run_cli("site", "--no-build").exit_code == 0  # cold: the deck's notes rendered
    card = project / "cards" / "docker.yaml"
    words = random.Random(1).choices(["слой", "образ", "тег", "том", "сеть"], k=4000)
    text = card.read_text(encoding="utf-8")
    card.write_text(
        text.replace("    details: |\n", f"    details: |\n      {' '.join(words)}\n", 1),
        encoding="utf-8",
    )
    run = run_cli("site", "--no-build")
    assert run.exit_code == 0, run.stderr
    assert "1 changed" in run.stdout
    deck = (project / "dist" / "devops.apkg").read_bytes()
    assert (project / "docs" / "downloads" / "devops.apkg").read_bytes() == deck
    home = (project / "docs" / "assets" / "generated" / "home-deck.md").read_text("utf-8")
    assert f"devops.apkg, {round(len(deck) / 1024)} КБ)" in home


# --- the real cards, with both site generators ---


@pytest.fixture(scope="module")
def real_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = make_project(tmp_path_factory.mktemp("real-site"), ROOT / "cards")
    build_site(load_glossary(project / "cards"), project / "mkdocs.yml", None, build=False)
    return project


@pytest.mark.slow
def test_real_cards_build_with_mkdocs_strict(real_project: Path) -> None:
    report = build_site(load_glossary(real_project / "cards"), real_project / "mkdocs.yml", None)
    assert report.build is not None and report.build.warnings == ()
    assert (real_project / "site" / "glossary" / "pod" / "index.html").is_file()


@pytest.mark.slow
def test_real_cards_build_with_zensical(real_project: Path) -> None:
    zensical = Path(sys.executable).with_name("zensical")
    command = [str(zensical)] if zensical.exists() else [sys.executable, "-m", "zensical"]
    result = subprocess.run(
        [*command, "build", "--strict", "--config-file", "mkdocs.yml"],
        cwd=real_project,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    pod = real_project / "site" / "glossary" / "pod" / "index.html"
    assert 'href="../container/"' in pod.read_text(encoding="utf-8")


# --- serve: a changed card file regenerates the pages ---


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode("utf-8"))
    except OSError:
        return None


def _wait_for(url: str, needle: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        page = _fetch(url)
        if page is not None and needle in page:
            return True
        time.sleep(0.3)
    return False


@pytest.mark.slow
def test_serve_regenerates_pages_when_a_card_changes(tmp_path: Path) -> None:
    project = make_project(tmp_path, FIXTURE)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "build.py"), "serve", "-a", f"127.0.0.1:{port}"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/konspekt/glossary/node/"
        assert _wait_for(url, "Машина кластера", 60), "mkdocs serve did not start"
        card = project / "cards" / "kubernetes.yaml"
        text = card.read_text(encoding="utf-8")
        card.write_text(text.replace("Машина кластера", "Сервер кластера"), encoding="utf-8")
        assert _wait_for(url, "Сервер кластера", 60), "the page was not regenerated"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_site_is_freed_when_dropped_without_a_collection() -> None:
    """No reference cycle keeps a Site's linked texts alive: at 5,000 entries the
    collection that freed them scanned ~500,000 objects inside the timed generation."""
    import gc
    import weakref

    enabled = gc.isenabled()
    gc.disable()
    try:
        site = Site(load_glossary(FIXTURE))
        site.pages()
        dropped = weakref.ref(site)
        del site
        assert dropped() is None
    finally:
        if enabled:
            gc.enable()
