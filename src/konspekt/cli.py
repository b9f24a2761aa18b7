"""The command line: the only place that prints, reads the terminal, or exits.

Every command takes `--cards DIR`. Library errors (KonspektError) become one
`file:line:col: error: …` line each and exit code 1; anything else is a bug.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .errors import CardsError, KonspektError
from .load import load_glossary
from .model import Glossary
from .output import interruptible

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
        glossary = load_glossary(cards_dir)
    except KonspektError as error:
        fail(error)
        raise  # unreachable: fail() exits
    # The glossary lives as long as the command: keep the cycle collector from
    # re-scanning its million objects at every collection (a sixth of a site build).
    gc.freeze()
    return glossary


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
    # SIGTERM unwinds like Ctrl-C, so a stopped build removes its partial output.
    click.get_current_context().with_resource(interruptible())


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


@main.command()
@cards_option
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("dist/devops.apkg"),
    show_default=True,
    help="Where to write the deck.",
)
@click.option(
    "--title",
    default="DevOps",
    show_default=True,
    help="Root deck title; subdecks are named after topics. Also the notes' identity: "
    "changing it makes every note new to Anki.",
)
@click.option(
    "--site-url",
    default=None,
    help="Base URL of the published site for each card's link "
    "[default: site_url from mkdocs.yml; no link without one].",
)
@click.option(
    "--locked",
    is_flag=True,
    help="Fail instead of updating a stale ledger (<cards>/anki.lock); for CI.",
)
def deck(cards_dir: Path, out: Path, title: str, site_url: str | None, locked: bool) -> None:
    """Build the Anki deck (.apkg) and update the ledger <cards>/anki.lock.

    Re-importing a new build into Anki updates exactly the notes whose content
    changed and keeps review history. The ledger records when each note last
    changed: commit it with the cards. Entries removed from the cards stay in
    the deck, tagged <title>::retired, so learners can find and delete them.

    \b
    Examples:
      konspekt deck                              dist/devops.apkg from cards/
      konspekt deck --out /tmp/test.apkg --cards tests/fixtures/deck
      SOURCE_DATE_EPOCH=1700000000 konspekt deck  reproducible times for new notes
    """
    from .deck.build import DeckOptions, build_deck, site_url_from_mkdocs
    from .deck.ledger import LEDGER_NAME

    glossary = load_or_fail(cards_dir)
    try:
        if site_url is None:
            site_url = site_url_from_mkdocs(Path("mkdocs.yml"))
        options = DeckOptions(title=title, site_url=site_url)
        ledger = cards_dir / LEDGER_NAME
        report = build_deck(glossary, out, ledger_path=ledger, options=options, locked=locked)
    except KonspektError as error:
        fail(error)
        return
    kept = report.retired_total - report.retired
    click.echo(
        f"wrote {report.out}: {report.notes} notes, {report.cards} cards, "
        f"{report.subdecks} subdecks; since {report.ledger}: {report.new} new, "
        f"{report.changed} changed, {report.unchanged} unchanged, {report.retired} retired"
        + (f" ({kept} retired earlier, kept)" if kept else "")
        + ("" if report.ledger_changed else "; ledger unchanged")
    )


# --- site, serve (issue: reference site) ---


def config_option(command: F) -> F:
    return click.option(
        "--config",
        "config_file",
        type=click.Path(path_type=Path, dir_okay=False),
        default=Path("mkdocs.yml"),
        show_default=True,
        help="MkDocs configuration of the site.",
    )(command)


def deck_option(command: F) -> F:
    return click.option(
        "--deck",
        "deck_file",
        type=click.Path(path_type=Path, dir_okay=False),
        default=Path("dist/devops.apkg"),
        show_default=True,
        help="Anki deck offered for download on the home page, if it exists.",
    )(command)


@main.command()
@cards_option
@config_option
@deck_option
@click.option(
    "--no-build",
    is_flag=True,
    help="Only generate the pages in docs/; do not run MkDocs.",
)
def site(cards_dir: Path, config_file: Path, deck_file: Path, no_build: bool) -> None:
    """Generate the glossary pages into docs/ and build the site with mkdocs --strict.

    Generated pages go to docs/glossary/, docs/topics/, docs/index-az.md and
    docs/assets/generated/ (git-ignored); only files whose text changed are
    written. The deck is copied to docs/downloads/ when it exists (run
    `konspekt deck` first to offer it). Any MkDocs warning fails the build.

    \b
    Examples:
      konspekt site                   docs/ from cards/, then site/
      konspekt site --no-build        only the Markdown, e.g. for `zensical build`
    """
    from .site.build import build_site

    try:
        glossary = load_or_fail(cards_dir)
        report = build_site(
            cards_dir, config_file, deck_file, build=not no_build, glossary=glossary
        )
    except KonspektError as error:
        fail(error)
        return
    entries, topics = len(report.glossary.entries), len(report.glossary.topics)
    click.echo(f"generated {entries} term pages, {topics} topic pages: {report.written.summary()}")
    if report.build is not None:
        for warning in report.build.warnings:
            click.echo(warning, err=True)
        logging.getLogger(__name__).info("mkdocs output:\n%s", report.build.output.rstrip())
        count = len(report.build.warnings)
        click.echo(
            f"built {report.site_dir} with mkdocs build --strict: "
            f"{count} warning{'s' if count != 1 else ''}"
        )


@main.command()
@cards_option
@config_option
@deck_option
@click.option(
    "-a",
    "--dev-addr",
    default=None,
    metavar="IP:PORT",
    help="Address to serve on [default: dev_addr of mkdocs.yml, 127.0.0.1:8000].",
)
def serve(cards_dir: Path, config_file: Path, deck_file: Path, dev_addr: str | None) -> None:
    """Preview the site with live reload; editing a card file regenerates the pages.

    \b
    Examples:
      konspekt serve                  http://127.0.0.1:8000/konspekt/
      konspekt serve -a 0.0.0.0:8080
    """
    from .site.build import serve as serve_site

    logging.getLogger("mkdocs").setLevel(logging.INFO)
    try:
        serve_site(cards_dir, config_file, deck_file, dev_addr)
    except KonspektError as error:
        fail(error)


# --- link (issue: reference site) ---


@main.command()
@cards_option
@click.option(
    "--page",
    default=None,
    metavar="ID",
    help="Treat the text as the page of this entry: mentions of it are not links.",
)
def link(cards_dir: Path, page: str | None) -> None:
    """Find term mentions in Markdown on stdin; print them as a JSON array.

    Each mention is {"start", "end", "text", "id"}, with character offsets into
    the input: every inflected form of a term counts («подах», «базового образа»),
    the first mention per paragraph only, never in code, headings or links.

    \b
    Example:
      echo 'Контейнеры запускаются в подах.' | konspekt link
      [{"start": 0, "end": 10, "text": "Контейнеры", "id": "container"}, …]
    """
    import json

    from .link import Linker

    glossary = load_or_fail(cards_dir)
    text = sys.stdin.buffer.read().decode("utf-8")
    mentions = Linker.for_glossary(glossary).find(text, page=page)
    click.echo(json.dumps([m.as_json() for m in mentions], ensure_ascii=False))


# --- changes (issue 12: publishing) ---


@main.command()
@cards_option
@click.option(
    "--since",
    default=None,
    metavar="REF",
    help="Git ref to compare with [default: the newest version tag v*; on that tagged "
    "commit with unedited cards, the one before it; without tags, everything is new].",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["markdown", "json"]),
    default="markdown",
    show_default=True,
    help="Markdown for release notes, or JSON.",
)
def changes(cards_dir: Path, since: str | None, output_format: str) -> None:
    """Print what the cards change for learners since a git ref: new, changed (which
    fields), retired and restored terms.

    The past is the deck ledger <cards>/anki.lock committed at REF; the present is
    the cards in the working tree.

    \b
    Examples:
      konspekt changes                    release notes since the last tag v*
      konspekt changes --since v1.0.0 --format json
    """
    from .changes import changes_json, changes_since, release_notes

    glossary = load_or_fail(cards_dir)
    try:
        result = changes_since(cards_dir, glossary, since)
    except KonspektError as error:
        fail(error)
        return
    click.echo(changes_json(result) if output_format == "json" else release_notes(result), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
