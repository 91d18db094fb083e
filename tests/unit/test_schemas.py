"""The JSON Schemas in schemas/ are the models', valid Draft 2020-12, and accept the example."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from armgit.core.models import MODELS
from armgit.core.schemas import all_schemas
from armgit.core.yamldata import YamlDoc, parse_yaml
from armgit.schemagen import render
from tests.unit.helpers import EXAMPLE

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@pytest.mark.parametrize(("name", "schema"), sorted(all_schemas().items()))
def test_committed_schema_equals_the_model(name: str, schema: object) -> None:
    committed = SCHEMAS / name
    assert committed.exists(), f"{name} missing: run python -m armgit.schemagen"
    assert committed.read_text() == render(schema), (
        f"{name} is stale: run python -m armgit.schemagen"
    )


@pytest.mark.parametrize("name", sorted(all_schemas()))
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads((SCHEMAS / name).read_text()))


@pytest.mark.parametrize(
    "path", sorted(EXAMPLE.rglob("*.yaml")), ids=lambda p: p.relative_to(EXAMPLE).as_posix()
)
def test_example_files_validate_against_their_schema(path: Path) -> None:
    doc = parse_yaml(path.read_bytes())
    assert isinstance(doc, YamlDoc)
    assert isinstance(doc.data, dict)
    kind = doc.data["kind"]
    assert isinstance(kind, str)
    assert kind in MODELS
    schema = json.loads((SCHEMAS / f"{kind.lower()}.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(doc.data)


def test_schema_refuses_what_the_model_refuses() -> None:
    schema = json.loads((SCHEMAS / "role.json").read_text())
    bad = {"apiVersion": "armgit/v1", "kind": "Role", "name": "x", "permissions": ["fly:planes"]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(bad)
