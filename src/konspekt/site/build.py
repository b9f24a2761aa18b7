"""Build the reference site: write the generated pages into docs/, then run MkDocs.

The pages themselves come from `site_pages` (pure functions); this module does the
I/O. Writing compares before it writes, so an unchanged page keeps its mtime and
`mkdocs serve` or a later incremental build sees only real changes; files a
previous run generated that are no longer wanted (a removed entry) are deleted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ..changes import History, release_history
from ..errors import ConfigError, KonspektError, MkDocsError
from ..link import Linker
from ..load import load_glossary, no_gc_pauses
from ..model import Glossary
from ..output import die_with_parent, staged_dir, write_file
from ..projectfile import PROJECT_FILE, ProjectFile, read_project_file
from .config import read_mkdocs_yml
from .pagecache import CACHE_NAME as GENERATION_CACHE
from .pagecache import GenerationCache, settings_key
from .pages import (
    CHANGES_PAGE,
    DOWNLOADS_DIR,
    GENERATED_DIR,
    GLOSSARY_DIR,
    INDEX_DIR,
    INDEX_PAGE,
    INDEX_SPLIT,
    MEDIA_DIR,
    TOPICS_DIR,
    generated_files,
    letter_path,
    term_path,
)
from .writer import FolderWriter

log = logging.getLogger(__name__)

# What generation owns inside docs/: these folders wholly, and these single files.
OWNED_DIRS = (GLOSSARY_DIR, TOPICS_DIR, INDEX_DIR, GENERATED_DIR, DOWNLOADS_DIR, MEDIA_DIR)
OWNED_FILES = (INDEX_PAGE, CHANGES_PAGE)
_OWNED_PREFIXES = tuple(f"{folder}/" for folder in OWNED_DIRS)


@dataclass(frozen=True)
class WriteReport:
    """What a generation run did to docs/."""

    written: tuple[str, ...]
    unchanged: int
    removed: tuple[str, ...]

    @property
    def total(self) -> int:
        return len(self.written) + self.unchanged

    def summary(self) -> str:
        return (
            f"{self.total} files: {len(self.written)} written, {self.unchanged} unchanged, "
            f"{len(self.removed)} removed"
        )


@dataclass(frozen=True)
class SiteSettings:
    """The few mkdocs.yml settings generation needs, read without MkDocs."""

    config_file: Path
    docs_dir: Path
    site_dir: Path
    site_url: str | None  # as written; the deck normalizes it
    directory_urls: bool = True  # use_directory_urls: the URLs generated HTML links use
    # Whether not_in_nav keeps the index's letter pages out of the nav (see `index_split`).
    letters_out_of_nav: bool = True

    def index_split(self, index_split: int | None) -> int | None:
        """The index is split only where mkdocs.yml keeps its letter pages out of the nav:
        in a project made before there were any, `--strict` fails on pages left out of
        the nav (`validation: omitted_files: warn`), so its index stays one page."""
        return index_split if self.letters_out_of_nav else None


@dataclass(frozen=True)
class BuildLog:
    """The output of an MkDocs run and the warnings in it."""

    output: str
    warnings: tuple[str, ...]


def sync_tree(
    root: Path,
    files: Mapping[str, bytes],
    on_disk: Mapping[str, bytes] | None = None,
    *,
    written_before: Collection[str] = (),
) -> WriteReport:
    """Make the owned parts of `root` hold exactly `files` (paths relative to `root`).

    A file whose bytes are already right is not touched; others are written
    atomically; owned files not in `files` are removed. `on_disk`: files just read
    from `root`, not read again; `written_before`: files this run wrote already (not
    in `files`, but not removed either).
    """
    written: list[str] = []
    unchanged = 0
    known = on_disk or {}
    # The files in each owned folder now: a page not among them is not read back first.
    # os.walk and strings: pathlib costs more than the rest at thousands of pages.
    present: dict[str, list[str]] = {}
    for owned in OWNED_DIRS:
        found = present[owned] = []
        for folder, _, names in os.walk(root / owned):
            base = Path(folder).relative_to(root).as_posix()
            found += [f"{base}/{name}" for name in names]
    listed = {relative for found in present.values() for relative in found}
    folders: set[Path] = set()  # made (or found) this run
    for relative in sorted({*files, *written_before}):
        if relative in written_before:
            written.append(relative)
            continue
        path = root / relative
        data = files[relative]
        if known.get(relative) == data:
            unchanged += 1
            continue
        if relative in listed or not relative.startswith(_OWNED_PREFIXES):
            try:
                if path.read_bytes() == data:
                    unchanged += 1
                    continue
            except FileNotFoundError:
                pass
        if path.parent not in folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            folders.add(path.parent)
        write_file(path, data, tidy=False)
        written.append(relative)
    removed: list[str] = []
    for owned in OWNED_DIRS:
        stale = sorted(
            relative
            for relative in present[owned]
            if relative not in files and relative not in written_before
        )
        for relative in stale:
            (root / relative).unlink()
            removed.append(relative)
        if stale:
            # A folder no page is in any more (a split index that is one page again).
            _remove_empty_folders(root / owned)
    for relative in OWNED_FILES:
        if relative not in files and (root / relative).is_file():
            (root / relative).unlink()
            removed.append(relative)
    return WriteReport(tuple(written), unchanged, tuple(removed))


def _remove_empty_folders(top: Path) -> None:
    """Remove the empty folders under `top`, and `top` if it is left empty."""
    for folder, _, _ in sorted(os.walk(top), key=lambda walked: -len(walked[0])):
        with contextlib.suppress(OSError):  # not empty: kept
            os.rmdir(folder)


DeckFile = Path | None | Callable[[], Path | None]  # a deck, or one being built (its path later)


def generate(
    glossary: Glossary,
    docs_dir: Path,
    deck: DeckFile = None,
    cache_dir: Path | None = None,
    history: History | Callable[[], History | None] | None = None,
    settings: ProjectFile | None = None,
    *,
    directory_urls: bool = True,
    linker: Linker | None = None,
    index_split: int | None = INDEX_SPLIT,
) -> WriteReport:
    """Write every generated page for `glossary` into `docs_dir`, and copy the deck.

    Without a deck file the home page says how to build one instead of offering a
    download, so the site builds either way. `cache_dir` keeps the linker's index
    between builds, so an edit that renames nothing does not rebuild it.
    `directory_urls` is mkdocs.yml's `use_directory_urls` (`read_settings`).
    `linker`, the glossary's, is given by a caller that built one for the deck too.
    `deck` may be a function giving the deck's path once it is built (`site` builds it
    beside the pages): it is called when the home page needs the deck's size.
    Above `index_split` names the index is one page per letter (None: one page).
    """
    deck_file = _DeckFile(deck)
    # The linker's index and the linked texts are millions of objects that live until the
    # pages are written: a collection re-scanning them every few thousand allocations made
    # generation grow with the square of the glossary (6.5× the time for 5× the entries).
    cache = None
    if cache_dir is not None:
        key = settings_key(directory_urls, index_split)
        cache = GenerationCache(cache_dir / GENERATION_CACHE, key)

    on_disk: dict[str, bytes] = {}  # pages as read back: no need to read them again
    # A new folder of term pages (a cold build) is written meanwhile by a child process.
    # Told every page's name now, it creates them while the linker's index is built.
    names = [term_path(entry.id).removeprefix(f"{GLOSSARY_DIR}/") for entry in glossary.entries]
    writer = FolderWriter.start(docs_dir / GLOSSARY_DIR, names)
    sent: set[str] = set()  # the term pages given to it (not kept: encoded again if need be)

    def made(path: str, page: str | bytes) -> None:
        assert writer is not None
        sent.add(path)
        writer.send(path.removeprefix(f"{GLOSSARY_DIR}/"), _encoded(page))

    def stored(path: str) -> bytes | None:
        try:
            data = on_disk[path] = (docs_dir / path).read_bytes()
        except OSError:
            return None
        return data

    try:
        with no_gc_pauses():
            pages = generated_files(
                glossary,
                deck_later=deck_file.size,
                linker=linker if linker is not None else Linker.for_glossary(glossary, cache_dir),
                history=history,
                settings=settings,
                directory_urls=directory_urls,
                cache=cache,
                stored=stored,
                index_split=index_split,
                made=made if writer is not None else None,
            )
            # The term pages are in place if the child wrote them all; if not, written here.
            ready = writer is not None and writer.finish()
            files = {
                path: _encoded(page) for path, page in pages.items() if not (ready and path in sent)
            }
        if deck_file.data is not None and deck_file.path is not None:
            name = settings.deck_file if settings else deck_file.path.name
            files[f"{DOWNLOADS_DIR}/{name}"] = deck_file.data
        for path, file in glossary.media.items():
            files[f"{MEDIA_DIR}/{path}"] = file.read_bytes()
        report = sync_tree(docs_dir, files, on_disk, written_before=sent if ready else ())
        if cache is not None:
            cache.commit()  # after docs/ holds the pages: the next run reads them there
    except BaseException:
        if writer is not None:
            writer.abandon()  # (its folder, unless it is in place already)
        raise
    finally:
        if cache is not None:
            cache.close()  # without a commit: nothing of a failed run is kept
    log.info("generated site pages in %s: %s", docs_dir, report.summary())
    return report


def _encoded(page: str | bytes) -> bytes:
    return page.encode("utf-8") if isinstance(page, str) else page


class _DeckFile:
    """The deck the home page offers: a file, or one being built (`DeckFile`), read once,
    when the home page asks for its size, so a deck built beside the pages is awaited
    only then."""

    def __init__(self, deck: DeckFile) -> None:
        self._deck = deck

    @cached_property
    def path(self) -> Path | None:
        return self._deck() if callable(self._deck) else self._deck

    @cached_property
    def data(self) -> bytes | None:
        path = self.path
        return path.read_bytes() if path is not None and path.is_file() else None

    def size(self) -> int | None:
        return None if self.data is None else len(self.data)


def history_of(cards_dir: Path) -> History | None:
    """The releases for «Что нового»; None outside a git checkout: the page says so."""
    try:
        return release_history(cards_dir)
    except KonspektError as error:
        log.info("no release history for the site: %s", error)
        return None


def project_settings(config_file: Path) -> ProjectFile | None:
    """The konspekt.yml beside an mkdocs.yml, if there is one."""
    path = config_file.parent / PROJECT_FILE
    return read_project_file(path, str(path)) if path.is_file() else None


def read_settings(config_file: Path) -> SiteSettings:
    """docs_dir, site_dir and site_url of an mkdocs.yml, relative paths resolved."""
    try:
        data = read_mkdocs_yml(config_file)
    except FileNotFoundError:
        raise ConfigError(f"{config_file}: MkDocs configuration not found") from None
    base = config_file.resolve().parent
    return SiteSettings(
        config_file=config_file,
        docs_dir=base / str(data.get("docs_dir") or "docs"),
        site_dir=base / str(data.get("site_dir") or "site"),
        site_url=str(data["site_url"]) if data.get("site_url") else None,
        directory_urls=data.get("use_directory_urls", True) is not False,
        letters_out_of_nav=_not_in_nav(data.get("not_in_nav"), letter_path("А")),
    )


def _not_in_nav(patterns: object, page: str) -> bool:
    """Whether mkdocs.yml's `not_in_nav` patterns match a page (its path in docs/)."""
    if not isinstance(patterns, str):
        return False
    import pathspec  # MkDocs's own matcher for not_in_nav (a dependency of MkDocs)

    try:
        return pathspec.GitIgnoreSpec.from_lines(patterns.splitlines()).match_file(page)
    except ValueError:  # not valid patterns: MkDocs itself says so
        return False


