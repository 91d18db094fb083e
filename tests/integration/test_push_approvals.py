"""Approvals through a real server: a bare repository with the pre-receive hook, real pushes.

A promotion CANDIDATE -> APPROVED of 2.1.0 is refused without an approval and accepted with
bob's, made by ``armgit approve`` or by hand with ``ssh-keygen -Y sign``; forged, wrong-key,
tampered, expired, over-long, self-approved, unauthorised, wrong-content and replayed approvals
are refused with their reason in the push's output, and the server keeps exactly what it had.
A version that widens its parent's tools and the reactivation of a quarantined instance are
gated the same way, and accepted once ``armgit approve`` has signed for them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from armgit.authoring.approval_file import approval_path
from armgit.core.content import parse_content
from armgit.core.models import Approval
from armgit.core.models.approval import Statement
from tests.approval_helpers import (
    HASH_20,
    V21,
    Setup,
    add_hand_approval,
    amend_genesis,
    approval_yaml,
    file_digest,
    needs_ssh_keygen,
    sign_with_ssh_keygen,
    statement_for,
    verify_with_ssh_keygen,
    version_yaml,
)
from tests.conftest import run_armgit
from tests.integration.conftest import Registry

pytestmark = needs_ssh_keygen


@pytest.fixture
def setup(tmp_path: Path, keyed_registry: Registry) -> Setup:
    return keyed_registry(tmp_path)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def assert_refused(setup: Setup, pusher: str, *expected: str) -> str:
    before = setup.server_main()
    result = setup.push(pusher)
    assert result.returncode != 0, result.stderr
    assert "pre-receive hook declined" in result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr
    assert setup.server_main() == before
    return result.stderr


def assert_accepted(setup: Setup, pusher: str) -> None:
    result = setup.push(pusher)
    assert result.returncode == 0, result.stderr
    assert setup.server_main() == setup.work("rev-parse", "HEAD")


def test_promotion_needs_an_approval_and_armgit_approve_gives_it(setup: Setup) -> None:
    setup.promote()
    setup.work.commit_all("promote 2.1.0 to APPROVED")
    assert_refused(
        setup,
        "alice",
        "approval-required",
        "VERSION_PROMOTION of arm-dev/customer-support@2.1.0 (CANDIDATE -> APPROVED)",
        "who may approve: bob, ops",
    )

    made = run_armgit(
        "approve", V21, "--key", str(setup.keys["bob"].private), "--repo", str(setup.root)
    )
    assert made.returncode == 0, made.stderr
    path = made.stdout.split()[1]
    data = (setup.root / path).read_bytes()
    approval = parse_content(data).model
    assert isinstance(approval, Approval)
    assert approval.statement.approver == "bob"
    message = _message(approval.statement)
    verified = verify_with_ssh_keygen(
        message, approval.signature, "bob", setup.keys["bob"], setup.root.parent
    )
    assert verified.returncode == 0, verified.stderr
    assert b'Good "armgit-approval" signature for bob' in verified.stdout + verified.stderr

    setup.work.commit_all("bob approves 2.1.0")
    assert_accepted(setup, "alice")


def test_a_squash_through_candidate_counts_the_approval_bound_to_that_step(setup: Setup) -> None:
    # SPEC 4a: 2.2.0 arrives APPROVED in one commit (DRAFT -> TESTING -> CANDIDATE -> APPROVED);
    # the approval of its CANDIDATE -> APPROVED step admits it, as it would one step at a time
    ref = "arm-dev/customer-support@2.2.0"
    text = version_yaml("APPROVED").replace("label: 2.1.0", "label: 2.2.0")
    setup.write("tenants/arm-dev/templates/customer-support/versions/2.2.0.yaml", text)
    setup.work.commit_all("2.2.0, squashed from its pull request")
    assert_refused(
        setup, "alice", "approval-required", f"VERSION_PROMOTION of {ref} (CANDIDATE -> APPROVED)"
    )
    made = run_armgit(
        "approve", ref, "--key", str(setup.keys["bob"].private), "--repo", str(setup.root)
    )
    assert made.returncode == 0, made.stderr
    setup.work.commit_all("bob approves 2.2.0")
    assert_accepted(setup, "alice")


def test_approval_signed_by_stock_ssh_keygen_is_accepted(setup: Setup) -> None:
    setup.promote()
    statement = statement_for(approver="bob", created=now() - timedelta(minutes=1))
    add_hand_approval(setup, statement, "bob")
    setup.work.commit_all("promote 2.1.0, approved by bob by hand")
    assert_accepted(setup, "alice")


def _message(statement: Statement) -> bytes:
    from armgit.core.rules.approvals import statement_message

    return statement_message(statement)


def _forged(setup: Setup) -> None:  # a key nobody in the registry holds
    add_hand_approval(setup, statement_for(approver="bob", created=now()), "carol")


def _wrong_key(setup: Setup) -> None:  # alice's registered key, in bob's name
    add_hand_approval(setup, statement_for(approver="bob", created=now()), "alice")


def _tampered(setup: Setup) -> None:  # bob's signature, a statement edited after signing
    signed = statement_for(approver="bob", created=now(), valid_for=timedelta(hours=1))
    signature = sign_with_ssh_keygen(signed, setup.keys["bob"], setup.root.parent)
    edited = statement_for(approver="bob", created=now(), valid_for=timedelta(hours=40))
    setup.write(approval_path(edited), approval_yaml(edited, signature))


def _expired(setup: Setup) -> None:
    created = now() - timedelta(hours=2)
    add_hand_approval(
        setup, statement_for(approver="bob", created=created, valid_for=timedelta(hours=1)), "bob"
    )


def _too_long(setup: Setup) -> None:
    add_hand_approval(
        setup, statement_for(approver="bob", created=now(), valid_for=timedelta(days=30)), "bob"
    )


def _self_approved(setup: Setup) -> None:  # bob pushes (see the table) and approves himself
    add_hand_approval(setup, statement_for(approver="bob", created=now()), "bob")


def _unauthorised(setup: Setup) -> None:  # alice holds no approve:versions
    add_hand_approval(setup, statement_for(approver="alice", created=now()), "alice")


def _wrong_content(setup: Setup) -> None:  # bound to 2.0.0's genome, not 2.1.0's
    add_hand_approval(setup, statement_for(approver="bob", digest=HASH_20, created=now()), "bob")


def _replayed(setup: Setup) -> None:
    # a genuine, unexpired approval bob gave earlier for another subject (2.0.0's promotion)
    old = statement_for(
        approver="bob",
        ref="arm-dev/customer-support@2.0.0",
        digest=HASH_20,
        created=now() - timedelta(hours=3),
    )
    add_hand_approval(setup, old, "bob")


CASES: list[tuple[str, Callable[[Setup], None], str, tuple[str, ...]]] = [
    ("forged", _forged, "alice", ("signature does not verify",)),
    ("wrong-key", _wrong_key, "alice", ("signature does not verify",)),
    ("tampered", _tampered, "alice", ("signature does not verify",)),
    ("expired", _expired, "alice", ("does not count", "expired at")),
    ("too-long", _too_long, "alice", ("valid for longer than the rule's 48h",)),
    ("self-approved", _self_approved, "bob", ("bob is the author of the change",)),
    ("unauthorised", _unauthorised, "alice", ("alice does not hold approve:versions",)),
    ("wrong-content", _wrong_content, "alice", ("approves other content than proposed",)),
    ("replayed", _replayed, "alice", ("needs 1 approval(s) with approve:versions; has 0",)),
]


@pytest.mark.parametrize(
    ("make", "pusher", "reasons"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_approvals_that_do_not_count_are_refused(
    setup: Setup, make: Callable[[Setup], None], pusher: str, reasons: tuple[str, ...]
) -> None:
    setup.promote()
    make(setup)
    setup.work.commit_all("promote 2.1.0 with an approval that must not count")
    assert_refused(setup, pusher, "approval-required", *reasons)


def test_a_later_reject_by_the_same_approver_withdraws_the_approval(setup: Setup) -> None:
    setup.promote()
    add_hand_approval(
        setup, statement_for(approver="bob", created=now() - timedelta(minutes=5)), "bob"
    )
    rejected = run_armgit(
        "approve", V21, "--reject", "--key", str(setup.keys["bob"].private),
        "--repo", str(setup.root), "--justification", "the refund tool is not ready",
    )  # fmt: skip
    assert rejected.returncode == 0, rejected.stderr
    setup.work.commit_all("promote 2.1.0: approved, then rejected")
    assert_refused(setup, "alice", "REJECTED by bob")


def test_an_approval_edited_after_landing_is_refused(setup: Setup) -> None:
    setup.promote()
    path = add_hand_approval(setup, statement_for(approver="bob", created=now()), "bob")
    setup.work.commit_all("promote 2.1.0, approved by bob")
    assert_accepted(setup, "alice")
    target = setup.root / path
    target.write_text(target.read_text().replace("reviewed by hand", "rubber-stamped"))
    setup.work.commit_all("edit an approval")
    assert_refused(setup, "alice", "approval-immutable")


def test_an_environment_rule_judges_approvals_added_for_that_environment(setup: Setup) -> None:
    # prod deployments may be approved for 5 days; the tenant-wide rule says 48 hours (set from
    # the start: changing a rule is itself a REGISTRY_TRUST_CHANGE, approved by a registry admin)
    config = setup.root / "armgit.yaml"
    config.write_text(
        config.read_text().replace(
            "approvalRules:\n",
            "approvalRules:\n  - {requestType: DEPLOYMENT_ACTIVATION, environment: prod, "
            'count: 1, permission: "approve:deployments", expiresIn: 5d}\n',
        )
    )
    amend_genesis(setup)
    setup.promote()
    add_hand_approval(setup, statement_for(approver="bob", created=now()), "bob")
    setup.work.commit_all("promote 2.1.0")
    assert_accepted(setup, "ops")

    deployment = setup.root / "tenants/arm-dev/deployments/prod/customer-support.yaml"
    deployment.write_text(
        deployment.read_text()
        .replace("version: 2.0.0", "version: 2.1.0")
        .replace("previousVersion: 1.0.0", "previousVersion: 2.0.0")
    )
    instance = setup.root / "tenants/arm-dev/instances/support-prod-1.yaml"
    instance.write_text(instance.read_text().replace("@2.0.0", "@2.1.0"))
    statement = Statement.model_validate(
        {
            **_message_fields(statement_for(approver="bob", created=now())),
            "subject": {"kind": "Deployment", "ref": "arm-dev/deployment/prod/customer-support"},
            "change": {"type": "DEPLOYMENT_ACTIVATION", "from": "2.0.0", "to": "2.1.0"},
            "digest": file_digest(deployment.read_text()),
            "expiresAt": (now() + timedelta(days=4)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )
    add_hand_approval(setup, statement, "bob")
    setup.work.commit_all("deploy 2.1.0 to prod, approved for 4 days")
    assert_accepted(setup, "alice")


def _message_fields(statement: Statement) -> dict[str, object]:
    return dict(statement.model_dump(mode="json", by_alias=True, exclude_unset=True))


def _armgit(setup: Setup, *args: str) -> str:
    result = run_armgit(*args, "--repo", str(setup.root))
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_version_that_widens_its_parents_tools_needs_an_approval(setup: Setup) -> None:
    _armgit(
        setup,
        "new", "version", "arm-dev/customer-support@2.2.0", "--parent", "2.0.0",
        "--add-tool", "crm_lookup,low,crm:read",
    )  # fmt: skip
    setup.work.commit_all("2.2.0: 2.0.0 with crm_lookup")
    assert_refused(
        setup,
        "alice",
        "approval-required",
        "PRIVILEGE_WIDENING of arm-dev/customer-support@2.2.0",
        "who may approve: bob, ops",
    )

    _armgit(setup, "approve", "arm-dev/customer-support@2.2.0", "--key",
            str(setup.keys["bob"].private))  # fmt: skip
    setup.work.commit_all("bob approves 2.2.0's new tool")
    assert_accepted(setup, "alice")


def test_a_version_that_lowers_a_tools_declared_risk_needs_an_approval(setup: Setup) -> None:
    from armgit.api import hash_file

    _armgit(setup, "new", "version", "arm-dev/customer-support@2.2.0", "--parent", "2.0.0")
    path = setup.root / "tenants/arm-dev/templates/customer-support/versions/2.2.0.yaml"
    text = path.read_text().replace(
        '["billing:refund"], risk: high}', '["billing:refund"], risk: low}'
    )
    path.write_text(text)
    old_hash = text.split("genomeHash: ")[1].split()[0]
    new_hash = hash_file(path).genome_hash
    assert new_hash is not None
    assert new_hash != old_hash
    path.write_text(text.replace(old_hash, new_hash))
    setup.work.commit_all("2.2.0: refunds declared low risk")
    assert_refused(
        setup,
        "alice",
        "approval-required",
        "PRIVILEGE_WIDENING of arm-dev/customer-support@2.2.0 (2.0.0 -> risk of refund_issue "
        "high -> low)",
    )


def test_reactivating_a_quarantined_instance_needs_an_approval(setup: Setup) -> None:
    instance = "arm-dev/instance/support-prod-1"
    _armgit(setup, "instance", instance, "--to", "quarantine", "--commit")
    assert_accepted(setup, "alice")  # quarantine is the safe direction: no approval

    _armgit(setup, "instance", instance, "--to", "reactivate", "--commit")
    assert_refused(
        setup,
        "alice",
        "approval-required",
        f"INSTANCE_REACTIVATION of {instance} (QUARANTINED -> ACTIVE)",
    )

    _armgit(setup, "approve", instance, "--key", str(setup.keys["bob"].private))
    setup.work.commit_all("bob approves the reactivation")
    assert_accepted(setup, "alice")


def test_an_approval_admits_its_change_once_not_again_after_a_rollback(setup: Setup) -> None:
    bob = str(setup.keys["bob"].private)
    deployment = "arm-dev/deployment/prod/customer-support"
    setup.promote()
    add_hand_approval(setup, statement_for(approver="bob", created=now()), "bob")
    setup.work.commit_all("promote 2.1.0, approved by bob")
    assert_accepted(setup, "alice")
    _armgit(setup, "deploy", V21, "--env", "prod", "--commit")
    _armgit(setup, "approve", deployment, "--key", bob, "--justification", "first rollout")
    setup.work.commit_all("bob approves deploying 2.1.0")
    assert_accepted(setup, "alice")
    _armgit(setup, "rollback", "arm-dev/customer-support", "--env", "prod", "--commit")
    assert_accepted(setup, "alice")  # back to 2.0.0: the emergency path needs no approval

    # the same change again (2.0.0 -> 2.1.0, the same genome): bob's approval is still
    # unexpired and binds exactly this, but it was spent on the first rollout
    _armgit(setup, "deploy", V21, "--env", "prod", "--commit")
    assert_refused(
        setup,
        "alice",
        "approval-required",
        "it was already on the branch before this change",
        "has 0",
    )
    _armgit(setup, "approve", deployment, "--key", bob, "--justification", "fixed, try again")
    setup.work.commit_all("bob approves deploying 2.1.0 again")
    assert_accepted(setup, "alice")
