"""``armgit approve`` through the CLI: what it writes, what it binds, and what it refuses."""

from __future__ import annotations

import base64
import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from armgit.core.canonical import canonical_digest
from armgit.core.content import parse_content
from armgit.core.models import Approval
from armgit.core.rules.approvals import approval_id, statement_message
from armgit.core.timeutil import parse_time
from tests.approval_helpers import (
    DIGEST_21,
    V21,
    Setup,
    file_digest,
    needs_ssh_keygen,
    verify_with_ssh_keygen,
)
from tests.conftest import Git
from tests.integration.conftest import Registry

pytestmark = needs_ssh_keygen

POLICY = "tenants/arm-dev/policies/support-prod.yaml"
DEPLOYMENT = "tenants/arm-dev/deployments/prod/customer-support.yaml"


@pytest.fixture
def setup(tmp_path: Path, keyed_registry: Registry) -> Setup:
    return keyed_registry(tmp_path)


def approve(setup: Setup, *args: str, key: str = "bob") -> tuple[int, str]:
    from armgit.cli.main import cli

    result = CliRunner().invoke(
        cli,
        ["approve", *args, "--key", str(setup.keys[key].private), "--repo", str(setup.root)],
        catch_exceptions=False,
    )
    return result.exit_code, result.output


def written(setup: Setup, output: str) -> list[Approval]:
    found = []
    for line in output.splitlines():
        if line.startswith("wrote "):
            model = parse_content((setup.root / line.split()[1]).read_bytes()).model
            assert isinstance(model, Approval)
            found.append(model)
    return found


def test_approves_an_uncommitted_promotion_and_stock_ssh_keygen_verifies_it(
    setup: Setup,
) -> None:
    setup.promote()  # not committed: the work tree is what is approved
    code, out = approve(
        setup, V21, "--justification", "eval green", "--rollback-plan", "back to 2.0.0",
        "--escalation-level", "2",
    )  # fmt: skip
    assert code == 0, out
    assert "bob APPROVES VERSION_PROMOTION of arm-dev/customer-support@2.1.0" in out
    (approval,) = written(setup, out)
    s = approval.statement
    assert (s.tenant, s.subject.kind, s.subject.ref) == ("arm-dev", "Version", V21)
    assert (s.change.type, s.change.from_, s.change.to) == (
        "VERSION_PROMOTION",
        "CANDIDATE",
        "APPROVED",
    )
    assert (s.digest, s.decision, s.approver) == (DIGEST_21, "APPROVE", "bob")
    assert (s.justification, s.rollback_plan, s.escalation_level) == (
        "eval green",
        "back to 2.0.0",
        2,
    )
    assert s.created_at.endswith("Z")
    assert len(s.created_at) == 20
    assert parse_time(s.expires_at) - parse_time(s.created_at) == timedelta(hours=48)
    path = setup.root / f"tenants/arm-dev/approvals/{approval_id(s)}.yaml"
    assert path.is_file()
    verified = verify_with_ssh_keygen(
        statement_message(s), approval.signature, "bob", setup.keys["bob"], setup.root.parent
    )
    assert verified.returncode == 0, verified.stderr
    # the canonical JSON is what was signed, with only the fields that were given
    assert json.loads(statement_message(s)).keys() == {
        "tenant", "subject", "change", "digest", "decision", "approver", "justification",
        "rollbackPlan", "escalationLevel", "createdAt", "expiresAt",
    }  # fmt: skip


def test_optional_fields_are_left_out_and_expiry_can_be_shorter(setup: Setup) -> None:
    setup.promote()
    code, out = approve(setup, V21, "--expires-in", "90m")
    assert code == 0, out
    (approval,) = written(setup, out)
    s = approval.statement
    assert s.rollback_plan is None
    assert s.escalation_level is None
    assert b"rollbackPlan" not in statement_message(s)
    assert parse_time(s.expires_at) - parse_time(s.created_at) == timedelta(minutes=90)


def test_expiry_beyond_the_rule_is_a_usage_error(setup: Setup) -> None:
    setup.promote()
    code, out = approve(setup, V21, "--expires-in", "3d")
    assert code == 2
    assert "longer than the 48h the rule for VERSION_PROMOTION allows" in out
    assert not (setup.root / "tenants/arm-dev/approvals").exists()


def test_reject(setup: Setup) -> None:
    setup.promote()
    code, out = approve(setup, V21, "--reject", "--justification", "no")
    assert code == 0, out
    assert "bob REJECTS VERSION_PROMOTION" in out
    assert written(setup, out)[0].statement.decision == "REJECT"


def test_a_ref_without_a_gated_change_is_refused_saying_what_is_gated(setup: Setup) -> None:
    setup.promote()
    code, out = approve(setup, "arm-dev/policy/support-prod")
    assert code == 1
    assert "refused: arm-dev/policy/support-prod has no gated change" in out
    assert "gated are: VERSION_PROMOTION of arm-dev/customer-support@2.1.0" in out


def test_nothing_gated_at_all(setup: Setup) -> None:
    code, out = approve(setup, V21)
    assert code == 1
    assert "has no gated change, and nothing else is gated" in out


