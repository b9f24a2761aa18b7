"""Term pages written by a child process while they are made: docs/ as if written here."""

from __future__ import annotations

import os
import signal
import stat
import threading
import time
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
from konspekt.site.writer import FolderWriter

Generate = Callable[[Path, bool], WriteReport]


@pytest.fixture
def glossary() -> Glossary:
    return load_glossary(ROOT / "cards")


@pytest.fixture
def finished(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """What each writer's `finish` answered: True when the child wrote every page."""
    answers: list[bool] = []
    real = FolderWriter.finish

    def finish(writer: FolderWriter) -> bool:
        answers.append(real(writer))
        return answers[-1]

    monkeypatch.setattr(FolderWriter, "finish", finish)
    return answers


@pytest.fixture
def into(glossary: Glossary, monkeypatch: pytest.MonkeyPatch) -> Generate:
    """Generate `glossary` into a folder; with `child`, a writer is worth it at any size
    (the real cards are fewer than MIN_FILES), without, at no size."""

    def into(docs: Path, child: bool) -> WriteReport:
        monkeypatch.setattr(konspekt.site.writer, "MIN_FILES", 0 if child else 10**9)
        return generate(glossary, docs, None, None)

    return into


def partial_folders(docs: Path) -> list[str]:
    return [path.name for path in docs.iterdir() if ".partial-" in path.name]


def test_a_child_writes_new_term_pages_as_they_would_be_written_here(
    tmp_path: Path, into: Generate, finished: list[bool]
) -> None:
    here = into(tmp_path / "here", False)
    assert finished == []
    child = into(tmp_path / "child", True)
    assert finished == [True]  # the folder in place is the one the child wrote
    assert differences(tmp_path / "here", tmp_path / "child") == []
    assert child == here  # the same report: every page written
    pod = "glossary/pod.md"
    assert stat.S_IMODE((tmp_path / "child" / pod).stat().st_mode) == stat.S_IMODE(
        (tmp_path / "here" / pod).stat().st_mode
    )
    assert partial_folders(tmp_path / "child") == []


def test_term_pages_already_there_are_compared_here_not_written_by_a_child(
    tmp_path: Path, into: Generate, finished: list[bool]
) -> None:
    """An existing folder may hold pages to keep (their times) or to remove: the usual
    path, which writes only what changed."""
    first = into(tmp_path / "docs", True)
    again = into(tmp_path / "docs", True)
    assert finished == [True]  # the first run's writer only
    assert again.written == () and again.unchanged == len(first.written)


def test_a_child_that_dies_leaves_the_writing_to_this_process(
    tmp_path: Path, into: Generate, finished: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = FolderWriter.send
    sent = 0

    def send(writer: FolderWriter, name: str, data: bytes) -> None:
        nonlocal sent
        sent += 1
        if sent == 3:
            writer._process.kill()  # as if the system had killed it
            writer._process.wait()
        real(writer, name, data)

    here = into(tmp_path / "here", False)
    monkeypatch.setattr(FolderWriter, "send", send)
    child = into(tmp_path / "child", True)
    assert finished == [False]
    assert differences(tmp_path / "here", tmp_path / "child") == []
    assert child == here
    assert partial_folders(tmp_path / "child") == []


def test_a_generation_that_fails_leaves_no_term_pages_and_no_child(
    tmp_path: Path, into: Generate, monkeypatch: pytest.MonkeyPatch
) -> None:
    writers: list[FolderWriter] = []
    real_start = FolderWriter.start.__func__  # type: ignore[attr-defined]

    def start(cls: type[FolderWriter], target: Path, names: list[str]) -> FolderWriter | None:
        writers.append(real_start(cls, target, names))
        return writers[-1]

    monkeypatch.setattr(FolderWriter, "start", classmethod(start))
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
    [writer] = writers
    assert writer is not None and writer._process.returncode is not None  # waited for
    assert not (docs / "glossary").exists()
    assert partial_folders(docs) == []


def test_a_child_writes_beside_another_thread(
    tmp_path: Path, into: Generate, finished: list[bool]
) -> None:
    """`serve` regenerates while its server thread runs: the child is a new interpreter,
    not a fork, so it has no copy of that thread's locks to wait on."""
    stop = threading.Event()
    server = threading.Thread(target=stop.wait)
    server.start()
    try:
        into(tmp_path / "docs", True)
    finally:
        stop.set()
        server.join()
    assert finished == [True]


def test_the_child_refuses_a_name_outside_its_folder(tmp_path: Path) -> None:
    writer = FolderWriter(tmp_path / "glossary")
    writer.send("../escaped.md", b"x")
    assert not writer.finish()
    assert not (tmp_path / "escaped.md").exists()
    assert not (tmp_path / "glossary").exists()
    assert partial_folders(tmp_path) == []


def test_files_are_framed_as_the_child_reads_them(tmp_path: Path) -> None:
    """Large files, subfolders and empty files, through a pipe that fills."""
    files = {
        "a.md": b"",
        "sub/b.md": os.urandom(3 << 20),  # larger than the pipe
        "sub/deeper/c.md": "ё".encode() * 10,
    }
    writer = FolderWriter(tmp_path / "out")
    for name, data in files.items():
        writer.send(name, data)
    assert writer.finish()
    assert {
        p.relative_to(tmp_path / "out").as_posix(): p.read_bytes()
        for p in (tmp_path / "out").rglob("*")
        if p.is_file()
    } == files


def test_pages_sent_by_waiting_for_the_child_are_written_as_here(
    tmp_path: Path, into: Generate, finished: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every `send` takes the path of a child far behind (MAX_PENDING 0: it waits until
    the pipe has taken the page): nothing is left waiting, and docs/ is the same."""
    monkeypatch.setattr(konspekt.site.writer, "MAX_PENDING", 0)
    real = FolderWriter.send
    waiting: list[int] = []

    def send(writer: FolderWriter, name: str, data: bytes) -> None:
        real(writer, name, data)
        waiting.append(writer._pending_bytes)

    monkeypatch.setattr(FolderWriter, "send", send)
    here = into(tmp_path / "here", False)
    child = into(tmp_path / "child", True)
    assert finished == [True] and len(waiting) > 2
    assert set(waiting) == {0}
    assert differences(tmp_path / "here", tmp_path / "child") == []
    assert child == here


def test_send_waits_for_a_stopped_child_once_max_pending_bytes_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond MAX_PENDING bytes, `send` waits for the child rather than keep the pages
    meanwhile (their text and their bytes: the build's peak grew by their size)."""
    monkeypatch.setattr(konspekt.site.writer, "MAX_PENDING", 256 << 10)
    writer = FolderWriter(tmp_path / "out")
    pid = writer._process.pid
    os.kill(pid, signal.SIGSTOP)  # file creation at its slowest
    resume = threading.Timer(0.3, os.kill, (pid, signal.SIGCONT))
    resume.start()
    files = {f"{i}.md": bytes([i]) * (64 << 10) for i in range(40)}  # 2.5 MB: > the pipe
    waiting = []
    for name, data in files.items():
        writer.send(name, data)
        waiting.append(writer._pending_bytes)
    resume.join()
    assert max(waiting) <= (256 << 10) + (64 << 10) + 64  # (one file and its header over)
    assert writer.finish()
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == files


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.md")}


def created_ahead(writer: FolderWriter, count: int) -> dict[str, bytes]:
    """The staging folder's files once `count` are there (or after 10 s)."""
    deadline = time.monotonic() + 10
    while len(_files(writer.staging)) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return _files(writer.staging)


def test_announced_files_are_created_before_they_are_sent(tmp_path: Path) -> None:
    """Creating a file is what costs: told the names first, the child creates them while
    nothing is sent (the linker's index is being built), then only writes their bytes."""
    names = [f"{i}.md" for i in range(50)] + ["sub/z.md"]
    writer = FolderWriter(tmp_path / "out", names)
    assert set(created_ahead(writer, len(names))) == set(names)  # all there before any send
    assert set(_files(writer.staging).values()) == {b""}
    for name in names:
        writer.send(name, name.encode() * 3)
    assert writer.finish()
    assert _files(tmp_path / "out") == {name: name.encode() * 3 for name in names}


def test_the_folder_holds_what_was_sent_not_what_was_announced(tmp_path: Path) -> None:
    """An announced file never sent is removed; a file sent unannounced is created."""
    writer = FolderWriter(tmp_path / "out", ["kept.md", "never-sent.md", "sub/gone.md"])
    assert len(created_ahead(writer, 3)) == 3
    writer.send("kept.md", b"kept")
    writer.send("other.md", b"not announced")
    assert writer.finish()
    assert _files(tmp_path / "out") == {"kept.md": b"kept", "other.md": b"not announced"}
    assert not (tmp_path / "out" / "sub").exists()


@pytest.mark.parametrize("announced", [[], ["twice.md"]])
def test_a_file_sent_twice_is_a_failure(tmp_path: Path, announced: list[str]) -> None:
    writer = FolderWriter(tmp_path / "out", announced)
    writer.send("twice.md", b"first")
    writer.send("twice.md", b"second")
    assert not writer.finish()  # the caller writes the files itself
    assert not (tmp_path / "out").exists()
    assert partial_folders(tmp_path) == []


def test_an_announced_name_outside_the_folder_is_refused(tmp_path: Path) -> None:
    writer = FolderWriter(tmp_path / "glossary", ["ok.md", "../escaped.md"])
    writer.send("ok.md", b"x")
    assert not writer.finish()
    assert not (tmp_path / "escaped.md").exists()
    assert partial_folders(tmp_path) == []
