"""`make preview`: PNGs of real Anki-rendered cards, for a person to look at."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from konspekt import load_glossary
from konspekt.deck import DeckOptions
from konspekt.deck.ledger import read_ledger
from konspekt.deck.preview import render_previews

FIXTURE = Path(__file__).parent / "fixtures" / "deck"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.browser
def test_preview_renders_front_and_back_light_and_night(tmp_path: Path) -> None:
    out = tmp_path / "preview"
    shots = render_previews(
        load_glossary(FIXTURE),
        read_ledger(FIXTURE / "anki.lock")[0],
        out,
        entry_ids=["pod"],
        options=DeckOptions(title="DevOps", site_url="https://example.org/"),
    )

    assert sorted(shot.name for shot in shots) == sorted(
        f"pod-{template}-{side}-{mode}-{size}.png"
        for template in (1, 2)
        for side in ("front", "back")
        for mode in ("light", "night")
        for size in ("desktop", "phone")
    )
    for shot in shots:
        width, height = png_size(shot)
        assert width == (390 if shot.stem.endswith("phone") else 900)
        assert height >= 200
    # The back adds the answer to the front; the rest is folded, so it stays short.
    heights = json.loads((out / "heights.json").read_text(encoding="utf-8"))
    assert heights["pod-1-front-light-phone.png"] < heights["pod-1-back-light-phone.png"] < 640
    # Night and light differ (the night-mode CSS applies).
    assert (out / "pod-1-back-night-desktop.png").read_bytes() != (
        out / "pod-1-back-light-desktop.png"
    ).read_bytes()
    assert (out / "index.html").read_text(encoding="utf-8").count("<img") == 16
    assert not (FIXTURE / "anki.lock").exists()  # previews never write the ledger
