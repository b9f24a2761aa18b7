"""The project's paths and the CLI's one error handler: named errors, one message each."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, run_cli, write_card
from konspekt import errors
from konspekt.project import generated_paths


def test_make_clean_removes_every_generated_path() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    (clean,) = re.findall(r"^clean:\n\trm -rf (.+)$", makefile, flags=re.MULTILINE)
    assert sorted(clean.split()) == sorted(generated_paths())


def test_gitignore_covers_every_generated_path() -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    for path in generated_paths():
        assert any(line.strip("/") == path for line in ignored), path


def test_every_library_error_is_a_konspekt_error() -> None:
    named = [
        errors.CardsError,
        errors.ConfigError,
        errors.StaleLedgerError,
        errors.DamagedLedgerError,
        errors.MkDocsError,
        errors.OutputError,
    ]
    assert all(issubclass(kind, errors.KonspektError) for kind in named)


def test_a_library_error_is_one_line_on_stderr_and_exit_1(project: Path) -> None:
    write_card(
        project,
        "a.yaml",
        """
        topic: a
        title: A
        entries:
          - id: x
            term: Икс
            definition: Буква.
        """,
    )
    (project / "cards" / "anki.lock").write_text("{not json", encoding="utf-8")
    run = run_cli("deck", "--out", str(project / "d.apkg"))
    assert run.exit_code == 1
    assert run.stderr.startswith("error: cards/anki.lock: the deck ledger is damaged (")
    assert len(run.stderr.splitlines()) == 1
    assert "Traceback" not in run.stderr


def test_a_bad_site_url_is_a_configuration_error(project: Path) -> None:
    write_card(
        project,
        "a.yaml",
        """
        topic: a
        title: A
        entries:
          - id: x
            term: Икс
            definition: Буква.
        """,
    )
    run = run_cli("deck", "--site-url", "javascript:alert(1)", "--out", str(project / "d.apkg"))
    assert (run.exit_code, run.stderr) == (
        1,
        "error: site URL 'javascript:alert(1)' must be an http(s) URL such as "
        "https://example.org/\n",
    )


def test_preview_without_the_test_extras_says_what_to_install(tmp_path: Path) -> None:
    # As on a machine with only `make` run: anki (a test extra) cannot be imported.
    code = (
        "import sys; sys.modules['anki'] = None; sys.modules['anki.collection'] = None\n"
        "from konspekt.cli import main; main(['preview'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert result.stderr == (
        "error: `konspekt preview` needs the test extras (anki.collection is missing): "
        "run `make preview`, or `.venv/bin/pip install -e '.[test]'`\n"
    )


@pytest.mark.parametrize("flag", ["--version"])
def test_version_names_konspekt(flag: str) -> None:
    run = run_cli(flag)
    assert re.fullmatch(r"konspekt \d+\.\d+\.\d+\n", run.stdout)
