"""Read one YAML file into plain values that remember where they were written.

PyYAML's own loaders drop positions, silently keep the last of two duplicate keys,
and (outside safe loading) construct arbitrary objects. So we only *compose* the
document with libyaml's C parser when it is present, then walk the node tree
ourselves: that keeps every line and column, makes duplicate keys, non-plain tags
and alias bombs errors, and never constructs anything but str/int/float/bool/None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import Pos, Problem

try:  # libyaml is several times faster; the pure-Python composer gives the same nodes
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 32
# How many values aliases (*name) may add by repeating anchored ones. Cards rarely use
# anchors at all; a "billion laughs" file needs millions, so the budget only stops bombs.
MAX_ALIAS_VALUES = 10_000

_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_constructor = yaml.constructor.SafeConstructor()


@dataclass(frozen=True)
class YScalar:
    value: str | int | float | bool | None
    pos: Pos


@dataclass(frozen=True)
class YSeq:
    items: tuple[YNode, ...]
    pos: Pos


@dataclass(frozen=True)
class YMap:
    """A mapping with string keys; `keys` keeps each key's own position."""

    items: dict[str, YNode]
    keys: dict[str, Pos]
    pos: Pos


@dataclass(frozen=True)
class YInvalid:
    """A value already reported as a problem (a forbidden tag): checks skip it."""

    pos: Pos


YNode = YScalar | YSeq | YMap | YInvalid


class _Abort(Exception):
    """Stops the walk: the file cannot be read further (bomb, too deep)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def read_yaml(path: Path, display: str) -> tuple[YNode | None, list[Problem]]:
    """Read `path`; return its positioned value and every problem found.

    `display` is how messages name the file. A file with an unreadable problem
    (syntax, encoding, bomb) yields no value, only that problem.
    """
    data, problems = read_bytes(path, display)
    if data is None:
        return None, problems
    return parse_bytes(data, display)


def read_bytes(path: Path, display: str) -> tuple[bytes | None, list[Problem]]:
    """The bytes of a file, or the problem that kept them from being read (too large,
    unreadable): `read_yaml`'s first half, for a caller that looks at the bytes first."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [
                Problem(
                    Pos(display),
                    f"file is {size / 2**20:.1f} MiB, more than the {MAX_FILE_BYTES // 2**20} MiB "
                    "a card file may have",
                    "split the topic into several files",
                )
            ]
        return path.read_bytes(), []
    except OSError as exc:
        return None, [Problem(Pos(display), f"cannot read file: {exc.strerror}", "check the path")]


def parse_bytes(data: bytes, display: str) -> tuple[YNode | None, list[Problem]]:
    """`read_yaml`'s second half: the value of a file's bytes, and every problem found."""
    try:
        text = data.decode("utf-8-sig")  # a BOM some editors add is harmless
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [
            Problem(
                Pos(display, line, col),
                f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                "save the file as UTF-8",
            )
        ]
    return parse_yaml(text, display)


def parse_yaml(text: str, display: str, *, fast: bool = True) -> tuple[YNode | None, list[Problem]]:
    """Parse YAML `text` (one document) into positioned values.

    Almost every card file is plain: no anchors, tags, duplicate keys or syntax errors.
    Those are read straight from libyaml's events, several times faster than composing
    nodes and walking them; anything else takes the reference reader, so every message
    stays exactly what it reports. `fast=False` always takes the reference reader: the
    two must give equal values, which the tests check on real files.
    """
    if fast:
        try:
            return _read_events(text, display), []
        except (_Fallback, yaml.YAMLError, RecursionError):
            pass
    return _compose_and_walk(text, display)


