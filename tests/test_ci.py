"""The CI files: valid against their published schemas (offline), running make targets only,
and keeping the build cache a fresh checkout rebuilds from."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_mkdocs_run import differences

from conftest import ROOT, make_project
from konspekt.site.build import OWNED_DIRS, OWNED_FILES

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


# --- the build cache CI keeps between pushes ---


def cache_paths() -> tuple[list[str], list[str]]:
    """What pages.yml's cache step keeps, as (paths, exclusions), checked against the GitLab
    job's: both CI files must keep the same thing."""
    pages = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text("utf-8"))
    steps = pages["jobs"]["build"]["steps"]
    (step,) = [s for s in steps if str(s.get("uses", "")).startswith("actions/cache@")]
    lines = step["with"]["path"].split()
    kept = [line for line in lines if not line.startswith("!")]
    left_out = [line[1:] for line in lines if line.startswith("!")]
    job = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))["pages"]
    assert job["cache"]["paths"] == kept
    assert [f"rm -rf {path}" for path in left_out] == [
        line for line in job["script"] if line.startswith("rm -rf .cache")
    ]
    return kept, left_out


def test_ci_keeps_the_cache_and_every_page_konspekt_generates() -> None:
    kept, left_out = cache_paths()
    generated = [f"docs/{path}" for path in (*OWNED_DIRS, *OWNED_FILES)]
    assert sorted(kept) == sorted([".cache/konspekt", *generated])
    assert left_out == [".cache/konspekt/mkdocs-site-previous"]


@pytest.mark.slow
def test_a_fresh_checkout_with_the_ci_cache_builds_the_same_site_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A push on CI: a new checkout at the same path, with only the cache CI restores."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # the sitemap's date
    checkout = tmp_path / "checkout"
    build = [sys.executable, str(ROOT / "build.py"), "-v", "site"]

    def fresh_checkout() -> None:
        make_project(checkout, ROOT / "tests" / "fixtures" / "site")

    fresh_checkout()
    subprocess.run(build, cwd=checkout, check=True, capture_output=True)
    shutil.move(checkout / "site", tmp_path / "first-site")
    kept, left_out = cache_paths()
    for path in kept:
        if (checkout / path).exists():  # e.g. no docs/cards-media/ without images
            (tmp_path / "ci-cache" / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(checkout / path, tmp_path / "ci-cache" / path)
    for path in left_out:
        shutil.rmtree(tmp_path / "ci-cache" / path)
    shutil.rmtree(checkout)

    fresh_checkout()
    for path in kept:
        if (tmp_path / "ci-cache" / path).exists():
            (checkout / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(tmp_path / "ci-cache" / path, checkout / path)
    again = subprocess.run(build, cwd=checkout, check=True, capture_output=True, text=True)
    assert differences(tmp_path / "first-site", checkout / "site") == []
    assert re.search(r"files: 0 written, \d+ unchanged", again.stdout), again.stdout
    match = re.search(r"Pages from konspekt's cache: (\d+) of (\d+)", again.stderr)
    assert match, again.stderr
    assert match.group(1) == match.group(2)  # every page came from the restored cache
