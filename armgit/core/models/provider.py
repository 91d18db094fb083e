"""Providers: where instances run."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, JsonValue, model_validator

from armgit.core.models.base import Document, Name, Text, Url


class Provider(Document):
    """``tenants/<t>/providers/<name>.yaml``; a ``federated`` provider needs its ``federation``."""

    kind: Literal["Provider"]
    name: Name
    tenant: Name | None = None
    type: Literal["local", "federated"]
    description: Text | None = None
    federation: dict[str, JsonValue] | None = None
    health_endpoint: Url | None = None
    metadata: dict[str, JsonValue] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _federation_config(self) -> Provider:
        if self.type == "federated" and not self.federation:
            raise ValueError("a federated provider needs its federation config")
        return self
