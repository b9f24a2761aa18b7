"""The read cache: a load that reuses kept reads gives exactly what reading everything gives."""

from __future__ import annotations

import ast
import json
import os
import shutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import pytest

import konspekt.pool
from conftest import ROOT, run_cli, write_card
from konspekt import load as load_module
from konspekt.errors import CardsError, Pos
from konspekt.load import load_glossary
from konspekt.readcache import CACHE_FOLDER, READER_MODULES


def everything(value: Any) -> Any:
    """A value with every field spelled out, those left out of == (positions, paths,
    topic ids of entries) included: what two loads must agree on."""
    if isinstance(value, Pos):
        return ("Pos", value.path, value.line, value.col)
    if is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__name__,
            # (a topic's read_key is the cache's key of its file, "" without the cache:
            # test_a_topic_carries_the_read_key_of_its_file)
            [
                (f.name, everything(getattr(value, f.name)))
                for f in fields(value)
                if f.name != "read_key"
            ],
        )
    if isinstance(value, Mapping):
        return ("map", sorted((key, everything(item)) for key, item in value.items()))
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, [everything(item) for item in value])
    if isinstance(value, Path):
        return ("Path", str(value))
    assert value is None or isinstance(value, (str, int, bool)), type(value)
    return (type(value).__name__, value)


@pytest.fixture
def cards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the real cards, with the working directory above it (as the CLI runs)."""
    shutil.copytree(ROOT / "cards", tmp_path / "cards")
    monkeypatch.chdir(tmp_path)
    return Path("cards")


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the loader parses (not taken from the cache), by display name."""
    names: list[str] = []
    real = load_module.parse_bytes

    def parse_bytes(data: bytes, display: str) -> Any:
        names.append(display)
        return real(data, display)

    monkeypatch.setattr(load_module, "parse_bytes", parse_bytes)
    return names


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def cache_files(cache: Path) -> list[Path]:
    return sorted((cache / CACHE_FOLDER).iterdir())


def test_cached_loads_equal_a_full_read_in_every_field(cards: Path, parsed: list[str]) -> None:
    cache = Path(".cache")
    every_file = sorted(str(p) for p in cards.glob("*.yaml"))
    plain = everything(load_glossary(cards))
    parsed.clear()
    cold = everything(load_glossary(cards, cache))
    assert sorted(parsed) == every_file
    assert len(cache_files(cache)) == len(every_file)
    parsed.clear()
    warm = everything(load_glossary(cards, cache))
    assert parsed == []  # every read came from the cache
    assert cold == plain
    assert warm == plain

    # One definition edited, one entry's position shifted: only that file is read again.
    edit(cards / "docker.yaml", "\nentries:\n", "\n\nentries:\n")
    parsed.clear()
    edited = everything(load_glossary(cards, cache))
    assert parsed == ["cards/docker.yaml"]
    assert edited == everything(load_glossary(cards))
    assert edited != plain
    assert len(cache_files(cache)) == len(every_file)  # the old read of docker.yaml is gone


def test_a_topic_carries_the_read_key_of_its_file(cards: Path) -> None:
    """What later stages key by it (deck/memo.py): the cache's key of the file's bytes,
    the same whether the read was kept or made; none without the cache."""
    cache = Path(".cache")
    assert {topic.read_key for topic in load_glossary(cards).topics} == {""}
    cold = [topic.read_key for topic in load_glossary(cards, cache).topics]
    assert sorted(cold) == sorted(path.stem for path in cache_files(cache))
    assert [topic.read_key for topic in load_glossary(cards, cache).topics] == cold
    # A kept read's topic gets the key it was found by, whatever its file says.
    kept = cache / CACHE_FOLDER / f"{cold[0]}.json"
    data = json.loads(kept.read_bytes())
    assert data["read"]["topic"][-1] == cold[0]  # (Topic's last field)
    data["read"]["topic"][-1] = "forged"
    kept.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert [topic.read_key for topic in load_glossary(cards, cache).topics] == cold
    edit(cards / "docker.yaml", "\nentries:\n", "\n\nentries:\n")
    edited = {topic.topic: topic.read_key for topic in load_glossary(cards, cache).topics}
    assert edited["docker"] not in cold
    assert set(cold) - set(edited.values()) == {cold[list(edited).index("docker")]}


