"""The command line: the only place that prints, reads the terminal, or exits.

Commands resolve the project (paths, deck options, the site URL from mkdocs.yml) and
call the library. The library raises KonspektError subclasses; `KonspektGroup` turns
them into `file:line:col: error: …` lines and exit code 1 in one place. Anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations

import gc
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from .errors import CardsError, ConfigError, KonspektError
from .load import load_glossary
from .model import Glossary
from .output import interruptible, write_file
from .project import CARDS_DIR, CONFIG_FILE, DECK_FILE, DEFAULT_TITLE, DIST_DIR, Project

if TYPE_CHECKING:
    from .deck import DeckOptions

F = TypeVar("F", bound=Callable[..., Any])


def count(number: int, one: str, many: str | None = None) -> str:
    """'1 error', '2 errors' (English messages only)."""
    return f"{number} {one if number == 1 else (many or one + 's')}"


class KonspektGroup(click.Group):
    """Runs a command; a library error becomes its message on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KonspektError as error:
            report(error)


def report(error: KonspektError) -> NoReturn:
    """Print a library error the way compilers do, then exit 1."""
    if isinstance(error, CardsError):
        for problem in error.problems:
            click.echo(str(problem), err=True)
        click.echo(count(len(error.problems), "error"), err=True)
    else:
        click.echo(f"error: {error}", err=True)
    sys.exit(1)


# --- shared options ----------------------------------------------------------------------


def path_option(name: str, default: str, help: str, *, is_dir: bool = False) -> Callable[[F], F]:
    return click.option(
        f"--{name}",
        f"{name.replace('-', '_')}_path",
        type=click.Path(path_type=Path, file_okay=not is_dir, dir_okay=is_dir),
        default=Path(default),
        show_default=True,
        help=help,
    )


cards_option = path_option("cards", CARDS_DIR, "Folder of card files (*.yaml).", is_dir=True)
config_option = path_option("config", CONFIG_FILE, "MkDocs configuration of the site.")


def deck_options(command: F) -> F:
    """How the deck is named and linked; shared by `deck` and `preview`."""
    command = click.option(
        "--site-url",
        default=None,
        help="Base URL of the published site for each card's link "
        "[default: site_url from the MkDocs configuration; no link without one].",
    )(command)
    return click.option(
        "--title",
        default=DEFAULT_TITLE,
        show_default=True,
        help="Root deck title; subdecks are named after topics. Also the notes' identity: "
        "changing it makes every note new to Anki.",
    )(command)


def load_cards(cards_dir: Path) -> Glossary:
    glossary = load_glossary(cards_dir)
    # The glossary lives as long as the command: keep the cycle collector from
    # re-scanning its million objects at every collection (a sixth of a site build).
    gc.freeze()
    return glossary


def resolve_deck_options(title: str, site_url: str | None, config_file: Path) -> DeckOptions:
    """DeckOptions from the command line, the site URL defaulting to mkdocs.yml's."""
    from .deck import DeckOptions
    from .site.config import read_mkdocs_yml

    if site_url is None:
        try:
            value = read_mkdocs_yml(config_file).get("site_url")
        except FileNotFoundError:
            value = None
        site_url = str(value) if value else None
    return DeckOptions(title=title, site_url=site_url)


def project_of(cards_dir: Path, config_file: Path) -> Project:
    return Project.at(Path.cwd(), cards_dir, config_file)


# --- commands ------------------------------------------------------------------------------


