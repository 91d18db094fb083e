"""Operators: the people (and bots) who change the registry, their identities, keys and roles."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from armgit.core.models.base import Bool, Document, Email, Model, Name, Text, Timestamp
from armgit.core.models.registry import PublicKey
from armgit.core.patterns import IDENTITY_MAX, IDENTITY_PATTERN

Identity = Annotated[
    str,
    StringConstraints(
        strict=True,
        pattern=IDENTITY_PATTERN,
        max_length=IDENTITY_MAX,
    ),
]


class RoleAssignment(Model):
    """A role held by an operator, optionally until ``expiresAt``."""

    role: Name
    expires_at: Timestamp | None = None


class Operator(Document):
    """``tenants/<t>/operators/<name>.yaml``.

    ``identities`` map hosting accounts to this operator (``github:alice``, ``email:a@x.io``);
    ``sshKeys`` verify the operator's approvals and signed commits.
    """

    kind: Literal["Operator"]
    name: Name
    tenant: Name | None = None
    display_name: Text | None = None
    email: Email
    identities: tuple[Identity, ...] = ()
    ssh_keys: tuple[PublicKey, ...] = ()
    roles: tuple[RoleAssignment, ...] = ()
    disabled: Bool = False
