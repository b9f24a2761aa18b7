"""Material's search parse with tags read by one regular expression and excluded
interiors passed over (site/searchparse.py): the same state as Material's Parser."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from material.plugins.search import plugin

from konspekt.site import searchparse
from konspekt.site.searchparse import faster_parser, material_parser_digest

Material = plugin.Parser
while getattr(Material, "konspekt", False):  # the hook may be installed in this process
    Material = Material.__base__
Faster = faster_parser(Material, frozenset(plugin.void))


def state(parser: Any) -> Any:
    """Everything the parse leaves: sections (what the index is made of), the open
    context, what is skipped, and HTMLParser's own position and memory."""
    return (
        [(s.el.tag, s.el.attrs, s.depth, s.id, s.title, s.text) for s in parser.data],
        [(el.tag, el.attrs) for el in parser.context],
        sorted(el if isinstance(el, str) else el.tag for el in parser.skip),
        parser.getpos(),
        parser.lasttag,
        parser.get_starttag_text(),
        parser.rawdata,
        parser.cdata_elem,
    )


def parsed(cls: type[Any], html: str) -> Any:
    parser = cls()
    parser.feed(html)
    parser.close()
    return parser


def outcome(cls: type[Any], html: str) -> Any:
    """The state a parse leaves, and the error it raised if any (Material's Parser
    raises on some HTML, e.g. `<p>` closed in a title after it opened in text)."""
    parser = cls()
    try:
        parser.feed(html)
        parser.close()
    except Exception as error:
        return repr(error), state(parser)
    return None, state(parser)


def assert_same(html: str) -> None:
    assert outcome(Faster, html) == outcome(Material, html), html


def test_the_hook_is_installed_for_the_material_it_was_checked_against() -> None:
    assert material_parser_digest(plugin) == searchparse.MATERIAL_PARSER
    searchparse.skip_excluded_interiors()
    searchparse.skip_excluded_interiors()
    assert plugin.Parser.__base__ is Material


LINKS = " · ".join(
    f'<a href="../t{i}/" title="Тултип {i} &amp; &lt;b&gt;">Терм {i}</a>' for i in range(50)
)
PAGE = f"""<h1 id="pod">Под<a class="headerlink" href="#pod" title="Permanent link">&para;</a></h1>
<p>Наименьшая <a href="../c/" title="Контейнер">единица</a> развёртывания.</p>
<h2 id="backlinks">Упоминается в</h2>
<p class="konspekt-backlinks" data-search-exclude>{LINKS}</p>
<ul data-search-exclude>
<li><a href="../x/">X</a> — <code>x</code> и <em>y</em><br></li>
</ul>
<p>После.</p>
"""


def test_an_excluded_interior_in_the_grammar_is_not_handled_tag_by_tag() -> None:
    seen: list[str] = []

    class Counting(Faster):  # type: ignore[misc,valid-type]
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            seen.append(tag)
            super().handle_starttag(tag, attrs)

        def parse_starttag(self, i: int) -> int:
            seen.append("HTMLParser")
            return int(super().parse_starttag(i))

    assert state(parsed(Counting, PAGE)) == state(parsed(Material, PAGE))
    assert seen == ["h1", "a", "p", "a", "h2", "p", "ul", "p"]
    seen.clear()
    # A heading inside: the interior is parsed tag by tag, and after a comment
    # HTMLParser reads the rest itself.
    page = PAGE.replace("Терм 7</a>", "Терм 7</a><h3>no</h3>")
    page = page.replace("<p>После", "<!-- c --><p>После")
    assert state(parsed(Counting, page)) == state(parsed(Material, page))
    assert seen.count("a") == 2 + 50  # the list's link is still passed over
    assert seen[-2:] == ["HTMLParser", "p"]


