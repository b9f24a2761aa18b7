"""konspekt's MkDocs runner: an incremental site/ is, file for file, a cold one and plain MkDocs's.

Each step edits the project the way an author does, then builds three times from the
same docs/: incrementally with the project's page cache, cold with no cache (two
worker processes), and with plain `mkdocs build --strict`. All three must agree byte
for byte, and the incremental build must actually have reused pages.
"""

from __future__ import annotations

import contextlib
import filecmp
import functools
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT, make_project
from konspekt import load_glossary
from konspekt.errors import MkDocsError
from konspekt.site.build import (
    PAGE_CACHE,
    BuildLog,
    generate,
    mkdocs_build,
    project_settings,
)
from konspekt.site.mkdocs_run import skip_anchorless_parses
from konspekt.site.pages import INDEX_SPLIT

Edit = Callable[[Path], None]


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def edit_definition(project: Path) -> None:
    replace(project / "cards" / "kubernetes.yaml", "Наименьшая единица", "Самая маленькая единица")


NEW_TERM = """
  - id: pod-sandbox
    term: Песочница пода
    en: Pod sandbox
    definition: >-
      Окружение, которое среда выполнения готовит поду до запуска его контейнеров:
      общее сетевое пространство и IP-адрес пода.
"""


def add_term(project: Path) -> None:
    path = project / "cards" / "kubernetes.yaml"
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + NEW_TERM, "utf-8")


def rename_term(project: Path) -> None:
    replace(project / "cards" / "kubernetes.yaml", "term: Под\n", "term: Под Kubernetes\n")


def edit_hand_written_page(project: Path) -> None:
    path = project / "docs" / "index.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nЕщё один абзац.\n", "utf-8")


def change_palette(project: Path) -> None:
    replace(project / "mkdocs.yml", "primary: indigo", "primary: teal")


def override_theme(project: Path) -> None:
    (project / "overrides" / "main.html").write_text(
        '{% extends "base.html" %}\n'
        "{% block footer %}{{ super() }}<!-- konspekt test -->{% endblock %}\n",
        encoding="utf-8",
    )


STEPS: list[tuple[str, Edit]] = [
    ("a definition changed", edit_definition),
    ("a term added", add_term),
    ("a term renamed", rename_term),
    ("a hand-written page edited", edit_hand_written_page),
    ("mkdocs.yml changed", change_palette),
    ("the theme overridden", override_theme),
]


def plain_mkdocs(project: Path, site_dir: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site_dir)],
        cwd=project,
        check=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


def differences(left: Path, right: Path) -> list[str]:
    """Relative paths that differ (or exist on one side only) between two trees."""

    def files(root: Path) -> set[str]:
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}

    names = files(left) | files(right)
    return sorted(
        name
        for name in names
        if not ((left / name).is_file() and (right / name).is_file())
        or not filecmp.cmp(left / name, right / name, shallow=False)
    )


def kept_pages(log: BuildLog) -> int:
    match = re.search(r"already in the site folder: (\d+)", log.output)
    assert match, log.output
    return int(match.group(1))


def stored_rows(cache: Path) -> tuple[int, int]:
    """Pages and blobs in the page cache."""
    with contextlib.closing(sqlite3.connect(cache / PAGE_CACHE)) as db:
        (pages,) = db.execute("SELECT count(*) FROM pages4").fetchone()
        (blobs,) = db.execute("SELECT count(*) FROM blobs").fetchone()
    return pages, blobs


def cached_pages(log: BuildLog) -> tuple[int, int]:
    match = re.search(r"Pages from konspekt's cache: (\d+) of (\d+)", log.output)
    assert match, log.output
    return int(match.group(1)), int(match.group(2))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The sitemap carries the build date: one date for every build of the test.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    monkeypatch.chdir(tmp_path)
    return make_project(tmp_path / "project", ROOT / "cards")


def regenerate(project: Path, cache: bool = True, index_split: int | None = INDEX_SPLIT) -> None:
    settings = project_settings(project / "mkdocs.yml")
    cache_dir = project / ".cache" if cache else None
    glossary = load_glossary(project / "cards")
    generate(glossary, project / "docs", None, cache_dir, None, settings, index_split=index_split)


