"""Approval files: any statement reads back as exactly the bytes that were signed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from armgit.authoring.approval_file import Decision, approval_path, new_statement, render_approval
from armgit.core.content import parse_content
from armgit.core.layout import version_id
from armgit.core.models import Approval
from armgit.core.rules.approvals import approval_id, statement_message
from armgit.core.rules.gates import Gate
from armgit.crypto.sshkeys import public_key_of
from armgit.crypto.sshsig import APPROVAL_NAMESPACE, sign, verify

KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
GATE = Gate(
    "VERSION_PROMOTION",
    version_id("arm-dev", "support", "2.1.0"),
    "CANDIDATE",
    "APPROVED",
    "sha256:" + "ab" * 32,
    "tenants/arm-dev/templates/support/versions/2.1.0.yaml",
    "/lifecycle",
)
NOW = datetime(2026, 2, 1, 10, 0, 0, 123456, tzinfo=UTC)
# Text: 1-4096 characters, anything a person might type (and some they might not)
TEXT = st.text(min_size=1, max_size=120)


def render(decision: Decision) -> tuple[bytes, str]:
    statement = new_statement(GATE, decision, NOW, timedelta(hours=48))
    signature = sign(statement_message(statement), KEY, APPROVAL_NAMESPACE)
    return render_approval(statement, signature), approval_path(statement)


def test_statement_fields_and_file_name() -> None:
    data, path = render(Decision(approver="bob", justification="ok"))
    model = parse_content(data).model
    assert isinstance(model, Approval)
    s = model.statement
    assert (s.created_at, s.expires_at) == ("2026-02-01T10:00:00Z", "2026-02-03T10:00:00Z")
    assert path == f"tenants/arm-dev/approvals/{approval_id(s)}.yaml"
    assert approval_id(s).startswith("20260201-bob-")
    verify(model.signature, statement_message(s), APPROVAL_NAMESPACE, [public_key_of(KEY)])


@settings(max_examples=150, deadline=None)
@given(
    justification=TEXT,
    rollback=st.none() | TEXT,
    level=st.none() | st.integers(0, 5),
    decision=st.sampled_from(["APPROVE", "REJECT"]),
)
def test_any_text_reads_back_as_signed(
    justification: str, rollback: str | None, level: int | None, decision: str
) -> None:
    data, _ = render(
        Decision(
            approver="bob",
            decision=decision,
            justification=justification,
            rollback_plan=rollback,
            escalation_level=level,
        )
    )
    model = parse_content(data).model
    assert isinstance(model, Approval)
    assert model.statement.justification == justification
    assert model.statement.rollback_plan == rollback
    assert model.statement.escalation_level == level
