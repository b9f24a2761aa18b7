"""Material's search parse, with the tags read by one regular expression, and an
excluded block's interior passed over in one step.

Material's search plugin parses every page's HTML with `Parser(HTMLParser)` to cut
it into sections: a sixth of a 5,000-term build, mostly HTMLParser's tokenizing,
and on konspekt's term pages mostly of links inside "Упоминается в" lists that
carry `data-search-exclude`, each tag read only to be ignored.

`skip_excluded_interiors()` makes the plugin use a subclass of its `Parser` that
changes only how the text is cut into tokens; every token still goes to
Material's own handlers, except where a whole interior is provably inert:

1. Tokens. While the text is in a strict grammar (text without `<`; start tags
   `<name a="v" b='v' c=bare d>` or `…/>` with ASCII names, ASCII spaces and bare
   values of `[-a-zA-Z0-9_.:]` followed by a space or `>`; end tags `</name>`),
   one regular expression reads it, and the handlers get exactly HTMLParser's
   calls: the text between two tags as one `handle_data(unescape(text))`, names
   lower-cased, attributes as `(name.lower(), unquoted unescaped value or None)`
   in order, `handle_startendtag` for `/>`. Within the grammar HTMLParser's
   tolerant rules (3.11's, and the HTML5 ones of later versions) read the same
   tags, names and ends. At the first thing outside it (a comment, `<!…>`, `<?…>`,
   a stray `<`, any other attribute syntax, a tag whose content is raw text such
   as `<script>`), HTMLParser goes on from there, as it would have: its position
   and line are moved there as after a `feed`, and `lasttag` and the last start
   tag's text are what it would have set.
2. Interiors. After a start tag that pushed an element Material skips (by tag:
   `data-search-exclude`, a `linenodiv`, `<object>`), its interior up to its own
   end tag is passed over when it is in the grammar, well nested, and has no
   heading, no raw-text tag and no tag of anything in `skip`. Feeding it would
   change nothing: text is ignored while the skipped element is in `context` (it
   stays, as the interior pops only what it pushed); a start tag only pushes (a
   void one not even that), and an end tag pops it again (`skip` and `context`
   compare Elements by tag, hence no tag of `skip`: popping one would un-skip
   the block); an excluded element inside adds its tag to `skip` and the last
   end tag of that tag removes it; nothing is rendered. An end tag moves to
   another section only when the current one is deeper than the context and
   some section is not: if so inside, the context fell below the current
   section's depth since it became current, one end tag at a time, and the end
   tag that crossed that depth looked for such a section and found none; none
   has been made since (that takes a heading). The element's end tag is then
   handled as usual.
"""

from __future__ import annotations

import hashlib
import inspect
import re
from collections.abc import Set as AbstractSet
from html import unescape
from typing import Any

_SPACE = "[ \t\n\r\f]"
_NAME = "[a-zA-Z][a-zA-Z0-9]*"
# A bare value ends at a space or `>`: HTMLParser 3.11 reads `a=b/>` as value `b/`.
_ATTRIBUTE = (
    rf"([a-zA-Z_:][-a-zA-Z0-9_:.]*)"
    rf"(?:{_SPACE}*={_SPACE}*(\"[^\"]*\"|'[^']*'|[-a-zA-Z0-9_.:]+(?![^ \t\n\r\f>])))?"
)
_ATTRIBUTES = re.compile(_ATTRIBUTE)
_BARE = re.sub(r"\((?!\?)", "(?:", _ATTRIBUTE)
# Text, then one tag: a start tag (name, attributes, `/` if self-closing) or an end
# tag (name).
_TOKEN = re.compile(rf"([^<]*)<(?:({_NAME})((?:{_SPACE}+{_BARE})*){_SPACE}*(/?)>|/({_NAME})>)")

_HEADINGS = frozenset(f"h{level}" for level in range(1, 7))
# Tags whose content an HTML tokenizer reads as raw text or RCDATA (HTMLParser 3.11
# knows script and style; later versions more), and `plaintext`.
_RAW = frozenset(
    {"script", "style", "xmp", "iframe", "noembed", "noframes", "noscript"}
    | {"textarea", "title", "plaintext"}
)


def _interior_end(
    rawdata: str, pos: int, top: str, banned: AbstractSet[str], void: AbstractSet[str]
) -> tuple[int, re.Match[str] | None] | None:
    """Where the interior from `pos` of an element `top` ends (its end tag's `<`) and
    its last start tag; None if it is not in the grammar."""
    match = _TOKEN.match
    stack: list[str] = []
    last = None
    while True:
        m = match(rawdata, pos)
        if m is None:
            return None
        name = m.group(2)
        if name is not None:
            name = name.lower()
            if name in banned:
                return None
            if not m.group(4) and name not in void:
                stack.append(name)
            last = m
        else:
            end = m.group(5).lower()
            if stack:
                if stack.pop() != end:
                    return None
            elif end == top:
                return m.start(5) - 2, last
            else:
                return None
        pos = m.end()


