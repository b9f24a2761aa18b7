"""The read cache: what reading and validating a card file gave, kept by its bytes.

Parsing and validating are most of loading the cards, which every command pays, and
an edit touches one file of many. A file that was read without any problem is kept as
JSON (one file per card file, in the project's cache folder) under a digest of
everything its read depends on: its bytes, the name messages give it (every position
carries it), the reading code itself (the source of the modules that read and
validate) and the versions of the libraries they call. A file with problems is never
kept, so every message comes from the real reader; the rules across files (`check_glossary`)
and the images (`check_media`) run on every load. Kept reads are written, and those of
files no longer there removed, only by a load that succeeds: bad cards write nothing.

A cache file in a checkout is input: JSON, never pickle, and every value is checked
against the model's type hints as it is decoded; a damaged or foreign file is a miss
(the file is read and its entry written again), never trusted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import fields, is_dataclass
from functools import cache
from importlib import import_module
from operator import attrgetter
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml

from .errors import BuildError, Pos
from .model import Entry, Topic
from .output import write_file
from .validate import NameKeys, TopicRead

log = logging.getLogger(__name__)

CACHE_FOLDER = "card-reads"  # in the project's cache folder: <digest>.json per card file
_FORMAT = "3"  # 2: the entries' name keys; 3: field positions as text
# konspekt's modules a file's read depends on (a test checks they import no other).
READER_MODULES = ("errors", "model", "ru", "validate", "yamlnodes", "load", "readcache")


@cache
def reader_key() -> str:
    """A hash of the code that turns a card file's bytes into a TopicRead."""
    libyaml = yaml._yaml.get_version_string() if yaml.__with_libyaml__ else "none"
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{_FORMAT};{sys.version};PyYAML={yaml.__version__};{libyaml};".encode())
    for name in READER_MODULES:
        module = import_module(f"{__package__}.{name}")
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


class _Damaged(ValueError):
    """A cached value does not have the shape the model declares."""


class _NotKept(ValueError):
    """A read holds a value the cache cannot give back exactly: it is not kept."""


Encode = Callable[[Any, str], Any]  # (model value, the file's display name) → JSON value
Decode = Callable[[Any, str], Any]  # (JSON value, the file's display name) → model value


class ReadCache:
    """The kept reads of one cards folder's files, in `cache_dir`."""

    def __init__(self, cache_dir: Path) -> None:
        self.folder = cache_dir / CACHE_FOLDER
        self._new: dict[str, TopicRead] = {}
        self._used: set[str] = set()

    def key(self, data: bytes, display: str) -> str:
        # A load hashes every card file (9 MB at 5,000 entries): sha256 took 5 ms of
        # that where blake2b took 14 (measured on the bench machine).
        digest = hashlib.sha256()
        for part in (reader_key().encode(), display.encode("utf-8", "surrogatepass"), data):
            digest.update(len(part).to_bytes(8, "little"))
            digest.update(part)
        key = digest.hexdigest()[:40]
        self._used.add(key)
        return key

    def get(self, key: str, display: str) -> TopicRead | None:
        """The kept read of the file with this key, or None (none kept, or unusable)."""
        try:
            data = json.loads((self.folder / f"{key}.json").read_bytes())
            if not isinstance(data, dict) or data.get("key") != key:
                return None
            return _decode_read(data["read"], display)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, KeyError, RecursionError) as error:
            log.info("ignoring the cached read %s.json: %s", key, error)
            return None

    def put(self, key: str, read: TopicRead) -> None:
        """Keep `read`, if it is a read without any problem."""
        if read.topic is not None and not read.problems and not read.id_causes:
            self._new[key] = read

    def save(self) -> None:
        """Write the reads kept by `put`; remove those of files no longer there (or changed)."""
        try:
            for key, read in self._new.items():
                try:
                    data = {"key": key, "read": _encode_read(read)}
                    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
                    encoded = text.encode("utf-8")
                except (_NotKept, UnicodeEncodeError):
                    continue
                write_file(self.folder / f"{key}.json", encoded)
            if self.folder.is_dir():
                for path in self.folder.iterdir():
                    if path.stem not in self._used or path.suffix != ".json":
                        path.unlink(missing_ok=True)
        except (BuildError, OSError) as error:  # a cache: loading does not depend on it
            log.warning("could not save the read cache: %s", error)
        self._new.clear()


def _encode_read(read: TopicRead) -> dict[str, Any]:
    assert read.topic is not None
    if read.entries != read.topic.entries:  # (always equal in a read without problems)
        raise _NotKept("the read's entries are not its topic's")
    display = read.topic.path
    if len(read.name_keys) != len(read.entries):
        raise _NotKept("the read's name keys are not its entries'")
    return {
        "topic": _codec(Topic)[0](read.topic, display),
        "ids": sorted(read.ids),
        "keys": [[list(key) for key in keys] for keys in read.name_keys],
    }


