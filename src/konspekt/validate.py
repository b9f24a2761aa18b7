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
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, Field, dataclass, fields, is_dataclass, replace
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, TypeVar, get_args, get_origin

from .errors import Pos, Problem
from .model import ID_PATTERN, Entry, Topic, pack_pos
from .ru import name_key
from .yamlnodes import YInvalid, YMap, YNode, YScalar, YSeq

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


@dataclass(frozen=True)
class TopicRead:
    """What one card file gave: its topic (None if the header is broken), its valid
    entries, and every id written in it, valid or not, so that a broken entry does
    not also make every `related` that points at it an error. `id_causes` are the
    problems that leave an id unknown (an entry without a usable id, a file that
    cannot be read): while there are any, a `related` naming no entry may name it."""

    topic: Topic | None
    entries: tuple[Entry, ...]
    ids: frozenset[str]
    problems: list[Problem]
    id_causes: tuple[Problem, ...] = ()
    # Per entry, the name_key of each of its names: what the check of names across files
    # compares. Part of a file's read, so a kept read brings them (12,000 at 5,000 entries).
    name_keys: tuple[NameKeys, ...] = ()


NameKeys = tuple[tuple[str, ...], ...]  # an entry's names' keys, in `Entry.names` order


def names_keys(entries: Iterable[Entry]) -> tuple[NameKeys, ...]:
    """`name_keys` of a read with these entries."""
    return tuple(tuple(name_key(name) for name in entry.names) for entry in entries)


def unreadable(problems: list[Problem]) -> TopicRead:
    """The read of a file that gave no value: none of its ids are known."""
    return TopicRead(None, (), frozenset(), problems, tuple(problems[:1]))


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
        return TopicRead(None, (), frozenset(), problems, tuple(problems[:1]))

    # Entries are built one by one, so one bad entry does not hide the others.
    entries_node = node.items.get("entries")
    header = node
    if isinstance(entries_node, YSeq):
        header = YMap({**node.items, "entries": YSeq((), entries_node.pos)}, node.keys, node.pos)
    topic = _build(Topic, header, "the topic", problems, extra={"path": path, "pos": node.pos})
    topic_id = topic.topic if topic else ""
    id_causes: list[Problem] = []
    if not isinstance(entries_node, YSeq) and problems:
        id_causes.append(problems[-1])  # the entries are not a list: none of them is known
    entries: list[Entry] = []
    ids: set[str] = set()
    ctx = _Ctx(problems, "", {})
    for index, item in enumerate(entries_node.items if isinstance(entries_node, YSeq) else ()):
        known = False
        if isinstance(item, YMap):
            id_node = item.items.get("id")
            if isinstance(id_node, YScalar) and isinstance(id_node.value, str):
                ids.add(id_node.value)
                known = _regex(ID_PATTERN).match(id_node.value) is not None
        before = len(problems)
        entry = _convert_item(
            Entry, item, f"entries[{index + 1}]", {}, ctx, extra={"topic": topic_id}
        )
        if entry is not _BAD:
            entries.append(entry)
        elif not known and len(problems) > before:
            id_causes.append(problems[before])
    if topic is not None:
        topic = replace(topic, entries=tuple(entries))
    return TopicRead(
        topic, tuple(entries), frozenset(ids), problems, tuple(id_causes), names_keys(entries)
    )


@dataclass(frozen=True)
class GlossaryCheck:
    """The problems found across files, and notes to add to problems already found:
    what a cause kept from being checked (so its consequences are not errors)."""

    problems: list[Problem]
    notes: dict[Problem, str]

    def apply(self, problems: list[Problem]) -> list[Problem]:
        """`problems` and the cross-file problems, with the notes added."""
        return [
            replace(p, notes=(*p.notes, self.notes[p])) if p in self.notes else p
            for p in problems + self.problems
        ]


