#!/usr/bin/env python3
"""Thin entry point: `python build.py check|deck|site|serve|link|schema` (same as `konspekt`)."""

import sys
from pathlib import Path

# Run from a checkout without installing: the package lives in src/.
sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from konspekt.cli import main

if __name__ == "__main__":
    main()
