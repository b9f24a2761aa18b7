"""konspekt's MkDocs runner: `mkdocs build --strict`, with every page's output cached.

`build()` follows `mkdocs.commands.build.build` of MkDocs 1.6 step by step (the same
plugin events in the same order, strict warning counting, anchor validation), but
looks each documentation page up in a cache first. MkDocs has no event to skip a
page, hence a runner of our own rather than a plugin: docs/ still builds with plain
`mkdocs build` and with Zensical, and `site/` is byte for byte what they would make.

A page's entry has two layers:

- *content*: what rendering its Markdown produced (title, meta, toc, HTML, anchor
  ids, links to anchors), valid while the global key (config files, versions, theme
  files, overrides) is the same, the page's own source and url are the same, and
  every lookup its links made into the site's files answers the same way now;
- *output*: the page's final HTML and its search-index entries, valid while the
  content layer is and the navigation (titles, urls, order) is the same.

Static files, theme templates (404, sitemap), the search index and anchor
validation are done on every build, from restored parts where a page hit (the
search index is joined from each page's entries stored as JSON). A build into a
folder that holds an earlier build's output (konspekt's staged builds reuse the
folder site/ was swapped with) keeps the pages whose bytes stay the same and
removes everything else first (`SiteTree`). Entries
are stored only for pages that rendered without a warning, and (in strict builds)
kept only when the whole build succeeded: a page that warned warns again.

A cold build splits the missing pages between two worker processes that fill the
cache (forked once the runner is set up, or started anew where a thread runs);
the assembly run then hits for each page and writes the site. A worker that
fails leaves misses behind, which the assembly renders itself: errors come out as
MkDocs's own messages, in MkDocs's order.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import logging
import os
import pickle
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
import zlib
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, NoReturn

from konspekt.pool import fork_is_safe
from konspekt.site.searchparse import skip_excluded_interiors

if TYPE_CHECKING:
    import jinja2
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import File, Files
    from mkdocs.structure.nav import Navigation
    from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.konspekt")

# What the runner mirrors and relies on: another version must be read again first.
SUPPORTED = {
    "mkdocs": "1.6.",
    "mkdocs-material": "9.",
}
# Parts of the global key: a new version of any of these can change every page.
KEYED_PACKAGES = (
    "mkdocs",
    "mkdocs-material",
    "Markdown",
    "pymdown-extensions",
    "Pygments",
    "Jinja2",
)
# Plugins whose page events the runner knows to be page-local (Material's search
# reads each page and writes one index at the end). Any other plugin turns the
# cache off: its events might read or change anything.
KNOWN_PLUGINS = frozenset({"search", "material/search"})
# Below this many misses, starting workers costs more than it saves.
PARALLEL_MIN = 60
WORKERS = 2
KEEP_GLOBAL_KEYS = 3  # e.g. `site` and `serve` builds, plus one config edit back


def can_fork_workers() -> bool:
    """Whether page workers may be forked from this process (`pool.fork_is_safe`: not
    beside `serve`'s server threads); if not, they are spawned."""
    return fork_is_safe()


class RunnerError(Exception):
    """The runner cannot run here (versions, arguments); MkDocs never started."""


def check_versions() -> None:
    for name, prefix in SUPPORTED.items():
        version = metadata.version(name)
        if not version.startswith(prefix):
            raise RunnerError(
                f"konspekt's MkDocs runner mirrors {name} {prefix}x, but {name} {version} "
                f"is installed (install the versions pyproject.toml pins: pip install -e .)"
            )


def _digest(*parts: bytes | str) -> str:
    hasher = hashlib.blake2b(digest_size=20)
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "little"))
        hasher.update(data)
    return hasher.hexdigest()


def _tree_digest(root: Path) -> str:
    """Names and bytes of every file under `root` (or of `root` itself)."""
    if root.is_file():
        return _digest(root.name, root.read_bytes())
    parts: list[bytes | str] = []
    if root.is_dir():
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            parts += [path.relative_to(root).as_posix(), path.read_bytes()]
    return _digest(*parts)


def _config_files(config_file: Path) -> list[Path]:
    """The configuration file and the chain of files it INHERITs."""
    chain = [config_file]
    while len(chain) < 10:
        match = re.search(
            r"^INHERIT:\s*['\"]?([^'\"\n#]+?)['\"]?\s*(#.*)?$", chain[-1].read_text("utf-8"), re.M
        )
        if not match:
            break
        chain.append((chain[-1].parent / match.group(1)).resolve())
    return chain


def global_key(config: MkDocsConfig, serve_url: str | None) -> str | None:
    """Everything that can change any page, or None when the cache cannot be trusted."""
    from mkdocs.utils import get_build_date

    names = set(config.plugins)
    if not names <= KNOWN_PLUGINS or config.hooks:
        log.debug("page cache off: plugins or hooks it does not know: %s", sorted(names))
        return None
    config_path = Path(config.config_file_path).resolve()
    parts: list[bytes | str] = [Path(__file__).read_bytes(), sys.version]
    parts += [f"{name}=={metadata.version(name)}" for name in KEYED_PACKAGES]
    for path in _config_files(config_path):
        data = path.read_bytes()
        parts += [str(path), data]
        if b"!ENV" in data:  # values from the environment are part of the config
            parts.append(json.dumps(sorted(os.environ.items())))
    # Overrides after loading (serve sets site_url), and where relative paths resolve.
    parts += [str(config.site_url), str(serve_url), os.getcwd(), str(config.docs_dir)]
    if config.theme.custom_dir:
        parts.append(_tree_digest(Path(config.theme.custom_dir)))
    for theme_dir in config.theme.dirs:
        for template in Path(theme_dir).rglob("*.html"):
            # No template of the pinned themes uses the build date outside the sitemap
            # (built every time); a custom one that does keys every page on the date.
            if re.search(r"build_date_utc|update_date", template.read_text("utf-8", "replace")):
                parts.append(get_build_date())
                break
    snippets = config.mdx_configs.get("pymdownx.snippets") or {}
    if snippets.get("auto_append") or snippets.get("url_download"):
        return None  # every page, or the network, would be an input
    return _digest(*parts)


# --- what a page's rendering looked up in the site's files ---------------------------


class RecordingFiles:
    """The build's `Files`, recording each lookup one page's rendering makes.

    MkDocs resolves a link with `get_file_from_path`; the answer (missing, or the
    target's url and whether it is excluded) is what the rendered HTML depends on.
    Any other use of the collection (iterating it, say) makes the page uncacheable.
    """

    def __init__(self, files: Files) -> None:
        self._files = files
        self.lookups: dict[str, tuple[str, bool] | None] = {}
        self.opaque = False

    def get_file_from_path(self, path: str) -> File | None:
        key = _as_posix(path)
        file = self._files.src_uris.get(key)  # as Files.get_file_from_path looks it up
        self.lookups[key] = _answer(file)
        return file

    def __contains__(self, path: str) -> bool:
        return self.get_file_from_path(path) is not None

    def __getattr__(self, name: str) -> Any:
        self.opaque = True
        return getattr(self._files, name)

    def __iter__(self) -> Iterator[File]:
        self.opaque = True
        return iter(self._files)

    def __len__(self) -> int:
        self.opaque = True
        return len(self._files)


_UNNORMAL = re.compile(r"//|(^|/)\.(/|$)|/$|\\")


def _as_posix(path: str) -> str:
    """`PurePath(path).as_posix()`, without building a path for the usual clean one."""
    if path and not _UNNORMAL.search(path):
        return path
    return PurePath(path).as_posix()


def _answer(file: File | None) -> tuple[str, bool] | None:
    return None if file is None else (file.url, file.inclusion.is_excluded())


# --- the cache ----------------------------------------------------------------------


@dataclass
class ContentLayer:
    """What rendering a page's Markdown gave, minus the (large) HTML."""

    meta: dict[str, Any]
    title_from_render: str | None
    title: str | None
    present_anchor_ids: set[str]
    links_to_anchors: dict[str, dict[str, str]]  # by target src_uri