def cold_copy(project: Path, where: Path, index_split: int | None = INDEX_SPLIT) -> Path:
    """The project's sources in `where`, docs/ generated there without any cache."""
    generated = ("glossary", "topics", "index-az.md", "index-az", "changes.md", "assets/generated")
    shutil.copytree(project, where, ignore=shutil.ignore_patterns(".cache", "site", "site-*"))
    for name in generated:
        path = where / "docs" / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    regenerate(where, cache=False, index_split=index_split)
    return where


@pytest.mark.slow
@pytest.mark.parametrize("index_split", [INDEX_SPLIT, 50], ids=["index-one-page", "index-split"])
def test_incremental_site_is_the_cold_site_and_plain_mkdocs(
    project: Path, tmp_path: Path, index_split: int
) -> None:
    config = project / "mkdocs.yml"
    cache = project / ".cache"
    regenerate(project, index_split=index_split)
    assert (project / "docs" / "index-az").is_dir() == (index_split == 50)
    first = mkdocs_build(config, project / "site", cache)
    assert cached_pages(first)[0] == 0
    plain_mkdocs(project, tmp_path / "plain-0")
    assert differences(project / "site", tmp_path / "plain-0") == []
    for number, (what, edit) in enumerate(STEPS, start=1):
        edit(project)
        regenerate(project, index_split=index_split)
        incremental = mkdocs_build(config, project / "site", cache)
        # Cold: docs/ generated without the generation cache, built without the page cache.
        source = cold_copy(project, tmp_path / f"cold-project-{number}", index_split)
        assert differences(project / "docs", source / "docs") == [], what
        cold = tmp_path / f"cold-{number}"
        mkdocs_build(source / "mkdocs.yml", cold, None)
        plain = tmp_path / f"plain-{number}"
        plain_mkdocs(project, plain)
        assert differences(project / "site", plain) == [], what
        assert differences(cold, plain) == [], what
        reused, total = cached_pages(incremental)
        if edit not in (change_palette, override_theme):  # these change every page
            assert 0 < reused < total, (what, reused, total)
        pages, blobs = stored_rows(cache)
        assert pages >= total and blobs == pages, what  # no page's blob left behind


@pytest.mark.slow
def test_a_broken_link_fails_every_build_even_from_a_cached_page(project: Path) -> None:
    config = project / "mkdocs.yml"
    cache = project / ".cache"
    index = project / "docs" / "index.md"
    index.write_text(index.read_text("utf-8") + "\nСм. [под](glossary/pod.md).\n", "utf-8")
    regenerate(project)
    mkdocs_build(config, project / "site", cache)
    assert cached_pages(mkdocs_build(config, project / "site", cache))[0] > 0
    (project / "docs" / "glossary" / "pod.md").unlink()  # the target goes; index.md does not change
    for _ in range(2):  # a page that warned is not stored: it warns again
        with pytest.raises(MkDocsError, match=r"contains a link 'glossary/pod\.md'"):
            mkdocs_build(config, project / "site", cache)


def test_a_page_that_warns_fails_a_cold_build_whose_workers_rendered_it(project: Path) -> None:
    # A cold build's pages are rendered by two worker processes: a page that warned
    # there is not stored, so the assembly renders it again and MkDocs warns.
    page = project / "docs" / "glossary" / "pod.md"
    regenerate(project)
    page.write_text(page.read_text("utf-8") + "\nСм. [нет такой](missing.md).\n", "utf-8")
    for _ in range(2):  # and again when the other pages come from the cache
        with pytest.raises(MkDocsError, match=r"contains a link 'missing\.md'"):
            mkdocs_build(project / "mkdocs.yml", project / "site", project / ".cache")


@pytest.mark.slow
def test_a_missing_anchor_fails_the_build_when_the_linking_page_is_cached(project: Path) -> None:
    config = project / "mkdocs.yml"
    cache = project / ".cache"
    index = project / "docs" / "index.md"
    hand = project / "docs" / "glossary" / "pod.md"
    regenerate(project)
    index.write_text(
        index.read_text("utf-8") + "\nСм. [пример](glossary/pod.md#anchor-x).\n", "utf-8"
    )
    hand.write_text(hand.read_text("utf-8") + '\n<p id="anchor-x">x</p>\n', "utf-8")
    mkdocs_build(config, project / "site", cache)
    replace(hand, 'id="anchor-x"', 'id="anchor-y"')  # index.md is a cache hit now
    with pytest.raises(MkDocsError, match=r"does not contain an anchor '#anchor-x'"):
        mkdocs_build(config, project / "site", cache)


