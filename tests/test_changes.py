"""`konspekt changes` and «Что нового», on a small git history made here with real git."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

import konspekt.cli
from conftest import ROOT, run_cli, write_card
from konspekt import load_glossary
from konspekt.changes import release_history
from konspekt.site.pages import generated_pages

CARDS_V1 = """
    topic: k8s
    title: Kubernetes
    entries:
      - id: pod
        term: Под
        definition: Наименьшая единица развёртывания.
      - id: node
        term: Узел
        definition: Машина кластера.
      - id: kubelet
        term: Агент kubelet
        definition: Запускает поды на узле.
"""
CARDS_V2 = """
    topic: k8s
    title: Kubernetes
    entries:
      - id: pod
        term: Под
        definition: Наименьшая единица развёртывания в Kubernetes.
        aliases: [pod]
      - id: node
        term: Узел
        definition: Машина кластера.
      - id: service
        term: Сервис
        definition: Постоянный адрес группы подов.
"""
# Not committed: kubelet comes back, the service gets an alias.
CARDS_NOW = """
    topic: k8s
    title: Kubernetes
    entries:
      - id: pod
        term: Под
        definition: Наименьшая единица развёртывания в Kubernetes.
        aliases: [pod]
      - id: node
        term: Узел
        definition: Машина кластера.
      - id: service
        term: Сервис
        definition: Постоянный адрес группы подов.
        aliases: [svc]
      - id: kubelet
        term: Агент kubelet
        definition: Запускает поды на узле.