@dataclass
class Row:
    ckey: str
    deps_data: bytes  # pickled lookups (`RecordingFiles.lookups`), unpickled when needed
    content: ContentLayer
    nsig: str | None
    earlier: bool  # stored by an earlier build, not by this one's workers
    odigest: str | None  # of the output layer's HTML
    search: str | None  # the page's search-index entries, as JSON (see `search_fragment`)


def search_fragment(entries: Sequence[dict[str, Any]]) -> str:
    """Entries as Material's search index serializes them, comma-separated.

    The index is `{"config":…,"docs":[…]}` dumped in one call; a list dumps as its
    items joined by the separator, so joining the pages' fragments gives the same bytes.
    """
    return ",".join(json.dumps(entry, separators=(",", ":"), default=str) for entry in entries)


# What a page output in a site folder holds: (inode, size, mtime_ns, digest of the bytes);
# for a folder that holds only pages: (inode, mtime_ns, 0, _FOLDER).
Stamp = tuple[int, int, int, str]
_FOLDER = "/"


class PageCache:
    """One SQLite file; rows of this run stay pending until `commit`.

    A page's row holds its keys and small layers; its HTML, output and search entries
    (≈ 30 KB a term page) are a separate `blobs` row that no update touches: keeping
    a run's rows, or revalidating all of them after a page was added, rewrites a few
    KB per page, not the whole (SQLite writes an updated row out again in full)."""

    def __init__(self, path: Path, gkey: str, run: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._open(path)
        except sqlite3.DatabaseError:  # not a database (a damaged file): start afresh
            for stale in (
                path,
                path.with_name(path.name + "-wal"),
                path.with_name(path.name + "-shm"),
            ):
                stale.unlink(missing_ok=True)
            self._open(path)
        self.gkey = gkey
        self.run = run
        self._batch: list[tuple[Any, ...]] = []
        self._answers: dict[str, tuple[str, bool] | None] = {}
        self._fsig = ""
        self._revalidated: list[str] = []

    def reopened(self, path: Path) -> PageCache:
        """The same cache (`path`, this one's file) through a new connection, as a
        forked process must use it; the site's files as this one knows them."""
        other = PageCache(path, self.gkey, self.run)
        other._answers, other._fsig = self._answers, self._fsig
        return other

    def set_files(self, files: Files) -> None:
        """The site's files: what a page's recorded lookups are checked against."""
        # Recorded paths are already as get_file_from_path keys them.
        self._answers = {uri: _answer(file) for uri, file in files.src_uris.items()}
        # A row stored (or checked) against the same answers needs no check.
        self._fsig = _digest(json.dumps(sorted(self._answers.items())))

    def _open(self, path: Path) -> None:
        self.db = sqlite3.connect(path, timeout=120, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        for earlier in ("pages", "pages2", "pages3"):  # earlier layouts
            self.db.execute(f"DROP TABLE IF EXISTS {earlier}")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS pages4 (gkey TEXT, src_uri TEXT, run TEXT, ckey TEXT,"
            " deps BLOB, fsig TEXT, info BLOB, nsig TEXT, odigest TEXT, blob INTEGER,"
            " PRIMARY KEY (gkey, src_uri, run))"
        )
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS blobs (id INTEGER PRIMARY KEY, body BLOB,"
            " output BLOB, search TEXT)"
        )
        self.db.execute("CREATE TABLE IF NOT EXISTS keys (gkey TEXT PRIMARY KEY, used REAL)")
        # Page outputs already in a site folder (named by device and inode: the folder
        # is renamed between builds), so a rebuild into it keeps those that hold.
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS outputs (root TEXT, path TEXT, ino INTEGER,"
            " size INTEGER, mtime_ns INTEGER, digest TEXT, PRIMARY KEY (root, path))"
        )
        self.db.execute("CREATE TABLE IF NOT EXISTS roots (root TEXT PRIMARY KEY, used REAL)")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS theme_files (gkey TEXT PRIMARY KEY, listing TEXT)"
        )
        # Digests of page sources by stamp, as git's index keeps them: not read again
        # while inode, size and mtime are the same.
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS sources (path TEXT PRIMARY KEY, ino INTEGER,"
            " size INTEGER, mtime_ns INTEGER, digest TEXT, snippets INTEGER)"
        )

    def _select(self, columns: str, src_uri: str) -> Any:
        """This run's row of a page if it has one, else the committed one."""
        return self.db.execute(
            f"SELECT {columns} FROM pages4 JOIN blobs ON blobs.id=blob"
            " WHERE gkey=? AND src_uri=? AND run IN ('', ?) ORDER BY run DESC LIMIT 1",
            (self.gkey, src_uri, self.run),
        ).fetchone()

    def rows(self, wanted: dict[str, str]) -> dict[str, Row]:
        """Rows of pages (src_uri: page key) whose key matches and whose lookups answer
        the same now; one query for the whole site, this run's rows before committed ones."""
        found: dict[str, tuple[Any, ...]] = {}
        for src_uri, run, *rest in self.db.execute(
            "SELECT src_uri, run, ckey, deps, fsig, info, nsig, odigest, search FROM pages4"
            " JOIN blobs ON blobs.id=blob WHERE gkey=? AND run IN ('', ?)",
            (self.gkey, self.run),
        ):
            if wanted.get(src_uri) == rest[0] and (src_uri not in found or run != ""):
                found[src_uri] = (run, *rest)
        answers = self._answers
        rows = {}
        for src_uri, (run, ckey, deps_data, fsig, info, nsig, odigest, search) in found.items():
            if fsig != self._fsig:
                deps = pickle.loads(deps_data)
                if not all(answers.get(path) == answer for path, answer in deps.items()):
                    continue
                if run == "":
                    self._revalidated.append(src_uri)
            rows[src_uri] = Row(
                ckey, deps_data, pickle.loads(info), nsig, run == "", odigest, search
            )
        return rows

    def body(self, src_uri: str) -> tuple[str | None, Any]:
        """The page's HTML content and toc."""
        (data,) = self._select("body", src_uri)
        content, toc = pickle.loads(zlib.decompress(data))
        return content, toc

    def output(self, src_uri: str) -> bytes:
        (data,) = self._select("output", src_uri)
        return zlib.decompress(data)

    def theme_files(self) -> list[tuple[str, str]] | None:
        found = self.db.execute(
            "SELECT listing FROM theme_files WHERE gkey=?", (self.gkey,)
        ).fetchone()
        return None if found is None else [(path, folder) for path, folder in json.loads(found[0])]

    def put_theme_files(self, listing: list[tuple[str, str]]) -> None:
        with self._transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO theme_files VALUES (?, ?)", (self.gkey, json.dumps(listing))
            )

    def sources(self) -> dict[str, tuple[int, int, int, str, bool]]:
        return {
            path: (ino, size, mtime_ns, digest, bool(snippets))
            for path, ino, size, mtime_ns, digest, snippets in self.db.execute(
                "SELECT * FROM sources"
            )
        }

    def put_sources(
        self, found: dict[str, tuple[int, int, int, str, bool]], live: set[str]
    ) -> None:
        """Record new stamps; forget files that are no longer pages (`live`: all that are)."""
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO sources VALUES (?,?,?,?,?,?)",
                [(path, *stamp) for path, stamp in found.items()],
            )
            gone = [(path,) for (path,) in self.db.execute("SELECT path FROM sources")]
            self.db.executemany(
                "DELETE FROM sources WHERE path=?", [p for p in gone if p[0] not in live]
            )

    def put_outputs(self, root: str, stamps: dict[str, Stamp]) -> None:
        """Page outputs written into the folder `root` before the build's commit."""
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO outputs VALUES (?,?,?,?,?,?)",
                [(root, path, *stamp) for path, stamp in stamps.items()],
            )

    def outputs(self, root: str) -> dict[str, Stamp]:
        return {
            path: (ino, size, mtime_ns, digest)
            for path, ino, size, mtime_ns, digest in self.db.execute(
                "SELECT path, ino, size, mtime_ns, digest FROM outputs WHERE root=?", (root,)
            )
        }

    def put(
        self,
        src_uri: str,
        ckey: str,
        deps: dict[str, Any],
        content: ContentLayer,
        body: tuple[str | None, Any],
        nsig: str,
        output: bytes,
        search: str,
    ) -> None:
        self._batch.append(
            (
                self.gkey,
                src_uri,
                self.run,
                ckey,
                pickle.dumps(deps),
                self._fsig,
                pickle.dumps(content),
                nsig,
                _digest(output),
                (zlib.compress(pickle.dumps(body), 1), zlib.compress(output, 1), search),
            )
        )
        if len(self._batch) >= 200:
            self.flush()

    def flush(self) -> None:
        if self._batch:
            with self._transaction():
                rows = []
                for *row, large in self._batch:
                    stored = self.db.execute("INSERT INTO blobs VALUES (NULL,?,?,?)", large)
                    rows.append((*row, stored.lastrowid))
                # a row replaced leaves its blob behind: `_drop_unused_blobs`
                self.db.executemany(
                    "INSERT OR REPLACE INTO pages4 VALUES (?,?,?,?,?,?,?,?,?,?)", rows
                )
            self._batch.clear()

    def _drop_unused_blobs(self) -> None:
        self.db.execute("DELETE FROM blobs WHERE id NOT IN (SELECT blob FROM pages4)")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def forget_stale_runs(self) -> None:
        """Pending rows of runs that were killed."""
        with self._transaction():
            self.db.execute("DELETE FROM pages4 WHERE run NOT IN ('', ?)", (self.run,))
            self._drop_unused_blobs()

    def commit(
        self, src_uris: Sequence[str], tree: tuple[str, dict[str, Stamp]] | None = None
    ) -> None:
        """Keep this run's rows; drop pages that no longer exist and old global keys.

        `tree` is the site folder built into, with the page outputs it now holds.
        """
        self.flush()
        with self._transaction():
            if tree is not None:
                root, stamps = tree
                self.db.execute("DELETE FROM outputs WHERE root=?", (root,))
                self.db.executemany(
                    "INSERT INTO outputs VALUES (?,?,?,?,?,?)",
                    [(root, path, *stamp) for path, stamp in stamps.items()],
                )
                self.db.execute("INSERT OR REPLACE INTO roots VALUES (?, ?)", (root, time.time()))
                # site/ and the folder it was swapped with, plus one (e.g. a test's)
                self.db.execute(
                    "DELETE FROM roots WHERE root NOT IN"
                    " (SELECT root FROM roots ORDER BY used DESC LIMIT 3)"
                )
                self.db.execute("DELETE FROM outputs WHERE root NOT IN (SELECT root FROM roots)")
            self.db.execute(
                "DELETE FROM pages4 WHERE run='' AND gkey=? AND src_uri IN"
                " (SELECT src_uri FROM pages4 WHERE gkey=? AND run=?)",
                (self.gkey, self.gkey, self.run),
            )
            self.db.execute("UPDATE pages4 SET run='' WHERE run=?", (self.run,))
            self.db.executemany(
                "UPDATE pages4 SET fsig=? WHERE gkey=? AND src_uri=? AND run=''",
                [(self._fsig, self.gkey, uri) for uri in self._revalidated],
            )
            self.db.execute("CREATE TEMP TABLE IF NOT EXISTS live (src_uri TEXT PRIMARY KEY)")
            self.db.execute("DELETE FROM live")
            self.db.executemany("INSERT INTO live VALUES (?)", [(uri,) for uri in src_uris])
            self.db.execute(
                "DELETE FROM pages4 WHERE gkey=? AND src_uri NOT IN (SELECT src_uri FROM live)",
                (self.gkey,),
            )
            self.db.execute("INSERT OR REPLACE INTO keys VALUES (?, ?)", (self.gkey, time.time()))
            self.db.execute(
                "DELETE FROM keys WHERE gkey NOT IN"
                " (SELECT gkey FROM keys ORDER BY used DESC LIMIT ?)",
                (KEEP_GLOBAL_KEYS,),
            )
            self.db.execute(
                "DELETE FROM pages4 WHERE gkey NOT IN (SELECT gkey FROM keys) AND gkey != ?",
                (self.gkey,),
            )
            self._drop_unused_blobs()
            self.db.execute(
                "DELETE FROM theme_files WHERE gkey NOT IN (SELECT gkey FROM keys) AND gkey != ?",
                (self.gkey,),
            )

    def discard(self) -> None:
        self._batch.clear()
        with self._transaction():
            self.db.execute("DELETE FROM pages4 WHERE run=?", (self.run,))
            self._drop_unused_blobs()

    def close(self) -> None:
        self.db.close()


