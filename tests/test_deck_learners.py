"""What learners see across releases, through the real `anki` library: the published deck
upgrades in place, no question shows its answer, and every change reaches collections —
also one that is reverted with git."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from anki.collection import Collection
from test_deck import FIXTURE, import_deck, note_of, open_collection, text_of, updated_ids

from conftest import ROOT
from konspekt import load_glossary
from konspekt.cli import resolve_deck_options
from konspekt.deck import DeckOptions, DeckReport, build_deck
from konspekt.deck.notetype import FIELD_NAMES
from konspekt.link import Linker
from konspekt.mask import Masker
from konspekt.project import Project

PUBLISHED = ROOT / "tests" / "fixtures" / "published" / "devops-117f575.apkg"
REAL_CARDS = ROOT / "cards"


def real_options() -> DeckOptions:
    return resolve_deck_options(Project.at(ROOT))


@pytest.fixture(scope="module")
def real_deck(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DeckReport]:
    """The deck of this repository's cards, built as `make deck` does (ledger untouched)."""
    where = tmp_path_factory.mktemp("real")
    cards = Path(shutil.copytree(REAL_CARDS, where / "cards"))
    report = build_deck(
        load_glossary(cards),
        where / "devops.apkg",
        ledger_path=cards / "anki.lock",
        options=real_options(),
    )
    return where / "devops.apkg", report


# --- the published deck upgrades in place ---------------------------------------------------


def test_the_deck_updates_a_collection_that_imported_the_published_one(
    tmp_path: Path, real_deck: tuple[Path, DeckReport]
) -> None:
    col = open_collection(tmp_path / "learner")
    try:
        first = import_deck(col, PUBLISHED)  # what learners have: the deck as of 117f575
        (notetype,) = [m for m in col.models.all_names_and_ids() if "konspekt" in m.name]
        card = note_of(col, "pod").cards()[0]
        card.start_timer()
        col.sched.answerCard(card, 3)  # a review to keep
        notes_before = col.note_count()

        log = import_deck(col, real_deck[0])
        col.close()  # as when the learner next opens Anki: nothing cached from before
        col = Collection(str(tmp_path / "learner" / "collection.anki2"))

        assert len(log.conflicting) == 0
        assert [m.id for m in col.models.all_names_and_ids() if "konspekt" in m.name] == [
            notetype.id
        ]
        model = col.models.get(notetype.id)
        assert [f["name"] for f in model["flds"]] == list(FIELD_NAMES)  # Extra → Question
        assert "{{Question}}" in model["tmpls"][1]["qfmt"]
        assert ".kk-more" in model["css"]
        assert col.note_count() == notes_before + len(log.new)
        assert len(first.new) == notes_before
        # every note of the published deck is still one note, updated in place
        assert len(log.updated) + len(log.duplicate) == notes_before
        assert col.db.scalar("select count() from revlog where cid = ?", card.id) == 1
        pod = note_of(col, "pod")
        assert "kk-mask" in pod["Question"] or "Под" not in text_of(pod["Question"])
        assert "Из конспекта" not in pod.cards()[0].answer()
    finally:
        col.close()


# --- the question never shows the answer ------------------------------------------------------


def test_no_question_of_the_real_deck_shows_a_name_of_its_answer(
    tmp_path: Path, real_deck: tuple[Path, DeckReport]
) -> None:
    glossary = load_glossary(REAL_CARDS)
    linker = Linker.for_glossary(glossary)
    col = open_collection(tmp_path / "learner")
    try:
        import_deck(col, real_deck[0])
        leaks = []
        for entry in glossary.entries:
            (card,) = [c for c in note_of(col, entry.id).cards() if c.ord == 1]
            front = text_of(card.question())
            # Any form the linker knows, and each name exactly as written.
            found = [front[s:e] for s, e in Masker.of(linker, entry.id).spans(front)]
            names = [n for n in (*entry.names, entry.en or "") if n]
            found += [n for n in names if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", front, re.I)]
            if found:
                leaks.append(f"{entry.id}: {found}")
        assert leaks == []
        assert col.card_count() == 2 * len(glossary.entries)
    finally:
        col.close()


# --- updates are monotonic: a revert reaches learners -------------------------------------------


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    result = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True
    )
    return result.stdout


def build_and_commit(repo: Path, now: int, message: str) -> Path:
    out = repo / "dist" / f"deck-{now}.apkg"
    build_deck(
        load_glossary(repo / "cards"),
        out,
        ledger_path=repo / "cards" / "anki.lock",
        options=DeckOptions(title="DevOps"),
        now=now,
    )
    git(repo, "add", "cards")
    git(repo, "commit", "-qm", message)
    return out


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "notes"
    shutil.copytree(FIXTURE, repo / "cards")
    git(repo, "init", "-q")
    return repo


