"""The Anki deck, checked with real Anki: import, review, edit, rebuild, import again."""

from __future__ import annotations

import gc
import io
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import genanki
import pytest
from anki.collection import Collection, ImportAnkiPackageRequest
from anki.import_export_pb2 import ImportResponse
from anki.notes import Note
from bench_scripts import load_script
from hypothesis import given, settings
from hypothesis import strategies as st
from test_media import png

import konspekt.deck.cache
import konspekt.deck.ledger
import konspekt.deck.memo
import konspekt.deck.notes
import konspekt.deck.notetype
import konspekt.deck.options
import konspekt.deck.package
import konspekt.deck.questions
import konspekt.link
import konspekt.output
import konspekt.pool
from conftest import DEVOPS_PROJECT, ROOT, run_cli
from konspekt import BuildError, load_glossary
from konspekt.cli import resolve_deck_options
from konspekt.deck import DeckOptions, DeckReport, build_deck, ledger_is_current, stale_message
from konspekt.deck.ledger import dumps_indented, dumps_ledger, loads_ledger
from konspekt.deck.notetype import FIELD_NAMES, FIELDS, TEMPLATES
from konspekt.deck.options import deck_id, note_guid
from konspekt.deck.plan import DeckPlan, PlannedNote, plan_deck, subdeck_name
from konspekt.errors import CardsError
from konspekt.project import Project
from konspekt.render import markdown_html

FIXTURE = Path(__file__).parent / "fixtures" / "deck"
SITE = "https://example.org/devops/"
DEVOPS = DeckOptions(title="DevOps")
T1 = 1_700_000_000  # 2023-11-14T22:13:20Z: the first build
T2 = T1 + 86_400  # a day later: the next build


@pytest.fixture
def cards(tmp_path: Path) -> Path:
    """A private copy of the fixture cards, free to edit."""
    return Path(shutil.copytree(FIXTURE, tmp_path / "cards"))


@pytest.fixture
def col(tmp_path: Path) -> Iterator[Collection]:
    """A fresh, empty Anki collection: a learner's first install."""
    collection = open_collection(tmp_path / "learner")
    yield collection
    collection.close()


def open_collection(folder: Path) -> Collection:
    folder.mkdir(parents=True)
    return Collection(str(folder / "collection.anki2"))


def build(cards: Path, now: int = T1, out: Path | None = None) -> DeckReport:
    """Build the deck from `cards` as if the clock said `now`."""
    return build_deck(
        load_glossary(cards),
        out or cards.parent / "devops.apkg",
        ledger_path=cards / "anki.lock",
        options=DeckOptions(title="DevOps", site_url=SITE),
        now=now,
    )


def edit(cards: Path, name: str, old: str, new: str) -> None:
    path = cards / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def import_deck(col: Collection, apkg: Path) -> ImportResponse.Log:
    """Import the way Anki's import dialog does by default ("update if newer")."""
    defaults = col._backend.get_import_anki_package_presets()
    request = ImportAnkiPackageRequest(package_path=str(apkg), options=defaults)
    return col.import_anki_package(request).log


def note_of(col: Collection, entry_id: str) -> Note:
    (note_id,) = col.find_notes(f'"Id:{entry_id}"')
    return col.get_note(note_id)


def mods(col: Collection) -> dict[str, int]:
    """Each note's modification time, by entry id."""
    notes = [col.get_note(note_id) for note_id in col.find_notes("")]
    return {note["Id"]: note.mod for note in notes}


def updated_ids(log: ImportResponse.Log) -> list[str]:
    return sorted(note.fields[FIELD_NAMES.index("Id")] for note in log.updated)


def text_of(html: str) -> str:
    """Card HTML as a person reads it: no style sheet, no tags, single spaces."""
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- the note type --------------------------------------------------------------------


def test_field_list_is_frozen() -> None:
    # Changing any of this makes every learner's existing notes "conflicting":
    # Anki stops updating them. Only change it deliberately, and say so in the release.
    assert [(f.name, f.id) for f in FIELDS] == [
        ("Term", 1229761104),
        ("English", 1472832166),
        ("Aliases", 1212914196),
        ("Definition", 1724403081),
        ("Details", 1481002750),
        ("Examples", 1469408043),
        ("Related", 1466899037),
        ("Source", 1240638953),
        ("Link", 2070280699),
        ("Topic", 2023398609),
        ("Id", 1696231742),
        ("Status", 1824894851),
        ("Question", 1512754917),  # the spare field, renamed: same id
    ]
    assert [(t.name, t.id) for t in TEMPLATES] == [
        ("Термин → определение", 1111148571),
        ("Определение → термин", 1083959353),
    ]


def test_note_identity_comes_from_the_entry_id_alone() -> None:
    assert note_guid("DevOps", "pod") == note_guid("devops", "pod")
    assert note_guid("DevOps", "pod") != note_guid("DevOps", "deployment")
    assert note_guid("DevOps", "pod") != note_guid("Databases", "pod")


@given(st.lists(st.text(), min_size=1, max_size=3))
def test_our_guid_is_genankis(values: list[str]) -> None:
    """The GUID is a learner's note identity: our faster guid_for must be genanki's."""
    assert konspekt.deck.options.guid_for(*values) == genanki.guid_for(*values)


# --- a first import -------------------------------------------------------------------


def test_fresh_import_has_every_note_card_and_subdeck(cards: Path, col: Collection) -> None:
    report = build(cards)
    log = import_deck(col, report.out)

    assert (len(log.new), len(log.updated), len(log.duplicate)) == (5, 0, 0)
    assert col.note_count() == 5
    assert col.card_count() == 10
    assert sorted(d.name for d in col.decks.all_names_and_ids()) == [
        "Default",
        "DevOps",
        "DevOps::Docker",
        "DevOps::Kubernetes",
    ]
    pod = note_of(col, "pod")
    assert col.decks.name(pod.cards()[0].did) == "DevOps::Kubernetes"
    assert sorted(pod.tags) == [
        "devops::kubernetes",
        "devops::kubernetes::basics",
        "devops::kubernetes::workloads",
    ]
    assert pod.note_type()["name"] == "DevOps · термин (konspekt)"
    assert [f["name"] for f in pod.note_type()["flds"]] == [f.name for f in FIELDS]
    assert dict(pod.items()) == {
        "Term": "Под",
        "English": "Pod",
        "Aliases": "Kubernetes Pod",  # "pod" repeats the English name: not shown twice
        "Definition": "Наименьшая единица развёртывания в Kubernetes — один или несколько "
        "контейнеров с общей сетью.",
        "Details": "",
        "Examples": pod["Examples"],  # highlighted HTML: checked below
        "Related": '<span class="kk-rel">Контейнер</span> <span class="kk-rel">Деплоймент</span>',
        "Source": "Под — это обёртка над контейнерами, кубер управляет подами, а не контейнерами.",
        "Link": "https://example.org/devops/glossary/pod/",
        "Topic": "Kubernetes",
        "Id": "pod",
        "Status": "",
        # The definition → term card's question: the names of the answer masked.
        "Question": '<div class="kk-topic">Kubernetes</div><div class="kk-definition">'
        "Наименьшая единица развёртывания в Kubernetes — один или несколько "
        "контейнеров с общей сетью.</div>",
    }
    assert note_of(col, "dockerfile")["English"] == ""  # the same as the term: not repeated
    assert pod["Examples"].count('<div class="highlight">') == 2
    assert '<span class="nt">apiVersion</span>' in pod["Examples"]
    assert ".nightMode .highlight" in pod.note_type()["css"]


