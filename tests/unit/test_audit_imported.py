"""The pure part of imported records: what an import commit's message claims."""

from __future__ import annotations

import json

from armgit.audit.derivation import CommitFacts
from armgit.audit.imported import imported_records, message_records
from armgit.core.record_types import is_record_type

TRAILERS = (
    "Armgit-Import: arm-prod\nArmgit-Import-Export: sha256:"
    + "0" * 64
    + "\nArmgit-Import-Commit: 1/1"
)
FACTS = CommitFacts("c" * 40, "2026-01-20T10:12:00Z", "ops@arm-dev.com", genesis=False)


def record(kind: str, tenant: str = "arm-dev", **more: object) -> str:
    data = {
        "id": "k1",
        "type": kind,
        "targetEntity": "operator",
        "targetId": "jd7",
        "target": "tenants/arm-dev/operators/sam-lee.yaml",
        "tenant": tenant,
        "operator": "arm-ops",
        "time": "2026-01-20T10:12:00.250Z",
        "payload": {"roleId": "kd7"},
        **more,
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def message(*lines: str) -> str:
    return "ARM: ...\n\n" + "\n".join(lines) + "\n\n" + TRAILERS + "\n"


def test_only_types_armgit_does_not_derive_and_only_the_allowed_tenants() -> None:
    text = message(
        record("ROLE_ASSIGNED"),
        record("TEMPLATE_CREATED"),  # armgit derives it from the files
        record("APPROVAL_REQUESTED", "other"),  # a tenant the commit may not speak for
        record("ROLE_REVOKED", target=None),  # a deleted row: the tenant is the target
    )
    found = imported_records(text, FACTS, {"arm-dev"})
    assert [(r.type, r.target) for r in found] == [
        ("ROLE_ASSIGNED", "arm-dev/operator/sam-lee"),
        ("ROLE_REVOKED", "arm-dev"),
    ]
    first = found[0].to_json()
    assert first["imported"] is True
    assert (first["time"], first["operator"], first["author"], first["commit"]) == (
        "2026-01-20T10:12:00.250Z",
        "arm-ops",
        "ops@arm-dev.com",
        "c" * 40,
    )
    assert first["payload"] == {
        "armId": "k1",
        "targetEntity": "operator",
        "targetId": "jd7",
        "payload": {"roleId": "kd7"},
    }
    assert imported_records(text, FACTS, set()) == []


def test_a_malformed_message_claims_nothing() -> None:
    good = record("ROLE_ASSIGNED")
    assert len(message_records(message(good))) == 1
    assert message_records(message(good, "not json")) == []
    assert message_records(message(good, "[1]")) == []
    assert message_records(message(good, '{"type":3}')) == []
    assert message_records(message(good).replace("Armgit-Import-Export", "Armgit-Export")) == []
    assert message_records("ARM\n\n" + good + "\n\nmore\n\n" + TRAILERS) == []


def test_audit_type_knows_arm_types() -> None:
    assert is_record_type("ROLE_ASSIGNED")
    assert is_record_type("VERSION_TRANSITIONED")
    assert is_record_type("EVAL_RUN_COMPLETED")
    assert is_record_type("CUSTOM_FUNCTION_CREATED")
    assert not is_record_type("ROLE_ASIGNED")
    assert not is_record_type("EVAL_RUN_ x")
