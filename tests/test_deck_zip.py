"""The .apkg's zip (deck/zipped.py): pieces reused from a cache give the bytes a fresh
compression gives, and any zip reader reads the result."""

from __future__ import annotations

import io
import random
import zipfile
import zlib
from pathlib import Path

import pytest

import konspekt.deck.zipped
from konspekt.deck.zipped import (
    CACHE_NAME,
    PIECE,
    PieceCache,
    compress_piece,
    deflate,
    read_piece_cache,
    write_piece_cache,
    zip_bytes,
)


def collection_like(size: int, seed: int = 1) -> bytearray:
    """Compressible bytes with long-range repeats, as a collection's pages are."""
    rng = random.Random(seed)
    words = [bytes(rng.choice(b"abcdefgh ") for _ in range(rng.randint(3, 9))) for _ in range(300)]
    out = bytearray()
    while len(out) < size:
        out += b" ".join(rng.choice(words) for _ in range(40)) + b"\0" * rng.randint(0, 50)
    return out[:size]


def members(data: bytes) -> list[tuple[str, bytes]]:
    return [("collection.anki2", bytes(data)), ("media", b"{}")]


def test_the_zip_reads_back_with_fixed_times_and_modes() -> None:
    data = collection_like(3 * PIECE + 123)
    with zipfile.ZipFile(io.BytesIO(zip_bytes(members(data), PieceCache()))) as archive:
        assert archive.testzip() is None  # every CRC checks
        assert archive.namelist() == ["collection.anki2", "media"]
        assert archive.read("collection.anki2") == data
        assert archive.read("media") == b"{}"
        for info in archive.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.external_attr >> 16 == 0o100644
    empty = zip_bytes([("media", b"")], PieceCache())
    assert zipfile.ZipFile(io.BytesIO(empty)).read("media") == b""


def test_reused_pieces_give_the_bytes_of_a_fresh_compression() -> None:
    """A piece is compressed with the 32 KiB before it as its dictionary, so a change
    at the end of one piece changes the next one's bytes too: the cache must miss both."""
    before = collection_like(5 * PIECE)
    after = bytearray(before)
    # The second piece starts with what ends the first; then that end changes.
    after[PIECE : PIECE + 2000] = after[PIECE - 2000 : PIECE]
    before[PIECE : PIECE + 2000] = before[PIECE - 2000 : PIECE]
    after[PIECE - 1000] ^= 0x55

    warm = PieceCache()
    zip_bytes(members(before), warm)
    reused = PieceCache(warm.used)
    fresh = zip_bytes(members(after), PieceCache())
    assert zip_bytes(members(after), reused) == fresh
    assert zipfile.ZipFile(io.BytesIO(fresh)).read("collection.anki2") == after
    assert reused.compressed == 2  # the changed piece and the one after it
    assert reused.used == _used(after)  # the next build's cache: this build's pieces


def _used(data: bytes) -> dict[bytes, bytes]:
    cache = PieceCache()
    zip_bytes(members(data), cache)
    return cache.used


def test_the_piece_cache_file_round_trips_and_a_damaged_one_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = collection_like(2 * PIECE + 7)
    cache = PieceCache()
    expected = zip_bytes(members(data), cache)
    write_piece_cache(tmp_path, cache)
    read = read_piece_cache(tmp_path)
    assert read.known == cache.used
    assert zip_bytes(members(data), read) == expected
    assert read.compressed == 0

    path = tmp_path / CACHE_NAME
    whole = path.read_bytes()
    path.write_bytes(whole[:-5])  # a write cut short
    assert read_piece_cache(tmp_path).known == {}
    path.write_bytes(whole.replace(b"konspekt", b"other", 1))  # not this cache's file
    assert read_piece_cache(tmp_path).known == {}
    assert read_piece_cache(tmp_path / "missing").known == {}
    assert read_piece_cache(None).known == {}
    path.write_bytes(whole)
    monkeypatch.setattr(konspekt.deck.zipped, "LEVEL", 9)  # other settings, other pieces
    assert read_piece_cache(tmp_path).known == {}


def test_a_large_member_is_deflated_on_two_threads_into_the_bytes_of_one() -> None:
    """Pieces are hashed and deflated half on another thread (zipped._in_two): the
    result is each piece in order, as one thread makes them, with or without a cache
    that holds some of them."""
    data = bytes(collection_like(40 * PIECE + 5))
    view = memoryview(data)
    in_order = [compress_piece(view, start) for start in range(0, len(data), PIECE)]
    one_thread = b"".join([*in_order, b"\x03\x00"])
    assert len(in_order) >= 16  # (fewer stay on one thread)
    assert deflate(data, PieceCache()) == one_thread
    assert zlib.decompress(one_thread, -15) == data

    warm = PieceCache()
    deflate(data, warm)
    every_other = dict(list(warm.used.items())[::2])
    partly = PieceCache(every_other)
    assert deflate(data, partly) == one_thread
    assert partly.compressed == len(warm.used) - len(every_other)
    assert list(partly.used.values()) == in_order
