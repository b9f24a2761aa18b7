"""The linker's index rebuilt after a name changed: the keys of every entry whose names did
not change are taken from the last build (`EntryKeys`), and the index is the fresh one."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from konspekt.link import (
    EntryKeys,
    Key,
    Linker,
    LinkIndex,
    _entry_keys,
    _entry_record,
    _merged,
    _rank_order,
    _record_of,
    _Target,
    build_index,
)
from konspekt.model import Entry, Glossary, Topic
from konspekt.ru import russian


def entry(entry_id: str, term: str, **fields: Any) -> Entry:
    return Entry(id=entry_id, term=term, definition="Определение.", topic="k8s", **fields)


# Names that share keys (под/поды, нода/узел), so a key names several entries and the
# order of the entries decides the order of its targets.
ENTRIES = (
    entry("pod", "Под", en="Pod", aliases=("под Kubernetes",)),
    entry("node", "Узел", en="Node", aliases=("нода",), forms=("ноды", "ноде", "нодой")),
    entry("run", "RUN", en="RUN instruction", match_case=True),
    entry(
        "image",
        "Образ",
        en="Image (container image)",
        aliases=("Docker-образ",),
        not_in=("образ жизни",),
        collocations=("слой образа",),
    ),
    entry("volume", "Том", en="Volume", ambiguous=("том",), context=("pod",)),
    entry("pods", "Поды", aliases=("под",)),
    entry("master", "Мастер-нода", aliases=("главный узел",)),
    entry("service", "Сервис", en="Service", aliases=("служба",)),
)


def glossary(entries: tuple[Entry, ...]) -> Glossary:
    return Glossary((Topic(topic="k8s", title="Kubernetes", entries=entries),))


Edit = Callable[[list[Entry]], None]


def changed(index: int, **fields: Any) -> Edit:
    def edit(entries: list[Entry]) -> None:
        entries[index] = dataclasses.replace(entries[index], **fields)

    return edit


def inserted(entries: list[Entry]) -> None:
    # In the middle, with a name other entries have: every later entry's place changes.
    entries.insert(3, entry("worker", "Рабочий узел", aliases=("нода",)))


def removed(entries: list[Entry]) -> None:
    del entries[1]


def swapped(entries: list[Entry]) -> None:
    entries[0], entries[5] = entries[5], entries[0]


def everything(entries: list[Entry]) -> None:
    for edit in EDITS.values():
        if edit is not everything:
            edit(entries)


def names(e: Entry) -> tuple[object, ...]:
    return (e.term, e.aliases, e.forms, e.en, e.match_case, e.collocations, e.not_in, e.ambiguous)


EDITS: dict[str, Edit] = {
    "renamed": changed(0, term="Под кластера"),
    "inserted": inserted,
    "removed": removed,
    "swapped": swapped,
    "aliases": changed(1, aliases=("нода", "воркер")),
    "forms": changed(1, forms=("ноды",)),
    "match_case": changed(2, match_case=False),
    "en": changed(7, en="Svc"),
    "not_in": changed(3, not_in=("образ мыслей",)),
    "collocations": changed(3, collocations=("слои образа", "образ контейнера")),
    "ambiguous": changed(4, ambiguous=()),
    "term of a shared name": changed(5, term="Подсистема"),
}
EDITS["all at once"] = everything


def same(index: LinkIndex, fresh: LinkIndex) -> None:
    """The same keys in the same order, each with the same targets in the same order."""
    assert list(index.table.items()) == list(fresh.table.items())
    assert index.to_json() == fresh.to_json()


@pytest.mark.parametrize("name", EDITS)
def test_kept_entry_keys_give_the_fresh_index(tmp_path: Path, name: str) -> None:
    """The guard of the reuse. Checked by breaking it: with `aliases` (or `match_case`,
    `ambiguous`, `collocations`) left out of the digest that names an entry's record,
    the edit of that field fails here; with records found by entry id, every edit of
    names fails."""
    Linker.for_glossary(glossary(ENTRIES), tmp_path)
    [saved] = tmp_path.glob("entry-keys-*.json")
    entries = list(ENTRIES)
    EDITS[name](entries)
    edited = glossary(tuple(entries))
    fresh = build_index(edited.entries, russian())  # every entry's keys made
    assert fresh != build_index(ENTRIES, russian())
    known_names = set(map(names, ENTRIES))
    made = sum(names(e) not in known_names for e in entries)

    known = EntryKeys.load(saved)
    same(build_index(edited.entries, russian(), known), fresh)
    assert known.made == made  # only the entries whose names changed: reused, really

    # The same through the cache, as a build runs it; and the cache is then the fresh one.
    same(Linker.for_glossary(edited, tmp_path).index, fresh)
    same(Linker.for_glossary(edited, tmp_path).index, fresh)


def test_the_kept_keys_are_those_of_the_current_entries(tmp_path: Path) -> None:
    """Bounded: names that are gone are dropped when saved; other code's files removed."""
    stale = tmp_path / "entry-keys-0123456789abcdef0123456789abcdef.json"
    stale.write_text("{}", encoding="utf-8")
    Linker.for_glossary(glossary(ENTRIES), tmp_path)
    entries = list(ENTRIES)
    removed(entries)
    EDITS["renamed"](entries)
    Linker.for_glossary(glossary(tuple(entries)), tmp_path)
    [saved] = tmp_path.glob("entry-keys-*")
    assert saved != stale
    [_] = tmp_path.glob("linker-*")
    kept = json.loads(saved.read_text(encoding="utf-8"))["entries"]
    assert len(kept) == len(entries)  # not the removed one, nor the old name
    only = EntryKeys.load(saved)
    build_index(tuple(entries), russian(), only)
    assert only.made == 0


