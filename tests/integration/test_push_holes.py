"""The holes the adversarial suite (test_adversarial.py) found, one named test each, asserting
what SPEC 4a says; and the legitimate shapes of a pull request that must keep working.

Each push goes to a real bare server with the pre-receive hook, with ``ARMGIT_PUSHER`` set.
Each was refused or accepted wrongly before issue 16's fixes; they stay as regression tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.adversary import (
    ADMIN,
    DEPLOYMENTS,
    ENGINEER,
    INSTANCES,
    NOBODY,
    TEMPLATE,
    VERSIONS,
    Push,
    World,
    author_of,
)
from tests.approval_helpers import needs_ssh_keygen

pytestmark = needs_ssh_keygen

V20 = f"{VERSIONS}/2.0.0.yaml"
V21 = f"{VERSIONS}/2.1.0.yaml"
PROD = "tenants/arm-dev/environments/prod.yaml"
PROD_DEPLOYMENT = f"{DEPLOYMENTS}/prod/customer-support.yaml"
INSTANCE = f"{INSTANCES}/support-prod-1.yaml"


@pytest.fixture
def world(adversary_template: Path, tmp_path: Path) -> World:
    return World.copy_of(adversary_template, tmp_path)


def ok(world: World, *args: str) -> None:
    result = world.armgit(*args)
    assert result.returncode == 0, result.stdout + result.stderr


def assert_refused(world: World, push: Push, rule: str | None = None) -> None:
    assert not push.accepted, f"accepted:\n{push.output}"
    assert world.server_refs().get(push.ref) == push.old
    assert push.new is None or push.new_was_on_server or not world.on_server(push.new)
    assert "Traceback" not in push.output
    if rule is not None:
        assert f": {rule}: " in push.output, push.output


def assert_accepted(world: World, push: Push) -> None:
    """Accepted, and ``armgit check`` on the same range and ``armgit verify`` agree."""
    assert push.accepted, push.output
    assert push.old is not None
    assert push.new is not None
    author = author_of(push.pusher or ENGINEER)
    checked = world.armgit("check", "--base", push.old, "--head", push.new, "--author", author)
    assert checked.returncode == 0, checked.stdout
    verified = world.armgit("verify", "--repo", str(world.server))
    assert verified.returncode == 0, verified.stdout


def rehash(world: World, path: str) -> None:
    """Edit a version's genome and write the hash of the edited genome."""
    from armgit.api import hash_file

    old = hash_file(world.path(path)).genome_hash
    assert world.replace(path, "maxTokens: 8192", "maxTokens: 9000")
    new = hash_file(world.path(path)).genome_hash
    assert old is not None
    assert new is not None
    assert world.replace(path, old, new)


def pull_request_to_candidate(world: World, label: str = "2.2.0") -> str:
    """A side branch that creates a version and takes it to CANDIDATE, a commit per step, made
    with armgit's own commands; returns the branch."""
    side = world.fresh_branch("pr")
    ref = f"{TEMPLATE}@{label}"
    ok(world, "new", "version", ref, "--parent", "2.0.0", "--temperature", "0.2")
    world.commit(f"new version {label}")
    ok(world, "promote", ref, "--to", "testing")
    world.commit(f"{label} to TESTING")
    ok(world, "promote", ref, "--to", "candidate", "--evaluation", "pass")
    world.commit(f"{label} to CANDIDATE")
    return side


def approve_2_1_0(world: World) -> None:
    """2.1.0 CANDIDATE -> APPROVED with bob's approval, pushed by alice (the legal way)."""
    world.fresh_branch()
    ok(world, "promote", f"{TEMPLATE}@2.1.0", "--to", "approved")
    assert world.approve(f"{TEMPLATE}@2.1.0", "bob")
    world.commit("promote 2.1.0")
    assert world.push(ENGINEER, "HEAD").accepted


# -- the legitimate shapes ----------------------------------------------------------------


def test_a_pull_request_fast_forwarded_is_accepted(world: World) -> None:
    side = pull_request_to_candidate(world)
    assert_accepted(world, world.push(ENGINEER, side))


def test_a_pull_request_rebased_onto_a_moved_main_is_accepted(world: World) -> None:
    side = pull_request_to_candidate(world)
    world.fresh_branch()
    ok(world, "retire", f"{TEMPLATE}@1.0.0")
    world.commit("retire 1.0.0")
    assert world.push(ENGINEER, "HEAD").accepted
    world.git("fetch", "-q", "origin")
    world.git("checkout", "-q", side)
    world.git("rebase", "-q", "origin/main")
    assert_accepted(world, world.push(ENGINEER, "HEAD"))


