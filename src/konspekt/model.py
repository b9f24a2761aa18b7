"""The knowledge base as typed, immutable values: Example, Entry, Topic, Glossary.

Card-file fields are dataclass fields with a one-line `doc`; `validate` reads these
declarations to check YAML and `schema` turns them into the JSON Schema editors use,
so the model is the single place a field is defined. Fields marked `internal` are
filled in by the loader and never come from YAML.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

from .errors import Pos

ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
NO_POS = Pos("<none>", 0, 0)


def spec(
    doc: str,
    *,
    pattern: str | None = None,
    kind: str = "value",
    hint: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """Field metadata: `doc` for the schema; an optional regex `pattern` (for strings or list
    items), the `kind` of value it describes and the `hint` on how to write one, for messages
    ("not a valid id (use lowercase …)"). In `hint`, {slug} is the value made id-like."""
    return {"doc": doc, "pattern": pattern, "kind": kind, "hint": hint, **extra}


# Columns of a packed position: more than a card file (at most 16 MiB) has in a line.
_COLUMNS = 1 << 32


def pack_pos(pos: Pos) -> int:
    """A position in a known file as one int: see `Entry.field_pos`."""
    return pos.line * _COLUMNS + pos.col


ID_HINT = (
    "use lowercase Latin letters, digits and dashes, starting with a letter or digit, e.g. '{slug}'"
)


# Metadata of the fields the loader fills in: not part of the card-file format.
INTERNAL = {"internal": True}


@dataclass(frozen=True, kw_only=True)
class Example:
    """A code sample, or a plain-text example (written in YAML as a bare string)."""

    code: str = field(default="", metadata=spec("Code, shown highlighted."))
    lang: str = field(
        default="text",
        metadata=spec(
            "Pygments language name: bash, dockerfile, yaml, text…",
            pattern=r"^[a-z0-9+#-]+$",
            kind="language name",
            hint="write a Pygments language name in lowercase: bash, yaml, c++, csharp",
        ),
    )
    text: str = field(default="", metadata=spec("Plain-text example (Markdown inline)."))

    # How a card file may write an example, read by both `validate` and `schema`: a bare
    # string stands for {text: string}, and exactly one of code and text is given (the
    # deck and the site show one of them, so the other would be silently dropped).
    SHORTHAND: ClassVar[str] = "text"
    ONE_OF: ClassVar[tuple[str, ...]] = ("code", "text")

    @property
    def is_code(self) -> bool:
        return bool(self.code)


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One glossary term: the unit of a site page and of an Anki note."""

    id: str = field(
        metadata=spec(
            "Stable id: the Anki note identity and the page URL. Never change it once published.",
            pattern=ID_PATTERN,
            kind="id",
            hint=ID_HINT,
        )
    )
    term: str = field(metadata=spec("Canonical Russian term, as a reader looks it up: «Под»."))
    en: str | None = field(default=None, metadata=spec("English or original name: Pod."))
    aliases: tuple[str, ...] = field(
        default=(), metadata=spec("Other names and jargon for this entry: кубер, k8s.")
    )
    forms: tuple[str, ...] = field(
        default=(),
        metadata=spec("Explicit word forms, for jargon a dictionary inflects wrong: подов, подах."),
    )
    match_case: bool = field(
        default=False,
        metadata=spec("Link only mentions in exactly this case (RUN, not run)."),
    )
    # The sense of a name: where a word means this entry and where it means something else.
    collocations: tuple[str, ...] = field(
        default=(),
        metadata=spec(
            "Phrases that mean this entry wherever they stand, linked as a whole and inflected "
            "like names, but not shown as names: «контроллер заданий» for Job."
        ),
    )
    not_in: tuple[str, ...] = field(
        default=(),
        metadata=spec(
            "Phrases in which a name of this entry means something else, never linked: "
            "«контейнер внедрения зависимостей» for Container."
        ),
    )
    ambiguous: tuple[str, ...] = field(
        default=(),
        metadata=spec(
            "Names of this entry that are also common words («узел», «контейнер»): linked "
            "only in a paragraph about the topic, that is one naming another entry of this "
            "topic or of `context`, or on such a page."
        ),
    )
    context: tuple[str, ...] = field(
        default=(),
        metadata=spec(
            "Topic or entry ids whose mentions also show a paragraph is about this entry's "
            "subject, for its `ambiguous` names: [kubernetes].",
            pattern=ID_PATTERN,
            kind="topic or entry id",
            hint=ID_HINT,
        ),
    )
    definition: str = field(
        metadata=spec("The answer to recall: one idea, at most 30 words, Markdown inline.")
    )
    clue: str | None = field(
        default=None,
        metadata=spec(
            "What the «definition → term» card shows instead of the definition, where the "
            "definition cannot be read with the entry's names masked. Markdown inline."
        ),
    )
    details: str | None = field(default=None, metadata=spec("Longer explanation, Markdown."))
    examples: tuple[Example, ...] = field(
        default=(), metadata=spec("Examples: {code, lang} mappings or plain strings.")
    )
    related: tuple[str, ...] = field(
        default=(),
        metadata=spec("Ids of related entries.", pattern=ID_PATTERN, kind="id", hint=ID_HINT),
    )
    source: str | None = field(
        default=None,
        metadata=spec(
            "The original wording from the notes, verbatim; absent if the notes lack it."
        ),
    )
    source_note: str | None = field(
        default=None,
        metadata=spec("What the quoted notes get wrong, shown beside the quote; Markdown inline."),
    )
    tags: tuple[str, ...] = field(
        default=(),
        metadata=spec(
            "Tags, also used in Anki: basics, networking.",
            pattern=ID_PATTERN,
            kind="tag",
            hint=ID_HINT,
        ),
    )

    topic: str = field(default="", compare=False, repr=False, metadata=INTERNAL)
    pos: Pos = field(default=NO_POS, compare=False, repr=False, metadata=INTERNAL)
    # Where each field's value starts, so later checks (related, collisions) can point
    # there: line and column packed in one int (`pack_pos`), in this entry's file. A
    # glossary keeps ~16 per entry; as Pos objects they were most of what loading kept
    # alive, in memory and in every collection's scan.
    field_pos: Mapping[str, int] = field(
        default_factory=lambda: MappingProxyType({}), compare=False, repr=False, metadata=INTERNAL
    )

    def pos_of(self, name: str) -> Pos:
        packed = self.field_pos.get(name)
        if packed is None:
            return self.pos
        line, col = divmod(packed, _COLUMNS)
        return Pos(self.pos.path, line, col)

    def card_texts(self) -> Iterator[tuple[str, str]]:
        """The Markdown texts a card and a page show, by field: the only ones that may
        hold images, and the ones editorial checks read (names and `source` are not)."""
        yield "definition", self.definition
        if self.clue:
            yield "clue", self.clue
        if self.details:
            yield "details", self.details
        for index, example in enumerate(self.examples):
            if example.text:
                yield f"examples[{index}]", example.text

    @property
    def names(self) -> tuple[str, ...]:
        """The term and every alias: all the names that mean this entry."""
        return (self.term, *self.aliases)

    @property
    def english_name(self) -> str | None:
        """The English name without its gloss: "Image (container image)" → "Image"."""
        if not self.en:
            return None
        return self.en.split(" (", 1)[0].strip() or None


