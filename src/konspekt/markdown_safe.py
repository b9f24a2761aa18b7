"""The safe Markdown writer: card text in, Markdown the site can publish out.

The site's security boundary. A small Markdown scanner splits card text into segments:
prose (may get links), text that must only be escaped (headings, raw HTML, URLs), code
(left verbatim: Markdown escapes it itself) and existing links (kept if their URL is
safe). Card text is written by hand, so everything that is not code is HTML-escaped on
the way out: Python-Markdown passes raw HTML through, and `<script>` in a card must stay
text. `javascript:` and other non-web links are dropped. The linker (`link`) only says
where the mentions are; this module writes them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .link import Mention

# --- the Markdown scanner ---


class Kind(Enum):
    PROSE = "prose"  # linkable text: escaped, links inserted
    TEXT = "text"  # escaped, never linked (raw HTML, URLs, whitespace, rules)
    ESCAPE = "escape"  # a backslash escape: kept, escaping the character if it is HTML
    CODE = "code"  # a fenced block: verbatim, Markdown escapes it
    CODE_SPAN = "code-span"  # `code`: verbatim, or as <code> if it holds markup characters
    OPEN_CODE = "open-code"  # a fence never closed: code to the end, closed on output
    LINK = "link"  # an existing [text](url): kept when the URL is safe, else its text
    REFDEF = "refdef"  # a reference definition [id]: url
    HEADING = "heading"  # a heading line: escaped, never linked, given an ASCII id


@dataclass(frozen=True)
class Segment:
    start: int
    end: int
    kind: Kind
    para: int  # paragraphs (list items, headings…) are numbered; links restart in each


# Only fences superfences is sure to take as fences: unindented, a bare language name at
# most, closed by the very same marks. A fence it rejected would leave its "code" as text
# with raw HTML in it; a fence only it accepts merely shows some escaped characters.
_FENCE = re.compile(r"^(`{3,}|~{3,})[ \t]*([\w#+.-]+)?[ \t]*$")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+|$)")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_HR = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_REF_DEF = re.compile(r"^ {0,3}\[(?:[^\]\\]|\\.)+\]:[ \t]*(<[^>\n]*>|\S+)")
_BLOCK_SYNTAX = re.compile(r"^[ \t]*(?:!!!|\?\?\?\+?|///)")  # admonition/details titles
_INLINE = re.compile(
    r"""
    (?P<esc>\\.)
   |(?P<code>`+)
   |(?P<link>!?\[)
   |(?P<autolink><(?:https?|mailto):[^<>\s]*>)
   |(?P<tag><[A-Za-z/!?][^<>]*>)
   |(?P<url>\b(?:https?|ftp)://[^\s<>"']+|\bwww\.[^\s<>"']+)
    """,
    re.VERBOSE | re.DOTALL,
)
# The links card text may keep, on the site and in the deck (render.py): web and mail.
SAFE_URL_SCHEMES = frozenset({"http", "https", "mailto"})
# A URL's scheme, as RFC 3986 writes it; a path with none is relative.
URL_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)


def _indent(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip(" "))


def scan(text: str) -> list[Segment]:
    """Split Markdown into segments that cover `text` exactly, in order."""
    segments: list[Segment] = []
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    para = 0
    prose_start: int | None = None  # the current run of prose lines, scanned inline at once

    prose_para = 0

    def flush(upto: int) -> None:
        nonlocal prose_start
        if prose_start is not None and prose_start < upto:
            segments.extend(_scan_inline(text, prose_start, upto, prose_para))
        prose_start = None

    def add(start: int, end: int, kind: Kind) -> None:
        flush(start)
        segments.append(Segment(start, end, kind, para))

    index = 0
    prev_blank = True
    in_list = False
    while index < len(lines):
        start, end = offsets[index], offsets[index + 1]
        body = lines[index].rstrip("\r\n")
        fence = _FENCE.match(body)
        if fence is not None:
            para += 1
            close = _fence_end(lines, index, fence)
            if close is None:
                # Markdown runs an unclosed fence to the end of the page, swallowing what
                # the page adds after this text: it ends here instead, closed on output.
                add(start, len(text), Kind.OPEN_CODE)
                break
            add(start, offsets[close + 1], Kind.CODE)
            para += 1
            index = close + 1
            prev_blank = False
            continue
        if not body.strip():
            add(start, end, Kind.TEXT)
            para += 1
            prev_blank = True
            index += 1
            continue
        indent = _indent(body)
        underline = index + 1 < len(lines) and _SETEXT.match(lines[index + 1].rstrip("\r\n"))
        if _ATX.match(body) or (
            underline and prev_blank and indent < 4 and not LIST_ITEM.match(body)
        ):
            para += 1
            stop = index + 2 if underline and not _ATX.match(body) else index + 1
            add(start, offsets[stop], Kind.HEADING)
            para += 1
            index = stop
            prev_blank = False
            continue
        if _HR.match(body) or _BLOCK_SYNTAX.match(body):
            para += 1
            add(start, end, Kind.TEXT)
            para += 1
        elif _REF_DEF.match(body):
            para += 1
            add(start, end, Kind.REFDEF)
            para += 1
        elif indent >= 4 and prev_blank and not in_list:
            # An indented code block, or the body of an admonition: escaped, never linked.
            # Treating it as code would leave raw HTML in whatever Markdown reads as text.
            para += 1
            add(start, end, Kind.TEXT)
        else:
            if LIST_ITEM.match(body):
                flush(start)
                para += 1
                in_list = True
            elif prev_blank and indent == 0:
                in_list = False
                flush(start)
            if prose_start is None:
                prose_start, prose_para = start, para
        prev_blank = False
        index += 1
    flush(len(text))
    return segments


def _fence_end(lines: Sequence[str], index: int, fence: re.Match[str]) -> int | None:
    """The index of the line closing the fence opened at `index`, if there is one."""
    closing = re.compile(rf"^{re.escape(fence.group(1))}[ \t]*$")
    for other in range(index + 1, len(lines)):
        if closing.match(lines[other].rstrip("\r\n")):
            return other
    return None


def _scan_inline(text: str, start: int, end: int, para: int) -> Iterator[Segment]:
    pos = start
    while pos < end:
        match = _INLINE.search(text, pos, end)
        if match is None:
            break
        if match.start() > pos:
            yield Segment(pos, match.start(), Kind.PROSE, para)
        kind, stop = _inline_construct(text, match, end)
        yield Segment(match.start(), stop, kind, para)
        pos = stop
    if pos < end:
        yield Segment(pos, end, Kind.PROSE, para)


def _inline_construct(text: str, match: re.Match[str], end: int) -> tuple[Kind, int]:
    group = match.lastgroup
    if group == "esc":
        return Kind.ESCAPE, match.end()
    if group == "code":
        closing = _code_end(text, match.end(), end, len(match.group()))
        return (Kind.CODE_SPAN, closing) if closing else (Kind.TEXT, match.end())
    if group == "link":
        stop = _link_end(text, match.end(), end)
        return (Kind.LINK, stop) if stop else (Kind.TEXT, match.end())
    if group == "autolink":
        return Kind.LINK, match.end()
    return Kind.TEXT, match.end()  # raw HTML tag or bare URL


def _code_end(text: str, pos: int, end: int, ticks: int) -> int | None:
    """Where a code span of `ticks` backticks opened before `pos` ends, if it is closed."""
    closing = re.compile(rf"(?<!`)`{{{ticks}}}(?!`)")
    found = closing.search(text, pos, end)
    return found.end() if found else None


