"""Shared helpers: write card files into a temporary project and run the CLI on them."""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from konspekt.cli import main

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_LINE = "# yaml-language-server: $schema=../schema/cards.schema.json\n"
# The hand-written parts of the site a build needs besides the generated pages.
HAND_WRITTEN = (
    "konspekt.yml",
    "mkdocs.yml",
    "docs/index.md",
    "docs/assets/konspekt.css",
    "overrides/404.html",
)
# Fetched by `make` (pinned npm package), git-ignored: copied when present.
VENDOR = "docs/assets/vendor"


def make_project(where: Path, cards: Path) -> Path:
    """A copy of the site's hand-written files and of `cards` in `where`: a project to build."""
    for name in HAND_WRITTEN:
        (where / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, where / name)
    if (ROOT / VENDOR).is_dir():
        shutil.copytree(ROOT / VENDOR, where / VENDOR)
    shutil.copytree(cards, where / "cards")
    return where


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


# The project file of the DevOps notes, minus the site: what most tests build with.
DEVOPS_PROJECT = "title: DevOps\nnamespace: DevOps\ndeck_file: devops.apkg\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder (konspekt.yml, empty cards/) as the working directory."""
    (tmp_path / "cards").mkdir()
    (tmp_path / "konspekt.yml").write_text(DEVOPS_PROJECT, encoding="utf-8")
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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The linker's score on published prose, in every run that ran its test."""
    module = __import__("sys").modules.get("test_real_prose")
    if module is None:
        return
    terminalreporter.write_sep("-", "linker on published prose")
    terminalreporter.write_line(module.real_score().summary())
