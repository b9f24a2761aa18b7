"""`konspekt notes`: what of the learner's notes the cards cover, candidates, drift, drafts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, run_cli
from konspekt.study_notes import blocks_of, jargon_bases

FIXTURES = ROOT / "tests" / "fixtures" / "notes"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with today's cards and the notes fixtures, as the working directory."""
    shutil.copytree(ROOT / "cards", tmp_path / "cards")
    for notes in FIXTURES.glob("*.md"):
        shutil.copy2(notes, tmp_path / notes.name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_seed_notes_are_covered_paragraph_by_paragraph(workdir: Path) -> None:
    assert run_cli("check").stdout == "ok: 90 entries in 3 topics (cards)\n"
    run = run_cli("notes", "devops-notes.ru.md")
    assert run.exit_code == 0
    lines = run.stdout.splitlines()
    assert lines[:3] == [
        "devops-notes.ru.md:1: covered: docker (quoted), container (quoted)",
        "devops-notes.ru.md:3: covered: docker-daemon (quoted), image-build (quoted), image",
        "devops-notes.ru.md:5: covered: image (quoted), image-layer (quoted), "
        "build-cache (quoted), dockerfile (quoted), dockerfile-instruction (quoted), docker",
    ]
    assert all(": covered: " in line for line in lines[:-1])
    assert lines[-1] == (
        "31 paragraphs: 31 covered, 0 partly covered, 0 not covered; "
        "0 candidates; 0 drifted sources"
    )


def test_a_new_concept_is_the_one_candidate_and_its_draft_passes_check_when_filled(
    workdir: Path,
) -> None:
    run = run_cli("notes", "devops-notes-sidecar.ru.md", "--draft", "cards/sidecar.yaml")
    assert run.exit_code == 0
    assert run.stdout.splitlines()[-3:] == [
        "devops-notes-sidecar.ru.md:68: partly covered: container, pod; candidates: Сайдкар",
        "candidate Сайдкар (definition): «Сайдкар», «Сайдкары», «сайдкаров» "
        "at devops-notes-sidecar.ru.md:68",
        "32 paragraphs: 31 covered, 1 partly covered, 0 not covered; "
        "1 candidate; 0 drifted sources",
    ]
    assert run.stderr == "wrote cards/sidecar.yaml: 1 draft entry\n"
    draft = (workdir / "cards" / "sidecar.yaml").read_text(encoding="utf-8")
    assert draft == (
        "# yaml-language-server: $schema=../schema/cards.schema.json\n"
        "# Drafted by `konspekt notes` from devops-notes-sidecar.ru.md: write each definition"
        " in place of\n"
        "# its TODO (`konspekt check` rejects a TODO), then review the terms and sources.\n"
        "topic: sidecar\n"
        'title: "Черновик: sidecar"\n'
        "entries:\n"
        "  - id: saydkar\n"
        '    term: "Сайдкар"\n'
        '    definition: "TODO: определение своими словами, до 30 слов"\n'
        '    source: "Сайдкар – это вспомогательный контейнер, который работает в одном поде'
        " рядом с основным и, например, собирает его логи. Сайдкары добавляют в спецификацию"
        ' пода, а из сайдкаров логи уходят в общее хранилище."\n'
    )
    # A draft cannot be published by accident: check rejects the TODO.
    run = run_cli("check")
    assert run.exit_code == 1
    assert run.stderr == (
        "cards/sidecar.yaml:9:17: error: 'definition' is unfinished: it contains the marker "
        "TODO (write the text in place of TODO (drafts from `konspekt notes` carry one))\n"
        "1 error\n"
    )
    filled = draft.replace(
        "TODO: определение своими словами, до 30 слов",
        "Вспомогательный контейнер пода, работающий рядом с основным.",
    )
    (workdir / "cards" / "sidecar.yaml").write_text(filled, encoding="utf-8")
    assert run_cli("check").stdout == "ok: 91 entries in 4 topics (cards)\n"
    # Once it is an entry, the notes are covered.
    run = run_cli("notes", "devops-notes-sidecar.ru.md")
    assert run.stdout.splitlines()[-1] == (
        "32 paragraphs: 32 covered, 0 partly covered, 0 not covered; "
        "0 candidates; 0 drifted sources"
    )


LECTURE = """\
lecture.md:3: not covered: candidates: Шардинг
lecture.md:5: covered: k8s-job, configmap, k8s-deployment
lecture.md:6: partly covered: pod, k8s-service; candidates: Linkerd, Service Mesh
lecture.md:7: covered: helm
lecture.md:9: not covered: candidates: Вебхук, GitLab
lecture.md:11: not covered
candidate Шардинг (definition): «Шардинг» at lecture.md:3
candidate Linkerd (latin): «Linkerd» at lecture.md:6
candidate Service Mesh (latin): «Service Mesh» at lecture.md:6
candidate Вебхук (definition): «Вебхук», «Вебхуки», «вебхуками» at lecture.md:9
candidate GitLab (latin): «GitLab» at lecture.md:9
6 paragraphs: 2 covered, 1 partly covered, 3 not covered; 5 candidates; 0 drifted sources
"""


def test_candidates_by_lemma_and_known_terms_in_new_forms(workdir: Path) -> None:
    """«Вебхук», «Вебхуки», «вебхуками» are one candidate; «ConfigMaps» and «деплойменты» are
    known names in forms of their own; «комуникацию» is a typo, «HTTP-вызов» a description."""
    run = run_cli("notes", "lecture.md")
    assert (run.exit_code, run.stdout) == (0, LECTURE)


def test_json(workdir: Path) -> None:
    data = json.loads(run_cli("notes", "lecture.md", "--format", "json").stdout)
    assert data["summary"] == {
        "paragraphs": 6,
        "covered": 2,
        "partly_covered": 1,
        "not_covered": 3,
        "candidates": 5,
        "drifted_sources": 0,
    }
    assert data["candidates"][3] == {
        "lemma": "вебхук",
        "term": "Вебхук",
        "kind": "definition",
        "forms": ["Вебхук", "Вебхуки", "вебхуками"],
        "at": ["lecture.md:9"],
    }
    assert data["paragraphs"][1] == {
        "at": "lecture.md:5",
        "kind": "item",
        "status": "covered",
        "quoted_by": [],
        "mentions": ["k8s-job", "configmap", "k8s-deployment"],
        "candidates": [],
    }


def test_a_source_no_longer_in_the_notes_is_reported_with_the_closest_passage(
    workdir: Path,
) -> None:
    notes = workdir / "devops-notes.ru.md"
    text = notes.read_text(encoding="utf-8")
    edited = text.replace("создает промежуточный слой", "создает новый слой")
    assert edited != text
    notes.write_text(edited, encoding="utf-8")
    run = run_cli("notes", "devops-notes.ru.md")
    assert run.stdout.splitlines()[-2:] == [
        "cards/docker.yaml:181:5: drift: the source of 'image-layer' is no longer in the notes:"
        " «Каждая инструкция создает промежуточный слой образа.»; closest at"
        " devops-notes.ru.md:5 (88%): «Каждая инструкция создает новый слой образа.»",
        "31 paragraphs: 31 covered, 0 partly covered, 0 not covered; "
        "0 candidates; 1 drifted source",
    ]
    data = json.loads(run_cli("notes", "devops-notes.ru.md", "--format", "json").stdout)
    assert data["drift"] == [
        {
            "entry": "image-layer",
            "at": "cards/docker.yaml:181:5",
            "quote": "Каждая инструкция создает промежуточный слой образа.",
            "closest": {
                "at": "devops-notes.ru.md:5",
                "text": "Каждая инструкция создает новый слой образа.",
                "similarity": 0.88,
            },
        }
    ]


def test_notes_that_quote_nothing_of_the_cards_report_no_drift(workdir: Path) -> None:
    """Sources quote the seed notes; other notes are not where they came from."""
    assert run_cli("notes", "lecture.md").stdout.endswith("; 0 drifted sources\n")


def test_a_draft_is_never_written_over_a_file(workdir: Path) -> None:
    existing = workdir / "cards" / "docker.yaml"
    before = existing.read_bytes()
    run = run_cli("notes", "lecture.md", "--draft", "cards/docker.yaml")
    assert run.exit_code == 1
    assert run.stderr == (
        "error: cards/docker.yaml exists; a draft is never written over a file "
        "(choose another --draft path, or move that file away)\n"
    )
    assert existing.read_bytes() == before
    assert sorted(p.name for p in (workdir / "cards").iterdir()) == [
        "anki.lock",
        "cicd.yaml",
        "docker.yaml",
        "kubernetes.yaml",
    ]


def test_draft_ids_are_unique_transliterated_slugs(workdir: Path) -> None:
    run = run_cli("notes", "lecture.md", "--draft", "new.yaml")
    assert run.exit_code == 0
    draft = (workdir / "new.yaml").read_text(encoding="utf-8")
    ids = [line.split(": ")[1] for line in draft.splitlines() if line.startswith("  - id: ")]
    assert ids == ["sharding", "linkerd", "service-mesh", "vebkhuk", "gitlab"]


def test_no_candidates_no_draft(workdir: Path) -> None:
    run = run_cli("notes", "devops-notes.ru.md", "--draft", "new.yaml")
    assert run.exit_code == 0
    assert run.stderr == "no candidates: new.yaml not written\n"
    assert not (workdir / "new.yaml").exists()


def test_notes_that_are_not_utf8_are_an_error_with_the_place(workdir: Path) -> None:
    (workdir / "bad.md").write_bytes("Под\nстрока ".encode() + b"\xff\n")
    run = run_cli("notes", "bad.md")
    assert run.exit_code == 1
    assert run.stderr == (
        "error: bad.md:2:8: the notes are not UTF-8 text (save the file as UTF-8)\n"
    )


def test_todo_is_rejected_in_card_text_but_not_in_code(workdir: Path) -> None:
    (workdir / "cards" / "extra.yaml").write_text(
        "topic: extra\ntitle: Extra\nentries:\n"
        "  - id: extra-term\n    term: Особый термин\n    definition: Готово.\n"
        "    details: Позже TODO.\n"
        "    examples:\n      - code: '# TODO: later'\n        lang: bash\n",
        encoding="utf-8",
    )
    run = run_cli("check")
    assert run.stderr == (
        "cards/extra.yaml:7:14: error: 'details' is unfinished: it contains the marker TODO "
        "(write the text in place of TODO (drafts from `konspekt notes` carry one))\n1 error\n"
    )


def test_blocks_are_paragraphs_and_list_items_without_markup() -> None:
    text = "# Заголовок\n\n**API** **Server** – сервер\nвторая строка\n- пункт `kubectl`\n"
    text += "```\nкод\n```\n1. второй\n"
    blocks = blocks_of(text, "n.md")
    assert [(b.line, b.kind, b.text, b.emphasis) for b in blocks] == [
        (3, "paragraph", "API Server – сервер\nвторая строка", ((0, 10),)),
        (5, "item", "пункт kubectl", ((6, 13),)),
        (9, "item", "второй", ()),
    ]


def test_jargon_lemmas_prefer_the_notes_own_form_then_masculine() -> None:
    assert jargon_bases("подами")[:2] == ["под", "пода"]
    assert jargon_bases("поды")[0] == "под"
    assert jargon_bases("сайдкаров")[0] == "сайдкар"
    assert jargon_bases("ноды", seen={"нода"})[0] == "нода"