def _decode_read(data: Any, display: str) -> TopicRead:
    if not isinstance(data, dict):
        raise _Damaged("not a mapping")
    topic: Topic = _codec(Topic)[1](data["topic"], display)
    ids = data["ids"]
    if not isinstance(ids, list) or not all(type(i) is str for i in ids):
        raise _Damaged("ids are not a list of strings")
    keys = data["keys"]
    if type(keys) is not list or len(keys) != len(topic.entries):
        raise _Damaged("not a list of name keys per entry")
    return TopicRead(
        topic,
        topic.entries,
        frozenset(ids),
        [],
        (),
        tuple(_name_keys(entry, raw) for entry, raw in zip(topic.entries, keys, strict=True)),
    )


def _name_keys(entry: Entry, data: Any) -> NameKeys:
    """An entry's names' keys as kept: a key (a non-empty list of strings) per name."""
    if type(data) is not list or len(data) != len(entry.names):
        raise _Damaged(f"not a key per name of '{entry.id}'")
    keys = []
    for key in data:  # (loops, not all(): 12,000 keys at 5,000 entries)
        if type(key) is not list or not key:
            raise _Damaged(f"{key!r} is not a name key")
        for word in key:
            if type(word) is not str:
                raise _Damaged(f"{key!r} is not a name key")
        keys.append(tuple(key))
    return tuple(keys)


# --- codecs from the model's declarations: a new field needs no code here ------------------


@cache
def _codec(cls: type) -> tuple[Encode, Decode]:
    """A dataclass as the list of its fields' values, in declaration order."""
    hints = typing.get_type_hints(cls)
    names = tuple(f.name for f in fields(cls))
    codecs = tuple(_value_codec(hints[name]) for name in names)
    pairs = tuple(zip(names, (decode for _, decode in codecs), strict=True))
    # Most fields are kept as they are: all read at once, only the others converted.
    read_all = attrgetter(*names) if len(names) > 1 else lambda value: (getattr(value, names[0]),)
    converted = tuple((i, encode) for i, (encode, _) in enumerate(codecs) if encode is not _same)

    def encode(value: Any, display: str) -> list[Any]:
        values = list(read_all(value))
        for index, enc in converted:
            values[index] = enc(values[index], display)
        return values

    return encode, _decoder(cls, names, hints, pairs)


def _decoder(
    cls: type, names: tuple[str, ...], hints: dict[str, Any], pairs: tuple[tuple[str, Decode], ...]
) -> Decode:
    """The decoder of `cls`, written out for its fields (as dataclasses write __init__).

    A generic one called a decoder per field and the dataclass's __init__ (a frozen one
    sets each field through object.__setattr__): most of loading cached cards. Here a
    field of a plain type (str, int, bool, or one of them or None) is checked inline, the
    others go through their decoders, and the instance gets its fields as __init__ would
    give them (all of them, in order; the model's classes have no __post_init__).
    """
    if hasattr(cls, "__post_init__") or "__slots__" in vars(cls):
        raise TypeError(f"the read cache cannot fill in {cls.__name__} by its fields")
    values = ", ".join(f"v{i}" for i in range(len(names)))
    lines = [
        "def decode(data, display):",
        f"    if type(data) is not list or len(data) != {len(names)}:",
        f"        raise _Damaged('not a {cls.__name__}')",
        f"    {values}, = data",
    ]
    scope: dict[str, Any] = {"_Damaged": _Damaged, "new": object.__new__, "cls": cls}
    for i, (name, dec) in enumerate(pairs):
        plain, optional = _plain(hints[name])
        if plain is None and _plain_items(hints[name]):
            # a tuple of plain values (aliases, related, tags…): checked in place
            scope[f"t{i}"] = get_args(hints[name])[0]
            lines += [
                f"    if type(v{i}) is not list:",
                f"        raise _Damaged(f'{{v{i}!r}} is not a list')",
                f"    for item in v{i}:",
                f"        if type(item) is not t{i}:",
                f"            raise _Damaged(f'{{item!r}} is not {{t{i}.__name__}}')",
                f"    v{i} = tuple(v{i})",
            ]
            continue
        if plain is None:
            scope[f"d{i}"] = dec
            lines.append(f"    v{i} = d{i}(v{i}, display)")
            continue
        scope[f"t{i}"] = plain
        test = f"type(v{i}) is not t{i}"  # exactly: a bool is not an int here
        if optional:
            test = f"v{i} is not None and {test}"
        lines.append(f"    if {test}:")
        lines.append(f"        raise _Damaged(f'{{v{i}!r}} is not {plain.__name__}')")
    fields_dict = ", ".join(f"{name!r}: v{i}" for i, name in enumerate(names))
    lines += ["    value = new(cls)", f"    value.__dict__.update({{{fields_dict}}})"]
    lines.append("    return value")
    exec("\n".join(lines), scope)
    decode: Decode = scope["decode"]
    return decode


