"""Hostile and broken card files: every command fails with the exact positioned error,
no traceback, and writes nothing.

Each folder in tests/bad_inputs/ holds card files and `expected.txt`, the exact error
lines. Inputs too big to commit (a 50 MB file, a huge line) are made here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import SCHEMA_LINE, run_cli

BAD_INPUTS = Path(__file__).parent / "bad_inputs"
CASES = sorted(p for p in BAD_INPUTS.iterdir() if p.is_dir())
COMMANDS = ["check", "deck", "site"]


def copy_case(case: Path, project: Path) -> None:
    for card in case.glob("*.yaml"):
        shutil.copy(card, project / "cards" / card.name)


def outputs(project: Path) -> set[Path]:
    """Everything a build could have written: anything outside cards/ and konspekt.yml."""
    inputs = ("cards", "konspekt.yml")
    return {p for p in project.rglob("*") if p.relative_to(project).parts[0] not in inputs}


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_bad_input_is_reported_exactly(case: Path, command: str, project: Path) -> None:
    copy_case(case, project)
    run = run_cli(command)
    assert run.exit_code == 1
    expected = (case / "expected.txt").read_text(encoding="utf-8").splitlines()
    *errors, count = run.stderr.splitlines()
    assert errors == expected
    errors_expected = sum(": error: " in line for line in expected)  # not the notes
    assert count == f"{errors_expected} error{'s' if errors_expected != 1 else ''}"
    assert "Traceback" not in run.stderr
    assert outputs(project) == set()


def test_a_50_mb_file_is_refused_without_reading_it(project: Path) -> None:
    path = project / "cards" / "docker.yaml"
    with path.open("w", encoding="utf-8") as f:
        f.write(SCHEMA_LINE + "topic: docker\ntitle: Docker\nentries:\n")
        line = "  - {id: x, term: y, definition: z}\n"
        f.write(line * (50 * 2**20 // len(line)))
    run = run_cli("check")
    assert run.exit_code == 1
    assert run.stderr.splitlines()[0] == (
        "cards/docker.yaml:1:1: error: file is 50.0 MiB, more than the 16 MiB a card file may "
        "have (split the topic into several files)"
    )


def test_a_huge_single_line_gets_a_positioned_error(project: Path) -> None:
    path = project / "cards" / "docker.yaml"
    path.write_text(
        SCHEMA_LINE + 'topic: docker\ntitle: Docker\ndescription: "' + "ж" * 5_000_000 + "\n",
        encoding="utf-8",
    )
    run = run_cli("check")
    assert run.exit_code == 1
    assert run.stderr.splitlines()[0] == (
        'cards/docker.yaml:4:14: error: invalid YAML: the quote " opened here is never closed '
        '(close it with " where the text ends)'
    )


GOOD_TOPIC = (
    "topic: docker\ntitle: Docker\nentries:\n"
    "  - id: image\n    term: Образ\n    definition: Шаблон контейнера.\n"
)


@pytest.mark.parametrize(
    "name, data",
    [
        ("BOM", b"\xef\xbb\xbf" + (SCHEMA_LINE + GOOD_TOPIC).encode()),
        ("CRLF", (SCHEMA_LINE + GOOD_TOPIC).replace("\n", "\r\n").encode()),
    ],
)
def test_editor_quirks_are_accepted(name: str, data: bytes, project: Path) -> None:
    (project / "cards" / "docker.yaml").write_bytes(data)
    run = run_cli("check")
    assert run.exit_code == 0, run.stderr
    assert run.stdout == "ok: 1 entry in 1 topic (cards)\n"
