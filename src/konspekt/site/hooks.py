"""MkDocs hook added by `konspekt serve` only: regenerate pages from the cards before a build.

`mkdocs serve` watches the cards folder (konspekt adds it to `watch`); when a card
file changes it rebuilds, and this hook first rewrites the generated pages. Pages
are written only when their text changed, so the rebuild that the rewritten pages
trigger in turn finds nothing to write and the loop settles. Card errors stop the
rebuild with the usual `file:line:col: error:` lines; the server waits for a fix.
"""

from __future__ import annotations

from typing import Any

from mkdocs.exceptions import PluginError

from konspekt.errors import KonspektError
from konspekt.site import build as site


def on_pre_build(config: Any, **kwargs: Any) -> None:
    try:
        site.regenerate_for_serve()
    except KonspektError as error:
        raise PluginError(str(error)) from error
