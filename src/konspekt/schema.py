"""The JSON Schemas of card files and of the project file, generated from the models so
they cannot drift from them.

Editors with the YAML language server read it (`# yaml-language-server: $schema=…`
at the top of every card file) to validate and complete fields as people type.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import MISSING, fields, is_dataclass
from typing import Any, get_args, get_origin

from .model import Entry, Example, Topic
from .projectfile import ProjectFile


def card_schema() -> dict[str, Any]:
    """The schema of one card file (a Topic)."""
    schema = _object_schema(Topic)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "konspekt card file",
        **schema,
        "$defs": {"Entry": _item_schema(Entry), "Example": _item_schema(Example)},
    }
    return schema


def schema_json() -> str:
    """The schema as the committed file holds it: stable key order, trailing newline."""
    return json.dumps(card_schema(), ensure_ascii=False, indent=2) + "\n"


def project_schema() -> dict[str, Any]:
    """The schema of a project file (konspekt.yml)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "konspekt project file",
        **_object_schema(ProjectFile),
    }


def project_schema_json() -> str:
    return json.dumps(project_schema(), ensure_ascii=False, indent=2) + "\n"


# Every schema konspekt writes, by file name in schema/.
SCHEMAS = {"cards.schema.json": schema_json, "konspekt.schema.json": project_schema_json}


def _object_schema(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for f in fields(cls):
        if f.metadata.get("internal"):
            continue
        prop = _type_schema(hints[f.name], f.metadata)
        prop["description"] = f.metadata["doc"]
        properties[f.name] = prop
        if f.default is MISSING and f.default_factory is MISSING:
            required.append(f.name)
    return {
        "description": (cls.__doc__ or "").strip(),
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _item_schema(cls: type) -> dict[str, Any]:
    """A list item class, with the model's rules on how it may be written: a bare
    string for its SHORTHAND field, exactly one of its ONE_OF fields."""
    schema = _object_schema(cls)
    one_of: tuple[str, ...] = getattr(cls, "ONE_OF", ())
    if one_of:
        schema["oneOf"] = [{"required": [name]} for name in one_of]
    if not getattr(cls, "SHORTHAND", None):
        return schema
    return {
        "description": schema["description"],
        "oneOf": [{"type": "string", "minLength": 1, "pattern": r"\S"}, schema],
    }


def _type_schema(hint: object, meta: typing.Mapping[str, Any]) -> dict[str, Any]:
    if get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(a for a in get_args(hint) if a is not type(None))
    if get_origin(hint) is tuple:
        item = get_args(hint)[0]
        if isinstance(item, type) and is_dataclass(item):
            return {"type": "array", "items": {"$ref": f"#/$defs/{item.__name__}"}}
        return {"type": "array", "items": _type_schema(item, meta)}
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    schema: dict[str, Any] = {"type": "string", "minLength": 1}
    schema["pattern"] = meta.get("pattern") or r"\S"
    return schema