PAGE_CACHE = "mkdocs-pages.sqlite"
PREVIOUS_SITE = "mkdocs-site-previous"  # a site folder to rebuild into


def mkdocs_build(
    config_file: Path, site_dir: Path | None = None, cache_dir: Path | None = None
) -> BuildLog:
    """Build the site as `mkdocs build --strict` does; MkDocsError if it fails.

    konspekt's runner (`mkdocs_run`) makes the same site/, byte for byte, but keeps
    each page's output in `cache_dir` and renders a cold build on two cores.
    A separate process in the configuration's folder: paths in mkdocs.yml (the
    snippets' base_path) are relative to the working directory, and a build must
    not inherit the state of Markdown extensions from an earlier one in-process.
    """
    command = [sys.executable, "-m", "konspekt.site.mkdocs_run", "build"]
    command += ["--config-file", str(config_file.resolve())]
    if site_dir is not None:
        command += ["--site-dir", str(site_dir.resolve())]
    if cache_dir is not None:
        command += ["--cache", str(cache_dir.resolve() / PAGE_CACHE)]
    result = subprocess.run(
        command,
        cwd=config_file.resolve().parent,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        preexec_fn=die_with_parent,
        # Material's banner about its successor is not a build message.
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "NO_COLOR": "1"},
    )
    output = result.stdout + result.stderr
    warnings = tuple(line for line in output.splitlines() if re.match(r"^WARNING\b", line))
    if result.returncode != 0:
        raise MkDocsError(f"mkdocs build --strict failed:\n{output.rstrip()}")
    return BuildLog(output, warnings)