def test_a_file_named_otherwise_is_read_again(
    cards: Path, parsed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Positions carry the file's name as messages give it, relative to the working folder."""
    cache = Path(".cache").resolve()
    load_glossary(cards, cache)
    monkeypatch.chdir(cards)
    parsed.clear()
    moved = everything(load_glossary(Path("."), cache))
    assert sorted(parsed) == sorted(p.name for p in Path(".").glob("*.yaml"))
    assert moved == everything(load_glossary(Path(".")))


def test_a_removed_file_loses_its_cached_read(cards: Path) -> None:
    cache = Path(".cache")
    extra = cards / "extra.yaml"
    extra.write_text(
        "topic: extra\ntitle: Ещё\nentries:\n  - {id: extra, term: Ещё, definition: Ещё.}\n",
        encoding="utf-8",
    )
    load_glossary(cards, cache)
    before = len(cache_files(cache))
    extra.unlink()
    load_glossary(cards, cache)
    assert len(cache_files(cache)) == before - 1


def test_bad_cards_write_nothing_to_the_cache(cards: Path) -> None:
    """A failed load writes nothing (as every command with bad cards); it still uses
    the reads kept before, and keeps them."""
    cache = Path(".cache")
    load_glossary(cards, cache)
    kept = {path: path.read_bytes() for path in cache_files(cache)}
    edit(cards / "docker.yaml", "definition:", "definitoin:")
    edit(cards / "cicd.yaml", "\nentries:\n", "\n\nentries:\n")  # valid, not yet kept
    with pytest.raises(CardsError):
        load_glossary(cards, cache)
    assert {path: path.read_bytes() for path in cache_files(cache)} == kept


def problems_of(cards: Path, cache: Path | None) -> list[str]:
    with pytest.raises(CardsError) as caught:
        load_glossary(cards, cache)
    return [str(problem) for problem in caught.value.problems]


def test_errors_in_and_about_cached_files_read_as_without_cache(
    cards: Path, parsed: list[str]
) -> None:
    cache = Path(".cache")
    load_glossary(cards, cache)
    # An error in a file read from the cache before.
    edit(cards / "docker.yaml", "definition:", "definitoin:")
    # An id given twice: the message points into the other file, still cached.
    kubernetes = (cards / "kubernetes.yaml").read_text(encoding="utf-8")
    first_id = kubernetes.split("- id: ", 1)[1].split("\n", 1)[0]
    edit(
        cards / "cicd.yaml",
        "\nentries:\n",
        f"\nentries:\n  - id: {first_id}\n    term: Повтор\n    definition: Повтор.\n",
    )
    parsed.clear()
    cached = problems_of(cards, cache)
    assert "cards/kubernetes.yaml" not in parsed  # its read came from the cache
    assert any("definitoin" in p for p in cached)
    assert any(f"duplicate id '{first_id}'" in p for p in cached)
    assert cached == problems_of(cards, None)
    parsed.clear()
    assert problems_of(cards, cache) == cached
    assert sorted(parsed) == ["cards/cicd.yaml", "cards/docker.yaml"]


def test_a_name_clash_with_a_cached_file_is_found(cards: Path, parsed: list[str]) -> None:
    """The names' keys of a kept read are compared with a file read anew: a name written
    otherwise (case, ё, spaces) that is another file's name is still an error."""
    cache = Path(".cache")
    load_glossary(cards, cache)
    kubernetes = (cards / "kubernetes.yaml").read_text(encoding="utf-8")
    term = kubernetes.split("    term: ", 1)[1].split("\n", 1)[0]
    edit(
        cards / "cicd.yaml",
        "\nentries:\n",
        f"\nentries:\n  - id: clash\n    term: '{term.upper()}'\n    definition: Повтор.\n",
    )
    parsed.clear()
    cached = problems_of(cards, cache)
    assert parsed == ["cards/cicd.yaml"]  # kubernetes.yaml's names came from the cache
    assert any("is also the term of 'clash'" in p for p in cached), cached
    assert cached == problems_of(cards, None)


def damage(path: Path, how: str) -> None:
    data = json.loads(path.read_bytes())
    topic = data["read"]["topic"]
    if how == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif how == "not json":
        path.write_bytes(b"\x80\x81 not json")
    elif how == "a field less":
        del topic[4][0][-1]
    elif how == "a string for a number":
        topic[4][0][-2] = ["9", "1"]
    elif how == "a list for a mapping":
        data["read"] = [topic]
    elif how == "a name key less":
        data["read"]["keys"][0].pop()
    elif how == "a name key not words":
        data["read"]["keys"][0][0] = "кубер"
    elif how == "another key":
        data["key"] = "0" * 40
    elif how == "nested too deep":
        path.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    if how not in ("truncated", "not json", "nested too deep"):
        path.write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize(
    "how",
    [
        "truncated",
        "not json",
        "a field less",
        "a string for a number",
        "a list for a mapping",
        "a name key less",
        "a name key not words",
        "another key",
        "nested too deep",
    ],
)
def test_a_damaged_cache_is_read_past_and_rewritten(
    cards: Path, parsed: list[str], how: str
) -> None:
    cache = Path(".cache")
    plain = everything(load_glossary(cards))
    load_glossary(cards, cache)
    for path in cache_files(cache):
        damage(path, how)
    (cache / CACHE_FOLDER / "foreign.json").write_text("{}", encoding="utf-8")
    parsed.clear()
    assert everything(load_glossary(cards, cache)) == plain
    assert len(parsed) == len(list(cards.glob("*.yaml")))  # nothing damaged was used
    parsed.clear()
    assert everything(load_glossary(cards, cache)) == plain
    assert parsed == []  # rewritten, and the foreign file removed
    assert len(cache_files(cache)) == len(list(cards.glob("*.yaml")))


def test_an_unwritable_cache_only_costs_time(cards: Path) -> None:
    Path("cache-is-a-file").write_text("", encoding="utf-8")
    plain = everything(load_glossary(cards))
    assert everything(load_glossary(cards, Path("cache-is-a-file"))) == plain


@pytest.fixture
def parsed_by(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], list[int]]:
    """Loads parse on two cores whatever the size of the cards (when `split`); returns
    the process that parsed each file parsed since the last call."""
    record = tmp_path / "parsed-by"
    real = load_module._parse

    def _parse(job: Any) -> Any:
        with record.open("a", encoding="ascii") as file:  # (a child's write is seen here)
            file.write(f"{os.getpid()}\n")
        return real(job)

    monkeypatch.setattr(load_module, "_parse", _parse)
    monkeypatch.setattr(konspekt.pool, "spare_core", lambda: True)

    def parsed_by(split: bool) -> list[int]:
        monkeypatch.setattr(load_module, "MIN_SPLIT_BYTES", 0 if split else 10**12)
        pids = record.read_text(encoding="ascii").split() if record.exists() else []
        record.unlink(missing_ok=True)
        return [int(pid) for pid in pids]

    return parsed_by