def test_a_pull_request_to_candidate_merged_with_no_ff_is_accepted(world: World) -> None:
    side = pull_request_to_candidate(world)
    world.git("checkout", "-q", "-B", "landing", "origin/main")
    world.git("merge", "-q", "--no-ff", "-m", "Merge pull request", side)
    assert_accepted(world, world.push(ENGINEER, "HEAD"))


def test_a_pull_request_to_candidate_squashed_is_accepted(world: World) -> None:
    side = pull_request_to_candidate(world)
    world.git("checkout", "-q", "-B", "landing", "origin/main")
    world.git("merge", "-q", "--squash", side)
    world.commit("the pull request, squashed")
    assert_accepted(world, world.push(ENGINEER, "HEAD"))


def test_a_merge_whose_first_parent_is_the_side_branch_is_judged(world: World) -> None:
    side = pull_request_to_candidate(world)
    base = world.git("rev-parse", "origin/main")
    tree = world.git("rev-parse", f"{side}^{{tree}}")
    merge = world.git("commit-tree", tree, "-p", side, "-p", base, "-m", "merge main into pr")
    assert_accepted(world, world.push(ENGINEER, merge))
    side = world.fresh_branch("tamper")
    rehash(world, V20)
    world.commit("rehash 2.0.0")
    base = world.git("rev-parse", "origin/main")
    tree = world.git("rev-parse", f"{side}^{{tree}}")
    merge = world.git("commit-tree", tree, "-p", side, "-p", base, "-m", "merge main into it")
    assert_refused(world, world.push(ADMIN, merge), "genome-immutable")


def test_an_octopus_merge_is_judged(world: World) -> None:
    side = world.fresh_branch("retire")
    ok(world, "retire", f"{TEMPLATE}@1.0.0")
    world.commit("retire 1.0.0")
    other = world.fresh_branch("tamper")
    rehash(world, V20)
    world.commit("rehash 2.0.0")
    world.git("checkout", "-q", "-B", "landing", "origin/main")
    world.git("merge", "-q", "--no-ff", "-m", "octopus", side, other)
    assert_refused(world, world.push(ADMIN, "HEAD"), "genome-immutable")
    world.git("reset", "-q", "--hard", "origin/main")
    empty = world.fresh_branch("empty")
    world.commit("nothing")
    world.git("checkout", "-q", "-B", "landing", "origin/main")
    world.git("merge", "-q", "--no-ff", "-m", "octopus", side, empty)
    assert_accepted(world, world.push(ENGINEER, "HEAD"))


# -- the holes ------------------------------------------------------------------------------


@pytest.mark.parametrize("tamper", [True, False], ids=["tampered-tree", "same-tree"])
def test_a_merge_with_an_orphan_first_parent_is_refused(world: World, tamper: bool) -> None:
    world.fresh_branch()
    if tamper:
        rehash(world, V20)
        world.path(V21).unlink()
    world.commit("the tree")
    tree = world.git("rev-parse", "HEAD^{tree}")
    root = world.git("commit-tree", tree, "-m", "a new root")
    base = world.git("rev-parse", "origin/main")
    merge = world.git("commit-tree", tree, "-p", root, "-p", base, "-m", "merge main")
    checked = world.armgit("check", "--base", base, "--head", merge, "--author", author_of(ADMIN))
    assert_refused(world, world.push(ADMIN, merge), "unrelated-history")
    assert checked.returncode == 1, checked.stdout
    assert "unrelated-history" in checked.stdout


def test_a_gate_switched_off_in_the_change_that_needs_it_is_refused(world: World) -> None:
    approve_2_1_0(world)
    world.fresh_branch()
    assert world.replace(PROD, "protected: true", "protected: false")
    assert world.replace(PROD, "requiredApprovals: 1", "requiredApprovals: 0")
    ok(world, "deploy", f"{TEMPLATE}@2.1.0", "--env", "prod", "--requested-by", "alice")
    world.commit("prod unprotected, and 2.1.0 deployed there")
    assert_refused(world, world.push(ADMIN, "HEAD"), "approval-required")


