"""The reference site's pages as pure functions: Glossary → {path: Markdown}.

Every page is plain Markdown that mkdocs-material and pymdown-extensions render
without any plugin of ours, so the same docs/ builds with MkDocs and Zensical.
Card text goes through `link` (escaped, cross-linked) and stays Markdown. What this
module writes itself around it (the meta line, related terms, backlinks, the index's
lists) is raw HTML blocks: Python-Markdown passes those through without its inline
patterns, which cost most of a build on pages of hundreds of links. Names in that HTML
go through `html_text`/`html_attr`; its links are the final relative URLs MkDocs would
write, and since MkDocs does not check links in raw HTML, `Links` checks every one
against the pages and anchors generated here. Output depends only on the glossary, in
its order, so the same cards give the same bytes.

Paths are relative to docs/:

    glossary/<id>.md              one page per term (not in the nav)
    topics/<topic>.md             one page per topic, in reading order
    index-az.md                   the alphabetical index; above INDEX_SPLIT names, a hub
                                  linking to one page per letter:
    index-az/<letter>.md          the names under one letter (`letter_anchor`: ru-a.md),
                                  out of the nav and of search
    changes.md                    «Что нового»: the terms each release changed
    assets/generated/site.yml     the nav and the project's site settings (konspekt.yml),
                                  inherited by mkdocs.yml
    assets/generated/home-*.md    snippets the hand-written docs/index.md includes
    assets/generated/pygments.css the code colours shared with the deck
"""

from __future__ import annotations

import html
import json
import re
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import cached_property, partial
from typing import TYPE_CHECKING

import nh3
import yaml

from ..errors import SiteLinkError
from ..link import Linker, Mention
from ..markdown_safe import Document, Kind, References, link_title, safe_markdown, scan
from ..media import rewrite_images
from ..model import Entry, Glossary
from ..projectfile import DEFAULT_DECK_FILE, ProjectFile
from ..render import highlight_css, inline_html, plain_inline
from ..ru import YO_POLICY, index_letter, russian, same_name, shown_aliases, sort_key, words
from .pagecache import (
    GenerationCache,
    LinkRecorder,
    PageRow,
    TextRow,
    bytes_digest,
    digest,
    entry_reads,
    short_digest,
)

if TYPE_CHECKING:
    from ..changes import History

GLOSSARY_DIR = "glossary"
TOPICS_DIR = "topics"
INDEX_PAGE = "index-az.md"
INDEX_DIR = "index-az"  # the index's letter pages, when it is split
# Above this many names (terms, aliases, English names) the index is one page per letter.
# A line is a link with a tooltip (at most 200 characters, mostly Cyrillic: two bytes
# each): 300-400 bytes of HTML (300 in the synthetic corpus, 380 in the DevOps cards),
# so one page stays under ~1 MB, about what a phone on a slow link loads and lays out
# without a long stall. At 5,000 synthetic entries (16,000 names) the one page was
# 4.7 MB; split, its biggest letter (П) is 0.5 MB, and an edit changes only the letters
# showing the entry, not one page MkDocs renders again on every definition changed.
INDEX_SPLIT = 2500
CHANGES_PAGE = "changes.md"
GENERATED_DIR = "assets/generated"
DOWNLOADS_DIR = "downloads"
MEDIA_DIR = "cards-media"  # images from the cards folder, at their paths there
SITE_CONFIG_FILE = f"{GENERATED_DIR}/site.yml"

HOME_TITLE = "Главная"
INDEX_TITLE = "Алфавитный указатель"
CHANGES_TITLE = "Что нового"
TOPICS_TITLE = "Темы"
SHORT_DEFINITION = 200  # characters of a definition shown as a tooltip

_LATIN_WITH_ENDING = re.compile(r"[a-z0-9]['-][а-я]")

# Dark-mode code colours apply under Material's dark palette.
DARK_SCOPE = '[data-md-color-scheme="slate"]'


def md_text(text: str) -> str:
    """A plain name or phrase as Markdown text, on one line: HTML escaped, inline Markdown
    backslashed. One line, because a blank line inside a link's label ends the link."""
    escaped = html.escape(" ".join(text.split()), quote=False)
    return re.sub(r"([\\`*_{}\[\]#|~])", r"\\\1", escaped)


def html_text(text: str) -> str:
    """A plain name or phrase as HTML text, on one line."""
    return html.escape(" ".join(text.split()), quote=False)


def html_attr(text: str) -> str:
    """Plain text as an attribute value in double quotes, on one line."""
    return html.escape(" ".join(text.split()), quote=False).replace('"', "&quot;")


def plain_text(markdown: str) -> str:
    """Markdown as one line of plain text: for tooltips and search."""
    plain = plain_inline(markdown)  # most definitions: no Markdown, nh3 or HTML needed
    if plain is not None:
        return " ".join(plain.split())
    text = html.unescape(nh3.clean(inline_html(markdown), tags=set()))
    return " ".join(text.split())


def shorten(text: str, limit: int = SHORT_DEFINITION) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:—–- ")
    return cut + "…"


# A sentence ends at . ! ? or … before a space and a capital (or an opening quote).
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[«\"(]?[А-ЯЁA-Z])")


def first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text, maxsplit=1)[0]


def fence(code: str, lang: str) -> str:
    """A fenced code block that no run of backticks inside `code` can close."""
    ticks = max((len(run) for run in re.findall(r"`+", code)), default=0)
    marks = "`" * max(3, ticks + 1)
    return f"{marks} {lang}\n{code.rstrip()}\n{marks}"


def indent(text: str, prefix: str = "    ") -> str:
    return "".join(prefix + line if line.strip() else line for line in text.splitlines(True))


