"""Card text (Markdown) to safe HTML, and code highlighting: shared by the deck and the site.

Card text is Markdown, but it is written by hand and may contain '<script>' or
'<img onerror=…>' by accident or on purpose. Raw HTML in the cards is therefore
*text*: Python-Markdown's raw-HTML handling is switched off so it is escaped, and
the result is still passed through nh3 as a second line of defence (it also drops
`javascript:` links, which Markdown itself would happily emit).
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

import nh3
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.lexers.special import TextLexer
from pygments.util import ClassNotFound

from .markdown_safe import SAFE_URL_SCHEMES

if TYPE_CHECKING:
    import markdown

# One Pygments style pair for every output, so code looks the same in Anki and on the site.
PYGMENTS_LIGHT = "friendly"
PYGMENTS_DARK = "monokai"

_ALLOWED_TAGS = {
    "a",
    "img",
    "p",
    "br",
    "em",
    "strong",
    "code",
    "pre",
    "span",
    "div",
    "ul",
    "ol",
    "li",
    "blockquote",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "sub",
    "sup",
    "del",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt"},
    "span": {"class"},
    "div": {"class"},
    "code": {"class"},
}
# The only images a card may show are media files the deck itself ships (see media.py).
_MEDIA_SRC = re.compile(r"^konspekt-[A-Za-z0-9._-]+$")


@cache
def _markdown() -> markdown.Markdown:
    # Imported here: most card texts never need it (`simple_html`), and importing it
    # (html.parser, xml.etree) is 25 ms of a deck build after one edit.
    import markdown
    from markdown.extensions.fenced_code import FencedCodeExtension
    from markdown.extensions.sane_lists import SaneListExtension

    # Instances, not names: a name makes Python-Markdown list every installed package's
    # entry points (importlib.metadata), which cost a deck build more than its rendering.
    md = markdown.Markdown(
        extensions=[SaneListExtension(), FencedCodeExtension()], output_format="html"
    )
    # Without these, raw HTML in card text would pass through as markup.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    return md


def sanitize(html: str) -> str:
    """Keep only harmless tags, attributes and URL schemes."""
    return _CLEANER.clean(html)


def _keep_attribute(tag: str, name: str, value: str) -> str | None:
    if tag == "img" and name == "src" and not _MEDIA_SRC.match(value):
        return None
    return value


# One cleaner for every call: `nh3.clean` builds its rules from these sets on each call,
# which was half its time (11,000 card texts of a 5,000-entry deck: 0.22 s → 0.09 s).
_CLEANER = nh3.Cleaner(
    tags=_ALLOWED_TAGS,
    attributes=_ALLOWED_ATTRIBUTES,
    url_schemes=set(SAFE_URL_SCHEMES),
    link_rel=None,
    attribute_filter=_keep_attribute,
)


# One line of prose in which no character means anything to Markdown: no markup, no
# entity, no block start (list, heading, quote, indented code), no line break. Markdown
# makes it one paragraph, as it is; about half of the texts of a deck are such.
_PLAIN = re.compile(
    r"(?![-+*#>=\s\d])"  # a character that may start a block, or a space
    r"(?:[^\s\\`*_\[\]<>&!#~|{}=\x00-\x1f\x7f]| )*"  # markup, entities, controls, breaks
    r"(?<! )"
)


# Emphasis around text with no markup of its own: `*` opening before a non-space and
# closing after one, nothing starred inside. Python-Markdown makes each pair <em>…</em>.
_EMPHASIS = re.compile(r"\*([^\s*][^*]*?)(?<!\s)\*")


def plain_inline(text: str) -> str | None:
    """The plain text (`<p>` content, tags dropped, entities read) Python-Markdown makes of
    one line of prose whose only markup is emphasis (`_EMPHASIS`), without running it; None
    for any other text. The synthetic corpora's definitions are all such (tests compare)."""
    stripped = _EMPHASIS.sub(r"\1", text) if "*" in text else text
    if text[:1] == "*" or "*" in stripped or not _PLAIN.fullmatch(stripped) or not stripped:
        return None
    return stripped


def markdown_html(text: str) -> str:
    """Render block Markdown (paragraphs, lists) to safe HTML."""
    # (A text with a line break is never plain: not scanning one for it saves time.)
    if text and "\n" not in text and _PLAIN.fullmatch(text):
        # What Python-Markdown makes of it (tests compare both), at a hundredth the cost.
        return sanitize(f"<p>{text}</p>")
    simple = simple_html(text)
    if simple is not None:
        return sanitize(simple)
    md = _markdown()
    md.reset()
    return sanitize(md.convert(text))


# The simple grammar most card texts are written in: paragraphs and "- " lists whose
# lines are prose with `code`, *em* and **strong** spans. `simple_html` renders it as
# Python-Markdown does, several times faster; tests compare the two on every card
# text, the synthetic corpora and grids of edge cases. Whatever is outside the grammar
# (`simple_html` gives None) goes through Python-Markdown.