@dataclass(frozen=True, kw_only=True)
class Topic:
    """One card file: a topic with its entries."""

    topic: str = field(
        metadata=spec(
            "Stable topic id: docker, cicd.", pattern=ID_PATTERN, kind="topic id", hint=ID_HINT
        )
    )
    title: str = field(metadata=spec("Title shown in the deck and on the site."))
    description: str | None = field(default=None, metadata=spec("What the topic covers, Markdown."))
    order: int = field(default=0, metadata=spec("Position among topics, smallest first."))
    entries: tuple[Entry, ...] = field(metadata=spec("The glossary entries of this topic."))

    path: str = field(default="", compare=False, repr=False, metadata=INTERNAL)
    pos: Pos = field(default=NO_POS, compare=False, repr=False, metadata=INTERNAL)
    # The read cache's key of the bytes this topic was read from (readcache.py): it names
    # everything the topic holds, so a later stage may key what it made from the topic by
    # it. Empty when the topic was not loaded from a file with the read cache.
    read_key: str = field(default="", compare=False, repr=False, metadata=INTERNAL)

    @property
    def id(self) -> str:
        return self.topic


@dataclass(frozen=True)
class Glossary:
    """Every topic, in reading order; the input of every build stage."""

    topics: tuple[Topic, ...]
    # Images the entries show: path as written, relative to the cards folder → the file.
    media: Mapping[str, Path] = field(default_factory=lambda: MappingProxyType({}))

    @cached_property
    def entries(self) -> tuple[Entry, ...]:
        return tuple(entry for topic in self.topics for entry in topic.entries)

    @cached_property
    def by_id(self) -> Mapping[str, Entry]:
        return MappingProxyType({entry.id: entry for entry in self.entries})

    @cached_property
    def topic_by_id(self) -> Mapping[str, Topic]:
        return MappingProxyType({topic.topic: topic for topic in self.topics})