class Links:
    """The site's URLs, and every link this module writes as HTML, checked at the end.

    Pages are named by their path in docs/ (`glossary/pod.md`); `href` gives the relative
    URL MkDocs would write for a Markdown link from one to the other (`../pod/` with
    `use_directory_urls`, `pod.html` without) and remembers it, so that `check` can fail
    on a link to a page or anchor that was not generated: the strict build does that
    for Markdown links only.
    """

    def __init__(self, directory_urls: bool = True) -> None:
        self.directory_urls = directory_urls
        self._wanted: dict[tuple[str, str], str] = {}  # (page, anchor) → a page linking there
        self._urls: dict[str, tuple[str, str]] = {}
        self._up: dict[tuple[str, str], str] = {}
        self._capture: list[tuple[str, str]] | None = None  # a cached page's links

    def start(self) -> None:
        """Note the links made from now on: a page kept in the cache replays them."""
        self._capture = []

    def stop(self) -> tuple[tuple[str, str], ...]:
        found = tuple(dict.fromkeys(self._capture or ()))
        self._capture = None
        return found

    def want(self, source: str, target: str, anchor: str = "") -> None:
        """Note a link from `source` to `target`#`anchor`, for `check`."""
        self._wanted.setdefault((target, anchor), source)
        if self._capture is not None:
            self._capture.append((target, anchor))

    def url(self, page: str) -> str:
        """A page's URL relative to the site's root: `glossary/pod/` (or `glossary/pod.html`)."""
        folder, leaf = self._split(page)
        return folder + leaf

    def folder(self, page: str) -> str:
        """The folder a browser resolves the page's links against: its URL up to the last "/"."""
        url = self.url(page)
        return url[: url.rfind("/") + 1]

    def _split(self, page: str) -> tuple[str, str]:
        """A page's URL as (folder, rest): `("glossary/", "pod/")`; the folder ends in "/"."""
        found = self._urls.get(page)
        if found is None:
            folder, _, name = page.rpartition("/")
            folder = folder + "/" if folder else ""
            stem = name.removesuffix(".md")
            if not self.directory_urls:
                found = (folder, stem + ".html")
            elif stem == "index":
                found = (folder, "")
            else:
                found = (folder, stem + "/")
            self._urls[page] = found
        return found

    def href(self, source: str, target: str, anchor: str = "") -> str:
        """The URL of `target` (#`anchor`) from the page `source`, as MkDocs writes it."""
        self.want(source, target, anchor)
        fragment = f"#{anchor}" if anchor else ""
        if target == source and anchor:
            return fragment
        base = self.folder(source)
        folder, leaf = self._split(target)
        up = self._up.get((base, folder))
        if up is None:
            up = self._up[(base, folder)] = _relative_folder(base, folder)
        return (up + leaf or "./") + fragment

    def check(self, pages: Mapping[str, str | bytes]) -> None:
        """SiteLinkError for the first link (in page order) to a page or anchor not generated."""
        ids: dict[str, frozenset[str]] = {}
        missing = []
        for (target, anchor), source in self._wanted.items():
            if target not in pages:
                missing.append((source, target, anchor))
                continue
            if anchor:
                if target not in ids:
                    page = pages[target]
                    ids[target] = anchors_of(page if isinstance(page, str) else page.decode())
                if anchor not in ids[target]:
                    missing.append((source, target, anchor))
        if missing:
            source, target, anchor = min(missing)
            where = f"{target}#{anchor}" if anchor else target
            raise SiteLinkError(
                f"docs/{source}: a link to {where}, which the site does not have "
                f"({len(missing)} such links; a bug in konspekt's pages: please report it)"
            )


def _relative_folder(base: str, folder: str) -> str:
    """The relative path from one folder of the site to another, both ending in "/" or ""."""
    base_parts = base.split("/")[:-1]
    parts = folder.split("/")[:-1]
    common = 0
    while common < min(len(base_parts), len(parts)) and base_parts[common] == parts[common]:
        common += 1
    return "../" * (len(base_parts) - common) + "".join(p + "/" for p in parts[common:])


# `{#id}` ending a heading line, as this module and markdown_safe write them (card text's
# own `{` is always backslashed), or an id in the HTML this module writes.
_ANCHOR = re.compile(r"[ \t]\{#([\w-]+)\}[ \t]*$|<[a-z0-9]+ id=\"([\w-]+)\"", re.MULTILINE)


def anchors_of(page: str) -> frozenset[str]:
    """The ids a generated page sets: `{#id}` after its headings, `id="…"` in its HTML."""
    return frozenset(a or b for a, b in _ANCHOR.findall(page))


@dataclass(frozen=True)
class LinkedText:
    """One card text as linked: the text (images rewritten) and the mentions found in it,
    as a Document, or as the cache stored them (JSON, read when first needed)."""

    text: str
    linked: Document | None = None
    stored: _StoredUnit | None = None
    index: int = 0  # of the text in its stored unit

    @cached_property
    def mentions(self) -> tuple[Mention, ...]:
        if self.linked is not None:
            return self.linked.mentions
        try:
            parts = self.stored.parts if self.stored is not None else []
            found = [(int(s), int(e), str(i)) for s, e, i in json.loads(parts[self.index])]
        except (ValueError, TypeError, IndexError):
            found = []  # damaged: the text unlinked (the row's key and ids were right)
        return tuple(Mention(s, e, self.text[s:e], i) for s, e, i in found)

    @property
    def ids(self) -> tuple[str, ...]:
        """The entries this text links to, in order of first mention."""
        return tuple(dict.fromkeys(m.id for m in self.mentions))

    @cached_property
    def document(self) -> Document:
        if self.linked is not None:
            return self.linked
        # From the cache: scanned again, each stored mention kept only where the linker
        # could have put it (inside one stretch of prose, in order), so that no cache
        # file, damaged or crafted, can make card text bypass the escaping.
        segments = tuple(scan(self.text))
        prose = [(s.start, s.end) for s in segments if s.kind is Kind.PROSE]
        kept: list[Mention] = []
        end = 0
        for mention in self.mentions:
            if mention.start >= end and any(
                a <= mention.start < mention.end <= b for a, b in prose
            ):
                kept.append(mention)
                end = mention.end
        return Document(self.text, segments, tuple(kept))

    def markdown(self, refs: References, heading_prefix: str = "h", heading_level: int = 1) -> str:
        if (heading_prefix, heading_level) == ("h", 1):  # a definition: its term page, its topic's
            markdown, labels = self._as_definition
            for entry_id in labels:  # the labels it uses, as rendering it for `refs` notes them
                refs.label(entry_id)
            return markdown
        return self.document.markdown(
            heading_prefix=heading_prefix, heading_level=heading_level, refs=refs
        )

    @cached_property
    def _as_definition(self) -> tuple[str, tuple[str, ...]]:
        """The Markdown, made once: it reads `refs` only to note the labels it uses."""
        noted = References(str, str)
        return self.document.markdown(refs=noted), noted.labels()


@dataclass(frozen=True)
class EntryTexts:
    """An entry's card text, scanned and linked once for every page that shows it."""

    definition: LinkedText
    details: LinkedText | None
    examples: tuple[LinkedText | None, ...]  # None for code examples
    mentions: tuple[str, ...]  # the entries linked from any of them, in order
    fingerprint: str = ""  # of the texts and their mentions, when generating with a cache


@dataclass(frozen=True)
class TopicHead:
    """What a page reads of a topic besides its entries."""

    topic: str
    title: str
    description: str | None


@dataclass(frozen=True)
class IndexLine:
    """One line of the alphabetical index: an entry's term, or another name leading to it."""

    entry_id: str
    alias: str | None = None  # an alias or English name; None: the term itself


