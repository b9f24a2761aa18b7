"""What a deck is called and how its notes are identified."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache

import genanki
import genanki.util

from ..errors import ConfigError


@dataclass(frozen=True)
class DeckOptions:
    """How to build the deck. `namespace` is the notes' identity (note GUIDs, note type
    and deck ids); it defaults to the title, so a project sets it once (konspekt.yml)
    and may then retitle its deck: never change it, or every note is new to Anki."""

    title: str
    site_url: str | None = None
    namespace: str | None = None

    def __post_init__(self) -> None:
        if not self.title.strip() or "::" in self.title:
            raise ConfigError(f"deck title {self.title!r} must be non-empty and contain no '::'")
        if not slug(self.ns):
            raise ConfigError(f"deck namespace {self.ns!r} needs at least one letter or digit")
        if self.site_url is not None:
            object.__setattr__(self, "site_url", normalize_site_url(self.site_url))

    @property
    def ns(self) -> str:
        return self.namespace if self.namespace is not None else self.title

    @cached_property  # asked for every note
    def id_root(self) -> str:
        """What every id derives from: the namespace, never the title."""
        return slug(self.ns)

    @cached_property  # asked for every note
    def tag_root(self) -> str:
        """Tags follow the title (a tag is content, not identity: renaming updates notes)."""
        return slug(self.title) or self.id_root

    @cached_property  # asked for every note
    def retired_tag(self) -> str:
        return f"{self.tag_root}::retired"


def normalize_site_url(url: str) -> str:
    """An http(s) base URL ending in '/'; it becomes part of each note's link."""
    if not re.fullmatch(r"https?://[^\s\"'<>`\\]+", url):
        raise ConfigError(f"site URL {url!r} must be an http(s) URL such as https://example.org/")
    return url if url.endswith("/") else url + "/"


def slug(text: str) -> str:
    """Lowercase words joined by '-', for tags: 'DevOps' → 'devops'."""
    words = re.findall(r"\w+", unicodedata.normalize("NFC", text).lower())
    return "-".join(words).replace("_", "-")


def stable_id(*parts: str) -> int:
    """A positive id from stable names, in genanki's recommended range [2^30, 2^31)."""
    digest = hashlib.sha256("\x1f".join(("konspekt", *parts)).encode("utf-8")).digest()
    return (1 << 30) + int.from_bytes(digest[:8], "big") % (1 << 30)


def note_guid(namespace: str, entry_id: str) -> str:
    """The note's identity: the entry id within the deck namespace, never its content."""
    key = unicodedata.normalize("NFC", f"{_slug(namespace)}/{entry_id}")
    return guid_for("konspekt", key)


_slug = lru_cache(maxsize=16)(slug)  # a deck asks it of its one namespace for every note
_BASE91 = "".join(genanki.util.BASE91_TABLE)


def guid_for(*values: str) -> str:
    """genanki.guid_for, the same text in a third of the time (a test compares them)."""
    digest = hashlib.sha256("__".join(values).encode("utf-8")).digest()
    number = int.from_bytes(digest[:8], "big")
    digits = []
    while number:
        number, digit = divmod(number, 91)
        digits.append(_BASE91[digit])
    return "".join(reversed(digits))


def notetype_id(options: DeckOptions) -> int:
    return stable_id(options.id_root, "notetype", "term")


def deck_id(options: DeckOptions, key: str | None = None) -> int:
    """Root deck for key None; a topic's subdeck for its topic id; "@retired" for retired."""
    return stable_id(options.id_root, "deck", *(() if key is None else (key,)))
