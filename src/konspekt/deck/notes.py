"""A note's content: what an entry gives the deck, typed, and how it renders to fields.

`NoteSource` is everything a note is made from. The ledger stores it (so a removed entry
can still be rebuilt as a retired note), the note hash is a hash of it plus the
`NoteContext`, and rendering reads nothing else: a field that rendering uses is covered
by the hash because it can only come from these two objects.
"""

from __future__ import annotations

import hashlib
import html
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..errors import DamagedLedgerError
from ..link import Linker
from ..mask import MASK
from ..media import anki_name, image_paths, rewrite_images
from ..model import Entry, Glossary, Topic
from ..render import highlight, inline_html, markdown_html
from ..ru import same_name, shown_aliases
from .notetype import FIELD_NAMES
from .options import DeckOptions
from .questions import Question, Questions

RETIRED_STATUS = (
    "Этого термина больше нет в конспекте. Карточки можно удалить: "
    "найдите их в браузере по тегу {tag}."
)

# The ledger hashes what a note is made from, not the HTML it renders to, so a new
# Pygments, Markdown or nh3 release does not make the committed ledger stale. Bump this
# when note_fields() or note_tags() change what notes show: every note then counts as
# changed, and learners get the new rendering on their next import.
NOTE_FORMAT = 2  # 2: the Question field; cards lead with the answer, the rest folded


@dataclass(frozen=True)
class CodeExample:
    code: str
    lang: str


@dataclass(frozen=True)
class TextExample:
    text: str  # inline Markdown, image paths already renamed for Anki


NoteExample = CodeExample | TextExample


