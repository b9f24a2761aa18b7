"""The Russian-aware linker: which words of a text name which entry, and the Markdown it writes."""

from __future__ import annotations

import json
import os
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import konspekt.link
from conftest import run_cli, write_card
from konspekt import load_glossary
from konspekt.link import Linker, LinkIndex, build_index
from konspekt.model import Entry
from konspekt.ru import (
    Russian,
    _latin_forms,
    declension_rule,
    index_letter,
    is_cyrillic,
    is_latin,
    join_key,
    name_key,
    name_parts,
    normalize,
    russian,
    shown_aliases,
    sort_key,
)

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
    assert found(text) == [(23, 27, "поды", "pod"), (54, 68, "базовые образы", "base-image")]
    assert [text[start:end] for start, end, _, _ in found(text)] == ["поды", "базовые образы"]


def small_linker(*entries: Entry) -> Linker:
    return Linker(entries)


def test_match_case_allows_a_capital_at_the_start_of_a_sentence() -> None:
    """README, "How the linker decides": as written, plus a capital at a sentence start."""
    entry = Entry(id="apply", term="kubectl apply", match_case=True, definition="О.", topic="x")
    linker = small_linker(entry)
    assert [m.text for m in linker.find("Затем kubectl apply.")] == ["kubectl apply"]
    assert [m.text for m in linker.find("Kubectl apply применяет.")] == ["Kubectl apply"]
    assert [m.text for m in linker.find("Готово. Kubectl apply снова.")] == ["Kubectl apply"]
    assert [m.text for m in linker.find("- Kubectl apply в списке")] == ["Kubectl apply"]
    assert linker.find("Затем Kubectl apply.") == []  # a capital mid-sentence: not as written
    assert linker.find("KUBECTL APPLY.") == []


def test_a_generated_form_yields_to_a_name_as_written() -> None:
    """«поды» is a generated form of «Под», but the name of another entry: that one wins,
    though it comes later."""
    pod = Entry(id="pod", term="Под", definition="О.", topic="x")
    pods = Entry(id="pods", term="Поды", definition="О.", topic="x")
    assert [(m.text, m.id) for m in small_linker(pod, pods).find("Поды и под.")] == [
        ("Поды", "pods"),
        ("под", "pod"),
    ]


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


# --- names: one rule for validation and the linker ---


def test_names_the_linker_reads_as_one_are_one_name_for_check(project: Path) -> None:
    """«CI / CD» and «CI/CD» are one key for the linker, so `check` refuses the pair:
    otherwise one of the two entries would silently never be linked."""
    write_card(
        project,
        "ci.yaml",
        """
        topic: ci
        title: CI
        entries:
          - id: ci-cd
            term: CI/CD
            definition: Сборка и доставка.
          - id: pipeline
            term: Конвейер
            aliases: [CI / CD]
            definition: Шаги сборки.
        """,
    )
    run = run_cli("check")
    assert run.exit_code == 1
    assert run.stderr.splitlines()[0] == (
        "cards/ci.yaml:9:15: error: alias 'CI / CD' of 'pipeline' is also the term of "
        "'ci-cd' at cards/ci.yaml:5:5 "
        "(a name must point at one entry; remove or reword one of them)"
    )


@pytest.mark.parametrize(
    ("one", "other"),
    [("CI/CD", "CI / CD"), ("Ёмкость", "емкость"), ("Docker’а", "docker'а"), ("a  b", "A\nb")],
)
def test_name_key_folds_what_the_linker_folds(one: str, other: str) -> None:
    assert name_key(one) == name_key(other)
    only = Linker([Entry(id="x", term=one, definition="О.", topic="t")])
    assert name_key(one) in only.keys_of("x")


def test_shown_aliases_skip_names_already_shown() -> None:
    aliases = ("кубер", "K8S", "Kubernetes", "кубер", "k8s", "кубернетес")
    assert shown_aliases("Kubernetes", "K8s", aliases) == ["кубер", "кубернетес"]
    assert shown_aliases("CI/CD", None, ("CI / CD", "ci-cd")) == ["ci-cd"]


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


def test_linker_handles_thousands_of_entries() -> None:
    """One dict lookup per word, not a pattern per term (its speed is measured by `make bench`)."""
    syllables = ["ба", "ве", "ги", "до", "жу", "зе", "ки", "ло", "му", "но"]

    def word(i: int) -> str:  # distinct made-up nouns: «бавегидор», declined by rule
        return "".join(syllables[int(d)] for d in f"{i:04d}") + "р"

    entries = [
        Entry(id=f"t{i}", term=word(i).capitalize(), definition="Определение.", topic="x")
        for i in range(3000)
    ]
    big = Linker(entries)
    text = " ".join(f"{word(i)}ами и текст" for i in range(0, 3000, 3)) * 3
    mentions = big.find(text)
    assert [m.id for m in mentions] == [f"t{i}" for i in range(0, 3000, 3)]