"""


def git(project: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)


def release(project: Path, cards: str, tag: str, day: int) -> None:
    write_card(project, "k8s.yaml", cards)
    assert run_cli("deck", "--out", "dist/k8s.apkg").exit_code == 0  # writes cards/anki.lock
    git(project, "add", "cards")
    date = f"2026-0{day}-01T12:00:00Z"
    subprocess.run(
        ["git", "commit", "-q", "-m", tag],
        cwd=project,
        check=True,
        env={**os.environ, "GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date},
    )
    git(project, "tag", tag)


@pytest.fixture
def history(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{var}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{var}_EMAIL", "test@example.org")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    git(project, "init", "-q", "-b", "main")
    release(project, CARDS_V1, "v1.0.0", 1)
    release(project, CARDS_V2, "v1.1.0", 2)
    write_card(project, "k8s.yaml", CARDS_NOW)
    return project


def test_default_is_since_the_last_release_in_markdown(history: Path) -> None:
    run = run_cli("changes")
    assert run.exit_code == 0, run.stderr
    assert run.stdout == (
        "## Что нового в карточках с v1.1.0\n"
        "\n"
        "### Изменённые термины (1)\n"
        "\n"
        "- Сервис: другие названия\n"
        "\n"
        "### Возвращённые термины (1)\n"
        "\n"
        "- Агент kubelet\n"
    )


def test_since_an_older_release_in_json(history: Path) -> None:
    run = run_cli("changes", "--since", "v1.0.0", "--format", "json")
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout) == {
        "since": "v1.0.0",
        "until": None,
        "new": [{"id": "service", "term": "Сервис"}],
        "changed": [{"id": "pod", "term": "Под", "fields": ["aliases", "definition"]}],
        "retired": [],
        "restored": [],
    }


def test_on_a_tagged_commit_the_notes_are_that_release(history: Path) -> None:
    write_card(history, "k8s.yaml", CARDS_V2)  # the working tree is v1.1.0 again
    run = run_cli("changes")
    assert run.stdout == (
        "## Что нового в карточках с v1.0.0\n"
        "\n"
        "### Новые термины (1)\n"
        "\n"
        "- Сервис\n"
        "\n"
        "### Изменённые термины (1)\n"
        "\n"
        "- Под: другие названия, определение\n"
        "\n"
        "### Убранные термины (1)\n"
        "\n"
        "Из колоды Anki они не удаляются: при импорте карточки получают тег `retired`.\n"
        "\n"
        "- Агент kubelet\n"
    )


def test_without_a_release_everything_is_new(project: Path) -> None:
    write_card(project, "k8s.yaml", CARDS_V1)
    git(project, "init", "-q")
    run = run_cli("changes", "--format", "json")
    assert run.exit_code == 0, run.stderr
    assert [t["id"] for t in json.loads(run.stdout)["new"]] == ["kubelet", "pod", "node"]


def test_nothing_changed_says_so(history: Path) -> None:
    write_card(history, "k8s.yaml", CARDS_V2)
    run = run_cli("changes", "--since", "v1.1.0")
    assert run.stdout == ("## Что нового в карточках с v1.1.0\n\nТермины не изменились с v1.1.0.\n")


def test_errors_are_one_line(history: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    run = run_cli("changes", "--since", "v9")
    assert run.exit_code == 1
    assert run.stderr == "error: unknown git ref 'v9' (a tag, branch or commit; see `git tag`)\n"
    outside = tmp_path_factory.mktemp("no-git")
    (outside / "cards").mkdir()
    write_card(outside, "k8s.yaml", CARDS_V1)
    run = run_cli("changes", "--cards", str(outside / "cards"))
    assert run.exit_code == 1
    assert run.stderr.startswith("error: ") and "is not in a git checkout" in run.stderr


def test_the_site_page_lists_each_release_newest_first(history: Path) -> None:
    assert run_cli("deck", "--out", "dist/k8s.apkg").exit_code == 0  # as `make` does first
    glossary = load_glossary(history / "cards")
    pages = generated_pages(glossary, history=release_history(history / "cards"))
    link = '[{}](glossary/{}.md "{}")'
    pod = link.format("Под", "pod", "Наименьшая единица развёртывания в Kubernetes.")
    service = link.format("Сервис", "service", "Постоянный адрес группы подов.")
    kubelet = link.format("Агент kubelet", "kubelet", "Запускает поды на узле.")
    node = link.format("Узел", "node", "Машина кластера.")
    assert pages["changes.md"] == (
        "# Что нового {#changes}\n\n"
        "Какие термины появились, изменились, вернулись или убраны в каждом выпуске "
        "колоды и сайта, начиная с последнего.\n\n"
        "## Ещё не в выпуске (после v1.1.0)\n\n"
        f"### Изменённые термины (1)\n\n- {service}: другие названия\n\n"
        f"### Возвращённые термины (1)\n\n- {kubelet}\n\n"
        "## v1.1.0 — 2026-02-01\n\n"
        f"### Новые термины (1)\n\n- {service}\n\n"
        f"### Изменённые термины (1)\n\n- {pod}: другие названия, определение\n\n"
        "### Убранные термины (1)\n\n"
        "Из колоды Anki они не удаляются: при импорте карточки получают тег `retired`.\n\n"
        "- Агент kubelet\n\n"
        "## v1.0.0 — 2026-01-01\n\n"
        f"### Новые термины (3)\n\n- {kubelet}\n- {pod}\n- {node}\n"
    )


def test_the_site_page_without_history(project: Path) -> None:
    write_card(project, "k8s.yaml", CARDS_V1)
    glossary = load_glossary(project / "cards")
    assert generated_pages(glossary)["changes.md"] == (
        "# Что нового {#changes}\n\n"
        "История изменений недоступна: сайт собран не из git-репозитория.\n"
    )
    git(project, "init", "-q")
    assert run_cli("deck", "--out", "dist/k8s.apkg").exit_code == 0
    page = generated_pages(glossary, history=release_history(project / "cards"))
    assert page["changes.md"].endswith(
        "`v1.2.0`).\n\n## Ещё не в выпуске\n\n### Новые термины (3)\n\n"
        '- [Агент kubelet](glossary/kubelet.md "Запускает поды на '
        'узле.")\n- [Под](glossary/pod.md "Наименьшая единица '
        'развёртывания.")\n- [Узел](glossary/node.md "Машина '
        'кластера.")\n'
    )


def test_the_site_page_lists_what_the_deck_built_beside_it_just_changed(
    history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`site` builds a deck whose notes were rendered before beside the pages; «Что
    нового» reads that deck's ledger, so it must wait for it, not read the previous one."""
    for name in ("mkdocs.yml", "docs/index.md", "docs/assets/konspekt.css", "overrides/404.html"):
        (history / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, history / name)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # a second core, as the build expects
    build_deck = konspekt.cli.build_deck_quietly

    def slow_deck(*args: Any, **kwargs: Any) -> Any:  # the pages get ahead of the deck
        time.sleep(0.5)
        return build_deck(*args, **kwargs)

    monkeypatch.setattr(konspekt.cli, "build_deck_quietly", slow_deck)
    assert run_cli("site", "--no-build").exit_code == 0  # the deck's notes rendered
    etcd = "      - id: etcd\n        term: Хранилище etcd\n        definition: Хранит данные.\n"
    write_card(history, "k8s.yaml", CARDS_NOW + etcd)
    run = run_cli("site", "--no-build")
    assert run.exit_code == 0, run.stderr
    assert "1 new" in run.stdout
    page = (history / "docs" / "changes.md").read_text(encoding="utf-8")
    unreleased = page.split("## v1.1.0")[0]
    assert "### Новые термины (1)" in unreleased
    assert "[Хранилище etcd](glossary/etcd.md" in unreleased
