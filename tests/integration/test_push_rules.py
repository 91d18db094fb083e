"""The server hook with real pushes: each rule refused with its id, the good change accepted,
and after every refusal the server exactly as it was."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, GIT_ENV, REPO_ROOT, Git, run_armgit

T = "tenants/arm-dev"
V1 = f"{T}/templates/customer-support/versions/1.0.0.yaml"
V2 = f"{T}/templates/customer-support/versions/2.0.0.yaml"
ALICE = "github:alice-chen"  # engineer
OPS = "ops"  # admin


class Server:
    """A bare server repository with the armgit hook, and a clone to push from."""

    def __init__(self, root: Path) -> None:
        self.bare = root / "server.git"
        self.work = Git(root / "work")
        shutil.copytree(EXAMPLE, self.work.path)
        self.work("init", "-q", "-b", "main")
        self.work.commit_all("genesis")
        Git(root)("init", "-q", "--bare", "-b", "main", str(self.bare))
        installed = run_armgit("hooks", "install", "--server", str(self.bare))
        assert installed.returncode == 0, installed.stderr
        self.work("remote", "add", "origin", str(self.bare))
        assert self.push(OPS).returncode == 0

    def push(self, pusher: str | None, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO_ROOT)}
        env.pop("ARMGIT_PUSHER", None)
        if pusher is not None:
            env["ARMGIT_PUSHER"] = pusher
        return subprocess.run(
            ["git", "push", "origin", *(args or ("main",))],
            cwd=self.work.path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    def tip(self) -> str:
        return Git(self.bare)("rev-parse", "main")

    def has(self, oid: str) -> bool:
        found = subprocess.run(
            ["git", "cat-file", "-e", oid], cwd=self.bare, check=False, capture_output=True
        )
        return found.returncode == 0

    def edit(self, path: str, old: str, new: str) -> None:
        file = self.work.path / path
        text = file.read_text()
        assert old in text, (path, old)
        file.write_text(text.replace(old, new, 1))

    def refused(self, pusher: str | None, rule: str) -> str:
        """Commit the work tree, push it, expect refusal with ``rule``, and undo the commit."""
        before = self.tip()
        commit = self.work.commit_all("change")
        result = self.push(pusher)
        assert result.returncode != 0, result.stderr
        assert f": {rule}: " in result.stderr, result.stderr
        assert "pre-receive hook declined" in result.stderr
        assert "Traceback" not in result.stderr
        assert self.tip() == before
        assert not self.has(commit), "a refused push left its objects on the server"
        self.work("reset", "-q", "--hard", "HEAD~1")
        return result.stderr

    def accepted(self, pusher: str) -> None:
        commit = self.work.commit_all("change")
        result = self.push(pusher)
        assert result.returncode == 0, result.stderr
        assert self.tip() == commit


@pytest.fixture
def server(tmp_path: Path) -> Server:
    return Server(tmp_path)


def test_tampered_genome_is_refused(server: Server) -> None:
    server.edit(V2, "maxTokens: 8192", "maxTokens: 9000")
    server.refused(ALICE, "genome-hash-mismatch")


def test_rehashed_genome_is_still_refused(server: Server) -> None:
    from armgit.api import hash_file

    server.edit(V2, "maxTokens: 8192", "maxTokens: 9000")
    new_hash = hash_file(server.work.path / V2).genome_hash
    assert new_hash is not None
    old_hash = "sha256:0a4da8a935cf04ba613f5f8662069860f218417181a7be396f847dc9ecde8bb6"
    server.edit(V2, f"genomeHash: {old_hash}", f"genomeHash: {new_hash}")
    server.refused(ALICE, "genome-immutable")


def test_deleting_a_version_is_refused_retiring_is_accepted(server: Server) -> None:
    (server.work.path / V1).unlink()
    server.refused(OPS, "version-deleted")
    server.edit(V1, "lifecycle: DEPRECATED", "lifecycle: RETIRED")
    server.accepted(ALICE)


def test_illegal_transition_is_refused(server: Server) -> None:
    server.edit(V2, "lifecycle: APPROVED", "lifecycle: DRAFT")
    stderr = server.refused(ALICE, "illegal-transition")
    assert "from APPROVED it may go to: DEPRECATED" in stderr


def new_version(
    server: Server, label: str, lifecycle: str = "DRAFT", evaluation: str = "PASS"
) -> None:
    text = (server.work.path / V2).read_text()
    text = text.replace("label: 2.0.0", f"label: {label}").replace("parent: 1.0.0", "parent: 2.0.0")
    text = text.replace("lifecycle: APPROVED", f"lifecycle: {lifecycle}")
    text = text.replace("status: PASS", f"status: {evaluation}")
    (server.work.path / f"{T}/templates/customer-support/versions/{label}.yaml").write_text(text)


def test_new_versions_take_a_guarded_path_from_draft(server: Server) -> None:
    # a new version may arrive past DRAFT (a squashed pull request) when every guard along
    # DRAFT -> TESTING -> CANDIDATE -> APPROVED holds at that commit
    new_version(server, "2.1.0", lifecycle="CANDIDATE", evaluation="NOT_RUN")
    assert "passes TESTING -> CANDIDATE" in server.refused(ALICE, "transition-guard")
    new_version(server, "2.1.0", lifecycle="APPROVED")
    assert "VERSION_PROMOTION" in server.refused(ALICE, "approval-required")
    new_version(server, "2.1.0", lifecycle="CANDIDATE")
    server.accepted(ALICE)
    (server.work.path / f"{T}/templates/customer-support/versions/2.1.0.yaml").unlink()
    server.refused(ALICE, "version-deleted")


def test_versions_are_born_draft_and_guarded(server: Server) -> None:
    new_version(server, "2.1.0", lifecycle="RETIRED")
    server.refused(ALICE, "approval-required")  # the path passes CANDIDATE -> APPROVED
    new_version(server, "2.1.0", evaluation="NOT_RUN")
    server.accepted(ALICE)
    path = f"{T}/templates/customer-support/versions/2.1.0.yaml"
    server.edit(path, "lifecycle: DRAFT", "lifecycle: TESTING")
    server.accepted(ALICE)
    server.edit(path, "lifecycle: TESTING", "lifecycle: CANDIDATE")
    stderr = server.refused(ALICE, "transition-guard")
    assert "needs evaluation status PASS" in stderr
    server.edit(path, "lifecycle: TESTING", "lifecycle: CANDIDATE")
    server.edit(path, "status: NOT_RUN", "status: PASS")
    server.accepted(ALICE)
    server.edit(path, "lifecycle: CANDIDATE", "lifecycle: APPROVED")
    stderr = server.refused(ALICE, "approval-required")
    assert "who may approve: bob" in stderr


def test_each_commit_of_a_range_is_checked(server: Server) -> None:
    server.edit(V2, "maxTokens: 8192", "maxTokens: 9000")
    server.work.commit_all("tamper")
    server.edit(V2, "maxTokens: 9000", "maxTokens: 8192")
    server.refused(ALICE, "genome-hash-mismatch")  # the end points are equal; the history is not


def test_permissions_come_from_roles_in_the_parent_commit(server: Server) -> None:
    server.edit(V1, "lifecycle: DEPRECATED", "lifecycle: RETIRED")
    server.refused("mallory", "permission-denied")
    # alice, an engineer, cannot make herself an admin in the same push
    server.edit(f"{T}/operators/alice.yaml", "role: engineer", "role: admin")
    stderr = server.refused(ALICE, "permission-denied")
    assert "assign:roles" in stderr


def test_unknown_pusher_is_refused(server: Server) -> None:
    server.edit(V1, "lifecycle: DEPRECATED", "lifecycle: RETIRED")
    # a change, then (refused() undoes it) a commit that changes nothing: fail closed either way
    for _ in ("retire", "empty"):
        stderr = server.refused(None, "permission-denied")
        assert "cannot tell who is pushing to protected branch main" in stderr
        assert "ARMGIT_PUSHER, GL_USERNAME" in stderr


def test_state_rules_are_enforced_on_push(server: Server) -> None:
    server.edit(f"{T}/instances/support-prod-1.yaml", "policy: support-prod", "policy: nowhere")
    server.refused(ALICE, "dangling-reference")


def test_autonomy_increase_needs_approval(server: Server) -> None:
    """support-prod governs the prod deployment and instance: both run at a higher tier."""
    server.edit(f"{T}/policies/support-prod.yaml", "autonomyTier: 2", "autonomyTier: 3")
    stderr = server.refused(OPS, "approval-required")
    assert "POLICY_AUTONOMY_INCREASE of arm-dev/instance/support-prod-1" in stderr
    assert "POLICY_AUTONOMY_INCREASE of arm-dev/deployment/prod/customer-support" in stderr


def test_raising_a_policy_that_governs_no_target_needs_no_approval(server: Server) -> None:
    """support-default is the template's policy, but every target runs support-prod."""
    server.edit(f"{T}/policies/support-default.yaml", "autonomyTier: 2", "autonomyTier: 3")
    server.accepted(OPS)