def test_the_runner_refuses_versions_it_does_not_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    from konspekt.site import mkdocs_run

    monkeypatch.setitem(mkdocs_run.SUPPORTED, "mkdocs", "0.9.")
    with pytest.raises(mkdocs_run.RunnerError, match=r"mirrors mkdocs 0\.9\.x, but mkdocs 1\.6"):
        mkdocs_run.check_versions()


def test_a_damaged_cache_file_is_replaced(project: Path) -> None:
    regenerate(project)
    cache = project / ".cache"
    cache.mkdir(exist_ok=True)
    (cache / "mkdocs-pages.sqlite").write_bytes(b"not a database, " * 100)
    mkdocs_build(project / "mkdocs.yml", project / "site", cache)
    assert cached_pages(mkdocs_build(project / "mkdocs.yml", project / "site", cache))[0] > 0


def stamps(site: Path) -> dict[str, tuple[int, int]]:
    """The pages (not 404.html, written each time) with their inode and mtime."""
    return {
        p.relative_to(site).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in site.rglob("index.html")
    }


@pytest.mark.slow
def test_a_rebuild_into_an_earlier_site_keeps_its_unchanged_pages_and_nothing_else(
    project: Path, tmp_path: Path
) -> None:
    config = project / "mkdocs.yml"
    cache = project / ".cache"
    site = project / "site"
    regenerate(project)
    for source in (project / "docs").rglob("*.md"):  # old enough to be stamped, not read again
        os.utime(source, (source.stat().st_atime - 3600, source.stat().st_mtime - 3600))
    mkdocs_build(config, site, cache)
    before = stamps(site)
    mkdocs_build(config, site, cache)
    assert stamps(site) == before  # every page kept, none written again
    # What a folder may hold besides a build's output, e.g. after an interrupted build.
    (site / "index.html").write_text("changed by hand", "utf-8")  # rewritten
    for folder in (site / "glossary").iterdir():  # in pages' folders, kept or not
        (folder / "stray.html").write_text("x", "utf-8")
    (site / "stray" / "deeper").mkdir(parents=True)
    (site / "stray" / "deeper" / "stray.txt").write_text("x", "utf-8")
    (site / "assets" / "stray.js").write_text("x", "utf-8")
    edit_definition(project)
    regenerate(project)
    index = project / "docs" / "index.md"  # edited in place: same inode, same size
    with index.open("r+b") as file:
        data = file.read()
        file.seek(0)
        assert "по Docker".encode() in data
        file.write(data.replace("по Docker".encode(), "по DOCKER".encode(), 1))
    mkdocs_build(config, site, cache)
    plain_mkdocs(project, tmp_path / "plain")
    assert differences(site, tmp_path / "plain") == []
    after = stamps(site)
    kept = [path for path in after if after[path] == before.get(path)]
    assert 0 < len(kept) < len(after) - 2, (len(kept), len(after))


@pytest.mark.parametrize("thread", [False, True], ids=["forked", "spawned"])
def test_a_cold_build_forks_its_workers_unless_another_thread_runs(
    project: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, thread: bool
) -> None:
    # Forked from the runner, set up, the workers start rendering at once; with
    # another thread in the process (serve's server) they are started as processes.
    # Either way they render every term page, which the assembly finds in the site
    # folder, and the site is plain MkDocs's.
    from mkdocs.config import load_config

    from konspekt.site import mkdocs_run

    regenerate(project)
    os.chdir(project)  # (snippets' base_path is relative to it; the fixture restores it)
    site = tmp_path / "site"
    config = load_config(config_file=str(project / "mkdocs.yml"), strict=True, site_dir=str(site))
    caplog.set_level(logging.DEBUG, logger="mkdocs.konspekt")
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    if thread:
        other.start()
    try:
        config.plugins.on_startup(command="build", dirty=False)
        mkdocs_run.build(config, cache_path=tmp_path / "cache" / "pages.sqlite")
        config.plugins.on_shutdown()
    finally:
        stop.set()
        if thread:
            other.join()
    assert ("forked workers" in caplog.text) is not thread
    assert ("worker processes" in caplog.text) is thread
    terms = len(list((project / "docs" / "glossary").glob("*.md")))
    match = re.search(r"already in the site folder: (\d+)", caplog.text)
    assert match and int(match.group(1)) >= terms, caplog.text[-2000:]
    plain_mkdocs(project, tmp_path / "plain")
    assert differences(site, tmp_path / "plain") == []


