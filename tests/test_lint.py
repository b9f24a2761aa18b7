"""`konspekt lint`: warnings that make cards teach, each exact and at its place."""

from __future__ import annotations

from pathlib import Path

from conftest import ROOT, run_cli, write_card

CARDS = """
topic: k8s
title: Kubernetes
entries:
  - id: pod
    term: Под
    en: Pod
    definition: Наименьшая единица развёртывания — один или несколько контейнеров.
    related: [container]
  - id: container
    term: Контейнер
    en: Container
    definition: Изолированный процесс, запущенный из образа.
    related: [pod]
"""


def lint(project: Path, *args: str) -> tuple[int, list[str], str]:
    run = run_cli("lint", *args)
    return run.exit_code, run.stderr.splitlines(), run.stdout


def test_clean_cards_give_no_warning(project: Path) -> None:
    write_card(project, "k8s.yaml", CARDS)
    assert lint(project) == (0, [], "0 warnings in 2 entries\n")
    assert lint(project, "--strict")[0] == 0


def test_a_name_the_masker_cannot_see_is_reported_where_the_question_is(project: Path) -> None:
    # «Подовые» is no form of «Под» the linker knows: the question would show it.
    write_card(
        project,
        "k8s.yaml",
        CARDS.replace(
            "definition: Наименьшая единица развёртывания — один или несколько контейнеров.",
            "definition: Наименьшая единица развёртывания, в которой работают контейнеры; "
            "под ним понимают группу.",
        ).replace("term: Под", "term: Под\n    aliases: [группа контейнеров]"),
    )
    code, warnings, _ = lint(project)
    assert (code, warnings) == (
        0,
        [
            "cards/k8s.yaml:8:5: warning: the question of 'pod' still shows «группу … "
            "контейнеры», a form of its name «группа контейнеров» (reword it, add the form to "
            "`forms` or `aliases`, or give a `clue`) [name-visible]"
        ],
    )


def test_a_clue_is_what_the_question_shows(project: Path) -> None:
    leaky = CARDS.replace(
        "definition: Наименьшая единица развёртывания — один или несколько контейнеров.",
        "definition: Наименьшая единица развёртывания, в которой работают контейнеры; "
        "под ним понимают группу.",
    ).replace("term: Под", "term: Под\n    aliases: [группа контейнеров]")
    clue = "    clue: Наименьшая единица развёртывания в Kubernetes.\n    related: [container]"
    write_card(project, "k8s.yaml", leaky.replace("    related: [container]", clue, 1))
    assert lint(project)[1] == []


def test_a_question_that_is_mostly_masked(project: Path) -> None:
    write_card(
        project,
        "k8s.yaml",
        CARDS.replace(
            "definition: Наименьшая единица развёртывания — один или несколько контейнеров.",
            "definition: Под — это под, в поде контейнеры.",
        ),
    )
    assert lint(project)[1] == [
        "cards/k8s.yaml:7:5: warning: the question of 'pod' hides its names 3 times in 3 "
        "words: it no longer reads (reword the definition without them, or give a `clue` "
        "for the question) [masked]"
    ]


def test_a_long_answer(project: Path) -> None:
    long = " ".join(["слово"] * 31)
    write_card(
        project,
        "k8s.yaml",
        CARDS.replace(
            "definition: Изолированный процесс, запущенный из образа.", f"definition: {long}."
        ),
    )
    code, warnings, _ = lint(project, "--strict")
    assert (code, warnings) == (
        1,
        [
            "cards/k8s.yaml:12:5: warning: the definition of 'container' is 31 words; a card "
            "asks to recall it (keep one idea in at most 30 words; move the rest to `details`) "
            "[long-answer]"
        ],
    )


def test_confusable_definitions_and_the_line_that_tells_them_apart(project: Path) -> None:
    twin = CARDS.replace(
        "Изолированный процесс, запущенный из образа.",
        "Наименьшая единица развёртывания — один или несколько контейнеров.",
    )
    write_card(project, "k8s.yaml", twin)
    _, warnings, _ = lint(project)
    assert warnings == [
        "cards/k8s.yaml:12:5: warning: the definitions of 'container' and 'pod' "
        "(cards/k8s.yaml:4:5) share 5 of 5 words: a learner will mix them up (say what "
        "differs, and add «Не путать с Под: …» to `details`) [confusable]"
    ]
    told = twin.replace(
        "    related: [pod]",
        "    details: |-\n      Не путать с подом: под — обёртка.\n    related: [pod]",
    )
    write_card(project, "k8s.yaml", told)
    assert lint(project)[1] == []


def test_references_to_the_notes_missing_fields_and_typography(project: Path) -> None:
    write_card(
        project,
        "k8s.yaml",
        """
        topic: k8s
        title: Kubernetes
        entries:
          - id: pod
            term: Под
            definition: Как сказано в конспекте, это группа "контейнеров" - и еще сеть.
        """,
    )
    _, warnings, _ = lint(project)
    assert warnings == [
        "cards/k8s.yaml:4:5: warning: entry 'pod' has no English name (add `en:` — the name "
        "English documentation uses) [missing-en]",
        "cards/k8s.yaml:4:5: warning: entry 'pod' has no related entries (add `related:` "
        "with the ids of the terms a learner should see next to it) [missing-related]",
        "cards/k8s.yaml:6:5: warning: the definition of 'pod' refers to «конспект…»: a card "
        "does not carry that context (say it without the notes; their wording stays in "
        "`source`) [meta]",
        "cards/k8s.yaml:6:5: warning: a hyphen between words in the definition of 'pod' "
        "(use a dash «—») [typography]",
        "cards/k8s.yaml:6:5: warning: straight quotes \" in the definition of 'pod' (use "
        "«ёлочки» in Russian text) [typography]",
        "cards/k8s.yaml:6:5: warning: «еще» in the definition of 'pod' is written with ё "
        "(write ё: развёртывание, ещё) [typography]",
    ]


def test_the_real_cards_are_lint_clean() -> None:
    run = run_cli("lint", "--strict", "--cards", str(ROOT / "cards"))
    assert run.exit_code == 0, run.stderr
