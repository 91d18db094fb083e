"""``armgit import arm`` end to end: real repositories, the samples and generated exports; the
branch validates at every commit, passes ``check`` as a registry admin, compiles, verifies after
the merge; reruns are deterministic; the import mark relaxes nothing outside a new tenant."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from armgit.core.canonical import genome_hash
from armgit.core.jsondata import JsonObject
from tests.approval_helpers import needs_ssh_keygen
from tests.conftest import GIT_ENV, REPO_ROOT, Git, run_armgit
from tests.import_exports import small_arm, small_mc
from tests.import_helpers import ARM, BRANCH, armgit, import_samples, initialised
from tests.index_helpers import ssh_keygen

TRAILERS = (
    "Armgit-Import: arm-prod\nArmgit-Import-Export: sha256:"
    + "0" * 64
    + "\nArmgit-Import-Commit: 1/1"
)


@pytest.fixture
def registry(tmp_path: Path) -> Git:
    """A registry made by ``armgit init``: tenant platform, admin alice (github:alice)."""
    return initialised(tmp_path)


imported = import_samples


def test_samples_import_into_a_branch_that_validates_checks_and_compiles(
    registry: Git, tmp_path: Path
) -> None:
    result = imported(registry)
    assert "imported: 7 commits on import/arm-prod" in result.output
    assert "ARM genome hashes: 4 PLACEHOLDER" in result.output
    assert registry("rev-parse", "--abbrev-ref", "HEAD") == "main"  # the work tree untouched
    assert registry("status", "--porcelain") == ""
    commits = registry("rev-list", f"main..{BRANCH}").split()
    assert len(commits) == 7
    for commit in commits:  # every moment of the imported history is a valid registry
        valid = armgit("validate", "--repo", str(registry.path), "--rev", commit)
        assert valid.exit_code == 0, (commit, valid.output)
    log = registry("log", "--format=%an <%ae> %ad", "--date=iso-strict", BRANCH, "-7")
    assert "ARM Ops <ops@arm-dev.com> 2026-01-20T10:20:00+00:00" in log.splitlines()
    checked = armgit(
        "check", "--base", "main", "--head", BRANCH, "--author", "github:alice",
        "--repo", str(registry.path), "--format", "json",
    )  # fmt: skip
    assert checked.exit_code == 0, checked.output
    report = json.loads(checked.output)
    assert report["findings"] == []
    assert {n["rule"] for n in report["notices"]} == {"approval-required", "transition-guard"}
    # the mark relaxes no permission: a tenant is created by a registry admin only
    stranger = armgit(
        "check", "--base", "main", "--head", BRANCH, "--author", "github:mallory",
        "--repo", str(registry.path),
    )  # fmt: skip
    assert stranger.exit_code == 1
    assert "permission-denied" in stranger.output
    audit = armgit("audit", "--repo", str(registry.path), "--rev", BRANCH, "--format", "jsonl")
    records = [json.loads(line) for line in audit.output.splitlines()]
    transitioned = [r for r in records if r["type"] == "INSTANCE_TRANSITIONED"]
    assert any(r["detail"]["to"] == "QUARANTINED" for r in transitioned if "detail" in r) or any(
        "QUARANTINED" in json.dumps(r) for r in transitioned
    )


@needs_ssh_keygen
def test_the_import_compiles_without_its_legacy_blocks(registry: Git, tmp_path: Path) -> None:
    imported(registry)
    key, _, _ = ssh_keygen(tmp_path, "signer")
    out = tmp_path / "index.json"
    compiled = run_armgit(
        "compile", "--repo", str(registry.path), "--rev", BRANCH, "--key", str(key),
        "--out", str(out), "--first-publish", "--issued-at", "2026-02-01T00:00:00Z", "--expires-in", "3650d",
    )  # fmt: skip
    assert compiled.returncode == 0, compiled.stderr
    envelope = json.loads(out.read_text())
    payload = base64.b64decode(envelope["payload"]).decode()
    assert "arm-dev" in payload
    assert "customer-support-agent" in payload
    assert 'legacy"' not in payload
    assert "hash_v1_" not in payload


def test_reruns_are_deterministic_and_continue(registry: Git, tmp_path: Path) -> None:
    imported(registry)
    tip = registry("rev-parse", BRANCH)
    again = imported(registry)
    assert "up to date" in again.output
    assert registry("rev-parse", BRANCH) == tip
    # an import stopped half way is continued, to the same commits
    third = registry("rev-list", "--reverse", f"main..{BRANCH}").split()[2]
    registry("update-ref", f"refs/heads/{BRANCH}", third)
    resumed = imported(registry)
    assert "imported: 4 commits" in resumed.output
    assert registry("rev-parse", BRANCH) == tip
    # the same export and options on the same base, in another clone: the same commit ids
    clone = Git(tmp_path / "clone")
    Git(tmp_path)("clone", "-q", str(registry.path), str(clone.path))
    imported(clone)
    assert clone("rev-parse", BRANCH) == tip
    # another --source is another import: not mixed into this branch
    other = armgit(
        "import", "arm", ARM, "--source", "arm-staging", "--branch", BRANCH,
        "--repo", str(registry.path),
    )  # fmt: skip
    assert other.exit_code == 1
    assert "import into a new --branch" in other.output


def test_dry_run_prints_the_plan_and_writes_nothing(registry: Git) -> None:
    result = imported(registry, "--dry-run", "--format", "json")
    report = json.loads(result.output)
    assert report["dryRun"] is True
    assert report["commits"] == 7
    assert report["written"] == 0
    assert report["tables"]["mc:toolCalls"] == {"rows": 1, "notImported": 1}
    assert report["tables"]["approvalRecords"] == {"rows": 1, "evidence": 1}
    assert registry("branch", "--list", BRANCH) == ""
    text = imported(registry, "--dry-run")
    assert "dry run: would write 7 commits" in text.output


def test_refusals_write_nothing(registry: Git, tmp_path: Path) -> None:
    protected = armgit("import", "arm", ARM, "--branch", "main", "--repo", str(registry.path))
    assert protected.exit_code == 1
    assert "'main' is a protected branch" in protected.output
    builder, _ = small_arm()
    entries = builder.entries()
    lines = entries["agentVersions/documents.jsonl"].decode().splitlines()
    lines[1] = lines[1].replace('"genome": {', '"genome": {"bad": {"$bytes": "AA=="}, ', 1)
    entries["agentVersions/documents.jsonl"] = ("\n".join(lines) + "\n").encode()
    broken = tmp_path / "broken"
    for name, data in entries.items():
        (broken / name).parent.mkdir(parents=True, exist_ok=True)
        (broken / name).write_bytes(data)
    refused = armgit("import", "arm", str(broken), "--repo", str(registry.path))
    assert refused.exit_code == 1
    assert "agentVersions/documents.jsonl, line 2, field genome.bad" in refused.output
    assert "nothing was written" in refused.output
    assert registry("branch", "--list", "import/*") == ""
    registry("branch", "by-hand")
    taken = armgit("import", "arm", ARM, "--branch", "by-hand", "--repo", str(registry.path))
    assert taken.exit_code == 1
    assert "not made by armgit import" in taken.output
    names = tmp_path / "names.yaml"
    names.write_text("j578z37z4hjayapw8nkvx24ya0kv9way: platform\n")  # the sample's tenant
    clash = armgit("import", "arm", ARM, "--names", str(names), "--repo", str(registry.path))
    assert clash.exit_code == 1
    assert "already has tenant platform" in clash.output
    names.write_text("j578z37z4hjayapw8nkvx24ya0kv9way: Not A Name\n")
    bad = run_armgit("import", "arm", ARM, "--names", str(names), "--repo", str(registry.path))
    assert bad.returncode == 2
    assert "is not a valid name" in bad.stderr


@pytest.mark.parametrize("fmt", ["uniform", "older"])
def test_generated_exports_import_and_check(registry: Git, tmp_path: Path, fmt: str) -> None:
    builder, _ = small_arm(fmt)
    mc, _ = small_mc("older" if fmt == "uniform" else "uniform")
    arm_zip = builder.write_zip(tmp_path / "arm.zip")
    mc_dir = mc.write_folder(tmp_path / "mc")
    result = armgit(
        "import", "arm", str(arm_zip), "--mission-control", str(mc_dir), "--source", "acme",
        "--repo", str(registry.path), "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["genomeHashes"] == {"MISMATCH": 1, "PLACEHOLDER": 4, "VERIFIED": 1}
    assert report["commits"] == 15
    for commit in registry("rev-list", "main..import/acme").split():
        valid = armgit("validate", "--repo", str(registry.path), "--rev", commit)
        assert valid.exit_code == 0, (commit, valid.output)
    checked = armgit(
        "check", "--base", "main", "--head", "import/acme", "--author", "github:alice",
        "--repo", str(registry.path),
    )  # fmt: skip
    assert checked.exit_code == 0, checked.output
    # RETIRED -> ACTIVE is no legal edge: ARM allowed it, the import reports it
    assert "notice: tenants/acme/instances/support-agent-dev.yaml" in checked.output
    assert "illegal-transition" in checked.output


def test_a_merged_import_verifies_with_notices(registry: Git, tmp_path: Path) -> None:
    imported(registry)
    registry("merge", "-q", "--no-ff", BRANCH, "-m", "Merge the ARM import")
    verified = armgit("verify", "--repo", str(registry.path), "--format", "json")
    assert verified.exit_code == 0, verified.output
    report = json.loads(verified.output)
    assert report["status"] == "INTEGRITY_VERIFIED"
    assert report["findings"] == []
    assert len(report["notices"]) == 6
    # squashed, the history is gone and the mark with it: judged as any change
    registry("reset", "-q", "--hard", "HEAD~1")
    registry("merge", "-q", "--squash", BRANCH)
    registry("commit", "-q", "-m", "squashed import")
    squashed = armgit("verify", "--repo", str(registry.path), "--format", "json")
    assert squashed.exit_code == 1
    assert {f["rule"] for f in json.loads(squashed.output)["findings"]} == {
        "approval-required",
        "transition-guard",
    }


def test_a_fast_forwarded_import_verifies_with_notices(registry: Git) -> None:
    """Landed by fast-forward (a rebase merge), each import commit lies on the first-parent
    history and is judged from the commit its import grew from, not from its parent, which holds
    the tenants the import's earlier commits created (the sample's second commit attaches a
    policy to an instance the first created: a widening ARM never asked approval for)."""
    imported(registry)
    registry("merge", "-q", "--ff-only", BRANCH)
    verified = armgit("verify", "--repo", str(registry.path), "--format", "json")
    assert verified.exit_code == 0, verified.output
    report = json.loads(verified.output)
    assert report["findings"] == []
    assert len(report["notices"]) == 6
    assert "POLICY_AUTONOMY_INCREASE" in json.dumps(report["notices"])


def _forge(registry: Git, message: str) -> str:
    registry("add", "-A")
    registry("commit", "-q", "-m", message)
    return registry("rev-parse", "HEAD")


def test_the_mark_cannot_carry_changes_to_existing_tenants(registry: Git) -> None:
    """A forged mark on a commit that touches a tenant the base has is not honoured."""
    registry("checkout", "-q", "-b", "forged")
    env = registry.path / "tenants/platform/environments/prod.yaml"
    env.write_text(env.read_text().replace("protected: true", "protected: false"))
    version = registry.path / "tenants/platform/templates/bot/versions/1.0.0.yaml"
    version.parent.mkdir(parents=True)
    (version.parent.parent / "template.yaml").write_text(
        "apiVersion: armgit/v1\nkind: Template\nname: bot\n"
    )
    genome: JsonObject = {
        "modelConfig": {"provider": "x", "modelId": "y"},
        "promptBundleHash": "sha256:" + "0" * 64,
        "toolManifest": [],
        "provenance": {"createdBy": "a", "source": "b", "createdAt": "2026-01-01T00:00:00Z"},
    }
    version.write_text(
        "apiVersion: armgit/v1\nkind: Version\ntemplate: bot\nlabel: 1.0.0\n"
        f"lifecycle: APPROVED\ngenome: {json.dumps(genome)}\ngenomeHash: {genome_hash(genome)}\n"
    )
    _forge(registry, f"looks imported\n\n{TRAILERS}")
    checked = armgit(
        "check", "--base", "main", "--head", "forged", "--author", "github:alice",
        "--repo", str(registry.path),
    )  # fmt: skip
    assert checked.exit_code == 1
    assert "notice:" not in checked.output
    assert "transition-guard" in checked.output


def test_a_hooked_server_judges_the_merge_as_any_push(registry: Git, tmp_path: Path) -> None:
    bare = tmp_path / "server.git"
    Git(tmp_path)("init", "-q", "--bare", "-b", "main", str(bare))
    assert run_armgit("hooks", "install", "--server", str(bare)).returncode == 0
    registry("remote", "add", "origin", str(bare))
    env = {**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO_ROOT), "ARMGIT_PUSHER": "alice"}

    def push() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "push", "origin", "main"], cwd=registry.path, env=env,
            capture_output=True, text=True, check=False,
        )  # fmt: skip

    assert push().returncode == 0, push().stderr
    imported(registry)
    registry("merge", "-q", "--no-ff", BRANCH, "-m", "Merge the ARM import")
    pushed = push()
    assert pushed.returncode != 0
    assert "approval-required" in pushed.stderr
    shutil.rmtree(bare)


def test_the_imported_genome_is_write_once(registry: Git) -> None:
    imported(registry)
    registry("checkout", "-q", "-b", "edit", BRANCH)
    version = registry.path / "tenants/arm-dev/templates/customer-support-agent/versions/1.0.0.yaml"
    version.write_text(
        version.read_text().replace("genomeHashVerdict: PLACEHOLDER", "genomeHashVerdict: VERIFIED")
    )
    _forge(registry, "the hash was fine really")
    checked = armgit(
        "check", "--base", BRANCH, "--head", "edit", "--repo", str(registry.path),
    )  # fmt: skip
    assert checked.exit_code == 1
    assert "genome-immutable at /legacy" in checked.output


def test_marks_made_on_an_old_commit_cannot_reach_an_imported_tenant(registry: Git) -> None:
    """After the import landed, marked commits grown from before it (where its tenant did not
    exist yet) are judged from the branch as it is now: in full."""
    base = registry("rev-parse", "main")
    imported(registry)
    registry("merge", "-q", "--no-ff", BRANCH, "-m", "Merge the ARM import")
    registry("checkout", "-q", "-b", "late", base)
    version = registry.path / "tenants/arm-dev/templates/customer-support-agent/versions/9.0.0.yaml"
    version.parent.mkdir(parents=True)
    genome: JsonObject = {
        "modelConfig": {"provider": "x", "modelId": "y"},
        "promptBundleHash": "sha256:" + "0" * 64,
        "toolManifest": [],
        "provenance": {"createdBy": "a", "source": "b", "createdAt": "2026-01-01T00:00:00Z"},
    }
    version.write_text(
        "apiVersion: armgit/v1\nkind: Version\ntemplate: customer-support-agent\n"
        f"label: 9.0.0\nlifecycle: APPROVED\ngenome: {json.dumps(genome)}\n"
        f"genomeHash: {genome_hash(genome)}\n"
    )
    _forge(registry, f"a late addition\n\n{TRAILERS}")
    registry("merge", "-q", "--no-edit", "main")
    checked = armgit(
        "check", "--base", "main", "--head", "late", "--author", "github:alice",
        "--repo", str(registry.path),
    )  # fmt: skip
    assert checked.exit_code == 1
    assert "notice:" not in checked.output
    assert "9.0.0.yaml" in checked.output


def test_the_site_of_the_import_branch_shows_the_imported_fleet(
    registry: Git, tmp_path: Path
) -> None:
    imported(registry)
    out = tmp_path / "site"
    built = armgit("site", "--repo", str(registry.path), "--rev", BRANCH, "--out", str(out))
    assert built.exit_code == 0, built.output
    directory = (out / "data" / "directory.js").read_text()
    for template in ("customer-support-agent", "legacy-echo", "legacy-atlas"):
        assert template in directory
    audit = [json.loads(line) for line in (out / "audit.jsonl").read_text().splitlines()]
    assert any(r.get("imported") for r in audit)  # ARM's own records, beside armgit's