def test_the_index_is_kept_between_builds_until_a_name_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    text = "Контейнеры запускаются в подах на узлах кластера."
    built = Linker.for_glossary(load_glossary(FIXTURE), cache)
    [kept] = cache.glob("linker-*")
    assert kept.suffix == ".json"  # plain data: loading it cannot run code

    builds: list[int] = []
    real_build = konspekt.link.build_index

    def counting_build(*args: Any) -> LinkIndex:
        builds.append(1)
        return real_build(*args)

    monkeypatch.setattr(konspekt.link, "build_index", counting_build)
    reused = Linker.for_glossary(load_glossary(FIXTURE), cache)
    assert builds == []  # read from the cache, not built again
    assert reused.index == built.index
    assert reused.find(text) == built.find(text) != []
    assert reused.keys_of("pod") == built.keys_of("pod") != []

    cards = tmp_path / "cards"
    shutil.copytree(FIXTURE, cards)
    card = cards / "kubernetes.yaml"
    card.write_text(card.read_text(encoding="utf-8").replace("term: Узел", "term: Нода"), "utf-8")
    renamed = Linker.for_glossary(load_glossary(cards), cache)
    assert builds == [1]
    assert [p.name for p in cache.glob("linker-*")] != [kept.name]  # replaced
    assert [m.text for m in renamed.find(text)] == ["Контейнеры", "подах"]


def cache_text(**changes: object) -> str:
    """A linker cache in the current layout (one key, «под» → pod), with `changes`."""
    data: dict[str, object] = {
        "format": konspekt.link._CACHE_FORMAT,
        "keys": "под",
        "ids": ["pod"],
        "groups": [[[0, 2, 0, None, False]]],
        "rows": [0],
    }
    return json.dumps({**data, **changes}, ensure_ascii=False)


@pytest.mark.parametrize(
    "damage",
    [
        "not json",
        "[]",
        cache_text(ids=["no-such-entry"]),
        cache_text(ids="pod"),
        cache_text(groups=[[[0, "2", 0, None, False]]]),
        cache_text(groups=[[[0, 2, 0, None, 0]]]),
        cache_text(groups=[[[0, 2, 0, 1, False]]]),
        cache_text(groups=[[[0, 2, 0, None]]]),
        cache_text(groups=[[[1, 2, 0, None, False]]]),  # no such place in `ids`
        cache_text(groups=[[[-1, 2, 0, None, False]]]),
        cache_text(groups=[[]]),
        cache_text(rows=[1]),
        cache_text(rows=[-1]),  # not the last group, counted from the end
        cache_text(rows=[0, 0]),
        cache_text(rows=[True]),
        cache_text(keys="под\x1eпод", rows=[0, 0]),  # a key written twice
        cache_text(keys=["под"]),
        '{"format": 2, "targets": [[["под"], [["pod", 0, 0, null, false]]]]}',
    ],
)
def test_a_damaged_index_is_built_again_never_trusted(tmp_path: Path, damage: str) -> None:
    glossary = load_glossary(FIXTURE)
    Linker.for_glossary(glossary, tmp_path)
    [kept] = tmp_path.glob("linker-*")
    kept.write_text(damage, encoding="utf-8")
    rebuilt = Linker.for_glossary(glossary, tmp_path)
    assert rebuilt.index == Linker(glossary.entries).index
    assert kept.read_text(encoding="utf-8") == rebuilt.index.to_json()  # and saved again


def test_agreement_is_worked_out_once_per_head_and_adjectives() -> None:
    ru = russian()
    first = ru.phrase_forms(["Хитрый", "ретранслятор"])
    misses = ru._inflections.cache_info().misses
    longer = ru.phrase_forms(["Хитрый", "ретранслятор", "кластера"])
    assert ru._inflections.cache_info().misses == misses  # the same head and adjective
    assert ("хитрых", "ретрансляторов") in first
    assert ("хитрых", "ретрансляторов", "кластеров") in longer