def _link_end(text: str, pos: int, end: int) -> int | None:
    """The end of `[text](dest)` or `[text][ref]` whose `[` ends at `pos`, if it is one."""
    close = _balanced(text, pos, end, "[", "]")
    if close is None or close + 1 >= end:
        return None
    after = text[close + 1]
    if after == "(":
        stop = _balanced(text, close + 2, end, "(", ")")
        return None if stop is None else stop + 1
    if after == "[":
        stop = _balanced(text, close + 2, end, "[", "]")
        return None if stop is None else stop + 1
    return None


def _balanced(text: str, pos: int, end: int, opening: str, closing: str) -> int | None:
    depth = 1
    index = pos
    while index < end:
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "`":
            ticks = len(text[index:end]) - len(text[index:end].lstrip("`"))
            stop = _code_end(text, index + ticks, end, ticks)
            index = stop if stop else index + ticks
            continue
        if char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return None


# --- writing Markdown back out ---


_INVISIBLE = re.compile(r"[\x00-\x20\x7f\\]")  # what browsers drop from a URL's scheme


def safe_url(url: str) -> bool:
    """Whether a link target may be emitted: web and mail links, or a relative path."""
    cleaned = html.unescape(url.strip().strip("<>"))
    cleaned = _INVISIBLE.sub("", cleaned).lower()
    scheme = URL_SCHEME.match(cleaned)
    return scheme is None or scheme.group(1) in SAFE_URL_SCHEMES


