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


# The fields that decide how guarded an environment is: read from the base of a push (SPEC 4a),
# so a change cannot lower the gate it must pass through.
GATE_SETTINGS = ("protected", "required_approvals", "require_active_deployment", "min_lifecycle")


def with_gate_settings(environment: Environment, base: Environment) -> Environment:
    """``environment`` with its gate settings as ``base`` has them (the branch before the
    change); the rest as written. The new settings take effect for the changes after it."""
    update = {name: getattr(base, name) for name in GATE_SETTINGS}
    if all(getattr(environment, name) == value for name, value in update.items()):
        return environment
    return environment.model_copy(update=update)
