"""The note type: its fields and card templates. Guard this file in review.

Anki matches a note type's fields by id and treats a note type with a different field
list as a new one: every learner's notes would turn "conflicting" and stop updating.
So the ids here are fixed forever, and tests/test_deck.py pins the field list.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from pygments.formatters import HtmlFormatter

from ..render import PYGMENTS_DARK, PYGMENTS_LIGHT, highlight_css


@dataclass(frozen=True)
class NoteField:
    name: str
    id: int  # fixed forever: Anki matches fields by id, so a field can be renamed later
    description: str  # shown in Anki's editor while the field is empty


# Frozen: adding, removing or reordering a field makes Anki treat every existing note as
# "conflicting". The one spare field (id 1512754917, `Extra`) became `Question`;
# a renamed field keeps its id, so Anki still sees the same note type.
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
    # Was the spare `Extra` (same id): the question of the «definition → term» card.
    NoteField("Question", 1512754917, "Вопрос: определение без названий термина"),
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


@cache
def template_text(name: str) -> str:
    return resources.files(__package__).joinpath("templates", name).read_text(encoding="utf-8")


def card_css() -> str:
    """The note type's CSS: card styles, then Pygments for light and both night classes."""
    night_mode_droid = HtmlFormatter(style=PYGMENTS_DARK).get_style_defs(".night_mode .highlight")
    return f"{template_text('card.css')}\n{highlight_css()}{night_mode_droid}\n"


def notetype_json(title: str) -> dict[str, Any]:
    """The note type as genanki takes it: name, fields, templates, CSS."""
    more = template_text("more.html")
    return {
        "name": f"{title} · термин (konspekt)",
        "fields": [
            {"name": f.name, "id": f.id, "description": f.description, "font": "Arial", "size": 20}
            for f in FIELDS
        ],
        "templates": [
            {
                "name": t.name,
                "id": t.id,
                "qfmt": template_text(t.front),
                "afmt": template_text(t.back).replace("<!-- more -->", more),
            }
            for t in TEMPLATES
        ],
        "css": card_css(),
    }


def notetype_identity(title: str) -> dict[str, Any]:
    """What the note type's change time follows: our templates and CSS, and the Pygments
    style names, not the rules a Pygments release generates from them."""
    spec = notetype_json(title)
    spec["css"] = [template_text("card.css"), PYGMENTS_LIGHT, PYGMENTS_DARK]
    return spec