def test_cards_render_term_definition_and_the_back_side(cards: Path, col: Collection) -> None:
    import_deck(col, build(cards).out)
    term_card, definition_card = note_of(col, "image").cards()

    assert text_of(term_card.question()) == "Docker Образ Image"
    # The answer to check comes first; the rest is folded under «Подробнее»; the notes'
    # own wording (Source) is not on the card.
    assert text_of(term_card.answer()) == (
        "Docker Образ Image "
        "Неизменяемый шаблон файловой системы и настроек, из которого запускают контейнеры . "
        "Также: docker-образ "
        "Подробнее "
        "Образ состоит из слоёв: каждая инструкция Dockerfile добавляет слой. "
        "Одинаковые слои разных образов хранятся один раз. "
        "Примеры docker build -t app:1.0 . Образ nginx:1.27 — это имя и тег. "
        "Связанные термины Контейнер Dockerfile "
        "Страница термина в справочнике →"
    )
    assert '<details class="kk-more">' in term_card.answer()
    assert '<a class="kk-link" href="https://example.org/devops/glossary/image/">' in (
        term_card.answer()
    )
    assert text_of(definition_card.question()) == (
        "Docker "
        "Неизменяемый шаблон файловой системы и настроек, из которого запускают контейнеры . "
        "Что это за термин?"
    )
    assert text_of(definition_card.answer()).startswith(
        "Docker "
        "Неизменяемый шаблон файловой системы и настроек, из которого запускают контейнеры . "
        "Образ Image Также: docker-образ Подробнее"
    )
    assert "Из конспекта" not in term_card.answer() + definition_card.answer()
    assert "<script" not in term_card.answer()


def test_html_in_the_cards_shows_as_text(cards: Path, col: Collection) -> None:
    edit(
        cards,
        "kubernetes.yaml",
        "definition: Наименьшая",
        "definition: <script>alert(1)</script> <img src=x onerror=alert(2)> Наименьшая",
    )
    edit(cards, "kubernetes.yaml", "term: Под", "term: <b>Под</b>")
    import_deck(col, build(cards).out)
    pod = note_of(col, "pod")

    assert pod["Definition"].startswith(
        "&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(2)&gt; Наименьшая"
    )
    assert pod["Term"] == "&lt;b&gt;Под&lt;/b&gt;"
    for card in pod.cards():
        assert "<script" not in card.answer()
        assert "<img" not in card.answer()
        assert "<b>" not in card.answer()


# --- updates ----------------------------------------------------------------------------


def test_edited_definition_updates_that_note_only_and_keeps_its_reviews(
    cards: Path, col: Collection
) -> None:
    import_deck(col, build(cards, now=T1).out)
    card = note_of(col, "pod").cards()[0]
    card.start_timer()
    col.sched.answerCard(card, 3)  # "Good": the card now has review history
    before = mods(col)

    edit(cards, "kubernetes.yaml", "с общей сетью", "с общей сетью и общими томами")
    report = build(cards, now=T2)
    assert (report.new, report.changed, report.unchanged, report.retired) == (0, 1, 4, 0)
    log = import_deck(col, report.out)

    assert updated_ids(log) == ["pod"]
    assert len(log.new) == 0
    assert len(log.duplicate) == 4
    assert col.note_count() == 5
    assert col.card_count() == 10
    assert note_of(col, "pod")["Definition"].endswith("с общей сетью и общими томами.")
    assert col.db.scalar("select count() from revlog where cid = ?", card.id) == 1
    assert col.get_card(card.id).type == 1  # still learning, not reset to new
    after = mods(col)
    assert after["pod"] == T2
    assert {k: v for k, v in after.items() if k != "pod"} == {
        k: v for k, v in before.items() if k != "pod"
    }


def test_renamed_term_is_the_same_note_and_a_rebuild_without_changes_updates_nothing(
    cards: Path, col: Collection
) -> None:
    import_deck(col, build(cards, now=T1).out)
    note_id = note_of(col, "container").id

    edit(cards, "docker.yaml", "term: Контейнер", "term: Docker-контейнер")
    log = import_deck(col, build(cards, now=T2).out)
    # Entries that list it as related show its new name too, so they are updated as well.
    assert updated_ids(log) == ["container", "image", "pod"]
    assert len(log.new) == 0
    assert note_of(col, "container").id == note_id
    assert note_of(col, "container")["Term"] == "Docker-контейнер"
    assert "Docker-контейнер" in note_of(col, "image")["Related"]

    report = build(cards, now=T2 + 60)
    assert (report.new, report.changed, report.unchanged) == (0, 0, 5)
    assert not report.ledger_changed
    log = import_deck(col, report.out)
    assert (len(log.new), len(log.updated), len(log.duplicate), len(log.conflicting)) == (
        0,
        0,
        5,
        0,
    )
    assert col.note_count() == 5


