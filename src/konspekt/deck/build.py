"""The Anki deck: one .apkg that real Anki imports, and re-imports, without losing anything.

What makes re-imports safe (each a mistake the usual tools make):

- A note's GUID is a hash of its entry id alone, so a reworded note is the same note.
- The note type, its fields and its templates have fixed ids and a frozen field list
  (`FIELDS`): Anki sees the same note type on every import instead of a conflicting copy.
- A note's modification time is the time its content last changed, from the ledger
  (`cards/anki.lock`): Anki's default "update if newer" then updates exactly the edited
  notes and leaves the learner's own edits of the others alone.
- Every id and time inside the package comes from the ledger or from stable names, and
  the zip is written with fixed entry times, so the same input gives the same bytes.

An entry removed from the cards keeps its note, tagged `<root>::retired` and moved to
its own subdeck in fresh imports, so the learner can find it and delete it.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import logging
import os
import re
import sqlite3
import tempfile
import time
import unicodedata
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import genanki
from pygments.formatters import HtmlFormatter

from ..errors import BuildError
from ..media import anki_name, image_paths, rewrite_images
from ..model import Entry, Glossary, Topic
from ..output import write_file
from ..render import (
    PYGMENTS_DARK,
    PYGMENTS_LIGHT,
    highlight,
    highlight_css,
    inline_html,
    markdown_html,
)
from ..site.config import read_mkdocs_yml
from .ledger import Ledger, NoteRecord, StampRecord, dumps_ledger, read_ledger

log = logging.getLogger(__name__)

DEFAULT_TITLE = "DevOps"
RETIRED_DECK = "Удалено из конспекта"
RETIRED_STATUS = (
    "Этого термина больше нет в конспекте. Карточки можно удалить: "
    "найдите их в браузере по тегу {tag}."
)


@dataclass(frozen=True)
class NoteField:
    name: str
    id: int  # fixed forever: Anki matches fields by id, so a field can be renamed later
    description: str  # shown in Anki's editor while the field is empty


# The note type's fields. Frozen: adding, removing or reordering a field makes Anki
# treat every existing note as "conflicting" and stop updating it. `Extra` is spare,
# always empty, so one more kind of content can be added by renaming it (ids match).
# tests/test_deck.py pins this list, so changing it is a deliberate act.
FIELDS: tuple[NoteField, ...] = (
    NoteField("Term", 1229761104, "Термин, как его ищут: «Под»"),
    NoteField("English", 1472832166, "Английское или исходное название: Pod"),
    NoteField("Aliases", 1212914196, "Другие названия и жаргон"),
    NoteField("Definition", 1724403081, "Определение, 1–3 предложения"),
    NoteField("Details", 1481002750, "Подробное объяснение"),
    NoteField("Examples", 1469408043, "Примеры; код подсвечен"),
    NoteField("Related", 1466899037, "Связанные термины"),
    NoteField("Source", 1240638953, "Исходная формулировка из конспекта"),
    NoteField("Link", 2070280699, "Адрес страницы термина на сайте"),
    NoteField("Topic", 2023398609, "Тема"),
    NoteField("Id", 1696231742, "Постоянный id записи в cards/*.yaml"),
    NoteField("Status", 1824894851, "Пусто; у удалённых из конспекта терминов — пояснение"),
    NoteField("Extra", 1512754917, "Запас на будущее, пока всегда пусто"),
)
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)


@dataclass(frozen=True)
class CardTemplate:
    name: str
    id: int
    front: str  # file in konspekt/deck/templates
    back: str


TEMPLATES: tuple[CardTemplate, ...] = (
    CardTemplate("Термин → определение", 1111148571, "term_front.html", "term_back.html"),
    CardTemplate(
        "Определение → термин", 1083959353, "definition_front.html", "definition_back.html"
    ),
)


@dataclass(frozen=True)
class DeckOptions:
    """How to build the deck. `namespace` is the notes' identity: it defaults to the
    title in lowercase; keep it when retitling a published deck, or every note is new."""

    title: str = DEFAULT_TITLE
    site_url: str | None = None
    namespace: str | None = None

    def __post_init__(self) -> None:
        if not self.title.strip() or "::" in self.title:
            raise BuildError(f"deck title {self.title!r} must be non-empty and contain no '::'")
        if not slug(self.ns):
            raise BuildError(f"deck namespace {self.ns!r} needs at least one letter or digit")
        if self.site_url is not None:
            object.__setattr__(self, "site_url", normalize_site_url(self.site_url))

    @property
    def ns(self) -> str:
        return self.namespace if self.namespace is not None else self.title

    @property
    def tag_root(self) -> str:
        return slug(self.ns)

    @property
    def retired_tag(self) -> str:
        return f"{self.tag_root}::retired"


@dataclass(frozen=True)
class DeckReport:
    """What a build produced and how the notes compare with the ledger."""

    out: Path
    ledger: Path
    notes: int
    cards: int
    subdecks: int
    new: int
    changed: int
    unchanged: int
    # new + changed + unchanged + retired == notes; a note retired by an earlier build
    # counts as unchanged (or changed) and in retired_total.
    retired: int  # entries that left the cards in this build
    retired_total: int  # retired notes in the package, including earlier ones
    retired_ids: tuple[str, ...]
    ledger_changed: bool
    rendered: int = 0  # notes rendered anew; the rest came from the field cache


@dataclass(frozen=True)
class PlannedNote:
    entry_id: str
    guid: str
    note_id: int
    mtime: int
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    topic: str | None  # None: retired, goes to the retired subdeck
    due: int


@dataclass(frozen=True)
class DeckPlan:
    """Everything the package holds, decided before anything is written."""

    options: DeckOptions
    topics: tuple[Topic, ...]
    notes: tuple[PlannedNote, ...]
    notetype_mtime: int
    ledger: Ledger
    new: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]
    retired: tuple[str, ...]  # ids retired by this build
    retired_total: int
    subdeck_names: tuple[str, ...]
    media: tuple[tuple[str, bytes], ...] = ()  # (name in Anki, bytes), sorted
    rendered: int = 0  # notes rendered by this build; the others came from the field cache


# --- the field cache: what an earlier build rendered, by note hash ---------------------
#
# Rendering Markdown and highlighting code is most of a deck build, and an edit touches
# few notes. The note hash covers everything a note is made from but not the versions
# of the renderers, so those key the whole cache. It lives beside the output, hidden,
# and is never needed: a missing or unreadable cache only means rendering everything.


def _renderer_versions() -> str:
    from importlib.metadata import version

    names = ("Markdown", "Pygments", "nh3", "konspekt")
    return ";".join(f"{name}={version(name)}" for name in names) + f";format={NOTE_FORMAT}"


def read_field_cache(path: Path) -> dict[str, tuple[str, ...]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("renderers") != _renderer_versions():
            return {}
        return {digest: tuple(fields) for digest, fields in data["notes"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def write_field_cache(path: Path, rendered: Mapping[str, tuple[str, ...]]) -> None:
    data = {"renderers": _renderer_versions(), "notes": dict(sorted(rendered.items()))}
    try:
        write_file(path, json.dumps(data, ensure_ascii=False).encode("utf-8"))
    except BuildError as error:  # a cache: the deck is already written
        log.warning("could not save the field cache: %s", error)


# --- public entry points ---------------------------------------------------------------


def build_deck(
    glossary: Glossary,
    out: Path,
    *,
    ledger_path: Path,
    options: DeckOptions | None = None,
    now: int | None = None,
    locked: bool = False,
) -> DeckReport:
    """Write the .apkg to `out` and update the ledger; both writes are atomic.

    With `locked`, a ledger that would change is an error and nothing is written.
    """
    options = options or DeckOptions()
    ledger, old_text = read_ledger(ledger_path)
    cache_path = out.with_name(f".{out.name}.fields.json")
    rendered = read_field_cache(cache_path)
    plan = plan_deck(glossary, ledger, options, build_time() if now is None else now, rendered)
    new_text = dumps_ledger(plan.ledger)
    ledger_changed = new_text != old_text
    if locked and ledger_changed:
        raise BuildError(stale_message(ledger_path))
    for entry_id in plan.retired:
        log.warning(
            "entry '%s' is no longer in the cards: its note stays in the deck, tagged %s",
            entry_id,
            options.retired_tag,
        )
    write_file(out, package_bytes(plan))
    if ledger_changed:
        write_file(ledger_path, new_text.encode("utf-8"))
    write_field_cache(cache_path, rendered)
    log.info("rendered %d notes, reused %d", plan.rendered, len(plan.notes) - plan.rendered)
    return DeckReport(
        out=out,
        ledger=ledger_path,
        notes=len(plan.notes),
        cards=len(plan.notes) * len(TEMPLATES),
        subdecks=len(plan.subdeck_names),
        new=len(plan.new),
        changed=len(plan.changed),
        unchanged=len(plan.unchanged),
        retired=len(plan.retired),
        retired_total=plan.retired_total,
        retired_ids=plan.retired,
        ledger_changed=ledger_changed,
        rendered=plan.rendered,
    )


def ledger_is_current(glossary: Glossary, ledger_path: Path, options: DeckOptions) -> bool:
    """Whether building would leave the ledger exactly as it is (nothing is written)."""
    ledger, text = read_ledger(ledger_path)
    return dumps_ledger(plan_deck(glossary, ledger, options, build_time()).ledger) == text


def stale_message(ledger_path: Path) -> str:
    return f"{ledger_path} is stale: run `make deck` (python build.py deck) and commit it"


def build_time() -> int:
    """Now, or SOURCE_DATE_EPOCH when set (reproducible builds)."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return int(time.time())
    try:
        return int(value)
    except ValueError:
        raise BuildError(f"SOURCE_DATE_EPOCH={value!r} is not a Unix time in seconds") from None