def test_the_pages_of_a_failed_forked_worker_are_rendered_by_the_assembly(
    project: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mkdocs.config import load_config

    from konspekt.site import mkdocs_run

    def broken(*args: object) -> None:
        raise RuntimeError("a worker broke")

    regenerate(project)
    os.chdir(project)
    site = tmp_path / "site"
    config = load_config(config_file=str(project / "mkdocs.yml"), strict=True, site_dir=str(site))
    caplog.set_level(logging.DEBUG, logger="mkdocs.konspekt")
    monkeypatch.setattr(mkdocs_run.Runner, "render_share", broken)  # (in the forked child)
    config.plugins.on_startup(command="build", dirty=False)
    mkdocs_run.build(config, cache_path=tmp_path / "cache" / "pages.sqlite")
    config.plugins.on_shutdown()
    assert caplog.text.count("a page worker failed (1)") == 2
    assert "RuntimeError: a worker broke" in caplog.text  # its traceback, from its file
    assert "already in the site folder: 0" in caplog.text  # the assembly wrote every page
    plain_mkdocs(project, tmp_path / "plain")
    assert differences(site, tmp_path / "plain") == []


@pytest.mark.slow
def test_a_cold_build_keeps_the_pages_its_workers_wrote_into_the_site_folder(
    project: Path, tmp_path: Path
) -> None:
    config, cache, site = project / "mkdocs.yml", project / ".cache", project / "site"
    regenerate(project)
    log = mkdocs_build(config, site, cache)
    assert cached_pages(log)[0] == 0
    terms = len(list((project / "docs" / "glossary").glob("*.md")))
    assert kept_pages(log) >= terms  # the workers wrote them; the assembly did not again
    plain_mkdocs(project, tmp_path / "plain")
    assert differences(site, tmp_path / "plain") == []
    # Into a folder that holds anything (here a link where a page goes), only the
    # assembly writes, after emptying it: nothing is written through the link.
    outside = tmp_path / "outside.html"
    outside.write_text("not the site's", "utf-8")
    again = tmp_path / "again"
    (again / "glossary" / "pod").mkdir(parents=True)
    (again / "glossary" / "pod" / "index.html").symlink_to(outside)
    log = mkdocs_build(config, again, tmp_path / "other-cache")
    assert kept_pages(log) == 0
    assert outside.read_text("utf-8") == "not the site's"
    assert differences(again, tmp_path / "plain") == []


@pytest.mark.parametrize(
    "path",
    ["a/b.md", "./a.md", "a//b.md", "a/./b", "a/.", "a/", ".", "", "/x.md", "../a.md", "a/.x"],
)
def test_link_paths_are_keyed_as_mkdocs_keys_them(path: str) -> None:
    from pathlib import PurePath

    from konspekt.site.mkdocs_run import _as_posix

    assert _as_posix(path) == PurePath(path).as_posix()


# --- the anchor parse MkDocs makes of every source, skipped where it cannot find one ---

# Pieces of HTML and prose, so that random sources hold tags, attributes and near misses.
PIECES = [
    *("<a", "<p", "<div", "<A", "</a>", ">", "/>", "/", "=", '"', "'", " ", "\n", "\t"),
    *("id", "ID", "iD", "name", "NAME", "nam", "idx", "uid", "x", "-", "`", "#", "{#id}"),
    *("<!--", "-->", "<![CDATA[", "]]>", "<?", "?>", "&amp;", "под", "href", "title"),
]
# ... and tags built to put an attribute at every kind of boundary.
TAGS = st.tuples(
    st.sampled_from(["<a", "<A", "<span", "<p x=1"]),
    st.sampled_from([" ", "\n", "/", " /", '"', "'", ""]),
    st.sampled_from(["id", "Id", "ID", "name", "NAME", "uid", "idx", "name2"]),
    st.sampled_from(["=", " = ", "/", ">", " ", "/>", "\t", ""]),
    st.sampled_from(['"v"', "'w'", "x", "", '"a>b"']),
    st.sampled_from([">", "/>", " >", ""]),
).map("".join)
HTML_PIECES = st.one_of(st.sampled_from(PIECES), TAGS)


def anchors_found(lines: list[str]) -> set[str]:
    from mkdocs.structure.pages import _RawHTMLPreprocessor

    preprocessor = _RawHTMLPreprocessor()
    assert preprocessor.run(lines) == lines
    return preprocessor.present_anchor_ids


@given(st.lists(st.lists(HTML_PIECES, max_size=30).map("".join), max_size=4))
def test_skipping_the_anchor_parse_finds_what_mkdocs_finds(lines: list[str]) -> None:
    from mkdocs.structure.pages import _HTMLHandler

    parser = _HTMLHandler()
    parser.feed("\n".join(lines))
    parser.close()
    skip_anchorless_parses()
    assert anchors_found(lines) == parser.present_anchor_ids


def test_an_anchor_attribute_at_any_boundary_is_found_as_mkdocs_finds_it() -> None:
    from mkdocs.structure.pages import _HTMLHandler

    skip_anchorless_parses()
    edges = [" ", "\n", "\t", "\r", "\f", "\v", "\xa0", "/", '"', "'", "x", "-", "`", "=", ">"]
    for before in edges:
        for name in ("id", "Id", "NAME", "uid", "ids"):
            for after in [*edges, "/>", '="v">', ""]:
                source = f'<a title="t"{before}{name}{after}'
                parser = _HTMLHandler()
                parser.feed(source)
                parser.close()
                assert anchors_found([source]) == parser.present_anchor_ids, source


def test_a_source_without_an_anchor_attribute_is_not_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mkdocs.structure import pages

    parsed: list[str] = []

    class Counting(pages._HTMLHandler):
        def feed(self, data: str) -> None:
            parsed.append(data)
            super().feed(data)

    monkeypatch.setattr(pages, "_HTMLHandler", Counting)
    skip_anchorless_parses()
    prose = [
        "# Под {#term}",
        "",
        '<p class="konspekt-meta"><em>Pod</em></p>',
        "Поле uid пода, IDs.",
    ]
    assert anchors_found(prose) == set()
    assert parsed == []
    assert anchors_found([*prose, '<a id="here"></a>']) == {"here"}
    assert anchors_found(['<a name="old">', "<span\nid=x>"]) == {"old", "x"}
    assert anchors_found(["Поле id пода."]) == set()  # a near miss in prose: parsed
    assert len(parsed) == 3


# --- one Markdown instance for every page of a build ---

# Pages that would show state one page's conversion left in a reused Markdown
# instance: heading ids (toc numbers repeats), reference definitions, the stash of raw
# HTML and fenced code, Pygments' block counter, open admonitions and details.
STATEFUL_PAGES = {
    "a.md": (
        "# Обзор\n\n## Setup\n\n## Setup\n\nСм. [другое][ref] и [b](b.md).\n\n"
        '[ref]: b.md "Подсказка"\n\n'
        "| a | b |\n| - | - |\n| 1 | 2 |\n\n"
        "```python\nx = 1\n```\n\n"
        '!!! note\n    Заметка\n\n??? info "Подробно"\n    Скрыто\n\n'
        "Код `#!python y = 2` в строке. Абзац { #own .cls }\n\n"
        '<div class="raw">сырой HTML</div>\n\n'
        "```mermaid\ngraph LR\n  A --> B\n```\n\n"
        '--8<-- "snippet.md"\n\n'
        "!!! warning\n    Без конца"
    ),
    "b.md": (
        "# Второй\n\n## Setup\n\nСсылка [без определения][ref] и [a](a.md#setup_1).\n\n"
        "```python\nz = 3\n```\n\n"
        '<div class="raw">ещё</div>\n\n'
        "Текст"
    ),
    "c.md": "## Без заголовка первого уровня\n\n## Setup\n\n```\nplain\n```\n",
}


def stateful_project(where: Path, extra_extension: str | None = None) -> Path:
    shutil.copytree(ROOT / "overrides", where / "overrides")
    config = (ROOT / "mkdocs.yml").read_text("utf-8")
    config = config.replace("INHERIT: docs/assets/generated/site.yml\n", "site_name: Test\n")
    config = config.replace("not_in_nav: |", "not_in_nav: |\n  /*.md")
    if extra_extension:
        config = config.replace(
            "markdown_extensions:\n", f"markdown_extensions:\n  - {extra_extension}\n"
        )
    (where / "mkdocs.yml").write_text(config, "utf-8")
    (where / "docs" / "assets" / "generated").mkdir(parents=True)
    (where / "docs" / "assets" / "generated" / "snippet.md").write_text("Вставка.\n", "utf-8")
    (where / "docs" / "index.md").write_text("# Главная\n", "utf-8")
    for name, text in STATEFUL_PAGES.items():
        (where / "docs" / name).write_text(text, "utf-8")
    return where


def markdown_instances(project: Path, site: Path) -> int:
    """Build with the runner (no cache: one process renders every page); how many
    markdown.Markdown instances it made."""
    code = (
        "import sys, markdown\n"
        "made = []\n"
        "init = markdown.Markdown.__init__\n"
        "def counting(self, *args, **kwargs):\n"
        "    made.append(1)\n"
        "    init(self, *args, **kwargs)\n"
        "markdown.Markdown.__init__ = counting\n"
        "from konspekt.site.mkdocs_run import main\n"
        "code = main(['build', '--config-file', 'mkdocs.yml', '--site-dir', sys.argv[1]])\n"
        "print('instances', len(made))\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(site)],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return int(re.findall(r"instances (\d+)", result.stdout)[-1])


@pytest.mark.parametrize("extra", [None, "abbr"], ids=["known-extensions", "an-unknown-one"])
def test_pages_converted_by_one_markdown_instance_are_plain_mkdocs_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str | None
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    project = stateful_project(tmp_path / "project", extra)
    instances = markdown_instances(project, tmp_path / "runner")
    pages = 1 + len(STATEFUL_PAGES)
    if extra is None:
        assert instances < pages  # one for all pages (and none for other uses)
    else:  # an extension whose state between pages the runner does not know
        assert instances >= pages
    plain_mkdocs(project, tmp_path / "plain")
    assert differences(tmp_path / "runner", tmp_path / "plain") == []


# --- raw HTML blocks Python-Markdown takes whole ---

RAW_PREFIXES = ["", "  ", "    "]
RAW_OPENINGS = ["<p>", '<p class="konspekt-backlinks" data-search-exclude>', "<div>", "<P>"]
RAW_OPENINGS += ['<p title="a > b">', "<p id=x>", "<span>", "<hr>", "<script>", "<pre>"]
RAW_INSIDES = ["текст", " · ", "&amp;", "&amp", "&#x27;", "&#39", "&", ">", "*не md*"]
RAW_INSIDES += ['<a href="../x/" title="Под &quot;x&quot;">Под</a>', "<em>", "</em>", "<br>"]
RAW_INSIDES += ["<p>", "</p>", "<div>", "</div>", "<!-- c -->", "<b>", "</a>", "<code>`x`</code>"]
RAW_CLOSINGS = ["</p>", "</div>", "</P>", "", "</p> хвост", "</p>  ", "</span>", "</script>"]
RAW_AFTER = ["", "\n", "\n\nАбзац.", "\nСтрока.", "\n\n<p>ещё</p>", "\n\n    код"]
# Before the line: nothing, a paragraph, a line, a list, an open raw block, and a raw
# block's tail that leaves a comment in the extractor's cache for the next block.
RAW_BEFORE = ["", "Абзац.\n\n", "Строка.\n", "- пункт\n\n", "<div>\n"]
RAW_BEFORE += ["<div>\n<p></div><!-- c --></p>\n\n"]


def converted(source: str, fast: bool, monkeypatch: pytest.MonkeyPatch) -> str:
    """`source` in HTML, with raw blocks taken whole (`fast`) or as Python-Markdown does."""
    from markdown.htmlparser import HTMLExtractor

    from konspekt.site.mkdocs_run import take_simple_raw_blocks

    take_simple_raw_blocks()
    patched = HTMLExtractor.parse_starttag
    with monkeypatch.context() as m:
        if not fast:
            m.setattr(HTMLExtractor, "parse_starttag", patched.original)  # type: ignore[attr-defined]
        return _converter().reset().convert(source)


@functools.cache
def _converter() -> Any:
    import markdown

    return markdown.Markdown(extensions=["toc", "tables", "attr_list", "admonition"])


def raw_documents() -> st.SearchStrategy[str]:
    line = st.tuples(
        st.sampled_from(RAW_PREFIXES),
        st.sampled_from(RAW_OPENINGS),
        st.lists(st.sampled_from(RAW_INSIDES), max_size=6).map("".join),
        st.sampled_from(RAW_CLOSINGS),
    ).map("".join)
    return st.tuples(
        st.sampled_from(RAW_BEFORE),
        st.lists(line, min_size=1, max_size=3),
        st.sampled_from(RAW_AFTER),
    ).map(lambda parts: parts[0] + "\n\n".join(parts[1]) + parts[2])


@settings(max_examples=300, deadline=None)
@given(raw_documents())
def test_raw_blocks_taken_whole_convert_as_python_markdown_converts_them(source: str) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert converted(source, True, monkeypatch) == converted(source, False, monkeypatch)


def test_every_kind_of_raw_line_converts_as_python_markdown_converts_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    insides = ["", "текст", "&#x27;", RAW_INSIDES[9], "&amp", "<p>", "<!-- c -->", "</a>"]
    for before in RAW_BEFORE:
        for opening in RAW_OPENINGS:
            for inside in insides:
                for closing in RAW_CLOSINGS:
                    for after in ("", "\n\nАбзац.", "\nСтрока."):
                        source = f"{before}{opening}{inside}{closing}{after}"
                        fast = converted(source, True, monkeypatch)
                        assert fast == converted(source, False, monkeypatch), source


def test_a_backlinks_line_is_taken_in_one_step(monkeypatch: pytest.MonkeyPatch) -> None:
    from markdown.htmlparser import HTMLExtractor

    handle = HTMLExtractor.handle_starttag
    tags: list[str] = []

    def counting(self: HTMLExtractor, tag: str, attrs: list[tuple[str, str]]) -> None:
        tags.append(tag)
        handle(self, tag, attrs)

    monkeypatch.setattr(HTMLExtractor, "handle_starttag", counting)
    links = " · ".join(
        f'<a href="../t{n}/" title="Термин {n} &mdash; это">T{n}</a>' for n in range(300)
    )
    source = f'## Упоминается в\n\n<p class="konspekt-backlinks" data-search-exclude>{links}</p>\n'
    expected = converted(source, False, monkeypatch)
    assert len(tags) == 301
    tags.clear()
    assert converted(source, True, monkeypatch) == expected
    assert tags == []  # not one tag of the line read by html.parser
    inside = source.replace("</p>", "<p></p>")  # not simple: read tag by tag
    assert converted(inside, True, monkeypatch) == converted(inside, False, monkeypatch)
    assert len(tags) == 2 * 302


# --- Material's navigation rendered once for the pages outside the nav ---


def nav_project(where: Path) -> Path:
    """A nav with a page under another page's folder, and pages outside the nav."""
    shutil.copytree(ROOT / "overrides", where / "overrides")
    config = (ROOT / "mkdocs.yml").read_text("utf-8")
    config = config.replace("INHERIT: docs/assets/generated/site.yml\n", "site_name: Test\n")
    config = config.replace("not_in_nav: |", "not_in_nav: |\n  /other/\n  /guide/b.md")
    config += "\nnav:\n  - index.md\n  - Раздел:\n      - guide/b/sub.md\n      - guide/c.md\n"
    (where / "mkdocs.yml").write_text(config, "utf-8")
    (where / "docs" / "assets" / "generated").mkdir(parents=True)
    pages = {
        "index.md": "# Главная",
        "guide/b/sub.md": "# Вложенная",
        "guide/c.md": "# Третья",
        "guide/b.md": "# Вне навигации, над вложенной",  # `url` makes sub/ relative to it
        "other/a.md": "# Вне навигации",
        "other/d.md": "# Ещё одна вне навигации",
    }
    for name, text in pages.items():
        (where / "docs" / name).parent.mkdir(parents=True, exist_ok=True)
        (where / "docs" / name).write_text(text + "\n", "utf-8")
    return where


def test_the_navigation_made_once_for_pages_outside_it_is_plain_mkdocs_navigation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mkdocs.config import load_config

    from konspekt.site.mkdocs_run import Runner

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    project = nav_project(tmp_path / "project")
    monkeypatch.chdir(project)
    config = load_config(config_file="mkdocs.yml", site_dir=str(tmp_path / "runner"))
    runner = Runner(config, None, None)
    try:
        runner.build()
    finally:
        runner.close()
    plain_mkdocs(project, tmp_path / "plain")
    assert differences(tmp_path / "runner", tmp_path / "plain") == []
    memo = runner.nav_memo
    assert memo is not None
    # other/a and other/d share one; guide/b's links to guide/b/sub/ differ: made for it.
    assert (memo.made, memo.reused) == (2, 1)
