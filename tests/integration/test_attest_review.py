"""``armgit approve --attest-review``: an approving GitHub review, attested by a trusted bot key.

The event is a ``pull_request_review`` webhook payload in GitHub's documented format
(``tests/fixtures/github``), with the commit ids of the test's repository patched in.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from armgit.authoring.github_review import parse_review_event
from armgit.core.content import parse_content
from armgit.core.models import Approval
from armgit.core.rules.approvals import statement_message
from tests.approval_helpers import (
    DIGEST_21,
    V21,
    Setup,
    amend_genesis,
    needs_ssh_keygen,
    verify_with_ssh_keygen,
)
from tests.conftest import REPO_ROOT, run_armgit
from tests.github_api_server import REPOSITORY, TOKEN, github_api, recorded
from tests.integration.conftest import Registry

pytestmark = needs_ssh_keygen

WORKFLOW = REPO_ROOT / "docs/github/armgit-attest-review.yml"
FIXTURE = REPO_ROOT / "tests/fixtures/github/pull_request_review.submitted.approved.json"


@pytest.fixture
def setup(tmp_path: Path, keyed_registry: Registry) -> Setup:
    setup = keyed_registry(tmp_path, attestor=True)
    setup.work("checkout", "-q", "-b", "promote-2.1.0")
    setup.promote()
    setup.work.commit_all("promote customer-support 2.1.0")
    return setup


def patched(data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``data`` with ``a__b=value`` set at ``data["a"]["b"]``."""
    data = copy.deepcopy(data)
    for dotted, value in changes.items():
        target = data
        *parents, last = dotted.split("__")
        for key in parents:
            target = target[key]
        target[last] = value
    return data


def event(setup: Setup, **changes: Any) -> Path:
    payload = copy.deepcopy(json.loads(FIXTURE.read_text()))
    head = setup.work("rev-parse", "HEAD")
    payload["review"]["commit_id"] = head
    payload["pull_request"]["head"]["sha"] = head
    payload["pull_request"]["base"]["sha"] = setup.work("rev-parse", "origin/main")
    path = setup.root.parent / "event.json"
    path.write_text(json.dumps(patched(payload, changes)))
    return path


Answers = dict[str, tuple[int, dict[str, Any]]]


def source(
    setup: Setup,
    review: dict[str, Any] | None = None,
    pull: dict[str, Any] | None = None,
    permission: dict[str, Any] | None = None,
) -> Answers:
    """What the API says: the recorded review of the checked-out head by bob-okafor (write
    access) on alice-chen's open pull request #42, with ``review``/``pull``/``permission``
    changes (``a__b=value``)."""
    head = setup.work("rev-parse", "HEAD")
    answer = patched(recorded("review"), {"commit_id": head, **(review or {})})
    pr = patched(
        recorded("pull"),
        {"head__sha": head, "base__sha": setup.work("rev-parse", "origin/main"), **(pull or {})},
    )
    login = answer["user"]["login"]
    role = patched(recorded("permission"), {"user__login": login, **(permission or {})})
    return {
        "pulls/42": (200, pr),
        f"pulls/42/reviews/{answer['id']}": (200, answer),
        f"collaborators/{login}/permission": (200, role),
    }