def test_protected_history_is_append_only(server: Server) -> None:
    server.edit(V1, "lifecycle: DEPRECATED", "lifecycle: RETIRED")
    server.accepted(ALICE)
    before = server.tip()
    server.work("reset", "-q", "--hard", "HEAD~1")
    result = server.push(OPS, "--force", "main")
    assert result.returncode != 0
    assert "history-rewrite" in result.stderr
    assert server.tip() == before
    result = server.push(OPS, ":main")
    assert result.returncode != 0
    assert "history-rewrite" in result.stderr
    assert server.tip() == before


def test_other_branches_are_proposals(server: Server) -> None:
    server.work("checkout", "-q", "-b", "feature")
    server.edit(V2, "maxTokens: 8192", "maxTokens: 9000")
    server.work.commit_all("work in progress")
    assert server.push(None, "feature").returncode == 0


def test_racing_pushes_cannot_both_land(server: Server, tmp_path: Path) -> None:
    other = Git(tmp_path / "other")
    Git(tmp_path)("clone", "-q", "-b", "main", str(server.bare), str(other.path))
    server.edit(V1, "lifecycle: DEPRECATED", "lifecycle: RETIRED")
    server.work.commit_all("retire 1.0.0")
    (other.path / V1).write_text((other.path / V1).read_text().replace("DEPRECATED", "RETIRED"))
    other.commit_all("retire 1.0.0 too", when="2026-02-02T10:00:00Z")
    env = {**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO_ROOT), "ARMGIT_PUSHER": ALICE}
    processes = [
        subprocess.Popen(
            ["git", "push", "origin", "main"], cwd=repo, env=env, stderr=subprocess.PIPE, text=True
        )
        for repo in (server.work.path, other.path)
    ]
    codes = [p.wait(timeout=60) for p in processes]
    for p in processes:
        assert p.stderr is not None
        p.stderr.close()
    assert sorted(codes) == [0, 1]
    check = run_armgit("validate", "--repo", str(server.bare))
    assert check.returncode == 0, check.stdout