def test_files_parsed_on_two_cores_read_as_in_one(
    cards: Path, parsed_by: Callable[[bool], list[int]]
) -> None:
    """Many bytes of cards are parsed half in a forked child: the glossary, every
    position in it, the read cache's files and every problem are those of one process."""
    parsed_by(True)
    split = load_glossary(cards, ".cache-split")
    files = len(list(cards.glob("*.yaml")))
    pids = parsed_by(False)
    # Half the files each: the child's reads came back (none parsed here again).
    assert len(pids) == files and pids.count(os.getpid()) == (files + 1) // 2
    alone = load_glossary(cards, ".cache-alone")
    assert set(parsed_by(True)) == {os.getpid()}
    assert everything(split) == everything(alone)
    assert [t.read_key for t in split.topics] == [t.read_key for t in alone.topics]
    assert {p.name: p.read_bytes() for p in cache_files(Path(".cache-split"))} == {
        p.name: p.read_bytes() for p in cache_files(Path(".cache-alone"))
    }
    # An error in every file, so in both halves: the same messages in the same order.
    for path in cards.glob("*.yaml"):
        edit(path, "definition:", "definitoin:")
    split_problems = problems_of(cards, None)
    assert parsed_by(False).count(os.getpid()) == (files + 1) // 2
    assert problems_of(cards, None) == split_problems
    assert set(parsed_by(False)) == {os.getpid()}
    assert len(split_problems) == files


def test_no_child_is_forked_to_parse_beside_another_thread(
    cards: Path, parsed_by: Callable[[bool], list[int]]
) -> None:
    """`serve` reloads the cards while its server thread runs: a fork would copy the
    locks that thread may hold, and no thread to release them."""
    parsed_by(True)
    stop = threading.Event()
    server = threading.Thread(target=stop.wait)
    server.start()
    try:
        load_glossary(cards)
    finally:
        stop.set()
        server.join()
    assert set(parsed_by(True)) == {os.getpid()}
    load_glossary(cards)
    assert len(set(parsed_by(True))) == 2


