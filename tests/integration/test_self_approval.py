"""Four eyes at the time it matters: ``approve`` warns the change's own author, and ``review``
without ``--author`` takes the authors from the commits and says whose approvals will not count.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from armgit.cli.main import cli
from tests.approval_helpers import V21, Setup, needs_ssh_keygen
from tests.integration.conftest import Registry

pytestmark = needs_ssh_keygen

BOB = {"GIT_AUTHOR_NAME": "Bob Okafor", "GIT_AUTHOR_EMAIL": "bob@arm-dev.example"}
WARNING = "armgit: warning: you (bob) authored this change"


@pytest.fixture
def setup(tmp_path: Path, keyed_registry: Registry) -> Setup:
    setup = keyed_registry(tmp_path)
    setup.work("checkout", "-q", "-b", "feature")
    return setup


def approve(setup: Setup, key: str = "bob") -> Result:
    return CliRunner().invoke(
        cli,
        ["approve", V21, "--key", str(setup.keys[key].private), "--repo", str(setup.root)],
        catch_exceptions=False,
    )


def test_approving_ones_own_commit_warns(setup: Setup) -> None:
    setup.promote()
    setup.work("add", "-A")
    setup.work("commit", "-q", "-m", "promote 2.1.0", env=BOB)
    commit = setup.work("rev-parse", "HEAD")
    result = approve(setup)
    assert result.exit_code == 0, result.output
    assert WARNING in result.stderr
    assert f"Bob Okafor <bob@arm-dev.example> (commit {commit[:12]})" in result.stderr
    assert "ask another operator" in result.stderr
    assert "wrote tenants/arm-dev/approvals/" in result.stdout  # still written: a warning


def test_approving_ones_own_uncommitted_change_warns(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup.promote()
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Bob Okafor")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "bob@arm-dev.example")
    result = approve(setup)
    assert result.exit_code == 0, result.output
    assert "Bob Okafor <bob@arm-dev.example> (uncommitted, user.email)" in result.stderr


def test_approving_someone_elses_change_says_nothing(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup.promote()
    setup.work.commit_all("promote 2.1.0")  # by the test author, no operator
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "bob@arm-dev.example")  # bob only approves
    result = approve(setup)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_review_without_author_takes_the_commits_authors(setup: Setup) -> None:
    setup.promote()
    setup.work("add", "-A")
    setup.work("commit", "-q", "-m", "promote 2.1.0", env=BOB)
    assert approve(setup).exit_code == 0
    setup.work.commit_all("bob approves")
    result = CliRunner().invoke(
        cli, ["review", "main..HEAD", "--repo", str(setup.root)], catch_exceptions=False
    )
    assert result.exit_code == 0
    out = result.output
    assert (
        "Authors, from the commits (--author IDENTITY names who makes the change): "
        "Bob Okafor <bob@arm-dev.example>, Test Author <author@example.invalid>; "
        "approvals by arm-dev/bob will not count"
    ) in out
    assert "0 of 1 with approve:versions: MISSING 1" in out
    assert "does not count: " in out
    as_json = CliRunner().invoke(
        cli, ["review", "main..HEAD", "--repo", str(setup.root), "--format", "json"]
    )
    data = json.loads(as_json.stdout)
    assert data["authors"]["operators"] == ["arm-dev/bob"]
    (gate,) = data["gates"]
    assert not gate["satisfied"]
    assert "bob" not in gate["eligible"]
    # named exactly, the pull request's author decides instead
    named = CliRunner().invoke(
        cli,
        ["review", "main..HEAD", "--repo", str(setup.root), "--author", "github:alice-chen"],
    )
    assert "Authors, from the commits" not in named.output
    assert "1 of 1 with approve:versions: APPROVED" in named.output
