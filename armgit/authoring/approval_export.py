"""The exact bytes an approval file signs, so stock ``ssh-keygen -Y verify`` can check it with
nothing but armgit and OpenSSH (docs/approvals.md). Pure: bytes in, bytes out."""

from __future__ import annotations

from dataclasses import dataclass

from armgit.core.content import parse_content
from armgit.core.models import Approval
from armgit.core.rules.approvals import statement_message
from armgit.errors import UsageError

NAMESPACE = "armgit-approval"


@dataclass(frozen=True, slots=True)
class ExportedStatement:
    """The signed message (RFC 8785 JSON of the statement), its armored signature, and who the
    statement says signed it (``tenant``/``approver``)."""

    message: bytes
    signature: bytes
    tenant: str
    approver: str


def export_statement(data: bytes, name: str) -> ExportedStatement:
    """The message and signature of the approval file ``data`` (named ``name`` in errors)."""
    content = parse_content(data)
    approval = content.model
    if not isinstance(approval, Approval):
        problems = "; ".join(p.message for p in content.problems) or f"kind is {content.kind}"
        raise UsageError(f"{name} is not a readable approval: {problems}")
    statement = approval.statement
    signature = approval.signature.strip("\n") + "\n"
    return ExportedStatement(
        message=statement_message(statement),
        signature=signature.encode("ascii"),
        tenant=statement.tenant,
        approver=statement.approver,
    )