def one_by_one(ru: Russian, tokens: list[str]) -> list[tuple[str, ...]]:
    """A name's forms as they were made before `phrase_keys` made them by column: each
    form of the head with its adjectives agreeing, then each tail, one tuple at a time."""
    lowered = [t.lower() for t in tokens]
    modifiers: list[int] = []
    head = -1
    for index, word in enumerate(lowered):
        if not is_cyrillic(word):
            continue
        if any(is_cyrillic(w) for w in lowered[index + 1 :]) and ru._is_adjective(word):
            modifiers.append(index)
            continue
        head = index
        break
    if head < 0:
        forms = [tuple(lowered)]
        if is_latin(lowered[-1]) and (len(tokens) == 1 or tokens[-1][:1].isupper()):
            forms += [(*lowered[:-1], form) for form in _latin_forms(lowered[-1])]
        return list(dict.fromkeys(tuple(normalize(w) for w in f) for f in forms))
    tails = [lowered]
    if head < len(lowered) - 1 and is_cyrillic(lowered[-1]):
        tails = [[*lowered[:-1], last] for last in ru.genitive_numbers(lowered[-1])]
    noun = ru.noun(lowered[head])
    result: dict[tuple[str, ...], None] = {}
    for form in noun.forms:
        replaced = [normalize(form.text)]
        for index in modifiers:
            agreed = ru._agree(lowered[index], form, noun)
            if agreed is None:
                break
            replaced.append(normalize(agreed))
        else:
            for tail in tails:
                phrase = [normalize(w) for w in tail]
                for index, word in zip((head, *modifiers), replaced, strict=True):
                    phrase[index] = word
                result[tuple(phrase)] = None
    result[tuple(normalize(w) for w in lowered)] = None
    return list(result)


NAMES = (
    "Базовый образ", "Слой образа", "Среда выполнения контейнеров", "Под", "поды",
    "Хитрый ретранслятор кластера", "Главный рабочий узел", "Мастер-нода", "API-сервер",
    "API сервер", "GitLab Runner", "Docker", "Stages", "CI / CD", "Ёмкость тома",
    "Том", "Пайплайн", "Джоба", "Деплой", "kubectl", "Docker-образ", "под Kubernetes",
    "Новые ножницы", "Открытые сценарии цикла", "Образ жизни", "k8s",
)  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_a_names_keys_are_its_forms_made_one_by_one(name: str) -> None:
    """`phrase_keys` zips columns of inflected words: the same forms, in the same order,
    as a loop over the head's forms makes them; with the gaps, as `join_key` puts them."""
    ru = russian()
    tokens, gaps = name_parts(name)
    expected = one_by_one(ru, tokens)
    assert list(ru.phrase_form_list(tokens)) == expected
    assert ru.phrase_keys(tokens, gaps) == [join_key(form, gaps) for form in expected]


def test_the_keys_of_the_projects_names_are_their_forms_made_one_by_one() -> None:
    ru = russian()
    for entry in load_glossary(Path(__file__).parent.parent / "cards").entries:
        for name in (*entry.names, *entry.collocations, *entry.not_in):
            tokens, gaps = name_parts(name)
            if tokens:
                expected = [join_key(form, gaps) for form in one_by_one(ru, tokens)]
                assert ru.phrase_keys(tokens, gaps) == expected, name


def test_the_index_is_the_same_in_every_process() -> None:
    """The cache is written in the index's own order, unsorted: that order must not
    depend on string hashing, which differs from process to process."""
    import subprocess
    import sys

    code = (
        "import hashlib; from konspekt import load_glossary; from konspekt.link import Linker; "
        f"print(hashlib.sha256(Linker.for_glossary(load_glossary({str(FIXTURE)!r}))"
        ".index.to_json().encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(digests) == 1


# --- emphasis, number and spelling (issue 16) ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("_Мастер-нода_ — главная.", [("Мастер-нода", "control-plane-node")]),
        ("Собираем *поды* и **контейнеры**.", [("поды", "pod"), ("контейнеры", "container")]),
        ("Поверх _базового образа_ и т. д.", [("базового образа", "base-image")]),
        ("Сервис под _очень высокой нагрузкой_ живёт.", []),  # the preposition sees through
        ("Переменная my_под и под_x.", []),  # underscores between letters: an identifier
        ("Вот **базового** образа нет.", [("образа", "image")]),  # a link would cut the emphasis
    ],
)
def test_emphasis_is_transparent(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(m.text, m.id) for m in linker().find(text)] == expected


def test_a_link_inside_emphasis_keeps_the_markdown_valid_and_safe() -> None:
    from safety import active_content, site_markdown

    doc = linker().document("_Мастер-нода_ и **поды**.")
    markdown = doc.markdown(lambda i: f"{i}.md")
    assert markdown == "_[Мастер-нода](control-plane-node.md)_ и **[поды](pod.md)**."
    html = site_markdown().convert(markdown)
    assert '<em><a href="control-plane-node.md">Мастер-нода</a></em>' in html
    assert active_content(html) == []