def index_groups(
    entry_ids: Sequence[str], names: Callable[[str], tuple[str, tuple[str, ...], str | None]]
) -> dict[str, tuple[IndexLine, ...]]:
    """Every name the index lists, by letter, the letters and their lines in order.

    By name; a name shared by several lines: other names first, then by the term.
    """
    rows: list[tuple[tuple[object, ...], str, IndexLine]] = []
    for entry_id in entry_ids:
        term, aliases, english = names(entry_id)
        term_key = sort_key(term)
        target = (term_key, entry_id)
        rows.append(((term_key, 1, *target), term, IndexLine(entry_id)))
        others = (*aliases, *([english] if english else []))
        for name in shown_aliases(term, None, others):
            rows.append(((sort_key(name), 0, *target), name, IndexLine(entry_id, name)))
    rows.sort(key=lambda row: row[0])
    groups: dict[str, list[IndexLine]] = {}
    for _, name, line in rows:
        groups.setdefault(index_letter(name), []).append(line)
    return {letter: tuple(lines) for letter, lines in groups.items()}


_ENTRY_FIELDS = tuple(f.name for f in fields(Entry) if f.name not in ("pos", "field_pos"))
_MISSING = "\x00missing"
_MISSING_PRINT = short_digest(_MISSING)


class Facts:
    """Everything the cached pages (term pages, topic pages, the index) read.

    Each accessor notes `(kind, key)` while a page is being recorded (`noting`), and
    `fingerprint` gives the value a kind of read returns now: a stored page is reused
    while every fact it noted has the same fingerprint. Those pages read nothing else:
    no settings, no history, no deck (they are read only by pages made every time).
    """

    def __init__(self, site: Site) -> None:
        # Weak: a Site and its Facts in a cycle kept every linked text and page alive until
        # a collection, which then scanned ~500,000 objects at 5,000 entries (0.3 s).
        self._site = weakref.proxy(site)
        self._by_id = site.glossary.by_id
        self._topics = site.glossary.topic_by_id
        self._noted: dict[str, None] | None = None  # "kind key", in the order first read
        self._prints: dict[str, str] = {}

    # --- recording

    def start(self) -> None:
        self._noted = {}

    def stop(self) -> tuple[str, ...]:
        noted = tuple(self._noted or ())
        self._noted = None
        return noted

    @property
    def noting(self) -> bool:
        return self._noted is not None

    def _note(self, kind: str, key: str) -> None:
        if self._noted is not None:
            self._noted[f"{kind} {key}"] = None

    def unchanged(self, cache: GenerationCache) -> frozenset[str]:
        """The facts the stored run recorded that read the same now."""
        stored = cache.meta("facts")
        if not isinstance(stored, dict):
            return frozenset()
        fingerprint = self.fingerprint
        return frozenset(f for f, fp in stored.items() if type(f) is str and fingerprint(f) == fp)

    def table(self) -> dict[str, str]:
        """Every fact fingerprinted in this run (all a stored page may have read), with its
        fingerprint: what `unchanged` compares with next time."""
        return {fact: fp for fact, fp in self._prints.items() if fp != _MISSING_PRINT}

    def fingerprint(self, fact: str) -> str:
        """A digest of what the fact (`kind key`) reads now."""
        found = self._prints.get(fact)
        if found is None:
            kind, _, key = fact.partition(" ")
            try:
                value = self._fingerprint(kind, key)
            except (KeyError, ValueError):
                value = _MISSING  # a removed entry or topic (or no such kind: a damaged row)
            found = self._prints[fact] = short_digest(value)
        return found

    def _fingerprint(self, kind: str, key: str) -> str:
        site = self._site
        if kind == "entry":
            entry = self._by_id[key]
            return digest(repr(tuple(getattr(entry, name) for name in _ENTRY_FIELDS)))
        if kind == "term":
            return self._by_id[key].term
        if kind == "names":
            return repr(self.unnoted_names(key))
        if kind == "entries":
            return digest(*(entry.id for entry in site.glossary.entries))
        if kind == "topic":
            head = self._topic_head(key)
            return repr((head.topic, head.title, head.description))
        if kind == "members":
            return digest(*(entry.id for entry in self._topics[key].entries))
        if kind == "texts":
            return site.texts[key].fingerprint
        if kind == "description":
            return site.descriptions[key].fingerprint
        if kind == "short":
            return site.short[key]
        if kind == "title":
            return site.tooltips[key]
        if kind == "backlinks":
            return " ".join(site.backlinks[key])
        if kind == "keys":
            return site.keys_fingerprint(key)
        if kind == "letters":
            return repr(site.index_letters)
        if kind == "letter":
            return digest(*(repr((line.entry_id, line.alias)) for line in site.index_groups[key]))
        raise ValueError(f"no fact of kind {kind}")

    # --- the facts

    def entry(self, entry_id: str) -> Entry:
        self._note("entry", entry_id)
        return self._by_id[entry_id]

    def term(self, entry_id: str) -> str:
        self._note("term", entry_id)
        return self._by_id[entry_id].term

    def names(self, entry_id: str) -> tuple[str, tuple[str, ...], str | None]:
        """An entry's term, aliases and English name: what the index lists."""
        self._note("names", entry_id)
        return self.unnoted_names(entry_id)

    def unnoted_names(self, entry_id: str) -> tuple[str, tuple[str, ...], str | None]:
        entry = self._by_id[entry_id]
        return entry.term, entry.aliases, entry.english_name

    def entry_ids(self) -> tuple[str, ...]:
        self._note("entries", "")
        return tuple(entry.id for entry in self._site.glossary.entries)

    def topic(self, topic_id: str) -> TopicHead:
        self._note("topic", topic_id)
        return self._topic_head(topic_id)

    def _topic_head(self, topic_id: str) -> TopicHead:
        topic = self._topics[topic_id]
        return TopicHead(topic.topic, topic.title, topic.description)

    def members(self, topic_id: str) -> tuple[str, ...]:
        self._note("members", topic_id)
        return tuple(entry.id for entry in self._topics[topic_id].entries)

    def texts(self, entry_id: str) -> EntryTexts:
        self._note("texts", entry_id)
        return self._site.texts[entry_id]

    def description(self, topic_id: str) -> EntryTexts:
        """A topic's description, linked (as the definition of an EntryTexts)."""
        self._note("description", topic_id)
        return self._site.descriptions[topic_id]

    def short(self, entry_id: str) -> str:
        self._note("short", entry_id)
        return self._site.short[entry_id]

    def title(self, entry_id: str) -> str:
        self._note("title", entry_id)
        return self._site.tooltips[entry_id]

    def backlinks(self, entry_id: str) -> tuple[str, ...]:
        self._note("backlinks", entry_id)
        return self._site.backlinks[entry_id]

    def keys(self, entry_id: str) -> list[tuple[str, ...]]:
        """Every normalized form the linker knows for an entry (see `Linker.keys_of`)."""
        self._note("keys", entry_id)
        return self._site.linker.keys_of(entry_id)

    def index_letters(self) -> tuple[str, ...]:
        """The letters of a split index, in order; () for an index on one page."""
        self._note("letters", "")
        return self._site.index_letters

    def index_lines(self, letter: str) -> tuple[IndexLine, ...]:
        """The names a letter lists, in order (the entries' other facts not read)."""
        self._note("letter", letter)
        return self._site.index_groups[letter]


