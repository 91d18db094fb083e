"""``armgit audit``: typed records from a scripted history, compared record by record; filters;
merges; the per-commit cache (incremental, corruption survived); time travel on ls/show."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pygit2
import pytest

from armgit.audit.log import RecordLog
from armgit.audit.query import cache_dir_for, filter_records, read_audit
from armgit.audit.records import ChangeRecord
from armgit.crypto.sshkeys import public_key_of
from armgit.store.cache import cache_path
from armgit.store.tree import open_repository
from tests.conftest import run_armgit
from tests.integration.history import (
    ALICE_EMAIL,
    DEPLOYMENT,
    V1,
    V21,
    Registry,
    deploy_21,
    long_history,
    new_registry,
    scripted_history,
)

VERSION = "arm-dev/customer-support@2.1.0"
PROD = "arm-dev/deployment/prod/customer-support"
PROMOTION = "20260206-bob-86e7a157b5"
ACTIVATION = "20260207-bob-67ca0e9da7"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    return scripted_history(tmp_path_factory.mktemp("audit"))


def step_of(history: Registry, record: ChangeRecord) -> str:
    return next(name for name, commit in history.commits.items() if commit == record.commit)


def test_scripted_history_record_by_record(history: Registry) -> None:
    genome = history.genome_hash(V21)
    key = public_key_of(history.bob_key, "bob").fingerprint
    expected: list[tuple[str, str, str, str | None, dict[str, Any], tuple[str, ...]]] = [
        ("bob's key", "IDENTITY_UPDATED", "arm-dev/operator/bob", "ops",
         {"sshKeys": {"added": [key], "removed": []}}, ()),
        ("create 2.1.0", "VERSION_CREATED", VERSION, "alice",
         {"template": "customer-support", "label": "2.1.0", "parent": "2.0.0",
          "lifecycle": "DRAFT",
          "evaluation": {"status": "NOT_RUN", "suite": "support-regression",
                         "evaluatedAt": "2026-02-02T09:00:00Z"},
          "policy": "support-prod",
          "description": "Sonnet, replies to tickets and proposes refunds.",
          "artifacts": {"promptBundle": "prompts/v2.md"}, "genomeHash": genome}, ()),
        ("test 2.1.0", "VERSION_TRANSITIONED", VERSION, "alice",
         {"from": "DRAFT", "to": "TESTING"}, ()),
        ("2.1.0 passed its evaluation", "VERSION_EVALUATED", VERSION, "alice",
         {"from": "NOT_RUN", "to": "PASS",
          "evaluation": {"status": "PASS", "suite": "support-regression",
                         "evaluatedAt": "2026-02-02T09:00:00Z"}}, ()),
        ("2.1.0 passed its evaluation", "VERSION_TRANSITIONED", VERSION, "alice",
         {"from": "TESTING", "to": "CANDIDATE"}, ()),
        ("promote 2.1.0", "APPROVAL_DECIDED", VERSION, "alice",
         {"approval": PROMOTION, "decision": "APPROVE", "approver": "bob",
          "change": {"type": "VERSION_PROMOTION", "from": "CANDIDATE", "to": "APPROVED"},
          "subjectKind": "Version", "digest": history.digests[PROMOTION], "justification": "reviewed",
          "createdAt": "2026-02-06T09:00:00Z", "expiresAt": "2026-02-07T09:00:00Z"}, ()),
        ("promote 2.1.0", "VERSION_TRANSITIONED", VERSION, "alice",
         {"from": "CANDIDATE", "to": "APPROVED"}, (PROMOTION,)),
        ("deploy 2.1.0 to prod", "APPROVAL_DECIDED", PROD, "alice",
         {"approval": ACTIVATION, "decision": "APPROVE", "approver": "bob",
          "change": {"type": "DEPLOYMENT_ACTIVATION", "from": "2.0.0", "to": "2.1.0"},
          "subjectKind": "Deployment", "digest": history.digests[ACTIVATION], "justification": "reviewed",
          "createdAt": "2026-02-07T09:00:00Z", "expiresAt": "2026-02-08T09:00:00Z"}, ()),
        ("deploy 2.1.0 to prod", "DEPLOYMENT_ACTIVATED", PROD, "alice",
         {"from": "2.0.0", "to": "2.1.0", "previousVersion": "2.0.0"}, (ACTIVATION,)),
        ("deploy 2.1.0 to prod", "INSTANCE_UPDATED", "arm-dev/instance/support-prod-1", "alice",
         {"changed": {"version": {"from": "customer-support@2.0.0",
                                  "to": "customer-support@2.1.0"}}}, ()),
        ("roll back prod", "DEPLOYMENT_ROLLED_BACK", PROD, "bob",
         {"from": "2.1.0", "to": "2.0.0", "rollbackOf": "2.1.0", "reason": "error rate"}, ()),
        ("roll back prod", "INSTANCE_UPDATED", "arm-dev/instance/support-prod-1", "bob",
         {"changed": {"version": {"from": "customer-support@2.1.0",
                                  "to": "customer-support@2.0.0"}}}, ()),
        ("support-default: tier 1", "POLICY_UPDATED", "arm-dev/policy/support-default", "ops",
         {"changed": {"autonomyTier": {"from": 2, "to": 1}}}, ()),
        ("2.1.0 runs under support-default", "POLICY_ATTACHED", VERSION, "alice",
         {"from": "support-prod", "to": "support-default"}, ()),
        ("engineers no longer write approvals", "ROLE_UPDATED", "arm-dev/role/engineer", "ops",
         {"changed": {"permissions": {"added": [], "removed": ["write:approvals"]}}}, ()),
        ("retire 1.0.0", "VERSION_TRANSITIONED", "arm-dev/customer-support@1.0.0", None,
         {"from": "DEPRECATED", "to": "RETIRED"}, ()),
    ]  # fmt: skip
    run = read_audit(history.path)
    genesis = history.commits["genesis"]
    actual = [
        (step_of(history, r), r.type, r.target, r.operator, r.payload, r.approvals)
        for r in run.records
        if r.commit != genesis
    ]
    assert actual == expected
    assert run.commits == len(history.commits)
    promoted = next(r for r in run.records if r.approvals == (PROMOTION,))
    assert promoted.time == "2026-02-06T10:00:00Z"
    assert promoted.author == ALICE_EMAIL
    assert promoted.tenant == "arm-dev"
    assert promoted.commit == history.commits["promote 2.1.0"]


def test_genesis_creates_everything_in_target_order(history: Registry) -> None:
    run = read_audit(history.path)
    genesis = [r for r in run.records if r.commit == history.commits["genesis"]]
    assert [r.target for r in genesis] == sorted(r.target for r in genesis)
    types = {r.type for r in genesis}
    assert {"REGISTRY_CREATED", "TENANT_CREATED", "VERSION_CREATED", "DEPLOYMENT_CREATED"} <= types
    assert "DEPLOYMENT_ACTIVATED" in types  # the example's prod deployment is born ACTIVE
    assert {r.operator for r in genesis if r.tenant} == {"ops"}
    registry = next(r for r in genesis if r.type == "REGISTRY_CREATED")
    assert (registry.target, registry.tenant, registry.operator) == ("registry", "", "arm-dev/ops")


def test_filters(history: Registry) -> None:
    records = read_audit(history.path).records
    only = filter_records(records, target=PROD)
    assert [r.type for r in only] == [
        "DEPLOYMENT_CREATED",
        "DEPLOYMENT_ACTIVATED",
        "APPROVAL_DECIDED",
        "DEPLOYMENT_ACTIVATED",
        "DEPLOYMENT_ROLLED_BACK",
    ]
    transitions = filter_records(records, types=["VERSION_TRANSITIONED"], tenant="arm-dev")
    assert [r.payload["to"] for r in transitions] == [
        "TESTING", "CANDIDATE", "APPROVED", "RETIRED"
    ]  # fmt: skip
    window = filter_records(records, since="2026-02-05T10:00:00Z", until="2026-02-07T10:00:00Z")
    assert {step_of(history, r) for r in window} == {
        "2.1.0 passed its evaluation",
        "promote 2.1.0",
        "deploy 2.1.0 to prod",
    }
    assert filter_records(records, tenant="elsewhere") == []


def test_cli_formats_and_filters(history: Registry) -> None:
    repo = str(history.path)
    result = run_armgit(
        "audit", "--repo", repo, "--target", VERSION, "--type", "version_transitioned",
        "--type", "POLICY_ATTACHED", "--since", "2026-02-05", "--format", "jsonl",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(d["type"], d["payload"]["to"]) for d in lines] == [
        ("VERSION_TRANSITIONED", "CANDIDATE"),
        ("VERSION_TRANSITIONED", "APPROVED"),
        ("POLICY_ATTACHED", "support-default"),
    ]
    assert lines[1]["approvals"] == [PROMOTION]
    assert list(lines[0]) == [
        "type", "tenant", "target", "commit", "time", "author", "operator", "payload", "approvals"
    ]  # fmt: skip

    csv_out = run_armgit("audit", "--repo", repo, "--until", "2026-02-02", "--format", "csv")
    rows = csv_out.stdout.splitlines()
    assert rows[0] == "commit,time,type,tenant,target,author,operator,payload,approvals"
    key_commit = history.commits["bob's key"]
    assert rows[-1].startswith(f"{key_commit},2026-02-02T10:00:00Z,")
    assert "IDENTITY_UPDATED" in rows[-1]

    table = run_armgit("audit", "--repo", repo, "--type", "DEPLOYMENT_ROLLED_BACK")
    assert table.returncode == 0
    assert table.stdout.splitlines()[0].split() == [
        "COMMIT", "TIME", "TYPE", "TARGET", "OPERATOR", "DETAIL", "APPROVALS"
    ]  # fmt: skip
    assert "2.1.0 -> 2.0.0" in table.stdout


def test_cli_user_errors(history: Registry, tmp_path: Path) -> None:
    repo = str(history.path)
    for args in (["--type", "NOPE"], ["--since", "last tuesday"], ["--target", "Bad Ref"]):
        result = run_armgit("audit", "--repo", repo, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr
    result = run_armgit("audit", "--repo", repo, "--rev", "no-such-branch")
    assert result.returncode == 2
    assert "unknown revision" in result.stderr
    result = run_armgit("audit", "--repo", str(tmp_path))
    assert result.returncode == 2
    assert "not inside a git repository" in result.stderr


def test_merge_is_attributed_to_the_merge_commit(tmp_path: Path) -> None:
    r = new_registry(tmp_path)
    r.git("checkout", "-q", "-b", "retire")
    r.edit(V1, "lifecycle: DEPRECATED", "lifecycle: RETIRED")
    side = r.commit("retire 1.0.0 on a branch", "2026-02-02T10:00:00Z", ALICE_EMAIL)
    r.git("checkout", "-q", "main")
    r.edit(DEPLOYMENT, "rolloutPolicy: {strategy: canary", "rolloutPolicy: {strategy: blue-green")
    r.commit("blue-green", "2026-02-03T10:00:00Z", ALICE_EMAIL)
    r.git(
        "merge", "-q", "--no-ff", "-m", "merge retire", "retire",
        env={"GIT_AUTHOR_DATE": "2026-02-04T10:00:00Z", "GIT_COMMITTER_DATE": "2026-02-04T10:00:00Z"},
    )  # fmt: skip
    merge = r.git("rev-parse", "HEAD")
    run = read_audit(r.path)
    assert run.commits == 3  # genesis, blue-green, the merge: first parents only
    retired = [r for r in run.records if r.type == "VERSION_TRANSITIONED"]
    assert [(x.commit, x.payload) for x in retired] == [
        (merge, {"from": "DEPRECATED", "to": "RETIRED"})
    ]
    assert side not in {x.commit for x in run.records}
    updated = [x for x in run.records if x.type == "DEPLOYMENT_UPDATED"]
    assert updated[0].payload == {
        "changed": {
            "rolloutPolicy": {
                "from": {"strategy": "canary", "steps": [10, 50, 100]},
                "to": {"strategy": "blue-green", "steps": [10, 50, 100]},
            }
        }
    }


# -- the cache ----------------------------------------------------------------------------------


def cache_file(history: Registry) -> Path:
    directory = cache_dir_for(open_repository(history.path))
    assert directory is not None
    return directory / "records-v2.log"


def fresh(tmp_path: Path, commits: int = 20) -> Registry:
    r = new_registry(tmp_path)
    long_history(r.path, commits)
    return r


def test_incremental_second_run_computes_only_new_commits(tmp_path: Path) -> None:
    r = fresh(tmp_path)
    first = read_audit(r.path)
    assert (first.commits, first.computed) == (21, 21)
    blocks = len(RecordLog(cache_file(r)).blocks)
    assert blocks == 21  # one block a commit
    again = read_audit(r.path)
    assert (again.commits, again.computed) == (21, 0)
    assert again.records == first.records
    long_history(r.path, 1, start=20)
    third = read_audit(r.path)
    assert (third.commits, third.computed) == (22, 1)
    assert len(RecordLog(cache_file(r)).blocks) == blocks + 1
    assert third.records[: len(first.records)] == first.records
    assert [x.target for x in third.records[len(first.records) :]] == [
        "arm-dev/customer-support@3.20.0"
    ]


def test_cli_one_new_commit_on_the_protected_branch_while_head_is_elsewhere(
    tmp_path: Path,
) -> None:
    """The lean path resolves the protected branch and finds its new commit uncached; the
    full path derives just that commit, on that branch (not HEAD's), as a fresh run would."""
    r = fresh(tmp_path, commits=3)
    first = run_armgit("audit", "--repo", str(r.path), "--format", "jsonl")
    assert first.returncode == 0, first.stderr
    r.git("checkout", "-q", "-b", "side")
    r.edit(V1, "lifecycle: DEPRECATED", "lifecycle: RETIRED")
    r.commit("retire 1.0.0 on a side branch", "2026-03-01T10:00:00Z", ALICE_EMAIL)
    r.git("checkout", "-q", "main")
    long_history(r.path, 1, start=3)
    r.git("checkout", "-q", "side")  # HEAD is not the protected branch

    again = run_armgit("audit", "--repo", str(r.path), "--format", "jsonl")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(first.stdout)
    added = [json.loads(line) for line in again.stdout[len(first.stdout) :].splitlines()]
    assert [(d["type"], d["target"]) for d in added] == [
        ("VERSION_CREATED", "arm-dev/customer-support@3.3.0")
    ]
    assert read_audit(r.path).computed == 0  # the CLI cached it
    uncached = run_armgit(
        "audit", "--repo", str(r.path), "--format", "jsonl", env={"ARMGIT_NO_CACHE": "1"}
    )
    assert again.stdout == uncached.stdout


@pytest.mark.parametrize(
    "damage",
    ["truncate-mid-line", "garble-middle", "garble-header", "junk", "empty", "directory"],
)
def test_cache_corruption_is_survived(tmp_path: Path, damage: str) -> None:
    r = fresh(tmp_path, 10)
    expected = read_audit(r.path).records
    path = cache_file(r)
    data = path.read_bytes()
    if damage == "truncate-mid-line":
        path.write_bytes(data[: len(data) * 2 // 3])
    elif damage == "garble-middle":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + b"\x00garbage\xff" + data[middle + 10 :])
    elif damage == "garble-header":
        path.write_bytes(bytes([data[0] ^ 1]) + data[1:])  # b"0" changed nothing at 0...
    elif damage == "junk":
        path.write_bytes(b"\x89PNG not a cache at all")
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.unlink()
        path.mkdir()
    rerun = read_audit(r.path)
    assert rerun.records == expected
    assert rerun.computed >= 1
    if damage != "directory":
        healed = read_audit(r.path)
        assert (healed.records, healed.computed) == (expected, 0)


def test_cache_from_other_code_is_dropped(tmp_path: Path) -> None:
    r = fresh(tmp_path, 3)
    read_audit(r.path)
    path = cache_file(r)
    lines = path.read_bytes().split(b"\n")
    magic, version, code = lines[0].split(b" ")
    assert (magic, version, len(code)) == (b"armgit-audit", b"2", 32)
    lines[0] = b"armgit-audit 2 " + b"0" * 32  # the same format, other code
    path.write_bytes(b"\n".join(lines))
    assert read_audit(r.path).computed == 4


def test_no_cache_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = fresh(tmp_path, 2)
    monkeypatch.setenv("ARMGIT_NO_CACHE", "1")
    assert read_audit(r.path).computed == 3
    assert read_audit(r.path).computed == 3
    assert not (r.path / ".git" / "armgit" / "audit").exists()


# -- time travel --------------------------------------------------------------------------------


def test_ls_and_show_at_a_time_or_revision(history: Registry) -> None:
    repo = str(history.path)

    def deployed(*at: str) -> str:
        result = run_armgit("ls", "deployments", "--repo", repo, "--format", "json", *at)
        assert result.returncode == 0, result.stderr
        rows = json.loads(result.stdout)
        return str(rows[0]["version"])

    assert deployed() == "2.0.0"
    assert deployed("--at", "2026-02-07T10:00:00Z") == "2.1.0"  # the deploy commit itself
    assert deployed("--at", "2026-02-08T09:59:59Z") == "2.1.0"
    assert deployed("--at", "2026-02-08T10:00:00+00:00") == "2.0.0"  # the rollback
    assert deployed("--at", "2026-02-07") == "2.0.0"  # midnight UTC starting that day
    assert deployed("--at", history.commits["deploy 2.1.0 to prod"]) == "2.1.0"
    assert deployed("--at", "2026-02-07T12:00", "--rev", "main") == "2.1.0"

    shown = run_armgit("show", VERSION, "--repo", repo, "--at", "2026-02-05T10:00:00Z")
    assert shown.returncode == 0, shown.stderr
    assert "lifecycle: CANDIDATE" in shown.stdout
    assert "integrity: VERIFIED" in shown.stdout
    missing = run_armgit("show", VERSION, "--repo", repo, "--at", "2026-02-02T23:00:00Z")
    assert missing.returncode == 1  # 2.1.0 did not exist yet

    before = run_armgit("ls", "versions", "--repo", repo, "--at", "2020-01-01")
    assert before.returncode == 2
    assert "no commit at or before" in before.stderr
    both = run_armgit("ls", "versions", "--repo", repo, "--at", "HEAD~1", "--rev", "main")
    assert both.returncode == 2
    assert "Traceback" not in both.stderr


def test_walk_per_tenant_gives_the_records_of_commit_by_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = scripted_history(tmp_path / "scripted")
    r.git("checkout", "-q", "-b", "side")
    r.edit(V1, "lifecycle: RETIRED", "lifecycle: DEPRECATED")
    r.commit("a side branch", "2026-02-13T10:00:00Z", ALICE_EMAIL)
    r.git("checkout", "-q", "main")
    r.edit(DEPLOYMENT, "rolloutPolicy: {strategy: canary", "rolloutPolicy: {strategy: blue-green")
    r.commit("blue-green", "2026-02-14T10:00:00Z", ALICE_EMAIL)
    r.git(
        "merge", "-q", "--no-ff", "-m", "merge side", "side",
        env={"GIT_AUTHOR_DATE": "2026-02-15T10:00:00Z", "GIT_COMMITTER_DATE": "2026-02-15T10:00:00Z"},
    )  # fmt: skip
    monkeypatch.setenv("ARMGIT_NO_CACHE", "1")
    one_by_one = read_audit(r.path)
    monkeypatch.setattr("armgit.audit.query._WALK_COMMITS", 0)
    walked = read_audit(r.path)
    assert walked.computed == one_by_one.computed == len(r.commits)  # - the side, + the merge
    assert list(walked.lines()) == list(one_by_one.lines())
    assert {x.type for x in walked.records} >= {"APPROVAL_DECIDED", "REGISTRY_CREATED"}
    assert any(x.approvals for x in walked.records)


def test_a_redeployment_lists_only_the_approval_it_lands_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = scripted_history(tmp_path)
    rolled_back = "version: 2.0.0\npreviousVersion: 2.1.0\nrollbackOf: 2.1.0\nreason: error rate"
    again = deploy_21(r, rolled_back, "2026-02-13", "deploy 2.1.0 to prod again")
    monkeypatch.setenv("ARMGIT_NO_CACHE", "1")
    for walk in (False, True):  # commit by commit, and the per-tenant walk of a long history
        monkeypatch.setattr("armgit.audit.query._WALK_COMMITS", 0 if walk else 200)
        activations = [
            (step_of(r, x), x.approvals)
            for x in read_audit(r.path).records
            if x.type == "DEPLOYMENT_ACTIVATED" and x.target == PROD and x.payload["from"]
        ]
        # the first rollout's approval matches the same change, but was spent on it
        assert activations == [
            ("deploy 2.1.0 to prod", (ACTIVATION,)),
            ("deploy 2.1.0 to prod again", (again,)),
        ]


@pytest.mark.parametrize("damage", ["garble", "truncate", "delete", "stale"])
def test_side_index_is_only_a_shortcut(tmp_path: Path, damage: str) -> None:
    r = fresh(tmp_path, 10)
    expected = read_audit(r.path).records
    path = cache_file(r)
    index = path.with_name(path.name + ".idx")
    data = index.read_bytes()
    if damage == "garble":
        middle = len(data) // 2
        index.write_bytes(data[:middle] + b"9" + data[middle + 1 :])
    elif damage == "truncate":
        index.write_bytes(data[: len(data) // 2])
    elif damage == "delete":
        index.unlink()
    else:  # the log rewritten with the same size: its stat no longer matches the index
        log = path.read_bytes()
        middle = len(log) // 2
        path.write_bytes(log[:middle] + b"\x00garbage\xff" + log[middle + 10 :])
    rerun = read_audit(r.path)
    assert rerun.records == expected
    if damage == "stale":  # the damaged block fails its check and is derived again
        assert rerun.computed >= 1
    else:
        assert rerun.computed == 0
    healed = read_audit(r.path)
    assert (healed.records, healed.computed) == (expected, 0)
    assert index.is_file()


@pytest.mark.parametrize("walk", [False, True])
def test_commits_of_many_files_share_the_content_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, walk: bool
) -> None:
    """Deriving commits that change many files (a registry's first commit changes every file)
    reads and fills the repository's content cache, which validate and the hook share; a few
    files are parsed in memory. Counted by files, not commits: one commit can hold 500,000."""
    r = fresh(tmp_path, commits=3)
    repo = open_repository(r.path)
    content = cache_path(Path(repo.path))
    directory = cache_dir_for(repo)
    assert content is not None
    assert directory is not None
    monkeypatch.setattr("armgit.audit.query._WALK_COMMITS", 0 if walk else 200)
    few = read_audit(r.path)
    assert not content.exists()  # 4 commits, a few dozen files: parsed in memory
    shutil.rmtree(directory)
    root = repo.revparse_single("HEAD~3").peel(pygit2.Commit)
    blobs = _tenant_blobs(repo, root.tree, "")
    assert len(blobs) >= 20
    monkeypatch.setattr("armgit.audit.query._FEW_FILES", len(blobs))  # the root's files and more
    many = read_audit(r.path)
    assert many.computed == 4
    assert list(many.lines()) == list(few.lines())
    with sqlite3.connect(content) as db:
        cached = {row[0] for row in db.execute("SELECT oid FROM content")}
    assert blobs <= cached


def _tenant_blobs(repo: pygit2.Repository, tree: pygit2.Tree, path: str) -> set[str]:
    """The blob ids of the YAML files in ``tree`` under ``tenants/`` (the registry's files)."""
    found: set[str] = set()
    for entry in tree:
        name = f"{path}{entry.name}"
        if entry.type_str == "tree" and (path or entry.name == "tenants"):
            found |= _tenant_blobs(repo, repo[entry.id].peel(pygit2.Tree), f"{name}/")
        elif entry.type_str == "blob" and path and name.endswith(".yaml"):
            found.add(str(entry.id))
    return found
