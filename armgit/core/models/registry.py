"""``armgit.yaml``: the registry's own settings, approval rules and roots of trust."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from armgit.core.models.base import (
    Digest,
    Document,
    Duration,
    Model,
    Name,
    PositiveCount,
    RequestType,
    Text,
)
from armgit.core.patterns import described

Permission = Annotated[
    str,
    StringConstraints(
        strict=True,
        pattern=described(
            r"^(?:\*|read|write|transition|approve|deploy|assign|admin):"
            r"(?:\*|registry|tenants|environments|providers|operators|roles|policies|templates"
            r"|versions|instances|deployments|approvals|actions)$",
            "a permission ACTION:RESOURCE such as write:versions (actions: read, write, "
            "transition, approve, deploy, assign, admin, *; resources: the kinds in plural, "
            "actions (approve:actions: approving one tool call at runtime), *)",
        ),
    ),
]
PublicKey = Annotated[
    str,
    StringConstraints(
        strict=True,
        pattern=described(
            r"^(?:ssh-ed25519|ecdsa-sha2-nistp(?:256|384|521)|ssh-rsa)"
            r" [A-Za-z0-9+/]+={0,2}(?: .*)?$",
            "an OpenSSH public key line (the content of a .pub file)",
        ),
        max_length=16384,
    ),
]
AdminRef = Annotated[
    str,
    StringConstraints(
        strict=True,
        pattern=described(
            r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?/[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$",
            "an operator reference TENANT/OPERATOR such as arm-dev/ops",
        ),
        max_length=127,
    ),
]
EnvVar = Annotated[
    str,
    StringConstraints(
        strict=True, pattern=described(r"^[A-Z_][A-Z0-9_]*$", "an environment variable name")
    ),
]

DEFAULT_IDENTITY_ENV = (
    "ARMGIT_PUSHER",
    "GL_USERNAME",
    "GITHUB_USER_LOGIN",
    "GITEA_PUSHER_NAME",
    "REMOTE_USER",
)


class ApprovalRule(Model):
    """How many approvals a request type needs, from whom, and how long they stay valid.

    The most specific rule wins: one naming tenant and environment, then tenant, then neither.
    """

    request_type: RequestType
    count: PositiveCount = 1
    permission: Permission
    expires_in: Duration
    tenant: Name | None = None
    environment: Name | None = None


class TrustedKey(Model):
    """A named Ed25519/ECDSA/RSA public key in OpenSSH format."""

    name: Name
    public_key: PublicKey


class IndexSigners(Model):
    """The keys that may sign the compiled index, and how many signatures it needs."""

    threshold: Annotated[int, Field(strict=True, ge=1)] = 1
    keys: tuple[TrustedKey, ...] = ()


def _default_rules() -> tuple[ApprovalRule, ...]:
    # model_validate with the file's (camelCase) names: the models accept no Python names
    return tuple(
        ApprovalRule.model_validate(
            {"requestType": request_type, "permission": permission, "expiresIn": expires_in}
        )
        for request_type, permission, expires_in in (
            ("VERSION_PROMOTION", "approve:versions", "48h"),
            ("DEPLOYMENT_ACTIVATION", "approve:deployments", "48h"),
            ("INSTANCE_REACTIVATION", "approve:instances", "12h"),
            ("POLICY_AUTONOMY_INCREASE", "approve:policies", "72h"),
            ("PRIVILEGE_WIDENING", "approve:versions", "48h"),
            ("REGISTRY_TRUST_CHANGE", "admin:registry", "48h"),
        )
    )


class ImportGrant(Model):
    """An import the protected branches accept with what ARM never enforced as notices: the
    mark its commits carry (``source``, ``export`` digest) and the registry admin who lands it
    (TENANT/OPERATOR). Read at the base of a push, like every trust setting (docs/import.md)."""

    source: Text
    export: Digest
    operator: AdminRef


class Registry(Document):
    """The registry configuration (``armgit.yaml`` at the repository root)."""

    kind: Literal["Registry"]
    name: Name
    description: Text | None = None
    protected_branches: tuple[Text, ...] = ("main",)
    identity_env: tuple[EnvVar, ...] = DEFAULT_IDENTITY_ENV
    approval_rules: tuple[ApprovalRule, ...] = Field(default_factory=_default_rules)
    # a default built without validation: importing the models builds no validator
    index_signers: IndexSigners = IndexSigners.model_construct()
    attestors: tuple[TrustedKey, ...] = ()
    # the only holders of admin:registry (TENANT/OPERATOR, read at the branch before a change)
    registry_admins: tuple[AdminRef, ...] = ()
    # imports whose landing the hook accepts (armgit.enforce.imported.landed_import)
    imports: tuple[ImportGrant, ...] = ()
