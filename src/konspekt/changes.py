"""What a release changes for learners: terms new, changed, retired and restored since a git ref.

The past comes from the deck ledger (`<cards>/anki.lock`) committed at the ref: it records,
per entry, the entry's content as the deck saw it and whether it was retired. The present
comes from the cards in the working tree, turned into the same records the deck writes, so
a ledger that is not rebuilt yet does not hide an edit. Files at a ref are read with
`git show REF:./path` from the cards folder; nothing here prints or writes.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .deck.ledger import LEDGER_NAME, loads_ledger
from .deck.notes import media_hashes, note_sources
from .errors import KonspektError
from .model import Glossary
from .ru import sort_key
from .site.pages import md_text

# Ledger record keys as learners read them, in the order a card shows them.
FIELD_LABELS: Mapping[str, str] = {
    "term": "термин",
    "en": "английское название",
    "aliases": "другие названия",
    "topic": "тема",
    "topic_title": "тема",
    "definition": "определение",
    "details": "подробности",
    "examples": "примеры",
    "media": "изображения",
    "related": "связанные термины",
    "source": "формулировка из конспекта",
    "tags": "теги",
}
# The card's question is the definition (or clue) with the names masked: derived, so a
# change shows as the definition's, not as a change of its own.
DERIVED = frozenset({"question", "question_topic"})
VERSION_TAGS = "v*"


class GitError(KonspektError):
    """git could not answer: not a checkout, no git, or an unknown ref."""


class LedgerAtRefError(KonspektError):
    """The ledger committed at a ref cannot be read."""


@dataclass(frozen=True)
class Snapshot:
    """The deck's terms at one point: active entries' records, and every id ever known."""

    active: Mapping[str, Mapping[str, Any]]
    known: frozenset[str]


@dataclass(frozen=True)
class TermChange:
    id: str
    term: str
    fields: tuple[str, ...] = ()  # record keys that differ; only for changed terms


@dataclass(frozen=True)
class Changes:
    """From `since` (a ref; None is the beginning) to `until` (a ref; None is the cards now)."""

    since: str | None
    until: str | None
    new: tuple[TermChange, ...]
    changed: tuple[TermChange, ...]
    retired: tuple[TermChange, ...]
    restored: tuple[TermChange, ...]

    @property
    def empty(self) -> bool:
        return not (self.new or self.changed or self.retired or self.restored)

    def as_json(self) -> dict[str, Any]:
        def terms(items: tuple[TermChange, ...], fields: bool = False) -> list[dict[str, Any]]:
            return [
                {"id": c.id, "term": c.term, **({"fields": list(c.fields)} if fields else {})}
                for c in items
            ]

        return {
            "since": self.since,
            "until": self.until,
            "new": terms(self.new),
            "changed": terms(self.changed, fields=True),
            "retired": terms(self.retired),
            "restored": terms(self.restored),
        }


@dataclass(frozen=True)
class Release:
    tag: str
    date: str  # YYYY-MM-DD of the tagged commit
    changes: Changes


@dataclass(frozen=True)
class History:
    """Every version tag reachable from HEAD, newest first, and what is not released yet."""

    releases: tuple[Release, ...]
    unreleased: Changes


# --- git ---


def _git(cards_dir: Path, *args: str) -> str:
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=cards_dir,
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed (the history of the cards is in git)") from None
    except NotADirectoryError:
        raise GitError(f"{cards_dir}: not a folder") from None
    if result.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def require_checkout(cards_dir: Path) -> None:
    """GitError unless `cards_dir` is inside a git work tree."""
    if not cards_dir.is_dir():
        raise GitError(f"{cards_dir}: no such folder")
    try:
        _git(cards_dir, "rev-parse", "--is-inside-work-tree")
    except GitError:
        raise GitError(
            f"{cards_dir} is not in a git checkout (the history of the cards is in git; "
            "clone the repository instead of downloading an archive)"
        ) from None


def version_tags(cards_dir: Path) -> tuple[str, ...]:
    """Version tags reachable from HEAD, newest version first (none before a first commit)."""
    try:
        _git(cards_dir, "rev-parse", "--verify", "--quiet", "HEAD")
    except GitError:
        return ()
    out = _git(cards_dir, "tag", "--list", VERSION_TAGS, "--merged", "HEAD", "--sort=-v:refname")
    return tuple(out.split())


def last_release(cards_dir: Path) -> str | None:
    """The newest version tag before what the cards hold now, or None: the default `--since`.

    On a tagged commit whose cards are unedited (the release job) that is the tag before
    it, so the notes are those of the tagged release; with edits, the tag itself.
    """
    tags = version_tags(cards_dir)
    if not tags:
        return None
    head = _git(cards_dir, "rev-parse", "HEAD").strip()
    edited = _git(cards_dir, "status", "--porcelain", "--", ".").strip() != ""
    for tag in tags:
        if edited or _git(cards_dir, "rev-list", "-n", "1", tag).strip() != head:
            return tag
    return None


def snapshot_at(cards_dir: Path, ref: str) -> Snapshot:
    """The ledger committed at `ref`; an empty snapshot if the ref has no ledger yet."""
    try:
        _git(cards_dir, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GitError:
        raise GitError(
            f"unknown git ref '{ref}' (a tag, branch or commit; see `git tag`)"
        ) from None
    try:
        text = _git(cards_dir, "show", f"{ref}:./{LEDGER_NAME}")
    except GitError:
        return Snapshot({}, frozenset())
    return _snapshot(text, f"{ref}:{LEDGER_NAME}")


def snapshot_of_ledger(cards_dir: Path) -> Snapshot:
    """The ledger in the working tree, as the last deck build wrote it; empty if none."""
    path = cards_dir / LEDGER_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Snapshot({}, frozenset())
    except OSError as error:
        raise LedgerAtRefError(f"{path}: cannot read: {error.strerror}") from None
    return _snapshot(text, str(path))


def _snapshot(text: str, where: str) -> Snapshot:
    try:
        ledger = loads_ledger(text)
    except (ValueError, KeyError, TypeError) as error:
        raise LedgerAtRefError(f"{where}: the deck ledger is damaged ({error})") from None
    active = {
        i: record.entry.to_json() for i, record in ledger.notes.items() if record.retired is None
    }
    return Snapshot(active, frozenset(ledger.notes))


def snapshot_now(glossary: Glossary) -> Snapshot:
    """The cards as the deck records them (deck.notes, with the images' hashes)."""
    from .link import Linker

    media = {path: file.read_bytes() for path, file in glossary.media.items()}
    sources = note_sources(glossary, media_hashes(media), Linker.for_glossary(glossary))
    active = {entry_id: source.to_json() for entry_id, source in sources.items()}
    return Snapshot(active, frozenset(active))


# --- comparing ---


def compare(before: Snapshot, after: Snapshot, since: str | None, until: str | None) -> Changes:
    new: list[TermChange] = []
    changed: list[TermChange] = []
    restored: list[TermChange] = []
    for entry_id, record in after.active.items():
        term = str(record.get("term", entry_id))
        old = before.active.get(entry_id)
        if old is None:
            target = restored if entry_id in before.known else new
            target.append(TermChange(entry_id, term))
            continue
        fields = tuple(k for k in FIELD_LABELS if old.get(k) != record.get(k))
        fields += tuple(
            sorted(
                k
                for k in {*old, *record} - {*FIELD_LABELS} - DERIVED
                if old.get(k) != record.get(k)
            )
        )
        if fields:
            changed.append(TermChange(entry_id, term, fields))
    retired = [
        TermChange(entry_id, str(record.get("term", entry_id)))
        for entry_id, record in before.active.items()
        if entry_id not in after.active
    ]

    def ordered(items: list[TermChange]) -> tuple[TermChange, ...]:
        return tuple(sorted(items, key=lambda c: (sort_key(c.term), c.id)))

    return Changes(
        since, until, ordered(new), ordered(changed), ordered(retired), ordered(restored)
    )


def changes_since(cards_dir: Path, glossary: Glossary, since: str | None = None) -> Changes:
    """What the cards now change since `since` (default: the last release; none: everything)."""
    require_checkout(cards_dir)
    ref = since if since is not None else last_release(cards_dir)
    before = Snapshot({}, frozenset()) if ref is None else snapshot_at(cards_dir, ref)
    return compare(before, snapshot_now(glossary), ref, None)


def release_history(cards_dir: Path) -> History:
    """Each release against the one before it, newest first; GitError outside a checkout.

    What is not released yet comes from the working tree's ledger, not the cards: the site
    is built after the deck, so the ledger is current, and reading it costs no rendering.
    """
    require_checkout(cards_dir)
    tags = version_tags(cards_dir)
    snapshots = [snapshot_at(cards_dir, tag) for tag in tags]
    releases = []
    for index, tag in enumerate(tags):
        older = index + 1 < len(tags)
        before = snapshots[index + 1] if older else Snapshot({}, frozenset())
        changes = compare(before, snapshots[index], tags[index + 1] if older else None, tag)
        date = _git(cards_dir, "log", "-1", "--format=%cs", f"{tag}^{{commit}}").strip()
        releases.append(Release(tag, date, changes))
    latest = snapshots[0] if snapshots else Snapshot({}, frozenset())
    unreleased = compare(latest, snapshot_of_ledger(cards_dir), tags[0] if tags else None, None)
    return History(tuple(releases), unreleased)


# --- Markdown ---


def field_labels(fields: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(FIELD_LABELS.get(f, f) for f in fields))


def changes_markdown(
    changes: Changes, *, level: int = 3, link: Callable[[str, str], str] | None = None
) -> str:
    """The changes as Markdown sections at heading `level`; `link(id, label)` links a term."""

    def name(item: TermChange, linked: bool = True) -> str:
        label = md_text(item.term)
        return link(item.id, label) if link is not None and linked else label

    hashes = "#" * level
    out: list[str] = []
    if changes.new:
        out += [f"{hashes} Новые термины ({len(changes.new)})", ""]
        out += [f"- {name(c)}" for c in changes.new] + [""]
    if changes.changed:
        out += [f"{hashes} Изменённые термины ({len(changes.changed)})", ""]
        out += [f"- {name(c)}: {', '.join(field_labels(c.fields))}" for c in changes.changed]
        out += [""]
    if changes.restored:
        out += [f"{hashes} Возвращённые термины ({len(changes.restored)})", ""]
        out += [f"- {name(c)}" for c in changes.restored] + [""]
    if changes.retired:
        out += [f"{hashes} Убранные термины ({len(changes.retired)})", ""]
        out += [
            "Из колоды Anki они не удаляются: при импорте карточки получают тег `retired`.",
            "",
        ]
        out += [f"- {name(c, linked=False)}" for c in changes.retired] + [""]
    if not out:
        since = f"с {md_text(changes.since)}" if changes.since else "с начала истории"
        out = [f"Термины не изменились {since}.", ""]
    return "\n".join(out).rstrip() + "\n"


def release_notes(changes: Changes) -> str:
    """Release notes for learners: a heading line, then the sections."""
    since = f"с {md_text(changes.since)}" if changes.since else "с начала истории"
    return f"## Что нового в карточках {since}\n\n" + changes_markdown(changes)


def changes_json(changes: Changes) -> str:
    return json.dumps(changes.as_json(), ensure_ascii=False, indent=2) + "\n"
