"""`konspekt check`: every kind of bad input gets one exact `file:line:col: error:` line."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT, run_cli, write_card
from konspekt.yamlnodes import parse_yaml

GOOD = """
    topic: docker
    title: Docker
    order: 1
    entries:
      - id: container
        term: Контейнер
        en: Container
        definition: Запущенный экземпляр образа.
        related: [image]
      - id: image
        term: Образ
        en: Docker image
        aliases: [докер-образ]
        definition: Шаблон для контейнеров.
        related: [container]
"""


def errors_of(project: Path) -> list[str]:
    """The lines `check` prints before its count, which must count only the errors."""
    run = run_cli("check")
    assert run.exit_code == 1, run.stdout
    *lines, count = run.stderr.splitlines()
    errors = sum(": error: " in line or line.startswith("error: ") for line in lines)
    assert count == f"{errors} error{'s' if errors != 1 else ''}"
    return lines


def test_valid_cards_pass_with_a_summary(project: Path) -> None:
    write_card(project, "docker.yaml", GOOD)
    run = run_cli("check")
    assert run.exit_code == 0
    assert run.stdout == "ok: 2 entries in 1 topic (cards)\n"


def test_cards_option_points_at_another_folder(project: Path) -> None:
    moved = write_card(project, "docker.yaml", GOOD).rename(project / "docker.yaml")
    (project / "elsewhere").mkdir()
    moved.rename(project / "elsewhere" / "docker.yaml")
    run = run_cli("check", "--cards", "elsewhere")
    assert run.exit_code == 0, run.stderr
    assert run.stdout == "ok: 2 entries in 1 topic (elsewhere)\n"


def test_yaml_syntax_error(project: Path) -> None:
    write_card(project, "docker.yaml", GOOD.replace("related: [image]", "related: [image"))
    assert errors_of(project) == [
        "cards/docker.yaml:9:14: error: invalid YAML: the bracket [ opened here is not closed "
        "before line 10 (close it with ] where the list ends, or quote a value that contains "
        "a comma or bracket)"
    ]


def test_unknown_field_without_a_close_match_lists_the_known_ones(project: Path) -> None:
    write_card(project, "docker.yaml", GOOD.replace("en: Container", "rank: 1"))
    assert errors_of(project) == [
        "cards/docker.yaml:7:5: error: unknown field 'rank' in entry 'container' (known fields: "
        "id, term, en, aliases, forms, match_case, collocations, not_in, ambiguous, context, "
        "definition, clue, details, examples, related, source, source_note, tags)"
    ]


def test_wrong_type_string_instead_of_list(project: Path) -> None:
    write_card(
        project, "docker.yaml", GOOD.replace("aliases: [докер-образ]", "aliases: докер-образ")
    )
    assert errors_of(project) == [
        "cards/docker.yaml:13:14: error: 'aliases' must be a list, not a string "
        "(write a YAML list: aliases: [докер-образ])"
    ]


def test_wrong_type_number_instead_of_text(project: Path) -> None:
    write_card(project, "docker.yaml", GOOD.replace("en: Container", "en: 1.5"))
    assert errors_of(project) == [
        "cards/docker.yaml:7:9: error: 'en' must be text, not the number 1.5 "
        "(put the value in quotes)"
    ]


def test_wrong_type_yes_is_a_boolean_in_yaml(project: Path) -> None:
    write_card(project, "docker.yaml", GOOD.replace("title: Docker", "title: yes"))
    assert errors_of(project) == [
        "cards/docker.yaml:2:8: error: 'title' must be text, not the boolean true "
        "(put the value in quotes)"
    ]


def test_malformed_id(project: Path) -> None:
    write_card(project, "docker.yaml", GOOD.replace("id: image", "id: Docker Image"))
    assert errors_of(project) == [
        # `image` no longer names an entry: what pointed at it is a consequence, not an error
        "cards/docker.yaml:10:9: error: 'id' value 'Docker Image' is not a valid id "
        "(use lowercase Latin letters, digits and dashes, starting with a letter or digit, "
        "e.g. 'docker-image')",
        "cards/docker.yaml: note: 'related' names ids that no entry has (image); "
        "they are not checked until this error is fixed",
    ]


def test_same_id_twice_names_both_places(project: Path) -> None:
    write_card(project, "docker.yaml", GOOD)
    write_card(
        project,
        "k8s.yaml",
        """
        topic: kubernetes
        title: Kubernetes
        entries:
          - id: container
            term: Под
            definition: Группа контейнеров.
        """,
    )
    assert errors_of(project) == [
        "cards/k8s.yaml:4:5: error: duplicate id 'container' (also at cards/docker.yaml:5:5) "
        "(ids are unique across all card files; rename one of them)"
    ]


def test_related_pointing_nowhere(project: Path) -> None:
    write_card(project, "docker.yaml", GOOD.replace("related: [image]", "related: [imgae]"))
    assert errors_of(project) == [
        "cards/docker.yaml:9:15: error: 'related' of 'container' names 'imgae', which is not "
        "an entry id (did you mean 'image'?)"
    ]


def test_two_entries_claiming_one_name_after_case_and_yo_folding(project: Path) -> None:
    text = GOOD.replace("aliases: [докер-образ]", "aliases: [КОНТЕЙНЕР]").replace(
        "term: Контейнер", "term: Контейнёр"
    )
    write_card(project, "docker.yaml", text)
    assert errors_of(project) == [
        "cards/docker.yaml:13:15: error: alias 'КОНТЕЙНЕР' of 'image' is also the term of "
        "'container' at cards/docker.yaml:6:5 "
        "(a name must point at one entry; remove or reword one of them)"
    ]


def test_object_constructing_tag_is_refused(project: Path) -> None:
    write_card(
        project,
        "docker.yaml",
        GOOD.replace("en: Container", "en: !!python/object/apply:os.system ['echo pwned']"),
    )
    assert errors_of(project) == [
        "cards/docker.yaml:7:9: error: YAML tag '!!python/object/apply:os.system' is not allowed "
        "(card files hold plain text, numbers and lists; remove the tag)"
    ]


def test_every_problem_is_reported_at_once(project: Path) -> None:
    text = (
        GOOD.replace("order: 1", "order: first")
        .replace("en: Container", "en: [x]")
        .replace("id: image", "id: Image")
    )
    write_card(project, "docker.yaml", text)
    assert [e.split(": error: ")[0] for e in errors_of(project)] == [
        "cards/docker.yaml:3:8",
        "cards/docker.yaml:7:9",
        "cards/docker.yaml:10:9",
    ]


def test_an_empty_file(project: Path) -> None:
    write_card(project, "docker.yaml", "# nothing yet\n")
    assert errors_of(project) == [
        "cards/docker.yaml:1:1: error: file is empty (add 'topic:', 'title:' and 'entries:')"
    ]


def test_no_traceback_for_a_missing_folder(project: Path) -> None:
    run = run_cli("check", "--cards", "nowhere")
    assert run.exit_code == 1
    assert run.stderr.splitlines() == [
        "error: cards folder 'nowhere' not found (create it, or pass --cards DIR)",
        "1 error",
    ]


def test_the_real_cards_pass(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    run = run_cli("check")
    assert run.exit_code == 0, run.stderr
    assert run.stdout.startswith("ok: ")


def test_fast_reader_and_reference_walker_agree_on_every_card_file() -> None:
    """Plain files take libyaml's event stream; the node walker is the reference."""
    files = [*ROOT.glob("cards/*.yaml"), *ROOT.glob("tests/fixtures/*/*.yaml")]
    assert len(files) >= 8
    for path in files:
        text = path.read_text(encoding="utf-8")
        walked, problems = parse_yaml(text, path.name, fast=False)
        assert problems == []
        assert walked is not None
        assert parse_yaml(text, path.name) == (walked, []), path


