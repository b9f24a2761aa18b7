"""Card Markdown → HTML: formatting survives, markup and script from the cards never do."""

from __future__ import annotations

import html
from pathlib import Path

import nh3
from bench_scripts import load_script
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from konspekt import load_glossary, render
from konspekt.render import highlight, highlight_css, inline_html, markdown_html, sanitize
from safety import active_content, hostile_text


def test_inline_markdown_is_rendered() -> None:
    assert inline_html("**Под** — группа `контейнеров`") == (
        "<strong>Под</strong> — группа <code>контейнеров</code>"
    )


def test_raw_html_in_cards_shows_as_text() -> None:
    assert inline_html("Тег <b>жирный</b> и <script>alert(1)</script>") == (
        "Тег &lt;b&gt;жирный&lt;/b&gt; и &lt;script&gt;alert(1)&lt;/script&gt;"
    )


def test_raw_html_blocks_in_cards_show_as_text() -> None:
    assert markdown_html("<div>x</div>\n\n<script>alert(1)</script>") == (
        "<p>&lt;div&gt;x&lt;/div&gt;</p>\n<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    )


def test_javascript_links_lose_their_target() -> None:
    assert inline_html("[клик](javascript:alert(1))") == "<a>клик</a>"


def test_only_web_and_mail_links_keep_their_target() -> None:
    # The same schemes as the site's writer (SAFE_URL_SCHEMES), not nh3's longer default list.
    assert inline_html("[a](ftp://x.org/f) [b](tel:123) [c](mailto:a@b.c) [d](https://x.org)") == (
        '<a>a</a> <a>b</a> <a href="mailto:a@b.c">c</a> <a href="https://x.org">d</a>'
    )


def test_only_the_decks_own_media_may_be_shown() -> None:
    assert inline_html("![под](konspekt-media-pod.png)") == (
        '<img alt="под" src="konspekt-media-pod.png">'
    )
    # An image from elsewhere would make Anki fetch it (and tell the server who reviews).
    assert inline_html("![x](https://evil.example/x.png)") == '<img alt="x">'
    assert inline_html("![x](../secret.png)") == '<img alt="x">'


def test_only_allowed_tags_and_attributes_survive() -> None:
    # Markdown makes headings; the note templates give the structure, so they go.
    assert markdown_html("# Заголовок") == "Заголовок"
    assert inline_html("[a](https://a.org){: onclick=alert(1) }") == (
        '<a href="https://a.org">a</a>{: onclick=alert(1) }'
    )


def test_the_sanitizer_itself_drops_markup_markdown_would_not_make() -> None:
    # The second line of defence, tested alone: it must hold if Markdown ever lets HTML by.
    dirty = (
        '<script>alert(1)</script><strong onclick="x">b</strong>'
        '<a href="javascript:x" class="c">a</a><span class="k" id="i">s</span>'
        '<img src="https://evil.example/x.png" onerror="x">'
    )
    assert sanitize(dirty) == '<strong>b</strong><a>a</a><span class="k">s</span><img>'


def test_block_markdown_keeps_lists_and_paragraphs() -> None:
    assert markdown_html("Первый.\n\n- раз\n- два") == (
        "<p>Первый.</p>\n<ul>\n<li>раз</li>\n<li>два</li>\n</ul>"
    )


def test_code_is_highlighted_and_unknown_languages_fall_back_to_text() -> None:
    assert '<span class="k">FROM</span>' in highlight("FROM python:3.12\n", "dockerfile")
    assert "FROM python" in highlight("FROM python\n", "no-such-language")


def test_highlight_css_has_a_night_variant() -> None:
    css = highlight_css()
    assert ".highlight .k " in css
    assert ".nightMode .highlight .k " in css


@settings(max_examples=300, deadline=None)
@given(hostile_text)
def test_no_card_text_becomes_active_content(text: str) -> None:
    assert active_content(markdown_html(text)) == []
    assert active_content(inline_html(text)) == []


def _by_markdown(text: str) -> str:
    md = render._markdown()
    md.reset()
    return sanitize(md.convert(text))


PLAIN_EDGES = [
    "Под — это группа контейнеров; «кавычки», \"прямые\", 'одинарные', 50 % / 3 ? @ $ ^ ,",
    "Это  два пробела внутри",
    "v1.2.3 и http://example.com/a, foo@bar.com",
    "Тест: значение (в скобках).",
    "Щ",
    "—",
    ".",
    "ﬁ é Ω",
    "маска \ue000 внутри",
]
NOT_PLAIN = [
    "1. пункт",
    "١. пункт",
    "- пункт",
    "+ пункт",
    "# заголовок",
    "> цитата",
    "    код",
    " ведущий пробел",
    "хвост ",
    "две\nстроки",
    "a\u00a0b",
    "x\u2028y",
    "a\tb",
    "*курсив*",
    "_курсив_",
    "`код`",
    "[ссылка](x)",
    "&amp; и &copy;",
    "<b>",
    "===",
    "a \\* b",
    "!",
]


@settings(max_examples=500, deadline=None)
@given(st.one_of(hostile_text, st.text(alphabet="Пад ab.,-—1٣:«»()\"'*_#>=&\n\u00a0", max_size=20)))
def test_the_plain_text_shortcut_is_what_markdown_makes(text: str) -> None:
    assert markdown_html(text) == _by_markdown(text)


def test_the_plain_text_shortcut_on_every_card_text_and_at_its_edges() -> None:
    texts = list(PLAIN_EDGES) + NOT_PLAIN
    for folder in (ROOT / "cards", ROOT / "tests" / "fixtures" / "deck"):
        for entry in load_glossary(folder).entries:
            texts += [entry.definition, entry.clue or "", entry.details or ""]
            texts += [example.text for example in entry.examples]
    shortcut = [text for text in texts if text and render._PLAIN.fullmatch(text)]
    assert len(shortcut) > len(PLAIN_EDGES)  # the shortcut is taken: this tests it
    assert not [text for text in NOT_PLAIN if render._PLAIN.fullmatch(text)]
    for text in texts:
        assert markdown_html(text) == _by_markdown(text), text


def _plain_by_markdown(text: str) -> str:
    """What the site's plain_text made of every text before `plain_inline`: Markdown, nh3."""
    return " ".join(html.unescape(nh3.clean(_by_markdown(text), tags=set())).split())


EMPHASIS_EDGES = [
    "Ключ *курсив* и *ещё два* слова.",
    "a*b*c и 2*3*4",
    "*в начале* строки",
    "a **b** c",
    "a * b * c",
    "a *b *c* d*",
    "a *b* *",
    "a * b*",
    "a *b * c",
    "конец *",
    "a ***b*** c",
    "a *`b`* c",
    "a *b\nc* d",
    "a *b* c ",
    "a *\u00a0b* c",
    "**",
]


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="Пад ab.,-—1:«»()\"'*_#>=&`\\\n\u00a0\t", max_size=24))
def test_plain_inline_is_what_markdown_and_nh3_make(text: str) -> None:
    plain = render.plain_inline(text)
    if plain is not None:
        assert " ".join(plain.split()) == _plain_by_markdown(text)


def test_plain_inline_on_every_card_text_the_corpora_and_their_edges(tmp_path: Path) -> None:
    corpus = load_script("corpus")
    corpus.write_corpus(tmp_path / "cards", 300, seed=1)
    texts = list(EMPHASIS_EDGES) + list(PLAIN_EDGES) + NOT_PLAIN
    for folder in (ROOT / "cards", ROOT / "tests" / "fixtures" / "deck", tmp_path / "cards"):
        for entry in load_glossary(folder).entries:
            texts += [entry.definition, entry.clue or "", entry.details or ""]
            texts += [example.text for example in entry.examples]
    fast = [text for text in texts if render.plain_inline(text) is not None]
    # The shortcut is taken on emphasis, and refused where Markdown reads more into it.
    assert any("*" in text for text in fast)
    assert render.plain_inline("a **b** c") is None
    assert render.plain_inline("*в начале* строки") is None
    for text in texts:
        plain = render.plain_inline(text)
        if plain is not None:
            assert " ".join(plain.split()) == _plain_by_markdown(text), text
