"""The JSON Schema of card files, generated from the model so it cannot drift from it.

Editors with the YAML language server read it (`# yaml-language-server: $schema=…`
at the top of every card file) to validate and complete fields as people type.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import MISSING, fields
from typing import Any, get_args, get_origin

from .model import Entry, Example, Topic


def card_schema() -> dict[str, Any]:
    """The schema of one card file (a Topic)."""
    schema = _object_schema(Topic)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "konspekt card file",
        **schema,
        "$defs": {"Entry": _object_schema(Entry), "Example": _example_schema()},
    }
    return schema


def schema_json() -> str:
    """The schema as the committed file holds it: stable key order, trailing newline."""
    return json.dumps(card_schema(), ensure_ascii=False, indent=2) + "\n"


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


def _example_schema() -> dict[str, Any]:
    code = _object_schema(Example)
    code["anyOf"] = [{"required": ["code"]}, {"required": ["text"]}]
    return {
        "description": (Example.__doc__ or "").strip(),
        "oneOf": [{"type": "string", "minLength": 1, "pattern": r"\S"}, code],
    }


def _type_schema(hint: Any, meta: typing.Mapping[str, Any]) -> dict[str, Any]:
    if get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(a for a in get_args(hint) if a is not type(None))
    if get_origin(hint) is tuple:
        item = get_args(hint)[0]
        if item is Entry or item is Example:
            return {"type": "array", "items": {"$ref": f"#/$defs/{item.__name__}"}}
        return {"type": "array", "items": _type_schema(item, meta)}
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    schema: dict[str, Any] = {"type": "string", "minLength": 1}
    schema["pattern"] = meta.get("pattern") or r"\S"
    return schema
