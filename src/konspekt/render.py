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

import markdown
import nh3
from markdown.extensions.fenced_code import FencedCodeExtension
from markdown.extensions.sane_lists import SaneListExtension
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.lexers.special import TextLexer
from pygments.util import ClassNotFound

from .markdown_safe import SAFE_URL_SCHEMES

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
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=set(SAFE_URL_SCHEMES),
        link_rel=None,
        attribute_filter=_keep_attribute,
    )


def _keep_attribute(tag: str, name: str, value: str) -> str | None:
    if tag == "img" and name == "src" and not _MEDIA_SRC.match(value):
        return None
    return value


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
    if text and _PLAIN.fullmatch(text):
        # What Python-Markdown makes of it (tests compare both), at a hundredth the cost.
        return sanitize(f"<p>{text}</p>")
    md = _markdown()
    md.reset()
    return sanitize(md.convert(text))


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