def test_importing_again_keeps_one_note_type_and_restyling_updates_it_in_place(
    cards: Path, col: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_deck(col, build(cards, now=T1).out)
    import_deck(col, build(cards, now=T2).out)
    ours = [m for m in col.models.all_names_and_ids() if "konspekt" in m.name]
    assert len(ours) == 1

    # As if templates/card.css were edited.
    template_text = konspekt.deck.notetype.template_text

    def restyled(name: str) -> str:
        extra = "\n.kk-term { letter-spacing: 0.01em; }\n" if name == "card.css" else ""
        return template_text(name) + extra

    monkeypatch.setattr(konspekt.deck.notetype, "template_text", restyled)
    report = build(cards, now=T2 + 60)
    assert (report.changed, report.unchanged) == (0, 5)  # notes did not change
    log = import_deck(col, report.out)

    assert len(log.conflicting) == 0
    assert [m.id for m in col.models.all_names_and_ids() if "konspekt" in m.name] == [ours[0].id]
    assert "letter-spacing: 0.01em" in col.models.get(ours[0].id)["css"]


def test_learner_edit_of_an_unchanged_note_survives_a_reimport(
    cards: Path, col: Collection
) -> None:
    import_deck(col, build(cards, now=T1).out)
    mine = note_of(col, "image")
    mine["Details"] = "Моя заметка: образ = шаблон."
    col.update_note(mine)

    edit(cards, "kubernetes.yaml", "с общей сетью", "с общей сетью и общими томами")
    log = import_deck(col, build(cards, now=T2).out)

    assert updated_ids(log) == ["pod"]
    assert note_of(col, "image")["Details"] == "Моя заметка: образ = шаблон."


# --- the ledger ---------------------------------------------------------------------------


def test_ledger_records_times_and_only_edited_notes_move(cards: Path) -> None:
    build(cards, now=T1)
    edit(cards, "docker.yaml", "Запущенный экземпляр", "Работающий экземпляр")
    report = build(cards, now=T2)
    ledger = json.loads((cards / "anki.lock").read_text(encoding="utf-8"))

    assert report.ledger_changed
    assert sorted(ledger["notes"]) == ["container", "deployment", "dockerfile", "image", "pod"]
    assert ledger["notes"]["container"]["added"] == "2023-11-14T22:13:20Z"
    assert ledger["notes"]["container"]["changed"] == "2023-11-15T22:13:20Z"
    assert ledger["notes"]["pod"]["changed"] == "2023-11-14T22:13:20Z"
    assert ledger["notes"]["container"]["entry"]["definition"].startswith("Работающий")
    assert ledger["notetype"]["changed"] == "2023-11-14T22:13:20Z"


def test_a_change_always_looks_newer_even_if_the_clock_does_not(cards: Path) -> None:
    build(cards, now=T2)
    edit(cards, "docker.yaml", "Запущенный экземпляр", "Работающий экземпляр")
    build(cards, now=T1)  # e.g. a fixed SOURCE_DATE_EPOCH older than the last change
    ledger = json.loads((cards / "anki.lock").read_text(encoding="utf-8"))
    assert ledger["notes"]["container"]["changed"] == "2023-11-15T22:13:21Z"


def test_a_new_highlighter_release_does_not_make_the_ledger_stale(
    cards: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(cards)
    monkeypatch.setattr(konspekt.deck.notes, "highlight", lambda code, lang: f"<pre>{code}</pre>")
    options = DeckOptions(title="DevOps", site_url=SITE)
    assert ledger_is_current(load_glossary(cards), cards / "anki.lock", options)


def test_same_cards_and_ledger_give_identical_bytes(cards: Path, tmp_path: Path) -> None:
    first = build(cards, now=T1, out=tmp_path / "a.apkg")
    second = build(cards, now=T2, out=tmp_path / "b.apkg")  # the clock does not matter now
    assert not second.ledger_changed
    assert first.out.read_bytes() == second.out.read_bytes()


def test_source_date_epoch_makes_first_builds_reproducible(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T1))
    builds = []
    for name in ("one", "two"):
        cards = Path(shutil.copytree(FIXTURE, tmp_path / name / "cards"))
        report = build_deck(
            load_glossary(cards),
            tmp_path / name / "devops.apkg",
            ledger_path=cards / "anki.lock",
            options=DEVOPS,
        )
        builds.append((report.out.read_bytes(), (cards / "anki.lock").read_text()))
    assert builds[0] == builds[1]
    assert '"added": "2023-11-14T22:13:20Z"' in builds[0][1]


def test_ledger_staleness_is_detected_and_locked_builds_refuse(
    cards: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "konspekt.yml").write_text(DEVOPS_PROJECT, encoding="utf-8")
    options = DeckOptions(title="DevOps", site_url=SITE)
    build(cards, now=T1)
    assert ledger_is_current(load_glossary(cards), cards / "anki.lock", options)

    edit(cards, "docker.yaml", "Запущенный экземпляр", "Работающий экземпляр")
    assert not ledger_is_current(load_glossary(cards), cards / "anki.lock", options)
    before = (cards / "anki.lock").read_bytes()
    run = run_cli("deck", "--out", "x.apkg", "--site-url", SITE, "--locked")
    assert run.exit_code == 1
    assert run.stderr == (
        "error: cards/anki.lock is stale: run `make deck` (python build.py deck) and commit it\n"
    )
    assert (cards / "anki.lock").read_bytes() == before
    assert not (tmp_path / "x.apkg").exists()


# --- retired entries ----------------------------------------------------------------------


def test_a_removed_entry_is_kept_as_retired(
    cards: Path, col: Collection, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import_deck(col, build(cards, now=T1).out)
    text = (cards / "kubernetes.yaml").read_text(encoding="utf-8")
    (cards / "kubernetes.yaml").write_text(
        text[: text.index("\n  - id: deployment")] + "\n", encoding="utf-8"
    )
    edit(cards, "kubernetes.yaml", "related: [container, deployment]", "related: [container]")

    with caplog.at_level(logging.WARNING, logger="konspekt.deck.build"):
        report = build(cards, now=T2)
    assert caplog.messages == [
        "entry 'deployment' is no longer in the cards: its note stays in the deck, "
        "tagged devops::retired"
    ]
    assert (report.new, report.changed, report.unchanged, report.retired) == (0, 1, 3, 1)
    assert (report.notes, report.retired_total, report.retired_ids) == (5, 1, ("deployment",))
    assert (report.subdecks, report.cards) == (2, 8)  # no subdeck for retired notes

    # A learner who has the note gets the tag and the explanation, reviews kept.
    log = import_deck(col, report.out)
    assert updated_ids(log) == ["deployment", "pod"]
    gone = note_of(col, "deployment")
    assert "devops::retired" in gone.tags
    assert gone["Status"].startswith("Этого термина больше нет в конспекте.")
    assert gone["Definition"].startswith("Объект Kubernetes")
    assert gone["Link"] == ""  # its page is gone from the site
    assert col.find_notes("tag:devops::retired") == [gone.id]

    # The learner keeps the cards, and sees the notice on them.
    assert len(gone.cards()) == 2
    assert "Этого термина больше нет" in gone.cards()[1].question()

    # A new learner gets no card of it to study: the package has none.
    fresh = open_collection(tmp_path / "fresh")
    try:
        import_deck(fresh, report.out)
        assert note_of(fresh, "deployment").cards() == []
        assert fresh.card_count() == 2 * (report.notes - report.retired_total)
        assert not [d for d in fresh.decks.all_names_and_ids() if "Удалено" in d.name]
    finally:
        fresh.close()

    # Its last content stays in the ledger; the next build reports nothing new.
    record = json.loads((cards / "anki.lock").read_text())["notes"]["deployment"]
    assert record["retired"] == "2023-11-15T22:13:20Z"
    assert record["entry"]["term"] == "Деплоймент"
    again = build(cards, now=T2 + 60)
    assert (again.unchanged, again.retired, again.retired_total) == (5, 0, 1)
    assert not again.ledger_changed


# --- the command and its inputs -----------------------------------------------------------


def test_deck_command_prints_one_summary_line(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(FIXTURE, project / "cards", dirs_exist_ok=True)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T1))
    run = run_cli("deck")
    assert run.exit_code == 0, run.stderr
    assert run.stdout == (
        "wrote dist/devops.apkg: 5 notes, 10 cards, 2 subdecks; since cards/anki.lock: "
        "5 new, 0 changed, 0 unchanged, 0 retired\n"
    )
    assert (project / "dist" / "devops.apkg").stat().st_size > 0

    run = run_cli("deck", "--out", "dist/other.apkg", "--title", "Ops")
    assert run.stdout.startswith("wrote dist/other.apkg: 5 notes")


def test_deck_command_reports_bad_options_and_a_damaged_ledger(project: Path) -> None:
    shutil.copytree(FIXTURE, project / "cards", dirs_exist_ok=True)
    run = run_cli("deck", "--title", "Dev::Ops")
    assert (run.exit_code, run.stderr) == (
        1,
        "error: deck title 'Dev::Ops' must be non-empty and contain no '::'\n",
    )

    (project / "cards" / "anki.lock").write_text("{not json", encoding="utf-8")
    run = run_cli("deck")
    assert run.exit_code == 1
    assert run.stderr.startswith("error: cards/anki.lock: the deck ledger is damaged (")
    assert run.stderr.endswith(
        "restore it from git (git checkout -- cards/anki.lock) rather than deleting it, "
        "or every note's history starts over\n"
    )
    assert not (project / "dist").exists()


def site_url_of(root: Path) -> str | None:
    return resolve_deck_options(Project.at(root)).site_url


def test_site_url_comes_from_konspekt_yml(tmp_path: Path) -> None:
    project_file = tmp_path / "konspekt.yml"
    project_file.write_text("title: DevOps\nnamespace: DevOps\n", encoding="utf-8")
    assert site_url_of(tmp_path) is None
    project_file.write_text(
        "title: DevOps\nnamespace: DevOps\n"
        "site_url: 'https://example.org/devops'  # published here\n",
        encoding="utf-8",
    )
    assert site_url_of(tmp_path) == "https://example.org/devops/"
    project_file.write_text(
        'title: DevOps\nnamespace: DevOps\nsite_url: "javascript:alert(1)"\n', encoding="utf-8"
    )
    with pytest.raises(CardsError, match="not a valid URL"):
        site_url_of(tmp_path)


def test_without_a_site_url_cards_have_no_link(cards: Path, col: Collection) -> None:
    glossary = load_glossary(cards)
    report = build_deck(
        glossary, cards.parent / "d.apkg", ledger_path=cards / "anki.lock", options=DEVOPS
    )
    import_deck(col, report.out)
    assert note_of(col, "pod")["Link"] == ""
    assert "Страница термина" not in note_of(col, "pod").cards()[0].answer()


def test_a_failed_write_leaves_the_previous_deck_and_ledger(
    cards: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = build(cards, now=T1)
    deck, ledger = report.out.read_bytes(), (cards / "anki.lock").read_bytes()
    edit(cards, "docker.yaml", "Запущенный экземпляр", "Работающий экземпляр")

    def disk_full(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(konspekt.output.os, "replace", disk_full)
    with pytest.raises(BuildError, match=r"devops\.apkg: cannot write: No space left on device"):
        build(cards, now=T2)
    assert report.out.read_bytes() == deck
    assert (cards / "anki.lock").read_bytes() == ledger
    # nothing half-written: only the cards and the deck
    assert sorted(p.name for p in cards.parent.iterdir()) == ["cards", "devops.apkg"]


# --- the real cards -----------------------------------------------------------------------

REAL_CARDS = ROOT / "cards"


def real_options() -> DeckOptions:
    return resolve_deck_options(Project.at(ROOT))


def test_committed_ledger_is_current() -> None:
    if not ledger_is_current(load_glossary(REAL_CARDS), REAL_CARDS / "anki.lock", real_options()):
        pytest.fail(stale_message(Path("cards/anki.lock")), pytrace=False)


@pytest.mark.slow
def test_real_cards_build_and_import(tmp_path: Path, col: Collection) -> None:
    cards = Path(shutil.copytree(REAL_CARDS, tmp_path / "cards"))  # keep the real ledger as is
    glossary = load_glossary(cards)
    report = build_deck(
        glossary, tmp_path / "devops.apkg", ledger_path=cards / "anki.lock", options=real_options()
    )
    log = import_deck(col, report.out)

    assert len(log.new) == report.notes == len(glossary.entries) + report.retired_total
    assert col.card_count() == 2 * report.notes
    assert sorted(d.name for d in col.decks.all_names_and_ids() if "::" in d.name) == sorted(
        f"DevOps::{topic.title}" for topic in glossary.topics
    )


def test_a_rebuild_renders_only_the_notes_that_changed(tmp_path: Path) -> None:
    cards = tmp_path / "cards"
    shutil.copytree(FIXTURE, cards)
    out = tmp_path / "dist" / "deck.apkg"
    cache = tmp_path / ".cache" / "konspekt"

    def build_cached(now: int) -> DeckReport:
        glossary = load_glossary(cards)
        return build_deck(
            glossary, out, ledger_path=cards / "anki.lock", options=DEVOPS, now=now, cache_dir=cache
        )

    first = build_cached(1000)
    assert first.fresh == first.notes
    written = (cache / konspekt.deck.cache.CACHE_NAME).stat()
    assert build_cached(2000).fresh == 0
    # Nothing new to keep: the field cache is not written again (a new file, new inode).
    assert (cache / konspekt.deck.cache.CACHE_NAME).stat().st_ino == written.st_ino
    edit(cards, "docker.yaml", "Неизменяемый шаблон", "Шаблон")
    assert build_cached(3000).fresh == 1
    assert sorted(p.name for p in out.parent.iterdir()) == ["deck.apkg"]  # no cache beside it


def test_a_stale_field_cache_is_not_used_after_the_rendering_changes(
    cards: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / ".cache"
    glossary = load_glossary(cards)
    ledger = cards / "anki.lock"
    build_deck(
        glossary,
        tmp_path / "warm.apkg",
        ledger_path=ledger,
        options=DEVOPS,
        now=T1,
        cache_dir=cache,
    )
    # The renderer changes (as an edit to render.py would), and with it the code's hash.
    monkeypatch.setattr(konspekt.deck.notes, "highlight", lambda code, lang: f"<pre>{code}</pre>")
    monkeypatch.setattr(konspekt.deck.cache, "renderer_key", lambda: "edited")
    warm = build_deck(
        glossary, tmp_path / "a.apkg", ledger_path=ledger, options=DEVOPS, now=T1, cache_dir=cache
    )
    cold = build_deck(glossary, tmp_path / "b.apkg", ledger_path=ledger, options=DEVOPS, now=T1)
    assert warm.fresh == cold.fresh == warm.notes
    assert (tmp_path / "a.apkg").read_bytes() == (tmp_path / "b.apkg").read_bytes()


def test_the_field_cache_grows_by_appending_and_is_rewritten_when_half_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from konspekt.deck.cache import StoredFields, joined, read_field_cache, write_field_cache

    path = tmp_path / konspekt.deck.cache.CACHE_NAME
    width = len(FIELD_NAMES)

    def note(i: int, text: str) -> tuple[str, bytes]:
        return f"{i:020d}", joined((f"{text} ✓", *[""] * (width - 1)))

    deck = dict(note(i, "field") for i in range(4))
    write_field_cache(tmp_path, deck, read_field_cache(tmp_path))
    assert read_field_cache(tmp_path) == StoredFields(deck, 4)
    inode = path.stat().st_ino
    # An edit: one note's hash and fields change. Its record is appended.
    edited = {**deck, **dict([note(4, "edited")])}
    del edited[note(0, "")[0]]
    write_field_cache(tmp_path, edited, read_field_cache(tmp_path))
    assert path.stat().st_ino == inode
    assert read_field_cache(tmp_path) == StoredFields({**deck, **edited}, 5)
    # A record cut short (an interrupted append) is left out; those before it stand.
    whole = path.read_bytes()
    path.write_bytes(whole[:-3])
    assert read_field_cache(tmp_path) == StoredFields(deck, 4)
    # A record that is not UTF-8 is left out (it would be text in the collection).
    at = whole.index("✓".encode())
    path.write_bytes(whole[:at] + b"\xff" + whole[at + 1 :])
    assert read_field_cache(tmp_path) == StoredFields(edited, 5)  # (the first: note 0's)
    path.write_bytes(whole)
    # A field holding Anki's field separator is not kept: it would not split back.
    odd = dict([note(5, "a\x1fb")])
    write_field_cache(tmp_path, {**edited, **odd}, read_field_cache(tmp_path))
    assert read_field_cache(tmp_path) == StoredFields({**deck, **edited}, 6)
    # Records of another version of the rendering code are never read as this one's.
    monkeypatch.setattr(konspekt.deck.cache, "renderer_key", lambda: "other renderers")
    assert read_field_cache(tmp_path) == StoredFields({}, 6)
    other = dict([note(0, "rendered otherwise")])
    write_field_cache(tmp_path, other, read_field_cache(tmp_path))  # none of its own yet
    assert read_field_cache(tmp_path) == StoredFields(other, 1)
    assert path.stat().st_ino != inode
    monkeypatch.undo()
    assert read_field_cache(tmp_path) == StoredFields({}, 1)
    # Half stale: written anew with this deck's notes only.
    write_field_cache(tmp_path, deck, read_field_cache(tmp_path))  # 1 + 4 records
    write_field_cache(tmp_path, edited, read_field_cache(tmp_path))  # 6 records ≤ 2 × 4
    few = dict([note(4, "edited")])
    write_field_cache(tmp_path, few, read_field_cache(tmp_path))  # 6 records > 2 × 1
    assert read_field_cache(tmp_path) == StoredFields(few, 1)


def test_the_renderer_key_follows_the_rendering_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import konspekt.render

    key = konspekt.deck.cache.renderer_key()
    edited = tmp_path / "render.py"
    edited.write_bytes(Path(konspekt.render.__file__).read_bytes() + b"\n# edited\n")
    monkeypatch.setattr(konspekt.render, "__file__", str(edited))
    konspekt.deck.cache.renderer_key.cache_clear()
    try:
        assert konspekt.deck.cache.renderer_key() != key
    finally:
        konspekt.deck.cache.renderer_key.cache_clear()


def test_the_renderer_key_follows_markdowns_version_without_importing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.machinery
    import importlib.util

    key = konspekt.deck.cache.renderer_key()
    other = tmp_path / "markdown"
    other.mkdir()
    (other / "__meta__.py").write_text("__version_info__ = (99, 0, 0, 'final', 0)\n", "utf-8")
    spec = importlib.machinery.ModuleSpec("markdown", None, is_package=True)
    spec.submodule_search_locations = [str(other)]
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: spec if name == "markdown" else real(name, *a)
    )
    konspekt.deck.cache.renderer_key.cache_clear()
    try:
        assert konspekt.deck.cache.renderer_key() != key
    finally:
        konspekt.deck.cache.renderer_key.cache_clear()


DECK_BYTES = """
import hashlib, shutil, sys
from pathlib import Path
from konspekt import load_glossary
from konspekt.deck import DeckOptions, build_deck
cards, out, cache = (Path(arg) for arg in sys.argv[1:4])
report = build_deck(load_glossary(cards), out, ledger_path=cards / "anki.lock",
    options=DeckOptions(title="DevOps", site_url="https://example.org/"), now=1_700_000_000,
    cache_dir=None if str(cache) == "-" else cache)
print(report.fresh, hashlib.sha256(out.read_bytes()).hexdigest())
"""


def test_deck_bytes_are_the_same_warm_cold_and_in_a_fresh_process(tmp_path: Path) -> None:
    """A warm field cache, a deleted one, and separate processes with other hash seeds."""
    import os
    import subprocess
    import sys

    cards = Path(shutil.copytree(REAL_CARDS, tmp_path / "cards"))
    cache = tmp_path / ".cache"

    def run(seed: str, use_cache: bool) -> tuple[int, str]:
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                DECK_BYTES,
                str(cards),
                str(tmp_path / "d.apkg"),
                str(cache) if use_cache else "-",
            ],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        fresh, digest = result.stdout.split()
        return int(fresh), digest

    cold = run("1", use_cache=True)  # fills the cache
    warm = run("2", use_cache=True)
    shutil.rmtree(cache)
    deleted = run("3", use_cache=True)
    uncached = run("4", use_cache=False)
    assert cold[0] > 0 and warm[0] == 0 and deleted[0] == cold[0]
    assert cold[1] == warm[1] == deleted[1] == uncached[1]


def test_a_bug_while_rendering_is_a_traceback_not_a_ledger_error(
    cards: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(code: str, lang: str) -> str:
        raise KeyError(lang)  # as a programming error in the renderer would

    monkeypatch.setattr(konspekt.deck.notes, "highlight", broken)
    with pytest.raises(KeyError):
        build(cards)


def test_a_damaged_retired_record_is_reported_when_the_ledger_is_read(cards: Path) -> None:
    build(cards, now=T1)
    ledger = cards / "anki.lock"
    data = json.loads(ledger.read_text(encoding="utf-8"))
    del data["notes"]["pod"]["entry"]["term"]
    ledger.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(BuildError, match=r"the ledger's record of entry 'pod' is incomplete"):
        build(cards, now=T2)


def test_rendering_on_two_cores_gives_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs = []
    for name, min_jobs in (("one", 10**9), ("two", 2)):
        # The fixture is small: lower the threshold so that a child renders every field
        # but the question while this process masks (a cold build), and count a busy
        # machine's cores as idle.
        monkeypatch.setattr(konspekt.pool, "MIN_JOBS", min_jobs)
        monkeypatch.setattr(konspekt.pool, "spare_core", lambda: True)
        cards = Path(shutil.copytree(FIXTURE, tmp_path / name / "cards"))
        report = build(cards, out=tmp_path / name / "devops.apkg")
        assert report.fresh == report.notes > 2
        outputs.append((report.out.read_bytes(), (cards / "anki.lock").read_bytes()))
    assert outputs[0] == outputs[1]


def test_the_caches_written_in_a_child_beside_packaging_are_those_threads_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold build writes its caches in a forked child while it packages; a build with
    few notes to render, on threads. The files are the same, and so is the next build."""
    monkeypatch.setattr(konspekt.pool, "spare_core", lambda: True)
    results = []
    for name, min_jobs in (("threads", 10**9), ("child", 2)):
        monkeypatch.setattr(konspekt.pool, "MIN_JOBS", min_jobs)
        cards = Path(shutil.copytree(FIXTURE, tmp_path / name / "cards"))
        cache = tmp_path / name / ".cache"
        pid = tmp_path / name / "saved-by"

        def saved_by(pid: Path = pid) -> None:
            pid.write_text(str(os.getpid()), encoding="utf-8")

        def build_at(out: Path, now: int, cards: Path = cards, cache: Path = cache) -> DeckReport:
            return build_deck(
                load_glossary(cards), out, ledger_path=cards / "anki.lock", options=DEVOPS,
                now=now, cache_dir=cache, cache_writes=[saved_by],
            )  # fmt: skip

        report = build_at(tmp_path / name / "devops.apkg", T1)
        assert report.fresh == report.notes > 2
        in_child = pid.read_text(encoding="utf-8") != str(os.getpid())
        assert in_child == (name == "child")
        caches = {p.relative_to(cache): p.read_bytes() for p in cache.rglob("*") if p.is_file()}
        assert caches
        edit(cards, "docker.yaml", "Неизменяемый шаблон", "Шаблон")
        again = build_at(tmp_path / name / "again.apkg", T2)
        assert again.fresh == 1 and again.masked == 1
        results.append((
            report.out.read_bytes(), caches, again.out.read_bytes(),
            (cards / "anki.lock").read_bytes(),
        ))  # fmt: skip
    assert results[0] == results[1]


@pytest.mark.parametrize("error", [BuildError("no room for the cache"), RuntimeError("a bug")])
def test_a_save_failing_in_the_child_fails_the_build_as_on_a_thread(
    cards: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    """A named error in the child is raised as it is; anything else the child could not
    deliver makes this process save again, so a bug shows its own traceback here."""
    monkeypatch.setattr(konspekt.pool, "MIN_JOBS", 2)
    monkeypatch.setattr(konspekt.pool, "spare_core", lambda: True)
    parent = os.getpid()
    saved_here = tmp_path / "saved-here"

    def failing() -> None:
        if os.getpid() == parent:
            saved_here.touch()
        raise error

    with pytest.raises(type(error), match=str(error)):
        build_deck(
            load_glossary(cards),
            tmp_path / "devops.apkg",
            ledger_path=cards / "anki.lock",
            options=DEVOPS,
            now=T1,
            cache_dir=tmp_path / ".cache",
            cache_writes=[failing],
        )
    assert saved_here.exists() == isinstance(error, RuntimeError)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_JSON)
def test_the_ledger_writer_writes_what_json_dumps_writes(value: object) -> None:
    expected = json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)
    assert dumps_indented(value) == expected


def test_the_committed_ledger_is_written_back_byte_for_byte() -> None:
    text = (ROOT / "cards" / "anki.lock").read_text(encoding="utf-8")
    assert dumps_ledger(loads_ledger(text)) == text
    data = json.loads(text)
    assert dumps_indented(data) + "\n" == text


def test_a_rebuild_masks_only_the_edited_question_and_needs_no_linker(
    cards: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The question cache: masked questions and each entry's names are kept while the
    names of the glossary are the same; the deck is the one an uncached build gives."""
    cache = tmp_path / ".cache"
    ledger = cards / "anki.lock"

    def build_at(out: str, now: int, cache_dir: Path | None = cache) -> DeckReport:
        return build_deck(
            load_glossary(cards),
            tmp_path / out,
            ledger_path=ledger,
            options=DEVOPS,
            now=now,
            cache_dir=cache_dir,
        )

    entries = len(load_glossary(cards).entries)
    assert build_at("cold.apkg", T1).masked == entries
    assert build_at("warm.apkg", T1).masked == 0
    edit(cards, "docker.yaml", "Неизменяемый шаблон", "Шаблон")
    saved = ledger.read_text(encoding="utf-8")

    def no_linker(*args: object, **kwargs: object) -> None:
        raise AssertionError("the linker was loaded, or a name inflected")

    with monkeypatch.context() as patch:
        patch.setattr(konspekt.link.Linker, "for_glossary", no_linker)
        patch.setattr(konspekt.link, "_entry_record", no_linker)
        assert build_at("edited.apkg", T2).masked == 1
    ledger.write_text(saved, encoding="utf-8")
    build_at("uncached.apkg", T2, cache_dir=None)
    assert (tmp_path / "edited.apkg").read_bytes() == (tmp_path / "uncached.apkg").read_bytes()
    # A renamed term changes the linker's index: every question is masked again.
    edit(cards, "docker.yaml", "term: Образ\n", "term: Образ контейнера\n")
    saved = ledger.read_text(encoding="utf-8")
    assert build_at("renamed.apkg", T2).masked == entries
    ledger.write_text(saved, encoding="utf-8")
    build_at("renamed-uncached.apkg", T2, cache_dir=None)
    renamed = (tmp_path / "renamed.apkg").read_bytes()
    assert renamed == (tmp_path / "renamed-uncached.apkg").read_bytes()


def test_a_cold_deck_masks_without_an_index_and_keeps_each_entrys_keys_for_the_site(
    cards: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Masking needs each entry's own keys, made one entry at a time: no index of every
    entry is built (that is the site's), and the keys are kept, so the site's index then
    inflects no name again."""
    cache = tmp_path / ".cache"
    glossary = load_glossary(cards)
    with monkeypatch.context() as patch:
        patch.setattr(konspekt.link, "build_index", pytest.fail)
        build_deck(
            glossary, tmp_path / "a.apkg", ledger_path=cards / "anki.lock", options=DEVOPS,
            now=T1, cache_dir=cache,
        )  # fmt: skip
    assert list(cache.glob("linker-*")) == []
    [_] = cache.glob("entry-keys-*.json")
    made: list[str] = []
    real = konspekt.link._entry_record

    def counted(ru: Any, entry: Any) -> Any:
        made.append(entry.id)
        return real(ru, entry)

    monkeypatch.setattr(konspekt.link, "_entry_record", counted)
    linker = konspekt.link.Linker.for_glossary(glossary, cache)
    assert made == []
    assert linker.index == konspekt.link.Linker(glossary.entries).index


def test_the_kept_keys_stay_whole_when_a_build_makes_only_some(cards: Path, tmp_path: Path) -> None:
    """A build that had to make one entry's keys (its line of the names file lost) keeps
    the file of every entry's keys as it was, not one with that entry alone."""
    cache = tmp_path / ".cache"

    def build_at(now: int) -> DeckReport:
        ledger = cards / "anki.lock"
        return build_deck(load_glossary(cards), tmp_path / "d.apkg", ledger_path=ledger,
                          options=DEVOPS, now=now, cache_dir=cache)  # fmt: skip

    def kept_entries() -> int:
        [path] = cache.glob("entry-keys-*.json")
        return len(json.loads(path.read_text(encoding="utf-8"))["entries"])

    entries = len(load_glossary(cards).entries)
    build_at(T1)
    assert kept_entries() == entries
    [names] = cache.glob(konspekt.deck.questions.NAMES_PREFIX + "*")
    lines = names.read_text(encoding="utf-8").split("\n")
    names.write_text("\n".join(line for line in lines if '"image"' not in line), "utf-8")
    edit(cards, "docker.yaml", "Неизменяемый шаблон", "Шаблон")
    assert build_at(T2).masked == 1
    assert kept_entries() == entries


@pytest.fixture
def corpus_100(tmp_path: Path) -> Path:
    """The benchmark's synthetic cards, 100 entries (generated: benchmarks/corpus-*/ is not
    committed)."""
    load_script("corpus").write_corpus(tmp_path / "corpus", 100, seed=1)
    return tmp_path / "corpus"


def test_the_collector_is_paused_per_build_not_per_entry(
    corpus_100: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pause asks how many objects are frozen, which walks them all (load.no_gc_pauses):
    once per entry, `build_deck` of 5,000 entries took 39 s instead of 3.7 (the benchmark)."""
    glossary = load_glossary(corpus_100)
    asked: list[int] = []
    real = gc.get_freeze_count
    monkeypatch.setattr(gc, "get_freeze_count", lambda: asked.append(1) or real())
    enabled = gc.isenabled()
    gc.enable()
    gc.freeze()  # as the CLI and the benchmark do once the cards are loaded
    try:
        build_deck(glossary, tmp_path / "a.apkg", ledger_path=tmp_path / "anki.lock",
                   options=DEVOPS, now=T1, cache_dir=tmp_path / ".cache")  # fmt: skip
    finally:
        gc.unfreeze()
        if not enabled:
            gc.disable()
    assert 0 < len(asked) < 10 < len(glossary.entries)


@pytest.mark.parametrize("corpus", ["fixture", "cards", "corpus-100"])
def test_questions_masked_entry_by_entry_are_those_the_index_masks(
    cards: Path, corpus_100: Path, corpus: str
) -> None:
    """The deck alone masks with each entry's keys (`EntryKeys.own`), the site with the
    linker's index: every question is the same either way."""
    from konspekt.deck.questions import Questions

    # (the project's cards have not_in phrases: keys an entry's names yield but it lacks)
    folders = {"fixture": cards, "cards": ROOT / "cards", "corpus-100": corpus_100}
    glossary = load_glossary(folders[corpus])
    alone, indexed = (
        Questions(glossary),
        Questions(glossary, konspekt.link.Linker(glossary.entries)),
    )
    asked = []
    for topic in glossary.topics:
        for entry in topic.entries:
            # Its names and collocations are masked, its not_in phrases are not.
            names = ", ".join((*entry.names, *entry.not_in, *entry.collocations))
            for text in (entry.definition, entry.details or "", topic.title, names):
                question = alone.of(entry, text, topic)
                assert question == indexed.of(entry, text, topic)
                asked.append(question)
    masked = [question for question in asked if "[…]" in question.text]
    assert len(asked) == 4 * len(glossary.entries) and len(masked) > len(glossary.entries)


def test_the_question_cache_grows_by_appending_and_is_rewritten_when_half_stale(
    cards: Path, tmp_path: Path
) -> None:
    """An edit appends its question's record; the later record stands for the earlier."""
    cache = tmp_path / ".cache"
    ledger = cards / "anki.lock"
    path = cache / konspekt.deck.questions.CACHE_NAME

    def build_at(now: int) -> DeckReport:
        return build_deck(load_glossary(cards), tmp_path / "d.apkg", ledger_path=ledger,
                          options=DEVOPS, now=now, cache_dir=cache)  # fmt: skip

    entries = len(load_glossary(cards).entries)
    build_at(T1)
    assert len(path.read_bytes().splitlines()) == 1 + entries
    edit(cards, "docker.yaml", "Неизменяемый шаблон", "Шаблон")
    assert build_at(T2).masked == 1
    assert len(path.read_bytes().splitlines()) == 2 + entries  # one record appended
    assert build_at(T2).masked == 0  # the appended record is the one read
    written = "Шаблон"
    for count in range(entries + 1):  # as many records again: the file is written anew
        edit(cards, "docker.yaml", written, f"Шаблон {count}")
        written = f"Шаблон {count}"
        assert build_at(T2).masked == 1
    assert len(path.read_bytes().splitlines()) <= 1 + 2 * entries  # rewritten on the way
    assert build_at(T2).masked == 0


def test_the_question_cache_key_follows_the_masking_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import konspekt.deck.questions
    import konspekt.mask

    key = konspekt.deck.questions._masking_code()
    edited = tmp_path / "mask.py"
    edited.write_bytes(Path(konspekt.mask.__file__).read_bytes() + b"\n# edited\n")
    monkeypatch.setattr(konspekt.mask, "__file__", str(edited))
    konspekt.deck.questions._masking_code.cache_clear()
    try:
        assert konspekt.deck.questions._masking_code() != key
    finally:
        konspekt.deck.questions._masking_code.cache_clear()


def test_a_damaged_question_cache_is_masked_anew(cards: Path, tmp_path: Path) -> None:
    cache = tmp_path / ".cache"
    glossary = load_glossary(cards)
    ledger = cards / "anki.lock"
    build_deck(glossary, tmp_path / "a.apkg", ledger_path=ledger, options=DEVOPS, now=T1,
               cache_dir=cache)  # fmt: skip
    path = cache / konspekt.deck.questions.CACHE_NAME
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    # Records damaged in every way a line can be, one cut short: each entry masked anew.
    damaged = ["[1, 2, 3, 4, 5]\n", '{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}\n', "[\n"]
    path.write_text(lines[0] + "".join(damaged) + lines[1][: len(lines[1]) // 2], "utf-8")
    [names] = cache.glob(f"{konspekt.deck.questions.NAMES_PREFIX}*")
    names.write_text("".join(f'\n"{entry.id}"\t[1, 2]' for entry in glossary.entries), "utf-8")
    report = build_deck(glossary, tmp_path / "b.apkg", ledger_path=ledger, options=DEVOPS,
                        now=T1, cache_dir=cache)  # fmt: skip
    assert report.masked == len(glossary.entries)
    assert (tmp_path / "a.apkg").read_bytes() == (tmp_path / "b.apkg").read_bytes()
    path.write_text("{", encoding="utf-8")
    assert build_deck(glossary, tmp_path / "c.apkg", ledger_path=ledger, options=DEVOPS,
                      now=T1, cache_dir=cache).masked == len(glossary.entries)  # fmt: skip


def test_the_note_memo_hashes_anew_only_the_notes_of_changed_card_files(
    cards: Path, tmp_path: Path
) -> None:
    """The note memo (memo.py): an unchanged card file's notes keep their hashes, and
    whatever else a note is made from (names of other files, images, the site URL)
    changes them; each build gives the deck and ledger of a build without any cache."""
    cache = tmp_path / ".cache"
    ledger = cards / "anki.lock"
    (cards / "media").mkdir()
    picture = cards / "media" / "layers.png"
    picture.write_bytes(png())
    edit(cards, "kubernetes.yaml", "с общей сетью.", "с общей сетью. ![Слои](media/layers.png)")

    def build_both(now: int, site_url: str | None = None) -> DeckReport:
        options = DeckOptions(title="DevOps", site_url=site_url)
        before = ledger.read_bytes() if ledger.exists() else None
        glossary = load_glossary(cards, cache)
        cached = build_deck(glossary, tmp_path / "cached.apkg", ledger_path=ledger,
                            options=options, now=now, cache_dir=cache)  # fmt: skip
        after = ledger.read_bytes()
        if before is None:
            ledger.unlink()
        else:
            ledger.write_bytes(before)
        build_deck(load_glossary(cards), tmp_path / "plain.apkg", ledger_path=ledger,
                   options=options, now=now)  # fmt: skip
        assert ledger.read_bytes() == after
        assert (tmp_path / "cached.apkg").read_bytes() == (tmp_path / "plain.apkg").read_bytes()
        return cached

    notes = len(load_glossary(cards).entries)
    assert build_both(T1).remembered == 0
    assert build_both(T1).remembered == notes
    memos = cache / konspekt.deck.memo.MEMO_FOLDER

    def kept() -> dict[str, int]:  # the memo files, by topic: their inodes
        by_key = {topic.read_key: topic.topic for topic in load_glossary(cards, cache).topics}
        files = {path.stem: path.stat().st_ino for path in memos.iterdir()}
        assert set(files) == set(by_key)  # an earlier read's memo is removed
        return {by_key[stem]: inode for stem, inode in files.items()}

    before = kept()
    edit(cards, "docker.yaml", "Неизменяемый шаблон", "Шаблон")
    report = build_both(T2)
    after = kept()
    assert after["kubernetes"] == before["kubernetes"]  # not written again
    # kubernetes.yaml's notes; the question cache kept the docker.yaml questions the
    # warm build did not ask for: only the edited one is masked.
    assert (report.remembered, report.masked) == (2, 1)
    # Another file's name changes the names every question is masked against, and the
    # related terms of kubernetes.yaml's pod: no memo holds.
    edit(cards, "docker.yaml", "term: Контейнер\n", "term: Контейнер приложения\n")
    report = build_both(T2 + 10)
    # the container, and the image and the pod, which relate to it
    assert (report.remembered, report.changed) == (0, 3)
    assert build_both(T2 + 20).remembered == notes
    picture.write_bytes(png() + b"\0")  # an image's bytes
    assert build_both(T2 + 30).remembered == 0
    assert build_both(T2 + 40, site_url=SITE).remembered == 0  # a note's link
    assert build_both(T2 + 50, site_url=SITE).remembered == notes


def test_a_build_after_an_edit_parses_only_the_kept_questions_it_asks_for(
    cards: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The note memo stands for the unchanged card files' notes: their questions' records
    are kept as they are, unparsed; the edited file's are read (and one masked)."""
    cache = tmp_path / ".cache"
    ledger = cards / "anki.lock"

    def build_at(now: int) -> DeckReport:
        return build_deck(load_glossary(cards, cache), tmp_path / "d.apkg", ledger_path=ledger,
                          options=DEVOPS, now=now, cache_dir=cache)  # fmt: skip

    build_at(T1)
    parsed: list[str] = []
    record = konspekt.deck.questions._record

    def counted(line: bytes, entry_id: str) -> Any:
        parsed.append(entry_id)
        return record(line, entry_id)

    monkeypatch.setattr(konspekt.deck.questions, "_record", counted)
    edit(cards, "docker.yaml", "Неизменяемый шаблон", "Шаблон")
    assert build_at(T2).masked == 1
    assert sorted(parsed) == ["container", "dockerfile", "image"]  # docker.yaml's
    parsed.clear()
    assert build_at(T2).masked == 0
    assert parsed == []


def test_a_memo_of_other_related_terms_or_damaged_is_not_used(cards: Path, tmp_path: Path) -> None:
    from konspekt.deck.ledger import Ledger
    from konspekt.deck.memo import MEMO_FOLDER, StoredMemo, read_memo
    from konspekt.deck.questions import Questions

    cache = tmp_path / ".cache"
    glossary = load_glossary(cards, cache)

    def plan(memo: StoredMemo | None, options: DeckOptions = DEVOPS) -> DeckPlan:
        questions = Questions(glossary, cache_dir=cache)
        return plan_deck(glossary, Ledger(), options, T1, masks=questions, memo=memo)

    first = plan(None)
    assert first.remembered == 0
    hashes = {entry_id: record.hash for entry_id, record in first.ledger.notes.items()}
    guids = {note.entry_id: note.guid for note in first.notes}
    # Every note's memo with a wrong hash and GUID; the pod's as if its related entries'
    # terms were others: only that one is not used.
    forged = {
        read_key: tuple(
            (entry_id, ("Другой термин",) if entry_id == "pod" else related, "0" * 20, "g")
            for entry_id, related, _, _ in known
        )
        for read_key, known in first.memo.items()
    }
    second = plan(StoredMemo.kept(first.memo_key, forged))
    assert second.remembered == len(hashes) - 1
    assert second.ledger.notes["pod"].hash == hashes["pod"]
    assert {note.entry_id: note.guid for note in second.notes} == {
        entry_id: "g" for entry_id in guids
    }  # (an entry's memo gives its GUID: its id matched, the namespace is in the key)
    assert plan(StoredMemo.kept("another key", first.memo)).remembered == 0
    other = DeckOptions(title="DevOps", namespace="Другая колода")
    assert plan(StoredMemo.kept(first.memo_key, first.memo), other).remembered == 0
    assert plan(StoredMemo.kept(first.memo_key, forged), other).notes[0].guid != "g"
    # Another dictionary or linking code may mask a question otherwise: the same cards
    # give another key.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(konspekt.link, "code_key", lambda: "another dictionary")
        assert plan(StoredMemo.kept(first.memo_key, first.memo)).remembered == 0
    assert plan(StoredMemo.kept(first.memo_key, first.memo)).remembered == len(hashes)
    build_deck(glossary, tmp_path / "a.apkg", ledger_path=cards / "anki.lock", options=DEVOPS,
               now=T1, cache_dir=cache)  # fmt: skip
    read_keys = [topic.read_key for topic in glossary.topics]
    stored = read_memo(cache, read_keys)
    assert stored.under(first.memo_key) == first.memo
    assert stored.files == StoredMemo.kept(first.memo_key, first.memo).files
    assert sorted(p.stem for p in (cache / MEMO_FOLDER).glob("*.json")) == sorted(read_keys)
    assert sorted(stored.names) == sorted(read_keys)
    damages = ('{"key": 1}', "[", '{"key": "k", "notes": [["a", "b", "c"]]}', '{"names": [1]}')
    for damaged in damages:
        for read_key in read_keys:
            (cache / MEMO_FOLDER / f"{read_key}.json").write_text(damaged, encoding="utf-8")
        assert read_memo(cache, read_keys) == StoredMemo()
    assert read_memo(cache, ["../a.apkg"]).files == {}  # (read keys are file names here)


def test_the_note_memo_keeps_each_card_files_names_hash(
    cards: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The question cache's key is a hash of every name of the glossary (and of the
    linking code): each card file's part is kept with its read, and hashed again only
    for a file read anew, or under other linking code."""
    from konspekt.deck.memo import names_key
    from konspekt.deck.questions import Questions

    cache = tmp_path / ".cache"
    ledger = cards / "anki.lock"

    def build_at(now: int) -> DeckReport:
        return build_deck(load_glossary(cards, cache), tmp_path / "d.apkg", ledger_path=ledger,
                          options=DEVOPS, now=now, cache_dir=cache)  # fmt: skip

    real = konspekt.deck.memo.topic_names
    build_at(T1)
    hashed: list[str] = []

    def counted(topic: Any) -> str:
        hashed.append(topic.topic)
        return real(topic)

    monkeypatch.setattr(konspekt.deck.memo, "topic_names", counted)
    assert build_at(T1).remembered == 5
    assert hashed == []
    edit(cards, "docker.yaml", "term: Образ\n", "term: Образ контейнера\n")
    assert build_at(T2).masked == 5  # a name changed: every question is masked again
    assert hashed == ["docker"]
    assert build_at(T2).masked == 0
    assert hashed == ["docker"]
    # The key with kept hashes is the key made from every name.
    glossary = load_glossary(cards, cache)
    kept = Questions(glossary, cache_dir=cache).key
    hashed.clear()
    assert Questions(glossary, cache_dir=tmp_path / "elsewhere").key == kept
    assert hashed == ["docker", "kubernetes"]
    with monkeypatch.context() as patch:
        patch.setattr(konspekt.link, "code_key", lambda: "another dictionary")
        build_at(T2)
        assert names_key(glossary, {})[0] != kept.split("-")[0]
    assert hashed == ["docker", "kubernetes"] * 3


def test_the_note_memo_key_follows_the_code_that_makes_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import konspekt.deck.memo

    key = konspekt.deck.memo._code_key()
    edited = tmp_path / "notes.py"
    edited.write_bytes(Path(konspekt.deck.notes.__file__).read_bytes() + b"\n# edited\n")
    monkeypatch.setattr(konspekt.deck.notes, "__file__", str(edited))
    konspekt.deck.memo._code_key.cache_clear()
    try:
        assert konspekt.deck.memo._code_key() != key
    finally:
        konspekt.deck.memo._code_key.cache_clear()


class _GenankiNote(genanki.Note):
    """How package.py wrote notes before it wrote their rows itself: genanki's Note
    with the ledger's ids and time. The reference for the rows' bytes."""

    def __init__(self, planned: PlannedNote, model: genanki.Model) -> None:
        super().__init__(
            model=model, fields=list(planned.fields), tags=list(planned.tags),
            guid=planned.guid, due=planned.due,
        )  # fmt: skip
        self._planned = planned
        if planned.topic is None:
            self.cards: list[genanki.Card] = []

    def write_to_db(self, cursor: Any, timestamp: float, deck_id: int, id_gen: Any) -> None:
        first = self._planned.note_id
        ids = iter([first, *range(first, first + len(TEMPLATES))])
        super().write_to_db(cursor, self._planned.mtime, deck_id, ids)


def genanki_collection(plan: DeckPlan) -> bytes:
    """The collection as genanki's own objects write it, in a plain file."""
    options = plan.options
    model = konspekt.deck.package._notetype(plan)
    root = genanki.Deck(deck_id(options), options.title, konspekt.deck.package.ROOT_DESCRIPTION)
    decks: dict[str | None, genanki.Deck] = {None: root}
    for topic in plan.topics:
        description = markdown_html(topic.description) if topic.description else ""
        decks[topic.topic] = genanki.Deck(
            deck_id(options, topic.topic), subdeck_name(options, topic), description
        )
    for planned in plan.notes:
        decks[planned.topic].add_note(_GenankiNote(planned, model))
    with tempfile.TemporaryDirectory() as tmp:
        connection = sqlite3.connect(Path(tmp) / "c.anki2")
        genanki.Package(list(decks.values())).write_to_db(
            connection.cursor(), plan.notetype_mtime, iter(())
        )
        connection.commit()
        connection.close()
        return (Path(tmp) / "c.anki2").read_bytes()


@pytest.mark.parametrize("source", [FIXTURE, REAL_CARDS], ids=["fixture", "real"])
def test_the_collection_is_byte_for_byte_what_genanki_writes(source: Path, tmp_path: Path) -> None:
    """package.py writes genanki's rows itself (faster): the same file, retired notes too."""
    cards = Path(shutil.copytree(source, tmp_path / "cards"))
    ledger_path = cards / "anki.lock"
    ledger_path.unlink(missing_ok=True)
    # An entry that then leaves the cards: its note is retired (no cards, the root deck).
    path = sorted(cards.glob("*.yaml"))[-1]
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.rstrip("\n") + "\n  - id: passing-term\n    term: Проходной термин\n"
        "    definition: Термин, который уйдёт из карточек.\n",
        encoding="utf-8",
    )
    build_deck(
        load_glossary(cards), tmp_path / "a.apkg", ledger_path=ledger_path, options=DEVOPS, now=T1
    )
    path.write_text(text, encoding="utf-8")
    glossary = load_glossary(cards)
    ledger, _ = konspekt.deck.ledger.read_ledger(ledger_path)
    plan = plan_deck(glossary, ledger, DEVOPS, T2)
    assert plan.retired_total == 1
    with zipfile.ZipFile(io.BytesIO(konspekt.deck.package.package_bytes(plan))) as archive:
        assert archive.read("collection.anki2") == genanki_collection(plan)


def test_the_ledger_copies_unchanged_records_only_from_a_ledger_it_wrote(
    cards: Path, tmp_path: Path
) -> None:
    """Unchanged records are copied from the previous text when the stamp says this code
    wrote it; a ledger edited by hand (valid JSON, not our layout) is written out anew."""
    cache = tmp_path / ".cache"
    ledger = cards / "anki.lock"

    def build_at(now: int, cache_dir: Path | None = cache) -> str:
        build_deck(load_glossary(cards), tmp_path / "d.apkg", ledger_path=ledger,
                   options=DEVOPS, now=now, cache_dir=cache_dir)  # fmt: skip
        return ledger.read_text(encoding="utf-8")

    build_at(T1)
    assert (cache / konspekt.deck.ledger.INDEX_NAME).exists()
    edit(cards, "docker.yaml", "Неизменяемый шаблон", "Шаблон")
    before = ledger.read_text(encoding="utf-8")
    copied = build_at(T2)
    ledger.write_text(before, encoding="utf-8")
    assert copied == build_at(T2, cache_dir=None) == dumps_ledger(loads_ledger(copied))
    # By hand: one record's layout changed, its content not.
    ledger.write_text(copied.replace('"added": "', '"added":  "', 1), encoding="utf-8")
    assert build_at(T2) == copied


def test_a_ledger_it_wrote_is_read_through_its_index(cards: Path, tmp_path: Path) -> None:
    """The index gives the ledger a full parse gives, without parsing any record's entry
    until it is asked for; a ledger the index does not describe is parsed in full."""
    cache = tmp_path / ".cache"
    path = cards / "anki.lock"

    def build_at(now: int) -> None:
        build_deck(load_glossary(cards), tmp_path / "d.apkg", ledger_path=path,
                   options=DEVOPS, now=now, cache_dir=cache)  # fmt: skip

    build_at(T1)
    edit(cards, "docker.yaml", "Неизменяемый шаблон", "Шаблон")
    build_at(T2)
    full, text = konspekt.deck.ledger.read_ledger(path)
    read = konspekt.deck.ledger.read_ledger_file(path, cache)
    assert read.spans is not None and read.data == path.read_bytes()
    assert all(record._entry is None for record in read.ledger.notes.values())
    assert list(read.ledger.notes) == list(full.notes)
    assert read.ledger == full  # every entry parsed from its span now
    assert all(record._entry is not None for record in read.ledger.notes.values())
    assert konspekt.deck.ledger.ledger_bytes(read.ledger, read)[0].decode() == text
    # Another ledger (an older one put back) or a damaged index: parsed in full.
    index = cache / konspekt.deck.ledger.INDEX_NAME
    for damage in (lambda: path.write_text(text.replace("Шаблон", "Шабл"), encoding="utf-8"),
                   lambda: index.write_text(index.read_text()[:-9], encoding="utf-8")):  # fmt: skip
        saved = index.read_bytes()
        damage()
        again = konspekt.deck.ledger.read_ledger_file(path, cache)
        assert again.spans is None
        assert again.ledger == konspekt.deck.ledger.read_ledger(path)[0]
        path.write_text(text, encoding="utf-8")
        index.write_bytes(saved)


def test_a_one_edit_deck_build_loads_neither_importlib_metadata_nor_markdown(
    cards: Path, tmp_path: Path
) -> None:
    """Its cache keys take the libraries' version attributes and the Markdown extensions
    are instances: importlib.metadata (the email package, a search of sys.path for every
    installed package's metadata) cost more than a one-edit build's rendering. (A cold
    build loads pymorphy3's dictionary, which looks for it through importlib.metadata.)
    Python-Markdown is not imported for a text `render.simple_html` makes."""
    build_deck(load_glossary(cards, tmp_path / ".cache"), tmp_path / "d.apkg",
               ledger_path=cards / "anki.lock", options=DEVOPS, now=T1,
               cache_dir=tmp_path / ".cache")  # fmt: skip
    edit(cards, "docker.yaml", "Неизменяемый шаблон", "Шаблон, **неизменяемый**")
    (tmp_path / "d.apkg").unlink()
    script = f"""
import sys
from pathlib import Path
from konspekt import load_glossary
from konspekt.deck import DeckOptions, build_deck
cards, tmp = Path({str(cards)!r}), Path({str(tmp_path)!r})
glossary = load_glossary(cards, tmp / ".cache")
build_deck(glossary, tmp / "d.apkg", ledger_path=cards / "anki.lock",
           options=DeckOptions(title="DevOps"), now=2, cache_dir=tmp / ".cache")
print(sorted(name for name in sys.modules if name.startswith(("importlib.metadata", "markdown"))))
"""
    src = str(Path(__file__).resolve().parents[1] / "src")
    result = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {src!r})\n{script}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert (tmp_path / ".cache").is_dir() and (tmp_path / "d.apkg").stat().st_size > 0
    assert result.stdout.strip() == "[]"