@dataclass(frozen=True)
class SiteReport:
    written: WriteReport
    build: BuildLog | None
    site_dir: Path


def build_site(
    glossary: Glossary,
    config_file: Path,
    deck: DeckFile,
    *,
    cache_dir: Path | None = None,
    history: History | Callable[[], History | None] | None = None,
    build: bool = True,
    site_dir: Path | None = None,
    project: ProjectFile | None = None,
    linker: Linker | None = None,
    index_split: int | None = INDEX_SPLIT,
) -> SiteReport:
    """Generate docs/ from the glossary, then run MkDocs into site/ (or `site_dir`).

    `project` is the project's konspekt.yml (default: the one beside `config_file`).
    Raises MkDocsError when MkDocs fails or warns; site/ is then left as it was.
    """
    settings = read_settings(config_file)
    project = project or project_settings(config_file)
    written = generate(
        glossary,
        settings.docs_dir,
        deck,
        cache_dir,
        history,
        project,
        directory_urls=settings.directory_urls,
        linker=linker,
        index_split=settings.index_split(index_split),
    )
    target = site_dir or settings.site_dir
    mkdocs_log = build_html(config_file, target, cache_dir) if build else None
    return SiteReport(written, mkdocs_log, target)


def build_html(config_file: Path, site_dir: Path, cache_dir: Path | None = None) -> BuildLog:
    """Run MkDocs on the generated docs/ into `site_dir`; MkDocsError if it fails or warns.

    MkDocs writes into a hidden folder beside `site_dir`, swapped in only when the
    build succeeded: a failed or interrupted build leaves the site as it was.
    """
    # The folder swapped out is kept in the cache for the next build, which rewrites
    # only the pages that changed (see mkdocs_run.SiteTree).
    reuse = cache_dir / PREVIOUS_SITE if cache_dir is not None else None
    with staged_dir(site_dir, reuse) as staging:
        return mkdocs_build(config_file, staging, cache_dir)


