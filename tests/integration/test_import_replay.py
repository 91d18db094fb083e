"""Update records replayed into a real import branch, in both export formats: the template's
file at each commit is as ARM's records say, every commit validates, the tip equals the
snapshot, and a rerun gives the same commit ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.conftest import Git, run_armgit
from tests.import_exports import patched_arm

TEMPLATE = "tenants/acme/templates/support-agent/template.yaml"
POLICY = "tenants/acme/policies/support-prod.yaml"


def armgit(*args: str) -> Result:
    from armgit.cli.main import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize("fmt", ["uniform", "older"])
def test_imported_files_follow_the_update_records(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "registry"
    made = run_armgit(
        "init", str(path), "--tenant", "platform", "--admin", "alice",
        "--admin-email", "alice@acme.example", "--identity", "github:alice",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    git = Git(path)
    export = patched_arm(fmt)[0].write_zip(tmp_path / "arm.zip")
    args = ["import", "arm", str(export), "--source", "acme", "--repo", str(path)]
    result = armgit(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["history"] == {"fieldsReplayed": 3, "snapshotValuesKept": 5}
    commits = git("rev-list", "--reverse", "main..import/acme").split()
    seen: list[str] = []
    for commit in commits:
        shown = git("show", f"{commit}:{TEMPLATE}", check=False)
        line = next((x for x in shown.splitlines() if x.startswith("description:")), None)
        if line and (not seen or seen[-1] != line):
            seen.append(line)
            # the commits where the replayed file changes are valid registries
            valid = armgit("validate", "--repo", str(path), "--rev", commit)
            assert valid.exit_code == 0, (commit, valid.output)
    assert seen == [
        'description: "Answers customers"',
        "description: x",
        'description: "Answers customers"',
    ]
    tier = [git("show", f"{c}:{POLICY}", check=False).count("autonomyTier: 1") for c in commits]
    assert 1 in tier
    assert tier[-1] == 0
    checked = armgit(
        "check", "--base", "main", "--head", "import/acme", "--author", "github:alice",
        "--repo", str(path),
    )  # fmt: skip
    assert checked.exit_code == 0, checked.output
    tip = git("rev-parse", "import/acme")
    git("branch", "-D", "import/acme")
    again = armgit(*args)
    assert again.exit_code == 0, again.output
    assert git("rev-parse", "import/acme") == tip