def faster_parser(base: type[Any], void: frozenset[str]) -> type[Any]:
    """A subclass of Material's `Parser` class `base` that reads tags in the grammar
    itself and skips excluded interiors."""
    raw = _RAW | frozenset(base.CDATA_CONTENT_ELEMENTS)
    banned_inside = _HEADINGS | raw | {"object"}

    class FasterParser(base):
        konspekt = True
        rawdata: str

        def goahead(self, end: bool) -> None:
            rawdata = self.rawdata
            if self.convert_charrefs and self.cdata_elem is None:
                done = self._read_tags(rawdata)
                if done:
                    # As HTMLParser leaves what one `feed` did not finish for the next.
                    self.rawdata = rawdata[done:]
                    try:
                        super().goahead(end)
                    except BaseException:
                        self.rawdata = rawdata  # as HTMLParser would have raised
                        raise
                    return
            super().goahead(end)

        def _read_tags(self, rawdata: str) -> int:
            """Handle text and tags from the start of `rawdata` while they are in the
            grammar, as HTMLParser would; return where it stopped."""
            match = _TOKEN.match
            attributes = _ATTRIBUTES.findall
            pos = 0
            at = 0  # where HTMLParser would be while a handler runs
            last = None
            try:
                while True:
                    m = match(rawdata, pos)
                    if m is None:
                        break
                    text, name, attrs, closed, end = m.groups()
                    if name is not None:
                        tag = name.lower()
                        if tag in raw:
                            break
                        if text:
                            at = pos
                            self.handle_data(unescape(text))
                        # An absent value is "", a present one is quoted or not empty.
                        pairs = [
                            (k.lower(), _value(v) if v else None) for k, v in attributes(attrs)
                        ]
                        at = m.end(1)
                        last = m
                        if closed:
                            self.handle_startendtag(tag, pairs)
                        else:
                            depth = len(self.context)
                            self.handle_starttag(tag, pairs)
                            skipped = self._skipped_interior(rawdata, m.end(), depth)
                            if skipped is not None:
                                pos, inner = skipped
                                last = inner or last
                                continue
                    else:
                        if text:
                            at = pos
                            self.handle_data(unescape(text))
                        at = m.end(1)
                        self.handle_endtag(end.lower())
                    pos = m.end()
            except BaseException:
                self._read_up_to(rawdata, at, last)  # as HTMLParser would have raised
                raise
            self._read_up_to(rawdata, pos, last)
            return pos

        def _read_up_to(self, rawdata: str, pos: int, last: re.Match[str] | None) -> None:
            """HTMLParser's own state after reading `rawdata` up to `pos`, `last` the
            last start tag."""
            self.updatepos(0, pos)
            if last is not None:
                self.lasttag = last.group(2).lower()
                self._HTMLParser__starttag_text = rawdata[last.end(1) : last.end()]

        def _skipped_interior(
            self, rawdata: str, pos: int, depth: int
        ) -> tuple[int, re.Match[str] | None] | None:
            """Where the interior of the element just opened ends, if it is skipped
            and the scan shows it may be passed over; else None."""
            context = self.context
            # Only a start tag that pushed (not a void one).
            if len(context) != depth + 1:
                return None
            # Elements compare by tag, also with the plain strings `skip` starts with.
            if context[-1] not in self.skip:
                return None
            skipped = {el if isinstance(el, str) else el.tag for el in self.skip}
            return _interior_end(rawdata, pos, context[-1].tag, banned_inside | skipped, void)

    return FasterParser


def _value(value: str) -> str:
    """An attribute's value as HTMLParser gives it: unquoted and unescaped."""
    if value[:1] in "\"'":
        value = value[1:-1]
    return unescape(value) if value else value


# Material's Parser and Element, as read for the argument above (sha256 of their
# source): another version's are used as they are until they are read again.
MATERIAL_PARSER = "d4b3b852f9fa54527540bc8742cb628d50e2b803675e166898f9bf060664609d"


def material_parser_digest(plugin: Any) -> str:
    parser = plugin.Parser
    if getattr(parser, "konspekt", False):  # installed already: Material's is its base
        parser = parser.__bases__[0]
    source = inspect.getsource(parser) + inspect.getsource(plugin.Element)
    source += repr(sorted(plugin.void))
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def skip_excluded_interiors() -> None:
    """Make Material's search plugin read tags faster and pass over excluded interiors."""
    from material.plugins.search import plugin  # type: ignore[import-untyped]

    if getattr(plugin.Parser, "konspekt", False):
        return
    if material_parser_digest(plugin) != MATERIAL_PARSER:
        return
    plugin.Parser = faster_parser(plugin.Parser, frozenset(plugin.void))