def _compose_and_walk(text: str, display: str) -> tuple[YNode | None, list[Problem]]:
    """The reference reader: compose the node tree, then walk it checking every rule."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax_problem(exc, text, display)]
    except yaml.YAMLError as exc:  # errors without a mark (rare: reader errors)
        return None, [Problem(Pos(display), f"invalid YAML: {exc}", "check the file")]
    except RecursionError:
        return None, [Problem(Pos(display), "YAML is nested too deeply", "flatten the structure")]
    if node is None:
        return None, []
    walker = _Walker(display)
    try:
        value = walker.walk(node, depth=0, via_alias=False)
    except _Abort as abort:
        return None, [*walker.problems, abort.problem]
    return value, walker.problems


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, display: str) -> Problem:
    opened = _unclosed(exc, text)
    if opened is not None:
        return Problem(Pos(display, *opened.start), opened.message, opened.hint)
    mark = exc.problem_mark or exc.context_mark
    pos = Pos(display, mark.line + 1, mark.column + 1) if mark else Pos(display)
    problem = (exc.problem or "syntax error").strip()
    message = f"invalid YAML: {problem}"
    if exc.context:
        where = ""
        if exc.context_mark and exc.context_mark.line + 1 != pos.line:
            where = f" at line {exc.context_mark.line + 1}"
        message += f", {exc.context.strip()}{where}"
    return Problem(pos, message, _syntax_hint(f"{problem} {exc.context or ''}"))


@dataclass(frozen=True)
class _Unclosed:
    start: tuple[int, int]  # line and column of the opening quote or bracket
    message: str
    hint: str


_CLOSERS = {"[": "]", "{": "}", '"': '"', "'": "'"}


def _unclosed(exc: yaml.MarkedYAMLError, text: str) -> _Unclosed | None:
    """The quote or bracket a syntax error comes from, if it is one left open.

    The parser gives up where the open string or list stops making sense, often many
    lines (or the end of the file) later; the fix is where it opens.
    """
    context, mark, stop = (exc.context or "").strip(), exc.context_mark, exc.problem_mark
    problem = exc.problem or ""
    if mark is not None and stop is not None:
        opener = _char_at(text, mark)
        # (an unknown escape inside the quotes is its own error, reported where it is)
        if context == "while scanning a quoted scalar" and (
            "end of stream" in problem or "document" in problem
        ):
            return _Unclosed(
                (mark.line + 1, mark.column + 1),
                f"invalid YAML: the quote {opener} opened here is never closed",
                f"close it with {opener} where the text ends",
            )
        # on the bracket's own line the culprit is more likely a value inside the brackets
        if context.startswith("while parsing a flow") and opener in "[{" and stop.line > mark.line:
            closer, what = ("]", "list") if opener == "[" else ("}", "mapping")
            return _Unclosed(
                (mark.line + 1, mark.column + 1),
                f"invalid YAML: the bracket {opener} opened here is not closed "
                f"before line {stop.line + 1}",
                f"close it with {closer} where the {what} ends, "
                "or quote a value that contains a comma or bracket",
            )
    if exc.problem_mark is None:
        return None
    # A quote closed only by the next quote in the file: the scanner reads on, over
    # keys and lines, as one text; the parser fails after it. A text in a card file
    # never continues on a line indented no deeper than the line it starts on.
    lines = text.splitlines()  # libyaml counts columns in characters, as Python does
    found = None
    for start, end in _quoted_spans(text, exc.problem_mark.line):
        indent = _indent(lines[start.line])
        if any(
            line.strip() and _indent(line) <= indent
            for line in lines[start.line + 1 : end.line + 1]
        ):
            found = (start, end)
    if found is None:
        return None
    start, end = found
    opener = _char_at(text, start)
    return _Unclosed(
        (start.line + 1, start.column + 1),
        f"invalid YAML: the quote {opener} opened here is closed only at line {end.line + 1}, "
        "so everything up to there reads as one text",
        f"close it with {opener} where the text ends",
    )


def _char_at(text: str, mark: yaml.Mark) -> str:
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    return line[mark.column] if mark.column < len(line) else ""


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _quoted_spans(text: str, before_line: int) -> list[tuple[Any, Any]]:
    """Start and end marks of the quoted strings spanning lines, up to `before_line`."""
    spans = []
    loader = _Loader(text)
    try:
        while True:
            token = loader.get_token()
            if token is None or token.start_mark.line > before_line:
                break
            if (
                isinstance(token, yaml.ScalarToken)
                and token.style in ('"', "'")
                and token.end_mark.line > token.start_mark.line
            ):
                spans.append((token.start_mark, token.end_mark))
    except yaml.YAMLError:
        pass
    finally:
        loader.dispose()
    return spans


def _syntax_hint(problem: str) -> str:
    if "maximum nesting depth" in problem:
        return "card files need three levels; flatten the structure"
    if "tab" in problem:
        return "indent with spaces, not tabs"
    if "mapping values are not allowed" in problem:
        return "quote a value that contains ': ', or fix the indentation"
    if "expected ',' or ']'" in problem or "expected ',' or '}'" in problem:
        return "close the bracket, or quote a value that contains a comma or bracket"
    if "found unexpected end of stream" in problem or "found unknown escape" in problem:
        return "close the quotes"
    if "expected a single document" in problem:
        return "keep one YAML document per file: remove the '---' separator"
    if "found undefined alias" in problem:
        return "define the anchor (&name) before using it"
    return "check indentation and quoting on this line and the one before"


class _Walker:
    def __init__(self, display: str) -> None:
        self.display = display
        self.problems: list[Problem] = []
        self.seen: set[int] = set()
        self.alias_values = 0

    def pos(self, node: yaml.Node) -> Pos:
        return Pos(self.display, node.start_mark.line + 1, node.start_mark.column + 1)

    def walk(self, node: yaml.Node, depth: int, via_alias: bool) -> YNode:
        # Composed aliases are the very same node object as their anchor, so a node
        # met twice is an alias expansion; count what such expansions add.
        if id(node) in self.seen:
            via_alias = True
        self.seen.add(id(node))
        if via_alias:
            self.alias_values += 1
            if self.alias_values > MAX_ALIAS_VALUES:
                raise _Abort(
                    Problem(
                        self.pos(node),
                        f"YAML aliases expand to more than {MAX_ALIAS_VALUES:,} values "
                        "(an alias bomb?)",
                        "write the values out instead of repeating anchors",
                    )
                )
        if depth > MAX_DEPTH:
            raise _Abort(
                Problem(
                    self.pos(node),
                    f"YAML is nested more than {MAX_DEPTH} levels deep",
                    "card files need three levels; flatten the structure",
                )
            )
        if isinstance(node, yaml.MappingNode):
            return self.walk_mapping(node, depth, via_alias)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                return self.bad_tag(node)
            items = tuple(self.walk(item, depth + 1, via_alias) for item in node.value)
            return YSeq(items, self.pos(node))
        if node.tag == "tag:yaml.org,2002:timestamp":
            # YAML 1.1 reads 2024-01-01 as a date; in cards that is text, as written.
            return YScalar(str(node.value), self.pos(node))
        if node.tag not in _PLAIN_TAGS or not isinstance(node, yaml.ScalarNode):
            return self.bad_tag(node)
        return YScalar(_construct_scalar(node), self.pos(node))

    def walk_mapping(self, node: yaml.MappingNode, depth: int, via_alias: bool) -> YNode:
        if node.tag != "tag:yaml.org,2002:map":
            return self.bad_tag(node)
        items: dict[str, YNode] = {}
        keys: dict[str, Pos] = {}
        for key_node, value_node in node.value:
            key_pos = self.pos(key_node)
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.problems.append(
                    Problem(
                        key_pos, "YAML merge keys (<<) are not supported", "write the fields out"
                    )
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _PLAIN_TAGS:
                self.problems.append(
                    Problem(
                        key_pos, "a key must be a plain word", "write the field name, as in 'term:'"
                    )
                )
                continue
            key = str(key_node.value)
            if key in keys:
                first = keys[key]
                self.problems.append(
                    Problem(
                        key_pos,
                        f"duplicate key '{key}' (first at line {first.line})",
                        "remove one of them; YAML would silently keep only the last",
                    )
                )
                continue
            keys[key] = key_pos
            items[key] = self.walk(value_node, depth + 1, via_alias)
        return YMap(items, keys, self.pos(node))

    def bad_tag(self, node: yaml.Node) -> YInvalid:
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        self.problems.append(
            Problem(
                self.pos(node),
                f"YAML tag '{tag}' is not allowed",
                "card files hold plain text, numbers and lists; remove the tag",
            )
        )
        return YInvalid(self.pos(node))


def _construct_scalar(node: yaml.ScalarNode) -> str | int | float | bool | None:
    """The value of a plain-tagged scalar node.

    Calls the tag's constructor directly: `construct_object` would also remember every
    node in the shared constructor's cache, which is never cleared outside `load`, so
    every file ever read would stay in memory.
    """
    return _constructor.yaml_constructors[node.tag](_constructor, node)


# --- the fast path: positioned values straight from libyaml's events ---


class _Fallback(Exception):
    """The document has something only the reference walker reports exactly."""


_IMPLICIT = _Loader.yaml_implicit_resolvers
_WILDCARD = _IMPLICIT.get(None, [])
_NO_RESOLVERS: list[Any] = []
# Path resolvers would make tags depend on where a node is; the fast path does not model them.
_FAST_PATH_OK = not _Loader.yaml_path_resolvers


def _resolve_plain(value: str) -> str:
    """The tag of a plain (unquoted) scalar: the same rules as PyYAML's resolver."""
    resolvers = _IMPLICIT.get(value[0] if value else "")
    if resolvers is None and not _WILDCARD:
        return _STR  # most text: no implicit type starts with a Cyrillic letter
    for tag, regexp in (resolvers or _NO_RESOLVERS) + _WILDCARD:
        if regexp.match(value):
            return tag
    return _STR