# Interiors of an excluded element, each either passed over or not; and what comes
# before and after it, to put the section, the context and `skip` in other states.
INTERIORS = [
    "",
    "text &amp; more",
    '<a href="x" title="a>b">t</a> · <a href=\'y\'>u</a>',
    "<span><em>deep</em></span>",
    "<br><img src=x.png><hr/>",
    "<span/>x<b />",
    "<a data-search-exclude>in</a><a>out</a>",
    "<span data-search-exclude><span>x</span></span>after",
    '<div class="linenodiv">1</div>',
    "<h2 id=x>heading</h2>",
    "<h3>heading without id</h3>",
    "<p>same tag</p>",
    "<P>same tag</P>",
    "<div>as the outer</div>",
    "<script>x</script>",
    "<style>a</style>",
    "<object>o</object>",
    "<textarea>t</textarea>",
    "<title>t</title>",
    "<!-- comment -->",
    "<!DOCTYPE x>",
    "<![CDATA[x]]>",
    "<?pi?>",
    "a < b",
    "<a>unclosed",
    "</a>",
    "<a></b></a>",
    "</br>",
    "<a href=x/>self?</a>",
    "<a href=x/y>slash</a>",
    "<a\vb>vt</a\vb>",
    "<a\xa0b>nbsp</a>",
    "<a b=1\xa0c>nbsp</a>",
    '<a b="1"c>glued</a>',
    "<a b = '1' c>spaced</a>",
    "<a-b>dash</a-b>",
    "<a/ b>slash</a>",
    "<A HREF=X>upper</A>",
    "<code>c</code><pre>  p  </pre>",
    "<li>one<li>two</li></li>",
    "<a><b></a></b>",
    "<span><em></span>x</em>",
    "<code x=y/>z</code>",
    "<script>if (a<b) x = '<p>';</script>",
    "<style>a<b>c</b></style>",
    "<title><p>t</p></title>",
]
BEFORE = [
    "",
    "<h2 id=s>S</h2>",
    "<div><div><h1 id=a>A</h1></div></div>",
    "<section><h3 id=b>B</h3>",
    "<pre>",
    "<span data-search-exclude>",
    "<p>",
]
OUTER = [
    "<p data-search-exclude>",
    "<div data-search-exclude>",
    "<ul data-search-exclude=''>",
    '<h2 id="e" data-search-exclude>',
    '<div class="linenodiv">',
    "<object>",
    "<img data-search-exclude>",
    "<p data-search-exclude/>",
]
AFTER = ["", "</p>", "</div>", "</ul></section>", "</h2><p>tail</p>", "</object>x", "tail &amp"]


def test_every_constructed_interior_leaves_material_s_state() -> None:
    for before, outer, interior, after in itertools.product(BEFORE, OUTER, INTERIORS, AFTER):
        assert_same(before + outer + interior + after)


# Random HTML: tags, attributes and near misses of the grammar.
NAMES = ["p", "P", "div", "span", "a", "h2", "h1", "ul", "li", "br", "img", "pre", "code", "em"]
NAMES += ["script", "style", "object", "textarea", "title", "x-y", "a\vb"]
ATTRIBUTES = [" data-search-exclude", ' class="linenodiv"', " id=x", ' id="y"', " title='a>b'"]
ATTRIBUTES += [' href="../x/"', " href=x/", " a=1", " b", " c = 'v'", '="q"', "=w", "/", "\xa0d"]
START = st.tuples(
    st.sampled_from(NAMES),
    st.lists(st.sampled_from(ATTRIBUTES), max_size=3).map("".join),
    st.sampled_from([">", "/>", " />", " >", "/ >", ""]),
).map(lambda t: f"<{t[0]}{t[1]}{t[2]}")
END = st.tuples(st.sampled_from(NAMES), st.sampled_from([">", " >", ""])).map(
    lambda t: f"</{t[0]}{t[1]}"
)
OTHER = [" ", "\n", "текст", " · ", "<", "</", ">", "&amp;", "&lt;", "&", "&#", "'", '"']
OTHER += ["<!--", "-->", "<!x>", "<![CDATA[", "]]>", "<?", "?>", "¶", "\r"]


@settings(max_examples=1000)
@given(st.lists(st.one_of(START, END, END, st.sampled_from(OTHER)), max_size=40).map("".join))
def test_random_html_leaves_material_s_state(html: str) -> None:
    assert_same(html)


# ... and random HTML as konspekt writes it: excluded lists of links, with noise.
LINK = st.builds(
    lambda n, t, tail: f'<a href="../{n}/" title="{t}">{n}</a>{tail}',
    st.sampled_from(["pod", "node", "Под"]),
    st.sampled_from(["Тултип", "a &amp; b", "x>y", ""]),
    st.sampled_from([" · ", "", "<br>", "<em>e</em>", "<h2 id=z>", "<!--c-->", "</a>", "<p>"]),
)


@settings(max_examples=300)
@given(
    st.sampled_from(BEFORE),
    st.sampled_from(OUTER),
    st.lists(LINK, max_size=12).map("".join),
    st.sampled_from(AFTER),
)
def test_random_excluded_link_lists_leave_material_s_state(
    before: str, outer: str, links: str, after: str
) -> None:
    assert_same(before + outer + links + after)
