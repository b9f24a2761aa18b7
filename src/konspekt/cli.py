"""The command line: the only place that prints, reads the terminal, or exits.

Commands resolve the project (its konspekt.yml, found from the working directory
upward or given by --project; paths; deck options) and call the library. The library
raises KonspektError subclasses; `KonspektGroup` turns them into `file:line:col: error: …`
lines and exit code 1 in one place. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from .errors import CardsError, ConfigError, KonspektError
from .load import display_path, load_glossary
from .model import Glossary
from .output import interruptible, write_file
from .project import CARDS_DIR, DIST_DIR, PROJECT_FILE, Project, find_project_root

if TYPE_CHECKING:
    from .changes import History
    from .deck import DeckOptions
    from .link import Linker

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


def path_option(
    name: str, default: str | None, help: str, *, is_dir: bool = False
) -> Callable[[F], F]:
    """A path option; `default` None means the project's own path, named in `help`."""
    return click.option(
        f"--{name}",
        f"{name.replace('-', '_')}_path",
        type=click.Path(path_type=Path, file_okay=not is_dir, dir_okay=is_dir),
        default=Path(default) if default is not None else None,
        show_default=default is not None,
        help=help,
    )


cards_option = path_option(
    "cards", None, "Folder of card files (*.yaml) [default: the project's cards/].", is_dir=True
)
config_option = path_option(
    "config", None, "MkDocs configuration of the site [default: the project's mkdocs.yml]."
)


def deck_options(command: F) -> F:
    """How the deck is named and linked; shared by `deck` and `preview`."""
    command = click.option(
        "--site-url",
        default=None,
        help="Base URL of the published site for each card's link "
        f"[default: site_url of {PROJECT_FILE}; no link without one].",
    )(command)
    return click.option(
        "--title",
        default=None,
        help=f"Root deck title; subdecks are named after topics [default: title of "
        f"{PROJECT_FILE}]. The notes' identity is the namespace there, not the title.",
    )(command)


def load_cards(
    cards_dir: Path, cache_dir: Path | None, later: list[Callable[[], None]] | None = None
) -> Glossary:
    """The cards, read with the project's cache folder (None outside any project): a card
    file unchanged since it was last read without problems is not read again. With
    `later`, the read cache's writes are left in it for the caller (`load_glossary`)."""
    glossary = load_glossary(cards_dir, cache_dir, later=later)
    # The glossary lives as long as the command: keep the cycle collector from
    # re-scanning its million objects at every collection (a sixth of a site build).
    gc.freeze()
    return glossary


def resolve_deck_options(
    project: Project, title: str | None = None, site_url: str | None = None
) -> DeckOptions:
    """DeckOptions from konspekt.yml, with the command line's title and site URL if given."""
    from .deck import DeckOptions

    settings = project.settings
    return DeckOptions(
        title=title or settings.title,
        site_url=site_url or settings.site_url,
        namespace=settings.namespace,
    )


def project_of(cards_dir: Path | None = None, config_file: Path | None = None) -> Project:
    """The project of this command: --project, or the one the working directory is in."""
    root = click.get_current_context().find_root().params.get("project_dir")
    project = Project.at(root) if root is not None else Project.find(Path.cwd())
    # Paths as the user sees them, relative to here: messages name files that way.
    here = Path(display_path(project.root))
    return Project.at(here, cards_dir or here / CARDS_DIR, config_file)


def cards_of(cards_dir: Path | None) -> tuple[Path, Path | None]:
    """The cards folder (--cards, the project's, or ./cards outside any project) and the
    cache folder of the project the command runs in (None outside any project)."""
    root = click.get_current_context().find_root().params.get("project_dir")
    if root is None:
        root = find_project_root(Path.cwd())
    cache_dir = Project.cache_dir_of(Path(display_path(root))) if root is not None else None
    if cards_dir is not None:
        return cards_dir, cache_dir
    if root is None:
        return Path(CARDS_DIR), None
    return Path(display_path(root / CARDS_DIR)), cache_dir


# --- commands ------------------------------------------------------------------------------