# --- the site folder built into ------------------------------------------------------


class SiteTree:
    """The folder a build writes into, which may hold the output of an earlier build.

    `mkdocs build` empties it first. Here page outputs the cache recorded in this very
    folder (by inode, size and mtime, checked now) and that the build would write
    again byte for byte are kept; everything else is removed before the build writes,
    so the folder ends as a clean build leaves it. konspekt's staged site builds
    reuse the folder site/ was swapped with, and rewrite only what changed.

    A folder that held nothing but pages is not listed again while its own stamp
    (inode, mtime: any entry added or removed changes it) is the one recorded.
    """

    def __init__(self, root: Path, cache: PageCache) -> None:
        root.mkdir(parents=True, exist_ok=True)
        stat = root.stat()
        self.root = str(root)
        self.key = f"{stat.st_dev}:{stat.st_ino}"
        # Nothing in it to keep, remove or follow (a link): pages may be written early.
        with os.scandir(root) as entries:
            self.empty = next(entries, None) is None
        self.known = cache.outputs(self.key)
        self.stamps: dict[str, Stamp] = {}  # what the folder holds for the cache to record
        self.verified: dict[str, Stamp] = {}  # page-only folders found as recorded

    def _relative(self, path: str) -> str:
        assert path.startswith(self.root + os.sep), path
        return path[len(self.root) + 1 :]

    def holds(self, path: str, digest: str | None) -> bool:
        """Whether the file at `path` is known to hold the output with `digest`."""
        relative = self._relative(path)
        known = self.known.get(relative)
        if known is None or digest is None or known[3] != digest:
            return False
        try:
            stat = os.stat(path)
        except OSError:
            return False
        if (stat.st_ino, stat.st_size, stat.st_mtime_ns) != known[:3]:
            return False
        self.stamps[relative] = known
        return True

    def sweep(self, keep: set[str]) -> None:
        """Remove everything but the files in `keep` (absolute paths) and their folders."""
        keep_dirs = {self.root}
        for path in keep:
            parent = os.path.dirname(path)
            while parent not in keep_dirs:
                keep_dirs.add(parent)
                parent = os.path.dirname(parent)
        held: dict[str, list[str]] = {}  # page-only folder: its pages, when stamped
        for relative, stamp in self.known.items():
            if stamp[3] != _FOLDER:
                held.setdefault(os.path.dirname(relative), []).append(relative)

        def walk(folder: str) -> None:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if not entry.is_dir(follow_symlinks=False):
                        if entry.path not in keep:
                            os.unlink(entry.path)
                    elif entry.path not in keep_dirs:
                        shutil.rmtree(entry.path)
                    elif not unchanged(entry):
                        walk(entry.path)

        def unchanged(entry: os.DirEntry[str]) -> bool:
            relative = self._relative(entry.path)
            known = self.known.get(relative)
            stat = entry.stat(follow_symlinks=False)
            if known is None or (stat.st_ino, stat.st_mtime_ns) != known[:2]:
                return False
            self.verified[relative] = known
            for page in held.get(relative, ()):  # all it holds
                path = os.path.join(self.root, page)
                if path not in keep:
                    os.unlink(path)
            return True

        walk(self.root)
        self.stamps = {
            path: stamp
            for path, stamp in self.stamps.items()
            if os.path.join(self.root, path) in keep
        }

    def write(self, path: str, data: bytes) -> None:
        """A page's output, recorded with its stamp."""
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as file:
            file.write(data)
            file.flush()
            stat = os.fstat(file.fileno())
        self.stamps[self._relative(path)] = (
            stat.st_ino,
            stat.st_size,
            stat.st_mtime_ns,
            _digest(data),
        )

    def stamp_folders(self) -> None:
        """Stamp the folders that hold nothing but pages, once the build has written."""
        pages: dict[str, set[str]] = {}
        for path, stamp in self.stamps.items():
            if stamp[3] != _FOLDER:
                pages.setdefault(os.path.dirname(path), set()).add(os.path.basename(path))
        for folder, names in pages.items():
            path = os.path.join(self.root, folder)
            try:
                stat = os.stat(path)
                stamp = (stat.st_ino, stat.st_mtime_ns, 0, _FOLDER)
                # As found before the build and untouched since; or listed now.
                if self.verified.get(folder) == stamp or set(os.listdir(path)) == names:
                    self.stamps[folder] = stamp
            except OSError:
                continue


