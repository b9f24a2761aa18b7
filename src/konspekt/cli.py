"""The command line: the only place that prints, reads the terminal, or exits.

Every command takes `--cards DIR`. Library errors (KonspektError) become one
`file:line:col: error: …` line each and exit code 1; anything else is a bug.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .errors import CardsError, KonspektError
from .load import load_glossary
from .model import Glossary

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_CARDS = Path("cards")


def cards_option(command: F) -> F:
    return click.option(
        "--cards",
        "cards_dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=DEFAULT_CARDS,
        show_default=True,
        help="Folder of card files (*.yaml).",
    )(command)


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def fail(error: KonspektError) -> None:
    """Print a library error the way compilers do, then exit 1."""
    if isinstance(error, CardsError):
        for problem in error.problems:
            click.echo(str(problem), err=True)
        click.echo(plural(len(error.problems), "error"), err=True)
    else:
        click.echo(f"error: {error}", err=True)
    sys.exit(1)


def load_or_fail(cards_dir: Path) -> Glossary:
    try:
        return load_glossary(cards_dir)
    except KonspektError as error:
        fail(error)
        raise  # unreachable: fail() exits


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what each stage does.")
@click.version_option(package_name="konspekt")
def main(verbose: bool) -> None:
    """konspekt: study notes as YAML cards in; an Anki deck and a reference site out.

    \b
    Examples:
      konspekt check                 validate cards/
      konspekt deck                  build dist/devops.apkg
      konspekt site                  build the site into site/
      echo 'Поды и контейнеры' | konspekt link
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s: %(message)s",
        stream=sys.stderr,
    )


@main.command()
@cards_option
def check(cards_dir: Path) -> None:
    """Validate every card file and report every problem at once.

    Prints one `file:line:col: error: …` line per problem and exits 1 if there
    is any; otherwise prints a one-line summary.

    \b
    Examples:
      konspekt check
      konspekt check --cards tests/fixtures/small
    """
    glossary = load_or_fail(cards_dir)
    click.echo(
        f"ok: {plural(len(glossary.entries), 'entry', 'entries')} in "
        f"{plural(len(glossary.topics), 'topic')} ({cards_dir})"
    )


@main.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("schema/cards.schema.json"),
    show_default=True,
    help="Where to write the schema.",
)
def schema(out: Path) -> None:
    """Write the JSON Schema of card files, generated from the model.

    \b
    Example:
      konspekt schema    # after changing src/konspekt/model.py
    """
    from .schema import schema_json

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(schema_json(), encoding="utf-8")
    click.echo(f"wrote {out}")


# --- deck (issue: Anki deck) ---

# --- site, serve (issue: reference site) ---

# --- link (issue: reference site) ---


if __name__ == "__main__":  # pragma: no cover
    main()