def test_attaching_a_wider_policy_to_an_instance_needs_approval(world: World) -> None:
    world.fresh_branch()
    policies = "tenants/arm-dev/policies"
    wide = world.path(f"{policies}/support-prod.yaml").read_text()
    wide = wide.replace("name: support-prod", "name: support-wide")
    world.path(f"{policies}/support-wide.yaml").write_text(
        wide.replace("autonomyTier: 2", "autonomyTier: 3")
    )
    assert world.replace(INSTANCE, "policy: support-prod", "policy: support-wide")  # tier 2 -> 3
    world.commit("support-prod-1 under support-wide")
    assert_refused(world, world.push(ADMIN, "HEAD"), "approval-required")


def test_attaching_a_ceiling_to_an_instance_grants_nothing(world: World) -> None:
    # prod-ceiling (tier 3) bounds; it never grants, so the instance keeps what it had
    world.fresh_branch()
    assert world.replace(INSTANCE, "policy: support-prod", "policy: prod-ceiling")
    world.commit("support-prod-1 under prod-ceiling")
    assert_accepted(world, world.push(ADMIN, "HEAD"))


def test_a_rewritten_previous_version_does_not_make_a_rollback(world: World) -> None:
    approve_2_1_0(world)  # approved for release, never approved for prod
    world.fresh_branch()
    assert world.replace(PROD_DEPLOYMENT, "previousVersion: 1.0.0", "previousVersion: 2.1.0")
    world.commit("rewrite previousVersion")
    ok(world, "rollback", TEMPLATE, "--env", "prod", "--reason", "x", "--requested-by", "alice")
    world.commit("'roll back' to 2.1.0")
    assert_refused(world, world.push(ENGINEER, "HEAD"))


def test_a_previous_version_is_not_rewritten_in_place(world: World) -> None:
    world.fresh_branch()
    assert world.replace(PROD_DEPLOYMENT, "previousVersion: 1.0.0", "previousVersion: 2.1.0")
    world.commit("prod's previousVersion is 2.1.0 now")
    assert_refused(world, world.push(ENGINEER, "HEAD"))


def test_deleting_an_instance_is_refused(world: World) -> None:
    world.fresh_branch()
    world.path(INSTANCE).unlink()
    world.commit("delete support-prod-1")
    assert_refused(world, world.push(ENGINEER, "HEAD"))


def test_a_quarantined_instance_deleted_and_re_created_is_refused(world: World) -> None:
    world.fresh_branch()
    ok(world, "instance", "arm-dev/instance/support-prod-1", "--to", "quarantine")
    world.commit("quarantine support-prod-1")
    assert world.push(ENGINEER, "HEAD").accepted
    text = world.read(INSTANCE)
    world.path(INSTANCE).unlink()
    world.commit("delete it")
    world.write(INSTANCE, text.replace("state: QUARANTINED", "state: PROVISIONING"))
    world.commit("re-create it")
    ok(world, "instance", "arm-dev/instance/support-prod-1", "--to", "activate")
    world.commit("and activate it: no reactivation approval")
    assert_refused(world, world.push(ENGINEER, "HEAD"))


def test_a_parentless_version_cannot_lower_a_tools_risk(world: World) -> None:
    from armgit.api import hash_file

    world.fresh_branch()
    path = f"{VERSIONS}/4.0.0.yaml"
    text = world.read(V20).replace("label: 2.0.0", "label: 4.0.0")
    text = text.replace("lifecycle: APPROVED", "lifecycle: DRAFT")
    text = "".join(line for line in text.splitlines(True) if not line.startswith("parent:"))
    world.write(
        path, text.replace('["billing:refund"], risk: high', '["billing:refund"], risk: low')
    )
    old, new = hash_file(world.path(V20)).genome_hash, hash_file(world.path(path)).genome_hash
    assert old is not None
    assert new is not None
    assert world.replace(path, old, new)
    world.commit("4.0.0 with no parent: refund_issue is low risk now")
    assert_refused(world, world.push(ENGINEER, "HEAD"), "approval-required")


def test_a_github_login_matches_only_a_github_identity(world: World) -> None:
    world.fresh_branch()
    assert world.replace("tenants/arm-dev/operators/alice.yaml", "role: engineer", "role: admin")
    world.commit("alice an admin")
    # a GitHub user whose login is "ops" is not the operator named ops
    push = world.push(None, "HEAD", identity={"GITHUB_USER_LOGIN": "ops"})
    assert_refused(world, push, "permission-denied")