def test_multiword_names_inflect_in_number_and_spelling() -> None:
    runtime = Entry(id="rt", term="Среда выполнения контейнеров", definition="О.", topic="x")
    layer = Entry(id="layer", term="Слой образа", definition="О.", topic="x")
    api = Entry(id="api", term="API-сервер", definition="О.", topic="x")
    runner = Entry(id="runner", term="GitLab Runner", definition="О.", topic="x")
    small = small_linker(runtime, layer, api, runner)
    text = (
        "Среда выполнения контейнера; слои образов; API сервера и API-сервер; "
        "на GitLab Runner'ах; GitLab Runners."
    )
    assert [m.text for m in small.find(text)] == [
        "Среда выполнения контейнера",
        "слои образов",
        "API сервера",
        "GitLab Runner'ах",
    ]
    assert ("gitlab", " ", "runners") in small.keys_of("runner")  # the English plural
    # Only an abbreviation is written both ways: «Docker-контейнер» is not split.
    docker = Entry(id="dc", term="Docker-контейнер", definition="О.", topic="x")
    assert small_linker(docker).find("Docker контейнер") == []
    # An abbreviation may begin with a digit.
    model = Entry(id="3d", term="3D модель", definition="О.", topic="x")
    assert [m.text for m in small_linker(model).find("3D-модели")] == ["3D-модели"]
    # ... or with a letter that `re` takes for a capital Latin one (İ, the Kelvin sign K).
    for odd in ("\u0130PI", "\u212aS"):
        entry = Entry(id="odd", term=f"{odd}-сервер", definition="О.", topic="x")
        assert [m.text for m in small_linker(entry).find(f"{odd} сервера")] == [f"{odd} сервера"]


# --- senses: collocations, not_in, ambiguous names ---


def sense_linker() -> Linker:
    return small_linker(
        Entry(id="k8s", term="Kubernetes", definition="О.", topic="kubernetes"),
        Entry(
            id="node", term="Узел", aliases=("нода",), ambiguous=("Узел",),
            definition="О.", topic="kubernetes",
        ),
        Entry(
            id="job", term="Job", match_case=True, collocations=("контроллер заданий",),
            definition="О.", topic="kubernetes",
        ),
        Entry(
            id="container", term="Контейнер", ambiguous=("Контейнер",),
            not_in=("контейнер внедрения зависимостей",), context=("kubernetes",),
            definition="О.", topic="docker",
        ),
        Entry(id="image", term="Образ", definition="О.", topic="docker"),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Узел сети и узел дерева.", []),  # ambiguous, and nothing else is about Kubernetes
        ("Узел кластера Kubernetes.", ["node", "k8s"]),  # another term of the topic
        ("Узел, нода — одно и то же.", ["node"]),  # an unambiguous name of the entry itself
        ("Контейнер внедрения зависимостей создаёт контейнер.", []),  # not_in, then ambiguous
        ("Контейнер из образа.", ["container", "image"]),  # its own topic
        ("Контейнер в Kubernetes.", ["container", "k8s"]),  # its context
        ("[Образ](https://x.org) даёт контейнер.", ["container"]),  # a link's text counts
        ("Контроллер заданий следит за подами.", ["job"]),  # a collocation pins the sense
        ("Узел сети.\n\nKubernetes.", ["k8s"]),  # the evidence is per paragraph
    ],
)
def test_senses(text: str, expected: list[str]) -> None:
    assert [m.id for m in sense_linker().find(text)] == expected


def test_the_page_is_evidence_of_its_topic() -> None:
    assert [m.id for m in sense_linker().find("Узел сети.", page="k8s")] == ["node"]


def test_explain_says_why() -> None:
    text = "Узел сети. Контейнер внедрения зависимостей. Образ и образ. Под нагрузкой."
    explained = [(c.text, c.linked, c.reason) for c in sense_linker().explain(text)]
    assert explained == [
        ("Узел", False, "an ambiguous name, and nothing else in the paragraph is about kubernetes"),
        (
            "Контейнер внедрения зависимостей",
            False,
            "a phrase in which the name does not mean container (not_in)",
        ),
        ("Образ", True, "a name of the entry"),
        ("образ", False, "mentioned before in this paragraph (one link per entry)"),
    ]
    assert [(c.text, c.reason) for c in linker().explain("Под нагрузкой, а под — нет.")] == [
        ("Под", "the function word «под», not the term"),
        ("под", "a name of the entry"),
    ]


