"""``armgit approve --attest-review``: an approving GitHub review, attested by a trusted bot key.

The event is a ``pull_request_review`` webhook payload in GitHub's documented format
(``tests/fixtures/github``), with the commit ids of the test's repository patched in.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from armgit.authoring.github_review import parse_review_event
from armgit.core.content import parse_content
from armgit.core.models import Approval
from armgit.core.rules.approvals import statement_message
from tests.approval_helpers import (
    DIGEST_21,
    V21,
    Setup,
    needs_ssh_keygen,
    verify_with_ssh_keygen,
)
from tests.conftest import REPO_ROOT
from tests.integration.conftest import Registry

pytestmark = needs_ssh_keygen

FIXTURE = REPO_ROOT / "tests/fixtures/github/pull_request_review.submitted.approved.json"


@pytest.fixture
def setup(tmp_path: Path, keyed_registry: Registry) -> Setup:
    setup = keyed_registry(tmp_path, attestor=True)
    setup.work("checkout", "-q", "-b", "promote-2.1.0")
    setup.promote()
    setup.work.commit_all("promote customer-support 2.1.0")
    return setup


def event(setup: Setup, **changes: Any) -> Path:
    payload = copy.deepcopy(json.loads(FIXTURE.read_text()))
    head = setup.work("rev-parse", "HEAD")
    payload["review"]["commit_id"] = head
    payload["pull_request"]["head"]["sha"] = head
    payload["pull_request"]["base"]["sha"] = setup.work("rev-parse", "origin/main")
    for dotted, value in changes.items():
        target = payload
        *parents, last = dotted.split("__")
        for key in parents:
            target = target[key]
        target[last] = value
    path = setup.root.parent / "event.json"
    path.write_text(json.dumps(payload))
    return path


def attest(setup: Setup, event_path: Path, key: str = "bot") -> tuple[int, str]:
    from armgit.cli.main import cli

    result = CliRunner().invoke(
        cli,
        [
            "approve", "--attest-review", str(event_path),
            "--key", str(setup.keys[key].private), "--repo", str(setup.root),
        ],
        catch_exceptions=False,
    )  # fmt: skip
    return result.exit_code, result.output


def check(setup: Setup, author: str) -> tuple[int, str]:
    from armgit.cli.main import cli

    result = CliRunner().invoke(
        cli,
        ["check", "--base", "origin/main", "--head", "HEAD", "--author", author,
         "--repo", str(setup.root)],
        catch_exceptions=False,
    )  # fmt: skip
    return result.exit_code, result.output


def test_fixture_is_read_as_github_documents_it() -> None:
    parsed = parse_review_event(FIXTURE.read_bytes())
    assert parsed.approved
    assert (parsed.reviewer, parsed.author, parsed.base_ref, parsed.number) == (
        "bob-okafor",
        "alice-chen",
        "main",
        42,
    )
    assert parsed.review_id == "2712345678"
    assert parsed.url == "https://github.com/arm-dev/agents/pull/42#pullrequestreview-2712345678"


def test_an_approving_review_becomes_an_attested_approval_that_counts(setup: Setup) -> None:
    assert check(setup, "github:alice-chen")[0] == 1
    code, out = attest(setup, event(setup))
    assert code == 0, out
    assert "bob (github:bob-okafor, review 2712345678) APPROVES VERSION_PROMOTION" in out
    path = setup.root / out.split()[1]
    approval = parse_content(path.read_bytes()).model
    assert isinstance(approval, Approval)
    s = approval.statement
    assert (s.approver, s.subject.ref, s.digest, s.decision) == ("bob", V21, DIGEST_21, "APPROVE")
    assert s.review is not None
    assert (s.review.platform, s.review.review_id, s.review.login, s.review.attestor) == (
        "github",
        "2712345678",
        "bob-okafor",
        "github-bot",
    )
    assert s.review.url == "https://github.com/arm-dev/agents/pull/42#pullrequestreview-2712345678"
    assert "on pull request #42: Evaluation report and genome diff reviewed" in s.justification
    verified = verify_with_ssh_keygen(
        statement_message(s), approval.signature, "github-bot", setup.keys["bot"], setup.root.parent
    )
    assert verified.returncode == 0, verified.stderr

    setup.work.commit_all("armgit: attest review 2712345678 by bob-okafor")
    code, out = check(setup, "github:alice-chen")
    assert code == 0, out
    before = setup.server_main()
    pushed = setup.push("alice")
    assert pushed.returncode == 0, pushed.stderr
    assert setup.server_main() != before


def test_the_pr_authors_own_approval_does_not_count_in_ci(setup: Setup) -> None:
    # bob reviews and bob is, for CI, the author: the attested approval is his own
    code, out = attest(setup, event(setup))
    assert code == 0, out
    setup.work.commit_all("attested")
    code, out = check(setup, "github:bob-okafor")
    assert code == 1
    assert "bob is the author of the change" in out


@pytest.mark.parametrize(
    ("changes", "key", "message"),
    [
        ({"review__state": "commented"}, "bot", "is commented: only an approving review"),
        ({"review__state": "changes_requested"}, "bot", "only an approving review"),
        (
            {"pull_request__user": {"login": "bob-okafor"}},
            "bot",
            "bob-okafor reviewed their own pull request",
        ),
        (
            {"review__user": {"login": "mallory"}},
            "bot",
            "github:mallory is not an identity of any operator of 'arm-dev'",
        ),
        ({}, "carol", "is not an attestor in armgit.yaml"),
        ({}, "bob", "is not an attestor in armgit.yaml"),
        (
            {"review__commit_id": "4" * 40},
            "bot",
            "the review approved 444444444444, but the work tree is at",
        ),
    ],
    ids=["commented", "changes-requested", "own-pr", "unknown-login", "untrusted-bot",
         "operator-key", "other-commit"],
)  # fmt: skip
def test_refusals(setup: Setup, changes: dict[str, Any], key: str, message: str) -> None:
    code, out = attest(setup, event(setup, **changes), key=key)
    assert code == 1, out
    assert message in out
    assert not (setup.root / "tenants/arm-dev/approvals").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "the event is not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"action": "opened", "pull_request": {}}', "has no review object"),
        (b'{"review": {"id": 1, "state": "approved"}, "pull_request": {}}', "no review.user"),
    ],
)
def test_unreadable_events_are_usage_errors(setup: Setup, content: bytes, message: str) -> None:
    path = setup.root.parent / "bad.json"
    path.write_bytes(content)
    code, out = attest(setup, path)
    assert code == 2
    assert message in out


def test_nothing_gated_writes_nothing(setup: Setup) -> None:
    setup.work("checkout", "-q", "main")
    setup.work("reset", "-q", "--hard", "origin/main")
    setup.work("checkout", "-q", "-b", "docs-only")
    (setup.root / "README.md").write_text("notes\n")
    setup.work.commit_all("docs")
    code, out = attest(setup, event(setup))
    assert code == 0, out
    assert "nothing gated" in out