def damaged_record(record: list[Any]) -> list[Any]:
    keys, specs, rows = record
    return [keys, specs, [*rows[:-1], len(specs)]]


RECORD_DAMAGES: dict[str, Callable[[list[Any]], object]] = {
    "not a list": lambda r: "под",
    "too short": lambda r: r[:2],
    "too long": lambda r: [*r, 1],
    "keys not text": lambda r: [r[0].split("\x1e"), r[1], r[2]],
    "a row out of range": damaged_record,
    "a negative row": lambda r: [r[0], r[1], [-1] * len(r[2])],
    "a bool row": lambda r: [r[0], r[1], [True] * len(r[2])],
    "a float row": lambda r: [r[0], r[1], [0.0] * len(r[2])],
    "a key missing": lambda r: [r[0].rsplit("\x1e", 1)[0], r[1], r[2]],
    "a rank out of range": lambda r: [r[0], [[9, None, False]], [0] * len(r[2])],
    "a rank as text": lambda r: [r[0], [["2", None, False]], [0] * len(r[2])],
    "cased not text": lambda r: [r[0], [[2, 1, False]], [0] * len(r[2])],
    "ambiguous not a bool": lambda r: [r[0], [[2, None, 0]], [0] * len(r[2])],
    "a target too short": lambda r: [r[0], [[2, None]], [0] * len(r[2])],
}


@pytest.mark.parametrize("damage", RECORD_DAMAGES)
def test_a_damaged_record_is_made_again_never_trusted(tmp_path: Path, damage: str) -> None:
    Linker.for_glossary(glossary(ENTRIES), tmp_path)
    [saved] = tmp_path.glob("entry-keys-*")
    data = json.loads(saved.read_text(encoding="utf-8"))
    first = next(iter(data["entries"]))
    data["entries"][first] = RECORD_DAMAGES[damage](data["entries"][first])
    saved.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    known = EntryKeys.load(saved)
    same(build_index(ENTRIES, russian(), known), build_index(ENTRIES, russian()))
    assert known.made == 1


@pytest.mark.parametrize(
    "damage", ["not json", "[]", '{"format": 0, "entries": {}}', '{"format": 1, "entries": []}']
)
def test_a_damaged_file_of_kept_keys_is_not_read(tmp_path: Path, damage: str) -> None:
    Linker.for_glossary(glossary(ENTRIES), tmp_path)
    [saved] = tmp_path.glob("entry-keys-*")
    saved.write_text(damage, encoding="utf-8")
    known = EntryKeys.load(saved)
    same(build_index(ENTRIES, russian(), known), build_index(ENTRIES, russian()))
    assert known.made == len(ENTRIES)


def reference(entries: tuple[Entry, ...]) -> list[tuple[Key, tuple[_Target, ...]]]:
    """The index as built before records were kept: every key of every entry in turn,
    each merged into the key's targets as made; then sorted, best first."""
    index: dict[Key, tuple[_Target, ...]] = {}
    for order, one in enumerate(entries):
        for key, target in _entry_keys(russian(), order, one):
            targets = index.get(key)
            index[key] = (target,) if targets is None else _merged(targets, target)
    return [
        (key, tuple(sorted(targets, key=_rank_order)) if len(targets) > 1 else targets)
        for key, targets in index.items()
    ]


@pytest.mark.parametrize("name", EDITS)
def test_the_index_is_made_of_every_entrys_keys_in_turn(name: str) -> None:
    """The records (an entry's keys without its id and place) change nothing: the same
    keys, in the same order, with the same targets as `_entry_keys` gives them."""
    entries = list(ENTRIES)
    EDITS[name](entries)
    assert list(build_index(tuple(entries), russian()).table.items()) == reference(tuple(entries))


@pytest.mark.parametrize("name", EDITS)
def test_an_entrys_record_is_made_of_its_keys_and_targets(name: str) -> None:
    """`_entry_record` takes a name's keys at once: the same record, specs numbered in the
    same order, as one made key by key from the targets `_entry_keys` gives."""
    entries = list(ENTRIES)
    EDITS[name](entries)
    entries += [
        entry("latin", "Docker", aliases=("Docker-образ", "API сервер"), forms=("докер",)),
        # Names in the plural: a generated form comes first, the name as written later.
        entry("labels", "Метки", aliases=("лейблы", "переменные конвейера"), ambiguous=("метки",)),
    ]
    for one in entries:
        assert _entry_record(russian(), one) == _record_of(_entry_keys(russian(), 0, one))


def test_a_few_new_names_are_made_again_rather_than_saved(tmp_path: Path) -> None:
    """Saving every entry's keys costs more than making a few again: after one rename of
    many entries the file is left as it was, and the next build still gets it right."""
    syllables = ["ба", "ве", "ги", "до", "жу", "зе", "ки", "ло", "му", "но"]
    many = tuple(
        entry(f"t{i}", "".join(syllables[int(d)] for d in f"{i:02d}").capitalize() + "р")
        for i in range(40)
    )
    Linker.for_glossary(glossary(many), tmp_path)
    [saved] = tmp_path.glob("entry-keys-*")
    before = saved.read_bytes()
    entries = list(many)
    entries[7] = dataclasses.replace(entries[7], term="Маркер сборки")
    Linker.for_glossary(glossary(tuple(entries)), tmp_path)
    assert saved.read_bytes() == before

    entries[20] = dataclasses.replace(entries[20], aliases=("буфер",))
    known = EntryKeys.load(saved)
    same(build_index(tuple(entries), russian(), known), build_index(tuple(entries), russian()))
    assert known.made == 2  # the name not saved, and the new one
    fresh = build_index(tuple(entries), russian())
    same(Linker.for_glossary(glossary(tuple(entries)), tmp_path).index, fresh)