@dataclass(frozen=True, kw_only=True)
class NoteSource:
    """An entry's note-relevant content; Markdown texts carry Anki's media names."""

    topic: str
    topic_title: str
    term: str
    definition: str
    en: str | None = None
    aliases: tuple[str, ...] = ()
    details: str | None = None
    examples: tuple[NoteExample, ...] = ()
    related: tuple[str, ...] = ()
    source: str | None = None
    tags: tuple[str, ...] = ()
    # Anki media name → sha256 of the file: a new picture must update the note.
    media: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # The «definition → term» card's question: the clue or the definition with every
    # name of the entry masked, and the topic label unless it names the answer.
    question: str = ""
    question_topic: str | None = None

    @classmethod
    def from_entry(
        cls,
        entry: Entry,
        topic: Topic,
        media_hashes: Mapping[str, str] | None = None,
        questions: Questions | None = None,
    ) -> NoteSource:
        """The entry's note; without `questions`, its question is left unmasked."""
        hashes = media_hashes or {}
        text = _to_anki(entry.clue or entry.definition)
        if questions is None:
            question = Question(text, topic.title)
        else:
            question = questions.of(entry, text, topic)
        return cls(
            topic=topic.topic,
            topic_title=topic.title,
            term=entry.term,
            en=entry.en,
            aliases=entry.aliases,
            definition=_to_anki(entry.definition),
            details=_to_anki(entry.details) if entry.details else None,
            examples=tuple(
                CodeExample(ex.code, ex.lang) if ex.is_code else TextExample(_to_anki(ex.text))
                for ex in entry.examples
            ),
            related=entry.related,
            source=entry.source,
            tags=entry.tags,
            media=MappingProxyType(
                {
                    anki_name(path): hashes.get(path, "")
                    for _, text in entry.card_texts()
                    for path in image_paths(text)
                }
            ),
            question=question.text,
            question_topic=question.topic,
        )

    def to_json(self) -> dict[str, Any]:
        """JSON values, as the ledger keeps them; empty values are left out."""
        data: dict[str, Any] = {
            "topic": self.topic,
            "topic_title": self.topic_title,
            "term": self.term,
            "en": self.en,
            "aliases": list(self.aliases),
            "definition": self.definition,
            "details": self.details,
            "examples": [
                {"code": ex.code, "lang": ex.lang}
                if isinstance(ex, CodeExample)
                else {"text": ex.text}
                for ex in self.examples
            ],
            "related": list(self.related),
            "source": self.source,
            "tags": list(self.tags),
            "media": dict(self.media),
            "question": self.question,
            "question_topic": self.question_topic,
        }
        return {key: value for key, value in data.items() if value not in (None, [], {})}

    @classmethod
    def from_json(cls, entry_id: str, data: Any) -> NoteSource:
        """Read a ledger record back; DamagedLedgerError names what is wrong with it."""
        try:
            if not isinstance(data, dict):
                raise TypeError("not an object")
            return cls(
                topic=_text(data["topic"]),
                topic_title=_text(data["topic_title"]),
                term=_text(data["term"]),
                definition=_text(data["definition"]),
                en=_optional_text(data.get("en")),
                aliases=_texts(data.get("aliases", [])),
                details=_optional_text(data.get("details")),
                examples=tuple(_example(raw) for raw in data.get("examples", [])),
                related=_texts(data.get("related", [])),
                source=_optional_text(data.get("source")),
                tags=_texts(data.get("tags", [])),
                media=MappingProxyType(
                    {_text(k): _text(v) for k, v in dict(data.get("media", {})).items()}
                ),
                question=_text(data.get("question", "")),
                question_topic=_optional_text(data.get("question_topic")),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise DamagedLedgerError(
                f"the ledger's record of entry '{entry_id}' is incomplete ({error!r})"
            ) from error


def note_sources(
    glossary: Glossary, media_hashes: Mapping[str, str], masks: Linker | Questions
) -> dict[str, NoteSource]:
    """Every entry's note content, in reading order, names masked by the glossary's
    linker (or by `Questions`, which keeps what it masked between builds)."""
    questions = masks if isinstance(masks, Questions) else Questions(glossary, masks)
    return {
        entry.id: NoteSource.from_entry(entry, topic, media_hashes, questions)
        for topic in glossary.topics
        for entry in topic.entries
    }


def media_hashes(media: Mapping[str, bytes]) -> dict[str, str]:
    """sha256 of each image, by its path in the cards: a new picture updates its notes."""
    return {path: hashlib.sha256(data).hexdigest() for path, data in media.items()}


def _to_anki(text: str) -> str:
    """Card Markdown with image paths renamed to the deck's flat media names."""
    return rewrite_images(text, anki_name)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a string")
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _texts(values: Any) -> tuple[str, ...]:
    if not isinstance(values, list):
        raise TypeError(f"{values!r} is not a list")
    return tuple(_text(value) for value in values)


def _example(raw: Any) -> NoteExample:
    if not isinstance(raw, dict):
        raise TypeError(f"example {raw!r} is not an object")
    if "code" in raw:
        return CodeExample(_text(raw["code"]), _text(raw.get("lang", "text")))
    return TextExample(_text(raw["text"]))


@dataclass(frozen=True)
class NoteContext:
    """What a note's rendering needs beyond its source: the deck's settings and the
    current terms of the entries it relates to."""

    related_terms: tuple[str, ...]
    site_url: str | None
    tag_root: str
    retired_tag: str
    retired: bool

    @classmethod
    def of(
        cls,
        source: NoteSource,
        *,
        terms: Mapping[str, str],
        options: DeckOptions,
        retired: bool,
    ) -> NoteContext:
        return cls.of_related(source.related, terms=terms, options=options, retired=retired)

    @classmethod
    def of_related(
        cls,
        related: tuple[str, ...],
        *,
        terms: Mapping[str, str],
        options: DeckOptions,
        retired: bool,
    ) -> NoteContext:
        """`of` a note whose source relates to `related` (its `related`)."""
        return cls(
            related_terms=tuple(terms.get(target, target) for target in related),
            site_url=options.site_url,
            tag_root=options.tag_root,
            retired_tag=options.retired_tag,
            retired=retired,
        )


def note_hash(entry_id: str, source: NoteSource, context: NoteContext) -> str:
    """A hash of everything the note's fields and tags are made from."""
    return digest_json(
        {
            "format": NOTE_FORMAT,
            "id": entry_id,
            "entry": source.to_json(),
            "related": list(context.related_terms),
            "site_url": context.site_url,
            "tag_root": context.tag_root,
            "retired": context.retired,
        }
    )


def digest_json(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def note_fields(
    entry_id: str, source: NoteSource, context: NoteContext, *, question: bool = True
) -> tuple[str, ...]:
    """The note's field values, in FIELDS order, as safe HTML.

    Text meant as plain text (names, the verbatim source) is escaped; Markdown goes
    through konspekt.render, which escapes raw HTML. Without `question`, the Question
    field is left empty (`with_question` fills it in): no other field reads it, so the
    others can be rendered before the question is masked.
    """
    esc = html.escape
    # A name that only repeats one shown above it adds nothing to the card.
    english = "" if source.en is None or same_name(source.en, source.term) else source.en
    aliases = shown_aliases(source.term, english, source.aliases)
    values = {
        "Term": esc(source.term),
        "English": esc(english),
        "Aliases": esc(", ".join(aliases)),
        "Definition": inline_html(source.definition),
        "Details": markdown_html(source.details) if source.details else "",
        "Examples": "".join(_example_html(example) for example in source.examples),
        "Related": " ".join(
            f'<span class="kk-rel">{esc(term)}</span>' for term in context.related_terms
        ),
        "Source": esc(source.source or "").replace("\n", "<br>"),
        # A retired entry has no page on the site any more.
        "Link": esc(f"{context.site_url}glossary/{entry_id}/")
        if context.site_url and not context.retired
        else "",
        "Topic": esc(source.topic_title),
        "Id": esc(entry_id),
        "Status": esc(RETIRED_STATUS.format(tag=context.retired_tag)) if context.retired else "",
        "Question": _question_html(source) if question else "",
    }
    return tuple(unicodedata.normalize("NFC", values[name]) for name in FIELD_NAMES)


_QUESTION_FIELD = FIELD_NAMES.index("Question")


def with_question(fields: tuple[str, ...], source: NoteSource) -> tuple[str, ...]:
    """`note_fields(..., question=False)` completed: what `note_fields` gives."""
    question = unicodedata.normalize("NFC", _question_html(source))
    return (*fields[:_QUESTION_FIELD], question, *fields[_QUESTION_FIELD + 1 :])


def note_tags(source: NoteSource, context: NoteContext) -> tuple[str, ...]:
    """Hierarchical tags: devops::kubernetes, devops::kubernetes::basics, devops::retired."""
    return tags_of(source.topic, source.tags, context)


def tags_of(topic_id: str, own: tuple[str, ...], context: NoteContext) -> tuple[str, ...]:
    """`note_tags` of a note whose source has this `topic` and these `tags` (`own`)."""
    topic = f"{context.tag_root}::{topic_id}"
    tags = [topic, *(f"{topic}::{tag}" for tag in own)]
    if context.retired:
        tags.append(context.retired_tag)
    return tuple(sorted(set(tags)))


_MASK_MARK = "\ue000"  # a private-use character: never in card text, survives Markdown


def _question_html(source: NoteSource) -> str:
    topic = source.question_topic
    label = f'<div class="kk-topic">{html.escape(topic)}</div>' if topic else ""
    if not source.question:
        return label
    text = inline_html(source.question.replace(_MASK_MARK, "").replace(MASK, _MASK_MARK))
    text = text.replace(_MASK_MARK, f'<span class="kk-mask">{MASK}</span>')
    return f'{label}<div class="kk-definition">{text}</div>'


def _example_html(example: NoteExample) -> str:
    # tex2jax_ignore/mathjax_ignore: Anki runs MathJax over cards, and code such as
    # grep '\(a\)' must not turn into formulas.
    if isinstance(example, CodeExample):
        code = highlight(example.code, example.lang)
        return f'<div class="kk-example tex2jax_ignore mathjax_ignore">{code}</div>'
    return f'<div class="kk-example kk-example-text">{inline_html(example.text)}</div>'
