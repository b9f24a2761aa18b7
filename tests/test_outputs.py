"""Outputs are whole or absent: failed, interrupted and killed builds leave dist/ and site/
as they were; the same cards and SOURCE_DATE_EPOCH give the same bytes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, make_project

FIXTURE = ROOT / "tests" / "fixtures" / "site"
EPOCH = "1767225600"  # 2026-01-01


def build(
    project: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "build.py"), *args],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH, **(env or {})},
        check=False,
    )


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below `folder` with its bytes and mtime."""
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def built_project(where: Path, seed: str = "0") -> Path:
    project = make_project(where, FIXTURE)
    for command in ("deck", "site"):
        result = build(project, command, env={"PYTHONHASHSEED": seed})
        assert result.returncode == 0, result.stderr
    return project


def leftovers(project: Path) -> list[str]:
    return sorted(
        p.name for p in [*project.iterdir(), *(project / "dist").iterdir()] if ".partial-" in p.name
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_project(tmp_path_factory.mktemp("outputs"))


def test_a_failing_mkdocs_build_leaves_the_previous_site(project: Path) -> None:
    before = snapshot(project / "site")
    config = project / "mkdocs.yml"
    original = config.read_text(encoding="utf-8")
    # a nav entry to a page that does not exist: a warning, so --strict fails
    config.write_text(original + "\nnav:\n  - missing.md\n", encoding="utf-8")
    try:
        result = build(project, "site")
    finally:
        config.write_text(original, encoding="utf-8")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert snapshot(project / "site") == before
    assert leftovers(project) == []


def edit_a_card(project: Path) -> None:
    card = project / "cards" / "docker.yaml"
    card.write_text(
        card.read_text(encoding="utf-8").replace(
            "definition: Неизменяемый шаблон", "definition: Изменённый шаблон"
        ),
        encoding="utf-8",
    )


def wait_for_staging(project: Path, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        if any(p.name.startswith(".site.partial-") for p in project.iterdir()):
            return
        time.sleep(0.01)
    pytest.fail("the site build never started writing its staging folder")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_site_build_stopped_midway_leaves_the_previous_site(
    tmp_path: Path, signum: signal.Signals
) -> None:
    project = built_project(tmp_path)
    before = snapshot(project / "site")
    edit_a_card(project)
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "build.py"), "site"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH},
    )
    wait_for_staging(project, process, seconds=60)
    time.sleep(0.3)  # well into the MkDocs run
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    assert b"Traceback" not in stderr
    assert snapshot(project / "site") == before
    if signum == signal.SIGTERM:
        assert leftovers(project) == []  # an orderly stop cleans up after itself
    result = build(project, "site")  # the next build finishes the job and tidies
    assert result.returncode == 0, result.stderr
    assert leftovers(project) == []
    assert snapshot(project / "site") != before


# The deck build, with a pause just before each file is moved into place: a kill during
# the pause lands inside the write window, where an in-place writer would leave half a file.
SLOW_REPLACE = """
import os, sys, time
real_replace = os.replace
def slow_replace(src, dst):
    if str(dst).endswith(".apkg"):  # the deck (the cache's files are written before it)
        time.sleep(30)
    real_replace(src, dst)
os.replace = slow_replace
sys.argv = ["konspekt", "deck"]
from konspekt.cli import main
main()
"""


def test_a_deck_build_killed_while_writing_leaves_the_previous_deck(tmp_path: Path) -> None:
    project = built_project(tmp_path)
    deck = project / "dist" / "devops.apkg"
    old_deck, old_ledger = deck.read_bytes(), (project / "cards" / "anki.lock").read_bytes()
    edit_a_card(project)
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_REPLACE],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH},
    )
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(".devops.apkg.partial-") for p in deck.parent.iterdir()):
        assert process.poll() is None and time.monotonic() < deadline, "no deck was staged"
        time.sleep(0.01)
    process.kill()  # the new deck is written in full, but not yet in place
    process.wait(timeout=30)

    assert deck.read_bytes() == old_deck
    assert (project / "cards" / "anki.lock").read_bytes() == old_ledger
    result = build(project, "deck")
    assert result.returncode == 0, result.stderr
    assert leftovers(project) == []
    assert deck.read_bytes() != old_deck
    with zipfile.ZipFile(deck) as archive:
        assert archive.testzip() is None  # whole: every member's CRC checks


def test_same_cards_and_epoch_give_identical_outputs(tmp_path: Path) -> None:
    # Two separate processes each (built_project runs build.py), with other hash seeds, so
    # an order that depends on set iteration or string hashing would show.
    first = built_project(tmp_path / "first", seed="1")
    second = built_project(tmp_path / "second", seed="2")
    assert (first / "dist" / "devops.apkg").read_bytes() == (
        second / "dist" / "devops.apkg"
    ).read_bytes()
    site_a = {k: v[0] for k, v in snapshot(first / "site").items()}
    site_b = {k: v[0] for k, v in snapshot(second / "site").items()}
    assert sorted(site_a) == sorted(site_b)
    differing = [name for name in site_a if site_a[name] != site_b[name]]
    assert differing == []


def tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): p.read_text("utf-8")
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_a_staged_dir_with_reuse_builds_in_the_kept_folder_and_keeps_the_swapped_out_one(
    tmp_path: Path,
) -> None:
    from konspekt.output import staged_dir

    target, reuse = tmp_path / "site", tmp_path / "cache" / "previous"
    target.mkdir()
    (target / "a").write_text("site", "utf-8")
    reuse.mkdir(parents=True)
    (reuse / "b").write_text("kept", "utf-8")
    with staged_dir(target, reuse) as staging:
        assert tree(staging) == {"b": "kept"}  # the builder finds the kept folder
        (staging / "c").write_text("new", "utf-8")
    assert tree(target) == {"b": "kept", "c": "new"}
    assert tree(reuse) == {"a": "site"}  # what site/ held, for the next build
    with pytest.raises(RuntimeError), staged_dir(target, reuse) as staging:
        (staging / "d").write_text("half", "utf-8")
        raise RuntimeError("the build failed")
    assert tree(target) == {"b": "kept", "c": "new"}  # untouched
    assert tree(reuse) == {"a": "site", "d": "half"}  # builders must expect anything there
    assert [p.name for p in tmp_path.iterdir() if ".partial-" in p.name] == []
