"""The Russian-aware linker: which words of a text name which entry, and the Markdown it writes."""

from __future__ import annotations

import json
import shutil
from functools import cache
from pathlib import Path

import pytest

from conftest import run_cli
from konspekt import load_glossary
from konspekt.link import Linker
from konspekt.ru import declension_rule, index_letter, russian, sort_key

FIXTURE = Path(__file__).parent / "fixtures" / "site"


@cache
def linker() -> Linker:
    return Linker.for_glossary(load_glossary(FIXTURE))


def found(text: str, page: str | None = None) -> list[tuple[int, int, str, str]]:
    return [(m.start, m.end, m.text, m.id) for m in linker().find(text, page=page)]


# (text, expected mentions as (start, end, text, id)); offsets are characters.
SENTENCES = [
    pytest.param(
        "Контейнеры запускаются в подах.",
        [(0, 10, "Контейнеры", "container"), (25, 30, "подах", "pod")],
        id="inflections-plural",
    ),
    pytest.param(
        "Список подов и контейнеров.",
        [(7, 12, "подов", "pod"), (15, 26, "контейнеров", "container")],
        id="inflections-genitive-plural-jargon",
    ),
    pytest.param(
        "Образ собирают поверх базового образа.",
        [(0, 5, "Образ", "image"), (22, 37, "базового образа", "base-image")],
        id="multiword-agreement-longest-match",
    ),
    pytest.param(
        "На мастер-ноде нет подов, а нода кластера их запускает.",
        [
            (3, 14, "мастер-ноде", "control-plane-node"),
            (19, 24, "подов", "pod"),
            (28, 32, "нода", "node"),
        ],
        id="hyphenated-jargon",
    ),
    pytest.param(
        "Управляющего узла в кластере может не быть.",
        [(0, 17, "Управляющего узла", "control-plane-node")],
        id="multiword-sentence-initial-capital",
    ),
    pytest.param(
        "контейнеров\nв несколько строк базового\nобраза",
        [(0, 11, "контейнеров", "container"), (30, 45, "базового\nобраза", "base-image")],
        id="multiword-across-line-break",
    ),
    pytest.param("Под нагрузкой кластер растёт.", [], id="homonym-preposition-instrumental"),
    pytest.param(
        "Под управлением Kubernetes работают поды.",
        [(16, 26, "Kubernetes", "kubernetes"), (36, 40, "поды", "pod")],
        id="homonym-preposition-then-noun",
    ),
    pytest.param("Сервис работает под Linux.", [], id="homonym-preposition-latin"),
    pytest.param("Всё работает под очень высокой нагрузкой.", [], id="homonym-past-adverb"),
    pytest.param("Под — наименьшая единица.", [(0, 3, "Под", "pod")], id="noun-before-dash"),
    pytest.param(
        "Под состоит из контейнеров.",
        [(0, 3, "Под", "pod"), (15, 26, "контейнеров", "container")],
        id="noun-before-verb",
    ),
    pytest.param("Зайти в под и проверить.", [(8, 11, "под", "pod")], id="noun-after-preposition"),
    pytest.param(
        "Таким образом, образ неизменяем.",
        [(15, 20, "образ", "image")],
        id="idiom-takim-obrazom",
    ),
    pytest.param(
        "RUN выполняет команду, а run — нет.",
        [(0, 3, "RUN", "run-instruction")],
        id="match-case",
    ),
    pytest.param(
        "Команда docker run запускает контейнер.",
        [(0, 18, "Команда docker run", "docker-run"), (29, 38, "контейнер", "container")],
        id="match-case-entry-not-in-other-case",
    ),
    pytest.param(
        "КОНТЕЙНЕР большими буквами.",
        [(0, 9, "КОНТЕЙНЕР", "container")],
        id="case-insensitive-by-default",
    ),
    pytest.param(
        "Запустите `docker run` в контейнере.",
        [(25, 35, "контейнере", "container")],
        id="code-span",
    ),
    pytest.param("```\nпод в коде\n```\nА вот под.", [(25, 28, "под", "pod")], id="fenced-code"),
    pytest.param("# Под в заголовке\n\nТекст про под.", [(29, 32, "под", "pod")], id="heading"),
    pytest.param(
        "[Под](https://kubernetes.io) и контейнер.",
        [(31, 40, "контейнер", "container")],
        id="existing-link",
    ),
    pytest.param(
        "Контейнер и контейнер.\n\nКонтейнер снова.",
        [(0, 9, "Контейнер", "container"), (24, 33, "Контейнер", "container")],
        id="first-mention-per-paragraph",
    ),
    pytest.param(
        "- Под в списке\n- ещё под",
        [(2, 5, "Под", "pod"), (21, 24, "под", "pod")],
        id="list-items-are-paragraphs",
    ),
    pytest.param(
        "Файл container.yaml и --image, а также $kubernetes и k8s.",
        [(53, 56, "k8s", "kubernetes")],
        id="identifiers-are-not-words",
    ),
    pytest.param(
        "Кубера нет, зато есть Docker-образ и докер-образа.",
        [(0, 6, "Кубера", "kubernetes"), (22, 34, "Docker-образ", "image")],
        id="entry-forms-and-aliases",
    ),
    pytest.param("Ёмкость и емкость.", [(0, 7, "Ёмкость", "raw-html")], id="yo-is-ye"),
]


