"""The one exception family of konspekt: the library raises these, only the CLI prints them.

A caller matches on the class (`except StaleLedgerError`), never on message text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Pos:
    """A place in a card file: 1-based line and column, the way editors count."""

    path: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, with where it is and how to fix it.

    `pos` is None for a problem with no place in a file (a missing cards folder).
    `notes` say what the problem kept from being checked; they print on lines of
    their own after it, as compilers print notes, and are not errors themselves.
    """

    pos: Pos | None
    message: str
    hint: str = ""
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        where = f"{self.pos}: " if self.pos else ""
        lines = [f"{where}error: {self.message}{hint}"]
        lines += [f"{self.pos.path + ': ' if self.pos else ''}note: {n}" for n in self.notes]
        return "\n".join(lines)

    @property
    def sort_key(self) -> tuple[str, int, int]:
        """Problems without a place first, then by file, line and column."""
        return (self.pos.path, self.pos.line, self.pos.col) if self.pos else ("", 0, 0)


class KonspektError(Exception):
    """Base of every error the library raises on purpose."""


class CardsError(KonspektError):
    """The cards are invalid; carries every problem found, in file order."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: p.sort_key)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[type[CardsError], tuple[list[Problem]]]:
        # Pickled with its problems, not its message (a step run in a child, pool.in_child).
        return CardsError, (self.problems,)


class BuildError(KonspektError):
    """A build step (deck, site) could not complete; the previous output is left as it was."""


class ConfigError(BuildError):
    """A setting (deck title, site URL, mkdocs.yml, SOURCE_DATE_EPOCH) is not usable."""


class StaleLedgerError(BuildError):
    """`--locked`: the ledger would change, so the committed one is out of date."""


class DamagedLedgerError(BuildError):
    """The ledger file cannot be read as a ledger; restore it from version control."""


class MkDocsError(BuildError):
    """`mkdocs build --strict` failed or warned; the message carries its output."""


class OutputError(BuildError):
    """An output file or folder could not be written; the previous one is intact."""


class NotesError(KonspektError):
    """Study notes cannot be read, or a draft would overwrite a file."""


class SiteLinkError(BuildError):
    """A generated page links to a page or anchor the site does not have (a bug in konspekt).

    MkDocs checks only Markdown links; the lists konspekt writes as HTML are checked here.
    """