def attest(
    setup: Setup,
    event_path: Path,
    key: str = "bot",
    answers: Answers | None = None,
    env: dict[str, str | None] | None = None,
) -> tuple[int, str]:
    """``armgit approve --attest-review`` with the API played by a loopback server (by default
    confirming the event: :func:`source`)."""
    from armgit.cli.main import cli

    with github_api() as (url, state):
        state.answers.update(source(setup) if answers is None else answers)
        result = CliRunner().invoke(
            cli,
            [
                "approve", "--attest-review", str(event_path),
                "--key", str(setup.keys[key].private), "--repo", str(setup.root),
            ],
            env={
                "GITHUB_API_URL": url,
                "GITHUB_TOKEN": TOKEN,
                "GITHUB_REPOSITORY": REPOSITORY,
                **(env or {}),
            },
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


REFUSALS: list[tuple[str, dict[str, Any], str, str]] = [
    # (id, what the API says differently, the key, the message)
    ("commented", {"review": {"state": "COMMENTED"}}, "bot", "is commented: only an approving"),
    ("pending", {"review": {"state": "PENDING"}}, "bot", "is pending: only an approving"),
    (
        "own-pr",
        {"pull": {"user": {"login": "bob-okafor", "id": 70000002}}},
        "bot",
        "bob-okafor reviewed their own pull request",
    ),
    (
        "unknown-login",
        {"review": {"user": {"login": "mallory", "id": 99}}},
        "bot",
        "github:mallory (github-id:99) is not an identity of any operator of 'arm-dev'",
    ),
    (
        "read-only-reviewer",
        {"permission": {"permission": "read", "role_name": "read"}},
        "bot",
        "bob-okafor has read permission on arm-dev/agents: only a reviewer who may write",
    ),
    (
        "triage-reviewer",
        {"permission": {"permission": "read", "role_name": "triage"}},
        "bot",
        "bob-okafor has triage permission",
    ),
    (
        "wrong-commit",
        {"review": {"commit_id": "4" * 40}},
        "bot",
        "review 2712345678 approved 444444444444, but the pull request's head is",
    ),
    (
        "stale-checkout",
        {"review": {"commit_id": "5" * 40}, "pull": {"head__sha": "5" * 40}},
        "bot",
        "the pull request's head is 555555555555, but the work tree is at",
    ),
    ("closed", {"pull": {"state": "closed"}}, "bot", "pull request #42 is closed"),
    ("untrusted-bot", {}, "carol", "is not an attestor in armgit.yaml"),
    ("operator-key", {}, "bob", "is not an attestor in armgit.yaml"),
]


@pytest.mark.parametrize(
    ("differences", "key", "message"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_refusals(setup: Setup, differences: dict[str, Any], key: str, message: str) -> None:
    code, out = attest(setup, event(setup), key=key, answers=source(setup, **differences))
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


def test_a_reviewer_who_is_no_collaborator_is_refused(setup: Setup) -> None:
    answers = source(setup)
    del answers["collaborators/bob-okafor/permission"]  # GitHub answers 404
    code, out = attest(setup, event(setup), answers=answers)
    assert code == 1, out
    assert "bob-okafor has none permission on arm-dev/agents" in out


# -- the review checked at its source -----------------------------------------------------------


def test_a_forged_event_is_refused(setup: Setup) -> None:
    """A hand-written event naming a review GitHub does not have: nothing is attested."""
    code, out = attest(setup, event(setup, review__id=999))
    assert code == 1, out
    assert "GitHub has no review 999 of pull request #42 in arm-dev/agents" in out
    assert "the event is not GitHub's" in out
    assert not (setup.root / "tenants/arm-dev/approvals").exists()


def test_an_event_that_lies_about_the_state_is_attested_as_the_source_says(setup: Setup) -> None:
    """The event says approved; GitHub says changes were requested: a REJECT, not an APPROVE."""
    answers = source(setup, review={"state": "CHANGES_REQUESTED"})
    code, out = attest(setup, event(setup), answers=answers)
    assert code == 0, out
    assert "REJECTS VERSION_PROMOTION" in out
    (approval,) = approvals(setup)
    assert approval.statement.decision == "REJECT"


def test_the_event_names_only_the_review_everything_else_comes_from_the_api(setup: Setup) -> None:
    """The event's reviewer, state and commit are ignored: the API's are attested."""
    lying = event(
        setup,
        review__user={"login": "alice-chen", "id": 70000001},
        review__state="commented",
        review__commit_id="4" * 40,
    )
    with github_api() as (url, state):
        state.answers.update(source(setup))
        result = run_armgit(
            "approve", "--attest-review", str(lying), "--key", str(setup.keys["bot"].private),
            "--repo", str(setup.root),
            env={"GITHUB_API_URL": url, "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPOSITORY},
        )  # fmt: skip
        asked = list(state.asked)
    assert result.returncode == 0, result.stderr
    assert "bob (github:bob-okafor, review 2712345678) APPROVES" in result.stdout
    assert asked == [
        "/repos/arm-dev/agents/pulls/42",
        "/repos/arm-dev/agents/pulls/42/reviews/2712345678",
        "/repos/arm-dev/agents/collaborators/bob-okafor/permission",
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GITHUB_TOKEN": None}, "GITHUB_TOKEN is not set"),
        ({"GITHUB_TOKEN": "wrong"}, "401 Unauthorized"),
        ({"GITHUB_REPOSITORY": "arm-dev"}, "GITHUB_REPOSITORY is 'arm-dev', not OWNER/NAME"),
        ({"GITHUB_API_URL": "http://api.example.invalid"}, "the API is reached over https"),
    ],
    ids=["no-token", "bad-token", "no-repository", "plain-http"],
)
def test_without_the_api_nothing_is_attested(
    setup: Setup, env: dict[str, str | None], message: str
) -> None:
    code, out = attest(setup, event(setup), env=env)
    assert code == 2, out
    assert message in out
    assert not (setup.root / "tenants/arm-dev/approvals").exists()


# -- the approval follows the review --------------------------------------------------------


def approvals(setup: Setup) -> list[Approval]:
    folder = setup.root / "tenants/arm-dev/approvals"
    found = []
    for path in sorted(folder.iterdir()) if folder.exists() else []:
        model = parse_content(path.read_bytes()).model
        assert isinstance(model, Approval)
        found.append(model)
    return found


def test_a_review_dismissed_after_attestation_is_rejected_before_merge(setup: Setup) -> None:
    code, out = attest(setup, event(setup))
    assert code == 0, out
    setup.work.commit_all("armgit: attest review 2712345678 by bob-okafor")
    assert check(setup, "github:alice-chen")[0] == 0

    dismissed = event(setup, action="dismissed", review__state="dismissed")
    answers = source(setup, review={"state": "DISMISSED"})
    code, out = attest(setup, dismissed, answers=answers)
    assert code == 0, out
    assert "bob (github:bob-okafor, review 2712345678) REJECTS VERSION_PROMOTION" in out
    rejection = next(a for a in approvals(setup) if a.statement.decision == "REJECT")
    assert rejection.statement.review is not None
    assert rejection.statement.review.user_id == "70000002"
    assert "was dismissed: its approval is withdrawn" in rejection.statement.justification
    setup.work.commit_all("armgit: review 2712345678 by bob-okafor dismissed")
    code, out = check(setup, "github:alice-chen")
    assert code == 1
    assert "REJECTED by bob" in out
    before = setup.server_main()
    pushed = setup.push("alice")
    assert pushed.returncode != 0
    assert "REJECTED by bob" in pushed.stderr
    assert setup.server_main() == before


def test_changes_requested_is_a_reject(setup: Setup) -> None:
    requested = event(setup, review__state="changes_requested")
    code, out = attest(
        setup, requested, answers=source(setup, review={"state": "CHANGES_REQUESTED"})
    )
    assert code == 0, out
    (rejection,) = approvals(setup)
    assert rejection.statement.decision == "REJECT"
    assert "requested changes" in rejection.statement.justification
    setup.work.commit_all("armgit: changes requested")
    code, out = check(setup, "github:alice-chen")
    assert code == 1
    assert "REJECTED by bob" in out


def test_a_review_by_no_operator_rejects_nothing(setup: Setup) -> None:
    answers = source(setup, review={"state": "DISMISSED", "user": {"login": "mallory", "id": 99}})
    code, out = attest(setup, event(setup, review__state="dismissed"), answers=answers)
    assert code == 0, out
    assert "nothing to withdraw" in out
    assert approvals(setup) == []


# -- identities bound to the account's number ----------------------------------------------


def bind_bob(setup: Setup, identities: str) -> None:
    """bob's identities on main (the base), set from the start."""
    old = setup.work("rev-parse", "main")
    setup.work("checkout", "-q", "main")
    bob = setup.root / "tenants/arm-dev/operators/bob.yaml"
    bob.write_text(
        bob.read_text().replace(
            'identities: ["github:bob-okafor", "email:bob@arm-dev.example"]', identities
        )
    )
    amend_genesis(setup)
    setup.work("checkout", "-q", "promote-2.1.0")
    setup.work("rebase", "-q", "--onto", "main", old)


def test_an_id_identity_follows_a_renamed_account(setup: Setup) -> None:
    bind_bob(setup, 'identities: ["github-id:70000002"]')
    renamed = {"user": {"login": "bob-o", "id": 70000002}}
    answers = source(setup, review=renamed)
    code, out = attest(setup, event(setup), answers=answers)
    assert code == 0, out
    (approval,) = approvals(setup)
    assert approval.statement.review is not None
    assert (approval.statement.review.login, approval.statement.review.user_id) == (
        "bob-o",
        "70000002",
    )
    setup.work.commit_all("attested")
    code, out = check(setup, "github:alice-chen")
    assert code == 0, out


def test_an_id_identity_is_not_matched_by_a_reused_login(setup: Setup) -> None:
    """bob is bound to his account's number: another account that took the login is not bob."""
    bind_bob(setup, 'identities: ["github:bob-okafor", "github-id:70000002"]')
    taken = {"user": {"login": "bob-okafor", "id": 81234567}}
    code, out = attest(setup, event(setup), answers=source(setup, review=taken))
    assert code == 1, out
    assert "github:bob-okafor (github-id:81234567) is not an identity of any operator" in out


# -- the workflow's own step ---------------------------------------------------------------------


def test_the_workflow_step_attests_a_recorded_event_against_the_api(setup: Setup) -> None:
    """The attest step of docs/github/armgit-attest-review.yml, run by bash as the runner runs
    it: the registry checked out at ./registry, the recorded event, the bot key from the
    environment, the API on a loopback server."""
    workflow = YAML(typ="safe").load(WORKFLOW.read_text())
    (step,) = [
        s for s in workflow["jobs"]["attest"]["steps"] if s.get("name", "").startswith("Attest")
    ]
    workspace = setup.root.parent
    assert setup.root == workspace / "registry"
    runner_temp = workspace / "runner-temp"
    runner_temp.mkdir()
    bin_dir = str(Path(sys.executable).parent)
    with github_api() as (url, state):
        state.answers.update(source(setup))
        result = subprocess.run(
            ["bash", "-e", "-c", step["run"]],
            cwd=workspace,
            env={
                **os.environ,
                "PATH": f"{bin_dir}:{os.environ['PATH']}",
                "PYTHONPATH": str(REPO_ROOT),
                "RUNNER_TEMP": str(runner_temp),
                "EVENT": str(event(setup)),
                "ARMGIT_BOT_KEY": setup.keys["bot"].private.read_text(),
                "GITHUB_TOKEN": TOKEN,
                "GITHUB_API_URL": url,
                "GITHUB_REPOSITORY": REPOSITORY,
            },
            capture_output=True,
            text=True,
            check=False,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "bob (github:bob-okafor, review 2712345678) APPROVES VERSION_PROMOTION" in result.stdout
    assert list(runner_temp.iterdir()) == []  # the key file is gone
    (approval,) = approvals(setup)
    assert approval.statement.review is not None
    assert approval.statement.review.attestor == "github-bot"
