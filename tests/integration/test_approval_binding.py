"""An approval binds the whole proposed subject file (SPEC 5): a real push to a hooked server.

bob approves the promotion of 2.1.0 as proposed (``policy: support-prod``); the author then
switches the version's ``policy:`` before it lands. Squashed into one commit or merged from a
branch whose first commit the approval fits, the push is refused: the promotion that lands is
not the content bob approved. An approval made before armgit bound whole files (it binds the
genome hash) is refused with a reason that says to re-approve.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from armgit.core.timeutil import format_time
from tests.approval_helpers import (
    HASH_21,
    V21_FILE,
    Setup,
    add_hand_approval,
    needs_ssh_keygen,
    statement_for,
)
from tests.conftest import run_armgit
from tests.integration.conftest import Registry

pytestmark = needs_ssh_keygen


@pytest.fixture
def setup(tmp_path: Path, keyed_registry: Registry) -> Setup:
    return keyed_registry(tmp_path)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def push(setup: Setup, pusher: str) -> tuple[int, str]:
    before = setup.server_main()
    result = setup.push(pusher)
    if result.returncode != 0:
        assert setup.server_main() == before
    return result.returncode, result.stderr


def switch_policy(setup: Setup) -> None:
    path = setup.root / V21_FILE
    path.write_text(path.read_text().replace("policy: support-prod", "policy: support-default"))


def test_the_reviewed_promotion_lands(setup: Setup) -> None:
    """The control: the approval of the file as proposed admits it."""
    setup.promote()
    add_hand_approval(setup, statement_for(approver="bob", created=now()), "bob")
    setup.work.commit_all("promote 2.1.0, approved by bob")
    code, err = push(setup, "alice")
    assert code == 0, err


def test_a_policy_switched_after_review_is_refused(setup: Setup) -> None:
    setup.promote()
    add_hand_approval(setup, statement_for(approver="bob", created=now()), "bob")
    switch_policy(setup)
    setup.work.commit_all("promote 2.1.0 (squashed: approved, then its policy switched)")
    code, err = push(setup, "alice")
    assert code != 0
    assert "approval-required" in err
    assert "arm-dev/customer-support@2.1.0 was edited after it was approved" in err
    assert "re-approve the file as it stands (armgit approve)" in err


def test_a_policy_switched_on_the_branch_after_review_is_refused_at_the_merge(
    setup: Setup,
) -> None:
    """The branch's first commit is what bob approved; its second switches the policy; the merge
    into main is judged from main, as the change that lands."""
    setup.work("checkout", "-q", "-b", "feature")
    setup.promote()
    add_hand_approval(setup, statement_for(approver="bob", created=now()), "bob")
    setup.work.commit_all("promote 2.1.0, approved by bob")
    switch_policy(setup)
    setup.work.commit_all("2.1.0 runs under support-default")
    setup.work("checkout", "-q", "main")
    setup.work("merge", "-q", "--no-ff", "-m", "merge feature", "feature")
    code, err = push(setup, "alice")
    assert code != 0
    assert "was edited after it was approved" in err


def test_an_approval_of_the_genome_only_is_refused_with_a_reason_to_re_approve(
    setup: Setup,
) -> None:
    setup.promote()
    add_hand_approval(setup, statement_for(approver="bob", digest=HASH_21, created=now()), "bob")
    setup.work.commit_all("promote 2.1.0 with an approval of its genome")
    code, err = push(setup, "alice")
    assert code != 0
    assert "it binds only the genome hash" in err
    assert "re-approve the proposed arm-dev/customer-support@2.1.0 (armgit approve)" in err


@pytest.mark.parametrize(
    ("made", "verified"),
    [
        pytest.param(datetime(2026, 12, 5, 12, tzinfo=UTC), True, id="before-whole-file-binding"),
        pytest.param(datetime(2026, 12, 7, 12, tzinfo=UTC), False, id="since-whole-file-binding"),
    ],
)
def test_verify_judges_a_genome_only_approval_by_the_binding_of_its_time(
    setup: Setup, made: datetime, verified: bool
) -> None:
    """Upgrading keeps the history an earlier armgit admitted: a promotion approved, before
    approvals bound whole files, by an approval of the genome hash stays verified, and the audit
    still links the approval; one made since is refused, whatever the commit says."""
    setup.promote()
    add_hand_approval(setup, statement_for(approver="bob", digest=HASH_21, created=made), "bob")
    setup.work.commit_all("promote 2.1.0", when=format_time(made + timedelta(hours=1)))
    result = run_armgit("verify", "--repo", str(setup.root))
    audit = run_armgit("audit", "--repo", str(setup.root), "--format", "jsonl")
    assert audit.returncode == 0, audit.stderr
    promotions = [
        json.loads(line)
        for line in audit.stdout.splitlines()
        if '"VERSION_TRANSITIONED"' in line and '"APPROVED"' in line
    ]
    assert len(promotions) == 1
    if verified:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "INTEGRITY_VERIFIED" in result.stdout
        assert promotions[0]["approvals"], promotions[0]
    else:
        assert result.returncode == 1
        assert "it binds only the genome hash" in result.stdout
        assert not promotions[0]["approvals"]


def test_a_genome_only_approval_backdated_before_the_cutover_is_refused(setup: Setup) -> None:
    """Named hole: backdating ``createdAt`` to before whole-file binding, to make an approval of
    the genome alone count for a promotion pushed today. To be valid now it must live from
    before the cutover until after now; once that is longer than the rule's 48 hours (from
    2026-12-07 on; until then it is the genuine window of an approval made on 2026-12-05), it is
    refused by a real push, the server left as it was."""
    made = datetime(2026, 12, 5, 23, tzinfo=UTC)
    valid_for = max(now() - made + timedelta(hours=1), timedelta(hours=49))
    statement = statement_for(approver="bob", digest=HASH_21, created=made, valid_for=valid_for)
    add_hand_approval(setup, statement, "bob")
    setup.promote()
    setup.work.commit_all("promote 2.1.0 with a backdated approval of its genome")
    code, err = push(setup, "alice")
    assert code != 0
    assert "valid for longer than the rule's 48h" in err
