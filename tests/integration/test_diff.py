"""``armgit diff`` through the real command: versions, environments, JSON, errors."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Git, run_armgit

V1, V2 = "arm-dev/customer-support@1.0.0", "arm-dev/customer-support@2.0.0"


def test_two_versions_as_text(example_repo: Git) -> None:
    result = run_armgit("diff", V1, V2, "--repo", str(example_repo.path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{V1} -> {V2}"
    assert "  genome:" in lines
    assert "    tools added: refund_issue (high), zendesk_reply (medium)" in lines
    assert "  effective policy:" in lines
    assert "  risk + new tool refund_issue (high risk)" in lines


def test_two_versions_in_an_environment_as_json(example_repo: Git) -> None:
    result = run_armgit(
        "diff", V1, V2, "--env", "prod", "--repo", str(example_repo.path), "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["a"], data["b"]) == (V1, V2)
    assert "prod-ceiling" in data["effectivePolicy"]["b"]["sources"]
    assert data["effectivePolicy"]["b"]["digest"].startswith("sha256:")


def test_two_environments_of_a_tenant(example_repo: Git) -> None:
    deployments = example_repo.path / "tenants/arm-dev/deployments"
    (deployments / "staging").mkdir()
    prod = (deployments / "prod/customer-support.yaml").read_text()
    (deployments / "staging/customer-support.yaml").write_text(
        prod.replace("environment: prod", "environment: staging")
        .replace("version: 2.0.0", "version: 1.0.0")
        .replace("previousVersion: 1.0.0\n", "")
    )
    example_repo.commit_all("1.0.0 in staging")
    result = run_armgit("diff", "arm-dev/staging", "arm-dev/prod", "--repo", str(example_repo.path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "arm-dev/staging -> arm-dev/prod"
    assert "    protected false -> true" in lines
    assert "  customer-support: 1.0.0 (ACTIVE) -> 2.0.0 (ACTIVE)" in lines
    assert "        tools added: refund_issue (high), zendesk_reply (medium)" in lines
    # at the commit before, staging ran nothing
    before = run_armgit(
        "diff", "arm-dev/environment/staging", "arm-dev/prod", "--rev", "HEAD~1",
        "--repo", str(example_repo.path), "--format", "json",
    )  # fmt: skip
    assert before.returncode == 0, before.stderr
    (row,) = json.loads(before.stdout)["templates"]
    assert row["a"] is None
    assert row["b"] == {"version": "2.0.0", "status": "ACTIVE"}


@pytest.mark.parametrize(
    ("a", "b", "code", "message"),
    [
        (V1, "arm-dev/prod", 2, f"{V1} is a version, arm-dev/prod is an environment"),
        (
            V1,
            "arm-dev/customer-support@9.9.9",
            1,
            "no such version: arm-dev/customer-support@9.9.9",
        ),
        ("arm-dev/customer-support", "arm-dev/prod", 2, "arm-dev/customer-support is a template"),
        ("arm-dev/qa", "arm-dev/prod", 1, "no such environment: arm-dev/environment/qa"),
        ("arm-dev/policy/support-prod", "arm-dev/prod", 2, "compares two versions"),
    ],
)
def test_errors(example_repo: Git, a: str, b: str, code: int, message: str) -> None:
    result = run_armgit("diff", a, b, "--repo", str(example_repo.path))
    assert result.returncode == code
    assert message in result.stderr
