"""Turn positioned YAML into model objects, checking every rule; collect all problems.

Per-field rules come from the model's declarations (type hints plus `spec` metadata),
so a new field needs no new validation code. Rules that span entries (unique ids,
`related` targets, names claimed twice) run once every file is read.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable
from dataclasses import MISSING, Field, dataclass, fields, is_dataclass, replace
from functools import cache
from typing import Any, TypeVar, get_args, get_origin

from .errors import Pos, Problem
from .model import Entry, Example, Topic
from .ru import name_key
from .yamlnodes import YInvalid, YMap, YNode, YScalar, YSeq

T = TypeVar("T")


@dataclass(frozen=True)
class TopicRead:
    """What one card file gave: its topic (None if the header is broken), its valid
    entries, and every id written in it, valid or not, so that a broken entry does
    not also make every `related` that points at it an error."""

    topic: Topic | None
    entries: tuple[Entry, ...]
    ids: frozenset[str]
    problems: list[Problem]


def topic_from_yaml(node: YNode, path: str) -> TopicRead:
    """Build a Topic from a card file's top-level value; bad entries are reported and left out."""
    problems: list[Problem] = []
    if not isinstance(node, YMap):
        if not isinstance(node, YInvalid):
            problems.append(
                Problem(
                    node.pos,
                    f"a card file must be a mapping with 'topic', 'title' and 'entries', "
                    f"not {_describe(node)}",
                    "start the file with 'topic: <id>'",
                )
            )
        return TopicRead(None, (), frozenset(), problems)

    # Entries are built one by one, so one bad entry does not hide the others.
    entries_node = node.items.get("entries")
    header = node
    if isinstance(entries_node, YSeq):
        header = YMap({**node.items, "entries": YSeq((), entries_node.pos)}, node.keys, node.pos)
    topic = _build(Topic, header, "the topic", problems, extra={"path": path, "pos": node.pos})
    topic_id = topic.topic if topic else ""
    entries: list[Entry] = []
    ids: set[str] = set()
    for index, item in enumerate(entries_node.items if isinstance(entries_node, YSeq) else ()):
        if isinstance(item, YMap):
            id_node = item.items.get("id")
            if isinstance(id_node, YScalar) and isinstance(id_node.value, str):
                ids.add(id_node.value)
        entry = _convert_item(
            Entry, item, f"entries[{index + 1}]", {}, "", problems, extra={"topic": topic_id}
        )
        if entry is not _BAD:
            entries.append(entry)
    if topic is not None:
        topic = replace(topic, entries=tuple(entries))
    return TopicRead(topic, tuple(entries), frozenset(ids), problems)


def check_glossary(reads: Iterable[TopicRead]) -> list[Problem]:
    """Rules across files: unique topic and entry ids, real `related` ids, unique names."""
    reads = list(reads)
    topics = [read.topic for read in reads if read.topic is not None]
    entries = [entry for read in reads for entry in read.entries]
    written_ids = set().union(*(read.ids for read in reads))
    problems: list[Problem] = []

    first_topic: dict[str, Topic] = {}
    for topic in topics:
        if topic.topic in first_topic:
            problems.append(
                Problem(
                    topic.pos,
                    f"duplicate topic id '{topic.topic}' (also in {first_topic[topic.topic].path})",
                    "give every card file its own topic id",
                )
            )
        first_topic.setdefault(topic.topic, topic)

    first_entry: dict[str, Entry] = {}
    for entry in entries:
        if entry.id in first_entry:
            problems.append(
                Problem(
                    entry.pos_of("id"),
                    f"duplicate id '{entry.id}' (also at {first_entry[entry.id].pos_of('id')})",
                    "ids are unique across all card files; rename one of them",
                )
            )
        first_entry.setdefault(entry.id, entry)

    for entry in entries:
        seen: set[str] = set()
        for index, target in enumerate(entry.related):
            pos = entry.pos_of(f"related[{index}]")
            if target == entry.id:
                problems.append(
                    Problem(pos, f"entry '{entry.id}' lists itself in 'related'", "remove it")
                )
            elif target in seen:
                problems.append(
                    Problem(pos, f"'related' of '{entry.id}' lists '{target}' twice", "remove one")
                )
            elif target not in written_ids:
                problems.append(
                    Problem(
                        pos,
                        f"'related' of '{entry.id}' names '{target}', which is not an entry id",
                        _did_you_mean(target, sorted(written_ids), "remove it or add that entry"),
                    )
                )
            seen.add(target)

    claimed: dict[tuple[str, ...], tuple[Entry, str, Pos]] = {}
    for entry in entries:
        for index, name in enumerate(entry.names):
            role = "term" if index == 0 else "alias"
            pos = entry.pos_of("term" if index == 0 else f"aliases[{index - 1}]")
            key = name_key(name)
            if key not in claimed:
                claimed[key] = (entry, role, pos)
                continue
            owner, owner_role, owner_pos = claimed[key]
            if owner is entry:
                continue  # an alias repeating the entry's own term is harmless
            problems.append(
                Problem(
                    pos,
                    f"{role} '{name}' of '{entry.id}' is also the {owner_role} of "
                    f"'{owner.id}' at {owner_pos}",
                    "a name must point at one entry; remove or reword one of them",
                )
            )
    return problems


