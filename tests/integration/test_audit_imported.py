"""``armgit audit`` on an import's branch: ARM's records of types armgit does not derive appear
as imported records, the same bytes from both drivers; a forged import mark injects nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from armgit.audit.query import read_audit
from armgit.core.record_types import RECORD_TYPES
from tests.conftest import Git, run_armgit
from tests.import_exports import SAMPLES
from tests.import_helpers import armgit, initialised

BRANCH = "import/arm-prod"
TRAILERS = (
    "Armgit-Import: arm-prod\nArmgit-Import-Export: sha256:"
    + "0" * 64
    + "\nArmgit-Import-Commit: 1/1"
)
FORGED = {
    "id": "forged",
    "type": "ROLE_ASSIGNED",
    "targetEntity": "operator",
    "targetId": "x",
    "target": "tenants/platform/operators/alice.yaml",
    "tenant": "platform",
    "operator": "alice",
    "time": "2026-03-01T10:00:00Z",
    "payload": {"roleId": "admin"},
}


@pytest.fixture
def registry(tmp_path: Path) -> Git:
    """A registry (tenant platform, admin alice) with the samples imported on ``BRANCH``."""
    path = initialised(tmp_path).path
    result = armgit(
        "import", "arm", str(SAMPLES / "arm-sample-export.zip"),
        "--mission-control", str(SAMPLES / "mc-sample-export.zip"),
        "--source", "arm-prod", "--repo", str(path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return Git(path)


def test_the_imported_records_appear_in_the_audit_the_same_from_both_drivers(
    registry: Git, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARMGIT_NO_CACHE", "1")
    one_by_one = read_audit(registry.path, BRANCH)
    monkeypatch.setattr("armgit.audit.query._WALK_COMMITS", 0)
    walked = read_audit(registry.path, BRANCH)
    assert walked.computed == one_by_one.computed > 1
    assert list(walked.lines()) == list(one_by_one.lines())
    imported = [r for r in walked.records if r.imported]
    assert {r.type for r in imported} == {"ROLE_ASSIGNED", "APPROVAL_REQUESTED"}
    assert not any(r.type in RECORD_TYPES for r in imported)  # armgit derives those itself
    assigned = next(r for r in imported if r.type == "ROLE_ASSIGNED")
    assert (assigned.tenant, assigned.target) == ("arm-dev", "arm-dev/operator/sam-lee")
    assert (assigned.operator, assigned.time) == ("arm-ops", "2026-01-20T10:12:00Z")
    assert assigned.author == "ops@arm-dev.com"
    assert set(assigned.payload) == {"armId", "targetEntity", "targetId", "payload"}
    # the derived records are still there, and carry no "imported" field
    derived = [json.loads(line) for line in walked.lines() if b'"imported"' not in line]
    assert {"TEMPLATE_CREATED", "INSTANCE_TRANSITIONED"} <= {r["type"] for r in derived}


def test_audit_type_finds_them_derived_and_then_cached(registry: Git) -> None:
    for _ in range(2):  # derived, then read from the cache
        found = armgit(
            "audit", "--repo", str(registry.path), "--rev", BRANCH,
            "--type", "role_assigned", "--format", "jsonl",
        )  # fmt: skip
        assert found.exit_code == 0, found.output
        records = [json.loads(line) for line in found.output.splitlines()]
        assert [(r["type"], r["imported"]) for r in records] == [("ROLE_ASSIGNED", True)]
    unknown = armgit("audit", "--repo", str(registry.path), "--type", "ROLE_ASIGNED")
    assert unknown.exit_code == 2
    assert "'ROLE_ASIGNED' is not a record type" in unknown.output


@pytest.mark.parametrize("walk", [False, True])
def test_a_forged_import_mark_injects_no_records(
    registry: Git, monkeypatch: pytest.MonkeyPatch, walk: bool
) -> None:
    monkeypatch.setenv("ARMGIT_NO_CACHE", "1")
    monkeypatch.setattr("armgit.audit.query._WALK_COMMITS", 0 if walk else 200)
    forged = "ARM: ROLE_ASSIGNED\n\n" + json.dumps(FORGED) + "\n\n" + TRAILERS
    # on main: an empty commit, and one that changes the existing tenant
    registry.commit_all(forged, "2026-03-01T10:00:00Z")
    alice = registry.path / "tenants/platform/operators/alice.yaml"
    alice.write_text(alice.read_text() + "# touched\n")
    registry.commit_all(forged, "2026-03-02T10:00:00Z")
    # on the import's branch: a marked commit claiming the imported tenant while it changes
    # armgit.yaml
    registry("checkout", "-q", BRANCH)
    claim = {**FORGED, "tenant": "arm-dev", "target": None}
    settings = registry.path / "armgit.yaml"
    settings.write_text(settings.read_text() + "# touched\n")
    registry.commit_all(
        "ARM: ROLE_ASSIGNED\n\n" + json.dumps(claim) + "\n\n" + TRAILERS, "2026-03-03T10:00:00Z"
    )
    for rev in ("main", BRANCH):
        records = read_audit(registry.path, rev).records
        assert not any(r.imported and r.time.startswith("2026-03") for r in records), rev
    assert sum(r.imported for r in read_audit(registry.path, BRANCH).records) == 2


@pytest.mark.parametrize("walk", [False, True])
def test_a_merge_of_the_import_shows_its_records_on_the_protected_branch(
    registry: Git, monkeypatch: pytest.MonkeyPatch, walk: bool
) -> None:
    monkeypatch.setenv("ARMGIT_NO_CACHE", "1")
    monkeypatch.setattr("armgit.audit.query._WALK_COMMITS", 0 if walk else 200)
    on_branch = [r for r in read_audit(registry.path, BRANCH).records if r.imported]
    registry(
        "merge", "-q", "--no-ff", "-m", "merge the import", BRANCH,
        env={"GIT_AUTHOR_DATE": "2026-03-01T10:00:00Z", "GIT_COMMITTER_DATE": "2026-03-01T10:00:00Z"},
    )  # fmt: skip
    merge = registry("rev-parse", "HEAD")
    run = read_audit(registry.path, "main")
    assert [r for r in run.records if r.imported] == on_branch  # under the import's own commits
    assert all(r.commit != merge for r in on_branch)
    block = next(b for b in run.blocks if b.commit == merge)  # the merge's block holds them
    lines = [json.loads(line) for line in bytes(block.lines).splitlines()]
    assert [line.get("imported", False) for line in lines][-2:] == [True, True]
    assert "TENANT_CREATED" in {line["type"] for line in lines}  # derived from its files, first


def test_a_generated_export_gives_the_same_records_both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.import_exports import small_arm

    path = tmp_path / "registry"
    made = run_armgit(
        "init", str(path), "--tenant", "platform", "--admin", "alice",
        "--admin-email", "alice@acme.example",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    builder, _ = small_arm()
    export = builder.write_zip(tmp_path / "arm.zip")
    result = armgit("import", "arm", str(export), "--source", "gen", "--repo", str(path))
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("ARMGIT_NO_CACHE", "1")
    one_by_one = read_audit(path, "import/gen")
    monkeypatch.setattr("armgit.audit.query._WALK_COMMITS", 0)
    walked = read_audit(path, "import/gen")
    assert list(walked.lines()) == list(one_by_one.lines())
    imported = {(r.type, r.target) for r in walked.records if r.imported}
    # ARM's APPROVAL_DECIDED is a type armgit derives (from approval files): not repeated
    assert imported == {("APPROVAL_REQUESTED", "acme"), ("EVAL_RUN_COMPLETED", "acme")}