def site_url_from_mkdocs(path: Path) -> str | None:
    """The `site_url:` of an mkdocs.yml, or None if there is no file or no value."""
    try:
        value = read_mkdocs_yml(path).get("site_url")
    except FileNotFoundError:
        return None
    return normalize_site_url(str(value)) if value else None


def normalize_site_url(url: str) -> str:
    """An http(s) base URL ending in '/'; it becomes part of each note's link."""
    if not re.fullmatch(r"https?://[^\s\"'<>`\\]+", url):
        raise BuildError(f"site URL {url!r} must be an http(s) URL such as https://example.org/")
    return url if url.endswith("/") else url + "/"


# --- identity --------------------------------------------------------------------------


def slug(text: str) -> str:
    """Lowercase words joined by '-', for tags: 'DevOps' → 'devops'."""
    words = re.findall(r"\w+", unicodedata.normalize("NFC", text).lower())
    return "-".join(words).replace("_", "-")


def stable_id(*parts: str) -> int:
    """A positive id from stable names, in genanki's recommended range [2^30, 2^31)."""
    digest = hashlib.sha256("\x1f".join(("konspekt", *parts)).encode("utf-8")).digest()
    return (1 << 30) + int.from_bytes(digest[:8], "big") % (1 << 30)


def note_guid(namespace: str, entry_id: str) -> str:
    """The note's identity: the entry id within the deck namespace, never its content."""
    key = unicodedata.normalize("NFC", f"{slug(namespace)}/{entry_id}")
    return genanki.guid_for("konspekt", key)