# --- one build ----------------------------------------------------------------------


class WarningCounter(logging.Handler):
    """Counts warnings (any logger) so a page that warned is never stored."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@dataclass
class PageState:
    """The runner's bookkeeping for one page during a build."""

    file: File
    ckey: str
    row: Row | None = None  # a valid content layer from the cache
    deps: dict[str, tuple[str, bool] | None] = field(default_factory=dict)
    storable: bool = False  # rendered here, without warnings, with known lookups
    kept: bool = False  # its output is already in the site folder


@dataclass
class Setup:
    config: MkDocsConfig
    files: Files
    env: jinja2.Environment
    nav: Navigation
    inclusion: Any
    search: Any  # Material's SearchPlugin, if enabled


# What MkDocs's `_RawHTMLPreprocessor` records from a page's raw HTML: an `id`, or a
# `name` on <a>. In html.parser's grammar an attribute name follows a quote, space or
# slash and ends at a space, slash, `=` or `>`, and is compared lower-cased; so an
# attribute that is recorded always matches this, and a source without a match
# anywhere has no anchors in its raw HTML. MkDocs parses every page's whole source
# to find them (6 % of a 5,000-term build, whose pages have none): such a page is
# not parsed. A page with a match, even in its prose, is parsed as MkDocs parses it.
ANCHOR_ATTRIBUTE = re.compile(r"(?<=[\s'\"/])(?:id|name)(?=[\s/=>]|\Z)", re.IGNORECASE)


def skip_anchorless_parses() -> None:
    """Make MkDocs skip the anchor parse of sources that cannot hold an anchor."""
    from mkdocs.structure.pages import _RawHTMLPreprocessor

    parse = _RawHTMLPreprocessor.run
    if getattr(parse, "konspekt", False):
        return

    def run(self: _RawHTMLPreprocessor, lines: list[str]) -> list[str]:
        if ANCHOR_ATTRIBUTE.search("\n".join(lines)) is None:
            self.present_anchor_ids = set()
            return lines
        return parse(self, lines)

    run.konspekt = True  # type: ignore[attr-defined]
    _RawHTMLPreprocessor.run = run  # type: ignore[method-assign]


# A raw HTML block that Python-Markdown's HTMLExtractor takes whole without learning
# anything from its inside: a block-level element on one line, holding only text,
# complete entity and character references (both kept as written) and a few inline
# elements, never its own kind, so the first end tag of its name closes it. Attributes
# are plain and quoted. A term page's meta line, other names and backlinks (up to
# thousands of links with tooltips) are such blocks.
_PLAIN_ATTRIBUTES = r'(?:[ ]+[a-z][a-z-]*(?:="[^"<>\n]*")?)*+[ ]*'
_INLINE = "a|em|strong|code|span"
SIMPLE_RAW_BLOCK = re.compile(
    rf"<(?P<tag>[a-z][a-z0-9]*){_PLAIN_ATTRIBUTES}>"
    rf"(?:[^<&\n]++|&[a-zA-Z][a-zA-Z0-9]*;|&#[0-9]+;|&#[xX][0-9a-fA-F]+;"
    rf"|<(?:{_INLINE}){_PLAIN_ATTRIBUTES}>|</(?:{_INLINE})>)*+"
    r"</(?P=tag)>"
)


def take_simple_raw_blocks() -> None:
    """Make Python-Markdown take a SIMPLE_RAW_BLOCK in one step, as its parse would.

    Python-Markdown's HTMLExtractor (the `html_block` preprocessor) reads a raw block
    tag by tag with html.parser, to find where it ends and keep its text. For a
    SIMPLE_RAW_BLOCK met where the extractor starts a raw block, each tag inside is
    pushed on its stack and popped again before the block's own end tag (the first of
    its name) empties it, and each piece is kept as written (entities included): so
    the block's text is stashed and the line after it checked exactly as
    `handle_starttag` … `handle_endtag` would. Only for the extractor itself
    (md_in_html's subclass reads the inside of its blocks).
    """
    from markdown.htmlparser import HTMLExtractor, blank_line_re

    parse = HTMLExtractor.parse_starttag
    if getattr(parse, "konspekt", False):
        return

    def parse_starttag(self: Any, i: int) -> int:  # an HTMLExtractor (untyped state)
        block = SIMPLE_RAW_BLOCK.match(self.rawdata, i)
        extractor = type(self) is HTMLExtractor  # (a bool: `self` stays untyped for mypy)
        if (
            block is None
            or not extractor
            or self.inraw
            or not self.md.is_block_level(block["tag"])
            or block["tag"] in self.empty_tags
            or block["tag"] in self.CDATA_CONTENT_ELEMENTS
            or not (self.intail or self.at_line_start())
        ):
            return parse(self, i)
        # handle_starttag starts a raw block (html.parser's `lasttag`, set and never
        # read, is left as it is) ...
        self.cleandoc.append("\n")
        self._cache.append(block.group())  # after what a tail may have left there
        # ... and handle_endtag ends it, with the stack empty.
        if blank_line_re.match(self.rawdata[block.end() :]):
            self._cache.append("\n")  # a blank line follows: kept with the block
        else:
            self.intail = True
        self.cleandoc.append(self.md.htmlStash.store("".join(self._cache)))
        self.cleandoc.append("\n\n")
        self._cache = []
        return block.end()

    parse_starttag.konspekt = True  # type: ignore[attr-defined]
    parse_starttag.original = parse  # type: ignore[attr-defined]
    HTMLExtractor.parse_starttag = parse_starttag  # type: ignore[method-assign]


# Material's navigation partials as read for the runner (Material 9.8): digests of their
# sources. For a page outside the nav, while no nav item is active, they show the nav
# items (titles, urls, meta: fixed during a build), the site's name, logo and repo, and
# the page only as `page in …`/`== page` tests (false: it is in no section) and as the
# base of relative URLs (the `url` filter). A theme whose partials differ (another
# version, an override in custom_dir) gets its navigation rendered for every page.
NAV_PARTIALS = {
    "partials/nav.html": "34643e38dada154e2d4494c4d697a18bae31a648",
    "partials/nav-item.html": "fd638d4152bf3a6e264b53bab95702c105509178",
    "partials/logo.html": "8a4ac0d0b40573992788a6dc13efdf7f16557ace",
    "partials/source.html": "69966938399803efbf5c0a6c0b709a0830c32f81",
}


NAV_VARIANTS = 4  # kept for each base_url: pages in a few folders, each its own URLs


@dataclass
class NavMemo:
    """The navigation's HTML for pages outside the nav, by `base_url`: made once, with
    every URL the `url` filter made in it, and used again for another page only where
    each of those URLs, made relative to that page, is the same."""

    made: int = 0
    reused: int = 0
    entries: dict[str, list[tuple[str, list[tuple[str, str]]]]] = field(default_factory=dict)
    recording: list[tuple[str, str]] | None = None