# --- causes, not consequences ---

K8S = """
    topic: kubernetes
    title: Kubernetes
    entries:
      - id: pod
        term: Под
        definition: Группа контейнеров.
        related: [container]
"""
DOCKER_POINTING_AT_POD = GOOD.replace("related: [image]", "related: [image, pod]")
NOT_CHECKED = (
    "cards/k8s.yaml: note: 'related' names ids that no entry has (pod); "
    "they are not checked until this error is fixed"
)


@pytest.mark.parametrize(
    "broken, error",
    [
        (
            K8S.replace("    term: Под", "\tterm: Под"),
            "cards/k8s.yaml:5:1: error: invalid YAML: found a tab character that violates "
            "indentation, while scanning a plain scalar at line 4 (indent with spaces, not tabs)",
        ),
        (
            K8S.replace("    term: Под", "     term: Под"),
            "cards/k8s.yaml:5:10: error: invalid YAML: mapping values are not allowed in this "
            "context (quote a value that contains ': ', or fix the indentation)",
        ),
        (
            K8S.replace("term: Под", 'term: "Под'),
            'cards/k8s.yaml:5:11: error: invalid YAML: the quote " opened here is never closed '
            '(close it with " where the text ends)',
        ),
    ],
    ids=["tab", "indent", "quote"],
)
def test_references_into_an_unreadable_file_are_not_errors(
    project: Path, broken: str, error: str
) -> None:
    write_card(project, "docker.yaml", DOCKER_POINTING_AT_POD)
    write_card(project, "k8s.yaml", broken)
    assert errors_of(project) == [error, NOT_CHECKED]


