"""Packaging a planned deck as an .apkg: genanki's collection, our ids and times, a fixed zip."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import genanki

from ..errors import BuildError
from ..render import markdown_html
from .notetype import notetype_json
from .options import deck_id, notetype_id
from .plan import DeckPlan, PlannedNote, subdeck_name
from .zipped import PieceCache, zip_bytes

ROOT_DESCRIPTION = (
    "Термины из конспекта. Новую версию колоды импортируйте поверх этой: изменённые "
    "карточки обновятся, прогресс и ваши правки остальных карточек сохранятся."
)


class _Model(genanki.Model):
    """genanki's Model with a fixed modification time instead of the build's."""

    def __init__(self, mtime: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._mtime = mtime

    def to_json(self, timestamp: float, deck_id: int) -> dict[str, Any]:
        data: dict[str, Any] = super().to_json(timestamp, deck_id)
        data["mod"] = self._mtime
        return data


class _Deck(genanki.Deck):
    """genanki's Deck, its notes written as rows computed here.

    genanki builds an object per note and card and checks each field with a regex;
    at 5,000 notes that was most of the collection's cost. The rows are the ones
    genanki 0.13 writes (the same statements, values and order, so the same file; the
    fields come as their UTF-8 bytes, stored as the same text):
    per deck, the deck and the note type go into `col` first (genanki's own code, with
    no notes attached), then each note's row followed by its cards' rows.
    """

    def __init__(
        self,
        deck_id: int,
        name: str,
        description: str,
        model: genanki.Model,
        notes: list[PlannedNote],
    ) -> None:
        super().__init__(deck_id, name, description)
        self._model = model
        self._planned = notes
        if notes:  # genanki records a note type in `col` for each deck with notes of it
            self.add_model(model)

    def write_to_db(self, cursor: Any, timestamp: float, id_gen: Any) -> None:
        super().write_to_db(cursor, timestamp, id_gen)  # the deck and note type, no notes
        model_id = self._model.model_id
        sort_index = self._model.sort_field_index
        # genanki's Note.cards: a card for each template whose required fields are set.
        required = [
            (card_ord, any if mode == "any" else all, ords)
            for card_ord, mode, ords in self._model._req
        ]
        # The fields come as UTF-8 (cache.joined): CAST(? AS TEXT) stores those bytes as
        # the text a str would have been, without joining and encoding every note again.
        insert_note = "INSERT INTO notes VALUES(?,?,?,?,?,?,CAST(? AS TEXT),CAST(? AS TEXT),?,?,?);"
        insert_card = "INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?);"
        for note in self._planned:
            # The note id and modification time come from the ledger (plan.py); genanki
            # would take the clock. A note's cards get the ids after it.
            flds = note.joined_fields
            fields = flds.split(b"\x1f")
            mtime = note.mtime
            cursor.execute(
                insert_note,
                (
                    note.note_id,
                    note.guid,
                    model_id,
                    mtime,
                    -1,
                    " " + " ".join(note.tags) + " ",
                    flds,
                    fields[sort_index],
                    0,
                    0,
                    "",
                ),
            )
            if note.topic is None:
                # A retired note ships without cards: a new learner gets no card to study,
                # a learner who has its cards keeps them, and the note update shows the notice.
                continue
            card_id = note.note_id
            for card_ord, test, ords in required:
                if test(fields[i] for i in ords):
                    cursor.execute(
                        insert_card,
                        (card_id, note.note_id, self.deck_id, card_ord, mtime, -1, 0, 0,
                         note.due, 0, 0, 0, 0, 0, 0, 0, 0, ""),
                    )  # fmt: skip
                    card_id += 1


def _notetype(plan: DeckPlan) -> genanki.Model:
    spec = notetype_json(plan.options.title)
    return _Model(
        plan.notetype_mtime,
        model_id=notetype_id(plan.options),
        name=spec["name"],
        fields=spec["fields"],
        templates=spec["templates"],
        css=spec["css"],
        sort_field_index=0,
    )


def package_bytes(plan: DeckPlan, pieces: PieceCache | None = None) -> bytes:
    """The .apkg: genanki's collection with fixed ids and times, in a reproducible zip.

    `pieces` holds what earlier builds compressed (zipped.py); it changes no byte.
    """
    options = plan.options
    model = _notetype(plan)
    # Retired notes have no cards, so no deck shows them; genanki files notes by deck.
    notes: dict[str | None, list[PlannedNote]] = {None: []}
    notes.update((topic.topic, []) for topic in plan.topics)
    for planned in plan.notes:
        notes[planned.topic].append(planned)
    decks = [_Deck(deck_id(options), options.title, ROOT_DESCRIPTION, model, notes[None])]
    for topic in plan.topics:
        description = markdown_html(topic.description) if topic.description else ""
        decks.append(
            _Deck(
                deck_id(options, topic.topic),
                subdeck_name(options, topic),
                description,
                model,
                notes[topic.topic],
            )
        )

    with tempfile.TemporaryDirectory(prefix="konspekt-deck-") as tmp:
        db_path = Path(tmp) / "collection.anki2"
        connection = sqlite3.connect(db_path)
        try:
            # A scratch file: no syncs, no journal on disk, no cache spills mid-way. None
            # of these changes the file's bytes (not so an in-memory database: it leaves
            # the header's change counter and SQLite version out).
            connection.executescript(
                "PRAGMA synchronous=OFF; PRAGMA journal_mode=MEMORY; PRAGMA cache_size=-200000;"
            )
            unused_ids = iter(())  # every note brings its own ids
            genanki.Package(decks).write_to_db(connection.cursor(), plan.notetype_mtime, unused_ids)
            connection.commit()
        except sqlite3.Error as error:
            raise BuildError(f"cannot write the deck's collection: {error}") from error
        finally:
            connection.close()
        collection = db_path.read_bytes()

    # An .apkg stores media files as "0", "1", … and maps them to names in "media".
    members = {"collection.anki2": collection}
    names = {}
    for index, (name, data) in enumerate(plan.media):
        members[str(index)] = data
        names[str(index)] = name
    members["media"] = json.dumps(names, sort_keys=True).encode("utf-8")
    return zip_bytes(sorted(members.items()), PieceCache() if pieces is None else pieces)