def check_glossary(reads: Iterable[TopicRead]) -> GlossaryCheck:
    """Rules across files: unique topic and entry ids, real `related` ids, unique names.

    Reports causes, not their consequences: a `related` id that no entry has is not an
    error while an id is unknown (a file that cannot be read, an entry without a usable
    id, one id given to two entries, which may be a renamed one); one note on the first
    such cause says which ids were not checked.
    """
    reads = list(reads)
    entries = [entry for read in reads for entry in read.entries]
    written_ids: set[str] = set().union(*(read.ids for read in reads))
    problems = _unique_topics([read.topic for read in reads if read.topic is not None])
    duplicates, duplicated = _unique_ids(entries)
    problems += duplicates
    dangling, related_problems = _related_targets(entries, written_ids, duplicated)
    keys = [
        keys
        for read in reads
        for keys in (
            read.name_keys if len(read.name_keys) == len(read.entries) else names_keys(read.entries)
        )
    ]
    problems += _unique_names(entries, keys, duplicated)
    topic_ids = {read.topic.topic for read in reads if read.topic is not None}
    problems += _senses(entries, topic_ids | written_ids)
    notes: dict[Problem, str] = {}
    causes = sorted(
        [cause for read in reads for cause in read.id_causes] + duplicates,
        key=lambda p: p.sort_key,
    )
    if dangling and causes:
        counted = sorted(dangling.items(), key=lambda item: item[1][0])
        shown = ", ".join(
            target if len(places) == 1 else f"{target} ({len(places)} times)"
            for target, places in counted[:5]
        )
        more = f" and {len(counted) - 5} more" if len(counted) > 5 else ""
        notes[causes[0]] = (
            f"'related' names ids that no entry has ({shown}{more}); "
            "they are not checked until this error is fixed"
        )
    else:
        problems += related_problems
    return GlossaryCheck(problems, notes)


def _unique_topics(topics: list[Topic]) -> list[Problem]:
    problems = []
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
    return problems


def _unique_ids(entries: list[Entry]) -> tuple[list[Problem], set[str]]:
    """Problems for ids given twice, and those ids."""
    problems = []
    duplicated: set[str] = set()
    first_entry: dict[str, Entry] = {}
    for entry in entries:
        if entry.id in first_entry:
            duplicated.add(entry.id)
            problems.append(
                Problem(
                    entry.pos_of("id"),
                    f"duplicate id '{entry.id}' (also at {first_entry[entry.id].pos_of('id')})",
                    "ids are unique across all card files; rename one of them",
                )
            )
        first_entry.setdefault(entry.id, entry)
    return problems, duplicated


def _related_targets(
    entries: list[Entry], written_ids: set[str], duplicated: set[str]
) -> tuple[dict[str, list[Pos]], list[Problem]]:
    """Where each id that no entry has is named, and every problem of `related` lists
    (those about such ids last)."""
    problems: list[Problem] = []
    dangling: dict[str, list[Pos]] = {}
    missing: list[Problem] = []
    for entry in entries:
        seen: set[str] = set()
        for index, target in enumerate(entry.related):
            if target in written_ids and target not in seen and target != entry.id:
                seen.add(target)
                continue  # almost every item: nothing to report, no position needed
            pos = entry.pos_of(f"related[{index}]")
            if target == entry.id:
                if target not in duplicated:  # it may mean the other entry of that id
                    problems.append(
                        Problem(pos, f"entry '{entry.id}' lists itself in 'related'", "remove it")
                    )
            elif target in seen:
                problems.append(
                    Problem(pos, f"'related' of '{entry.id}' lists '{target}' twice", "remove one")
                )
            elif target not in written_ids:
                dangling.setdefault(target, []).append(pos)
                missing.append(
                    Problem(
                        pos,
                        f"'related' of '{entry.id}' names '{target}', which is not an entry id",
                        _did_you_mean(target, sorted(written_ids), "remove it or add that entry"),
                    )
                )
            seen.add(target)
    return dangling, problems + missing


def _senses(entries: list[Entry], known: set[str]) -> list[Problem]:
    """`ambiguous` lists names of the entry itself; `context` names topics or entries."""
    problems = []
    for entry in entries:
        names = set()
        if entry.ambiguous:  # (few entries have any)
            names = {name_key(name) for name in (*entry.names, entry.english_name or "")}
        for index, name in enumerate(entry.ambiguous):
            if name_key(name) not in names:
                problems.append(
                    Problem(
                        entry.pos_of(f"ambiguous[{index}]"),
                        f"'ambiguous' of '{entry.id}' lists '{name}', which is not its term, "
                        "an alias or its English name",
                        "list only names of this entry; add it to 'aliases' first",
                    )
                )
        for index, target in enumerate(entry.context):
            if target not in known:
                problems.append(
                    Problem(
                        entry.pos_of(f"context[{index}]"),
                        f"'context' of '{entry.id}' names '{target}', which is neither a topic "
                        "nor an entry id",
                        _did_you_mean(target, sorted(known), "remove it"),
                    )
                )
    return problems


