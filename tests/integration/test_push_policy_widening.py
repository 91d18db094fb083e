"""Effective policy, not files, through a real server: widening what a prod agent may do by
attaching, detaching or versioning needs an approval, like raising a policy's tier.

Each test is named after the hole it closes (SPEC section 4a).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from armgit.core.canonical import genome_hash
from armgit.core.jsondata import JsonObject
from tests.approval_helpers import Setup, needs_ssh_keygen
from tests.conftest import run_armgit
from tests.integration.conftest import Registry
from tests.integration.test_push_approvals import assert_accepted, assert_refused

pytestmark = needs_ssh_keygen

T = "tenants/arm-dev"
INSTANCE = f"{T}/instances/support-prod-1.yaml"
INSTANCE_REF = "arm-dev/instance/support-prod-1"
WIDE = """apiVersion: armgit/v1
kind: Policy
name: support-wide
description: As much as prod allows.
autonomyTier: 3
allowedTools: [zendesk_search, zendesk_reply, kb_lookup, refund_issue]
toolRisk:
  refund_issue: critical
costLimits: {dailyTokens: 2000000, monthlyCost: 2000}
dataScopes: ["tickets:*", "kb:read", "customers:read"]
"""


@pytest.fixture
def setup(tmp_path: Path, keyed_registry: Registry) -> Setup:
    return keyed_registry(tmp_path)


def edit(setup: Setup, path: str, old: str, new: str) -> None:
    target = setup.root / path
    text = target.read_text()
    assert text.count(old) == 1, (old, text)
    target.write_text(text.replace(old, new))


def approve(setup: Setup, ref: str, approver: str = "bob") -> str:
    made = run_armgit(
        "approve", ref, "--key", str(setup.keys[approver].private), "--repo", str(setup.root)
    )
    assert made.returncode == 0, made.stdout + made.stderr
    return made.stdout


def test_pointing_the_prod_instance_at_a_wider_policy_needs_an_approval(setup: Setup) -> None:
    setup.write(f"{T}/policies/support-wide.yaml", WIDE)
    setup.work.commit_all("a wider policy, attached to nothing")
    assert_accepted(setup, "ops")  # it governs no target yet: nothing widens

    edit(setup, INSTANCE, "policy: support-prod", "policy: support-wide")
    setup.work.commit_all("support-prod-1 on support-wide")
    assert_refused(
        setup,
        "alice",
        "approval-required",
        f"POLICY_AUTONOMY_INCREASE of {INSTANCE_REF} (support-prod (wider: autonomy tier 2 to "
        "3; daily tokens 1000000 to 2000000; monthly cost 1500 to 2000; data scopes added: "
        "tickets:*) -> support-wide)",
        f"armgit approve {INSTANCE_REF}",
    )

    out = approve(setup, INSTANCE_REF)
    assert f"bob APPROVES POLICY_AUTONOMY_INCREASE of {INSTANCE_REF} in prod" in out
    setup.work.commit_all("bob approves the wider policy")
    review = run_armgit("review", "origin/main..HEAD", "--repo", str(setup.root))
    assert (
        f"POLICY_AUTONOMY_INCREASE of {INSTANCE_REF} in prod (support-prod (wider:" in review.stdout
    ), review.stdout
    assert "1 of 1 with approve:policies: APPROVED" in review.stdout, review.stdout
    assert_accepted(setup, "alice")


def test_an_approval_binds_the_effective_policy_not_the_instance_file(setup: Setup) -> None:
    """The approval of support-wide for the instance does not admit a wider support-wide."""
    setup.write(
        f"{T}/policies/support-wide.yaml", WIDE.replace("autonomyTier: 3", "autonomyTier: 2")
    )
    setup.work.commit_all("a wider policy, attached to nothing")
    assert_accepted(setup, "ops")
    edit(setup, INSTANCE, "policy: support-prod", "policy: support-wide")
    approve(setup, INSTANCE_REF)
    edit(setup, f"{T}/policies/support-wide.yaml", "autonomyTier: 2", "autonomyTier: 3")
    setup.work.commit_all("support-prod-1 on support-wide, then support-wide raised")
    assert_refused(setup, "ops", "approval-required", "approves other content than proposed")


def test_detaching_a_narrower_instance_policy_needs_an_approval(setup: Setup) -> None:
    edit(setup, INSTANCE, "policy: support-prod", "policy: support-default")
    setup.work.commit_all("support-prod-1 narrowed to support-default")
    assert_accepted(setup, "alice")  # narrowing needs nobody

    edit(setup, INSTANCE, "policy: support-default\n", "")
    setup.work.commit_all("support-prod-1 without a policy of its own")
    assert_refused(
        setup,
        "alice",
        "approval-required",
        f"POLICY_AUTONOMY_INCREASE of {INSTANCE_REF} (support-default (wider: tools added: "
        "refund_issue",
    )
    approve(setup, INSTANCE_REF)
    setup.work.commit_all("bob approves")
    assert_accepted(setup, "alice")


def test_a_parentless_version_lowering_a_tools_risk_needs_an_approval(setup: Setup) -> None:
    genome: JsonObject = {
        "modelConfig": {"provider": "anthropic", "modelId": "claude-3-5-sonnet-20241022"},
        "promptBundleHash": "sha256:" + "0" * 64,
        "toolManifest": [
            {"toolId": "zendesk_search", "schemaVersion": "1.0", "risk": "low"},
            {"toolId": "refund_issue", "schemaVersion": "1.0", "risk": "low"},
        ],
        "provenance": {"createdBy": "alice", "source": "test", "createdAt": "2026-02-05T10:00:00Z"},
    }
    setup.write(
        f"{T}/templates/customer-support/versions/3.0.0.yaml",
        "apiVersion: armgit/v1\nkind: Version\ntemplate: customer-support\nlabel: 3.0.0\n"
        f"lifecycle: DRAFT\ngenome: {json.dumps(genome)}\ngenomeHash: {genome_hash(genome)}\n",
    )
    setup.work.commit_all("3.0.0, with no parent, calls refunds low risk")
    assert_refused(
        setup,
        "alice",
        "approval-required",
        "PRIVILEGE_WIDENING of arm-dev/customer-support@3.0.0 (released 1.0.0, 2.0.0 -> risk "
        "of refund_issue high -> low)",
    )
    approve(setup, "arm-dev/customer-support@3.0.0")
    setup.work.commit_all("bob approves")
    assert_accepted(setup, "alice")
