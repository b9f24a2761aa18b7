"""Read mkdocs.yml without running it: the deck and the site need a few of its settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError


class _TolerantLoader(yaml.SafeLoader):
    """`!!python/name:` and `!ENV` tags become None instead of running or failing."""


_TolerantLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *_: None)
_TolerantLoader.add_multi_constructor("!", lambda *_: None)


def read_mkdocs_yml(path: Path) -> dict[str, Any]:
    """The settings of an mkdocs.yml; FileNotFoundError if there is none, else ConfigError."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_TolerantLoader)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings")
    return data
