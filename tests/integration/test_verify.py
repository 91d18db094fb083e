"""``armgit verify``: a clean scripted history verifies; histories written with plain git commits
(no hook) that rewrite a genome or bypass a rule are caught, with commit, file and rule."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from armgit.audit.query import read_audit
from armgit.enforce.verify import INTEGRITY_FAILED, INTEGRITY_VERIFIED, verify_repository
from tests.conftest import EXAMPLE, Git, run_armgit
from tests.integration.history import (
    ALICE_EMAIL,
    V1,
    V2,
    V21,
    Registry,
    new_registry,
    scripted_history,
)


def offences(r: Registry) -> list[tuple[str, str, str]]:
    """(step name, path, rule) of every finding."""
    names = {commit: name for name, commit in r.commits.items()}
    report = verify_repository(r.path)
    return [(names[f.commit], f.finding.path, f.finding.rule) for f in report.findings]


def test_scripted_history_verifies(tmp_path: Path) -> None:
    r = scripted_history(tmp_path)
    report = verify_repository(r.path)
    assert report.status == INTEGRITY_VERIFIED, report.findings
    assert report.commits == len(r.commits)
    assert report.genomes == 8  # 1.0.0 twice, 2.0.0, and each of 2.1.0's five states
    result = run_armgit("verify", "--repo", str(r.path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("INTEGRITY_VERIFIED: 12 commits, 8 genome hashes recomputed")


def test_workers_find_what_one_process_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = scripted_history(tmp_path)
    r.edit(V2, "maxTokens: 8192", "maxTokens: 9000")
    r.commit("tamper", "2026-02-13T10:00:00Z", ALICE_EMAIL)
    r.edit(V2, r.read(V2).split("genomeHash: ")[1].strip(), r.genome_hash(V2))
    r.commit("rehash", "2026-02-14T10:00:00Z", ALICE_EMAIL)
    alone = verify_repository(r.path)
    monkeypatch.setattr("armgit.enforce.verify.PARALLEL_MIN_COMMITS", 2)
    spread = verify_repository(r.path)  # 14 commits in runs of 2 over the workers
    assert spread.findings == alone.findings
    assert (spread.commits, spread.genomes) == (alone.commits, alone.genomes) == (14, 10)
    assert [f.finding.rule for f in spread.findings] == [
        "genome-hash-mismatch",
        "genome-immutable",
    ]


def test_a_rewritten_genome_is_caught(tmp_path: Path) -> None:
    r = new_registry(tmp_path)
    r.edit(V2, "maxTokens: 8192", "maxTokens: 9000")
    r.edit(V2, r.read(V2).split("genomeHash: ")[1].strip(), r.genome_hash(V2))
    r.commit("quietly rehash 2.0.0", "2026-02-02T10:00:00Z", ALICE_EMAIL)
    r.edit(V1, "lifecycle: DEPRECATED", "lifecycle: RETIRED")
    r.commit("an honest change on top", "2026-02-03T10:00:00Z", ALICE_EMAIL)
    assert offences(r) == [("quietly rehash 2.0.0", V2, "genome-immutable")]

    result = run_armgit("verify", "--repo", str(r.path), "--format", "json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["status"] == INTEGRITY_FAILED
    assert data["commits"] == 3
    assert [(f["commit"], f["path"], f["rule"], f["line"]) for f in data["findings"]] == [
        (r.commits["quietly rehash 2.0.0"], V2, "genome-immutable", 16)
    ]
    text = run_armgit("verify", "--repo", str(r.path))
    assert text.returncode == 1
    first, last = text.stdout.splitlines()[0], text.stdout.splitlines()[-1]
    assert first.startswith(r.commits["quietly rehash 2.0.0"][:12] + f" {V2}:16: genome-immutable")
    assert last.startswith("INTEGRITY_FAILED: 1 finding in 3 commits")


def test_a_tampered_genome_restored_later_is_still_caught(tmp_path: Path) -> None:
    r = new_registry(tmp_path)
    r.edit(V2, "maxTokens: 8192", "maxTokens: 9000")
    r.commit("tamper", "2026-02-02T10:00:00Z", ALICE_EMAIL)
    r.edit(V2, "maxTokens: 9000", "maxTokens: 8192")
    r.commit("restore", "2026-02-03T10:00:00Z", ALICE_EMAIL)
    # the end points are equal; the history is not
    assert offences(r) == [("tamper", V2, "genome-hash-mismatch")]


def test_a_tampered_genome_rehashed_later_is_caught_at_both_commits(tmp_path: Path) -> None:
    r = new_registry(tmp_path)
    r.edit(V2, "maxTokens: 8192", "maxTokens: 9000")
    r.commit("tamper", "2026-02-02T10:00:00Z", ALICE_EMAIL)
    r.edit(V2, r.read(V2).split("genomeHash: ")[1].strip(), r.genome_hash(V2))
    r.commit("rehash", "2026-02-03T10:00:00Z", ALICE_EMAIL)
    # the second commit leaves a valid file, but rewrites a hash that is written once
    assert offences(r) == [
        ("tamper", V2, "genome-hash-mismatch"),
        ("rehash", V2, "genome-immutable"),
    ]
    check = run_armgit("check", "--repo", str(r.path), "--base", "HEAD~1", "--head", "HEAD")
    assert check.returncode == 1
    assert f"{V2}:28: genome-immutable at /genomeHash" in check.stdout
    assert "the genomeHash of arm-dev/customer-support@2.0.0 changed from sha256:" in check.stdout


def test_bypassed_change_rules_are_caught(tmp_path: Path) -> None:
    r = new_registry(tmp_path)
    (r.path / V1).unlink()
    r.commit("delete 1.0.0", "2026-02-02T10:00:00Z", ALICE_EMAIL)
    r.edit(V2, "lifecycle: APPROVED", "lifecycle: DRAFT")
    r.commit("demote 2.0.0", "2026-02-03T10:00:00Z", ALICE_EMAIL)
    r.edit("tenants/arm-dev/policies/support-prod.yaml", "autonomyTier: 2", "autonomyTier: 3")
    r.commit("raise autonomy", "2026-02-04T10:00:00Z", ALICE_EMAIL)
    found = offences(r)
    assert ("delete 1.0.0", V1, "version-deleted") in found
    assert ("demote 2.0.0", V2, "illegal-transition") in found
    # the policy runs the prod instance: the widening is the instance's
    assert (
        "raise autonomy",
        "tenants/arm-dev/instances/support-prod-1.yaml",
        "approval-required",
    ) in found


def test_a_promotion_without_approval_is_caught(tmp_path: Path) -> None:
    r = scripted_history(tmp_path)
    # pushed around the hook: a new candidate promoted with nobody's approval
    text = r.read(V21).replace("label: 2.1.0", "label: 2.2.0")
    text = text.replace("lifecycle: APPROVED", "lifecycle: DRAFT")
    r.write(V21.replace("2.1.0", "2.2.0"), text)
    r.commit("2.2.0", "2026-02-13T10:00:00Z", ALICE_EMAIL)
    path = V21.replace("2.1.0", "2.2.0")
    for before, after, day in (
        ("DRAFT", "TESTING", "14"),
        ("TESTING", "CANDIDATE", "15"),
        ("CANDIDATE", "APPROVED", "16"),
    ):
        r.edit(path, f"lifecycle: {before}", f"lifecycle: {after}")
        r.commit(f"2.2.0 {after}", f"2026-02-{day}T10:00:00Z", ALICE_EMAIL)
    assert offences(r) == [("2.2.0 APPROVED", path, "approval-required")]


def test_an_expired_approval_does_not_count_at_its_commit_time(tmp_path: Path) -> None:
    r = scripted_history(tmp_path)
    # replay the promotion of 2.1.0 with an approval that had already expired
    r.git("checkout", "-q", "-b", "late", r.commits["2.1.0 passed its evaluation"])
    r.edit(V21, "lifecycle: CANDIDATE", "lifecycle: APPROVED")
    r.approve(
        "Version",
        "arm-dev/customer-support@2.1.0",
        {"type": "VERSION_PROMOTION", "from": "CANDIDATE", "to": "APPROVED"},
        r.digest(V21),
        "2026-02-05T11:00:00Z",
        "2026-02-06T11:00:00Z",
    )
    r.commit("promote 2.1.0 late", "2026-02-09T10:00:00Z", ALICE_EMAIL)
    report = verify_repository(r.path, "late")
    assert [(f.finding.path, f.finding.rule) for f in report.findings] == [
        (V21, "approval-required")
    ]
    assert "has 0" in report.findings[0].finding.message  # too old to count at that time


@pytest.mark.parametrize("args", [["--rev", "nowhere"], ["--format", "yaml"]])
def test_verify_user_errors(tmp_path: Path, args: list[str]) -> None:
    r = new_registry(tmp_path)
    result = run_armgit("verify", "--repo", str(r.path), *args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_a_merge_is_checked_commit_by_commit_and_blames_the_side_commit(tmp_path: Path) -> None:
    # issue 16: verify blames the commit that broke the rule, not the merge that brought it in
    r = new_registry(tmp_path)
    r.git("checkout", "-q", "-b", "side")
    r.edit(V2, "maxTokens: 8192", "maxTokens: 9000")
    tampered = r.commit("tamper on a branch", "2026-02-02T10:00:00Z", ALICE_EMAIL)
    r.edit(V2, "maxTokens: 9000", "maxTokens: 8192")
    r.edit(V1, "lifecycle: DEPRECATED", "lifecycle: RETIRED")
    r.commit("restore and retire", "2026-02-03T10:00:00Z", ALICE_EMAIL)
    r.git("checkout", "-q", "main")
    r.git("merge", "-q", "--no-ff", "-m", "merge side", "side")
    report = verify_repository(r.path)
    assert report.commits == 2
    assert [(f.commit, f.finding.path, f.finding.rule) for f in report.findings] == [
        (tampered, V2, "genome-hash-mismatch")
    ]


def test_a_registry_in_a_subdirectory(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    shutil.copytree(EXAMPLE, tmp_path / "repo" / "sub")
    (tmp_path / "repo" / "README.md").write_text("not registry content\n")
    r = Registry(Git(tmp_path / "repo"))
    r.git("init", "-q", "-b", "main")
    r.commit("genesis", "2026-02-01T10:00:00Z", ALICE_EMAIL)
    (r.path / "README.md").write_text("changed\n")
    r.commit("docs only", "2026-02-02T10:00:00Z", ALICE_EMAIL)
    r.edit("sub/" + V1, "lifecycle: DEPRECATED", "lifecycle: RETIRED")
    r.commit("retire", "2026-02-03T10:00:00Z", ALICE_EMAIL)
    report = verify_repository(r.path / "sub")
    assert report.status == INTEGRITY_VERIFIED, report.findings
    result = run_armgit("audit", "--repo", str(r.path / "sub"), "--format", "jsonl")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(d["type"], d["target"]) for d in records if d["commit"] == r.commits["retire"]] == [
        ("VERSION_TRANSITIONED", "arm-dev/customer-support@1.0.0")
    ]
    assert not [d for d in records if d["commit"] == r.commits["docs only"]]


def test_removing_a_registry_directory_deletes_its_versions(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    shutil.copytree(EXAMPLE, tmp_path / "repo" / "sub")
    r = Registry(Git(tmp_path / "repo"))
    r.git("init", "-q", "-b", "main")
    r.commit("genesis", "2026-02-01T10:00:00Z", ALICE_EMAIL)
    shutil.rmtree(r.path / "sub")
    (r.path / "README.md").write_text("gone\n")
    r.commit("remove the registry", "2026-02-02T10:00:00Z", ALICE_EMAIL)
    (r.path / "sub").mkdir()  # where the registry was, to name it
    found = {(f.finding.path, f.finding.rule) for f in verify_repository(r.path / "sub").findings}
    assert {(V1, "version-deleted"), (V2, "version-deleted")} <= found
    deleted = [
        d.type
        for d in read_audit(r.path / "sub").records
        if d.commit == r.commits["remove the registry"]
    ]
    assert "VERSION_DELETED" in deleted


def test_a_trust_root_reports_what_the_history_up_to_it_breaks_without_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upgrading armgit may bring rules that history an earlier armgit admitted breaks: with
    ``--trust-root``, what today's rules say of the commits up to it (itself included) is
    reported as trusted; what comes after still fails, in every worker layout."""
    r = scripted_history(tmp_path)
    r.edit(V2, "maxTokens: 8192", "maxTokens: 9000")
    r.commit("tamper", "2026-02-13T10:00:00Z", ALICE_EMAIL)
    r.edit(V2, r.read(V2).split("genomeHash: ")[1].strip(), r.genome_hash(V2))
    r.commit("rehash", "2026-02-14T10:00:00Z", ALICE_EMAIL)
    tamper, rehash = r.commits["tamper"], r.commits["rehash"]

    for parallel in (False, True):
        if parallel:
            monkeypatch.setattr("armgit.enforce.verify.PARALLEL_MIN_COMMITS", 2)
        at_tamper = verify_repository(r.path, trust_root=tamper)
        assert [(f.commit, f.finding.rule) for f in at_tamper.trusted] == [
            (tamper, "genome-hash-mismatch")
        ]
        assert [(f.commit, f.finding.rule) for f in at_tamper.findings] == [
            (rehash, "genome-immutable")
        ]
        at_head = verify_repository(r.path, trust_root=rehash)
        assert at_head.status == INTEGRITY_VERIFIED
        assert len(at_head.trusted) == 2
        assert at_head.trust_root == rehash

    shown = run_armgit("verify", "--repo", str(r.path), "--trust-root", rehash[:12])
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert f"trusted: {tamper[:12]} " in shown.stdout
    assert "2 findings trusted, at or before the trust root" in shown.stdout
    as_json = json.loads(
        run_armgit(
            "verify", "--repo", str(r.path), "--trust-root", tamper, "--format", "json"
        ).stdout
    )
    assert (as_json["status"], as_json["trustRoot"]) == (INTEGRITY_FAILED, tamper)
    assert [f["rule"] for f in as_json["trusted"]] == ["genome-hash-mismatch"]

    r.git("checkout", "-q", "-b", "side", tamper)
    r.edit(V2, "maxTokens: 9000", "maxTokens: 9001")
    r.commit("elsewhere", "2026-02-15T10:00:00Z", ALICE_EMAIL)
    r.git("checkout", "-q", "main")
    off_branch = run_armgit(
        "verify", "--repo", str(r.path), "--rev", "main", "--trust-root", "side"
    )
    assert off_branch.returncode == 2
    assert "is not on the first-parent history" in off_branch.stderr
    unknown = run_armgit("verify", "--repo", str(r.path), "--trust-root", "no-such-commit")
    assert unknown.returncode == 2
    assert "unknown revision 'no-such-commit'" in unknown.stderr
