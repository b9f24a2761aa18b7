"""`konspekt check`: every kind of bad input gets one exact `file:line:col: error:` line."""

from __future__ import annotations

from pathlib import Path

from conftest import ROOT, run_cli, write_card

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
    run = run_cli("check")
    assert run.exit_code == 1, run.stdout
    lines = run.stderr.splitlines()
    assert lines[-1].endswith("error") or lines[-1].endswith("errors")
    return lines[:-1]


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
        "cards/docker.yaml:10:7: error: invalid YAML: did not find expected ',' or ']', "
        "while parsing a flow sequence at line 9 "
        "(close the bracket, or quote a value that contains a comma or bracket)"
    ]


def test_tab_indentation(project: Path) -> None:
    write_card(project, "docker.yaml", "topic: docker\n\ttitle: Docker\n")
    assert errors_of(project) == [
        "cards/docker.yaml:2:1: error: invalid YAML: found a tab character that violates "
        "indentation, while scanning a plain scalar at line 1 (indent with spaces, not tabs)"
    ]


def test_duplicate_key_is_an_error_not_a_silent_overwrite(project: Path) -> None:
    write_card(
        project,
        "docker.yaml",
        GOOD.replace(
            "definition: Шаблон для контейнеров.",
            "definition: Шаблон для контейнеров.\n        definition: Другое.",
        ),
    )
    assert errors_of(project) == [
        "cards/docker.yaml:15:5: error: duplicate key 'definition' (first at line 14) "
        "(remove one of them; YAML would silently keep only the last)"
    ]


def test_unknown_field_suggests_the_right_one(project: Path) -> None:
    write_card(project, "docker.yaml", GOOD.replace("definition: Шаблон", "defintion: Шаблон"))
    assert errors_of(project) == [
        "cards/docker.yaml:10:5: error: entry 'image' has no 'definition' "
        "(add 'definition:' — 1–3 sentences, Markdown inline.)",
        "cards/docker.yaml:14:5: error: unknown field 'defintion' in entry 'image' "
        "(did you mean 'definition'?)",
    ]


def test_unknown_field_without_a_close_match_lists_the_known_ones(project: Path) -> None:
    write_card(project, "docker.yaml", GOOD.replace("en: Container", "colour: red"))
    assert errors_of(project) == [
        "cards/docker.yaml:7:5: error: unknown field 'colour' in entry 'container' (known fields: "
        "id, term, en, aliases, forms, match_case, definition, details, examples, related, "
        "source, source_note, tags)"
    ]


def test_missing_required_field(project: Path) -> None:
    write_card(project, "docker.yaml", GOOD.replace("        term: Контейнер\n", ""))
    assert errors_of(project) == [
        "cards/docker.yaml:5:5: error: entry 'container' has no 'term' "
        "(add 'term:' — Canonical Russian term, as a reader looks it up: «Под».)"
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
        # `image` no longer names an entry, so what pointed at it is reported too
        "cards/docker.yaml:9:15: error: 'related' of 'container' names 'image', which is not "
        "an entry id (remove it or add that entry)",
        "cards/docker.yaml:10:9: error: 'id' value 'Docker Image' is not a valid id "
        "(use lowercase Latin letters, digits and dashes, starting with a letter or digit, "
        "e.g. 'docker-image')",
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


def test_empty_definition(project: Path) -> None:
    write_card(
        project,
        "docker.yaml",
        GOOD.replace("definition: Запущенный экземпляр образа.", "definition: '  '"),
    )
    assert errors_of(project) == [
        "cards/docker.yaml:8:17: error: 'definition' is empty (fill it in)"
    ]


def test_key_without_value(project: Path) -> None:
    write_card(project, "docker.yaml", GOOD.replace("en: Container", "en:"))
    assert errors_of(project) == [
        "cards/docker.yaml:7:5: error: 'en' has no value (fill it in or remove the line)"
    ]


def test_file_that_is_not_utf8(project: Path) -> None:
    data = "topic: docker\ntitle: Докер\n".encode("cp1251")
    (project / "cards" / "docker.yaml").write_bytes(data)
    assert errors_of(project) == [
        "cards/docker.yaml:2:8: error: file is not valid UTF-8 (byte 0xc4) (save the file as UTF-8)"
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


def test_alias_bomb_is_bounded(project: Path) -> None:
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, 9):
        prev, cur = chr(ord("a") + n - 1), chr(ord("a") + n)
        levels.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    write_card(project, "docker.yaml", "\n".join(levels) + "\n")
    errors = errors_of(project)
    assert len(errors) == 1
    assert errors[0].startswith("cards/docker.yaml:")
    assert ": error: YAML aliases expand to more than 10,000 values (an alias bomb?) " in errors[0]


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
    assert run.stderr.splitlines()[0] == (
        "nowhere:1:1: error: cards folder not found (pass --cards DIR)"
    )


def test_the_real_cards_pass(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    run = run_cli("check")
    assert run.exit_code == 0, run.stderr
    assert run.stdout.startswith("ok: ")


def test_fast_reader_and_reference_walker_agree_on_every_card_file() -> None:
    """Plain files take libyaml's event stream; the node walker is the reference."""
    from konspekt.yamlnodes import _compose_and_walk, _read_events

    files = [*ROOT.glob("cards/*.yaml"), *ROOT.glob("tests/fixtures/*/*.yaml")]
    assert len(files) >= 8
    for path in files:
        text = path.read_text(encoding="utf-8")
        walked, problems = _compose_and_walk(text, path.name)
        assert problems == []
        assert _read_events(text, path.name) == walked, path
