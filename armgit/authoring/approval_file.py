"""Making approvals: the statement for a gate, and the file that holds it with its signature.

Pure: the caller brings the time, the approver and the signature; reading keys, signing and
writing the file happen in :mod:`armgit.authoring.approve`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from armgit.core.content import parse_content
from armgit.core.jsondata import JsonValue
from armgit.core.layout import named_id
from armgit.core.models import Approval
from armgit.core.models.approval import Statement
from armgit.core.rules.approvals import approval_id, statement_data, statement_message
from armgit.core.rules.gates import Gate
from armgit.core.timeutil import format_time


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """What an approver says about a gate, beyond the gate itself."""

    approver: str
    decision: str = "APPROVE"  # or REJECT
    justification: str
    rollback_plan: str | None = None
    escalation_level: int | None = None
    review: dict[str, str] | None = None  # platform, reviewId, login, url, attestor
    tenant: str | None = None  # the approver's, for a subject of no tenant (the registry)


def new_statement(gate: Gate, decision: Decision, now: datetime, valid_for: timedelta) -> Statement:
    """The statement approving (or rejecting) ``gate``, created ``now`` and valid ``valid_for``.

    Optional fields are left out rather than written as null, so the file says only what was
    said (the signed message is the statement as written)."""
    change: dict[str, JsonValue] = {"type": gate.request_type}
    if gate.change_from is not None:
        change["from"] = gate.change_from
    if gate.change_to is not None:
        change["to"] = gate.change_to
    data: dict[str, JsonValue] = {
        "tenant": gate.subject.tenant or decision.tenant,
        "subject": {"kind": gate.subject.kind, "ref": gate.subject.ref},
        "change": change,
        "digest": gate.digest,
        "decision": decision.decision,
        "approver": decision.approver,
        "justification": decision.justification,
    }
    if decision.rollback_plan is not None:
        data["rollbackPlan"] = decision.rollback_plan
    if decision.escalation_level is not None:
        data["escalationLevel"] = decision.escalation_level
    created = now.replace(microsecond=0)
    data["createdAt"] = format_time(created)
    data["expiresAt"] = format_time(created + valid_for)
    if decision.review is not None:
        data["review"] = dict(decision.review)
    return Statement.model_validate(data)


def approval_path(statement: Statement) -> str:
    """Where the approval lives, relative to the registry root."""
    return named_id("Approval", statement.tenant, approval_id(statement)).path


def render_approval(statement: Statement, signature: str) -> bytes:
    """The approval file: YAML whose ``statement`` reads back as exactly what was signed.

    Raises ``ValueError`` if it would not (a bug, never the user's data)."""
    lines = [
        "# A signed approval (docs/approvals.md). Written once, never edited: to withdraw it,",
        "# add a REJECT. Verify with ssh-keygen -Y verify -n armgit-approval over the RFC 8785",
        "# canonical JSON of `statement`.",
        "apiVersion: armgit/v1",
        "kind: Approval",
        "statement:",
        *_block(statement_data(statement), 1),
        "signature: |",
        *(f"  {line}" for line in signature.strip("\n").split("\n")),
    ]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    content = parse_content(data)
    model = content.model
    if not isinstance(model, Approval) or statement_message(model.statement) != statement_message(
        statement
    ):
        problems = "; ".join(p.message for p in content.problems) or "the statement differs"
        raise ValueError(f"the approval file would not read back as signed: {problems}")
    return data


def _block(value: JsonValue, depth: int) -> list[str]:
    indent = "  " * depth
    assert isinstance(value, dict)
    lines = []
    for key, item in value.items():
        if isinstance(item, dict):
            lines.append(f"{indent}{key}:")
            lines += _block(item, depth + 1)
        else:
            # JSON scalars are YAML scalars; strings always quoted, so times stay strings
            lines.append(f"{indent}{key}: {_scalar(item)}")
    return lines


# characters YAML does not allow unescaped in a double-quoted scalar (outside c-printable) and
# the line breaks YAML knows beyond JSON's (NEL, LS, PS)
_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")


_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_./@-]*$")
_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _scalar(value: JsonValue) -> str:
    """A JSON scalar as a YAML scalar: names plain, other strings double-quoted (so times and
    digests stay strings)."""
    if isinstance(value, str) and _PLAIN.match(value) and value.lower() not in _WORDS:
        return value
    text = json.dumps(value, ensure_ascii=False)
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
