"""Changes to what the registry trusts, through a real server: a bare repository with the hook.

The registry's genesis names three registry admins: ops (who pushes, and also holds the
all-permissions role admin), bob (arm-dev) and carol (another tenant, platform). Each trust
setting of armgit.yaml, edited without an approval, is refused with ``approval-required`` and
the server keeps what it had; with bob's or carol's approval (``armgit approve registry``, real
SSH keys) it is accepted. The author's own approval, an approval by an operator who is no
registry admin, and an attested review do not count; a change to ``description`` needs none.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from armgit.authoring.approval_file import approval_path, render_approval
from armgit.core.content import parse_content
from armgit.core.models import Approval, Registry
from armgit.core.models.approval import Statement
from armgit.core.rules.change import entity_digest
from armgit.core.timeutil import format_time
from tests.approval_helpers import Setup, amend_genesis, needs_ssh_keygen, sign_with_ssh_keygen
from tests.conftest import run_armgit
from tests.integration.conftest import Registry as RegistryFactory
from tests.integration.test_push_approvals import assert_accepted, assert_refused

pytestmark = needs_ssh_keygen

ADMINS = "registryAdmins: [arm-dev/ops, arm-dev/bob, platform/carol]\n"
PROTECTED = "protectedBranches: [main]\n"


@pytest.fixture
def setup(tmp_path: Path, keyed_registry: RegistryFactory) -> Setup:
    """The keyed registry whose genesis lists the registry admins and holds the tenant
    platform (carol, with her key and no role); the server's main is that genesis, set as a
    server administrator would (git fetch in the server runs no hook)."""
    setup = keyed_registry(tmp_path)
    config = setup.root / "armgit.yaml"
    config.write_text(with_admins(config.read_text()))
    setup.write(
        "tenants/platform/tenant.yaml",
        "apiVersion: armgit/v1\nkind: Tenant\nname: Platform\nslug: platform\n",
    )
    setup.write(
        "tenants/platform/operators/carol.yaml",
        "apiVersion: armgit/v1\nkind: Operator\nname: carol\nemail: carol@platform.example\n"
        f'sshKeys:\n  - "{setup.keys["carol"].public_line}"\n',
    )
    amend_genesis(setup)
    return setup


def with_admins(config: str, admins: str = ADMINS) -> str:
    """``config`` with exactly these registry admins (whatever the example lists)."""
    lines = [
        line for line in config.splitlines(keepends=True) if not line.startswith("registryAdmins:")
    ]
    return "".join(lines).replace(PROTECTED, PROTECTED + admins)


def edit_config(setup: Setup, old: str, new: str) -> None:
    config = setup.root / "armgit.yaml"
    text = config.read_text()
    assert text.count(old) == 1, text
    config.write_text(text.replace(old, new))


def approve(setup: Setup, approver: str) -> str:
    """``armgit approve registry`` with ``approver``'s key; the path written."""
    made = run_armgit(
        "approve", "registry", "--key", str(setup.keys[approver].private),
        "--repo", str(setup.root), "--justification", "trust change reviewed",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return made.stdout.split()[1]


# each trust setting, edited: (old text of armgit.yaml, new text, the field named in the gate)
TRUST_EDITS = {
    "approvalRules": (
        "{requestType: VERSION_PROMOTION, count: 1,",
        "{requestType: VERSION_PROMOTION, count: 2,",
        "approvalRules",
    ),
    "protectedBranches": (PROTECTED, "protectedBranches: [main, release]\n", "protectedBranches"),
    "indexSigners": (
        PROTECTED,
        PROTECTED + "indexSigners: {threshold: 1, keys: [{name: ci, publicKey: 'KEY'}]}\n",
        "indexSigners",
    ),
    "attestors": (
        PROTECTED,
        PROTECTED + "attestors: [{name: bot, publicKey: 'KEY'}]\n",
        "attestors",
    ),
    "registryAdmins": (ADMINS, "registryAdmins: [arm-dev/ops, arm-dev/bob]\n", "registryAdmins"),
    "identityEnv": (
        "identityEnv: [ARMGIT_PUSHER, GL_USERNAME, GITHUB_USER_LOGIN, GITEA_PUSHER_NAME, "
        "REMOTE_USER]",
        "identityEnv: [ARMGIT_PUSHER, REMOTE_USER]",
        "identityEnv",
    ),
}


@pytest.mark.parametrize("setting", sorted(TRUST_EDITS))
def test_a_trust_setting_needs_a_registry_admins_approval(setup: Setup, setting: str) -> None:
    old, new, field = TRUST_EDITS[setting]
    edit_config(setup, old, new.replace("KEY", setup.keys["alice"].public_line))
    setup.work.commit_all(f"armgit.yaml: change {setting}")
    assert_refused(
        setup,
        "ops",
        "approval-required",
        f"REGISTRY_TRUST_CHANGE of registry ({field}) needs 1 approval(s) with admin:registry",
        "who may approve: arm-dev/bob, platform/carol",
    )

    path = approve(setup, "bob")
    assert path.startswith("tenants/arm-dev/approvals/")
    approval = parse_content((setup.root / path).read_bytes()).model
    assert isinstance(approval, Approval)
    s = approval.statement
    proposed = parse_content((setup.root / "armgit.yaml").read_bytes()).model
    assert isinstance(proposed, Registry)
    assert (s.tenant, s.subject.kind, s.subject.ref, s.change.type, s.change.to) == (
        "arm-dev",
        "Registry",
        "registry",
        "REGISTRY_TRUST_CHANGE",
        field,
    )
    assert s.digest == entity_digest(proposed)
    setup.work.commit_all("bob approves the trust change")
    assert_accepted(setup, "ops")


def test_a_registry_admin_of_another_tenant_approves_from_their_own_folder(setup: Setup) -> None:
    edit_config(setup, PROTECTED, "protectedBranches: [main, release]\n")
    path = approve(setup, "carol")  # the change, uncommitted yet
    assert path.startswith("tenants/platform/approvals/")
    # ops may write it there (no role in platform): it is part of the registry change
    setup.work.commit_all("protect release, approved by carol")
    assert_accepted(setup, "ops")

    # the audit files the approval under the registry, in carol's tenant
    audit = run_armgit(
        "audit", "--repo", str(setup.root), "--type", "APPROVAL_DECIDED", "--format", "jsonl"
    )
    assert audit.returncode == 0, audit.stderr
    [record] = [json.loads(line) for line in audit.stdout.splitlines() if line.strip()]
    assert (record["tenant"], record["target"]) == ("platform", "registry")


def test_the_authors_own_approval_does_not_count(setup: Setup) -> None:
    edit_config(setup, PROTECTED, "protectedBranches: [main, release]\n")
    approve(setup, "ops")
    setup.work.commit_all("protect release, approved by its author")
    assert_refused(
        setup, "ops", "approval-required", "ops is the author of the change: four eyes", "has 0"
    )


def test_an_approval_by_someone_who_is_no_registry_admin_does_not_count(setup: Setup) -> None:
    edit_config(setup, PROTECTED, "protectedBranches: [main, release]\n")
    made = run_armgit(
        "approve", "registry", "--key", str(setup.keys["alice"].private), "--repo", str(setup.root)
    )
    assert made.returncode == 1, made.stderr
    assert "no registry admin (registryAdmins in armgit.yaml) holds the key" in made.stderr

    # alice signs one by hand, with her own registered key: valid, and still not an admin's
    config = parse_content((setup.root / "armgit.yaml").read_bytes()).model
    assert isinstance(config, Registry)
    _hand_approval(setup, "alice", entity_digest(config))
    setup.work.commit_all("protect release, approved by alice")
    assert_refused(
        setup,
        "ops",
        "approval-required",
        "arm-dev/alice is not a registry admin (registryAdmins in armgit.yaml)",
        "has 0",
    )


def test_an_attested_review_does_not_count_for_the_registrys_trust(setup: Setup) -> None:
    edit_config(setup, PROTECTED, "protectedBranches: [main, release]\n")
    config = parse_content((setup.root / "armgit.yaml").read_bytes()).model
    assert isinstance(config, Registry)
    review = {"platform": "github", "reviewId": "1", "login": "bob-okafor", "attestor": "bot"}
    _hand_approval(setup, "bob", entity_digest(config), review=review)
    setup.work.commit_all("protect release, approved by an attested review")
    assert_refused(setup, "ops", "approval-required", "not an attested review")


def test_a_change_of_description_alone_needs_no_approval(setup: Setup) -> None:
    edit_config(setup, "description: The ARM", "description: Our")
    setup.work.commit_all("armgit.yaml: a new description")
    assert_accepted(setup, "ops")


def test_review_shows_the_trust_change_and_who_may_approve_it(setup: Setup) -> None:
    edit_config(setup, PROTECTED, PROTECTED + "attestors: [{name: bot, publicKey: 'KEY'}]\n")
    config = setup.root / "armgit.yaml"
    config.write_text(config.read_text().replace("KEY", setup.keys["alice"].public_line))
    setup.work.commit_all("trust a bot")
    shown = run_armgit(
        "review",
        "origin/main..HEAD",
        "--author",
        "email:ops@arm-dev.com",
        "--repo",
        str(setup.root),
    )
    assert "REGISTRY_TRUST_CHANGE of registry (attestors): 0 of 1 with admin:registry" in (
        shown.stdout
    ), shown.stdout
    assert "attestors: added bot (SHA256:" in shown.stdout
    assert "who may approve: arm-dev/bob, platform/carol" in shown.stdout
    assert "armgit approve registry --key KEY" in shown.stdout


def _hand_approval(
    setup: Setup, approver: str, digest: str, review: dict[str, str] | None = None
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    data: dict[str, object] = {
        "tenant": "arm-dev",
        "subject": {"kind": "Registry", "ref": "registry"},
        "change": {"type": "REGISTRY_TRUST_CHANGE", "to": "protectedBranches"},
        "digest": digest,
        "decision": "APPROVE",
        "approver": approver,
        "justification": "signed by hand",
        "createdAt": format_time(now),
        "expiresAt": format_time(now + timedelta(hours=24)),
    }
    if review is not None:
        data["review"] = review
    statement = Statement.model_validate(data)
    signature = sign_with_ssh_keygen(statement, setup.keys[approver], setup.root.parent)
    setup.write(approval_path(statement), render_approval(statement, signature).decode())


def test_an_attested_review_leaves_the_trust_change_to_a_registry_admin(
    tmp_path: Path, keyed_registry: RegistryFactory
) -> None:
    from tests.integration.test_attest_review import attest, event

    setup = keyed_registry(tmp_path, attestor=True)
    setup.work("checkout", "-q", "-b", "promote-and-protect")
    setup.promote()
    edit_config(setup, PROTECTED, "protectedBranches: [main, release]\n")
    setup.work.commit_all("promote 2.1.0 and protect release")
    code, out = attest(setup, event(setup))
    assert code == 0, out
    assert "APPROVES VERSION_PROMOTION" in out
    assert "REGISTRY_TRUST_CHANGE" not in out
    assert "the change to what armgit.yaml trusts is not attested" in out
    assert len(list((setup.root / "tenants/arm-dev/approvals").iterdir())) == 1


def test_a_lone_registry_admin_adds_a_second_one_and_then_needs_their_approval(
    tmp_path: Path, keyed_registry: RegistryFactory
) -> None:
    # armgit init writes one admin: nobody else could approve, so adding admins is the one
    # trust change that needs no approval then; every other waits for a second pair of eyes
    setup = keyed_registry(tmp_path)
    config = setup.root / "armgit.yaml"
    config.write_text(with_admins(config.read_text(), "registryAdmins: [arm-dev/ops]\n"))
    amend_genesis(setup)

    edit_config(setup, PROTECTED, "protectedBranches: [main, release]\n")
    setup.work.commit_all("protect release")
    assert_refused(
        setup,
        "ops",
        "REGISTRY_TRUST_CHANGE of registry (protectedBranches)",
        "who may approve: nobody yet (add a second registry admin first)",
    )
    setup.work("reset", "-q", "--hard", "origin/main")

    edit_config(
        setup, "registryAdmins: [arm-dev/ops]", "registryAdmins: [arm-dev/ops, arm-dev/bob]"
    )
    setup.work.commit_all("bob becomes a registry admin")
    assert_accepted(setup, "ops")

    edit_config(setup, PROTECTED, "protectedBranches: [main, release]\n")
    setup.work.commit_all("protect release")
    assert_refused(setup, "ops", "who may approve: arm-dev/bob (armgit approve registry")
    approve(setup, "bob")
    setup.work.commit_all("bob approves")
    assert_accepted(setup, "ops")