def memoize_navigation(env: jinja2.Environment, nav: Navigation) -> NavMemo | None:
    """Render Material's navigation partial once for all the pages outside the nav
    (a fifth of a term page's template), where NAV_PARTIALS says it may."""
    from mkdocs.utils import normalize_url

    try:
        for name, digest in NAV_PARTIALS.items():
            source = env.loader.get_source(env, name)[0] if env.loader else ""
            if hashlib.blake2b(source.encode("utf-8"), digest_size=20).hexdigest() != digest:
                return None
        template = env.get_template("partials/nav.html")
    except Exception:  # not Material's: rendered as it is
        return None
    url = env.filters.get("url")
    if url is None or not hasattr(url, "jinja_pass_arg"):  # not MkDocs's `url` filter
        return None
    memo = NavMemo()
    render = template.root_render_func
    in_nav = {id(page) for page in nav.pages}
    items: list[Any] = []
    stack = list(nav.items)
    while stack:
        item = stack.pop()
        items.append(item)
        stack += item.children or []

    def recording_url(context: Any, value: Any) -> str:
        result: str = url(context, value)
        if memo.recording is not None:
            memo.recording.append((str(value), result))
        return result

    recording_url.jinja_pass_arg = url.jinja_pass_arg  # type: ignore[attr-defined]
    env.filters["url"] = recording_url

    def rendered(context: Any) -> Iterator[str]:
        page = context.get("page")
        base = context.get("base_url")
        if (
            page is None
            or context.get("nav") is not nav
            or id(page) in in_nav
            or not isinstance(base, str)
            or any(item.active for item in items)
        ):
            yield from render(context)
            return
        variants = memo.entries.setdefault(base, [])
        for html, urls in variants:
            if all(normalize_url(value, page, base) == made for value, made in urls):
                memo.reused += 1
                yield html
                return
        memo.recording = []
        try:
            html = "".join(render(context))
            urls = memo.recording
        finally:
            memo.recording = None
        if len(variants) < NAV_VARIANTS:
            variants.append((html, urls))
        memo.made += 1
        yield html

    template.root_render_func = rendered
    return memo


# Extensions whose state between documents `Markdown.reset()` is known to clear: each
# keeps none, or a `reset` method clears it (read for the versions SUPPORTED and
# KEYED_PACKAGES pin). With any other extension, a page gets a new Markdown instance,
# as in MkDocs.
REUSABLE_EXTENSIONS = frozenset(
    {
        "toc",
        "tables",
        "fenced_code",
        "attr_list",
        "admonition",
        "pymdownx.details",
        "pymdownx.highlight",
        "pymdownx.inlinehilite",
        "pymdownx.superfences",
        "pymdownx.snippets",
    }
)


def reuse_markdown_instances() -> None:
    """Make MkDocs convert every page of a build with one Markdown instance, reset.

    MkDocs makes a new `markdown.Markdown` for each page: building its extensions
    costs a tenth of a term page's rendering. `Markdown.reset()` is Python-Markdown's
    own way to convert another document with an instance; the page's four MkDocs
    processors are registered again under their names, which replaces the previous
    page's. Only with REUSABLE_EXTENSIONS (MkDocs's own are always there).
    """
    import markdown
    from mkdocs.structure.pages import (
        Page,
        _ExtractAnchorsTreeprocessor,
        _ExtractTitleTreeprocessor,
        _RawHTMLPreprocessor,
        _RelativePathTreeprocessor,
        get_toc,
    )
    from mkdocs.structure.pages import log as pages_log

    render = Page.render
    if getattr(render, "konspekt", False):
        return
    kept: dict[int, tuple[object, markdown.Markdown]] = {}

    def instance(config: MkDocsConfig) -> markdown.Markdown | None:
        extensions = config["markdown_extensions"]
        if not all(isinstance(name, str) and name in REUSABLE_EXTENSIONS for name in extensions):
            return None
        held = kept.get(id(config))
        if held is None or held[0] is not config:
            md = markdown.Markdown(
                extensions=extensions, extension_configs=config["mdx_configs"] or {}
            )
            kept.clear()
            kept[id(config)] = (config, md)
            return md
        return held[1].reset()

    def reusing(self: Page, config: MkDocsConfig, files: Files) -> None:
        md = instance(config)
        if md is None or self.markdown is None:  # MkDocs's own error for the latter
            return render(self, config, files)
        # From here on MkDocs 1.6's Page.render, line for line.
        raw_html_ext = _RawHTMLPreprocessor()
        raw_html_ext._register(md)
        extract_anchors_ext = _ExtractAnchorsTreeprocessor(self.file, files, config)
        extract_anchors_ext._register(md)
        relative_path_ext = _RelativePathTreeprocessor(self.file, files, config)
        relative_path_ext._register(md)
        extract_title_ext = _ExtractTitleTreeprocessor()
        extract_title_ext._register(md)
        self.content = md.convert(self.markdown)
        self.toc = get_toc(getattr(md, "toc_tokens", []))
        self._title_from_render = extract_title_ext.title
        self.present_anchor_ids = (
            extract_anchors_ext.present_anchor_ids | raw_html_ext.present_anchor_ids
        )
        if pages_log.getEffectiveLevel() > logging.DEBUG:
            self.links_to_anchors = relative_path_ext.links_to_anchors

    reusing.konspekt = True  # type: ignore[attr-defined]
    Page.render = reusing  # type: ignore[method-assign]