def _unique_names(
    entries: list[Entry], keys: list[NameKeys], duplicated: set[str]
) -> list[Problem]:
    """Every name (term or alias) means one entry, and each entry lists it once;
    `keys`: each entry's names' keys (`names_keys`)."""
    problems = []
    # Positions are looked up only for a message: most names have none (12,000 at 5,000
    # entries, read on every build).
    claimed: dict[tuple[str, ...], tuple[Entry, str, int, str]] = {}
    for entry, entry_keys in zip(entries, keys, strict=True):
        own: dict[str | tuple[str, ...], tuple[str, int, str]] = {}
        for index, (name, key) in enumerate(zip(entry.names, entry_keys, strict=True)):
            role = "term" if index == 0 else "alias"
            # An alias written twice, or the term written again, is an error; so is an alias
            # repeating another alias in another case (unless match_case, where RUN and
            # Run are different names). The term in lower case as an alias (Нода, нода)
            # is tolerated: cards do that.
            exact = " ".join(name.split())
            folded = exact if entry.match_case else key
            first = own.get(exact) or (own.get(folded) if index > 0 else None)
            if first is not None:
                first_role, first_index, first_name = first
                problems.append(
                    Problem(
                        _name_pos(entry, index),
                        f"alias '{name}' of '{entry.id}' repeats its {first_role} "
                        f"'{first_name}' at {_name_pos(entry, first_index)}",
                        "remove it"
                        + (
                            "" if entry.match_case else "; aliases are compared ignoring case and ё"
                        ),
                    )
                )
                continue
            own[exact] = (role, index, name)
            if index > 0:
                own[folded] = (role, index, name)
            if key not in claimed:
                claimed[key] = (entry, role, index, name)
                continue
            owner, owner_role, owner_index, _ = claimed[key]
            if owner is entry or owner.id == entry.id:
                continue  # one entry's own case variants; an id written twice is one error
            problems.append(
                Problem(
                    _name_pos(entry, index),
                    f"{role} '{name}' of '{entry.id}' is also the {owner_role} of "
                    f"'{owner.id}' at {_name_pos(owner, owner_index)}",
                    "a name must point at one entry; remove or reword one of them",
                )
            )
    return problems


def _name_pos(entry: Entry, index: int) -> Pos:
    """Where the entry's name number `index` (0: the term) is written."""
    return entry.pos_of("term" if index == 0 else f"aliases[{index - 1}]")


def object_from_yaml(cls: type[T], node: YNode, what: str) -> tuple[T | None, list[Problem]]:
    """A model object of `cls` from a YAML mapping, by the same rules as the card files
    (unknown keys with did-you-mean, patterns, required fields); every problem found."""
    problems: list[Problem] = []
    if not isinstance(node, YMap):
        if not isinstance(node, YInvalid):
            problems.append(
                Problem(node.pos, f"{what} must be a mapping, not {_describe(node)}", "")
            )
        return None, problems
    return _build(cls, node, what, problems, {}), problems


# --- the declarative part: fields of a dataclass, checked from their type hints ---


@dataclass
class _Ctx:
    """What converting one object's fields shares: where problems go, how messages name
    the object, and where each field's value starts."""

    problems: list[Problem]
    what: str
    field_pos: dict[str, int]  # packed: see Entry.field_pos