T1, T2, T3 = 1_700_000_000, 1_700_086_400, 1_700_172_800


def test_a_reverted_edit_reaches_the_learner(repo: Path, tmp_path: Path) -> None:
    col = open_collection(tmp_path / "learner")
    try:
        import_deck(col, build_and_commit(repo, T1, "cards"))
        original = note_of(col, "pod")["Definition"]
        kube = repo / "cards" / "kubernetes.yaml"
        kube.write_text(
            kube.read_text(encoding="utf-8").replace("с общей сетью", "с общей сетью (ошибка)"),
            encoding="utf-8",
        )
        import_deck(col, build_and_commit(repo, T2, "edit"))
        assert "(ошибка)" in note_of(col, "pod")["Definition"]

        git(repo, "revert", "--no-edit", "HEAD")  # the cards and the ledger together
        log = import_deck(col, build_and_commit(repo, T3, "rebuild after the revert"))

        assert updated_ids(log) == ["pod"]
        assert note_of(col, "pod")["Definition"] == original
    finally:
        col.close()


def test_a_restored_term_loses_its_retired_notice(repo: Path, tmp_path: Path) -> None:
    col = open_collection(tmp_path / "learner")
    try:
        import_deck(col, build_and_commit(repo, T1, "cards"))
        kube = repo / "cards" / "kubernetes.yaml"
        text = kube.read_text(encoding="utf-8")
        kube.write_text(text[: text.index("\n  - id: deployment")] + "\n", encoding="utf-8")
        kube.write_text(
            kube.read_text(encoding="utf-8").replace(
                "related: [container, deployment]", "related: [container]"
            ),
            encoding="utf-8",
        )
        import_deck(col, build_and_commit(repo, T2, "remove deployment"))
        assert note_of(col, "deployment")["Status"] != ""

        git(repo, "revert", "--no-edit", "HEAD")
        import_deck(col, build_and_commit(repo, T3, "rebuild after the revert"))

        restored = note_of(col, "deployment")
        assert restored["Status"] == ""
        assert "devops::retired" not in restored.tags
        assert "Этого термина больше нет" not in restored.cards()[1].question()
    finally:
        col.close()


def test_without_git_history_the_ledger_alone_decides(tmp_path: Path) -> None:
    # The same revert done by copying files back, outside any repository: nothing to
    # consult, so the build cannot know (documented); it must not fail either.
    cards = Path(shutil.copytree(FIXTURE, tmp_path / "cards"))
    report = build_deck(
        load_glossary(cards),
        tmp_path / "d.apkg",
        ledger_path=cards / "anki.lock",
        options=DeckOptions(title="DevOps"),
        now=T1,
    )
    assert report.new == report.notes


# --- what a learner's own edits become (the README says this) -----------------------------------


def test_an_update_replaces_the_learners_edits_but_not_their_own_notes_or_flags(
    tmp_path: Path,
) -> None:
    import time

    cards = Path(shutil.copytree(FIXTURE, tmp_path / "cards"))
    col = open_collection(tmp_path / "learner")
    try:

        def build(now: int) -> Path:
            out = tmp_path / f"deck-{now}.apkg"
            build_deck(
                load_glossary(cards),
                out,
                ledger_path=cards / "anki.lock",
                options=DeckOptions(title="DevOps"),
                now=now,
            )
            return out

        import_deck(col, build(T1))
        pod = note_of(col, "pod")
        pod.tags.append("мои::важное")
        pod["Details"] = "моя заметка"
        col.update_note(pod)
        card_id = pod.cards()[0].id
        col.set_user_flag_for_cards(1, [card_id])
        basic = col.models.by_name("Basic")
        assert basic is not None
        own = col.new_note(basic)
        own["Front"], own["Back"] = "Под", "моя заметка о поде"
        col.add_note(own, col.decks.id("Мои заметки") or 1)

        kube = cards / "kubernetes.yaml"
        kube.write_text(
            kube.read_text(encoding="utf-8").replace("с общей сетью", "с общей сетью и томами"),
            encoding="utf-8",
        )
        # A release after the learner's edit: newer than it, so it updates the note.
        log = import_deck(col, build(int(time.time()) + 60))

        assert updated_ids(log) == ["pod"]
        pod = note_of(col, "pod")
        assert pod["Details"] == "" and "мои::важное" not in pod.tags  # replaced
        assert col.get_card(card_id).user_flag() == 1  # card flags stay
        assert col.get_note(own.id)["Back"] == "моя заметка о поде"  # their own notes stay
    finally:
        col.close()
