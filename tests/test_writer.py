"""Term pages written by a forked child while they are made: docs/ as if written here."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from test_mkdocs_run import differences

import konspekt.site.writer
from conftest import ROOT
from konspekt import load_glossary
from konspekt.model import Glossary
from konspekt.site.build import WriteReport, generate
from konspekt.site.pages import Site

Generate = Callable[[Path, bool], WriteReport]


@pytest.fixture
def glossary() -> Glossary:
    return load_glossary(ROOT / "cards")


@pytest.fixture
def written_by(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each file the writer creates, recorded with the process that created it (a line
    "pid name"): a child's writes are seen here too."""
    record = tmp_path / "written-by"
    real = konspekt.site.writer.write_new

    def write_new(path: Path, data: memoryview, mode: int) -> None:
        with record.open("a", encoding="utf-8") as file:
            file.write(f"{os.getpid()} {path.name}\n")
        real(path, data, mode)

    monkeypatch.setattr(konspekt.site.writer, "write_new", write_new)
    return record


@pytest.fixture
def into(glossary: Glossary, monkeypatch: pytest.MonkeyPatch) -> Generate:
    """Generate `glossary` into a folder; with `child`, the writer is worth it at any size
    (the real cards are fewer than MIN_FILES), without, at no size."""

    def into(docs: Path, child: bool) -> WriteReport:
        monkeypatch.setattr(konspekt.site.writer, "MIN_FILES", 0 if child else 10**9)
        return generate(glossary, docs, None, None)

    return into


def writers(record: Path) -> list[int]:
    if not record.exists():
        return []
    return [int(line.split()[0]) for line in record.read_text(encoding="utf-8").splitlines()]


def no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def partial_folders(docs: Path) -> list[str]:
    return [path.name for path in docs.iterdir() if ".partial-" in path.name]


def test_a_child_writes_new_term_pages_as_they_would_be_written_here(
    tmp_path: Path, glossary: Glossary, into: Generate, written_by: Path
) -> None:
    here = into(tmp_path / "here", False)
    assert writers(written_by) == []
    child = into(tmp_path / "child", True)
    pids = writers(written_by)
    assert len(pids) == len(glossary.entries)  # every term page, once
    assert len(set(pids)) == 1 and os.getpid() not in pids
    assert differences(tmp_path / "here", tmp_path / "child") == []
    assert child == here  # the same report: every page written
    pod = "glossary/pod.md"
    assert stat.S_IMODE((tmp_path / "child" / pod).stat().st_mode) == stat.S_IMODE(
        (tmp_path / "here" / pod).stat().st_mode
    )
    assert partial_folders(tmp_path / "child") == []
    assert no_children_left()


def test_term_pages_already_there_are_compared_here_not_written_by_a_child(
    tmp_path: Path, into: Generate, written_by: Path
) -> None:
    """An existing folder may hold pages to keep (their times) or to remove: the usual
    path, which writes only what changed."""
    first = into(tmp_path / "docs", True)
    written_by.unlink()
    again = into(tmp_path / "docs", True)
    assert writers(written_by) == []
    assert again.written == () and again.unchanged == len(first.written)


def test_a_child_that_fails_leaves_the_writing_to_this_process(
    tmp_path: Path, into: Generate, written_by: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = konspekt.site.writer.write_new
    parent = os.getpid()
    count = 0

    def failing(path: Path, data: memoryview, mode: int) -> None:
        nonlocal count
        count += 1
        if os.getpid() != parent and count == 3:
            raise OSError(28, "No space left on device")  # the child's third page
        real(path, data, mode)

    here = into(tmp_path / "here", False)
    monkeypatch.setattr(konspekt.site.writer, "write_new", failing)
    child = into(tmp_path / "child", True)
    assert differences(tmp_path / "here", tmp_path / "child") == []
    assert child == here
    assert partial_folders(tmp_path / "child") == []
    assert no_children_left()


def test_a_generation_that_fails_leaves_no_term_pages_and_no_child(
    tmp_path: Path, into: Generate, monkeypatch: pytest.MonkeyPatch, written_by: Path
) -> None:
    real = Site.term_page
    made: list[str] = []

    def term_page(site: Site, entry_id: str) -> str:
        if len(made) == 20:
            raise KeyError("a bug in the 21st page")
        made.append(entry_id)
        return real(site, entry_id)

    monkeypatch.setattr(Site, "term_page", term_page)
    docs = tmp_path / "docs"
    with pytest.raises(KeyError, match="21st"):
        into(docs, True)
    assert writers(written_by)  # the child had begun to write
    assert not (docs / "glossary").exists()
    assert partial_folders(docs) == []
    assert no_children_left()


def test_no_child_writes_beside_another_thread(
    tmp_path: Path, into: Generate, written_by: Path
) -> None:
    """`serve` regenerates while its server thread runs: a fork would copy the locks that
    thread may hold, and no thread to release them."""
    stop = threading.Event()
    server = threading.Thread(target=stop.wait)
    server.start()
    try:
        into(tmp_path / "docs", True)
    finally:
        stop.set()
        server.join()
    assert writers(written_by) == []  # written here, as always, not by a child
    assert (tmp_path / "docs" / "glossary" / "pod.md").is_file()