class _StoredUnit:
    """A text unit's mentions in the cache, read when a page shows one of its texts."""

    def __init__(self, cache: GenerationCache, key: str) -> None:
        self._cache = cache
        self._key = key

    @cached_property
    def parts(self) -> list[str]:
        """Per text, its mentions as JSON."""
        try:
            parts = json.loads(self._cache.stored_mentions(self._key))
        except ValueError:
            return []
        return [p for p in parts if type(p) is str] if isinstance(parts, list) else []


class _Linking:
    """Linking through the cache: a text's stored mentions while all it read is the same."""

    def __init__(self, cache: GenerationCache, linker: Linker, glossary: Glossary) -> None:
        self.cache = cache
        self.changed_words = cache.changed_words(linker)
        reads = {entry.id: entry_reads(entry) for entry in glossary.entries}
        self.changed_entries = cache.changed_entries(reads)
        self.recorder = LinkRecorder(linker)
        self.known = glossary.by_id.keys()

    def _valid(self, key: str, ids: str) -> bool:
        cache = self.cache
        if self.changed_words is None or self.changed_entries is None:
            return False
        words = self.changed_words
        if words and not words.isdisjoint(cache.words(key).split("\n")):
            return False
        entries = self.changed_entries
        if entries and not entries.isdisjoint(cache.reads(key).split()):
            return False
        return self.known >= set(ids.split())

    def link(self, texts: Sequence[str | None], page: str | None) -> EntryTexts:
        """The texts linked as one unit: an entry's texts, or a topic's description."""
        key = digest(page or "", *("-" if text is None else "+" + text for text in texts))
        row = self.cache.text(key)
        if row is not None and self._valid(key, row[1]):
            self.cache.keep_text(key)
            unit = _StoredUnit(self.cache, key)
            linked = [
                None if text is None else LinkedText(text, stored=unit, index=index)
                for index, text in enumerate(texts)
            ]
            return _entry_texts(linked, tuple(row[1].split()), row[0])
        recorder = self.recorder
        recorder.start()
        documents = [None if text is None else recorder.document(text, page) for text in texts]
        mentions = [
            json.dumps([] if doc is None else [[m.start, m.end, m.id] for m in doc.mentions])
            for doc in documents
        ]
        ids = tuple(dict.fromkeys(m.id for doc in documents if doc for m in doc.mentions))
        fingerprint = digest(key, *mentions)
        linking = TextRow(
            fingerprint,
            " ".join(ids),
            " ".join(recorder.entries),
            "\n".join(sorted(recorder.words)),
            json.dumps(mentions),
        )
        self.cache.put_text(key, linking)
        linked = [None if doc is None else LinkedText(doc.text, doc) for doc in documents]
        return _entry_texts(linked, ids, fingerprint)


def _entry_texts(
    linked: Sequence[LinkedText | None], mentions: tuple[str, ...], fingerprint: str
) -> EntryTexts:
    definition = linked[0]
    assert definition is not None
    details = linked[1] if len(linked) > 1 else None
    return EntryTexts(definition, details, tuple(linked[2:]), mentions, fingerprint)


class _SortKeys(dict[str, tuple[int, str, str]]):
    """`sort_key` of each word asked for, computed on the first ask."""

    def __missing__(self, word: str) -> tuple[int, str, str]:
        key = self[word] = sort_key(word)
        return key


