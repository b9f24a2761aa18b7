"""What "safe HTML" means for this project, checked by parsing, not by string search."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import strategies as st

# Fragments that try to become markup or script, mixed into arbitrary text by hypothesis.
HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[клик](javascript:alert(1))",
    "[клик](JaVaScRiPt:alert(1))",
    "<svg onload=alert(1)>",
    "<iframe src=//evil>",
    "<b>незакрытый",
    "</div></p>",
    '"><script>',
    "<style>body{display:none}</style>",
    "`<script>в коде</script>`",
    "```\n<script>\n```",
    "![img](javascript:alert(1))",
    "<a href='data:text/html,<script>'>x</a>",
    "&lt;script&gt;",
    "{: onclick=alert(1) }",
]

hostile_text = st.lists(
    st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=20)), min_size=1, max_size=6
).map(" ".join)


class ActiveContent(HTMLParser):
    """Collects everything in HTML that could run script or load a hostile URL."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "iframe", "object", "embed", "style", "svg", "img"}:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if name in {"href", "src", "action", "formaction"} and value:
                scheme = value.strip().lower().replace("\t", "").replace("\n", "")
                if scheme.startswith(("javascript:", "data:", "vbscript:")):
                    self.found.append(f"{tag} {name}={value}")


def active_content(html: str) -> list[str]:
    parser = ActiveContent()
    parser.feed(html)
    parser.close()
    return parser.found
