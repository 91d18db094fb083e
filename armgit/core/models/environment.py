"""Environments: where versions are deployed, and how guarded that is."""

from __future__ import annotations

from typing import Literal

from armgit.core.models.base import Bool, Count, Document, Lifecycle, Name, Text


class Environment(Document):
    """``tenants/<t>/environments/<name>.yaml``.

    ``minLifecycle`` is the least mature lifecycle state deployable here (``APPROVED`` for prod).
    """

    kind: Literal["Environment"]
    name: Name
    tenant: Name | None = None
    type: Name = "dev"
    description: Text | None = None
    protected: Bool = False
    required_approvals: Count = 0
    require_active_deployment: Bool = False
    min_lifecycle: Lifecycle = "DRAFT"
    policy: Name | None = None
