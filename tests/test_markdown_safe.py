"""The safe Markdown writer: card text in, Markdown the site publishes out.

This is the site's security boundary. Each of its layers has a case here that fails
without it; the `LIVE` cases run the writer's output through the Markdown the site uses
(mkdocs.yml's extensions), because what matters is the HTML a browser gets.
"""

from __future__ import annotations

import itertools

import pytest

from konspekt.link import Mention
from konspekt.markdown_safe import (
    Document,
    References,
    link_title,
    safe_destination,
    safe_markdown,
    safe_url,
    scan,
)
from safety import active_content, site_markdown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("a & b -> c", "a &amp; b -&gt; c"),
        ("> цитата > не тег", "> цитата &gt; не тег"),
        ("`<b>` в коде", "<code>&lt;b&gt;</code> в коде"),
        ("`docker run` в коде", "`docker run` в коде"),
        ("[x](javascript:alert(1))", "x"),
        ("[x](JaVaScRiPt&#58;alert(1))", "x"),
        ("[x](<javascript:alert(1)>)", "x"),
        ("[x](java\nscript:alert(1))", "x"),  # browsers drop the line break
        ('[x](pod.md "о: поде")', '[x](pod.md "о: поде")'),
        ("[x](https://a.org/?a=1&b=2)", "[x](https://a.org/?a=1&b=2)"),
        ("![i](data:text/html,<script>)", "i"),
        ("*a*{ onclick=alert(1) }", "*a*\\{ onclick=alert(1) }"),
        ("[r]: javascript:alert(1)", "\\[r]\\: javascript:alert(1)"),
        ("[r]:\n javascript:alert(1)", "[r]\\:\n javascript:alert(1)"),
        ("\\[r][r][a](javascript:alert(1))", "\\[r][r][a]\\(javascript:alert(1))"),
        ("\\<script>", "\\&lt;script&gt;"),
        ("```\n<b>\n```", "```\n<b>\n```\n"),
        ("    отступ\n```\n<b>\n```\nтекст", "    отступ\n\n```\n<b>\n```\n\nтекст"),
        ("```\n<b> без конца", "```\n<b> без конца\n```\n"),
        ("### Заголовок <i>", "# Заголовок &lt;i&gt; {#h-1}"),
        ("## А\n\n### Б", "# А {#h-1}\n\n## Б {#h-2}"),
        ("Заголовок\n=====\n", "# Заголовок {#h-1}\n"),
        # The placeholders of verbatim code while links are checked never come from the text.
        ("\x020\x03 и `код`", "0 и `код`"),
        ("<!-- комментарий -->", "&lt;!-- комментарий --&gt;"),
        ("<javascript:alert(1)>", "&lt;javascript:alert(1)&gt;"),
        ('--8<-- "nav.yml"', '--8&lt;-- "nav.yml"'),  # no snippet from card text
    ],
)
def test_safe_markdown(text: str, expected: str) -> None:
    assert safe_markdown(text) == expected


def test_scan_covers_the_text_exactly() -> None:
    text = "# Т\n\nабзац `код` [ссылка](u) <b> http://x.y/z\n\n```\nкод\n```\n- пункт\n"
    segments = scan(text)
    assert "".join(text[s.start : s.end] for s in segments) == text
    assert all(a.end == b.start for a, b in itertools.pairwise(segments))


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.org", True),
        ("../glossary/pod.md", True),
        ("mailto:a@b.c", True),
        ("javascript:alert(1)", False),
        (" java\tscript:alert(1)", False),
        ("java\x00script:alert(1)", False),
        ("jav&#x61;script:alert(1)", False),
        ("<javascript:alert(1)>", False),
        ("HTTPS://EXAMPLE.ORG", True),
        ("vbscript:x", False),
        ("data:text/html,x", False),
    ],
)
def test_safe_url(url: str, safe: bool) -> None:
    assert safe_url(url) is safe
    assert safe_destination(url) is safe


@pytest.mark.parametrize(
    "url", ["`javascript:alert(1)`", "[java][r]script:alert(1)", "[javascript:alert(1][&pod]"]
)
def test_a_destination_python_markdown_would_fill_in_is_not_safe(url: str) -> None:
    # It replaces code spans and reference links by their text before making the link
    # (see LIVE); a reference definition's URL is read as it is.
    assert not safe_destination(url)


SCRIPT = "<script>alert(1)</script>"

