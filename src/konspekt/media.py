"""Images in card text: found, checked against the cards folder, renamed for each output.

Card text may show images with inline Markdown, `![alt](media/pod.png)`, where the path
is relative to the cards folder. An image is a file the build copies into the deck and
the site, so it must be a real raster image *inside* the cards folder: a URL would make
Anki and the site fetch it from elsewhere, a path out of the folder would publish any
file the builder can read, and an SVG can carry script.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from .errors import Pos, Problem
from .markdown_safe import URL_SCHEME
from .model import Entry

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")

_INLINE_IMAGE = re.compile(r"!\[(?:[^\]\\\n]|\\.)*\]\(\s*(<[^>\n]*>|[^\s)]+)")
_REFERENCE_IMAGE = re.compile(r"!\[(?:[^\]\\\n]|\\.)*\]\[")


def image_paths(text: str) -> list[str]:
    """The destinations of the inline images in Markdown `text`, as written."""
    if "![" not in text:  # (a quicker no than the pattern's)
        return []
    return [match.group(1).strip("<>") for match in _INLINE_IMAGE.finditer(text)]


def rewrite_images(text: str, new_path: Callable[[str], str]) -> str:
    """`text` with every inline image's destination replaced by `new_path(destination)`."""

    def replace(match: re.Match[str]) -> str:
        start, end = match.span(1)
        whole_start = match.start()
        inner = new_path(match.group(1).strip("<>"))
        return match.group(0)[: start - whole_start] + inner + match.group(0)[end - whole_start :]

    return _INLINE_IMAGE.sub(replace, text)


def anki_name(path: str) -> str:
    """Anki keeps media in one flat folder shared by every deck: a prefixed, flat name."""
    return "konspekt-" + path.replace("/", "-")


def check_media(entries: list[Entry], cards_dir: Path) -> tuple[dict[str, Path], list[Problem]]:
    """Every image the entries show, as {path relative to the cards folder: file}."""
    root = cards_dir.resolve()
    found: dict[str, Path] = {}
    problems: list[Problem] = []
    for entry in entries:
        for name, text in entry.card_texts():
            if "![" not in text:  # both kinds of image begin so; most texts have none
                continue
            pos = entry.pos_of(name)
            if _REFERENCE_IMAGE.search(text):
                problems.append(
                    Problem(
                        pos,
                        f"'{name}' of '{entry.id}' has a reference-style image",
                        "write images inline: ![description](media/file.png)",
                    )
                )
            for written in image_paths(text):
                problem = _check_one(
                    written, root, pos, f"image '{written}' in '{name}' of '{entry.id}'"
                )
                if problem:
                    problems.append(problem)
                else:
                    found[PurePosixPath(written).as_posix()] = root / written
    return found, problems


def _check_one(written: str, root: Path, pos: Pos, what: str) -> Problem | None:
    inside = "keep images in the cards folder, e.g. cards/media/, and write media/<file>"
    if URL_SCHEME.match(written) or written.startswith(("/", "\\", "//")) or "\\" in written:
        return Problem(pos, f"{what} is not a file in the cards folder", inside)
    target = (root / written).resolve()
    if not target.is_relative_to(root):
        return Problem(pos, f"{what} leads outside the cards folder", inside)
    if PurePosixPath(written).suffix.lower() not in IMAGE_SUFFIXES:
        return Problem(
            pos,
            f"{what} is not a PNG, JPEG, GIF or WebP image",
            "convert it; SVG is refused because it can carry script",
        )
    if not target.is_file():
        return Problem(
            pos, f"{what} does not exist", "check the path, relative to the cards folder"
        )
    return None