def test_the_reader_key_covers_every_module_the_reader_imports() -> None:
    """A kept read is dropped when the code that made it changes: every konspekt module
    the reading modules import is in the key."""
    package = ROOT / "src" / "konspekt"
    for name in READER_MODULES:
        tree = ast.parse((package / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                imported = (node.module or "").split(".")[0]
                if name in ("load", "readcache") and imported in ("media", "output", "pool"):
                    # Images are checked on every load; writing is not reading; where a
                    # file is parsed changes nothing (test_files_parsed_on_two_cores…).
                    continue
                assert imported in READER_MODULES, f"{name} imports {imported}"


def test_check_keeps_reads_in_the_project_cache(project: Path) -> None:
    write_card(
        project,
        "net.yaml",
        """
        topic: net
        title: Сети
        entries:
          - id: packet
            term: Пакет
            definition: Единица данных в сети.
            related: [router]
          - id: router
            term: Маршрутизатор
            definition: Устройство, которое передаёт пакеты между сетями.
        """,
    )
    first = run_cli("check")
    assert first.exit_code == 0, first.stderr
    assert len(list((project / ".cache/konspekt" / CACHE_FOLDER).iterdir())) == 1
    assert run_cli("check").stdout == first.stdout
    edit(project / "cards/net.yaml", "related: [router]", "related: [routr]")
    broken = run_cli("check")
    assert broken.exit_code == 1
    assert broken.stderr.startswith(
        "cards/net.yaml:7:15: error: 'related' of 'packet' names 'routr', which is not an "
        "entry id (did you mean 'router'?)"
    )


def test_a_load_may_leave_its_cache_writes_to_the_caller(cards: Path, parsed: list[str]) -> None:
    """`later`: the deck command does the read cache's writes while it packages."""
    cache = Path(".cache")
    later: list[Callable[[], None]] = []
    plain = everything(load_glossary(cards, cache, later=later))
    assert not (cache / CACHE_FOLDER).exists()
    for write in later:
        write()
    parsed.clear()
    assert everything(load_glossary(cards, cache)) == plain
    assert parsed == []


def test_the_deck_command_keeps_reads_in_the_project_cache(project: Path) -> None:
    write_card(
        project,
        "net.yaml",
        """
        topic: net
        title: Сети
        entries:
          - id: packet
            term: Пакет
            definition: Единица данных в сети.
        """,
    )
    result = run_cli("deck")
    assert result.exit_code == 0, result.stderr
    assert len(list((project / ".cache/konspekt" / CACHE_FOLDER).iterdir())) == 1


def test_the_written_out_decoders_check_every_field_and_fill_in_all(cards: Path) -> None:
    """The decoders written out per class (readcache._decoder) give what the class's own
    __init__ gives, and refuse a value of the wrong type in any one field."""
    from konspekt import readcache
    from konspekt.model import Entry, Example, Topic

    topic = load_glossary(cards).topics[0]
    samples: list[Any] = [topic, topic.entries[0]]
    samples += [example for entry in topic.entries for example in entry.examples][:2]
    assert {type(sample) for sample in samples} == {Topic, Entry, Example}
    display = topic.path
    for sample in samples:
        encode, decode = readcache._codec(type(sample))
        data = encode(sample, display)
        decoded = decode(data, display)
        assert everything(decoded) == everything(sample)
        assert vars(decoded) == vars(type(sample)(**vars(decoded)))  # as __init__ fills it
        for index in range(len(data)):
            wrong = [*data[:index], 1.5, *data[index + 1 :]]  # a float: no field's type
            with pytest.raises(readcache._Damaged):
                decode(wrong, display)
        for index, value in enumerate(data):  # an item of a tuple of strings (tags…)
            if type(value) is list and value and all(type(v) is str for v in value):
                wrong = [*data[:index], [*value[:-1], 1.5], *data[index + 1 :]]
                with pytest.raises(readcache._Damaged):
                    decode(wrong, display)
        true_for_int = [True if type(v) is int else v for v in data]
        if true_for_int != data:  # a bool is not an int here
            with pytest.raises(readcache._Damaged):
                decode(true_for_int, display)
    # Field positions are kept as text, checked whole when read, parsed when asked for.
    assert dict(readcache._decode_numbers("a[0]=1,b.c=22", display)) == {"a[0]": 1, "b.c": 22}
    assert dict(readcache._decode_numbers("", display)) == {}
    for damaged in ("a", "a=1,", "a=1,b", "=1", "a=-1", "a=1,,b=2", "a=\u0663", "a=1=2"):
        with pytest.raises(readcache._Damaged):
            readcache._decode_numbers(damaged, display)
    with pytest.raises(readcache._NotKept):
        readcache._encode_numbers({"a=b": 1}, display)