# Text that becomes script when a layer is missing, each found by removing one: a fence
# that superfences sees and the scanner does not (indented, quoted, in a list or an
# admonition, with ``` or ~~~, after a tab) would turn the scanner's escaped "code" back
# into Markdown with raw HTML in it.
LIVE = [
    pytest.param("    ```\n```\n" + SCRIPT, id="indented-fence"),
    pytest.param("  ```\n```\n" + SCRIPT, id="fence-indented-two"),
    pytest.param("\t```\n```\n" + SCRIPT, id="tab-indented-fence"),
    pytest.param("    ~~~\n~~~\n" + SCRIPT, id="indented-tilde-fence"),
    pytest.param("> ```\n```\n" + SCRIPT, id="quoted-fence"),
    pytest.param("> ```\n~~~\n" + SCRIPT, id="quoted-fence-tilde-close"),
    pytest.param(">> ```\n```\n" + SCRIPT, id="nested-quote-fence"),
    pytest.param("> > ~~~\n~~~\n" + SCRIPT, id="nested-quote-tilde-fence"),
    pytest.param("    ```\n~~~\n<b onclick=alert(1)>x</b>", id="event-handler"),
    pytest.param("- a\n\n    ```\n```\n" + SCRIPT, id="fence-in-list-item"),
    pytest.param("- a\n  ```\n```\n" + SCRIPT, id="fence-in-list-continuation"),
    pytest.param("1. a\n\n   ```\n```\n" + SCRIPT, id="fence-in-ordered-list"),
    pytest.param("!!! note\n    ```\n```\n" + SCRIPT, id="fence-in-admonition"),
    pytest.param("??? note\n    ```\n```\n" + SCRIPT, id="fence-in-details"),
    pytest.param("<!-- ```\n```\n" + SCRIPT + " -->", id="html-comment"),
    pytest.param("<javascript:alert(1)>", id="autolink-javascript"),
    pytest.param("[a][x]\n\n[x]: javascript:alert(1)", id="reference-link"),
    pytest.param("[a][x]\n\n[x]: <javascript:alert(1)>", id="reference-link-angle"),
    pytest.param("[a][x]\n\n[x]:\n  java\tscript:alert(1)", id="reference-link-next-line"),
    pytest.param("[a](java\nscript:alert(1))", id="inline-link-line-break"),
    pytest.param('[a](java\tscript:alert(1) "t")', id="inline-link-tab-and-title"),
    # The URL segment swallows the link; the first `](`'s "destination" held the second.
    pytest.param("http://x]([a](javascript:alert(1))", id="link-inside-a-destination"),
    # Code spans and references are made before links: a destination gets their text.
    pytest.param("[a](`javascript:alert(1)`)", id="code-span-in-a-destination"),
    pytest.param("[a]([javascript:alert(1)][x])\n\n[x]: http://e.org", id="reference-in-a-dest"),
    pytest.param("[a]([java][x]script:alert(1))\n\n[x]: http://e.org", id="scheme-split-by-ref"),
    pytest.param("*a*{ onclick=alert(1) }", id="attr-list"),
    pytest.param("# Заголовок {: onclick=alert(1) }", id="attr-list-heading"),
    pytest.param("`<img src=x onerror=alert(1)>`", id="risky-code-span"),
    pytest.param("```\n" + SCRIPT, id="unclosed-fence"),
    # "\r" ends a line for the scanner and for Markdown, not for str.split("\n").
    pytest.param("```\r0\n" + SCRIPT, id="unclosed-fence-carriage-return"),
    pytest.param("x ```\n```\rpy\n" + SCRIPT, id="unclosed-fence-after-text-cr"),
]


@pytest.mark.parametrize("text", LIVE)
def test_nothing_reaches_the_site_as_active_content(text: str) -> None:
    html = site_markdown().convert(safe_markdown(text))
    assert active_content(html) == [], html


def test_a_mention_linked_inside_what_markdown_reads_as_a_destination_links_nowhere() -> None:
    # The scanner reads `[r][a]` as a reference link and what follows as prose; an
    # undefined reference is text for Python-Markdown, so `[a](…)` is a link, and the
    # mention made inside its destination gave it its text: `javascript:alert(1` (found
    # by hypothesis, test_injection).
    text = "\\[r][r][a](javascript:alert(1))"
    start = text.index("javascript")
    mention = Mention(start, start + len("javascript:alert(1"), "javascript:alert(1", "js")
    refs = References(lambda i: f"../{i}.md", lambda i: "title")
    markdown = document(text, mention).markdown(refs=refs) + "\n\n" + refs.definitions()
    html = site_markdown().convert(markdown)
    assert active_content(html) == [], html