def _read_events(text: str, display: str) -> YNode | None:
    """Build positioned values from parser events; raise _Fallback at anything unusual.

    "Unusual" is every construct the walker turns into a problem or treats specially:
    anchors and aliases, tags other than the plain ones, merge and non-scalar keys,
    duplicate keys, nesting deeper than MAX_DEPTH, several documents. Syntax errors
    propagate as yaml.YAMLError. So a value returned here is exactly the walker's value,
    with no problems.
    """
    if not _FAST_PATH_OK:
        raise _Fallback
    loader = _Loader(text)
    try:
        get = loader.get_event
        get()  # StreamStartEvent
        if type(get()) is yaml.StreamEndEvent:  # no document: an empty or comment-only file
            return None
        value = _EventReader(get, display).node(get(), 0)
        get()  # DocumentEndEvent
        if type(get()) is not yaml.StreamEndEvent:
            raise _Fallback  # a second document: the composer's error message
        return value
    finally:
        loader.dispose()


class _EventReader:
    """A recursive descent over the events; scalars, nine in ten events, are read inline."""

    def __init__(self, get: Callable[[], Any], display: str) -> None:
        self.get = get
        self.display = display
        self.key_tags: dict[str, str] = {}

    def node(self, event: Any, depth: int) -> YNode:
        if depth > MAX_DEPTH:
            raise _Fallback
        kind = type(event)
        if kind is yaml.ScalarEvent:
            return self.scalar(event)
        if kind is yaml.SequenceStartEvent:
            return self.sequence(event, depth)
        if kind is yaml.MappingStartEvent:
            return self.mapping(event, depth)
        raise _Fallback  # an alias

    def scalar(self, event: Any) -> YScalar:
        if event.anchor is not None:
            raise _Fallback
        tag, value = event.tag, event.value
        if tag is None or tag == "!":
            tag = _resolve_plain(value) if event.implicit[0] else _STR
        mark = event.start_mark
        pos = Pos(self.display, mark.line + 1, mark.column + 1)
        if tag in (_STR, _TIMESTAMP):  # a date is text in cards, as written
            return YScalar(value, pos)
        if tag not in _PLAIN_TAGS:
            raise _Fallback
        return YScalar(_construct_scalar(yaml.ScalarNode(tag, value, mark, mark)), pos)

    def sequence(self, event: Any, depth: int) -> YSeq:
        if event.anchor is not None or event.tag not in (None, "!", _SEQ):
            raise _Fallback
        mark = event.start_mark
        items: list[YNode] = []
        get, node, scalar = self.get, self.node, self.scalar
        item = get()
        while (kind := type(item)) is not yaml.SequenceEndEvent:
            if kind is yaml.ScalarEvent and depth < MAX_DEPTH:
                items.append(scalar(item))
            else:
                items.append(node(item, depth + 1))
            item = get()
        return YSeq(tuple(items), Pos(self.display, mark.line + 1, mark.column + 1))

    def mapping(self, event: Any, depth: int) -> YMap:
        if event.anchor is not None or event.tag not in (None, "!", _MAP):
            raise _Fallback
        mark = event.start_mark
        display = self.display
        items: dict[str, YNode] = {}
        keys: dict[str, Pos] = {}
        get, node, scalar, key_tags = self.get, self.node, self.scalar, self.key_tags
        key_event = get()
        while type(key_event) is not yaml.MappingEndEvent:
            if type(key_event) is not yaml.ScalarEvent:
                raise _Fallback  # a list or mapping as a key, or an alias
            name, tag = key_event.value, key_event.tag
            if tag is None or tag == "!":
                if not key_event.implicit[0]:
                    tag = _STR
                elif (tag := key_tags.get(name)) is None:  # a file has a dozen distinct keys
                    tag = key_tags[name] = _resolve_plain(name)
            # the walker reports merge keys, dates and odd tags as keys, and duplicates
            if key_event.anchor is not None or tag not in _PLAIN_TAGS or name in keys:
                raise _Fallback
            key_mark = key_event.start_mark
            if key_mark is None:  # libyaml marks every event; the stubs allow None
                raise _Fallback
            keys[name] = Pos(display, key_mark.line + 1, key_mark.column + 1)
            value = get()
            if type(value) is yaml.ScalarEvent and depth < MAX_DEPTH:
                items[name] = scalar(value)
            else:
                items[name] = node(value, depth + 1)
            key_event = get()
        return YMap(items, keys, Pos(display, mark.line + 1, mark.column + 1))
