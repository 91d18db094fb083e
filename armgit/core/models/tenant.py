"""Tenants, the isolation boundary: nothing refers across tenants."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, JsonValue

from armgit.core.models.base import Document, Name, Text


class Tenant(Document):
    """``tenants/<slug>/tenant.yaml``. ``policy`` names the tenant-wide policy (often a ceiling)."""

    kind: Literal["Tenant"]
    name: Text
    slug: Name
    description: Text | None = None
    policy: Name | None = None
    settings: dict[str, JsonValue] = Field(default_factory=dict)
