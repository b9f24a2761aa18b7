"""Where a project's inputs and outputs live, and the defaults: one owner for each path.

The CLI resolves a `Project` from its options and passes it (or parts of it) to the
library; no other module knows a default file name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .deck.ledger import LEDGER_NAME
from .deck.options import DEFAULT_TITLE
from .site.build import OWNED_DIRS, OWNED_FILES

CARDS_DIR = "cards"
CONFIG_FILE = "mkdocs.yml"
DIST_DIR = "dist"
SITE_DIR = "site"
DOCS_DIR = "docs"
# Everything a build may reuse; disposable, git-ignored, inside the project (never
# beside an output written elsewhere with --out).
CACHE_DIR = ".cache/konspekt"
DECK_FILE = "devops.apkg"

__all__ = ["DEFAULT_TITLE", "Project", "generated_paths"]


def generated_paths(docs_dir: str = DOCS_DIR) -> tuple[str, ...]:
    """Every path a build writes, relative to the project root: what `make clean` removes."""
    generated_docs = tuple(f"{docs_dir}/{name}" for name in (*OWNED_DIRS, *OWNED_FILES))
    return (DIST_DIR, SITE_DIR, CACHE_DIR.split("/")[0], *generated_docs)


@dataclass(frozen=True)
class Project:
    """A knowledge-base project: its folder and the files in it."""

    root: Path
    cards_dir: Path
    config_file: Path

    @classmethod
    def at(
        cls, root: Path, cards_dir: Path | None = None, config_file: Path | None = None
    ) -> Project:
        return cls(
            root=root,
            cards_dir=cards_dir if cards_dir is not None else root / CARDS_DIR,
            config_file=config_file if config_file is not None else root / CONFIG_FILE,
        )

    @property
    def ledger_path(self) -> Path:
        return self.cards_dir / LEDGER_NAME

    @property
    def cache_dir(self) -> Path:
        return self.root / CACHE_DIR

    @property
    def deck_file(self) -> Path:
        return self.root / DIST_DIR / DECK_FILE