class Site:
    """What the pages share: the linker's results, backlinks and short definitions.

    Term pages, topic pages and the index read only `facts` and write links through
    `links`, so that with a `cache` each is made again only when a fact it read changed.
    """

    def __init__(
        self,
        glossary: Glossary,
        *,
        has_deck: bool = False,
        deck_size: int = 0,
        deck_later: Callable[[], int | None] | None = None,
        linker: Linker | None = None,
        history: History | Callable[[], History | None] | None = None,
        settings: ProjectFile | None = None,
        directory_urls: bool = True,
        cache: GenerationCache | None = None,
        stored: Callable[[str], bytes | None] | None = None,
        index_split: int | None = INDEX_SPLIT,
    ) -> None:
        self.glossary = glossary
        # Above this many names, the index is one page per letter; None: always one page.
        self.index_split = index_split
        self.links = Links(directory_urls)
        # Links to term pages made so far, by (folder, index.md?, tooltip?), then entry.
        self._term_links: dict[tuple[str, bool, bool], dict[str, str]] = {}
        self.settings = settings  # None: pages only, no site settings (unit tests)
        # None: not built from a git checkout. A function when the history waits for the
        # ledger of a deck built beside the pages: asked for by «Что нового», made late.
        self._history = history
        self.has_deck = has_deck
        self.deck_size = deck_size
        # A deck still being built beside the pages: its size (None: no deck), asked for
        # by the home page, which is made after the term, topic and index pages.
        self.deck_later = deck_later
        self.linker = linker if linker is not None else Linker(glossary.entries)
        self.cache = cache
        self.stored = stored  # an earlier run's text of a page, if there is one
        self.facts = Facts(self)
        self._noted: set[str] = set()  # every fact a page made in this run read
        # Names' word forms recur across entries: each is folded for sorting once.
        self._sort_keys = _SortKeys()
        self._shared_ref_lines: dict[str, dict[str, str]] = {}

    # --- linking, through the cache when there is one

    @cached_property
    def _linking(self) -> _Linking | None:
        if self.cache is None:
            return None
        return _Linking(self.cache, self.linker, self.glossary)

    def _link(self, texts: Sequence[str | None], page: str | None) -> EntryTexts:
        linking = self._linking
        if linking is not None:
            return linking.link(texts, page)
        documents = [None if t is None else self.linker.document(t, page=page) for t in texts]
        ids = tuple(dict.fromkeys(m.id for doc in documents if doc for m in doc.mentions))
        linked = [None if doc is None else LinkedText(doc.text, doc) for doc in documents]
        return _entry_texts(linked, ids, "")

    @cached_property
    def texts(self) -> Mapping[str, EntryTexts]:
        def rewritten(text: str) -> str:
            # Every page showing card text sits one folder down (glossary/, topics/).
            return rewrite_images(text, lambda path: f"../{MEDIA_DIR}/{path}")

        result: dict[str, EntryTexts] = {}
        for entry in self.glossary.entries:
            bodies = [
                rewritten(entry.definition),
                None if entry.details is None else rewritten(entry.details),
                *(None if ex.is_code else rewritten(ex.text) for ex in entry.examples),
            ]
            result[entry.id] = self._link(bodies, entry.id)
        return result

    @cached_property
    def descriptions(self) -> Mapping[str, EntryTexts]:
        """Each topic's description, linked; the empty text for none."""
        return {t.topic: self._link([t.description or ""], None) for t in self.glossary.topics}

    @cached_property
    def backlinks(self) -> Mapping[str, tuple[str, ...]]:
        """For each entry, the entries whose text links to it, in glossary order."""
        result: dict[str, list[str]] = {entry.id: [] for entry in self.glossary.entries}
        for entry in self.glossary.entries:
            for target in self.texts[entry.id].mentions:
                result[target].append(entry.id)
        return {key: tuple(value) for key, value in result.items()}

    @cached_property
    def short(self) -> Mapping[str, str]:
        """Each entry's definition as short plain text: shown beside links in related terms."""
        cache = self.cache
        result = {}
        for entry in self.glossary.entries:
            key = digest(entry.definition) if cache is not None else ""
            found = cache.short(key) if cache is not None else None
            if found is None:
                found = shorten(plain_text(entry.definition))
                if cache is not None:
                    cache.put_short(key, found)
            result[entry.id] = found
        return result

    @cached_property
    def tooltips(self) -> Mapping[str, str]:
        """The tooltip of links to each entry: its definition's first sentence, shortened.

        A definition is usually one sentence; where it goes on, the first says what the
        term is and the rest would repeat in every tooltip on every page linking to it
        (tooltips were two thirds of a term page's bytes at 1,000 synthetic entries).
        """
        return {key: shorten(first_sentence(text)) for key, text in self.short.items()}

    @cached_property
    def _keys_fingerprints(self) -> Mapping[str, str]:
        assert self.cache is not None
        return self.cache.keys_fingerprints(self.linker)

    def keys_fingerprint(self, entry_id: str) -> str:
        return self._keys_fingerprints.get(entry_id, "")

    @cached_property
    def index_groups(self) -> Mapping[str, tuple[IndexLine, ...]]:
        """The index's lines by letter, read here without noting: what splits it."""
        return index_groups([e.id for e in self.glossary.entries], self.facts.unnoted_names)

    @cached_property
    def index_letters(self) -> tuple[str, ...]:
        """The letters of a split index, each a page; () when the index is one page."""
        groups = self.index_groups
        if self.index_split is None or sum(map(len, groups.values())) <= self.index_split:
            return ()
        return tuple(groups)

    def title(self, entry_id: str) -> str:
        return self.facts.title(entry_id)

    def _ref_lines(self, pages: str) -> dict[str, str] | None:
        """The reference definitions one kind of page shares (`References`), or None while
        a page's reads are noted: each of its references must read the title itself."""
        if self.facts.noting:
            return None
        return self._shared_ref_lines.setdefault(pages, {})

    def term_link(self, source: str, entry_id: str, *, tooltip: bool = True) -> str:
        """An HTML link from page `source` to a term page, its tooltip the term's `title`."""
        return self.term_links(source, (entry_id,), tooltip=tooltip)[0]

    def term_links(
        self, source: str, entry_ids: Sequence[str], *, tooltip: bool = True
    ) -> list[str]:
        """`term_link` to each of `entry_ids`, in order."""
        # Pages of one docs folder (index.md aside) link to a term with the same bytes.
        folder, _, name = source.rpartition("/")
        kind = (folder, name == "index.md", tooltip)
        made = self._term_links.get(kind)
        if made is None:
            made = self._term_links[kind] = {}
        noting = self.facts.noting
        links = []
        for entry_id in entry_ids:
            link = made.get(entry_id)
            if link is None:
                href = self.links.href(source, term_path(entry_id))
                title = f' title="{html_attr(self.facts.title(entry_id))}"' if tooltip else ""
                link = f'<a href="{href}"{title}>{html_text(self.facts.term(entry_id))}</a>'
                made[entry_id] = link
            elif noting:
                # The stored link stands for these reads, and the page that uses it must say so.
                self.facts.term(entry_id)
                if tooltip:
                    self.facts.title(entry_id)
                self.links.want(source, term_path(entry_id))
            links.append(link)
        return links

    # --- the pages

    def pages(
        self, made: Callable[[str, str | bytes], None] | None = None
    ) -> dict[str, str | bytes]:
        """Every generated text file, by path relative to docs/: text, or, for a page
        reused from the cache, the bytes `stored` gave. `made` is given each term page
        as soon as it is made (to be written meanwhile: site/writer.py)."""
        files: dict[str, str | bytes] = {}
        for entry in self.glossary.entries:
            path = term_path(entry.id)
            files[path] = page = self._page(path, partial(self.term_page, entry.id))
            if made is not None:
                made(path, page)
        for topic in self.glossary.topics:
            path = topic_path(topic.topic)
            files[path] = self._page(path, partial(self.topic_page, topic.topic))
        files[INDEX_PAGE] = self._page(INDEX_PAGE, self.index_page)
        for letter in self.index_letters:
            path = letter_path(letter)
            files[path] = self._page(path, partial(self.letter_page, letter))
        files[SITE_CONFIG_FILE] = self.site_config()
        files[f"{GENERATED_DIR}/home-topics.md"] = self.home_topics()
        # Last, as they may wait for a deck built beside the pages (its size, its ledger).
        files[f"{GENERATED_DIR}/home-deck.md"] = self.home_deck()
        files[CHANGES_PAGE] = self.changes_page()
        files[f"{GENERATED_DIR}/home-search.md"] = self.home_search()
        files[f"{GENERATED_DIR}/pygments.css"] = highlight_css(DARK_SCOPE)
        self.links.check(files)
        if self.cache is not None:
            for fact in self._noted:
                self.facts.fingerprint(fact)
            self.cache.put_meta("facts", self.facts.table())
        return files

    @cached_property
    def _unchanged(self) -> frozenset[str]:
        assert self.cache is not None
        return self.facts.unchanged(self.cache)

    def _page(self, path: str, make: Callable[[], str]) -> str | bytes:
        """A page made by `make`, or, with a cache, the bytes an earlier run wrote if every
        fact the page read then reads the same now."""
        cache = self.cache
        if cache is None:
            return make()
        row = cache.page(path)
        if (
            row is not None
            and self.stored is not None
            and self._unchanged.issuperset(row.facts.split("\n"))
        ):
            data = self.stored(path)
            if data is not None and bytes_digest(data) == row.output:
                cache.keep_page(path)
                for want in row.wants.split("\n") if row.wants else ():
                    target, _, anchor = want.partition("#")
                    self.links.want(path, target, anchor)
                return data
        self.facts.start()
        self.links.start()
        try:
            text = make()
        finally:
            noted = self.facts.stop()
            wants = self.links.stop()
        self._noted.update(noted)  # fingerprinted into this run's table at the end
        output = bytes_digest(text.encode("utf-8"))
        wanted = "\n".join(f"{target}#{anchor}" for target, anchor in wants)
        cache.put_page(path, PageRow(output, "\n".join(noted), wanted))
        return text

    def term_page(self, entry_id: str) -> str:
        facts = self.facts
        entry = facts.entry(entry_id)
        texts = facts.texts(entry_id)
        topic = facts.topic(entry.topic)
        page = term_path(entry_id)

        refs = References(lambda target: f"{target}.md", facts.title, self._ref_lines("term"))

        # Every word form of the term's names, as search-only tags: Material's Russian search
        # matches prefixes of indexed words, so «подах» finds nothing unless «подах» is
        # indexed, and its tags field outweighs any body text, so the term's own page comes
        # first. Tags are hidden on the page (and in results, by konspekt.css), and, unlike
        # body text, never become the result's snippet. JSON is YAML: any word is quoted safely.
        forms = json.dumps(self.search_words(entry_id), ensure_ascii=False)
        out = [
            "---",
            "search:",
            "  boost: 2",
            f"tags: {forms}",
            "hide: [tags]",
            "---",
            "",
            f"# {md_text(entry.term)} {{#term}}",
            "",
        ]
        meta = []
        if entry.en and not same_name(entry.en, entry.term):
            meta.append(f"<em>{html_text(entry.en)}</em>")
        topic_href = self.links.href(page, topic_path(topic.topic), entry.id)
        meta.append(f'тема: <a href="{topic_href}">{html_text(topic.title)}</a>')
        out += [f'<p class="konspekt-meta">{" · ".join(meta)}</p>', ""]
        others = self.other_names(entry)
        if others:
            names = ", ".join(f"<em>{html_text(n)}</em>" for n in others)
            out += [f"<p>Другие названия: {names}.</p>", ""]
        out += [texts.definition.markdown(refs).strip(), ""]
        if texts.details is not None:
            details = texts.details.markdown(refs, "details", heading_level=3)
            out += ["## Подробнее {#details}", "", details.strip(), ""]
        if entry.examples:
            out += ["## Примеры {#examples}", ""]
            for example, doc in zip(entry.examples, texts.examples, strict=True):
                if doc is None:
                    out += [fence(example.code, example.lang), ""]
                else:
                    # Top level, not a list item: safe_markdown's escaping reads text the
                    # way Markdown reads it at top level, and a list item reads it otherwise.
                    out += [doc.markdown(refs).strip(), ""]
        # The lists below repeat what the linked pages say: out of the search index, so a
        # search finds the page that defines a word, not every page that lists it.
        if entry.related:
            out += ["## Связанные термины {#related}", "", "<ul data-search-exclude>"]
            # No tooltip: it would repeat the definition printed beside the link.
            out += [
                f"<li>{self.term_link(page, r, tooltip=False)} — {html_text(facts.short(r))}</li>"
                for r in entry.related
            ]
            out += ["</ul>", ""]
        backlinks = facts.backlinks(entry_id)
        if backlinks:
            items = " · ".join(self.term_links(page, backlinks))
            out += ["## Упоминается в {#backlinks}", ""]
            out += [f'<p class="konspekt-backlinks" data-search-exclude>{items}</p>', ""]
        if entry.source is not None:
            quote = safe_markdown(entry.source, "source", heading_level=3).strip()
            out += ['??? quote "Из конспекта"', "", indent(quote), ""]
            if entry.source_note is not None:
                # Beside the quote, so the wrong wording is never shown unflagged.
                note = safe_markdown(entry.source_note, "source-note", heading_level=3).strip()
                out += [indent(f"В конспекте неточно: {note}"), ""]
        out.append(refs.definitions())
        return "\n".join(out).rstrip() + "\n"

    def search_words(self, entry_id: str) -> list[str]:
        """Every word of every form of the entry's names, once each, in a stable order."""
        seen = dict.fromkeys(word for key in self.facts.keys(entry_id) for word in key[::2])
        # «Docker'а», «kubectl-ом»: generated for the linker, noise in search results.
        shown = [w for w in seen if not ("-" in w or "'" in w) or not _LATIN_WITH_ENDING.search(w)]
        return sorted(shown, key=self._sort_keys.__getitem__)

    def other_names(self, entry: Entry) -> list[str]:
        """Aliases worth showing: not the term or the English name again."""
        return shown_aliases(entry.term, entry.en, entry.aliases)

    def topic_page(self, topic_id: str) -> str:
        facts = self.facts
        topic = facts.topic(topic_id)

        refs = References(
            lambda target: f"../{GLOSSARY_DIR}/{target}.md", facts.title, self._ref_lines("topic")
        )
        out = [f"# {md_text(topic.title)} {{#topic-title}}", ""]
        if topic.description:
            doc = facts.description(topic_id).definition
            out += [doc.markdown(refs, "topic").strip(), ""]
        members = [facts.entry(entry_id) for entry_id in facts.members(topic_id)]
        count = len(members)
        out += [f"{count} {plural(count, 'термин', 'термина', 'терминов')} в порядке чтения.", ""]
        diagram = self.diagram(topic_id, members)
        if diagram:
            out += ["## Как связаны термины {#topic-diagram}", "", diagram, ""]
        page = topic_path(topic_id)
        for entry in members:
            out += [f"## {md_text(entry.term)} {{#{entry.id}}}", ""]
            if entry.en and not same_name(entry.en, entry.term):
                out += [f'<p class="konspekt-meta"><em>{html_text(entry.en)}</em></p>', ""]
            definition = facts.texts(entry.id).definition.markdown(refs)
            out += [definition.strip(), ""]
            more = self.links.href(page, term_path(entry.id))
            out += [f'<p><a href="{more}">Подробнее о термине →</a></p>', ""]
        out.append(refs.definitions())
        return "\n".join(out).rstrip() + "\n"

    def diagram(self, topic_id: str, members: Sequence[Entry]) -> str:
        """Small Mermaid diagrams of how the topic's terms are defined through each other.

        An arrow A → B means: the definition of A uses the term B (a link the linker
        found in the card). One diagram per cluster of the topic, the entries that share
        their first tag (`tags` in the cards: «architecture», «control-plane»), with only
        the arrows inside it: a dozen nodes at most, laid out left to right, stay legible
        on a phone, where one graph of every relation in a topic does not.
        """
        clusters: dict[str, list[Entry]] = {}
        for entry in members:
            clusters.setdefault(entry.tags[0] if entry.tags else "", []).append(entry)
        blocks = []
        for cluster in clusters.values():
            ids = {entry.id for entry in cluster}
            edges = [
                (entry.id, target)
                for entry in cluster
                for target in self.facts.texts(entry.id).definition.ids
                if target in ids and target != entry.id
            ]
            if edges:
                blocks.append(self._cluster_diagram(topic_path(topic_id), cluster, edges))
        if not blocks:
            return ""
        legend = (
            "Стрелка «А → Б» значит: в определении термина А используется термин Б. "
            "Схемы разбиты на группы близких терминов; нажмите на термин, чтобы открыть его."
        )
        return "\n\n".join([legend, *blocks])

    def _cluster_diagram(
        self, page: str, members: list[Entry], edges: list[tuple[str, str]]
    ) -> str:
        linked = {i for edge in edges for i in edge}
        shown = [entry for entry in members if entry.id in linked]
        node = {entry.id: f"n{index}" for index, entry in enumerate(shown)}
        lines = ["```mermaid", "graph LR"]
        for entry in shown:
            lines.append(f'  {node[entry.id]}["{mermaid_label(entry.term)}"]')
        lines += [f"  {node[source]} --> {node[target]}" for source, target in edges]
        for entry in shown:
            url = self.links.href(page, term_path(entry.id))
            tooltip = mermaid_label(self.facts.title(entry.id))
            lines.append(f'  click {node[entry.id]} "{url}" "{tooltip}"')
        lines.append("```")
        return "\n".join(lines)

    def index_page(self) -> str:
        """Every name and its term page; above `index_split` names, a hub of letters."""
        facts = self.facts
        letters = facts.index_letters()
        out = [
            f"# {INDEX_TITLE} {{#index-title}}",
            "",
            f"Все термины и их другие названия по алфавиту: сначала русские (А–Я), затем "
            f"латинские (A–Z). {YO_POLICY} Курсивом — другие названия, стрелка ведёт к "
            f"основному термину.",
            "",
        ]
        if letters:
            # Split: each letter's page is linked from the bars, the hub lists nothing else.
            out += self.letter_bars(INDEX_PAGE, letters)
            return "\n".join(out).rstrip() + "\n"
        groups = index_groups(facts.entry_ids(), facts.names)
        out += self.letter_bars(INDEX_PAGE, tuple(groups))
        for letter, lines in groups.items():
            # The lists, out of the search index: every name is found on its term's page.
            out += [f"## {md_text(letter)} {{#{letter_anchor(letter)}}}", ""]
            out += ["<ul data-search-exclude>", *self.index_items(INDEX_PAGE, lines), "</ul>", ""]
        return "\n".join(out).rstrip() + "\n"

    def letter_page(self, letter: str) -> str:
        """One letter of a split index: its names, and the bars to the other letters.

        Out of search (front matter), as the lists on one page are: every name is found
        on its term's page. It reads only the letters, its own lines, and the terms and
        tooltips of the entries they lead to, so an edit changes only the letters showing
        the entry.
        """
        facts = self.facts
        page = letter_path(letter)
        out = ["---", "search:", "  exclude: true", "---", ""]
        out += [f"# {INDEX_TITLE}: {md_text(letter)} {{#index-title}}", ""]
        out += self.letter_bars(page, facts.index_letters(), letter)
        lines = facts.index_lines(letter)
        out += ["<ul data-search-exclude>", *self.index_items(page, lines), "</ul>", ""]
        return "\n".join(out).rstrip() + "\n"

    def letter_bars(
        self, page: str, letters: Sequence[str], current: str | None = None
    ) -> list[str]:
        """A line of letter links per script: to the letters' sections of the one-page
        index, or to the letter pages of a split one (all but the `current` letter's).
        No counts: a term added changes no letter page but its own."""
        split = bool(self.index_letters)
        out = []
        for script, members in (("Кириллица", _CYRILLIC), ("Латиница", _LATIN), ("Другое", "#")):
            shown = [letter for letter in letters if letter in members]
            if not shown:
                continue
            items = []
            for x in shown:
                if x == current:
                    items.append(f"<strong>{html_text(x)}</strong>")
                    continue
                if split:
                    href = self.links.href(page, letter_path(x))
                else:
                    href = self.links.href(page, INDEX_PAGE, letter_anchor(x))
                items.append(f'<a href="{href}">{html_text(x)}</a>')
            out += [f'<p class="konspekt-letters">{script}: {" · ".join(items)}</p>', ""]
        return out

    def index_items(self, page: str, lines: Sequence[IndexLine]) -> list[str]:
        items = []
        links = self.term_links(page, [line.entry_id for line in lines])
        for line, link in zip(lines, links, strict=True):
            if line.alias is None:
                items.append(f"<li>{link}</li>")
            else:
                items.append(f"<li><em>{html_text(line.alias)}</em> → {link}</li>")
        return items

    @cached_property
    def history(self) -> History | None:
        return self._history() if callable(self._history) else self._history

    def changes_page(self) -> str:
        """Each release's new, changed, retired and restored terms, newest first."""
        from ..changes import changes_markdown  # changes renders with this module's md_text

        def link(entry_id: str, label: str) -> str:
            if entry_id not in self.glossary.by_id:
                return label  # retired since: no page to link to
            return f'[{label}]({GLOSSARY_DIR}/{entry_id}.md "{link_title(self.title(entry_id))}")'

        out = [f"# {CHANGES_TITLE} {{#changes}}", ""]
        if self.history is None:
            out += ["История изменений недоступна: сайт собран не из git-репозитория.", ""]
            return "\n".join(out).rstrip() + "\n"
        out += [
            "Какие термины появились, изменились, вернулись или убраны в каждом выпуске "
            "колоды и сайта, начиная с последнего.",
            "",
        ]
        if not self.history.releases:
            out += ["Выпусков пока не было (выпуск — это git-тег вида `v1.2.0`).", ""]
        unreleased = self.history.unreleased
        if not unreleased.empty:
            since = f" (после {md_text(unreleased.since)})" if unreleased.since else ""
            out += [f"## Ещё не в выпуске{since}", "", changes_markdown(unreleased, link=link)]
        for release in self.history.releases:
            out += [f"## {md_text(release.tag)} — {release.date}", ""]
            out += [changes_markdown(release.changes, link=link)]
        return "\n".join(out).rstrip() + "\n"

    @property
    def deck_file(self) -> str:
        return self.settings.deck_file if self.settings else DEFAULT_DECK_FILE

    def site_config(self) -> str:
        """What mkdocs.yml inherits: the project's site settings from konspekt.yml (their
        one place) and the nav: home, topics, index."""
        topics = [{t.title: f"{TOPICS_DIR}/{t.topic}.md"} for t in self.glossary.topics]
        nav = [
            {HOME_TITLE: "index.md"},
            {TOPICS_TITLE: topics},
            {INDEX_TITLE: INDEX_PAGE},
            {CHANGES_TITLE: CHANGES_PAGE},
        ]
        data: dict[str, object] = {}
        if self.settings is not None:
            data["site_name"] = self.settings.name
            if self.settings.description:
                data["site_description"] = self.settings.description
            if self.settings.site_url:
                data["site_url"] = self.settings.site_url
            data["theme"] = {"language": self.settings.language}
        data["nav"] = nav
        header = "# Generated by `konspekt site` from konspekt.yml and the cards: do not edit.\n"
        return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False)

    def home_topics(self) -> str:
        lines = []
        for topic in self.glossary.topics:
            count = len(topic.entries)
            words = f"{count} {plural(count, 'термин', 'термина', 'терминов')}"
            about = ""
            if topic.description:
                about = f" — {md_text(shorten(plain_text(topic.description), 160))}"
            page = f"{TOPICS_DIR}/{topic.topic}.md"
            lines.append(f"- [{md_text(topic.title)}]({page}) ({words}){about}")
        total = len(self.glossary.entries)
        lines += [
            "",
            f"Всего {total} {plural(total, 'термин', 'термина', 'терминов')}; все они — в "
            f"[алфавитном указателе]({INDEX_PAGE}).",
        ]
        return "\n".join(lines) + "\n"

    def home_deck(self) -> str:
        if self.deck_later is not None:
            deck_size = self.deck_later()
            self.has_deck, self.deck_size = deck_size is not None, deck_size or 0
        if not self.has_deck:
            return (
                "Колода ещё не собрана: выполните `make deck`, затем `make site`, "
                "и здесь появится кнопка для скачивания.\n"
            )
        size = f"{max(1, round(self.deck_size / 1024))} КБ"
        return (
            f"[Скачать колоду Anki ({self.deck_file}, {size})]({DOWNLOADS_DIR}/{self.deck_file})"
            "{ .md-button .md-button--primary }\n"
        )

    def home_search(self) -> str:
        """How search works, shown with the project's own terms in other cases."""
        examples = []
        for entry in self.glossary.entries:
            tokens = words(entry.term)
            if not tokens or len(tokens) > 3:
                continue
            lowered = tuple(t.lower() for t in tokens)
            forms = sorted(f for f in russian().phrase_forms(tokens) if f != lowered)
            if forms:
                examples.append(f"«{md_text(' '.join(forms[-1]))}»")
            if len(examples) == 2:
                break
        found = (
            f"Поиск понимает формы слов: {' и '.join(examples)} "
            f"{'найдёт свой термин' if len(examples) == 1 else 'найдут свои термины'}. "
            if examples
            else ""
        )
        return f"{found}В [алфавитном указателе]({INDEX_PAGE}) есть все названия терминов.\n"