@click.group(cls=KonspektGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what each stage does.")
@click.version_option(package_name="konspekt", prog_name="konspekt")
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
def check(cards_path: Path) -> None:
    """Validate every card file and report every problem at once.

    Prints one `file:line:col: error: …` line per problem and exits 1 if there
    is any; otherwise prints a one-line summary.

    \b
    Examples:
      konspekt check
      konspekt check --cards tests/fixtures/deck
    """
    glossary = load_cards(cards_path)
    click.echo(
        f"ok: {count(len(glossary.entries), 'entry', 'entries')} in "
        f"{count(len(glossary.topics), 'topic')} ({cards_path})"
    )


@main.command()
@path_option("out", "schema/cards.schema.json", "Where to write the schema.")
def schema(out_path: Path) -> None:
    """Write the JSON Schema of card files, generated from the model.

    \b
    Example:
      konspekt schema    # after changing src/konspekt/model.py
    """
    from .schema import schema_json

    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_file(out_path, schema_json().encode("utf-8"))
    click.echo(f"wrote {out_path}")


@main.command()
@cards_option
@config_option
@path_option("out", f"{DIST_DIR}/{DECK_FILE}", "Where to write the deck.")
@deck_options
@click.option(
    "--locked",
    is_flag=True,
    help="Fail instead of updating a stale ledger (<cards>/anki.lock); for CI.",
)
def deck(
    cards_path: Path,
    config_path: Path,
    out_path: Path,
    title: str,
    site_url: str | None,
    locked: bool,
) -> None:
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
    from .deck import build_deck

    project = project_of(cards_path, config_path)
    glossary = load_cards(cards_path)
    report = build_deck(
        glossary,
        out_path,
        ledger_path=project.ledger_path,
        options=resolve_deck_options(title, site_url, config_path),
        locked=locked,
        cache_dir=project.cache_dir,
    )
    kept = report.retired_total - report.retired
    click.echo(
        f"wrote {report.out}: {report.notes} notes, {report.cards} cards, "
        f"{report.subdecks} subdecks; since {report.ledger}: {report.new} new, "
        f"{report.changed} changed, {report.unchanged} unchanged, {report.retired} retired"
        + (f" ({kept} retired earlier, kept)" if kept else "")
        + ("" if report.ledger_changed else "; ledger unchanged")
    )


deck_file_option = path_option(
    "deck",
    f"{DIST_DIR}/{DECK_FILE}",
    "Anki deck offered for download on the home page, if it exists.",
)


@main.command()
@cards_option
@config_option
@deck_file_option
@click.option(
    "--no-build",
    is_flag=True,
    help="Only generate the pages in docs/; do not run MkDocs.",
)
def site(cards_path: Path, config_path: Path, deck_path: Path, no_build: bool) -> None:
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
    from .site.build import build_site, history_of

    project = project_of(cards_path, config_path)
    glossary = load_cards(cards_path)
    result = build_site(
        glossary,
        config_path,
        deck_path,
        cache_dir=project.cache_dir,
        history=history_of(cards_path),
        build=not no_build,
    )
    entries, topics = len(glossary.entries), len(glossary.topics)
    click.echo(f"generated {entries} term pages, {topics} topic pages: {result.written.summary()}")
    if result.build is not None:
        for warning in result.build.warnings:
            click.echo(warning, err=True)
        logging.getLogger(__name__).info("mkdocs output:\n%s", result.build.output.rstrip())
        click.echo(
            f"built {result.site_dir} with mkdocs build --strict: "
            f"{count(len(result.build.warnings), 'warning')}"
        )


@main.command()
@cards_option
@config_option
@deck_file_option
@click.option(
    "-a",
    "--dev-addr",
    default=None,
    metavar="IP:PORT",
    help="Address to serve on [default: dev_addr of mkdocs.yml, 127.0.0.1:8000].",
)
def serve(cards_path: Path, config_path: Path, deck_path: Path, dev_addr: str | None) -> None:
    """Preview the site with live reload; editing a card file regenerates the pages.

    \b
    Examples:
      konspekt serve                  http://127.0.0.1:8000/konspekt/
      konspekt serve -a 0.0.0.0:8080
    """
    from .site.build import serve as serve_site

    project = project_of(cards_path, config_path)
    logging.getLogger("mkdocs").setLevel(logging.INFO)
    serve_site(cards_path, config_path, deck_path, cache_dir=project.cache_dir, dev_addr=dev_addr)


@main.command()
@cards_option
@click.option(
    "--page",
    default=None,
    metavar="ID",
    help="Treat the text as the page of this entry: mentions of it are not links.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Print every candidate mention, linked or not, and why, one per line.",
)
def link(cards_path: Path, page: str | None, explain: bool) -> None:
    """Find term mentions in Markdown on stdin; print them as a JSON array.

    Each mention is {"start", "end", "text", "id"}, with character offsets into
    the input: every inflected form of a term counts («подах», «базового образа»),
    the first mention per paragraph only, never in code, headings or links.
    With --explain, every candidate instead: linked or not, and the reason.

    \b
    Examples:
      echo 'Контейнеры запускаются в подах.' | konspekt link
      [{"start": 0, "end": 10, "text": "Контейнеры", "id": "container"}, …]
      echo 'Контроллер заданий создаёт поды.' | konspekt link --explain
      0-18 «Контроллер заданий» → k8s-job: linked (a collocation of the entry)
    """
    from .link import Linker

    glossary = load_cards(cards_path)
    text = sys.stdin.buffer.read().decode("utf-8")
    linker = Linker.for_glossary(glossary)
    if explain:
        for c in linker.explain(text, page=page):
            verdict = "linked" if c.linked else "not linked"
            click.echo(f"{c.start}-{c.end} «{c.text}» → {c.id}: {verdict} ({c.reason})")
        return
    mentions = linker.find(text, page=page)
    click.echo(json.dumps([m.as_json() for m in mentions], ensure_ascii=False))


@main.command()
@cards_option
@config_option
@path_option("out", f"{DIST_DIR}/preview", "Folder for the PNGs and index.html.", is_dir=True)
@click.option(
    "--id", "entry_ids", multiple=True, help="Entry to show (repeatable); default: a few."
)
@deck_options
def preview(
    cards_path: Path,
    config_path: Path,
    out_path: Path,
    entry_ids: tuple[str, ...],
    title: str,
    site_url: str | None,
) -> None:
    """Render a few cards to PNG, front and back, light and night, desktop and phone.

    The cards are rendered by real Anki and shown in Debian's chromium; needs the
    test extras (`make preview` installs them).

    \b
    Examples:
      konspekt preview                   dist/preview/*.png from cards/
      konspekt preview --id pod --id image
    """
    try:
        from .deck.preview import render_previews
    except ImportError as error:
        raise ConfigError(
            f"`konspekt preview` needs the test extras ({error.name} is missing): "
            "run `make preview`, or `.venv/bin/pip install -e '.[test]'`"
        ) from error
    from .deck.ledger import read_ledger

    project = project_of(cards_path, config_path)
    glossary = load_cards(cards_path)
    ledger, _ = read_ledger(project.ledger_path)
    shots = render_previews(
        glossary,
        ledger,
        out_path,
        entry_ids=entry_ids,
        options=resolve_deck_options(title, site_url, config_path),
    )
    click.echo(f"wrote {len(shots)} card previews; look at {out_path}/index.html")


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
def changes(cards_path: Path, since: str | None, output_format: str) -> None:
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

    glossary = load_cards(cards_path)
    result = changes_since(cards_path, glossary, since)
    click.echo(changes_json(result) if output_format == "json" else release_notes(result), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
