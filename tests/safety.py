"""What "safe HTML" means for this project, checked by parsing, not by string search.

Shared by the render, site, deck and injection tests: the hostile fragments
hypothesis mixes into card text, and a checker for anything that could run script.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import markdown
from hypothesis import strategies as st
from pymdownx.superfences import fence_code_format

from conftest import ROOT
from konspekt.site.config import read_mkdocs_yml

# Fragments that try to become markup or script, or to confuse the Markdown scanner.
HOSTILE = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>",
    "[a](javascript:alert(1))", "[a](java&#115;cript:alert(1))", "![i](javascript:x)",
    "[клик](JaVaScRiPt:alert(1))", "<a href='javascript:alert(1)'>x</a>", "{ onclick=alert(1) }",
    "{: onclick=alert(1) }", "<iframe src=//evil>", "<b>незакрытый", "</div></p>", '"><script>',
    "<style>body{display:none}</style>", "`<script>в коде</script>`", "```\n<script>\n```",
    "<a href='data:text/html,<script>'>x</a>", "&lt;script&gt;", "*e*", "`", "```", "~~~",
    "\n", "\n\n", "    ", "# ", "> ", "- ", "1. ", "!!! note\n", "[r]: javascript:x\n", "[r][r]",
    "\\", "&", "<", ">", "под", "контейнер", "<div markdown>", "</div>", "<!-- x -->",
    "<p onclick=alert(1)>", "===\n", "---\n", '"', "(", ")", "[", "]", "]:", ":", "```bash\n",
    "    ```\n", "``", "<code>", "</code>", "\t", "*", "|", "\\`", "javascript:alert(1)",
    "<https://a.b>", "<javascript:alert(1)>", "&#106;", "http://x",
]  # fmt: skip

hostile_text = st.lists(
    st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=12)), min_size=1, max_size=8
).map("".join)


# Images the build ships itself: Anki's flat media names, the site's copied media folder.
_MEDIA_SRC = re.compile(r"^(konspekt-[A-Za-z0-9._-]+|(\.\./)+cards-media/.+)$")


class _ActiveContent(HTMLParser):
    """Collects everything in HTML that could run script or load a hostile URL.

    In a whole page built by MkDocs the theme's own <script> and <svg> icons are
    expected, so `page=True` flags only script that carries a card's payload.
    """

    def __init__(self, page: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            # What a browser runs: the scheme, after it drops whitespace and control characters.
            target = re.sub(r"[\x00-\x20]", "", value or "").lower()
            if name in {"href", "src", "action", "formaction"} and target.startswith(
                ("javascript:", "vbscript:", "data:")
            ):
                self.found.append(f"<{tag} {name}={value!r}>")
        if tag in {"iframe", "object", "embed"}:
            self.found.append(f"<{tag}>")
        if not self.page and tag in {"script", "style", "svg"}:
            self.found.append(f"<{tag}>")
        src = dict(attrs).get("src")
        if tag == "img" and src is not None and not _MEDIA_SRC.match(src):
            self.found.append(f"<img src={src!r}>")  # only the build's own media may show
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and "alert(" in data:
            self.found.append(f"<script>{data[:40]}")


def active_content(html: str, *, page: bool = False) -> list[str]:
    """Everything in `html` that could run: event handlers, script URLs, script and frames."""
    parser = _ActiveContent(page)
    parser.feed(html)
    parser.close()
    return parser.found


def site_markdown() -> markdown.Markdown:
    """Python-Markdown with the extensions mkdocs.yml configures, as the site renders card text.

    Read from mkdocs.yml, so a test sees an extension the day it is added. Snippets is left
    out (it reads files, and card text never reaches it with a `--8<--` of its own: see
    test_markdown_safe); the `!!python/name:` of a custom fence is resolved by hand.
    """
    config = read_mkdocs_yml(ROOT / "mkdocs.yml")
    names: list[str] = []
    configs: dict[str, dict[str, Any]] = {}
    for item in config["markdown_extensions"]:
        name, options = next(iter(item.items())) if isinstance(item, dict) else (item, None)
        if name == "pymdownx.snippets":
            continue
        names.append(name)
        if options:
            configs[name] = options
    for fence in configs.get("pymdownx.superfences", {}).get("custom_fences", []):
        fence["format"] = fence_code_format
    return markdown.Markdown(extensions=names, extension_configs=configs)
