"""Instances: running agents, bound to a version, an environment and a provider."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from armgit.core.models.base import Document, Model, Name, Text
from armgit.core.patterns import VERSION_REF_PATTERN, described

InstanceState = Literal[
    "PROVISIONING", "ACTIVE", "PAUSED", "READONLY", "DRAINING", "QUARANTINED", "RETIRED"
]
VersionRef = Annotated[
    str, StringConstraints(strict=True, pattern=VERSION_REF_PATTERN, max_length=256)
]
SecretRef = Annotated[
    str,
    StringConstraints(
        strict=True,
        pattern=described(
            r"^[a-z][a-z0-9+.-]*://\S+$",
            "a secret reference such as vault://path/to/secret (never the secret itself)",
        ),
        max_length=1024,
    ),
]


class InstanceIdentity(Model):
    """The principal the instance acts as at its provider."""

    principal: Text


class Instance(Document):
    """``tenants/<t>/instances/<name>.yaml``. ``secretRef`` is a reference (``vault://...``),
    never a secret."""

    kind: Literal["Instance"]
    name: Name
    tenant: Name | None = None
    version: VersionRef
    environment: Name
    provider: Name
    state: InstanceState = "PROVISIONING"
    description: Text | None = None
    identity: InstanceIdentity | None = None
    secret_ref: SecretRef | None = None
    policy: Name | None = None
    legacy_agent_id: Text | None = None
