"""The JSON Schema editors use is generated from the model and must be committed fresh."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from conftest import ROOT
from konspekt.load import card_files
from konspekt.schema import schema_json

SCHEMA_FILE = ROOT / "schema" / "cards.schema.json"
SCHEMA_LINE = "# yaml-language-server: $schema=../schema/cards.schema.json"


def test_committed_schema_is_fresh() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_json(), (
        "schema/cards.schema.json is stale: run `python build.py schema` and commit it"
    )


@pytest.mark.parametrize("path", card_files(ROOT / "cards"), ids=lambda p: p.name)
def test_every_card_file_points_editors_at_the_schema(path) -> None:
    assert path.read_text(encoding="utf-8").splitlines()[0] == SCHEMA_LINE


@pytest.mark.parametrize("path", card_files(ROOT / "cards"), ids=lambda p: p.name)
def test_real_cards_validate_against_the_schema(path) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)


def test_schema_rejects_what_check_rejects() -> None:
    schema = json.loads(schema_json())
    bad = {"topic": "x", "title": "X", "entries": [{"id": "Bad", "term": "T", "definition": "D"}]}
    with pytest.raises(jsonschema.ValidationError, match="does not match"):
        jsonschema.validate(bad, schema)
    typo = {"topic": "x", "title": "X", "entries": [{"id": "a", "term": "T", "defintion": "D"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(typo, schema)