def test_check_and_the_hook_agree_on_a_github_login(world: World) -> None:
    world.fresh_branch()
    ok(world, "instance", "arm-dev/instance/support-prod-1", "--to", "pause")
    world.commit("pause support-prod-1")
    base, head = world.git("rev-parse", "origin/main"), world.git("rev-parse", "HEAD")
    push = world.push(None, head, identity={"GITHUB_USER_LOGIN": "ops"})
    checked = world.armgit("check", "--base", base, "--head", head, "--author", "github:ops")
    assert push.accepted == (checked.returncode == 0), checked.stdout + push.output


def test_a_tenant_admin_cannot_edit_armgit_yaml(world: World) -> None:
    world.fresh_branch()
    world.write(
        "tenants/arm-dev/operators/tina.yaml",
        "apiVersion: armgit/v1\nkind: Operator\nname: tina\nemail: tina@arm-dev.example\n"
        "roles:\n  - role: admin\n",
    )
    world.commit("tina, an admin of arm-dev")
    assert world.push(ADMIN, "HEAD").accepted
    world.fresh_branch()
    assert world.replace("armgit.yaml", "protectedBranches: [main]", "protectedBranches: []")
    world.commit("nothing is protected")
    assert_refused(world, world.push("tina", "HEAD"), "permission-denied")


def test_unprotecting_main_needs_another_registry_admins_approval(world: World) -> None:
    world.fresh_branch()
    assert world.replace("armgit.yaml", "protectedBranches: [main]", "protectedBranches: [dev]")
    world.commit("main unprotected")
    assert_refused(world, world.push(ADMIN, "HEAD"))


def test_an_approval_rule_needs_at_least_one_approval(world: World) -> None:
    world.fresh_branch()
    assert world.replace(
        "armgit.yaml", "VERSION_PROMOTION, count: 1", "VERSION_PROMOTION, count: 0"
    )
    world.commit("promotions need nobody")
    assert_refused(world, world.push(ADMIN, "HEAD"))


@pytest.mark.parametrize("pusher", [ENGINEER, NOBODY])
@pytest.mark.parametrize("path", [".github/workflows/x.yml", "pip/__main__.py"])
def test_a_file_outside_the_layout_is_refused(world: World, path: str, pusher: str) -> None:
    world.fresh_branch()
    world.write(path, "# runs next to the signing key\n")
    world.commit(f"add {path}")
    assert_refused(world, world.push(pusher, "HEAD"))


def test_a_non_finite_number_is_refused(world: World) -> None:
    world.fresh_branch()
    tenant = "tenants/arm-dev/tenant.yaml"
    assert world.replace(tenant, "region: eu-west-1", "region: eu-west-1\n  quota: 1e400")
    world.commit("a quota of 1e400")
    push = world.push(ADMIN, "HEAD")
    assert_refused(world, push)
    assert ": non-finite-number: " in push.output or ": schema: " in push.output


def test_a_new_protected_branch_is_judged_by_the_base_settings(world: World) -> None:
    # the server's administrator protects release too (straight in the bare repository)
    world.fresh_branch()
    assert world.replace(
        "armgit.yaml", "protectedBranches: [main]", "protectedBranches: [main, release]"
    )
    world.commit("release is protected too")
    assert world.push(ADMIN, "HEAD", "setup").accepted
    world.server_git("update-ref", "refs/heads/main", world.git("rev-parse", "HEAD"))
    world.server_git("update-ref", "-d", "refs/heads/setup")
    # a new release branch that says it is not protected, and tampers with a genome
    world.fresh_branch()
    assert world.replace(
        "armgit.yaml", "protectedBranches: [main, release]", "protectedBranches: [main]"
    )
    rehash(world, V20)
    world.commit("release: not protected, 2.0.0 rehashed")
    assert_refused(world, world.push(ENGINEER, "HEAD", "release"), "genome-immutable")


