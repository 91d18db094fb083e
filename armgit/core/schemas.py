"""JSON Schemas (Draft 2020-12) of every registry file kind, generated from the models.

``schemas/*.json`` in the repository are these, written by ``python -m armgit.schemagen``; a
test keeps the committed files equal to the models.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from armgit.core.models import MODELS

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_file_name(kind: str) -> str:
    return f"{kind.lower()}.json"


def kind_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of one kind, as editors and other-language tools consume it."""
    _build_defaults(MODELS[kind])
    schema = MODELS[kind].model_json_schema(by_alias=True, mode="validation")
    return {"$schema": DIALECT, **schema}


def all_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema for every kind."""
    return {schema_file_name(kind): kind_schema(kind) for kind in MODELS}


def _build_defaults(model: type[BaseModel]) -> None:
    """Build the classes of a model's default sub-models: they are made with ``model_construct``
    so that importing the models builds no validator, and pydantic needs their serializers to
    write the defaults into the schema."""
    for info in model.model_fields.values():
        if isinstance(info.default, BaseModel):
            type(info.default).model_rebuild(force=True)
