#!/usr/bin/env python3
"""Thin entry point: `python build.py check|deck|site|serve|link|schema` (same as `konspekt`)."""

import gc
import importlib.util
import sys
from pathlib import Path

# Importing konspekt makes objects kept for the whole run (modules, classes, functions):
# the cycle collector would only scan them again and again (≈ 70 collections).
gc.disable()

# Run from a checkout without installing: the package lives in src/.
sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

# Outside the virtual environment (or with too old a Python) the dependencies are
# missing: say what to run instead of a traceback.
REQUIRED = ("click", "yaml", "genanki", "mkdocs", "material", "pymdownx", "markdown", "nh3")
missing = [name for name in REQUIRED if importlib.util.find_spec(name) is None]
if sys.version_info < (3, 11) or missing:
    why = f"{', '.join(missing)} not installed" if missing else "konspekt needs Python 3.11+"
    sys.stderr.write(
        f"error: {why} for {sys.executable}: run `make` once (it creates .venv with "
        "everything konspekt needs), then `.venv/bin/python build.py "
        + " ".join(sys.argv[1:])
        + "`, or `make check`, `make deck`, `make site`\n"
    )
    sys.exit(1)

from konspekt.cli import main  # noqa: E402

gc.freeze()  # (filed as permanent: later collections do not scan them either)
gc.enable()

if __name__ == "__main__":
    main()
