"""Record derivation (armgit.audit.records) between two in-memory registries, as a table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from armgit.api import hash_file
from armgit.audit.derivation import CommitFacts, commit_records
from armgit.audit.records import Binding, derive_changes
from armgit.core.content import parse_content
from armgit.core.layout import EntityId, deployment_id, named_id, version_id
from armgit.core.models import Approval
from armgit.core.rules.change import entity_digest
from armgit.registry.lazyview import LazyView
from armgit.store.memory import MemoryTree
from tests.unit.helpers import DEPLOYMENT, INSTANCE, V1, V2, T, edit, example_files

BASE = example_files()
V2_ID = version_id("arm-dev", "customer-support", "2.0.0")
V2_HASH = "sha256:0a4da8a935cf04ba613f5f8662069860f218417181a7be396f847dc9ecde8bb6"
PROD = deployment_id("arm-dev", "prod", "customer-support")
INSTANCE_ID = named_id("Instance", "arm-dev", "support-prod-1")
BOB = named_id("Operator", "arm-dev", "bob")


def derive(before: dict[str, bytes], after: dict[str, bytes], entity: EntityId) -> list[Any]:
    base, head = LazyView(MemoryTree(before)), LazyView(MemoryTree(after))
    return [(d.type, d.target, d.payload) for d in derive_changes(base, head, entity)]


def without(files: dict[str, bytes], path: str) -> dict[str, bytes]:
    return {p: d for p, d in files.items() if p != path}


CASES: list[tuple[str, dict[str, bytes], dict[str, bytes], EntityId, list[Any]]] = [
    (
        "a comment is no change",
        BASE,
        edit(BASE, V2, "# optional attachment", "# attached"),
        V2_ID,
        [],
    ),
    (
        "deprecate",
        BASE,
        edit(BASE, V2, "lifecycle: APPROVED", "lifecycle: DEPRECATED"),
        V2_ID,
        [("VERSION_TRANSITIONED", "arm-dev/customer-support@2.0.0",
          {"from": "APPROVED", "to": "DEPRECATED"})],
    ),
    (
        "a deleted version",
        BASE,
        without(BASE, V1),
        version_id("arm-dev", "customer-support", "1.0.0"),
        [("VERSION_DELETED", "arm-dev/customer-support@1.0.0", None)],
    ),
    (
        "an instance quarantined and re-pointed to a policy",
        BASE,
        edit(edit(BASE, INSTANCE, "state: ACTIVE", "state: QUARANTINED"), INSTANCE,
             "policy: support-prod", "policy: support-default"),
        INSTANCE_ID,
        [("INSTANCE_TRANSITIONED", "arm-dev/instance/support-prod-1",
          {"from": "ACTIVE", "to": "QUARANTINED"}),
         ("POLICY_ATTACHED", "arm-dev/instance/support-prod-1",
          {"from": "support-prod", "to": "support-default"})],
    ),
    (
        "a deployment retired",
        BASE,
        edit(BASE, DEPLOYMENT, "status: ACTIVE", "status: RETIRED"),
        PROD,
        [("DEPLOYMENT_UPDATED", "arm-dev/deployment/prod/customer-support",
          {"changed": {"status": {"from": "ACTIVE", "to": "RETIRED"}}})],
    ),
    (
        "a new identity",
        BASE,
        edit(BASE, f"{T}/operators/bob.yaml", '"github:bob-okafor", ', '"github:bob-okafor", "gitlab:bob", '),
        BOB,
        [("IDENTITY_UPDATED", "arm-dev/operator/bob",
          {"identities": {"added": ["gitlab:bob"], "removed": []}})],
    ),
    (
        "a role revoked",
        BASE,
        edit(BASE, f"{T}/operators/bob.yaml", "  - role: reviewer\n", ""),
        BOB,
        [("OPERATOR_UPDATED", "arm-dev/operator/bob",
          {"changed": {"roles": {"from": [{"role": "reviewer", "expiresAt": None},
                                          {"role": "engineer", "expiresAt": None}],
                                 "to": [{"role": "engineer", "expiresAt": None}]}}})],
    ),
    (
        "an environment unprotected",
        BASE,
        edit(BASE, f"{T}/environments/prod.yaml", "protected: true", "protected: false"),
        named_id("Environment", "arm-dev", "prod"),
        [("ENVIRONMENT_UPDATED", "arm-dev/environment/prod",
          {"changed": {"protected": {"from": True, "to": False}}})],
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("before", "after", "entity", "expected"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_derive(
    before: dict[str, bytes], after: dict[str, bytes], entity: EntityId, expected: list[Any]
) -> None:
    actual = derive(before, after, entity)
    if expected and expected[0][2] is None:  # payload not compared
        actual = [(t, r, None) for t, r, _ in actual]
    assert actual == expected


def test_a_rewritten_genome_shows_both_digests(tmp_path: Path) -> None:
    after = edit(BASE, V2, "maxTokens: 8192", "maxTokens: 9000")
    (tmp_path / "v.yaml").write_bytes(after[V2])
    rehashed = hash_file(tmp_path / "v.yaml").genome_hash
    assert rehashed is not None
    assert derive(BASE, after, V2_ID) == []  # not rehashed: an invalid file makes no record
    after = edit(after, V2, V2_HASH, rehashed)
    [(kind, _, payload)] = derive(BASE, after, V2_ID)
    assert kind == "VERSION_UPDATED"
    assert payload["changed"] == {
        "genome": {"from": V2_HASH, "to": rehashed},  # digests recomputed from the genomes
        "genomeHash": {"from": V2_HASH, "to": rehashed},
    }


def test_bindings_name_what_an_approval_must_bind() -> None:
    after = edit(BASE, INSTANCE, "state: ACTIVE", "state: PAUSED")
    base, head = LazyView(MemoryTree(BASE)), LazyView(MemoryTree(after))
    [draft] = derive_changes(base, head, INSTANCE_ID)
    model = head.entity(INSTANCE_ID)
    assert model is not None
    assert draft.binding == Binding(
        "arm-dev/instance/support-prod-1", entity_digest(model.model), "PAUSED"
    )
    deploy = edit(BASE, DEPLOYMENT, "version: 2.0.0\npreviousVersion: 1.0.0",
                  "version: 1.0.0\npreviousVersion: 2.0.0")  # fmt: skip
    head = LazyView(MemoryTree(deploy))
    [activated] = derive_changes(base, head, PROD)
    assert activated.type == "DEPLOYMENT_ACTIVATED"
    assert activated.binding is not None
    assert activated.binding.to == "1.0.0"
    assert activated.binding.admits_change(None)
    assert not activated.binding.admits_change("2.0.0")


def _approval(ref: str, digest: str, to: str) -> Approval:
    text = (
        "apiVersion: armgit/v1\nkind: Approval\nstatement:\n  tenant: arm-dev\n"
        f"  subject: {{kind: Instance, ref: {ref}}}\n"
        f"  change: {{type: INSTANCE_REACTIVATION, to: {to}}}\n"
        f"  digest: '{digest}'\n  decision: APPROVE\n  approver: bob\n"
        "  justification: checked\n  createdAt: '2026-03-01T12:00:00Z'\n"
        "  expiresAt: '2026-03-02T12:00:00Z'\nsignature: |\n"
        "  -----BEGIN SSH SIGNATURE-----\n  AAAA\n  -----END SSH SIGNATURE-----\n"
    )
    model = parse_content(text.encode()).model
    assert isinstance(model, Approval), parse_content(text.encode()).problems
    return model


def test_a_record_names_the_added_approvals_of_its_subject_digest_and_step() -> None:
    after = edit(BASE, INSTANCE, "state: ACTIVE", "state: PAUSED")
    base, head = LazyView(MemoryTree(BASE)), LazyView(MemoryTree(after))
    model = head.entity(INSTANCE_ID)
    assert model is not None
    ref, digest = "arm-dev/instance/support-prod-1", entity_digest(model.model)
    other = "sha256:" + "0" * 64
    added = {
        "z-admits": _approval(ref, digest, "PAUSED"),
        "a-admits": _approval(ref, digest, "PAUSED"),
        "other-digest": _approval(ref, other, "PAUSED"),
        "other-subject": _approval("arm-dev/instance/support-dev-1", digest, "PAUSED"),
        "other-step": _approval(ref, digest, "RETIRED"),
    }
    facts = CommitFacts("c" * 40, "2026-03-01T12:00:00Z", "bob@example.com", genesis=False)
    asked: list[str] = []

    def lookup(tenant: str) -> dict[str, Approval]:
        asked.append(tenant)
        return added

    [(_, record)] = commit_records(base, head, [INSTANCE_ID], facts, lambda _: "bob", lookup)
    assert record.type == "INSTANCE_TRANSITIONED"
    assert record.approvals == ("a-admits", "z-admits")
    assert asked == ["arm-dev"]