def test_a_key_no_operator_holds_is_refused(setup: Setup) -> None:
    setup.promote()
    code, out = approve(setup, V21, key="carol")
    assert code == 1
    assert "no operator of 'arm-dev' holds the key SHA256:" in out
    assert not (setup.root / "tenants/arm-dev/approvals").exists()


def test_an_approver_without_the_permission_is_warned(setup: Setup) -> None:
    setup.promote()
    code, out = approve(setup, V21, key="alice")
    assert code == 0
    assert "alice does not hold approve:versions" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["arm-dev/customer-support@x"], "is not a SemVer label"),
        (["arm-dev/customer-support"], "approvals are for versions, deployments"),
        ([], "give the REF to approve"),
    ],
)
def test_usage_errors(setup: Setup, args: list[str], message: str) -> None:
    code, out = approve(setup, *args)
    assert code == 2
    assert message in out


def test_an_unreadable_key_is_a_usage_error(setup: Setup, tmp_path: Path) -> None:
    from armgit.cli.main import main

    bad = tmp_path / "not-a-key"
    bad.write_text("hello\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["approve", V21, "--key", str(bad), "--repo", str(setup.root)])
    assert exit_info.value.code == 2


def test_deployment_activation_binds_the_proposed_deployment_file(setup: Setup) -> None:
    deployment = setup.root / DEPLOYMENT
    text = deployment.read_text()
    deployment.write_text(
        text.replace("version: 2.0.0", "version: 2.1.0").replace(
            "previousVersion: 1.0.0", "previousVersion: 2.0.0"
        )
    )
    code, out = approve(setup, "arm-dev/deployment/prod/customer-support")
    assert code == 0, out
    (approval,) = written(setup, out)
    s = approval.statement
    assert (s.subject.kind, s.change.type, s.change.from_, s.change.to) == (
        "Deployment",
        "DEPLOYMENT_ACTIVATION",
        "2.0.0",
        "2.1.0",
    )
    assert s.digest == file_digest(deployment.read_text())


def test_autonomy_increase_binds_the_effective_policy_the_index_carries(setup: Setup) -> None:
    """Raising support-prod widens what the prod instance may do: the approval names the
    instance and binds the digest of its effective policy, the one `armgit compile` puts in
    the index for it."""
    policy = setup.root / POLICY
    policy.write_text(policy.read_text().replace("autonomyTier: 2", "autonomyTier: 3"))
    code, out = approve(setup, "arm-dev/instance/support-prod-1", "--expires-in", "72h")
    assert code == 0, out
    (approval,) = written(setup, out)
    s = approval.statement
    assert (s.subject.kind, s.change.type) == ("Instance", "POLICY_AUTONOMY_INCREASE")
    assert (s.change.from_, s.change.to) == (
        "support-prod (wider: autonomy tier 2 to 3)",
        "support-prod",
    )
    assert s.digest == compiled_policy(setup, "support-prod-1")
    code, out = approve(setup, "arm-dev/policy/support-prod")
    assert code == 1
    assert "gated are: POLICY_AUTONOMY_INCREASE of arm-dev/deployment/prod/customer-support" in out


def compiled_policy(setup: Setup, instance: str) -> str:
    from armgit.cli.main import cli
    from armgit.core.index.tables import unpack

    out = setup.root.parent / "index.json"
    args = ["compile", "--repo", str(setup.root), "--key", str(setup.keys["ops"].private)]
    result = CliRunner().invoke(
        cli, [*args, "--out", str(out), "--first-publish", "--allow-dirty"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(base64.b64decode(json.loads(out.read_text())["payload"]))
    tenant = payload["tenants"]["arm-dev"]
    ref = unpack(tenant["instances"], "instances", ("name",))[instance]["policy"]  # rows
    digest = canonical_digest(tenant["policies"][ref])  # the index names it by its first digits
    assert digest.startswith("sha256:" + ref)
    return digest


def test_a_committed_promotion_with_unrelated_uncommitted_edits(setup: Setup) -> None:
    setup.promote()
    setup.work.commit_all("promote")
    (setup.root / "tenants/arm-dev/environments/dev.yaml").write_text(
        (setup.root / "tenants/arm-dev/environments/dev.yaml").read_text() + "# note\n"
    )
    code, out = approve(setup, V21)
    assert code == 0, out


def test_a_registry_in_a_subdirectory(tmp_path: Path, keyed_registry: Registry) -> None:
    setup = keyed_registry(tmp_path)
    outer = tmp_path / "outer"
    outer.mkdir()
    shutil.copytree(setup.root, outer / "registry", ignore=shutil.ignore_patterns(".git"))
    git = Git(outer)
    git("init", "-q", "-b", "main")
    git.commit_all("a repository with the registry in registry/")
    (
        outer / "registry" / "tenants/arm-dev/templates/customer-support/versions/2.1.0.yaml"
    ).write_text(
        (setup.root / "tenants/arm-dev/templates/customer-support/versions/2.1.0.yaml")
        .read_text()
        .replace("lifecycle: CANDIDATE", "lifecycle: APPROVED")
    )
    inner = Setup(Git(outer / "registry"), setup.server, setup.keys)
    code, out = approve(inner, V21)
    assert code == 0, out
    assert (outer / "registry" / out.split()[1]).is_file()