def test_the_client_hook_refuses_a_bad_commit(server: Server) -> None:
    installed = run_armgit("hooks", "install", "--client", "--repo", str(server.work.path))
    assert installed.returncode == 0, installed.stderr
    env = {**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO_ROOT)}
    server.edit(V2, "lifecycle: APPROVED", "lifecycle: DRAFT")
    server.work("add", "-A")
    result = subprocess.run(
        ["git", "commit", "-qm", "demote"],
        cwd=server.work.path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "illegal-transition" in result.stderr
    server.edit(V2, "lifecycle: DRAFT", "lifecycle: DEPRECATED")
    server.work("add", "-A")
    result = subprocess.run(
        ["git", "commit", "-qm", "deprecate"],
        cwd=server.work.path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "commit", [["commit", "-qam", "demote"], ["commit", "-qm", "demote", V2]], ids=["-a", "PATH"]
)
def test_the_client_hook_sees_what_commit_a_and_commit_path_stage(
    server: Server, commit: list[str]
) -> None:
    # git stages these into a temporary index named in GIT_INDEX_FILE, not .git/index
    installed = run_armgit("hooks", "install", "--client", "--repo", str(server.work.path))
    assert installed.returncode == 0, installed.stderr
    env = {**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO_ROOT)}
    head = server.work("rev-parse", "HEAD")
    server.edit(V2, "lifecycle: APPROVED", "lifecycle: DRAFT")
    result = subprocess.run(
        ["git", *commit], cwd=server.work.path, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "illegal-transition" in result.stderr
    assert server.work("rev-parse", "HEAD") == head


def test_hooks_install_refuses_to_replace_a_foreign_hook(tmp_path: Path) -> None:
    Git(tmp_path)("init", "-q", "--bare", "srv.git")
    (tmp_path / "srv.git/hooks/pre-receive").write_text("#!/bin/sh\nexit 0\n")
    result = run_armgit("hooks", "install", "--server", str(tmp_path / "srv.git"))
    assert result.returncode == 2
    assert "was not installed by armgit" in result.stderr
    result = run_armgit("hooks", "install", "--server", str(tmp_path))
    assert result.returncode == 2


def test_check_for_ci_with_annotations(server: Server) -> None:
    base = server.work("rev-parse", "HEAD")
    server.edit(V2, "lifecycle: APPROVED", "lifecycle: DRAFT")
    server.work.commit_all("demote")
    result = run_armgit(
        "check",
        "--repo",
        str(server.work.path),
        "--base",
        base,
        "--head",
        "HEAD",
        "--author",
        ALICE,
        "--format",
        "github",
    )
    assert result.returncode == 1
    assert f"::error file={V2},line=7,title=illegal-transition::" in result.stdout
    ok = run_armgit("check", "--repo", str(server.work.path), "--base", base, "--head", base)
    assert ok.returncode == 0
    assert ok.stdout.startswith("ok: 0 commits")


def test_a_deployment_change_still_checks_the_instances_it_runs(server: Server) -> None:
    # the hook narrows a deployment's referrers to the instances naming its template
    # (armgit.core.rules.scope): the prod instance still runs 2.0.0
    deployment = f"{T}/deployments/prod/customer-support.yaml"
    server.edit(deployment, "version: 2.0.0\npreviousVersion: 1.0.0", "version: 1.0.0")
    server.refused(OPS, "no-active-deployment")


def test_the_hooks_folder_holds_the_installed_scripts() -> None:
    from armgit.enforce.hooks import hook_script

    for name in ("pre-receive", "pre-commit", "post-receive"):
        script = REPO_ROOT / "hooks" / name
        assert script.read_text() == hook_script(name, "python3"), name
        assert os.access(script, os.X_OK), name


def test_a_hook_copied_by_hand_runs_in_a_bare_repository_with_caches(tmp_path: Path) -> None:
    # `python -m` would put the bare repository first on sys.path, where armgit keeps its
    # caches in a folder named `armgit`: with an editable install that folder shadowed the
    # package. The hooks run with -P, and without PYTHONPATH here.
    work = Git(tmp_path / "work")
    shutil.copytree(EXAMPLE, work.path)
    work("init", "-q", "-b", "main")
    work.commit_all("genesis")
    bare = tmp_path / "server.git"
    Git(tmp_path)("init", "-q", "--bare", "-b", "main", str(bare))
    shutil.copy(REPO_ROOT / "hooks" / "pre-receive", bare / "hooks" / "pre-receive")
    (bare / "armgit").mkdir()
    env = {**os.environ, **GIT_ENV, "ARMGIT_PUSHER": OPS, "ARMGIT_PYTHON": sys.executable}
    env.pop("PYTHONPATH", None)

    def push() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "push", str(bare), "main"],
            cwd=work.path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    assert push().returncode == 0
    (work.path / V2).write_text((work.path / V2).read_text().replace("8192", "9000", 1))
    work.commit_all("tamper")
    result = push()
    assert result.returncode == 1
    assert ": genome-hash-mismatch: " in result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_name_cannot_inject_workflow_commands(server: Server) -> None:
    base = server.work("rev-parse", "HEAD")
    name = f"{T}/notes\n::warning file=x::injected,x:%.yaml"
    (server.work.path / name).write_text("hello\n")
    server.work.commit_all("a file whose name holds a workflow command")
    result = run_armgit(
        "check", "--repo", str(server.work.path), "--base", base, "--head", "HEAD",
        "--author", ALICE, "--format", "github",
    )  # fmt: skip
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert [
        line for line in lines if line.startswith("::") and not line.startswith("::error ")
    ] == []
    assert any(
        "notes%0A%3A%3Awarning file=x%3A%3Ainjected%2Cx%3A%25.yaml" in line for line in lines
    )