@pytest.mark.parametrize("position", ["copied", "next", "retotalled"])
def test_a_marked_commit_after_a_landed_import_claims_nothing(
    tmp_path: Path, position: str
) -> None:
    """An import landed by fast-forward (authorised by ``imports`` at the base), then an empty
    commit carrying the import's mark and one of ARM's records: the hook accepts it (it changes
    nothing), but it is no commit the importer made, so the audit takes no claim from it."""
    import json

    from armgit.core.importmark import IMPORT_TRAILER
    from tests.import_helpers import BRANCH, armgit, grant, import_samples, push, served

    git = served(tmp_path)
    grant(git, genesis=True)
    assert push(git).returncode == 0
    import_samples(git)
    git("merge", "-q", "--ff-only", BRANCH)
    landed = push(git)
    assert landed.returncode == 0, landed.stderr
    tip = git("log", "-1", "--format=%B", "main")
    trailers = tip[tip.index(IMPORT_TRAILER) :].splitlines()
    if position != "copied":  # the importer's last position n/n: claim n+1 of n, or of n+1
        *rest, last = trailers
        key, _, value = last.partition(": ")
        done = int(value.split("/")[0])
        total = done if position == "next" else done + 1
        trailers = [*rest, f"{key}: {done + 1}/{total}"]
    record = {
        "id": "forged", "type": "ROLE_ASSIGNED", "tenant": "arm-dev", "targetEntity": "operator",
        "targetId": "x", "target": None, "operator": "mallory",
        "time": "2026-01-21T00:00:00Z", "payload": {"roleId": "admin"},
    }  # fmt: skip
    message = "ARM: ROLE_ASSIGNED\n\n" + json.dumps(record) + "\n\n" + "\n".join(trailers)
    git("commit", "-q", "--allow-empty", "-m", message)
    forged = push(git)
    assert forged.returncode == 0, forged.stderr  # an empty commit breaks no rule
    audit = armgit(
        "audit", "--repo", str(tmp_path / "server.git"), "--type", "ROLE_ASSIGNED",
        "--format", "jsonl",
    )  # fmt: skip
    assert audit.exit_code == 0, audit.output
    records = [json.loads(line) for line in audit.output.splitlines() if line]
    assert records  # the import's own ROLE_ASSIGNED records are there
    assert all(r["payload"]["armId"] != "forged" for r in records)


# -- refs beside the branches, and the first push (found in session 12) -------------------------


@pytest.mark.parametrize("ref", ["refs/tags/main", "refs/remotes/main", "replace"])
def test_a_ref_that_would_change_what_git_shows_of_main_is_refused(world: World, ref: str) -> None:
    """A tag ``main`` is what ``git log main`` (and ``--rev main``) reads before the branch; a
    ``refs/replace/<main's tip>`` makes git show another commit in its place. Either would let
    anyone show the server's git users, and anything run with ``--rev main``, a registry no rule
    judged, without touching the protected branch."""
    world.fresh_branch()
    rehash(world, V20)
    fake = world.commit("2.0.0 rehashed, beside main")
    if ref == "replace":
        ref = f"refs/replace/{world.server_refs()['refs/heads/main']}"
    push = world.push(ENGINEER, fake, ref=ref)
    assert_refused(world, push, "unsafe-ref")
    assert world.shown_as_held("main")


def test_an_ordinary_tag_is_accepted(world: World) -> None:
    world.fresh_branch()
    tip = world.commit("a tag's commit")
    assert world.push(ENGINEER, tip, ref="refs/tags/v1").accepted


def test_a_revision_two_refs_answer_to_is_refused_not_guessed(world: World) -> None:
    """A tag named like the branch that got past the hook (made on the server itself): armgit's
    commands refuse ``--rev main`` as ambiguous instead of reading the tag, as git would."""
    world.fresh_branch()
    rehash(world, V20)
    fake = world.commit("2.0.0 rehashed, beside main")
    world.git("push", "-q", "origin", f"{fake}:refs/heads/scratch")
    world.server_git("update-ref", "refs/tags/main", fake)
    from tests.conftest import run_armgit

    server = str(world.server)
    for args in (("verify",), ("audit",), ("validate",), ("site", "--out", str(world.root / "s"))):
        result = run_armgit(*args, "--repo", server, "--rev", "main")
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert "ambiguous" in result.stderr
        assert "refs/tags/main" in result.stderr
    assert world.armgit("verify", "--repo", server, "--rev", "refs/heads/main").returncode == 0


def test_a_proposal_pushed_first_does_not_lock_the_registry_out(tmp_path: Path) -> None:
    """A new server whose first push is a work branch: main is still the registry's genesis
    when it comes (before, it had to "grow from an existing protected branch" that did not
    exist, and could never be pushed)."""
    from tests.import_helpers import push, served

    git = served(tmp_path)
    git("push", "-q", "origin", "main:feature")
    first = push(git)
    assert first.returncode == 0, first.stderr
    assert "main -> main" in first.stderr