class Runner:
    def __init__(
        self,
        config: MkDocsConfig,
        serve_url: str | None,
        cache_path: Path | None,
        run: str | None = None,
    ) -> None:
        self.config = config
        self.serve_url = serve_url
        self.run = run or uuid.uuid4().hex
        self.warnings = WarningCounter()
        skip_anchorless_parses()
        reuse_markdown_instances()
        take_simple_raw_blocks()
        skip_excluded_interiors()
        gkey = global_key(config, serve_url)
        self.cache: PageCache | None = None
        self._temp: tempfile.TemporaryDirectory[str] | None = None
        if gkey is not None:
            if cache_path is None:  # no cache folder: still one for the workers to fill
                self._temp = tempfile.TemporaryDirectory(prefix="konspekt-pages-")
                cache_path = Path(self._temp.name) / "pages.sqlite"
            self.cache = PageCache(cache_path, gkey, self.run)
            self.cache_path = cache_path
        self._snippets: str | None = None
        self._sources = self.cache.sources() if self.cache is not None else {}
        self._new_sources: dict[str, tuple[int, int, int, str, bool]] = {}
        self._started = time.time_ns()
        self.cached = 0  # pages whose output came from the cache, for the log
        self.search_parts: list[str] = []
        self.nav_memo: NavMemo | None = None  # set once the theme's environment is ready

    def close(self) -> None:
        if self.cache:
            self.cache.close()
        if self._temp:
            self._temp.cleanup()

    # The page's own part of the key.
    def snippets_digest(self) -> str:
        if self._snippets is None:
            bases = (self.config.mdx_configs.get("pymdownx.snippets") or {}).get("base_path") or [
                "."
            ]
            bases = [bases] if isinstance(bases, str) else bases
            self._snippets = _digest(*(_tree_digest(Path(base).resolve()) for base in bases))
        return self._snippets

    def page_key(self, page: Page) -> str:
        file = page.file
        source, snippets = self.source(file)
        parts: list[bytes | str] = [
            file.src_uri,
            file.url,
            file.dest_uri,
            file.inclusion.name,
            source,
        ]
        parts.append(repr(page.__dict__.get("title")))  # a title given by the nav
        if "pymdownx.snippets" in self.config.mdx_configs and snippets:
            parts.append(self.snippets_digest())  # snippets included from the base paths
        return _digest(*parts)

    def source(self, file: File) -> tuple[str, bool]:
        """Digest of a page's source, and whether it includes snippets."""
        path = file.abs_src_path
        if self.cache is None or path is None or file.generated_by is not None:
            data = file.content_bytes
            return _digest(data), b"8<-" in data
        try:
            stat = os.stat(path)
        except OSError:  # MkDocs reports it when it reads the page
            return _digest(file.content_bytes), False
        stamp = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        known = self._sources.get(path)
        if known is not None and known[:3] == stamp:
            return known[3], known[4]
        data = file.content_bytes
        found = (*stamp, _digest(data), b"8<-" in data)
        # A file changed within the clock's tick after being stamped would look the same:
        # only files older than that are stamped (as git does with "racily clean" ones).
        if stat.st_mtime_ns < self._started - 2_000_000_000:
            self._new_sources[path] = found
        return found[3], found[4]

    def lookup(self, states: Sequence[PageState]) -> None:
        """Attach the cached content layers that still hold for these pages."""
        if self.cache is None:
            return
        rows = self.cache.rows({st.file.src_uri: st.ckey for st in states})
        for state in states:
            state.row = rows.get(state.file.src_uri)

    def setup(self, keyed: Collection[str] | None = None) -> tuple[Setup, list[PageState]]:
        """MkDocs's files, theme, nav and pages, each page with its key; only the pages
        in `keyed`, if given, are keyed (a worker: the pages it renders), as a key reads
        and hashes the page's source."""
        from mkdocs.commands.build import get_navigation
        from mkdocs.structure.files import InclusionLevel, get_files, set_exclusions
        from mkdocs.structure.pages import Page

        config = self.config
        files = get_files(config)
        env = config.theme.get_env()
        # The theme does not change during a build: no stat of each template per include.
        env.auto_reload = False
        if self._temp is None and self.cache is not None:
            # Compiled theme templates, kept beside the page cache: Jinja checks each
            # against its template's source, so the output cannot differ.
            from jinja2 import FileSystemBytecodeCache

            folder = self.cache_path.parent / "jinja"
            folder.mkdir(exist_ok=True)
            env.bytecode_cache = FileSystemBytecodeCache(str(folder))
        self.add_files_from_theme(files, env)
        files = config.plugins.on_files(files, config=config)
        set_exclusions(files, config)
        nav = get_navigation(files, config)
        nav = config.plugins.on_nav(nav, config=config, files=files)
        if self.cache is not None:
            self.cache.set_files(files)
        inclusion = InclusionLevel.is_in_serve if self.serve_url else InclusionLevel.is_included
        states = []
        for file in files.documentation_pages(inclusion=inclusion):
            if file.page is None and file.inclusion.is_not_in_nav():
                Page(None, file, config)
            assert file.page is not None
            keyed_here = keyed is None or file.src_uri in keyed
            states.append(PageState(file, self.page_key(file.page) if keyed_here else ""))
        search = next(
            (p for p in config.plugins.values() if type(p).__name__ == "SearchPlugin"), None
        )
        return Setup(
            config, files, env, nav, inclusion, search if search and search.config.enabled else None
        ), states

    def add_files_from_theme(self, files: Files, env: jinja2.Environment) -> None:
        """`files.add_files_from_theme`, with the theme's listing kept in the cache.

        MkDocs lists every file of the theme folders (Material's icons: thousands) and
        filters the names; what it finds depends on the global key only, but whether a
        docs file shadows a theme file is checked each time, as MkDocs does.
        """
        from mkdocs.structure.files import File, Files

        config = self.config
        listing = self.cache.theme_files() if self.cache is not None else None
        if listing is None:
            found = Files([])
            found.add_files_from_theme(env, config)
            listing = [(f.src_uri, f.src_dir) for f in found if f.src_dir is not None]
            if self.cache is not None:
                self.cache.put_theme_files(listing)
        for path, folder in listing:
            if files.get_file_from_path(path) is None:
                files.append(File(path, folder, config.site_dir, config.use_directory_urls))

    def populate(self, state: PageState, files: Files) -> None:
        from mkdocs.commands.build import _populate_page

        page = state.file.page
        assert page is not None
        if state.row is not None:
            content = state.row.content
            page.markdown = ""  # not needed again: the title is fixed below
            page.meta = content.meta
            page._title_from_render = content.title_from_render
            page.title = content.title  # fixed: the HTML is not loaded
            page.content = ""
            page.present_anchor_ids = content.present_anchor_ids
            page.links_to_anchors = {
                files.get_file_from_path(uri): links  # type: ignore[misc]
                for uri, links in content.links_to_anchors.items()
            }
            return
        recording = RecordingFiles(files)
        before = self.warnings.count
        _populate_page(page, self.config, recording)  # type: ignore[arg-type]
        state.deps = recording.lookups
        state.storable = (
            self.cache is not None and not recording.opaque and self.warnings.count == before
        )

    def content_layer(self, page: Page) -> ContentLayer:
        return ContentLayer(
            meta=page.meta,  # type: ignore[arg-type]
            title_from_render=page._title_from_render,
            title=page.title,
            present_anchor_ids=set(page.present_anchor_ids or ()),
            links_to_anchors={
                f.src_uri: dict(links) for f, links in (page.links_to_anchors or {}).items()
            },
        )

    def render_page(
        self, s: Setup, state: PageState, doc_files: Sequence[File], nsig: str
    ) -> bytes | None:
        """The page's HTML: from the cache, or rendered (and then stored); None when
        MkDocs would skip the page or when the site folder already holds it.

        Its search-index entries go to `self.search_parts`, in page order."""
        page = state.file.page
        assert page is not None
        cache = self.cache
        row = state.row
        if cache and row is not None and row.nsig == nsig:
            self.cached += row.earlier
            if row.search:
                self.search_parts.append(row.search)
            return None if state.kept else cache.output(state.file.src_uri)
        if cache and row is not None:  # content layer holds; navigation changed
            page.content, page.toc = cache.body(state.file.src_uri)
            state.deps = pickle.loads(row.deps_data)
            state.storable = True
        layer = self.content_layer(page) if state.storable else None
        body = (page.content, page.toc)
        before_entries = len(s.search.search_index.entries) if s.search else 0
        before = self.warnings.count
        output = _build_page(
            page, self.config, doc_files, s.nav, s.env, excluded=state.file.inclusion.is_excluded()
        )
        search = search_fragment(s.search.search_index.entries[before_entries:] if s.search else [])
        if search:
            self.search_parts.append(search)
        if cache and layer is not None and self.warnings.count == before and output is not None:
            cache.put(state.file.src_uri, state.ckey, state.deps, layer, body, nsig, output, search)
        return output

    def build(self) -> None:
        """`mkdocs build`, as mkdocs.commands.build.build does it, with the page cache."""
        from mkdocs import utils
        from mkdocs.commands.build import _build_extra_template, _build_theme_template
        from mkdocs.exceptions import Abort, BuildError

        config = self.config
        logger = logging.getLogger("mkdocs")
        warning_counter = utils.CountHandler()
        warning_counter.setLevel(logging.WARNING)
        if config.strict:
            logger.addHandler(warning_counter)
        for counting in (logger, logging.getLogger()):
            counting.addHandler(self.warnings)
        succeeded = False
        try:
            start = time.monotonic()
            config = config.plugins.on_config(config)
            config.plugins.on_pre_build(config=config)
            log.info("Cleaning site directory")
            tree = None
            if self.cache is None:
                utils.clean_directory(config.site_dir)
            else:  # emptied below, but for the pages it already holds
                tree = SiteTree(Path(config.site_dir), self.cache)
            if not self.serve_url:
                log.info(f"Building documentation to directory: {config.site_dir}")
            s, states = self.setup()
            if self.cache is not None:
                self.cache.forget_stale_runs()
                self.lookup(states)
                misses = [state.file.src_uri for state in states if state.row is None]
                if len(misses) >= PARALLEL_MIN and (os.cpu_count() or 1) >= 2:
                    into = tree if tree and tree.empty else None
                    if can_fork_workers():
                        self.fork_workers(s, states, misses, into)
                    else:
                        self.fill_in_parallel(misses, into)
                    self.lookup([state for state in states if state.row is None])
            excluded = []
            for state in states:
                if self.serve_url and state.file.inclusion.is_excluded():
                    excluded.append(f"{self.serve_url}{state.file.url}")
                self.populate(state, s.files)
            if excluded:
                log.info(
                    "The following pages are being built only for the preview "
                    "but will be excluded from `mkdocs build` per `draft_docs` config:\n  - "
                    + "\n  - ".join(excluded)
                )
            nsig = nav_signature(s.nav)
            if tree is not None:
                self.keep_unchanged(s, states, nsig, tree)
            s.env = config.plugins.on_env(s.env, config=config, files=s.files)
            self.nav_memo = memoize_navigation(s.env, s.nav)
            s.files.copy_static_files(dirty=False, inclusion=s.inclusion)
            for template in config.theme.static_templates:
                _build_theme_template(template, s.env, s.files, config, s.nav)
            for template in config.extra_templates:
                _build_extra_template(template, s.files, config, s.nav)
            doc_files = s.files.documentation_pages(inclusion=s.inclusion)
            self.cached = 0
            self.search_parts = []
            for state in states:
                output = self.render_page(s, state, doc_files, nsig)
                if output is not None and tree is not None:
                    tree.write(state.file.abs_dest_path, output)
                elif output is not None:
                    utils.write_file(output, state.file.abs_dest_path)
                page = state.file.page
                assert page is not None
                _release(page)  # memory: 10,000 pages are not kept
                page.toc = []  # type: ignore[assignment]
            log_level = config.validation.links.anchors
            for file in doc_files:
                assert file.page is not None
                file.page.validate_anchor_links(files=s.files, log_level=log_level)
            if s.search is not None:
                self.join_search_index(s.search.search_index)
            config.plugins.on_post_build(config=config)
            if counts := warning_counter.get_counts():
                msg = ", ".join(f"{v} {k.lower()}s" for k, v in counts)
                raise Abort(f"Aborted with {msg} in strict mode!")
            succeeded = True
            if self.cache is not None:
                if tree is not None:
                    tree.stamp_folders()
                self.cache.put_sources(
                    self._new_sources, {st.file.abs_src_path or "" for st in states}
                )
                self.cache.commit(
                    [state.file.src_uri for state in states],
                    (tree.key, tree.stamps) if tree is not None else None,
                )
            kept = sum(state.kept for state in states)
            log.info(
                f"Pages from konspekt's cache: {self.cached} of {len(states)};"
                f" already in the site folder: {kept}"
            )
            log.info(f"Documentation built in {time.monotonic() - start:.2f} seconds")
        except Exception as e:
            config.plugins.on_build_error(error=e)
            if isinstance(e, BuildError):
                log.error(str(e))
                raise Abort("Aborted with a BuildError!") from e
            raise
        finally:
            if self.cache is not None and not succeeded:
                self.cache.discard()
            logger.removeHandler(warning_counter)
            for counting in (logger, logging.getLogger()):
                counting.removeHandler(self.warnings)

    def keep_unchanged(
        self, s: Setup, states: Sequence[PageState], nsig: str, tree: SiteTree
    ) -> None:
        """Empty the site folder but for the page outputs it holds that stay the same."""
        site = self.config.site_dir
        # Files a build writes besides the pages: a page there is rewritten, in order.
        others = {f.abs_dest_path for f in s.files if not f.is_documentation_page()}
        templates = [*self.config.theme.static_templates, *self.config.extra_templates]
        others |= {os.path.join(site, name) for name in templates}
        others |= {
            os.path.join(site, "sitemap.xml.gz"),
            os.path.join(site, "search", "search_index.json"),
        }
        keep = set()
        for state in states:
            row = state.row
            path = state.file.abs_dest_path
            if (
                row is not None
                and row.nsig == nsig
                and path not in others
                and tree.holds(path, row.odigest)
            ):
                state.kept = True
                keep.add(path)
        tree.sweep(keep)

    def join_search_index(self, index: Any) -> None:
        """Material's search index from the pages' serialized entries (`search_fragment`)."""
        generate = index.generate_search_index
        parts = self.search_parts

        def joined(prev: Any) -> str:
            if prev is not None:  # a dirty serve build merges entries: Material's own way
                index.entries = json.loads(f"[{','.join(parts)}]")
                return str(generate(prev))
            index.entries = []
            empty = str(generate(None))
            assert empty.endswith(',"docs":[]}'), empty[-40:]
            return f"{empty[:-3]}[{','.join(parts)}]}}"

        index.generate_search_index = joined

    def fork_workers(
        self, s: Setup, states: list[PageState], misses: list[str], tree: SiteTree | None
    ) -> None:
        """`fill_in_parallel` by forking this process, set up as a worker would set
        itself up: the two children start rendering at once.

        A spawned worker starts a new interpreter, imports MkDocs, loads the config and
        reads the site's files again: about 0.9 s of each core before its first page.
        The children share this process's memory until they write to it."""
        from ..output import die_with_parent

        assert self.cache is not None
        log.debug("rendering %d pages in %d forked workers", len(misses), WORKERS)
        pids: list[int] = []
        with tempfile.TemporaryDirectory(prefix="konspekt-workers-") as folder:
            sys.stdout.flush()
            sys.stderr.flush()
            gc.freeze()  # the children's collections leave what they share untouched
            try:
                for index in range(WORKERS):
                    err = Path(folder) / f"err-{index}.txt"
                    try:
                        pid = os.fork()
                    except OSError as error:  # its pages stay misses: the assembly's
                        log.debug("could not fork a page worker: %s", error)
                        break
                    if pid == 0:  # the child: never returns
                        die_with_parent()
                        self._work_forked(s, states, set(misses[index::WORKERS]), tree, err)
                    pids.append(pid)
            finally:
                gc.unfreeze()
                codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
            self._after_workers(codes, Path(folder), tree)

    def _work_forked(
        self,
        s: Setup,
        states: list[PageState],
        pages: set[str],
        tree: SiteTree | None,
        err: Path,
    ) -> NoReturn:
        """A forked worker's life: its output to `err` (read only if it fails), its own
        connection to the page cache, its pages rendered; it leaves without running
        this process's exit handlers (they are the parent's: temporary folders)."""
        code = 1
        try:
            with err.open("wb") as file:
                os.dup2(file.fileno(), 2)
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 1)
            # (and Python's streams: the parent's may be objects of their own, not fd 2)
            sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 (the child's, until it exits)
            sys.stderr = open(  # noqa: SIM115
                2, "w", encoding="utf-8", errors="backslashreplace", closefd=False
            )
            # The parent's connection is neither used nor closed here (kept referenced
            # until the exit): SQLite's connections must not cross a fork.
            inherited = self.cache
            assert inherited is not None
            self.cache = inherited.reopened(self.cache_path)
            self.render_share(s, states, pages, Path(tree.root) if tree is not None else None)
            self.cache.close()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            with contextlib.suppress(BaseException):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)

    def fill_in_parallel(self, misses: list[str], tree: SiteTree | None) -> None:
        """Two processes render the missing pages into the cache (pending, this run)
        and write them into the site folder `tree`, if given (an empty one), where the
        assembly keeps them."""
        from ..output import die_with_parent

        assert self.cache is not None
        log.debug("rendering %d pages in %d worker processes", len(misses), WORKERS)
        procs = []
        with tempfile.TemporaryDirectory(prefix="konspekt-workers-") as folder:
            for index in range(WORKERS):
                part = Path(folder) / f"part-{index}.json"
                part.write_text(json.dumps(misses[index::WORKERS]), "utf-8")
                command = [
                    sys.executable, "-m", "konspekt.site.mkdocs_run", "worker",
                    "--config-file", str(self.config.config_file_path),
                    "--cache", str(self.cache_path), "--run", self.run, "--pages", str(part),
                    "--site-url", json.dumps(self.config.site_url),
                    "--serve-url", json.dumps(self.serve_url),
                    "--strict", json.dumps(bool(self.config.strict)),
                ]  # fmt: skip
                if tree is not None:
                    command += ["--into", tree.root]
                # Into a file, not a pipe: a worker's warnings cannot fill a pipe and
                # stall it while the other is waited for.
                with open(Path(folder) / f"err-{index}.txt", "wb") as err:
                    procs.append(
                        subprocess.Popen(
                            command,
                            stdout=subprocess.DEVNULL,
                            stderr=err,
                            preexec_fn=die_with_parent,
                        )
                    )
            self._after_workers([proc.wait() for proc in procs], Path(folder), tree)

    def _after_workers(self, codes: Sequence[int], folder: Path, tree: SiteTree | None) -> None:
        """The workers (forked or spawned) have exited with `codes`: a failed one's output
        (`err-<index>.txt` in `folder`) is logged, its pages are misses the assembly
        renders; what they wrote into `tree` is taken as recorded, kept if it still holds."""
        for index, code in enumerate(codes):
            if code != 0:
                output = (folder / f"err-{index}.txt").read_text("utf-8", "replace")
                log.debug("a page worker failed (%s):\n%s", code, output)
        if tree is not None:
            assert self.cache is not None
            tree.known = self.cache.outputs(tree.key)

    def work(self, pages: set[str], into: Path | None = None) -> None:
        """A worker: render `pages` (and the nav's untitled pages) into the cache, and
        write each into the build's site folder `into` if given.

        The assembly would read every output back and write it: 290 MB at 5,000
        terms, a few seconds of one process while the other core idles."""
        config = self.config.plugins.on_config(self.config)
        config.plugins.on_pre_build(config=config)
        logging.getLogger().addHandler(self.warnings)
        logging.getLogger("mkdocs").addHandler(self.warnings)
        s, states = self.setup(keyed=pages)
        self.render_share(s, states, pages, into)

    def render_share(
        self, s: Setup, states: list[PageState], pages: set[str], into: Path | None
    ) -> None:
        """A worker's part once set up: its `pages` rendered into the cache, and
        written into `into` if given."""
        config = s.config
        mine = [state for state in states if state.file.src_uri in pages]
        nav_pages = {page.file.src_uri for page in s.nav.pages}
        # Titles of nav pages without one given appear on every page: render them too.
        needed = [
            st
            for st in states
            if st.file.src_uri in pages
            or (st.file.src_uri in nav_pages and "title" not in vars(st.file.page))
        ]
        ok = set()
        for state in needed:
            with contextlib.suppress(Exception):
                self.populate(state, s.files)
                ok.add(state.file.src_uri)
        s.env = config.plugins.on_env(s.env, config=config, files=s.files)
        self.nav_memo = memoize_navigation(s.env, s.nav)
        doc_files = s.files.documentation_pages(inclusion=s.inclusion)
        nsig = nav_signature(s.nav)
        assert self.cache is not None
        tree = SiteTree(into, self.cache) if into is not None else None
        for state in mine:
            if state.file.src_uri in ok and state.storable:
                with contextlib.suppress(Exception):
                    output = self.render_page(s, state, doc_files, nsig)
                    if tree is not None and output is not None:
                        tree.write(os.path.join(tree.root, state.file.dest_path), output)
            page = state.file.page
            assert page is not None
            _release(page)
        self.cache.flush()
        if tree is not None:
            self.cache.put_outputs(tree.key, tree.stamps)