def term_path(entry_id: str) -> str:
    return f"{GLOSSARY_DIR}/{entry_id}.md"


def topic_path(topic: str) -> str:
    return f"{TOPICS_DIR}/{topic}.md"


def letter_path(letter: str) -> str:
    """A letter's page of a split index: `index-az/ru-a.md`."""
    return f"{INDEX_DIR}/{letter_anchor(letter)}.md"


def plural(count: int, one: str, few: str, many: str) -> str:
    """The Russian plural for `count`: 1 термин, 2 термина, 5 терминов, 21 термин."""
    if count % 10 == 1 and count % 100 != 11:
        return one
    if 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14:
        return few
    return many


def mermaid_label(text: str) -> str:
    """Text inside a quoted Mermaid label: its entity codes instead of markup characters."""
    codes = {"<": "#lt;", ">": "#gt;", "&": "#amp;", '"': "#quot;", "#": "#35;"}
    return "".join(codes.get(char, char) for char in " ".join(text.split()))


# Transliteration for ASCII anchors of index letters (Cyrillic ids would become `_1`).
_TRANSLIT = {
    "А": "a",
    "Б": "b",
    "В": "v",
    "Г": "g",
    "Д": "d",
    "Е": "e",
    "Ж": "zh",
    "З": "z",
    "И": "i",
    "Й": "j",
    "К": "k",
    "Л": "l",
    "М": "m",
    "Н": "n",
    "О": "o",
    "П": "p",
    "Р": "r",
    "С": "s",
    "Т": "t",
    "У": "u",
    "Ф": "f",
    "Х": "kh",
    "Ц": "ts",
    "Ч": "ch",
    "Ш": "sh",
    "Щ": "shch",
    "Ъ": "hard",
    "Ы": "y",
    "Ь": "soft",
    "Э": "eh",
    "Ю": "yu",
    "Я": "ya",
}


