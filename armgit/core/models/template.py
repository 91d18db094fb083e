"""Templates: families of agent versions."""

from __future__ import annotations

from typing import Literal

from armgit.core.models.base import Document, Name, Tag, Text


class Template(Document):
    """``tenants/<t>/templates/<name>/template.yaml``."""

    kind: Literal["Template"]
    name: Name
    tenant: Name | None = None
    display_name: Text | None = None
    description: Text | None = None
    owners: tuple[Name, ...] = ()
    tags: tuple[Tag, ...] = ()
    policy: Name | None = None