# --- the declarative part: fields of a dataclass, checked from their type hints ---


def _build(
    cls: type[T], node: YMap, what: str, problems: list[Problem], extra: dict[str, Any]
) -> T | None:
    own_fields, names, has_field_pos = _fields(cls)
    for key, pos in node.keys.items():
        if key not in names:
            problems.append(
                Problem(
                    pos,
                    f"unknown field '{key}' in {what}",
                    _did_you_mean(key, names, "known fields: " + ", ".join(names)),
                )
            )
    hints = _hints(cls)
    values: dict[str, Any] = {}
    field_pos: dict[str, Pos] = {}
    ok = True
    for f in own_fields:
        value_node = node.items.get(f.name)
        if value_node is None:
            if f.default is MISSING and f.default_factory is MISSING:
                problems.append(
                    Problem(
                        node.pos,
                        f"{what} has no '{f.name}'",
                        f"add '{f.name}:' — {f.metadata['doc']}",
                    )
                )
                ok = False
            continue
        field_pos[f.name] = node.keys[f.name]
        if isinstance(value_node, YScalar) and value_node.value is None:
            # `key:` with nothing after it: point at the key, there is no value to point at
            problems.append(
                Problem(
                    node.keys[f.name],
                    f"'{f.name}' has no value",
                    "fill it in" if f.default is MISSING else "fill it in or remove the line",
                )
            )
            ok = False
            continue
        value = _convert(
            hints[f.name],
            value_node,
            f.name,
            f.metadata,
            what,
            problems,
            field_pos,
            required=f.default is MISSING,
        )
        if value is _BAD:
            ok = False
        else:
            values[f.name] = value
    if not ok:
        return None
    if has_field_pos:
        extra = {**extra, "field_pos": types.MappingProxyType(field_pos), "pos": node.pos}
    return cls(**values, **extra)


_BAD: Any = object()


def _convert(
    hint: Any,
    node: YNode,
    name: str,
    meta: typing.Mapping[str, Any],
    what: str,
    problems: list[Problem],
    field_pos: dict[str, Pos],
    *,
    required: bool,
) -> Any:
    if isinstance(node, YInvalid):
        return _BAD
    optional, hint, item_hint = _shape(hint)
    if item_hint is not None:
        if not isinstance(node, YSeq):
            problems.append(
                Problem(
                    node.pos,
                    f"'{name}' must be a list, not {_describe(node)}",
                    f"write a YAML list: {name}: [{_sample(node)}]",
                )
            )
            return _BAD
        items = []
        for index, item in enumerate(node.items):
            field_pos[f"{name}[{index}]"] = item.pos
            # keep converting after a bad item: every problem is reported at once
            items.append(
                _convert_item(item_hint, item, f"{name}[{index + 1}]", meta, what, problems)
            )
        return _BAD if any(item is _BAD for item in items) else tuple(items)

    if not isinstance(node, YScalar) or node.value is None:
        if isinstance(node, YScalar):  # `key:` with nothing after it
            problems.append(
                Problem(
                    node.pos,
                    f"'{name}' has no value",
                    "fill it in" if required and not optional else "fill it in or remove the line",
                )
            )
        else:
            problems.append(
                Problem(
                    node.pos,
                    f"'{name}' must be {_type_name(hint)}, not {_describe(node)}",
                    "write a single value on the same line as the key",
                )
            )
        return _BAD
    return _check_scalar(hint, node, name, meta, problems, optional=optional or not required)


