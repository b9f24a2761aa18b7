"""konspekt: study notes as YAML cards in, an Anki deck and a reference site out."""

from .errors import BuildError, CardsError, KonspektError, Pos, Problem
from .load import load_glossary
from .model import Entry, Example, Glossary, Topic

__all__ = [
    "BuildError",
    "CardsError",
    "Entry",
    "Example",
    "Glossary",
    "KonspektError",
    "Pos",
    "Problem",
    "Topic",
    "load_glossary",
]
__version__ = "0.1.0"
