"""Build the reference site: write the generated pages into docs/, then run MkDocs.

The pages themselves come from `site_pages` (pure functions); this module does the
I/O. Writing compares before it writes, so an unchanged page keeps its mtime and
`mkdocs serve` or a later incremental build sees only real changes; files a
previous run generated that are no longer wanted (a removed entry) are deleted.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..changes import History, release_history
from ..errors import BuildError, KonspektError
from ..load import load_glossary
from ..model import Glossary
from ..output import die_with_parent, staged_dir, write_file
from .config import read_mkdocs_yml
from .pages import (
    CHANGES_PAGE,
    DECK_FILE,
    DOWNLOADS_DIR,
    GENERATED_DIR,
    GLOSSARY_DIR,
    INDEX_PAGE,
    MEDIA_DIR,
    TOPICS_DIR,
    generated_pages,
)

log = logging.getLogger(__name__)

# What generation owns inside docs/: these folders wholly, and these single files.
OWNED_DIRS = (GLOSSARY_DIR, TOPICS_DIR, GENERATED_DIR, DOWNLOADS_DIR, MEDIA_DIR)
OWNED_FILES = (INDEX_PAGE, CHANGES_PAGE)
DEFAULT_DECK = Path("dist") / DECK_FILE
HOOKS_FILE = Path(__file__).with_name("hooks.py")


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
    site_url: str | None


@dataclass(frozen=True)
class BuildLog:
    """The output of an MkDocs run and the warnings in it."""

    output: str
    warnings: tuple[str, ...]


def sync_tree(root: Path, files: Mapping[str, bytes]) -> WriteReport:
    """Make the owned parts of `root` hold exactly `files` (paths relative to `root`).

    A file whose bytes are already right is not touched; others are written
    atomically; owned files not in `files` are removed.
    """
    written: list[str] = []
    unchanged = 0
    for relative in sorted(files):
        path = root / relative
        data = files[relative]
        try:
            if path.read_bytes() == data:
                unchanged += 1
                continue
        except FileNotFoundError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file(path, data, tidy=False)
        written.append(relative)
    removed: list[str] = []
    for owned in OWNED_DIRS:
        folder = root / owned
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(root).as_posix()
            if path.is_file() and relative not in files:
                path.unlink()
                removed.append(relative)
    for relative in OWNED_FILES:
        if relative not in files and (root / relative).is_file():
            (root / relative).unlink()
            removed.append(relative)
    return WriteReport(tuple(written), unchanged, tuple(removed))


def generate(
    glossary: Glossary,
    docs_dir: Path,
    deck: Path | None = None,
    cache_dir: Path | None = None,
    history: History | None = None,
) -> WriteReport:
    """Write every generated page for `glossary` into `docs_dir`, and copy the deck.

    Without a deck file the home page says how to build one instead of offering a
    download, so the site builds either way. `cache_dir` keeps the linker's index
    between builds, so an edit that renames nothing does not rebuild it.
    """
    deck_bytes = deck.read_bytes() if deck is not None and deck.is_file() else None
    pages = generated_pages(
        glossary,
        has_deck=deck_bytes is not None,
        deck_size=len(deck_bytes or b""),
        cache_dir=cache_dir,
        history=history,
    )
    files = {path: text.encode("utf-8") for path, text in pages.items()}
    if deck_bytes is not None:
        files[f"{DOWNLOADS_DIR}/{DECK_FILE}"] = deck_bytes
    for path, file in glossary.media.items():
        files[f"{MEDIA_DIR}/{path}"] = file.read_bytes()
    report = sync_tree(docs_dir, files)
    log.info("generated site pages in %s: %s", docs_dir, report.summary())
    return report


def history_of(cards_dir: Path) -> History | None:
    """The releases for «Что нового»; None outside a git checkout: the page says so."""
    try:
        return release_history(cards_dir)
    except KonspektError as error:
        log.info("no release history for the site: %s", error)
        return None


def cache_dir_for(config_file: Path) -> Path:
    """Where builds keep what they may reuse: beside mkdocs.yml, git-ignored, disposable."""
    return config_file.resolve().parent / ".cache" / "konspekt"


def read_settings(config_file: Path) -> SiteSettings:
    """docs_dir, site_dir and site_url of an mkdocs.yml, relative paths resolved."""
    try:
        data = read_mkdocs_yml(config_file)
    except FileNotFoundError:
        raise BuildError(f"{config_file}: MkDocs configuration not found") from None
    base = config_file.resolve().parent
    return SiteSettings(
        config_file=config_file,
        docs_dir=base / str(data.get("docs_dir") or "docs"),
        site_dir=base / str(data.get("site_dir") or "site"),
        site_url=data.get("site_url"),
    )


def mkdocs_build(config_file: Path, site_dir: Path | None = None) -> BuildLog:
    """Run `mkdocs build --strict` on `config_file`; BuildError if it fails.

    A separate process in the configuration's folder: paths in mkdocs.yml (the
    snippets' base_path) are relative to the working directory, and a build must
    not inherit the state of Markdown extensions from an earlier one in-process.
    """
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean"]
    command += ["--config-file", str(config_file.resolve())]
    if site_dir is not None:
        command += ["--site-dir", str(site_dir.resolve())]
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
        raise BuildError(f"mkdocs build --strict failed:\n{output.rstrip()}")
    return BuildLog(output, warnings)


@dataclass(frozen=True)
class SiteReport:
    glossary: Glossary
    written: WriteReport
    build: BuildLog | None
    site_dir: Path


def build_site(
    cards_dir: Path,
    config_file: Path = Path("mkdocs.yml"),
    deck: Path | None = DEFAULT_DECK,
    *,
    build: bool = True,
    site_dir: Path | None = None,
    glossary: Glossary | None = None,
) -> SiteReport:
    """Load the cards (unless `glossary` is given), generate docs/, and run MkDocs.

    Raises CardsError for bad cards (nothing is written then) and BuildError when
    MkDocs fails or warns.
    """
    if glossary is None:
        glossary = load_glossary(cards_dir)
    settings = read_settings(config_file)
    history = history_of(cards_dir)
    written = generate(glossary, settings.docs_dir, deck, cache_dir_for(config_file), history)
    target = site_dir or settings.site_dir
    log_ = None
    if build:
        # MkDocs writes into a hidden folder beside site/, swapped in only when the
        # build succeeded: a failed or interrupted build leaves site/ as it was.
        with staged_dir(target) as staging:
            log_ = mkdocs_build(config_file, staging)
    return SiteReport(glossary, written, log_, target)


# --- serve: mkdocs serve, with the cards watched and pages regenerated on change ---


@dataclass(frozen=True)
class _Serving:
    cards_dir: Path
    docs_dir: Path
    deck: Path | None
    cache_dir: Path


_serving: _Serving | None = None


def regenerate_for_serve() -> WriteReport | None:
    """Called by the serve hook before each build: regenerate pages from the cards."""
    if _serving is None:
        return None
    glossary = load_glossary(_serving.cards_dir)
    history = history_of(_serving.cards_dir)
    return generate(glossary, _serving.docs_dir, _serving.deck, _serving.cache_dir, history)


def serve(
    cards_dir: Path,
    config_file: Path = Path("mkdocs.yml"),
    deck: Path | None = DEFAULT_DECK,
    dev_addr: str | None = None,
) -> None:
    """Preview the site with live reload; a changed card file regenerates the pages.

    The hook is added only here, not in mkdocs.yml: rendering needs no plugin, so
    `mkdocs build` and `zensical build` work on the generated docs/ without it.
    """
    global _serving
    from mkdocs.commands.serve import serve as mkdocs_serve

    settings = read_settings(config_file)
    cache_dir = cache_dir_for(config_file)
    glossary = load_glossary(cards_dir)
    generate(glossary, settings.docs_dir, deck, cache_dir, history_of(cards_dir))
    _serving = _Serving(
        cards_dir.resolve(), settings.docs_dir, deck.resolve() if deck else None, cache_dir
    )
    try:
        mkdocs_serve(
            config_file=str(config_file),
            livereload=True,
            watch=[str(cards_dir)],
            hooks=[str(HOOKS_FILE)],
            dev_addr=dev_addr,
        )
    finally:
        _serving = None