def _build(
    cls: type[T], node: YMap, what: str, problems: list[Problem], extra: dict[str, Any]
) -> T | None:
    own_fields, names, has_field_pos = _fields(cls)
    # A misspelled key explains the missing field it resembles: report only the typo.
    explained: set[str] = set()
    for key, pos in node.keys.items():
        if key not in names:
            close = _close_match(key, [n for n in names if n not in node.keys])
            if close:
                explained.add(close)
            problems.append(
                Problem(
                    pos,
                    f"unknown field '{key}' in {what}",
                    f"did you mean '{close}'?"
                    if close
                    else _did_you_mean(key, names, "known fields: " + ", ".join(names)),
                )
            )
    hints = _hints(cls)
    values: dict[str, Any] = {}
    ctx = _Ctx(problems, what, {})
    ok = True
    for f in own_fields:
        value_node = node.items.get(f.name)
        required = f.default is MISSING and f.default_factory is MISSING
        if value_node is None:
            if required:
                if f.name not in explained:
                    problems.append(
                        Problem(
                            node.pos,
                            f"{what} has no '{f.name}'",
                            f"add '{f.name}:' — {f.metadata['doc']}",
                        )
                    )
                ok = False
            continue
        ctx.field_pos[f.name] = pack_pos(node.keys[f.name])
        if isinstance(value_node, YScalar) and value_node.value is None:
            # `key:` with nothing after it: point at the key, there is no value to point at
            problems.append(
                Problem(
                    node.keys[f.name],
                    f"'{f.name}' has no value",
                    "fill it in" if required else "fill it in or remove the line",
                )
            )
            ok = False
            continue
        value = _convert(hints[f.name], value_node, f.name, f.metadata, ctx, required=required)
        if value is _BAD:
            ok = False
        else:
            values[f.name] = value
    if not ok:
        return None
    if has_field_pos:
        extra = {**extra, "field_pos": types.MappingProxyType(ctx.field_pos), "pos": node.pos}
    return cls(**values, **extra)


_BAD: Any = object()


def _convert(
    hint: Any,
    node: YNode,
    name: str,
    meta: Mapping[str, Any],
    ctx: _Ctx,
    *,
    required: bool,
) -> Any:
    """The value of one field; `node` is never an empty `key:` (`_build` reports those)."""
    if isinstance(node, YInvalid):
        return _BAD
    optional, hint, item_hint = _shape(hint)
    if item_hint is not None:
        if not isinstance(node, YSeq):
            ctx.problems.append(
                Problem(
                    node.pos,
                    f"'{name}' must be a list, not {_describe(node)}",
                    f"write a YAML list: {name}: [{_sample(node)}]",
                )
            )
            return _BAD
        items = []
        for index, item in enumerate(node.items):
            ctx.field_pos[_item_name(name, index)] = pack_pos(item.pos)
            # keep converting after a bad item: every problem is reported at once
            items.append(_convert_item(item_hint, item, f"{name}[{index + 1}]", meta, ctx))
        return _BAD if any(item is _BAD for item in items) else tuple(items)
    if not isinstance(node, YScalar):
        ctx.problems.append(
            Problem(
                node.pos,
                f"'{name}' must be {_type_name(hint)}, not {_describe(node)}",
                "write a single value on the same line as the key",
            )
        )
        return _BAD
    return _check_scalar(hint, node, name, meta, ctx.problems, optional=optional or not required)


def _convert_item(
    hint: Any,
    node: YNode,
    name: str,
    meta: Mapping[str, Any],
    ctx: _Ctx,
    extra: dict[str, Any] | None = None,
) -> Any:
    """One list item; `extra` holds loader-filled fields of a dataclass item (its topic)."""
    if isinstance(node, YInvalid):
        return _BAD
    if isinstance(hint, type) and is_dataclass(hint):
        shorthand: str | None = getattr(hint, "SHORTHAND", None)
        if shorthand and isinstance(node, YScalar) and isinstance(node.value, str):
            value = _check_scalar(str, node, name, {}, ctx.problems, optional=False)
            return _BAD if value is _BAD else hint(**{shorthand: value})
        if not isinstance(node, YMap):
            ctx.problems.append(_not_a_mapping(hint, node, name, shorthand))
            return _BAD
        if shorthand:  # examples have no id to name them by
            label = f"{hint.__name__.lower()} {name[name.index('[') :]}"
        else:
            label = _label(node, name)
        obj = _build(hint, node, label, ctx.problems, extra or {})
        if obj is None or not _one_of(hint, node, label, ctx.problems):
            return _BAD
        return obj
    if not isinstance(node, YScalar) or node.value is None:
        ctx.problems.append(
            Problem(
                node.pos,
                f"'{name}' must be {_type_name(hint)}, not {_describe(node)}",
                "write plain values in the list",
            )
        )
        return _BAD
    return _check_scalar(hint, node, name, meta, ctx.problems, optional=False)