def _plain(hint: Any) -> tuple[type | None, bool]:
    """(str, int or bool, whether None is allowed too) if `hint` is one of those."""
    if hint in (str, int, bool):
        return hint, False
    if get_origin(hint) in (typing.Union, types.UnionType):
        others = [arg for arg in get_args(hint) if arg is not type(None)]
        if len(others) == 1 and others[0] in (str, int, bool):
            return others[0], True
    return None, False


def _plain_items(hint: Any) -> bool:
    """Whether `hint` is a tuple of str (or int, or bool), of any length."""
    args = get_args(hint)
    return (
        get_origin(hint) is tuple
        and len(args) == 2
        and args[1] is Ellipsis
        and (args[0] in (str, int, bool))
    )


def _same(value: Any, display: str) -> Any:
    return value


def _exactly(kind: type) -> Decode:
    def decode(data: Any, display: str) -> Any:
        if type(data) is not kind:  # exactly: a bool is not an int here
            raise _Damaged(f"{data!r} is not {kind.__name__}")
        return data

    return decode


def _encode_pos(pos: Pos, display: str) -> list[int]:
    if pos.path != display:  # positions are kept without their file: it must be this one
        raise _NotKept(f"a position in {pos.path}, not {display}")
    return [pos.line, pos.col]


def _decode_pos(data: Any, display: str) -> Pos:
    if type(data) is not list or len(data) != 2 or not all(type(n) is int for n in data):
        raise _Damaged(f"{data!r} is not a position")
    return Pos(display, data[0], data[1])


# A mapping of names to numbers (an entry's field positions: 17 an entry, read only for
# a message) is kept as one string, "name=number,…", checked whole as it is read and
# parsed only if it is asked for: as a JSON object it was a third of parsing a file.
_NUMBERS = re.compile(r"[^=,]+=[0-9]+(?:,[^=,]+=[0-9]+)*")


def _encode_numbers(value: Mapping[str, int], display: str) -> str:
    items = []
    for name, number in value.items():
        if not name or "=" in name or "," in name or type(number) is not int or number < 0:
            raise _NotKept(f"{name!r}: {number!r} cannot be kept as text")
        items.append(f"{name}={number}")
    return ",".join(items)


def _decode_numbers(data: Any, display: str) -> Mapping[str, int]:
    if type(data) is not str or (data and not _NUMBERS.fullmatch(data)):
        raise _Damaged(f"{data!r} is not a mapping of numbers")
    return _Numbers(data)


class _Numbers(Mapping[str, int]):
    """`_encode_numbers`'s text as the mapping it stands for, parsed at the first look."""

    __slots__ = ("_parsed", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._parsed: dict[str, int] | None = None

    def _items(self) -> dict[str, int]:
        if self._parsed is None:
            pairs = (item.split("=") for item in self._text.split(",")) if self._text else ()
            self._parsed = {name: int(number) for name, number in pairs}
        return self._parsed

    def __getitem__(self, name: str) -> int:
        return self._items()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())

    def __repr__(self) -> str:
        return repr(self._items())


def _value_codec(hint: Any) -> tuple[Encode, Decode]:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (typing.Union, types.UnionType):
        others = [arg for arg in args if arg is not type(None)]
        if len(others) != 1:
            raise TypeError(f"the read cache cannot keep {hint}")
        enc, dec = _value_codec(others[0])
        return (
            lambda value, display: None if value is None else enc(value, display),
            lambda data, display: None if data is None else dec(data, display),
        )
    if hint in (str, int, bool):
        return _same, _exactly(hint)
    if hint is Pos:
        return _encode_pos, _decode_pos
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item_enc, item_dec = _value_codec(args[0])

        def decode_tuple(data: Any, display: str) -> tuple[Any, ...]:
            if type(data) is not list:
                raise _Damaged(f"{data!r} is not a list")
            if not data:  # most of an entry's lists (forms, tags, …): no generator for them
                return ()
            return tuple([item_dec(item, display) for item in data])

        return (lambda value, display: [item_enc(v, display) for v in value]), decode_tuple
    if origin is Mapping and args == (str, int):
        return _encode_numbers, _decode_numbers
    if isinstance(hint, type) and is_dataclass(hint):
        return _codec(hint)
    raise TypeError(f"the read cache cannot keep {hint}")
