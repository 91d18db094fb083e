"""``armgit review BASE..HEAD``: the change as meaning, and where each gate stands."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from armgit.core.canonical import genome_hash
from tests.approval_helpers import (
    GENOME_21,
    Setup,
    add_hand_approval,
    needs_ssh_keygen,
    statement_for,
)
from tests.conftest import run_armgit
from tests.integration.conftest import Registry

pytestmark = needs_ssh_keygen

VERSIONS = "tenants/arm-dev/templates/customer-support/versions"
POLICY = "tenants/arm-dev/policies/support-prod.yaml"
DEPLOYMENT = "tenants/arm-dev/deployments/prod/customer-support.yaml"
INSTANCE = "tenants/arm-dev/instances/support-prod-1.yaml"


def genome_22() -> dict[str, Any]:
    genome: dict[str, Any] = json.loads(json.dumps(GENOME_21))
    genome["modelConfig"].update(modelId="claude-3-opus-20240229", temperature=0.7)
    genome["toolManifest"] = [
        genome["toolManifest"][0],
        {
            "toolId": "refund_cancel",
            "schemaVersion": "1.0",
            "requiredPermissions": ["billing:refund"],
            "risk": "high",
        },
    ]
    genome["provenance"]["createdAt"] = "2026-02-04T10:00:00Z"
    return genome


def edit(setup: Setup, path: str, old: str, new: str) -> None:
    target = setup.root / path
    text = target.read_text()
    assert old in text, (old, text)
    target.write_text(text.replace(old, new))


@pytest.fixture
def setup(tmp_path: Path, keyed_registry: Registry) -> Setup:
    setup = keyed_registry(tmp_path)
    setup.work("checkout", "-q", "-b", "feature")
    genome = genome_22()
    setup.write(
        f"{VERSIONS}/2.2.0.yaml",
        "apiVersion: armgit/v1\nkind: Version\ntemplate: customer-support\nlabel: 2.2.0\n"
        "parent: 2.0.0\nlifecycle: DRAFT\nartifacts:\n  promptBundle: prompts/v2.md\n"
        f"genome: {json.dumps(genome)}\ngenomeHash: {genome_hash(genome)}\n",
    )
    setup.work.commit_all("new version 2.2.0 on opus")
    edit(setup, POLICY, "autonomyTier: 2", "autonomyTier: 3")
    edit(setup, POLICY, "dailyTokens: 1000000", "dailyTokens: 2000000")
    edit(setup, POLICY, "zendesk_reply: medium", "zendesk_reply: low")
    setup.work.commit_all("more autonomy for support-prod")
    setup.promote()
    edit(setup, DEPLOYMENT, "version: 2.0.0", "version: 2.1.0")
    edit(setup, DEPLOYMENT, "previousVersion: 1.0.0", "previousVersion: 2.0.0")
    edit(setup, INSTANCE, "state: ACTIVE", "state: PAUSED")
    setup.work.commit_all("ship 2.1.0 to prod")
    created = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    add_hand_approval(setup, statement_for(approver="bob", created=created), "bob")
    setup.work.commit_all("bob approves the promotion")
    return setup


def review(setup: Setup, *args: str) -> tuple[int, str]:
    from armgit.cli.main import cli

    result = CliRunner().invoke(
        cli, ["review", *args, "--repo", str(setup.root)], catch_exceptions=False
    )
    return result.exit_code, result.output


def test_text_review_reads_as_meaning(setup: Setup) -> None:
    code, out = review(setup, "origin/main..HEAD")
    assert code == 0, out
    expected = [
        "Review of origin/main..HEAD: 4 commits,",
        "VERSION_CREATED  arm-dev/customer-support@2.2.0: version created (DRAFT) from parent 2.0.0",
        "model anthropic/claude-3-5-sonnet-20241022 -> anthropic/claude-3-opus-20240229",
        "temperature 0.5 -> 0.7",
        "tools added: refund_cancel (high)",
        "tools removed: kb_lookup, refund_issue, zendesk_reply",
        "permissions removed: kb:read, zendesk:write",
        "POLICY_UPDATED  arm-dev/policy/support-prod: policy changed",
        "autonomy tier 2 -> 3: no call needs approval",
        "risk + more autonomy (tier 2 -> 3)",
        "risk + zendesk_reply treated as less risky (medium -> low)",
        "risk + higher daily tokens limit (1000000 -> 2000000)",
        "VERSION_TRANSITIONED  arm-dev/customer-support@2.1.0: lifecycle CANDIDATE -> APPROVED",
        "DEPLOYMENT_ACTIVATED  arm-dev/deployment/prod/customer-support: customer-support in "
        "prod: 2.0.0 -> 2.1.0 (ACTIVE)",
        "INSTANCE_TRANSITIONED  arm-dev/instance/support-prod-1: state ACTIVE -> PAUSED",
        "APPROVAL_DECIDED",
        "bob APPROVES VERSION_PROMOTION of arm-dev/customer-support@2.1.0 (CANDIDATE -> APPROVED)",
        "VERSION_PROMOTION of arm-dev/customer-support@2.1.0 (CANDIDATE -> APPROVED): 1 of 1 "
        "with approve:versions: APPROVED",
        "DEPLOYMENT_ACTIVATION of arm-dev/deployment/prod/customer-support in prod "
        "(2.0.0 -> 2.1.0): 0 of 1 with approve:deployments: MISSING 1",
        "POLICY_AUTONOMY_INCREASE of arm-dev/instance/support-prod-1 in prod (support-prod "
        "(wider: autonomy tier 2 to 3; daily tokens 1000000 to 2000000) -> support-prod): 0 of 1",
        "who may approve: bob, ops",
        "armgit approve arm-dev/deployment/prod/customer-support --key KEY (valid up to 48h)",
    ]
    for line in expected:
        assert line in out, (line, out)


def test_json_review_and_the_authors_own_approval(setup: Setup) -> None:
    code, out = review(
        setup, "origin/main..HEAD", "--author", "github:bob-okafor", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert [c["summary"] for c in data["commits"]] == [
        "new version 2.2.0 on opus",
        "more autonomy for support-prod",
        "ship 2.1.0 to prod",
        "bob approves the promotion",
    ]
    created = data["commits"][0]["changes"][0]
    assert created["type"] == "VERSION_CREATED"
    assert "new tool refund_cancel (high risk)" in created["risk"]
    gates = {g["requestType"]: g for g in data["gates"]}
    promotion = gates["VERSION_PROMOTION"]
    assert promotion["approvedBy"] == []
    assert promotion["missing"] == 1
    assert "bob is the author of the change" in promotion["refused"][0]["reason"]
    assert promotion["eligible"] == ["ops"]
    # each binds its own subject's whole proposed file
    assert gates["DEPLOYMENT_ACTIVATION"]["digest"] != gates["VERSION_PROMOTION"]["digest"]
    assert {f["rule"] for f in data["findings"]} >= {"approval-required"}


def test_a_rollback_reads_as_one(setup: Setup) -> None:
    setup.work("checkout", "-q", "-b", "rollback", "origin/main")
    edit(setup, DEPLOYMENT, "version: 2.0.0", "version: 1.0.0")
    edit(setup, DEPLOYMENT, "previousVersion: 1.0.0", "previousVersion: 2.0.0\nrollbackOf: 2.0.0")
    setup.work.commit_all("roll back prod")
    code, out = review(setup, "origin/main..HEAD")
    assert code == 0  # informational, even though 1.0.0 is below prod's minLifecycle
    assert "DEPLOYMENT_ROLLED_BACK" in out
    assert "customer-support in prod: 2.0.0 -> 1.0.0 (rollback of 2.0.0)" in out


def test_a_lone_rev_means_rev_to_head(setup: Setup) -> None:
    code, out = review(setup, "HEAD~1")
    assert code == 0
    assert "1 commit," in out


@pytest.mark.parametrize("range_", ["nope..HEAD", "HEAD...main"])
def test_an_unreadable_range_exits_2(setup: Setup, range_: str) -> None:
    result = run_armgit("review", range_, "--repo", str(setup.root))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
