"""``armgit validate`` on real repositories, through the real entry point."""

from __future__ import annotations

import json

from tests.conftest import EXAMPLE, Git, run_armgit


def test_example_registry_is_valid() -> None:
    result = run_armgit("validate", "--repo", str(EXAMPLE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok: ")


def test_validate_at_revision_reads_object_database(example_repo: Git) -> None:
    version = example_repo.path / "tenants/arm-dev/templates/customer-support/versions/2.0.0.yaml"
    version.write_text(version.read_text().replace("temperature: 0.5", "temperature: 0.9"))
    at_head = run_armgit("validate", "--repo", str(example_repo.path), "--rev", "HEAD")
    assert at_head.returncode == 0, at_head.stdout
    in_work_tree = run_armgit("validate", "--repo", str(example_repo.path), "--format", "json")
    assert in_work_tree.returncode == 1
    report = json.loads(in_work_tree.stdout)
    assert report["ok"] is False
    assert [f["rule"] for f in report["findings"]] == ["genome-hash-mismatch"]
    assert report["findings"][0]["line"] is not None