def _release(page: Page) -> None:
    """Drop a rendered page's Markdown and HTML, its title kept: MkDocs derives a title
    from the Markdown (None without it), and later pages show it in their navigation."""
    page.title = page.title
    page.content = page.markdown = None


def nav_signature(nav: Navigation) -> str:
    """Titles, urls and order of the whole navigation: every page's HTML shows it."""

    def item(node: Any) -> Any:
        kind = "S" if node.is_section else "P" if node.is_page else "L"
        children = [item(child) for child in node.children] if node.is_section else None
        return [kind, node.title, getattr(node, "url", None), children]

    return _digest(json.dumps([item(node) for node in nav.items], ensure_ascii=False))


def _build_page(
    page: Page,
    config: MkDocsConfig,
    doc_files: Sequence[File],
    nav: Navigation,
    env: jinja2.Environment,
    *,
    excluded: bool,
) -> bytes | None:
    """mkdocs.commands.build._build_page, returning the bytes instead of writing them."""
    from mkdocs.commands.build import get_context
    from mkdocs.exceptions import BuildError

    config._current_page = page
    try:
        page.active = True
        context = get_context(nav, doc_files, config, page)
        template = env.get_template(page.meta.get("template", "main.html"))
        context = config.plugins.on_page_context(context, page=page, config=config, nav=nav)
        if excluded:
            page.content = (
                '<div class="mkdocs-draft-marker" '
                'title="This page will not be included into the built site.">'
                "DRAFT"
                "</div>" + (page.content or "")
            )
        output = template.render(context)
        output = config.plugins.on_post_page(output, page=page, config=config)
        if output.strip():
            return output.encode("utf-8", errors="xmlcharrefreplace")
        log.info(f"Page skipped: '{page.file.src_uri}'. Generated empty output.")
        return None
    except Exception as e:
        message = f"Error building page '{page.file.src_uri}':"
        if not isinstance(e, BuildError):
            message += f" {e}"
        log.error(message)
        raise
    finally:
        page.active = False
        config._current_page = None