def test_a_fence_the_scanner_did_not_take_shows_as_text() -> None:
    html = site_markdown().convert(safe_markdown("    ```\n```\n" + SCRIPT))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def document(text: str, *mentions: Mention) -> Document:
    return Document(text, tuple(scan(text)), mentions)


def test_an_exclamation_mark_before_a_link_does_not_make_an_image() -> None:
    text = "Смотрите!контейнер"
    markdown = document(text, Mention(9, 18, "контейнер", "container")).markdown(
        lambda i: f"{i}.md"
    )
    assert markdown == "Смотрите\\![контейнер](container.md)"
    html = site_markdown().convert(markdown)
    assert "<img" not in html
    assert '<a href="container.md">контейнер</a>' in html


def test_links_are_written_where_the_mentions_are() -> None:
    text = "Поды и `код` и контейнеры."
    doc = document(text, Mention(0, 4, "Поды", "pod"), Mention(15, 25, "контейнеры", "container"))
    assert doc.ids == ("pod", "container")
    assert doc.markdown(lambda i: f"{i}.md", lambda i: f"о {i}") == (
        '[Поды](pod.md "о pod") и `код` и [контейнеры](container.md "о container").'
    )
    assert doc.markdown() == text  # without href: no links


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ('о "поде"', "о &quot;поде&quot;"),
        ("a `code` b", "a &#96;code&#96; b"),
        ("[x](javascript:alert(1))", "&#91;x&#93;(javascript:alert(1))"),
        ("a\\b <i> & c", "a&#92;b &lt;i&gt; &amp; c"),
        ("две\n\nстроки", "две строки"),
    ],
)
def test_link_title(title: str, expected: str) -> None:
    assert link_title(title) == expected


def test_a_backtick_in_a_title_does_not_break_the_link() -> None:
    text = "контейнер"
    markdown = document(text, Mention(0, 9, text, "container")).markdown(
        lambda i: f"{i}.md", lambda i: "`<img src=x onerror=alert(1)>`"
    )
    html = site_markdown().convert(markdown)
    assert active_content(html) == []
    assert html.count("<a ") == 1


# --- mentions as reference links (the site's term and topic pages) ---

TITLES = {
    "pod": 'Под — «группа» "контейнеров" с `кодом`, <i>тегом</i>, \\ и & ]: [x](y)',
    "container": "Изолированный процесс.\n\nВторая строка",
    "node": "Узел: ' и \" и ( )",
}


def with_references(*docs: Document) -> str:
    refs = References(lambda i: f"../glossary/{i}.md", TITLES.__getitem__)
    texts = [doc.markdown(refs=refs) for doc in docs]
    return "\n\n".join([*texts, refs.definitions()])


def test_reference_links_give_the_html_of_inline_links() -> None:
    text = "Поды, контейнеры и узлы; снова поды.\n\n- узел\n- `код` и контейнер!"
    doc = document(
        text,
        Mention(0, 4, "Поды", "pod"),
        Mention(6, 16, "контейнеры", "container"),
        Mention(19, 23, "узлы", "node"),
        Mention(31, 35, "поды", "pod"),
        Mention(40, 44, "узел", "node"),
        Mention(56, 65, "контейнер", "container"),
    )
    inline = doc.markdown(lambda i: f"../glossary/{i}.md", TITLES.__getitem__)
    refs = with_references(doc)
    assert "](" not in refs.split("\n\n[&")[0]  # no inline link left in the text
    assert refs.count("[&pod]: ") == 1  # one definition per entry linked
    assert site_markdown().convert(refs) == site_markdown().convert(inline)


@pytest.mark.parametrize(
    "text",
    [
        "см. [под][&pod] и [&pod]",  # a card using a label
        "[x][&pod]\n\n[&pod]: javascript:alert(1)",  # a card defining one
        "[&pod]: https://example.org",
    ],
)
def test_card_text_can_neither_use_nor_define_a_reference_label(text: str) -> None:
    page = with_references(document(text), document("поды", Mention(0, 4, "поды", "pod")))
    html = site_markdown().convert(page)
    assert html.count("<a ") == 1 and 'href="../glossary/pod.md"' in html, html
    assert active_content(html) == [] and "example.org" not in html.split("<a ")[0]
