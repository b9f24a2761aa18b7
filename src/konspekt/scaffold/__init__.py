"""`konspekt init`: a new project from the files in scaffold/files/.

Names starting with "dot-" become dotfiles (package data skips hidden files); files
ending in ".tmpl" are string.Template texts filled with the project's title, name,
namespace and deck file. The site's hand-written parts (mkdocs.yml, the CSS, the 404
page) and the CI files are the ones this repository uses; a test keeps them equal.
"""

from __future__ import annotations

import json
import string
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from ..deck.options import slug
from ..errors import ConfigError
from ..output import write_file
from ..projectfile import new_namespace
from ..schema import SCHEMAS

# «ь» and «ъ» are dropped; the rest as in passports, ASCII only.
_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "j",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "_",
            "y",
            "_",
            "e",
            "yu",
            "ya",
        ],
        strict=True,
    )
)


def deck_file_name(title: str) -> str:
    """An ASCII file name for the deck: «Компьютерные сети» → kompyuternye-seti.apkg."""
    latin = "".join(_TRANSLIT.get(c, c) for c in slug(title)).replace("_", "")
    words = "".join(c if c.isascii() and c.isalnum() else "-" for c in latin).split("-")
    name = "-".join(w for w in words if w)
    return f"{name or 'deck'}.apkg"


def project_files(title: str, namespace: str | None = None) -> dict[str, bytes]:
    """Every file of a new project titled `title`, by path relative to its folder."""
    values = {
        "title": json.dumps(title, ensure_ascii=False),  # a YAML string, quoted
        "name": title,
        "namespace": namespace or new_namespace(slug(title)),
        "deck_file": deck_file_name(title),
    }
    out: dict[str, bytes] = {}

    def walk(folder: Traversable, prefix: str) -> None:
        for item in folder.iterdir():
            name = "." + item.name[4:] if item.name.startswith("dot-") else item.name
            if item.is_dir():
                walk(item, f"{prefix}{name}/")
            elif name.endswith(".tmpl"):
                text = string.Template(item.read_text(encoding="utf-8"))
                out[prefix + name.removesuffix(".tmpl")] = text.safe_substitute(values).encode()
            elif not name.endswith((".pyc", ".py")):
                out[prefix + name] = item.read_bytes()

    walk(files(__name__).joinpath("files"), "")
    for name, text in SCHEMAS.items():
        out[f"schema/{name}"] = text().encode("utf-8")
    return dict(sorted(out.items()))


def init_project(target: Path, title: str) -> list[Path]:
    """Write a new project into `target` (created if needed); nothing is overwritten."""
    if not title.strip() or "::" in title:
        raise ConfigError(f"title {title!r} must be non-empty and contain no '::'")
    planned = project_files(title)
    existing = [name for name in planned if (target / name).exists()]
    if existing:
        raise ConfigError(
            f"{target} already has {', '.join(existing[:3])}"
            f"{' …' if len(existing) > 3 else ''}: init writes a new project only "
            "into an empty folder or a new one"
        )
    written = []
    for name, data in planned.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file(path, data)
        written.append(path)
    return written