@pytest.mark.parametrize(
    "value, error",
    [
        (
            '"Под',
            'cards/docker.yaml:6:11: error: invalid YAML: the quote " opened here is '
            'never closed (close it with " where the text ends)',
        ),
        (
            "'Под",
            "cards/docker.yaml:6:11: error: invalid YAML: the quote ' opened here is "
            "never closed (close it with ' where the text ends)",
        ),
        (
            "[Под",
            "cards/docker.yaml:6:11: error: invalid YAML: the bracket [ opened here is not "
            "closed before line 7 (close it with ] where the list ends, or quote a value that "
            "contains a comma or bracket)",
        ),
        (
            "{a: Под",
            "cards/docker.yaml:6:11: error: invalid YAML: the bracket { opened here is not "
            "closed before line 7 (close it with } where the mapping ends, or quote a value that "
            "contains a comma or bracket)",
        ),
    ],
    ids=["double-quote", "single-quote", "bracket", "brace"],
)
def test_an_unclosed_quote_or_bracket_is_reported_where_it_opens(
    project: Path, value: str, error: str
) -> None:
    write_card(project, "docker.yaml", GOOD.replace("term: Контейнер", f"term: {value}"))
    assert errors_of(project) == [error]


def test_a_quote_closed_only_by_a_later_quote_points_at_the_first(project: Path) -> None:
    text = GOOD.replace("term: Контейнер", 'term: "Контейнер').replace(
        "term: Образ", 'term: "Образ"'
    )
    write_card(project, "docker.yaml", text)
    assert errors_of(project) == [
        'cards/docker.yaml:6:11: error: invalid YAML: the quote " opened here is closed only at '
        "line 11, so everything up to there reads as one text "
        '(close it with " where the text ends)'
    ]


def test_a_bad_value_inside_closed_brackets_is_reported_where_it_is(project: Path) -> None:
    write_card(project, "docker.yaml", GOOD.replace("related: [image]", 'related: ["a" b]'))
    assert errors_of(project) == [
        "cards/docker.yaml:9:19: error: invalid YAML: did not find expected ',' or ']', while "
        "parsing a flow sequence (close the bracket, or quote a value that contains a comma or "
        "bracket)"
    ]


def test_an_id_renamed_to_an_existing_one_is_one_error(project: Path) -> None:
    write_card(project, "docker.yaml", GOOD)
    write_card(project, "k8s.yaml", K8S)
    text = GOOD.replace("id: container", "id: image")  # container's related: [image] is itself now
    write_card(project, "docker.yaml", text)
    assert errors_of(project) == [
        "cards/docker.yaml:10:5: error: duplicate id 'image' (also at cards/docker.yaml:5:5) "
        "(ids are unique across all card files; rename one of them)",
        "cards/docker.yaml: note: 'related' names ids that no entry has (container (2 times)); "
        "they are not checked until this error is fixed",
    ]


