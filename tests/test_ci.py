"""The CI files: valid against their published schemas (offline), running make targets only."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
GITLAB = ROOT / ".gitlab-ci.yml"


def check(schema: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    # The schemas ship inside check-jsonschema (--builtin-schema): no network is needed.
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema]
    return subprocess.run([*command, *map(str, files)], capture_output=True, text=True, check=False)


def test_github_workflows_match_their_schema() -> None:
    assert [p.name for p in WORKFLOWS] == ["pages.yml", "release.yml", "test.yml"]
    result = check("vendor.github-workflows", WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_gitlab_ci_matches_its_schema() -> None:
    result = check("vendor.gitlab-ci", [GITLAB])
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_can_fail(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  build:\n    steps: []\n", encoding="utf-8")
    assert check("vendor.github-workflows", [broken]).returncode == 1


def commands() -> list[str]:
    lines: list[str] = []
    for path in WORKFLOWS:
        for job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].values():
            lines += [step["run"] for step in job.get("steps", []) if "run" in step]
    for job in yaml.safe_load(GITLAB.read_text(encoding="utf-8")).values():
        if isinstance(job, dict) and "script" in job:
            lines += job["script"]
    return lines


@pytest.mark.parametrize("target", ["test", "release-notes"])
def test_ci_runs_the_make_targets_people_run(target: str) -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    used = {m for line in commands() for m in re.findall(r"^make(?: ([\w-]+))?$", line)}
    assert used == {"", "test", "release-notes"}
    assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE)