_CYRILLIC = frozenset(_TRANSLIT)
_LATIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def letter_anchor(letter: str) -> str:
    if letter in _TRANSLIT:
        return f"ru-{_TRANSLIT[letter]}"
    if "A" <= letter <= "Z":
        return f"en-{letter.lower()}"
    return "other"


def generated_pages(
    glossary: Glossary,
    *,
    has_deck: bool = False,
    deck_size: int = 0,
    deck_later: Callable[[], int | None] | None = None,
    linker: Linker | None = None,
    history: History | Callable[[], History | None] | None = None,
    settings: ProjectFile | None = None,
    directory_urls: bool = True,
    cache: GenerationCache | None = None,
    stored: Callable[[str], bytes | None] | None = None,
    index_split: int | None = INDEX_SPLIT,
) -> dict[str, str]:
    """Every generated text file for `glossary`, by path relative to docs/.

    `linker` is the glossary's (built here if not given; `site.build` passes one whose
    index it keeps between builds, so this module does no I/O). `history` fills
    «Что нового» (None: the page says the history is unavailable). `directory_urls` is
    mkdocs.yml's `use_directory_urls`: the links written as HTML follow it.
    SiteLinkError if a page links to a page or anchor that was not generated.
    With a `cache` (see `pagecache`), a text or a page is made again only if something
    it read changed; a page that did not is `stored(path)`, the text an earlier run
    wrote, if its digest is the one recorded. The cache is committed by the caller.
    Above `index_split` names the index is a page per letter (None: always one page).
    """
    files = generated_files(
        glossary,
        has_deck=has_deck,
        deck_size=deck_size,
        deck_later=deck_later,
        linker=linker,
        history=history,
        settings=settings,
        directory_urls=directory_urls,
        cache=cache,
        stored=stored,
        index_split=index_split,
    )
    return {path: t if isinstance(t, str) else t.decode("utf-8") for path, t in files.items()}


def generated_files(
    glossary: Glossary,
    *,
    has_deck: bool = False,
    deck_size: int = 0,
    deck_later: Callable[[], int | None] | None = None,
    linker: Linker | None = None,
    history: History | Callable[[], History | None] | None = None,
    settings: ProjectFile | None = None,
    directory_urls: bool = True,
    cache: GenerationCache | None = None,
    stored: Callable[[str], bytes | None] | None = None,
    index_split: int | None = INDEX_SPLIT,
    made: Callable[[str, str | bytes], None] | None = None,
) -> dict[str, str | bytes]:
    """`generated_pages`, where a page reused from `cache` is the bytes `stored` gave;
    `made` is given each term page as soon as it is made (`Site.pages`)."""
    site = Site(
        glossary,
        has_deck=has_deck,
        deck_size=deck_size,
        deck_later=deck_later,
        linker=linker,
        history=history,
        settings=settings,
        directory_urls=directory_urls,
        cache=cache,
        stored=stored,
        index_split=index_split,
    )
    return site.pages(made)