# --- serve: a live preview, rebuilt by konspekt's runner -----------------------------


def watched_state(roots: list[Path]) -> frozenset[tuple[str, int, int]]:
    """Every file under `roots` with its mtime and size: what the watcher reacts to."""
    state = set()
    for root in roots:
        for path in [root] if root.is_file() else root.rglob("*"):
            with contextlib.suppress(FileNotFoundError):
                stat = path.stat()
                state.add((str(path), stat.st_mtime_ns, stat.st_size))
    return frozenset(state)


def serve(
    cards_dir: Path,
    config_file: Path,
    deck: DeckFile,
    *,
    cache_dir: Path | None = None,
    dev_addr: str | None = None,
) -> None:
    """Preview the site with live reload; a changed card file regenerates the pages.

    `mkdocs serve`, with its builder replaced: each rebuild first regenerates docs/
    from the cards, then runs konspekt's runner in this process, so an edit re-renders
    only the pages it changed. Nothing is added to mkdocs.yml: `mkdocs build` and
    `zensical build` work on the generated docs/ as they are.
    """
    import shutil
    import tempfile
    from urllib.parse import urlsplit

    from mkdocs.config import load_config
    from mkdocs.livereload import LiveReloadServer, _serve_url

    from .mkdocs_run import build as run_mkdocs
    from .mkdocs_run import check_versions

    check_versions()
    site_settings = read_settings(config_file)
    docs_dir = site_settings.docs_dir
    cache = cache_dir.resolve() / PAGE_CACHE if cache_dir else None
    site_dir = tempfile.mkdtemp(prefix="konspekt-serve-")
    overrides = {"dev_addr": dev_addr} if dev_addr else {}

    def regenerate() -> None:
        glossary = load_glossary(cards_dir, cache_dir)
        project = project_settings(config_file)
        generate(
            glossary,
            docs_dir,
            deck,
            cache_dir,
            history_of(cards_dir),
            project,
            directory_urls=site_settings.directory_urls,
            index_split=site_settings.index_split(INDEX_SPLIT),
        )

    def get_config() -> Any:
        config = load_config(config_file=str(config_file), site_dir=site_dir, **overrides)
        config.watch.append(str(cards_dir))
        return config

    regenerate()  # the config INHERITs a generated file
    config = get_config()
    config.plugins.on_startup(command="serve", dirty=False)
    host, port = config.dev_addr
    mount_path = urlsplit(config.site_url or "/").path
    config.site_url = serve_url = _serve_url(host, port, mount_path)

    inputs = [cards_dir, config_file, *(Path(path) for path in config.watch)]
    built: list[object] = []  # the watched files as the last build read them

    def builder(config: Any = None) -> None:
        # The pages a build regenerates wake the watcher again: that echo finds the
        # files as the build read them and is skipped (at 5,000 entries it cost ~20 s).
        # Inputs are noted before they are read, docs/ right after it is regenerated:
        # an edit made while building is newer than both and is built.
        if built and built[-1] == (watched_state(inputs), watched_state([docs_dir])):
            return
        log.info("Building documentation...")
        before = watched_state(inputs)
        try:
            regenerate()
        except KonspektError as error:  # a card error: show it, serve what was built
            log.error("%s", error)
            return
        docs = watched_state([docs_dir])
        if config is None:
            config = get_config()
            config.site_url = serve_url
        run_mkdocs(config, serve_url=serve_url, cache_path=cache)
        built[:] = [(before, docs)]

    server = LiveReloadServer(
        builder=builder, host=host, port=port, root=site_dir, mount_path=mount_path
    )

    def error_page(code: int) -> bytes | None:
        page = Path(site_dir) / f"{code}.html"
        return page.read_bytes() if code in (404, 500) and page.is_file() else None

    server.error_handler = error_page
    try:
        builder(config)
        server.watch(config.docs_dir)
        server.watch(config.config_file_path)
        for item in config.watch:
            server.watch(item)
        try:
            server.serve()
        except KeyboardInterrupt:
            log.info("Shutting down...")
        finally:
            server.shutdown()
    finally:
        config.plugins.on_shutdown()
        shutil.rmtree(site_dir, ignore_errors=True)