def _not_a_mapping(cls: type, node: YNode, name: str, shorthand: str | None) -> Problem:
    one_of: tuple[str, ...] = getattr(cls, "ONE_OF", ())
    if shorthand:
        return Problem(
            node.pos,
            f"'{name}' must be text or a mapping with {_either(one_of, 'or')}, "
            f"not {_describe(node)}",
            f"write '- {one_of[0]}: …' with its fields under it, or '- some text'"
            if one_of
            else "write '- some text'",
        )
    return Problem(
        node.pos,
        f"each item of '{name.split('[')[0]}' must be a mapping of fields, not {_describe(node)}",
        "start the item with '- id: …' and indent its fields under it",
    )


def _one_of(cls: type, node: YMap, what: str, problems: list[Problem]) -> bool:
    """Check a class's `ONE_OF` rule: exactly one of those fields is given."""
    one_of: tuple[str, ...] = getattr(cls, "ONE_OF", ())
    if not one_of:
        return True
    given = [name for name in one_of if name in node.keys]
    if not given:
        problems.append(
            Problem(
                node.pos, f"{what} has {_either(one_of, 'nor', 'neither')}", f"add '{one_of[0]}:'"
            )
        )
        return False
    if len(given) > 1:
        problems.append(
            Problem(
                node.keys[given[1]],
                f"{what} has {_either(given, 'and', 'both')}; only one of them can be shown",
                "make them separate items, one with "
                + " and one with ".join(f"'{name}:'" for name in given),
            )
        )
        return False
    return True


def _either(names: Iterable[str], joiner: str, first: str = "") -> str:
    quoted = [f"'{name}'" for name in names]
    text = f" {joiner} ".join(quoted)
    return f"{first} {text}" if first else text


def _check_scalar(
    hint: Any,
    node: YScalar,
    name: str,
    meta: Mapping[str, Any],
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
            problems.append(Problem(node.pos, f"'{name}' is empty", _empty_hint(name, optional)))
            return _BAD
        pattern = meta.get("pattern")
        if pattern and not _regex(pattern).match(value):
            problems.append(
                Problem(
                    node.pos,
                    f"'{name}' value '{value}' is not a valid {meta.get('kind') or 'value'}",
                    (meta.get("hint") or "match the pattern {pattern}").format(
                        slug=_slug(value), pattern=pattern
                    ),
                )
            )
            return _BAD
        if TODO in value and name != "code":  # code may say TODO; card text may not
            problems.append(
                Problem(
                    node.pos,
                    f"'{name}' is unfinished: it contains the marker {TODO}",
                    f"write the text in place of {TODO} (drafts from `konspekt notes` carry one)",
                )
            )
    return value


# What a draft leaves for its author; `check` rejects it, so a draft is never published.
TODO = "TODO"


def _empty_hint(name: str, optional: bool) -> str:
    if "[" in name:
        return "fill it in or remove it from the list"
    return "fill it in or remove the line" if optional else "fill it in"


def _label(node: YMap, name: str) -> str:
    id_node = node.items.get("id")
    if isinstance(id_node, YScalar) and isinstance(id_node.value, str) and id_node.value.strip():
        return f"entry '{id_node.value}'"
    return f"entry {name[name.index('[') + 1 : -1]}" if "[" in name else "the entry"


@lru_cache(maxsize=4096)
def _item_name(name: str, index: int) -> str:
    """«related[0]»: one string for every entry that has that item, not one each."""
    return f"{name}[{index}]"


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


# Cached per class and per type hint: a build of thousands of entries asks the same
# questions of the same few declarations, and `fields()` alone was a quarter of the load.
@cache
def _fields(cls: type) -> tuple[tuple[Field[Any], ...], tuple[str, ...], bool]:
    """The card-file fields of `cls`, their names, and whether it records field positions."""
    every = fields(cls)
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


def _close_match(word: str, choices: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def _did_you_mean(word: str, choices: Iterable[str], otherwise: str) -> str:
    close = _close_match(word, choices)
    return f"did you mean '{close}'?" if close else otherwise


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
