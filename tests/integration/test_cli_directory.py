"""ls, show, lineage, hash and init through the CLI, on the example and on real repositories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from armgit.cli.main import cli
from tests.conftest import EXAMPLE, Git, run_armgit

V2_FILE = EXAMPLE / "tenants/arm-dev/templates/customer-support/versions/2.0.0.yaml"


def armgit(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("args", "refs"),
    [
        (["versions"], ["arm-dev/customer-support@1.0.0", "arm-dev/customer-support@2.0.0"]),
        (["versions", "--state", "approved"], ["arm-dev/customer-support@2.0.0"]),
        (["versions", "--env", "prod"], ["arm-dev/customer-support@2.0.0"]),
        (["versions", "--env", "dev"], []),
        (
            ["versions", "--tag", "support"],
            ["arm-dev/customer-support@1.0.0", "arm-dev/customer-support@2.0.0"],
        ),
        (["versions", "--search", "haiku"], ["arm-dev/customer-support@1.0.0"]),
        (["versions", "--tenant", "other"], []),
        (["instances", "--state", "ACTIVE"], ["arm-dev/instance/support-prod-1"]),
        (["deployments", "--env", "prod"], ["arm-dev/deployment/prod/customer-support"]),
        (["environments"], [f"arm-dev/environment/{e}" for e in ("dev", "prod", "staging")]),
        (["templates", "--search", "support agent"], ["arm-dev/customer-support"]),
        (["policies", "--search", "go to a human"], ["arm-dev/policy/support-prod"]),
        (["operators"], [f"arm-dev/operator/{o}" for o in ("alice", "bob", "ops")]),
        (["tenants"], ["arm-dev"]),
    ],
)
def test_ls_filters(args: list[str], refs: list[str]) -> None:
    code, out = armgit("ls", *args, "--repo", str(EXAMPLE), "--format", "json")
    assert code == 0
    assert [row["ref"] for row in json.loads(out)] == refs


def test_ls_table() -> None:
    code, out = armgit("ls", "instances", "--repo", str(EXAMPLE))
    assert code == 0
    header, row = out.strip().splitlines()
    assert header.split() == ["REF", "VERSION", "ENVIRONMENT", "PROVIDER", "STATE"]
    assert row.split() == [
        "arm-dev/instance/support-prod-1",
        "customer-support@2.0.0",
        "prod",
        "local",
        "ACTIVE",
    ]


def test_ls_unknown_kind_is_a_usage_error() -> None:
    code, out = armgit("ls", "agents", "--repo", str(EXAMPLE))
    assert code == 2
    assert "Invalid value for 'KIND'" in out


def test_show_verifies_and_detects_tampering(example_repo: Git) -> None:
    ref = "arm-dev/customer-support@2.0.0"
    code, out = armgit("show", ref, "--repo", str(example_repo.path), "--format", "json")
    assert code == 0
    shown = json.loads(out)
    assert (shown["integrity"], shown["lineage"]) == (
        "VERIFIED",
        [ref, "arm-dev/customer-support@1.0.0"],
    )
    version = example_repo.path / "tenants/arm-dev/templates/customer-support/versions/2.0.0.yaml"
    version.write_text(version.read_text().replace("maxTokens: 8192", "maxTokens: 100000"))
    code, out = armgit("show", ref, "--repo", str(example_repo.path))
    assert code == 1
    assert "integrity: TAMPERED" in out
    assert "genome-hash-mismatch" in out
    # the committed version is still intact
    code, out = armgit("show", ref, "--repo", str(example_repo.path), "--rev", "HEAD")
    assert (code, "integrity: VERIFIED" in out) == (0, True)


def test_show_other_kinds_and_missing_entities() -> None:
    code, out = armgit("show", "arm-dev/instance/support-prod-1", "--repo", str(EXAMPLE))
    assert code == 0
    assert "secretRef: vault://" in out
    code, out = armgit("show", "arm-dev/instance/ghost", "--repo", str(EXAMPLE))
    assert code == 1
    assert "no such entity: arm-dev/instance/ghost" in out
    code, out = armgit("show", "arm-dev/bogus/ghost", "--repo", str(EXAMPLE))
    assert code == 2


def test_lineage_to_the_root_and_broken_chains(example_repo: Git) -> None:
    code, out = armgit(
        "lineage", "arm-dev/customer-support@2.0.0", "--repo", str(EXAMPLE), "--format", "json"
    )
    assert code == 0
    steps = json.loads(out)["lineage"]
    assert [(s["ref"], s["integrity"]) for s in steps] == [
        ("arm-dev/customer-support@2.0.0", "VERIFIED"),
        ("arm-dev/customer-support@1.0.0", "VERIFIED"),
    ]
    (example_repo.path / "tenants/arm-dev/templates/customer-support/versions/1.0.0.yaml").unlink()
    code, out = armgit(
        "lineage", "arm-dev/customer-support@2.0.0", "--repo", str(example_repo.path)
    )
    assert code == 1
    assert "customer-support@1.0.0 does not exist" in out
    code, out = armgit("lineage", "arm-dev/customer-support", "--repo", str(EXAMPLE))
    assert code == 2


def test_hash_matches_the_file_and_refuses_non_versions(tmp_path: Path) -> None:
    code, out = armgit("hash", str(V2_FILE), "--check")
    assert code == 0
    assert out.strip() in V2_FILE.read_text()
    code, out = armgit("hash", str(EXAMPLE / "armgit.yaml"))
    assert code == 1
    assert "no genome here" in out
    broken = tmp_path / "v.yaml"
    broken.write_text(
        V2_FILE.read_text().replace(
            'createdAt: "2026-02-01T10:00:00Z"', "createdAt: 2026-02-01T10:00:00Z"
        )
    )
    code, out = armgit("hash", str(broken))
    assert code == 1
    assert "unquoted date/time in the genome" in out


def test_init_makes_a_valid_committed_registry(tmp_path: Path) -> None:
    target = tmp_path / "agents"
    result = run_armgit(
        "init",
        str(target),
        "--tenant",
        "acme",
        "--tenant-name",
        "Acme Corp",
        "--admin",
        "alice",
        "--admin-email",
        "alice@acme.example",
        "--identity",
        "github:alice",
    )
    assert result.returncode == 0, result.stderr
    git = Git(target)
    assert git("status", "--porcelain") == ""
    assert git("log", "--format=%s") == "armgit init: registry agents, tenant acme"
    for extra in ([], ["--rev", "main"]):
        check = run_armgit("validate", "--repo", str(target), *extra)
        assert check.returncode == 0, check.stdout
    operator = (target / "tenants/acme/operators/alice.yaml").read_text()
    assert '"github:alice"' in operator
    assert (target / "schemas/version.json").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tenant", "Acme"], "tenant name 'Acme' is not valid"),
        (["--admin", "al ice"], "admin name 'al ice' is not valid"),
    ],
)
def test_init_refuses_bad_names(tmp_path: Path, args: list[str], message: str) -> None:
    code, out = armgit("init", str(tmp_path / "x"), "--admin-email", "a@b.example", *args)
    assert code == 2
    assert message in out
    assert not (tmp_path / "x").exists()


def test_init_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = run_armgit("init", str(tmp_path), "--admin-email", "a@b.example")
    assert result.returncode == 2
    assert "is not empty" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_init_under_a_file_says_the_file_is_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "notes").write_text("mine")
    target = tmp_path / "notes" / "registry"
    result = run_armgit("init", str(target), "--admin-email", "a@b.example")
    assert result.returncode == 2
    assert f"{tmp_path / 'notes'} is not a directory" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "notes").read_text() == "mine"


def test_validate_leaves_the_collector_as_it_found_it() -> None:
    # Tests and library callers run in the same process after the command: pausing the cyclic
    # collector for a load must not leave it off.
    import gc

    assert gc.isenabled()
    code, out = armgit("validate", "--repo", str(EXAMPLE))
    assert code == 0, out
    assert gc.isenabled()
