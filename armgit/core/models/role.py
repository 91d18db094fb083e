"""Roles: named sets of ``action:resource`` permissions."""

from __future__ import annotations

from typing import Literal

from armgit.core.models.base import Document, Name, Text
from armgit.core.models.registry import Permission


class Role(Document):
    """``tenants/<t>/roles/<name>.yaml``."""

    kind: Literal["Role"]
    name: Name
    tenant: Name | None = None
    description: Text | None = None
    permissions: tuple[Permission, ...]