def build(
    config: MkDocsConfig, *, serve_url: str | None = None, cache_path: Path | None = None
) -> None:
    """Build the site of a loaded `config`, as `mkdocs.commands.build.build` would."""
    runner = Runner(config, serve_url, cache_path)
    try:
        runner.build()
    finally:
        runner.close()


def _setup_logging() -> None:
    from mkdocs.__main__ import State, _enable_warnings

    global _state
    _state = State()
    _enable_warnings()


_state: Any = None


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m konspekt.site.mkdocs_run build|worker …`; exit status as mkdocs's."""
    parser = argparse.ArgumentParser(prog="python -m konspekt.site.mkdocs_run")
    parser.add_argument("command", choices=["build", "worker"])
    parser.add_argument("--config-file", required=True)
    parser.add_argument("--site-dir")
    parser.add_argument("--cache")
    parser.add_argument("--run")
    parser.add_argument("--pages")
    parser.add_argument("--into")
    parser.add_argument("--site-url", default="null")
    parser.add_argument("--serve-url", default="null")
    parser.add_argument("--strict", default="true")
    args = parser.parse_args(argv)
    _setup_logging()
    try:
        check_versions()
    except RunnerError as error:
        log.error(str(error))
        return 1
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError

    cache = Path(args.cache) if args.cache else None
    try:
        if args.command == "build":
            config = load_config(config_file=args.config_file, strict=True, site_dir=args.site_dir)
            config.plugins.on_startup(command="build", dirty=False)
            try:
                build(config, cache_path=cache)
            finally:
                config.plugins.on_shutdown()
            return 0
        # Warnings stay on (the worker's stderr goes nowhere unless it fails): a page
        # that warned is not stored, so the assembly renders it and MkDocs warns there.
        with tempfile.TemporaryDirectory(prefix="konspekt-worker-") as site_dir:
            config = load_config(
                config_file=args.config_file, strict=json.loads(args.strict), site_dir=site_dir
            )
            config.site_url = json.loads(args.site_url)
            config.plugins.on_startup(command="build", dirty=False)
            runner = Runner(config, json.loads(args.serve_url), cache, args.run)
            try:
                pages = set(json.loads(Path(args.pages).read_text("utf-8")))
                runner.work(pages, Path(args.into) if args.into else None)
            finally:
                runner.close()
        return 0
    except (Abort, ConfigurationError) as error:
        error.show()  # as the mkdocs command shows it
        return 1


if __name__ == "__main__":
    # Through the imported module, so pickled cache entries name konspekt.site.mkdocs_run.
    from konspekt.site.mkdocs_run import main as module_main

    sys.exit(module_main())
