"""An approval binds the whole proposed subject file (SPEC 5): a real push to a hooked server.

bob approves the promotion of 2.1.0 as proposed (``policy: support-prod``); the author then
switches the version's ``policy:`` before it lands. Squashed into one commit or merged from a
branch whose first commit the approval fits, the push is refused: the promotion that lands is
not the content bob approved. An approval made before armgit bound whole files (it binds the
genome hash) is refused with a reason that says to re-approve.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.approval_helpers import (
    HASH_21,
    V21_FILE,
    Setup,
    add_hand_approval,
    needs_ssh_keygen,
    statement_for,
)
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
