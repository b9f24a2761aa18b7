"""Card Markdown → HTML: formatting survives, markup and script from the cards never do."""

from __future__ import annotations

from hypothesis import given, settings

from konspekt.render import highlight, highlight_css, inline_html, markdown_html
from safety import active_content, hostile_text


def test_inline_markdown_is_rendered() -> None:
    assert inline_html("**Под** — группа `контейнеров`") == (
        "<strong>Под</strong> — группа <code>контейнеров</code>"
    )


def test_raw_html_in_cards_shows_as_text() -> None:
    assert inline_html("Тег <b>жирный</b> и <script>alert(1)</script>") == (
        "Тег &lt;b&gt;жирный&lt;/b&gt; и &lt;script&gt;alert(1)&lt;/script&gt;"
    )


def test_javascript_links_lose_their_target() -> None:
    assert inline_html("[клик](javascript:alert(1))") == "<a>клик</a>"


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