def notetype_id(options: DeckOptions) -> int:
    return stable_id(options.tag_root, "notetype", "term")


def deck_id(options: DeckOptions, key: str | None = None) -> int:
    """Root deck for key None; a topic's subdeck for its topic id; "@retired" for retired."""
    return stable_id(options.tag_root, "deck", *(() if key is None else (key,)))


# --- note content ----------------------------------------------------------------------


def entry_record(
    entry: Entry, topic: Topic, media_hashes: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """An entry's note-relevant content as JSON values: what the ledger keeps."""
    data: dict[str, Any] = {
        "topic": topic.topic,
        "topic_title": topic.title,
        "term": entry.term,
        "en": entry.en,
        "aliases": list(entry.aliases),
        "definition": to_anki(entry.definition),
        "details": to_anki(entry.details) if entry.details else None,
        "examples": [
            {"code": ex.code, "lang": ex.lang} if ex.is_code else {"text": to_anki(ex.text)}
            for ex in entry.examples
        ],
        "related": list(entry.related),
        "source": entry.source,
        "tags": list(entry.tags),
        # An image's bytes are part of the note: a new picture must update it in Anki.
        "media": {
            anki_name(path): (media_hashes or {}).get(path, "")
            for text in (entry.definition, entry.details or "", *(e.text for e in entry.examples))
            for path in image_paths(text)
        },
    }
    return {key: value for key, value in data.items() if value not in (None, [], {})}


def to_anki(text: str) -> str:
    """Card Markdown with image paths renamed to the deck's flat media names."""
    return rewrite_images(text, anki_name)


def note_fields(
    entry_id: str,
    record: Mapping[str, Any],
    *,
    terms: Mapping[str, str],
    options: DeckOptions,
    retired: bool = False,
) -> tuple[str, ...]:
    """The note's field values, in FIELDS order, as safe HTML.

    Text meant as plain text (names, the verbatim source) is escaped; Markdown goes
    through konspekt.render, which escapes raw HTML. `terms` resolves related ids.
    """
    esc = html.escape
    related = [terms.get(target, target) for target in record.get("related", ())]
    # A name that only repeats one shown above it adds nothing to the card.
    term = record["term"]
    english = record.get("en") or ""
    if english.casefold() == term.casefold():
        english = ""
    shown = {term.casefold(), english.casefold()}
    aliases = [alias for alias in record.get("aliases", ()) if alias.casefold() not in shown]
    values = {
        "Term": esc(term),
        "English": esc(english),
        "Aliases": esc(", ".join(aliases)),
        "Definition": inline_html(record["definition"]),
        "Details": markdown_html(record["details"]) if record.get("details") else "",
        "Examples": "".join(_example_html(example) for example in record.get("examples", ())),
        "Related": " ".join(f'<span class="kk-rel">{esc(term)}</span>' for term in related),
        "Source": esc(record.get("source") or "").replace("\n", "<br>"),
        # A retired entry has no page on the site any more.
        "Link": esc(f"{options.site_url}glossary/{entry_id}/")
        if options.site_url and not retired
        else "",
        "Topic": esc(record["topic_title"]),
        "Id": esc(entry_id),
        "Status": esc(RETIRED_STATUS.format(tag=options.retired_tag)) if retired else "",
        "Extra": "",
    }
    return tuple(unicodedata.normalize("NFC", values[name]) for name in FIELD_NAMES)


def note_tags(record: Mapping[str, Any], options: DeckOptions, *, retired: bool) -> tuple[str, ...]:
    """Hierarchical tags: devops::kubernetes, devops::kubernetes::basics, devops::retired."""
    topic = f"{options.tag_root}::{record['topic']}"
    tags = [topic, *(f"{topic}::{tag}" for tag in record.get("tags", ()))]
    if retired:
        tags.append(options.retired_tag)
    return tuple(sorted(set(tags)))


def _example_html(example: Mapping[str, str]) -> str:
    # tex2jax_ignore/mathjax_ignore: Anki runs MathJax over cards, and code such as
    # grep '\(a\)' must not turn into formulas.
    if "code" in example:
        code = highlight(example["code"], example.get("lang", "text"))
        return f'<div class="kk-example tex2jax_ignore mathjax_ignore">{code}</div>'
    return f'<div class="kk-example kk-example-text">{inline_html(example["text"])}</div>'


# The ledger hashes what a note is made from, not the HTML it is rendered to, so a new
# Pygments, Markdown or nh3 release does not make the committed ledger stale. Bump this
# when note_fields() or note_tags() change what notes show: every note then counts as
# changed, and learners get the new rendering on their next import.
NOTE_FORMAT = 1


def note_hash(
    entry_id: str,
    record: Mapping[str, Any],
    *,
    terms: Mapping[str, str],
    options: DeckOptions,
    retired: bool,
) -> str:
    """A hash of everything the note's fields and tags are made from."""
    return _digest(
        {
            "format": NOTE_FORMAT,
            "id": entry_id,
            "entry": record,
            "related": [terms.get(target, target) for target in record.get("related", ())],
            "site_url": options.site_url,
            "tag_root": options.tag_root,
            "retired": retired,
        }
    )


def _digest(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


# --- planning --------------------------------------------------------------------------


def plan_deck(
    glossary: Glossary,
    ledger: Ledger,
    options: DeckOptions,
    now: int,
    rendered: dict[str, tuple[str, ...]] | None = None,
) -> DeckPlan:
    """Decide every note, its time and id, and the next ledger; write nothing.

    `rendered` maps note hashes to fields rendered by an earlier build: a note whose
    hash is there is not rendered again. It is updated to hold exactly this deck's notes.
    """
    cache = {} if rendered is None else rendered
    previous_render = dict(cache)
    cache.clear()
    fresh = 0
    # Every note, in reading order (topics, then entries as written), then the retired
    # ones: entries the ledger knows that left the cards; their topic is None.
    media = {path: file.read_bytes() for path, file in sorted(glossary.media.items())}
    hashes = {path: hashlib.sha256(data).hexdigest() for path, data in media.items()}
    sources: list[tuple[str, Mapping[str, Any], str | None]] = [
        (entry.id, entry_record(entry, topic, hashes), topic.topic)
        for topic in glossary.topics
        for entry in topic.entries
    ]
    sources += [
        (entry_id, record.entry, None)
        for entry_id, record in ledger.notes.items()
        if entry_id not in glossary.by_id
    ]
    # Related entries that left the cards still show their last term.
    terms = {entry_id: str(record.get("term", entry_id)) for entry_id, record, _ in sources}

    records: dict[str, NoteRecord] = {}
    kinds: dict[str, list[str]] = {"new": [], "changed": [], "unchanged": [], "retired": []}
    contents: list[tuple[str, tuple[str, ...], tuple[str, ...], str | None]] = []
    for entry_id, record, topic in sources:
        retired = topic is None
        digest = note_hash(entry_id, record, terms=terms, options=options, retired=retired)
        try:
            fields = previous_render.get(digest) or ()
            if not fields:
                fields = note_fields(
                    entry_id, record, terms=terms, options=options, retired=retired
                )
                fresh += 1
            tags = note_tags(record, options, retired=retired)
        except (KeyError, TypeError, AttributeError) as error:  # only a hand-edited ledger
            raise BuildError(
                f"the ledger's record of retired entry '{entry_id}' is incomplete ({error!r})"
            ) from error
        cache[digest] = fields
        previous = ledger.notes.get(entry_id)
        if previous is None:
            kind, added, changed = "new", now, now
        elif previous.hash == digest:
            kind, added, changed = "unchanged", previous.added, previous.changed
        else:
            kind, added, changed = "changed", previous.added, _later(now, previous.changed)
        retired_at = None
        if retired and previous is not None:  # retired entries always come from the ledger
            if previous.retired is None:
                kind = "retired"
            retired_at = now if previous.retired is None else previous.retired
        kinds[kind].append(entry_id)
        records[entry_id] = NoteRecord(digest, added, changed, record, retired_at)
        contents.append((entry_id, fields, tags, topic))

    stamp = _notetype_stamp(options, ledger.notetype, now)
    note_ids = dict(_note_ids(records))
    notes = tuple(
        PlannedNote(
            entry_id=entry_id,
            guid=note_guid(options.ns, entry_id),
            note_id=note_ids[entry_id],
            mtime=records[entry_id].changed,
            fields=fields,
            tags=tags,
            topic=topic,
            due=due,
        )
        for due, (entry_id, fields, tags, topic) in enumerate(contents, start=1)
    )
    retired_total = sum(1 for note in notes if note.topic is None)
    subdecks = tuple(_subdeck_name(options, topic) for topic in glossary.topics)
    if retired_total:
        subdecks += (f"{options.title}::{RETIRED_DECK}",)
    return DeckPlan(
        options=options,
        topics=glossary.topics,
        notes=notes,
        notetype_mtime=stamp.changed,
        ledger=Ledger(MappingProxyType(dict(sorted(records.items()))), stamp),
        new=tuple(kinds["new"]),
        changed=tuple(kinds["changed"]),
        unchanged=tuple(kinds["unchanged"]),
        retired=tuple(kinds["retired"]),
        retired_total=retired_total,
        subdeck_names=subdecks,
        media=tuple((anki_name(path), data) for path, data in media.items()),
        rendered=fresh,
    )


def _later(now: int, previous: int) -> int:
    # A change must look newer than what learners already imported, even if the clock
    # (or a fixed SOURCE_DATE_EPOCH) says otherwise; Anki compares whole seconds.
    return max(now, previous + 1)


def _note_ids(records: Mapping[str, NoteRecord]) -> Iterator[tuple[str, int]]:
    """Note ids in Anki's style (milliseconds of creation), derived from the ledger.

    Anki shows a note's id as its creation date and matches imports by GUID, so ids
    only need to be plausible, unique and stable; a note's cards get id and id + 1.
    """
    last = 0
    for entry_id, record in sorted(records.items(), key=lambda item: (item[1].added, item[0])):
        last = max(record.added * 1000, last + len(TEMPLATES))
        yield entry_id, last


def _subdeck_name(options: DeckOptions, topic: Topic) -> str:
    # '::' separates deck levels in Anki; a topic title must stay one level.
    return f"{options.title}::{topic.title.replace('::', ':')}"


def _notetype_stamp(options: DeckOptions, previous: StampRecord | None, now: int) -> StampRecord:
    spec = _notetype_json(options)
    # Our CSS and the Pygments style names, not the rules Pygments generates (see NOTE_FORMAT).
    spec["css"] = [_template_text("card.css"), PYGMENTS_LIGHT, PYGMENTS_DARK]
    digest = _digest(spec)
    if previous is not None and previous.hash == digest:
        return previous
    return StampRecord(digest, now if previous is None else _later(now, previous.changed))


# --- note type -------------------------------------------------------------------------


@cache
def _template_text(name: str) -> str:
    return resources.files("konspekt.deck").joinpath("templates", name).read_text(encoding="utf-8")


def card_css() -> str:
    """The note type's CSS: card styles, then Pygments for light and both night classes."""
    night_mode_droid = HtmlFormatter(style=PYGMENTS_DARK).get_style_defs(".night_mode .highlight")
    return f"{_template_text('card.css')}\n{highlight_css()}{night_mode_droid}\n"


def _notetype_json(options: DeckOptions) -> dict[str, Any]:
    more = _template_text("more.html")
    return {
        "name": f"{options.title} · термин (konspekt)",
        "fields": [
            {"name": f.name, "id": f.id, "description": f.description, "font": "Arial", "size": 20}
            for f in FIELDS
        ],
        "templates": [
            {
                "name": t.name,
                "id": t.id,
                "qfmt": _template_text(t.front),
                "afmt": _template_text(t.back).replace("<!-- more -->", more),
            }
            for t in TEMPLATES
        ],
        "css": card_css(),
    }


class _Model(genanki.Model):  # type: ignore[misc]
    """genanki's Model with a fixed modification time instead of the build's."""

    def __init__(self, mtime: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._mtime = mtime

    def to_json(self, timestamp: float, deck_id: int) -> dict[str, Any]:
        data: dict[str, Any] = super().to_json(timestamp, deck_id)
        data["mod"] = self._mtime
        return data


class _Note(genanki.Note):  # type: ignore[misc]
    """genanki's Note with ledger-given ids and time; genanki would use the clock."""

    def __init__(self, planned: PlannedNote, model: genanki.Model) -> None:
        super().__init__(
            model=model,
            fields=list(planned.fields),
            tags=list(planned.tags),
            guid=planned.guid,
            due=planned.due,
        )
        self._planned = planned

    def write_to_db(self, cursor: Any, timestamp: float, deck_id: int, id_gen: Any) -> None:
        # genanki takes the note id, then one id per card, from `id_gen`, and uses
        # `timestamp` as every modification time.
        first = self._planned.note_id
        ids = iter([first, *range(first, first + len(TEMPLATES))])
        super().write_to_db(cursor, self._planned.mtime, deck_id, ids)


def _notetype(plan: DeckPlan) -> genanki.Model:
    spec = _notetype_json(plan.options)
    return _Model(
        plan.notetype_mtime,
        model_id=notetype_id(plan.options),
        name=spec["name"],
        fields=spec["fields"],
        templates=spec["templates"],
        css=spec["css"],
        sort_field_index=0,
    )


# --- package ---------------------------------------------------------------------------

ROOT_DESCRIPTION = (
    "Термины из конспекта. Новую версию колоды импортируйте поверх этой: изменённые "
    "карточки обновятся, прогресс и ваши правки остальных карточек сохранятся."
)
# Zip entry times are fixed: the package's bytes depend only on its content.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def package_bytes(plan: DeckPlan) -> bytes:
    """The .apkg: genanki's collection with fixed ids and times, in a reproducible zip."""
    options = plan.options
    model = _notetype(plan)
    root = genanki.Deck(deck_id(options), options.title, ROOT_DESCRIPTION)
    decks: dict[str | None, genanki.Deck] = {}
    for topic in plan.topics:
        description = markdown_html(topic.description) if topic.description else ""
        decks[topic.topic] = genanki.Deck(
            deck_id(options, topic.topic), _subdeck_name(options, topic), description
        )
    if plan.retired_total:
        decks[None] = genanki.Deck(
            deck_id(options, "@retired"),
            f"{options.title}::{RETIRED_DECK}",
            "Термины, которых больше нет в конспекте: эти карточки можно удалить.",
        )
    for planned in plan.notes:
        decks[planned.topic].add_note(_Note(planned, model))

    with tempfile.TemporaryDirectory(prefix="konspekt-deck-") as tmp:
        db_path = Path(tmp) / "collection.anki2"
        connection = sqlite3.connect(db_path)
        try:
            unused_ids = iter(())  # every note brings its own ids
            genanki.Package([root, *decks.values()]).write_to_db(
                connection.cursor(), plan.notetype_mtime, unused_ids
            )
            connection.commit()
        except sqlite3.Error as error:
            raise BuildError(f"cannot write the deck's collection: {error}") from error
        finally:
            connection.close()
        collection = db_path.read_bytes()

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        # An .apkg stores media files as "0", "1", … and maps them to names in "media".
        members = {"collection.anki2": collection}
        names = {}
        for index, (name, data) in enumerate(plan.media):
            members[str(index)] = data
            names[str(index)] = name
        members["media"] = json.dumps(names, sort_keys=True).encode("utf-8")
        for name, data in sorted(members.items()):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, whatever the building system
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()