# Python-Markdown makes code spans, escapes and reference links before inline links, and a
# destination holding one gets its text: `[a](`javascript:…`)`, `[a]([java][r]script:…)`
# and a mention the linker put there (`[javascript:…][&id]`) would all link to
# `javascript:`. Web links have no need of these characters: such a target is not kept.
_MADE_BEFORE_LINKS = re.compile(r"[`\[\]]")


def safe_destination(url: str) -> bool:
    """Whether an inline link's destination (`[text](url)`) may be emitted: a `safe_url`
    with nothing in it that Python-Markdown would replace by its text."""
    return _MADE_BEFORE_LINKS.search(url) is None and safe_url(url)


_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", "{": "\\{", "\x02": None, "\x03": None})
# A line's start, with the blockquote markers on it, or any other `>`.
_QUOTE_MARKS = re.compile(r"(\n[ \t>]*)|>")


def escape_html(text: str, line_start: bool = False) -> str:
    """Escape what would be markup in Markdown prose: HTML, and `{` (attribute lists).

    `>` stays where it is a blockquote marker (at the start of a line); `{` gets a
    backslash because attr_list would otherwise let card text set attributes such as
    `onclick` on the element before it. The placeholders of verbatim code (\\x02, \\x03)
    are dropped.
    """
    text = text.translate(_ESCAPES)
    if ">" not in text:
        return text
    lead = len(text) - len(text.lstrip(" \t>")) if line_start else 0
    return text[:lead] + _QUOTE_MARKS.sub(lambda m: m.group(1) or "&gt;", text[lead:])


def _at_line_start(text: str, pos: int) -> bool:
    if pos and text[pos - 1] not in " \t>\n":  # most calls: the line holds text before pos
        return False
    line = text[text.rfind("\n", 0, pos) + 1 : pos]
    return not line.strip(" \t>")


_TITLE_ENTITIES = str.maketrans(
    {
        **{'"': "&quot;", "\\": "&#92;", "`": "&#96;", "<": "&lt;", ">": "&gt;", "&": "&amp;"},
        # Should the link around it ever break, the title must not read as a link itself.
        **{"[": "&#91;", "]": "&#93;"},
    }
)


@lru_cache(maxsize=1 << 15)  # a page links the same few entries, each with its one title
def link_title(text: str) -> str:
    """Text safe inside a Markdown link title `"…"`, on one line.

    Python-Markdown finds code spans before links, so a backtick in a title would
    split the link apart; quotes, backslashes and angle brackets could end or bend it.
    As entities they are inert here and show as themselves in the tooltip.
    """
    return " ".join(text.split()).translate(_TITLE_ENTITIES)


class References:
    """A page's mentions as reference links: `[words][&id]` in the text, and once per
    entry linked, `[&id]: url "title"` in `definitions()`, the page's last lines.

    The HTML is the same as with inline links, but Python-Markdown reads a definition once
    per entry instead of a destination and title for every mention: at 1,000 entries
    `mkdocs build` took 11% less CPU for the same site/. Labels start with `&`, which card
    text always comes out as `&amp;` (in prose, in its own references and in their
    definitions): no card can use one of these labels or define it.
    """

    def __init__(
        self,
        href: Callable[[str], str],
        title: Callable[[str], str],
        lines: dict[str, str] | None = None,
    ) -> None:
        self._href = href
        self._title = title
        self._used: dict[str, None] = {}
        # Definition lines by entry, shared by pages whose `href` and `title` give the
        # same for it (one folder's pages): each line is made once, not once per page.
        self._lines = lines

    def label(self, entry_id: str) -> str:
        self._used.setdefault(entry_id, None)
        return f"&{entry_id}"

    def labels(self) -> tuple[str, ...]:
        """The entries whose labels were used so far, in order of first use."""
        return tuple(self._used)

    def definitions(self) -> str:
        """The definitions of the labels used so far, in order of first use."""
        lines = self._lines
        if lines is None:
            return "\n".join(map(self._line, self._used))
        return "\n".join([lines.get(i) or lines.setdefault(i, self._line(i)) for i in self._used])

    def _line(self, entry_id: str) -> str:
        return f'[&{entry_id}]: {self._href(entry_id)} "{link_title(self._title(entry_id))}"'


@dataclass(frozen=True)
class Document:
    """Card text scanned once: its segments and the mentions found in its prose."""

    text: str
    segments: tuple[Segment, ...]
    mentions: tuple[Mention, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        """The entries this text links to, in order of first mention."""
        return tuple(dict.fromkeys(m.id for m in self.mentions))

    def markdown(
        self,
        href: Callable[[str], str] | None = None,
        title: Callable[[str], str] | None = None,
        heading_prefix: str = "h",
        heading_level: int = 1,
        *,
        refs: References | None = None,
    ) -> str:
        """Safe Markdown: escaped text, kept code, mentions as `[words](href "title")`,
        or, with `refs`, as `[words][label]` (the page adds `refs.definitions()`).

        Headings written in card text get explicit ids `{#<heading_prefix>-<n>}` (a
        Cyrillic heading would otherwise get `_1`); the text's top heading level becomes
        `heading_level`, the others keep their depth below it, so they sit under the
        page's own headings.
        """
        levels = [
            _heading_level(self.text[seg.start : seg.end])
            for seg in self.segments
            if seg.kind is Kind.HEADING
        ]
        shift = heading_level - min(levels, default=heading_level)
        text = self.text
        out: list[str] = []
        code: list[str] = []  # verbatim pieces, kept out of the final link check
        linking = href is not None or refs is not None
        mentions = iter(self.mentions if linking else ())
        pending = next(mentions, None)
        headings = 0
        for seg in self.segments:
            chunk = text[seg.start : seg.end]
            if seg.kind is Kind.PROSE:
                pos = seg.start
                while pending is not None and pending.start < seg.end and linking:
                    before = escape_html(text[pos : pending.start], _at_line_start(text, pos))
                    if before.endswith("!"):  # "![" would make the link an image
                        before = before[:-1] + "\\!"
                    out.append(before)
                    if refs is not None:
                        out.append(f"[{pending.text}][{refs.label(pending.id)}]")
                    else:
                        assert href is not None
                        hint = f' "{link_title(title(pending.id))}"' if title else ""
                        out.append(f"[{pending.text}]({href(pending.id)}{hint})")
                    pos = pending.end
                    pending = next(mentions, None)
                out.append(escape_html(text[pos : seg.end], _at_line_start(text, pos)))
            elif seg.kind is Kind.TEXT:
                out.append(escape_html(chunk, _at_line_start(text, seg.start)))
            elif seg.kind is Kind.ESCAPE:
                out.append("\\" + escape_html(chunk[1:]) if chunk[1] in "<>&{" else chunk)
            elif seg.kind is Kind.CODE_SPAN and (_RISKY_CODE.search(chunk) or "```" in chunk):
                out.append(_html_code(chunk.strip("`")))
            elif seg.kind is Kind.CODE_SPAN:
                out.append(f"\x02{len(code)}\x03")
                code.append(chunk)
            elif seg.kind in (Kind.CODE, Kind.OPEN_CODE):
                if seg.kind is Kind.OPEN_CODE:
                    # (its first line as `scan` split it: "\r" ends a line too)
                    opening = _FENCE.match(chunk.splitlines()[0].rstrip("\r\n"))
                    assert opening is not None
                    chunk += ("" if chunk.endswith("\n") else "\n") + opening.group(1) + "\n"
                # superfences takes a fence for sure only after a blank line (after an
                # indented line it is text, and its "code" would be read as Markdown).
                before = "".join(out)[-2:]
                if before and before != "\n\n":
                    out.append("\n" if before.endswith("\n") else "\n\n")
                out.append(f"\x02{len(code)}\x03")
                code.append(chunk if chunk.endswith("\n") else chunk + "\n")
                if seg.end < len(text):
                    out.append("\n")
            elif seg.kind is Kind.LINK:
                out.append(_safe_link(chunk))
            elif seg.kind is Kind.REFDEF:
                match = _REF_DEF.match(chunk)
                safe = match is not None and safe_url(match.group(1))
                out.append(escape_html(chunk) if safe else "\\" + escape_html(chunk.lstrip()))
            elif seg.kind is Kind.HEADING:
                headings += 1
                out.append(_heading(chunk, f"{heading_prefix}-{headings}", shift))
        checked = _neutralize_links(_neutralize_fences("".join(out)))
        return re.sub("\x02(\\d+)\x03", lambda m: code[int(m.group(1))], checked)


# Characters that would be markup if Markdown did not, after all, read a span as code
# (it may split blocks or pair backticks differently than this scanner).
_RISKY_CODE = re.compile(r"[<>&{\]]")
_MARKDOWN_ESCAPABLE = "\\`*_{}[]()#+-.!|"


def _html_code(content: str) -> str:
    """A code span as `<code>` with escaped text: shown the same, and safe however it is read.

    Markdown treats the text between the tags as Markdown, hence the backslashes.
    """
    if content.startswith(" ") and content.endswith(" ") and content.strip():
        content = content[1:-1]
    escaped = html.escape(" ".join(content.split("\n")), quote=False)
    body = "".join(f"\\{c}" if c in _MARKDOWN_ESCAPABLE else c for c in escaped)
    return f"<code>{body}</code>"


# A destination runs to the title's quote or the closing bracket: Python-Markdown keeps a
# line break inside it, and browsers drop tabs and line breaks from a URL (`java⏎script:`).
# Only the `](` or `]:` is consumed, the destination is looked ahead at: a destination
# holding another `](` (`x]([a](javascript:…)`) must not hide that one from the check.
_DESTINATION = re.compile(r"\]\s*\((?=\s*<?\s*([^)>\"']*))")
_REFERENCE = re.compile(r"\]:(?=\s*<?([^\s>]*))")


# What superfences may take for a fence, indented or in a quote; only the code blocks kept
# verbatim (replaced by placeholders while this runs) are meant to be fences.
_FENCE_LIKE = re.compile(r"^([ \t>]*)([`~])(?=\2\2)", re.MULTILINE)


def _neutralize_fences(markdown: str) -> str:
    """Turn the first mark of every other fence-like line into an entity: shown the same,
    but no fence, so superfences cannot start (or end) a code block that the scanner did
    not see, which would leave the scanner's "code" as Markdown with raw HTML in it."""
    return _FENCE_LIKE.sub(
        lambda m: m.group(1) + ("&#96;" if m.group(2) == "`" else "&#126;"), markdown
    )


def _neutralize_links(markdown: str) -> str:
    """Break every link or reference definition whose target is not a web link.

    The last line of defence, independent of how the scanner read the text: any `](`
    or `]:` that Python-Markdown could take as a link to `javascript:` (in whatever
    bracket nesting or line breaks) gets a backslash and stays text.
    """

    def inline(match: re.Match[str]) -> str:
        # (Python-Markdown links only `](`, with nothing between; any other is checked
        # for its scheme all the same.)
        adjacent = match.group(0).startswith("](")
        if (safe_destination if adjacent else safe_url)(match.group(1)):
            return match.group(0)
        return match.group(0).replace("(", "\\(", 1)

    def reference(match: re.Match[str]) -> str:
        return match.group(0) if safe_url(match.group(1)) else "]\\:"

    return _REFERENCE.sub(reference, _DESTINATION.sub(inline, markdown))


def _safe_link(chunk: str) -> str:
    """An existing link, escaped; its text alone when its target is not a web link."""
    if chunk.startswith("<"):  # an autolink: the scanner only takes http(s) and mailto
        return chunk
    image = chunk.startswith("!")
    close = _balanced(chunk, 2 if image else 1, len(chunk), "[", "]")
    assert close is not None  # the scanner checked the brackets
    label = chunk[2 if image else 1 : close]
    rest = chunk[close + 1 :]
    label_md = _inline_markdown(label)
    if rest.startswith("(") and not safe_destination(_destination(rest[1:-1])):
        return label_md
    if rest.startswith("["):
        # A reference, escaped as its definition is (Kind.REFDEF), so the two still match,
        # and never one of the `&` labels the site's pages define (`References`).
        rest = escape_html(rest)
    # The destination and title end up in attributes, which Markdown escapes itself.
    return ("!" if image else "") + "[" + label_md + "]" + rest


def _inline_markdown(text: str) -> str:
    """Inline text that is never linked (a heading, a link's label), made safe."""
    return Document(text, tuple(_scan_inline(text, 0, len(text), 0))).markdown()


def _destination(inside: str) -> str:
    """The URL of a link's `(…)` part: `<url>`, or all before a title (spaces and line
    breaks included: `safe_url` reads the scheme the way a browser does, without them)."""
    inside = inside.strip()
    if inside.startswith("<"):
        return inside[1 : inside.find(">")]
    title = re.search(r"\s[\"'(]", inside)
    return inside[: title.start()] if title else inside


def _heading_level(chunk: str) -> int:
    lines = chunk.splitlines()
    if len(lines) == 2 and _SETEXT.match(lines[1]):  # setext: the underline gives the level
        return 1 if lines[1].strip()[0] == "=" else 2
    match = _ATX.match(lines[0])
    assert match is not None
    return len(match.group(1))


def _heading(chunk: str, anchor: str, shift: int) -> str:
    lines = chunk.splitlines()
    if len(lines) == 2 and _SETEXT.match(lines[1]):
        title = lines[0].strip()
    else:
        match = _ATX.match(lines[0])
        assert match is not None
        title = re.sub(r"[ \t]+#+[ \t]*$", "", lines[0][match.end() :]).strip().rstrip("#")
    level = max(1, min(6, _heading_level(chunk) + shift))
    newline = "\n" if chunk.endswith("\n") else ""
    return f"{'#' * level} {_inline_markdown(title)} {{#{anchor}}}{newline}"


def safe_markdown(text: str, heading_prefix: str = "h", heading_level: int = 1) -> str:
    """Card text as safe Markdown, without looking for terms (quotes from the notes)."""
    return Document(text, tuple(scan(text))).markdown(
        heading_prefix=heading_prefix, heading_level=heading_level
    )