def _convert_item(
    hint: Any,
    node: YNode,
    name: str,
    meta: typing.Mapping[str, Any],
    what: str,
    problems: list[Problem],
    extra: dict[str, Any] | None = None,
) -> Any:
    """One list item; `extra` holds loader-filled fields of a dataclass item (its topic)."""
    if isinstance(node, YInvalid):
        return _BAD
    if hint is Example:
        if isinstance(node, YScalar) and isinstance(node.value, str):
            value = _check_scalar(str, node, name, {}, problems, optional=False)
            return _BAD if value is _BAD else Example(text=value)
        if isinstance(node, YMap):
            example = _build(Example, node, f"example {name[name.index('[') :]}", problems, {})
            if example is None:
                return _BAD
            if not example.code and not example.text:
                problems.append(
                    Problem(
                        node.pos, f"example {name} has neither 'code' nor 'text'", "add 'code:'"
                    )
                )
                return _BAD
            return example
        problems.append(
            Problem(
                node.pos,
                f"'{name}' must be text or a mapping with 'code' and 'lang', not {_describe(node)}",
                "write '- code: …' with 'lang: …' under it, or '- some text'",
            )
        )
        return _BAD
    if is_dataclass(hint):
        if not isinstance(node, YMap):
            problems.append(
                Problem(
                    node.pos,
                    f"each item of '{name.split('[')[0]}' must be a mapping of fields, "
                    f"not {_describe(node)}",
                    "start the item with '- id: …' and indent its fields under it",
                )
            )
            return _BAD
        label = _label(node, name)
        return _BAD if (obj := _build(hint, node, label, problems, extra or {})) is None else obj
    if not isinstance(node, YScalar) or node.value is None:
        problems.append(
            Problem(
                node.pos,
                f"'{name}' must be {_type_name(hint)}, not {_describe(node)}",
                "write plain values in the list",
            )
        )
        return _BAD
    return _check_scalar(hint, node, name, meta, problems, optional=False)


def _check_scalar(
    hint: Any,
    node: YScalar,
    name: str,
    meta: typing.Mapping[str, Any],
    problems: list[Problem],
    *,
    optional: bool,
) -> Any:
    value = node.value
    # bool is a subclass of int, so test it first and exactly
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, hint)
    if not ok:
        fix = "put the value in quotes" if hint is str else f"write {_type_name(hint)}"
        problems.append(
            Problem(node.pos, f"'{name}' must be {_type_name(hint)}, not {_describe(node)}", fix)
        )
        return _BAD
    if isinstance(value, str):
        if not value.strip():
            problems.append(
                Problem(
                    node.pos,
                    f"'{name}' is empty",
                    _empty_hint(name, optional),
                )
            )
            return _BAD
        pattern = meta.get("pattern")
        if pattern and not _regex(pattern).match(value):
            problems.append(
                Problem(
                    node.pos,
                    f"'{name}' value '{value}' is not a valid {meta.get('kind', 'value')}",
                    "use lowercase Latin letters, digits and dashes, starting with a letter "
                    f"or digit, e.g. '{_slug(value)}'",
                )
            )
            return _BAD
    return value


def _empty_hint(name: str, optional: bool) -> str:
    if "[" in name:
        return "fill it in or remove it from the list"
    return "fill it in or remove the line" if optional else "fill it in"


def _label(node: YMap, name: str) -> str:
    id_node = node.items.get("id")
    if isinstance(id_node, YScalar) and isinstance(id_node.value, str) and id_node.value.strip():
        return f"entry '{id_node.value}'"
    return f"entry {name[name.index('[') + 1 : -1]}" if "[" in name else "the entry"


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


# Cached per class and per type hint: a build of thousands of entries asks the same
# questions of the same few declarations, and `fields()` alone was a quarter of the load.
@cache
def _fields(cls: type) -> tuple[tuple[Field[Any], ...], tuple[str, ...], bool]:
    """The card-file fields of `cls`, their names, and whether it records field positions."""
    every = fields(cls)  # type: ignore[arg-type]
    own = tuple(f for f in every if not f.metadata.get("internal"))
    return own, tuple(f.name for f in own), any(f.name == "field_pos" for f in every)


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@cache
def _shape(hint: Any) -> tuple[bool, Any, Any]:
    """(optional, the hint without None, the item hint if it is a tuple, else None)."""
    optional = False
    if get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        optional = len(args) < len(get_args(hint))
        hint = args[0]
    item_hint = get_args(hint)[0] if get_origin(hint) is tuple else None
    return optional, hint, item_hint


def _did_you_mean(word: str, choices: Iterable[str], otherwise: str) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else otherwise


def _describe(node: YNode) -> str:
    if isinstance(node, YMap):
        return "a mapping"
    if isinstance(node, YSeq):
        return "a list"
    if isinstance(node, YInvalid):
        return "an invalid value"
    value = node.value
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value}"
    return "a string"


def _type_name(hint: Any) -> str:
    return {str: "text", int: "an integer", bool: "true or false", float: "a number"}.get(
        hint, getattr(hint, "__name__", str(hint))
    )


def _sample(node: YNode) -> str:
    if isinstance(node, YScalar) and isinstance(node.value, str):
        return node.value if len(node.value) < 30 else node.value[:27] + "…"
    return "…"


def _slug(value: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
    return slug or "my-id"