def test_a_first_push_with_history_is_judged_by_its_root(world: World, tmp_path: Path) -> None:
    """Into an empty server, a history of several commits (a registry moving to a new server):
    the root is the registry's genesis, and its operators, keys and settings judge the commits
    after it. Before, an empty registry judged them, so only a one-commit first push could
    land. A commit after the root that breaks a rule is still refused."""
    import os
    import subprocess

    from tests.conftest import GIT_ENV, REPO_ROOT

    approve_2_1_0(world)  # main: the template's history, then a promotion with bob's approval
    world.fresh_branch()
    rehash(world, V20)
    tampered = world.commit("2.0.0 rehashed")
    main = world.git("rev-parse", "origin/main")
    env = {**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO_ROOT), "ARMGIT_PUSHER": ADMIN}
    for tip, accepted in ((tampered, False), (main, True)):
        server = tmp_path / f"{tip[:7]}.git"
        world.git("init", "-q", "--bare", "-b", "main", str(server))
        ok(world, "hooks", "install", "--server", str(server))
        pushed = subprocess.run(
            ["git", "push", str(server), f"{tip}:refs/heads/main"],
            cwd=world.work, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert (pushed.returncode == 0) is accepted, pushed.stderr
        assert "Traceback" not in pushed.stderr
        if accepted:
            assert world.armgit("verify", "--repo", str(server)).returncode == 0
        else:
            assert ": genome-immutable: " in pushed.stderr
            assert world.git("for-each-ref", cwd=server) == ""


@pytest.mark.parametrize("folder", [".git", ".GIT", "git~1"])
def test_a_git_folder_at_the_top_is_refused_even_from_a_registry_admin(
    world: World, folder: str
) -> None:
    """``write:repository`` lets a registry admin change files outside the registry, but not
    add a path git refuses to check out: a ``.git/config`` at the top broke every clone of main
    (and an old git on a case-insensitive file system writes a ``.GIT/config`` into the clone's
    own configuration). Made with ``git mktree``, which, unlike libgit2, writes such trees."""
    world.fresh_branch()
    blob = world.git("hash-object", "-w", "--stdin", stdin="[core]\n\tbare = false\n")
    inner = world.git("mktree", stdin=f"100644 blob {blob}\tconfig\n")
    listing = world.git("ls-tree", "HEAD")
    tree = world.git("mktree", stdin=f"{listing}\n040000 tree {inner}\t{folder}\n")
    tip = world.git("commit-tree", tree, "-p", "HEAD", "-m", f"{folder}/config")
    assert_refused(world, world.push(ADMIN, tip), "unsafe-file")


def test_a_protected_branch_pushed_to_a_tag_object_is_a_finding_not_an_internal_error(
    world: World,
) -> None:
    """``git push origin TAG:refs/heads/main`` with an annotated tag: refused before as
    "internal error (InvalidError ...)"; now a finding that says what is wrong."""
    world.fresh_branch()
    world.git("tag", "-a", "-m", "a tag", "t1", "HEAD")
    push = world.push(ENGINEER, "t1")
    assert_refused(world, push, "unsafe-ref")
    assert "internal error" not in push.output


@pytest.mark.parametrize("header", ["author nobody", "author a <a@b> 99999999999999999999 +0000"])
def test_a_malformed_commit_is_a_finding_not_an_internal_error(world: World, header: str) -> None:
    world.fresh_branch()
    tree, parent = world.git("rev-parse", "HEAD^{tree}"), world.git("rev-parse", "HEAD")
    raw = f"tree {tree}\nparent {parent}\n{header}\ncommitter a <a@b> 1 +0000\n\nbroken\n"
    tip = world.git("hash-object", "-t", "commit", "-w", "--stdin", "--literally", stdin=raw)
    push = world.push(ENGINEER, tip)
    assert_refused(world, push, "malformed-object")
    assert "internal error" not in push.output


@pytest.mark.parametrize("how", ["environment", "legacy-id"])
def test_a_production_instance_cannot_leave_prods_gates(world: World, how: str) -> None:
    """An engineer moved support-prod-1 from prod to staging and bound it to a CANDIDATE
    version, or handed its legacyAgentId to a new staging instance: accepted before (found by
    hand in session 12), though the agent's runtime knows it by that name or id and would run
    a version prod never approved."""
    world.fresh_branch()
    text = world.read(INSTANCE)
    if how == "environment":
        moved = text.replace("environment: prod", "environment: staging")
        world.write(INSTANCE, moved.replace("customer-support@2.0.0", "customer-support@2.1.0"))
    else:
        world.write(INSTANCE, text.replace("legacyAgentId: agent_01HZX3K8\n", ""))
        ok(world, "new", "instance", "arm-dev/support-legacy", "--version",
           "customer-support@2.1.0", "--env", "staging", "--provider", "local")  # fmt: skip
        other = f"{INSTANCES}/support-legacy.yaml"
        world.write(other, world.read(other) + "legacyAgentId: agent_01HZX3K8\n")
    world.commit(f"support-prod-1: {how}")
    assert_refused(world, world.push(ENGINEER, "HEAD"), "instance-moved")


def test_creating_the_branch_head_names_does_not_unprotect_the_others(world: World) -> None:
    """A server whose HEAD names a branch that does not exist yet (``git init --bare`` with
    git's default ``master``, the registry on main): a push that created ``master`` made it the
    settings branch for that very push, so the protected branches were read from a branch that
    had no ``armgit.yaml`` yet, and ``release`` (protected by main's) was force-pushed to an
    orphan with a rehashed genome in the same push. Found in session 12's second pass."""
    import os
    import subprocess

    from tests.conftest import GIT_ENV, REPO_ROOT

    world.fresh_branch()
    assert world.replace(
        "armgit.yaml", "protectedBranches: [main]", "protectedBranches: [main, release]"
    )
    main = world.commit("release is protected too")
    world.git("push", "-q", "origin", f"{main}:refs/heads/setup")  # past the hook: the admin's
    world.server_git("update-ref", "refs/heads/main", main)
    world.server_git("update-ref", "refs/heads/release", main)
    world.server_git("update-ref", "-d", "refs/heads/setup")
    world.server_git("symbolic-ref", "HEAD", "refs/heads/master")
    world.git("checkout", "-q", "--orphan", "evil")
    rehash(world, V20)
    evil = world.commit("an orphan release, 2.0.0 rehashed")
    before = world.server_refs()
    env = {**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO_ROOT), "ARMGIT_PUSHER": ENGINEER}
    pushed = subprocess.run(
        ["git", "push", "origin", f"{main}:refs/heads/master", f"+{evil}:refs/heads/release"],
        cwd=world.work, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert pushed.returncode != 0, pushed.stderr
    assert ": history-rewrite: " in pushed.stderr
    assert world.server_refs() == before


@pytest.mark.parametrize("jcs", [True, False], ids=["jcs-hash", "code-point-order-hash"])
def test_a_genome_hash_is_judged_in_utf16_key_order(world: World, jcs: bool) -> None:
    """The hook's genome hash takes orjson's path where it gives the JCS bytes: keys above
    U+FFFF sort by UTF-16 units in JCS (U+1F600 before U+FB01), by code point in orjson and
    json.dumps. A hash made in code-point order must be refused, the JCS one accepted."""
    import hashlib
    import json

    import rfc8785

    from armgit.api import hash_file
    from armgit.core.yamldata import YamlDoc, parse_yaml

    world.fresh_branch()
    ok(world, "new", "version", f"{TEMPLATE}@2.3.0", "--parent", "2.0.0", "--temperature", "0.2")
    path = f"{VERSIONS}/2.3.0.yaml"
    written = hash_file(world.path(path)).genome_hash
    assert written is not None
    assert world.replace(path, "maxTokens: 8192", 'maxTokens: 8192, "\U0001f600": 1, "\ufb01": 2')
    parsed = parse_yaml(world.path(path).read_bytes())
    assert isinstance(parsed, YamlDoc), (parsed, world.path(path).read_text())
    assert isinstance(parsed.data, dict)
    genome = parsed.data["genome"]
    if jcs:
        digest = hashlib.sha256(rfc8785.dumps(genome)).hexdigest()
    else:
        text = json.dumps(genome, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(text.encode()).hexdigest()
    assert world.replace(path, written, f"sha256:{digest}")
    world.commit("a genome with a key above U+FFFF")
    push = world.push(ENGINEER, "HEAD")
    if jcs:
        assert push.accepted, push.output
    else:
        assert_refused(world, push, "genome-hash-mismatch")