def test_an_entry_pasted_twice_is_one_error_not_a_name_collision_each(project: Path) -> None:
    pasted = GOOD.rstrip() + "\n" + GOOD[GOOD.index("      - id: image") :]
    write_card(project, "docker.yaml", pasted)
    assert errors_of(project) == [
        "cards/docker.yaml:16:5: error: duplicate id 'image' (also at cards/docker.yaml:10:5) "
        "(ids are unique across all card files; rename one of them)"
    ]


def test_a_misspelled_field_that_explains_a_missing_one_is_one_error(project: Path) -> None:
    write_card(
        project, "docker.yaml", GOOD.replace("definition: Запущенный", "defintion: Запущенный")
    )
    assert errors_of(project) == [
        "cards/docker.yaml:8:5: error: unknown field 'defintion' in entry 'container' "
        "(did you mean 'definition'?)"
    ]


@pytest.mark.parametrize(
    "aliases, error",
    [
        (
            "[докер-образ, Докер-Образ]",
            "cards/docker.yaml:13:28: error: alias 'Докер-Образ' of 'image' repeats its alias "
            "'докер-образ' at cards/docker.yaml:13:15 "
            "(remove it; aliases are compared ignoring case and ё)",
        ),
        (
            "[докер-образ, Образ]",
            "cards/docker.yaml:13:28: error: alias 'Образ' of 'image' repeats its term 'Образ' "
            "at cards/docker.yaml:11:5 (remove it; aliases are compared ignoring case and ё)",
        ),
    ],
    ids=["alias-twice", "alias-is-the-term"],
)
def test_an_entry_naming_itself_twice(project: Path, aliases: str, error: str) -> None:
    write_card(
        project, "docker.yaml", GOOD.replace("aliases: [докер-образ]", f"aliases: {aliases}")
    )
    assert errors_of(project) == [error]


@pytest.mark.parametrize(
    "aliases", ["[образ]", "[Докер-образ, ДОКЕР-ОБРАЗ]\n        match_case: true"]
)
def test_the_term_in_lower_case_and_match_case_variants_are_allowed(
    project: Path, aliases: str
) -> None:
    write_card(
        project, "docker.yaml", GOOD.replace("aliases: [докер-образ]", f"aliases: {aliases}")
    )
    assert run_cli("check").exit_code == 0


def test_an_example_with_both_code_and_text(project: Path) -> None:
    text = GOOD.replace(
        "definition: Шаблон для контейнеров.",
        "definition: Шаблон для контейнеров.\n"
        "        examples:\n"
        "          - code: docker pull nginx\n"
        "            text: Этот текст пропал бы.",
    )
    write_card(project, "docker.yaml", text)
    assert errors_of(project) == [
        "cards/docker.yaml:17:9: error: example [1] has both 'code' and 'text'; only one of "
        "them can be shown (make them separate items, one with 'code:' and one with 'text:')"
    ]


def test_a_language_name_gets_the_hint_of_its_field(project: Path) -> None:
    text = GOOD.replace(
        "definition: Шаблон для контейнеров.",
        "definition: Шаблон для контейнеров.\n"
        "        examples:\n"
        "          - code: int main() {}\n"
        "            lang: C++",
    )
    write_card(project, "docker.yaml", text)
    assert errors_of(project) == [
        "cards/docker.yaml:17:15: error: 'lang' value 'C++' is not a valid language name "
        "(write a Pygments language name in lowercase: bash, yaml, c++, csharp)"
    ]


def test_a_loaded_glossary_is_filed_with_the_long_lived_objects() -> None:
    """Loading pauses the collector; what it made is then moved to the oldest generation
    at once, not scanned by the next young collection (a fresh process: nothing frozen)."""
    import subprocess
    import sys

    code = (
        "import gc; from konspekt.load import load_glossary; "
        f"g = load_glossary({str(Path(__file__).parent / 'fixtures' / 'site')!r}); "
        "print(gc.get_freeze_count(), any(o is g for o in gc.get_objects(generation=2)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["0", "True"]  # in the oldest generation, nothing left frozen