def test_link_cli_explains(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURE.parent.parent.parent)
    from click.testing import CliRunner

    from konspekt.cli import main

    result = CliRunner().invoke(
        main, ["link", "--cards", str(FIXTURE), "--explain"], input="Под нагрузкой поды.\n"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "0-3 «Под» → pod: not linked (the function word «под», not the term)",
        "14-18 «поды» → pod: linked (a form of a name)",
    ]


def test_senses_are_checked(project: Path) -> None:
    write_card(
        project,
        "k.yaml",
        """
        topic: k
        title: K
        entries:
          - id: node
            term: Узел
            ambiguous: [нода]
            context: [kubernetes]
            definition: Машина.
        """,
    )
    run = run_cli("check")
    assert run.exit_code == 1
    assert run.stderr.splitlines()[:2] == [
        "cards/k.yaml:6:17: error: 'ambiguous' of 'node' lists 'нода', which is not its term, "
        "an alias or its English name (list only names of this entry; add it to 'aliases' first)",
        "cards/k.yaml:7:15: error: 'context' of 'node' names 'kubernetes', which is neither a "
        "topic nor an entry id (remove it)",
    ]


def test_masking_matches_as_the_linker_does() -> None:
    """Card fronts hide the answer's names through emphasis and in every number."""
    from konspekt.mask import Masker

    layer = Entry(id="layer", term="Слой образа", definition="О.", topic="x")
    masker = Masker.of(small_linker(layer), "layer")
    assert masker.mask("Уже есть **слои** образов, _слой образа_.") == ("Уже есть **[…]**, _[…]_.")


def test_name_keys_are_worked_out_once_per_name() -> None:
    # validation, the linker and the pages all key every name: one computation each
    assert name_key("Очень редкое имя") is name_key("Очень редкое имя")


def test_adjectives_inflect_as_pymorphy3_inflects_them() -> None:
    """`Russian._inflect_parse` copies `Parse.inflect` over a lexeme made once: the same
    form for every case, number, gender and animacy, on the adjectives of the cards."""
    ru = russian()
    words = {"базовый", "рабочий", "зеленый", "сетевой", "управляемый", "третий", "новая"}
    for entry in load_glossary(Path(__file__).parent.parent / "cards").entries:
        for name in entry.names:
            words.update(w.lower() for w in name.split())
    compared = 0
    for word in sorted(words):
        for parse in ru.parse(word):
            if parse.tag.POS not in ("ADJF", "PRTF"):
                continue
            for case in ("nomn", "gent", "datv", "accs", "ablt", "loct", "gen2", "loc2"):
                for extra in ({"sing", "masc"}, {"sing", "femn"}, {"sing", "neut"}, {"plur"}):
                    for wanted in (
                        {case, *extra},
                        {case, *extra, "anim"},
                        {case, *extra, "inan"},
                        {case, "sing"},
                    ):
                        mine, theirs = ru._inflect_parse(parse, wanted), parse.inflect(wanted)
                        assert (mine and (mine.word, mine.tag)) == (
                            theirs and (theirs.word, theirs.tag)
                        ), (word, wanted)
                        compared += 1
    assert compared > 1000


def test_a_name_with_a_character_pymorphy3_cannot_read_is_an_unknown_word() -> None:
    """pymorphy3 names each character to tell scripts apart, and U+17000 has no name: its
    ValueError was a traceback out of the build (found by test_injection)."""
    odd = "\U00017000под"
    assert russian().parse(odd) == ()
    entry = Entry(id="odd", term="Образ", aliases=(odd,), definition="О.", topic="x")
    linker = Linker([entry])
    assert linker.find(f"Текст про {odd} и образы.") != []


_NAMES = ["Образ", "образ жизни", "Под", "под", "Pod", "pod", "базовый образ", "Поды", "Docker"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_NAMES),
            st.lists(st.sampled_from(_NAMES), max_size=3),
            st.lists(st.sampled_from(_NAMES), max_size=2),
            st.lists(st.sampled_from(_NAMES), max_size=2),
            st.booleans(),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_each_entrys_keys_known_while_building_are_those_the_index_holds(
    specs: list[tuple[str, list[str], list[str], list[str], bool]],
) -> None:
    """`build_index` gives each entry's keys from what it made; `LinkIndex.keys` reads them
    from the whole table (a loaded index): not_in, collocations and cased names included."""
    entries = [
        Entry(id=f"e{i}", term=term, aliases=tuple(aliases), not_in=tuple(not_in),
              collocations=tuple(collocations), match_case=cased, definition="О.", topic="x")
        for i, (term, aliases, not_in, collocations, cased) in enumerate(specs)
    ]  # fmt: skip
    built = build_index(entries, russian())
    assert dict(built.keys) == dict(LinkIndex(built.targets).keys)