@click.group(cls=KonspektGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what each stage does.")
@click.option(
    "-p",
    "--project",
    "project_dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=None,
    help=f"The project's folder [default: the nearest folder with a {PROJECT_FILE}, "
    "from here upward].",
)
@click.version_option(package_name="konspekt", prog_name="konspekt", message="%(prog)s %(version)s")
def main(verbose: bool, project_dir: Path | None) -> None:
    """konspekt: study notes as YAML cards in; an Anki deck and a reference site out.

    Run inside a project (a folder with konspekt.yml; `konspekt init DIR` makes one),
    or pass --project DIR.

    \b
    Examples:
      konspekt init notes --title "Компьютерные сети"
      konspekt check                 validate cards/
      konspekt deck                  build the deck into dist/
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
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--title",
    default=None,
    help="The subject: root deck, note type, tags and site name [default: the folder's name].",
)
def init(folder: Path, title: str | None) -> None:
    """Make a new project in FOLDER: konspekt.yml, cards/ with an example topic, the site's
    files, a Makefile, a README and CI workflows.

    konspekt.yml gets a namespace no other project has: the notes' identity in learners'
    collections. Never change it once the deck is published.

    \b
    Example:
      konspekt init networks --title "Компьютерные сети"
      cd networks && konspekt check && konspekt deck && konspekt site
    """
    from .scaffold import init_project

    written = init_project(folder, title or folder.resolve().name)
    click.echo(
        f"created {display_path(folder)} with {count(len(written), 'file')}; next: "
        f"cd {display_path(folder)} && konspekt check && konspekt deck && konspekt site"
    )


@main.command()
@cards_option
def check(cards_path: Path | None) -> None:
    """Validate every card file and report every problem at once.

    Prints one `file:line:col: error: …` line per problem and exits 1 if there
    is any; otherwise prints a one-line summary.

    \b
    Examples:
      konspekt check
      konspekt check --cards drafts/     another folder of card files
    """
    cards_path, cache_dir = cards_of(cards_path)
    glossary = load_cards(cards_path, cache_dir)
    click.echo(
        f"ok: {count(len(glossary.entries), 'entry', 'entries')} in "
        f"{count(len(glossary.topics), 'topic')} ({cards_path})"
    )


@main.command()
@cards_option
@click.option("--strict", is_flag=True, help="Exit 1 if there is any warning (for CI).")
def lint(cards_path: Path | None, strict: bool) -> None:
    """Editorial and learning checks: what makes the cards teach.

    Warns where a question still shows a name of its answer or is too masked to
    read, an answer is over 30 words, two definitions are near-duplicates, card
    text refers to the notes, an entry lacks `en` or `related`, or the typography
    slips. One `file:line:col: warning: …` line each; `--strict` makes any warning
    a failure.

    \b
    Examples:
      konspekt lint
      konspekt lint --strict          in CI
    """
    from .lint import lint_glossary

    glossary = load_cards(*cards_of(cards_path))
    warnings = lint_glossary(glossary)
    for warning in warnings:
        click.echo(str(warning), err=True)
    click.echo(
        f"{count(len(warnings), 'warning')} in {count(len(glossary.entries), 'entry', 'entries')}"
    )
    if strict and warnings:
        sys.exit(1)


@main.command()
@path_option("out", "schema", "Folder to write the schemas into.", is_dir=True)
def schema(out_path: Path) -> None:
    """Write the JSON Schemas of card files and of konspekt.yml, generated from the model.

    \b
    Example:
      konspekt schema    # after changing src/konspekt/model.py or projectfile.py
    """
    from .schema import SCHEMAS

    out_path.mkdir(parents=True, exist_ok=True)
    for name, text in SCHEMAS.items():
        write_file(out_path / name, text().encode("utf-8"))
        click.echo(f"wrote {out_path / name}")


@main.command()
@cards_option
@config_option
@path_option("out", None, f"Where to write the deck [default: {DIST_DIR}/<deck_file>].")
@deck_options
@click.option(
    "--locked",
    is_flag=True,
    help="Fail instead of updating a stale ledger (<cards>/anki.lock); for CI.",
)
def deck(
    cards_path: Path | None,
    config_path: Path | None,
    out_path: Path | None,
    title: str | None,
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
      konspekt deck                              dist/<deck_file> from cards/
      konspekt deck --out /tmp/test.apkg --cards tests/fixtures/deck
      SOURCE_DATE_EPOCH=1700000000 konspekt deck  reproducible times for new notes
    """
    # One build, then the process ends: what it allocates is kept to the end (the cards,
    # a record per note), so the cycle collector would only re-scan it, again and again.
    gc.disable()
    project = project_of(cards_path, config_path)
    later: list[Callable[[], None]] = []  # the read cache's writes, done while packaging
    glossary = load_cards(project.cards_dir, project.cache_dir, later)
    echo_all(
        build_deck_quietly(glossary, project, out_path, title, site_url, locked, later=later)[1]
    )


Message = tuple[str, bool]  # a line for the user, and whether it goes to stderr


def echo_all(messages: list[Message]) -> None:
    for text, err in messages:
        click.echo(text, err=err)


def build_deck_quietly(
    glossary: Glossary,
    project: Project,
    out: Path | None,
    title: str | None,
    site_url: str | None,
    locked: bool = False,
    linker: Linker | None = None,
    later: list[Callable[[], None]] | None = None,
) -> tuple[Path, list[Message]]:
    """Build the deck; its path and the summary lines to print (`echo_all`): `deck` prints
    them at once, `site` once its child process has returned them. `later`: cache writes
    left to the build (`build_deck`'s `cache_writes`)."""
    from .deck import build_deck

    options = resolve_deck_options(project, title, site_url)
    report = build_deck(
        glossary,
        out or project.deck_file,
        ledger_path=project.ledger_path,
        options=options,
        locked=locked,
        cache_dir=project.cache_dir,
        linker=linker,
        cache_writes=later or (),
    )
    messages: list[Message] = []
    if report.namespace_changed_from is not None:
        messages.append((
            f"warning: the namespace changed from {report.namespace_changed_from!r} to "
            f"{options.ns!r}: every learner who imports this deck gets every note a second "
            f"time, without its review history; put the old namespace back in {PROJECT_FILE} "
            "unless this is meant to be a new deck",
            True,
        ))  # fmt: skip
    kept = report.retired_total - report.retired
    messages.append((
        f"wrote {display_path(report.out)}: {report.notes} notes, {report.cards} cards, "
        f"{report.subdecks} subdecks; since {display_path(report.ledger)}: {report.new} new, "
        f"{report.changed} changed, {report.unchanged} unchanged, {report.retired} retired"
        + (f" ({kept} retired earlier, kept)" if kept else "")
        + ("" if report.ledger_changed else "; ledger unchanged"),
        False,
    ))  # fmt: skip
    return report.out, messages


deck_file_option = path_option(
    "deck",
    None,
    f"The Anki deck the home page offers for download [default: {DIST_DIR}/<deck_file>].",
)


@main.command()
@cards_option
@config_option
@deck_file_option
@deck_options
@click.option(
    "--no-build",
    is_flag=True,
    help="Only generate the pages in docs/; do not run MkDocs.",
)
def site(
    cards_path: Path | None,
    config_path: Path | None,
    deck_path: Path | None,
    title: str | None,
    site_url: str | None,
    no_build: bool,
) -> None:
    """Build the deck, generate the glossary pages into docs/, build the site with mkdocs.

    The deck is built from the same cards in the same run (as `konspekt deck`
    does, reusing what an earlier build rendered) and the home page offers exactly
    that file, so the site and the deck never disagree. Generated pages go to
    docs/glossary/, docs/topics/, docs/index-az.md (and docs/index-az/ for a big
    glossary) and docs/assets/generated/
    (git-ignored); only files whose text changed are written. Any MkDocs warning
    fails the build.

    \b
    Examples:
      konspekt site                   the deck, docs/ from cards/, then site/
      konspekt site --no-build        only the Markdown, e.g. for `zensical build`
    """
    from .link import Linker
    from .pool import Beside, in_child
    from .site.build import build_html, build_site, history_of

    project = project_of(cards_path, config_path)
    glossary = load_cards(project.cards_dir, project.cache_dir)

    def generate() -> tuple[Path, list[Message]]:
        # One linker for the deck's masks and the pages' links.
        linker = Linker.for_glossary(glossary, project.cache_dir)

        def deck() -> tuple[Path, list[Message]]:
            return build_deck_quietly(glossary, project, deck_path, title, site_url, linker=linker)

        # The deck is built on the other core while the pages are made, a cold one too:
        # it renders its notes in that one process (it does not fork again), which kept
        # a cold `site` of 10,000 entries under 1 GB in all (937 MB measured). On any
        # machine with two cores, not only with a `spare_core`: the two are the same work
        # either way, and side by side they get no less of cores others share.
        beside = (os.cpu_count() or 1) >= 2
        with Beside(deck, fork=beside) as building:

            def history() -> History | None:
                building.result()  # what is not released yet is read from its ledger
                return history_of(project.cards_dir)

            result = build_site(
                glossary,
                project.config_file,
                lambda: building.result()[0],  # awaited when the home page needs its size
                cache_dir=project.cache_dir,
                history=history,
                build=False,
                project=project.settings,
                linker=linker,
            )
            messages = building.result()[1]
        entries, topics = len(glossary.entries), len(glossary.topics)
        summary = f"generated {entries} term pages, {topics} topic pages: "
        messages.append((summary + result.written.summary(), False))
        return result.site_dir, messages

    # The linker, the deck and the pages are the largest data of a build: made in a
    # child that exits before MkDocs starts, their memory is not held beside MkDocs's.
    # (What it prints comes back as text: a test's captured stdout is not the child's.)
    site_dir, messages = in_child(generate)
    echo_all(messages)
    if no_build:
        return
    build = build_html(project.config_file, site_dir, project.cache_dir)
    for warning in build.warnings:
        click.echo(warning, err=True)
    logging.getLogger(__name__).info("mkdocs output:\n%s", build.output.rstrip())
    click.echo(
        f"built {display_path(site_dir)} with mkdocs build --strict: "
        f"{count(len(build.warnings), 'warning')}"
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
def serve(
    cards_path: Path | None, config_path: Path | None, deck_path: Path | None, dev_addr: str | None
) -> None:
    """Preview the site with live reload; editing a card file regenerates the pages.

    \b
    Examples:
      konspekt serve                  http://127.0.0.1:8000/konspekt/
      konspekt serve -a 0.0.0.0:8080
    """
    from .site.build import serve as serve_site

    project = project_of(cards_path, config_path)
    logging.getLogger("mkdocs").setLevel(logging.INFO)
    serve_site(
        project.cards_dir,
        project.config_file,
        deck_path or project.deck_file,
        cache_dir=project.cache_dir,
        dev_addr=dev_addr,
    )


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
def link(cards_path: Path | None, page: str | None, explain: bool) -> None:
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

    glossary = load_cards(*cards_of(cards_path))
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
@path_option(
    "out", None, f"Folder for the PNGs and index.html [default: {DIST_DIR}/preview].", is_dir=True
)
@click.option(
    "--id", "entry_ids", multiple=True, help="Entry to show (repeatable); default: a few."
)
@deck_options
def preview(
    cards_path: Path | None,
    config_path: Path | None,
    out_path: Path | None,
    entry_ids: tuple[str, ...],
    title: str | None,
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
    out_path = out_path or project.root / DIST_DIR / "preview"
    glossary = load_cards(project.cards_dir, project.cache_dir)
    ledger, _ = read_ledger(project.ledger_path)
    shots = render_previews(
        glossary,
        ledger,
        out_path,
        entry_ids=entry_ids,
        options=resolve_deck_options(project, title, site_url),
    )
    click.echo(f"wrote {len(shots)} card previews; look at {display_path(out_path)}/index.html")


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
def changes(cards_path: Path | None, since: str | None, output_format: str) -> None:
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

    cards_path, cache_dir = cards_of(cards_path)
    glossary = load_cards(cards_path, cache_dir)
    result = changes_since(cards_path, glossary, since)
    click.echo(changes_json(result) if output_format == "json" else release_notes(result), nl=False)


@main.command()
@cards_option
@click.argument(
    "notes_files",
    metavar="FILE.md...",
    nargs=-1,
    required=True,
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
)
@click.option(
    "--draft",
    "draft_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    metavar="OUT.yaml",
    help="Write a draft topic file for the candidates here (never over an existing file).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="A line per paragraph, or JSON.",
)
def notes(
    cards_path: Path | None,
    notes_files: tuple[Path, ...],
    draft_path: Path | None,
    output_format: str,
) -> None:
    """Show what of your Markdown notes the cards cover, and the terms that are new.

    For each paragraph and list item: the entries that cover it (their `source`
    quotes it, or their terms occur in it, in any form) and the candidate terms no
    entry names (bold phrases, «X – это …» lines, Latin names, jargon), each once
    by its lemma. Entries whose `source` is no longer in the notes are reported
    with the closest passage. With --draft, the candidates become a topic file
    whose definitions are TODOs that `check` rejects until you write them.

    \b
    Examples:
      konspekt notes lecture-05.md
      konspekt notes lecture-05.md --draft cards/lecture-05.yaml
      konspekt notes *.md --format json
    """
    from .link import Linker
    from .study_notes import analyze, draft_yaml, read_notes, report_json, report_lines, write_draft

    glossary = load_cards(*cards_of(cards_path))
    linker = Linker.for_glossary(glossary)
    report = analyze(glossary, linker, [read_notes(path) for path in notes_files])
    if output_format == "json":
        click.echo(report_json(report), nl=False)
    else:
        for line in report_lines(report):
            click.echo(line)
    if draft_path is not None:
        if not report.candidates:
            click.echo(f"no candidates: {draft_path} not written", err=True)
            return
        names = ", ".join(path.name for path in notes_files)
        text = draft_yaml(glossary, report.candidates, draft_path.stem, names)
        write_draft(draft_path, text)
        drafted = count(len(report.candidates), "draft entry", "draft entries")
        click.echo(f"wrote {draft_path}: {drafted}", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
