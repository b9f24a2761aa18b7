"""The Anki deck: note type, note content, planning, the ledger, packaging, the field cache.

The flat API: `build_deck(glossary, out, ledger_path=…, options=DeckOptions(…))`.
"""

from .build import DeckReport, build_deck, build_time, ledger_is_current, stale_message
from .options import DeckOptions

__all__ = [
    "DeckOptions",
    "DeckReport",
    "build_deck",
    "build_time",
    "ledger_is_current",
    "stale_message",
]
