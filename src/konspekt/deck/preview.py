"""Card previews: PNGs of what the deck looks like in Anki, for a person to look at.

The card HTML comes from real Anki: the deck is built in memory, imported into a
scratch collection, and each card rendered with card.question() / card.answer(), so
templates, conditionals and the note type's CSS are exactly what Anki shows. Chromium
then displays it the way Anki's reviewer does (a body with class "card", plus
"nightMode" at night) at a desktop and a phone width.

Needs the test extras (anki, playwright) and Debian's chromium; `konspekt preview`
(`make preview`) is the command. Neither the cards nor the ledger are written.
"""

from __future__ import annotations

import html
import json
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from anki.collection import Collection, ImportAnkiPackageRequest
from playwright.sync_api import Browser, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from ..errors import BuildError
from ..model import Entry, Glossary
from .build import build_time
from .ledger import Ledger
from .options import DeckOptions
from .package import package_bytes
from .plan import plan_deck

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WIDTHS = {"desktop": 900, "phone": 390}
MODES = ("light", "night")
# What Anki's reviewer adds around a card: a margin, and the body classes.
PAGE = """<!doctype html>
<html lang="ru"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>html, body {{ margin: 0; }} body {{ padding: 16px 8px 24px; min-height: 100vh;
box-sizing: border-box; }}</style>
</head><body class="{classes}"><div id="qa">{card}</div></body></html>
"""


@dataclass(frozen=True)
class CardView:
    """One side of one card as Anki renders it."""

    entry_id: str
    template: int  # 1: term → definition, 2: definition → term
    side: str  # "front" or "back"
    html: str

    def page(self, mode: str) -> str:
        night = " nightMode night_mode" if mode == "night" else ""
        return PAGE.format(classes=f"card card{self.template}{night}", card=self.html)


def pick_entries(glossary: Glossary, count: int = 3) -> list[str]:
    """A few telling entries: the richest ones (code, details, related) and the wordiest."""

    def richness(entry: Entry) -> tuple[int, ...]:
        code = sum(1 for example in entry.examples if example.is_code)
        return (min(code, 2), bool(entry.details), bool(entry.related), bool(entry.source))

    richest = sorted(glossary.entries, key=richness, reverse=True)
    wordiest = max(glossary.entries, key=lambda entry: len(entry.definition))
    chosen = [entry.id for entry in richest[: count - 1]]
    if wordiest.id not in chosen:
        chosen.append(wordiest.id)
    return chosen[:count]


def anki_views(
    glossary: Glossary, ledger: Ledger, entry_ids: Sequence[str], options: DeckOptions
) -> list[CardView]:
    """Build the deck, import it into a scratch Anki collection, render the entries' cards."""
    unknown = [entry_id for entry_id in entry_ids if entry_id not in glossary.by_id]
    if unknown:
        raise BuildError(f"no entry with id {', '.join(unknown)} in the cards")
    plan = plan_deck(glossary, ledger, options, build_time())
    views: list[CardView] = []
    with tempfile.TemporaryDirectory(prefix="konspekt-preview-") as tmp:
        apkg = Path(tmp) / "deck.apkg"
        apkg.write_bytes(package_bytes(plan))
        col = Collection(str(Path(tmp) / "collection.anki2"))
        try:
            defaults = col._backend.get_import_anki_package_presets()
            col.import_anki_package(
                ImportAnkiPackageRequest(package_path=str(apkg), options=defaults)
            )
            for entry_id in entry_ids:
                (note_id,) = col.find_notes(f'"Id:{entry_id}"')
                for card in col.get_note(note_id).cards():
                    number = card.ord + 1
                    views.append(CardView(entry_id, number, "front", card.question()))
                    views.append(CardView(entry_id, number, "back", card.answer()))
        finally:
            col.close()
    return views


def render_previews(
    glossary: Glossary,
    ledger: Ledger,
    out_dir: Path,
    *,
    options: DeckOptions,
    entry_ids: Sequence[str] = (),
    widths: dict[str, int] | None = None,
    chromium: str = CHROMIUM,
) -> list[Path]:
    """Screenshot front and back of each card, light and night, at each width.

    Returns the PNGs written (and writes an index.html showing them side by side).
    """
    # The ledger is only read: previews change nothing.
    views = anki_views(glossary, ledger, entry_ids or pick_entries(glossary), options)
    widths = widths or WIDTHS
    out_dir.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    heights: dict[str, int] = {}
    with _browser(chromium) as browser:
        for size, width in widths.items():
            page = browser.new_page(viewport={"width": width, "height": 640})
            for view in views:
                for mode in MODES:
                    name = f"{view.entry_id}-{view.template}-{view.side}-{mode}-{size}.png"
                    page.set_content(view.page(mode), wait_until="load")
                    page.screenshot(path=str(out_dir / name), full_page=True)
                    shots.append(out_dir / name)
                    # How tall the card itself is (the screenshot is at least a screen).
                    heights[name] = round(
                        page.eval_on_selector("#qa", "e => e.getBoundingClientRect().height")
                    )
            page.close()
    _write_index(out_dir, shots, heights)
    return shots


@contextmanager
def _browser(executable: str) -> Iterator[Browser]:
    """Debian's chromium through playwright."""
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except PlaywrightError as error:
            raise BuildError(f"cannot start chromium at {executable}: {error.message}") from error
        try:
            yield browser
        finally:
            browser.close()


def _write_index(out_dir: Path, shots: Sequence[Path], heights: dict[str, int]) -> None:
    """A page to look at every preview at once; heights.json has each card's height."""
    figures = "\n".join(
        f'<figure><img src="{html.escape(shot.name)}" loading="lazy">'
        f"<figcaption>{html.escape(shot.stem)}: {heights[shot.name]} px</figcaption></figure>"
        for shot in shots
    )
    (out_dir / "heights.json").write_text(json.dumps(heights, indent=1) + "\n", encoding="utf-8")
    (out_dir / "index.html").write_text(
        "<!doctype html><meta charset=utf-8><title>konspekt card previews</title>"
        "<style>body{font-family:sans-serif;display:flex;flex-wrap:wrap;gap:16px;"
        "align-items:flex-start}figure{margin:0}img{border:1px solid #ccc;max-width:460px}"
        "figcaption{font-size:12px}</style>\n" + figures + "\n",
        encoding="utf-8",
    )