_BLOCK_GAP = re.compile(r"\n{2,}")
# A line Markdown could read as a block of its own (heading, quote, list item, rule,
# fence, setext underline, numbered item, indented code). A star may open a line: as
# the grammar's opener it is followed by a non-space, so starts neither item nor rule.
_BLOCK_START = re.compile(r"^(?:[-+#>=_~\s]|\d+[.)]|\*+(?:\s|$))", re.MULTILINE)
# Space before a line break: two spaces are a hard break (space at the end stays).
_SPACE_AT_BREAK = re.compile(r"\s\n")
# Outside code: controls (Markdown drops STX/ETX, expands tabs, reads CR), escapes,
# links, images, autolinks and raw HTML; and entities, which Markdown keeps as they are.
# (`_CODE_MARK` is looked for in the whole block before it stands for code.)
_NOT_PROSE = re.compile(r"[\x00\x01\x03-\x09\x0b-\x1f\x7f-\x9f\\\[\]<]")
_ENTITY = re.compile(r"&#?[A-Za-z0-9]+;")
# Controls in code; a newline is kept in it, as Markdown keeps it.
_NOT_CODE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
# `_` between two letters or digits is text for Markdown; any other may be emphasis.
_LONE_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
# Stars around text that opens and ends with neither space nor star and has no star
# inside. A pair of equal runs of one or two stars is <em> or <strong> for Markdown;
# `_starred_html` leaves any other match as it is, and a star left over anywhere sends
# the text to Markdown. The runs matched are whole: a match that could start inside a
# run would start at its first star.
_STARRED = re.compile(r"(\*+)([^\s*](?:[^*]*[^\s*])?)(\*+)")
# Stands for a code span while emphasis is read: like Markdown's placeholder (\x02…\x03),
# neither a space, nor a star, nor a letter.
_CODE_MARK = "\x02"


def simple_html(text: str) -> str | None:
    """What Python-Markdown (as `_markdown` sets it up) makes of `text`, before
    `sanitize`, if `text` is in the simple grammar above; None for any other text."""
    body = text.strip("\n")
    if not body:
        return None
    html: list[str] = []
    after_list = False
    for block in _BLOCK_GAP.split(body):
        if block.startswith("- "):
            # A tight list of one-line items; a list right after a list would join it,
            # loosely (items in <p>), and a line that is not an item would continue one.
            if after_list:
                return None
            items: list[str] = []
            for line in block.split("\n"):
                item = _inline(line[2:]) if line.startswith("- ") else None
                if item is None:
                    return None
                items.append(f"<li>{item}</li>")
            html.append("<ul>\n" + "\n".join(items) + "\n</ul>")
            after_list = True
        else:
            paragraph = _inline(block)
            if paragraph is None:
                return None
            html.append(f"<p>{paragraph}</p>")
            after_list = False
    return "\n".join(html)


def _inline(block: str) -> str | None:
    """The HTML of a paragraph's (or an item's) lines, or None if not simple."""
    if (
        not block
        or _BLOCK_START.search(block)
        or ("\n" in block and _SPACE_AT_BREAK.search(block))
        or _CODE_MARK in block
    ):
        return None
    if "`" in block:
        parts = block.split("`")
        # Odd parts are code. An empty one, or an empty text between two spans, is a
        # run of backticks, which Markdown pairs by length; a lone backtick stays text.
        if len(parts) % 2 == 0 or "" in parts[1:-1]:
            return None
        codes = parts[1::2]
        for code in codes:
            if _NOT_CODE.search(code):
                return None
        prose = _CODE_MARK.join(parts[::2])
    else:
        codes = []
        prose = block
    if (
        _NOT_PROSE.search(prose)
        or ("&" in prose and _ENTITY.search(prose))
        or ("_" in prose and _LONE_UNDERSCORE.search(prose))
    ):
        return None
    # Markdown escapes &, < and > in text (there is no < here); it leaves quotes be.
    prose = prose.replace("&", "&amp;").replace(">", "&gt;")
    if "*" in prose:
        prose = _STARRED.sub(_starred_html, prose)
        if "*" in prose:
            return None
    if not codes:
        return prose
    pieces = prose.split(_CODE_MARK)
    for index, code in enumerate(codes):
        # Markdown strips a span's edges and escapes &, < and > in it, entities too.
        pieces[index] += "<code>" + _escape_code(code.strip()) + "</code>"
    return "".join(pieces)


def _starred_html(match: re.Match[str]) -> str:
    opening, content, closing = match.groups()
    if opening != closing or len(opening) > 2:
        return match[0]
    tag = "em" if len(opening) == 1 else "strong"
    return f"<{tag}>{content}</{tag}>"


def _escape_code(code: str) -> str:
    return code.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def inline_html(text: str) -> str:
    """Render inline Markdown (a definition) to safe HTML without the wrapping <p>."""
    html = markdown_html(text)
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html


def highlight(code: str, lang: str) -> str:
    """Highlighted HTML for a code example; unknown languages fall back to plain text."""
    return pygments_highlight(code, _lexer(lang), _FORMATTER)


# Making a formatter and finding a lexer cost more than highlighting a short example;
# both are stateless between calls, so one of each serves every example.
_FORMATTER = HtmlFormatter(cssclass="highlight", wrapcode=True)


@cache
def _lexer(lang: str) -> Lexer:
    try:
        return get_lexer_by_name(lang)
    except ClassNotFound:
        return TextLexer()


def highlight_css(dark_scope: str = ".nightMode") -> str:
    """CSS for highlighted code: the light style, and the dark one under `dark_scope`."""
    light = HtmlFormatter(style=PYGMENTS_LIGHT).get_style_defs(".highlight")
    dark = HtmlFormatter(style=PYGMENTS_DARK).get_style_defs(f"{dark_scope} .highlight")
    return f"{light}\n{dark}\n"