@pytest.mark.parametrize(("text", "expected"), SENTENCES)
def test_linker_finds(text: str, expected: list[tuple[int, int, str, str]]) -> None:
    assert found(text) == expected


def test_no_link_to_the_page_itself() -> None:
    text = "Под — это под, а контейнер — это контейнер."
    assert found(text, page="pod") == [(17, 26, "контейнер", "container")]


def test_offsets_slice_the_input() -> None:
    text = "Сначала `код`, потом **поды** и [ссылка](x.md), затем базовые образы."
    for start, end, words, _ in found(text):
        assert text[start:end] == words


def test_link_cli_prints_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURE.parent.parent.parent)
    from click.testing import CliRunner

    from konspekt.cli import main

    result = CliRunner().invoke(
        main, ["link", "--cards", str(FIXTURE)], input="Контейнеры запускаются в подах.\n"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"start": 0, "end": 10, "text": "Контейнеры", "id": "container"},
        {"start": 25, "end": 30, "text": "подах", "id": "pod"},
    ]


def test_link_cli_reports_card_errors(project: Path) -> None:
    run = run_cli("link")
    assert run.exit_code == 1
    assert "no card files" in run.stderr


# --- Markdown written back ---


def test_links_carry_href_and_title() -> None:
    doc = linker().document("Контейнеры в подах.", page=None)
    markdown = doc.markdown(lambda i: f"{i}.md", lambda i: f'о "{i}"')
    assert markdown == (
        '[Контейнеры](container.md "о &quot;container&quot;") в '
        '[подах](pod.md "о &quot;pod&quot;").'
    )


# --- Russian ---


def test_forms_from_dictionary_and_rules() -> None:
    ru = russian()
    assert ("базовых", "образов") in ru.phrase_forms(["Базовый", "образ"])
    pod = {form for (form,) in ru.phrase_forms(["Под"])}
    # pymorphy3 knows «под» only as an indeclinable abbreviation: the rule declines it.
    assert {"подов", "подах", "подами", "поду"} <= pod
    assert {f.text for f in declension_rule("джоба").forms} >= {"джобы", "джобой", "джоб"}
    assert {f.text for f in declension_rule("деплой").forms} >= {"деплоя", "деплоем", "деплоев"}


def test_russian_collation() -> None:
    words = ["kubectl", "Ёлка", "Йод", "Ель", "Иней", "яма", "Аргумент", "3scale", "Docker"]
    assert sorted(words, key=sort_key) == [
        "Аргумент",
        "Ёлка",
        "Ель",
        "Иней",
        "Йод",
        "яма",
        "Docker",
        "kubectl",
        "3scale",
    ]
    assert [index_letter(w) for w in ("Ёлка", "Йод", "k8s", "3scale")] == ["Е", "Й", "K", "#"]


def test_linker_scales_to_thousands_of_entries() -> None:
    """One dict lookup per word, not a pattern per term: a big glossary stays fast."""
    import time

    from konspekt.model import Entry

    syllables = ["ба", "ве", "ги", "до", "жу", "зе", "ки", "ло", "му", "но"]

    def word(i: int) -> str:  # distinct made-up nouns: «бавегидор», declined by rule
        return "".join(syllables[int(d)] for d in f"{i:04d}") + "р"

    entries = [
        Entry(id=f"t{i}", term=word(i).capitalize(), definition="Определение.", topic="x")
        for i in range(3000)
    ]
    big = Linker(entries)
    text = " ".join(f"{word(i)}ами и текст" for i in range(0, 3000, 3)) * 3
    started = time.perf_counter()
    mentions = big.find(text)
    elapsed = time.perf_counter() - started
    assert len(mentions) == 1000
    assert elapsed < 2.0


def test_the_index_is_kept_between_builds_until_a_name_changes(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    text = "Контейнеры запускаются в подах на узлах кластера."
    built = Linker.for_glossary(load_glossary(FIXTURE), cache)
    [kept] = cache.glob("linker-*.pickle")
    reused = Linker.for_glossary(load_glossary(FIXTURE), cache)
    assert reused.find(text) == built.find(text) != []
    assert reused.size == built.size

    cards = tmp_path / "cards"
    shutil.copytree(FIXTURE, cards)
    card = cards / "kubernetes.yaml"
    card.write_text(card.read_text(encoding="utf-8").replace("term: Узел", "term: Нода"), "utf-8")
    renamed = Linker.for_glossary(load_glossary(cards), cache)
    assert [p.name for p in cache.glob("linker-*.pickle")] != [kept.name]  # replaced
    assert [m.text for m in renamed.find(text)] == ["Контейнеры", "подах"]

    kept_now = next(cache.glob("linker-*.pickle"))
    kept_now.write_bytes(b"not a pickle")  # a damaged cache is rebuilt, never trusted
    assert Linker.for_glossary(load_glossary(cards), cache).find(text) == renamed.find(text)
