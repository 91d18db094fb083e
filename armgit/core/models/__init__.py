"""One model per registry kind. ``MODELS`` maps each ``kind`` to its model class."""

from __future__ import annotations

from armgit.core.models.approval import Approval
from armgit.core.models.base import Document
from armgit.core.models.deployment import Deployment
from armgit.core.models.environment import Environment
from armgit.core.models.instance import Instance
from armgit.core.models.operator import Operator
from armgit.core.models.policy import Policy
from armgit.core.models.provider import Provider
from armgit.core.models.registry import Registry
from armgit.core.models.role import Role
from armgit.core.models.template import Template
from armgit.core.models.tenant import Tenant
from armgit.core.models.version import Version

MODELS: dict[str, type[Document]] = {
    "Registry": Registry,
    "Tenant": Tenant,
    "Environment": Environment,
    "Provider": Provider,
    "Operator": Operator,
    "Role": Role,
    "Policy": Policy,
    "Template": Template,
    "Version": Version,
    "Instance": Instance,
    "Deployment": Deployment,
    "Approval": Approval,
}

__all__ = [
    "MODELS",
    "Approval",
    "Deployment",
    "Document",
    "Environment",
    "Instance",
    "Operator",
    "Policy",
    "Provider",
    "Registry",
    "Role",
    "Template",
    "Tenant",
    "Version",
]
