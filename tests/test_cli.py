"""The command line: every command is documented with examples; build.py is the same CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT, run_cli
from konspekt.cli import main


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_has_help_with_examples(name: str) -> None:
    run = run_cli(name, "--help")
    assert run.exit_code == 0
    assert "Example" in run.stdout, f"`konspekt {name} --help` shows no example"


def test_build_py_is_a_thin_entry_to_the_same_cli() -> None:
    result = subprocess.run(
        [sys.executable, "build.py", "--help"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    for name in main.commands:
        assert name in result.stdout
