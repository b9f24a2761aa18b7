"""Where a project's inputs and outputs live, and the defaults: one owner for each path.

A project is a folder with a `konspekt.yml`; commands find it from the working
directory upward (as git finds its repository) or take `--project DIR`. The CLI
resolves a `Project` and passes it (or parts of it) to the library; no other module
knows a default file name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .deck.ledger import LEDGER_NAME
from .errors import ConfigError
from .load import display_path
from .projectfile import PROJECT_FILE, ProjectFile, read_project_file

CARDS_DIR = "cards"
CONFIG_FILE = "mkdocs.yml"
DIST_DIR = "dist"
SITE_DIR = "site"
DOCS_DIR = "docs"
# Everything a build may reuse; disposable, git-ignored, inside the project (never
# beside an output written elsewhere with --out).
CACHE_DIR = ".cache/konspekt"

__all__ = ["PROJECT_FILE", "Project", "find_project_root", "generated_paths"]


def generated_paths(docs_dir: str = DOCS_DIR) -> tuple[str, ...]:
    """Every path a build writes, relative to the project root: what `make clean` removes."""
    # Imported here: the site's modules cost `deck` and `check` 30 ms to import.
    from .site.build import OWNED_DIRS, OWNED_FILES

    generated_docs = tuple(f"{docs_dir}/{name}" for name in (*OWNED_DIRS, *OWNED_FILES))
    return (DIST_DIR, SITE_DIR, CACHE_DIR.split("/")[0], *generated_docs)


def find_project_root(start: Path) -> Path | None:
    """The nearest folder from `start` upward that holds a konspekt.yml."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    return None


@dataclass(frozen=True)
class Project:
    """A knowledge-base project: its folder, its settings and the files in it."""

    root: Path
    settings: ProjectFile
    cards_dir: Path
    config_file: Path

    @classmethod
    def at(
        cls, root: Path, cards_dir: Path | None = None, config_file: Path | None = None
    ) -> Project:
        """The project in `root`; ConfigError if it has no konspekt.yml, CardsError if
        the file is invalid."""
        path = root / PROJECT_FILE
        if not path.is_file():
            raise ConfigError(
                f"no {PROJECT_FILE} in {display_path(root) or '.'}: "
                "run `konspekt init DIR` to make a project there"
            )
        return cls(
            root=root,
            settings=read_project_file(path, display_path(path)),
            cards_dir=cards_dir if cards_dir is not None else root / CARDS_DIR,
            config_file=config_file if config_file is not None else root / CONFIG_FILE,
        )

    @classmethod
    def find(cls, start: Path) -> Project:
        """The project `start` is in (itself or a parent folder)."""
        root = find_project_root(start)
        if root is None:
            raise ConfigError(
                f"not inside a konspekt project: no {PROJECT_FILE} in "
                f"{display_path(start.resolve()) or '.'} or any parent folder "
                "(run `konspekt init DIR` to make one, or pass --project DIR)"
            )
        return cls.at(root)

    @property
    def ledger_path(self) -> Path:
        return self.cards_dir / LEDGER_NAME

    @property
    def cache_dir(self) -> Path:
        return self.cache_dir_of(self.root)

    @staticmethod
    def cache_dir_of(root: Path) -> Path:
        """The cache folder of the project in `root`, for commands that need no more of it."""
        return root / CACHE_DIR

    @property
    def deck_file(self) -> Path:
        return self.root / DIST_DIR / self.settings.deck_file

    @property
    def site_dir(self) -> Path:
        return self.root / SITE_DIR
