"""Approvals: signed, immutable statements that a change may go ahead (SPEC section 5)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from armgit.core.models.base import Digest, Document, Model, Name, RequestType, Text, Timestamp
from armgit.core.patterns import described

ArmoredSignature = Annotated[
    str,
    StringConstraints(
        strict=True,
        pattern=described(
            r"^-----BEGIN SSH SIGNATURE-----\n[A-Za-z0-9+/=\n]+-----END SSH SIGNATURE-----\n?$",
            "an armored SSH signature (what ssh-keygen -Y sign writes)",
        ),
        max_length=65536,
    ),
]


class Subject(Model):
    """What the approval is about: an entity kind and its reference."""

    kind: Literal["Version", "Deployment", "Instance", "Policy", "Registry"]
    ref: Text


class Change(Model):
    """The change approved: a request type and, where it has them, the before and after."""

    type: RequestType
    from_: Text | None = Field(default=None, alias="from")
    to: Text | None = None


class ReviewAttestation(Model):
    """Set when a bot attests an approving review on the hosting platform."""

    platform: Text
    review_id: Text
    login: Text
    user_id: Text | None = None  # the platform's numeric account id, as the API gave it
    url: Text | None = None
    attestor: Name


class Statement(Model):
    """The signed content; the message signed is its RFC 8785 canonical JSON."""

    tenant: Name
    subject: Subject
    change: Change
    digest: Digest
    decision: Literal["APPROVE", "REJECT"]
    approver: Name
    justification: Text
    rollback_plan: Text | None = None
    escalation_level: Annotated[int, Field(strict=True, ge=0, le=5)] | None = None
    created_at: Timestamp
    expires_at: Timestamp
    review: ReviewAttestation | None = None


class Approval(Document):
    """``tenants/<t>/approvals/<id>.yaml``: a statement and its armored SSHSIG signature
    (namespace ``armgit-approval``), checkable with stock ``ssh-keygen -Y verify``."""

    kind: Literal["Approval"]
    statement: Statement
    signature: ArmoredSignature
