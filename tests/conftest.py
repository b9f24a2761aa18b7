"""Shared helpers: write card files into a temporary project and run the CLI on them."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from konspekt.cli import main

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_LINE = "# yaml-language-server: $schema=../schema/cards.schema.json\n"


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder as the working directory, with a cards/ folder."""
    (tmp_path / "cards").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_card(project: Path, name: str, text: str) -> Path:
    """Write a card file; `text` is dedented so tests can indent YAML naturally."""
    path = project / "cards" / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def run_cli(*args: str) -> Run:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback is a bug: surface it in the test
    return Run(result.exit_code, result.stdout, result.stderr)
