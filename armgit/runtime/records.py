"""What the decision log records of one decision (SPEC 12): its type after the seed's, the
outcome of an approval, and the call. Pure."""

from __future__ import annotations

from typing import Any, NamedTuple

from armgit.core.index.decide import ALLOW, NEEDS_APPROVAL, Decision
from armgit.runtime.actions import format_time
from armgit.runtime.decisions import (
    APPROVAL_DECIDED,
    APPROVAL_REQUESTED,
    POLICY_DENIED,
    TOOL_CALL_ALLOWED,
    TOOL_CALL_BLOCKED,
)
from armgit.runtime.verify import VerifiedIndex


class Call(NamedTuple):
    """One tool call as evaluate() was given it."""

    tenant: str
    environment: str
    template: str | None
    instance: str | None
    tool: str
    args_digest: str | None = None


def record_of(
    index: VerifiedIndex | None,
    decision: Decision,
    call: Call,
    now: float,
    outcome: str | None = None,
) -> dict[str, Any]:
    """The log record of one decision."""
    request = decision.request
    if outcome is None:
        outcome = _outcome(decision)
    return {
        "type": _record_type(decision, outcome),
        "time": format_time(now),
        "indexVersion": index.version if index is not None else None,
        "indexDigest": index.digest if index is not None else None,
        "tenant": call.tenant,
        "environment": call.environment,
        "template": call.template,
        "instance": call.instance,
        "tool": call.tool,
        "risk": decision.risk,
        "decision": decision.decision,
        "outcome": outcome,
        "reasons": list(decision.reasons),
        "policyDigest": decision.policy_digest,
        "requestId": request.get("requestId") if request is not None else None,
        "argsDigest": call.args_digest,
        "approvals": list(decision.approvers),
    }


def _outcome(decision: Decision) -> str | None:
    if decision.request is None or decision.decision == NEEDS_APPROVAL:
        return None
    if decision.decision == ALLOW:
        return "approved"
    if decision.approvers:
        return "rejected"
    if any("expired" in r for r in decision.reasons):
        return "expired"
    return "refused"


def _record_type(decision: Decision, outcome: str | None) -> str:
    if outcome in ("approved", "rejected"):
        return APPROVAL_DECIDED
    if outcome is not None:
        return TOOL_CALL_BLOCKED
    if decision.decision == NEEDS_APPROVAL:
        return APPROVAL_REQUESTED
    if decision.decision == ALLOW:
        return TOOL_CALL_ALLOWED
    return POLICY_DENIED
