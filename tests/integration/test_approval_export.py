"""``armgit approve --export-statement``: the recipe docs/approvals.md gives, run as printed with
real ssh-keygen: armgit and OpenSSH alone check an approval."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from armgit.cli.main import cli
from tests.approval_helpers import V21, Setup, needs_ssh_keygen
from tests.integration.conftest import Registry

pytestmark = needs_ssh_keygen


@pytest.fixture
def setup(tmp_path: Path, keyed_registry: Registry) -> Setup:
    return keyed_registry(tmp_path)


def export(approval: Path, here: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.chdir(here)
    result = CliRunner().invoke(
        cli, ["approve", "--export-statement", str(approval)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def approved(setup: Setup) -> Path:
    setup.promote()
    result = CliRunner().invoke(
        cli,
        ["approve", V21, "--key", str(setup.keys["bob"].private), "--repo", str(setup.root)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    (line,) = [x for x in result.output.splitlines() if x.startswith("wrote ")]
    return setup.root / line.split()[1]


def run_recipe(lines: list[str], here: Path) -> subprocess.CompletedProcess[str]:
    commands = [line.strip() for line in lines if line.startswith("  ")]
    assert [c.split()[0] for c in commands] == ["echo", "ssh-keygen"]
    return subprocess.run(
        " && ".join(commands), shell=True, cwd=here, capture_output=True, text=True, check=False
    )


def test_the_printed_recipe_verifies_with_stock_ssh_keygen(
    setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    approval = approved(setup)
    here = tmp_path / "check"
    here.mkdir()
    lines = export(approval, here, monkeypatch)
    assert (
        lines[0] == f"wrote {approval.stem}.json (the signed message) and {approval.stem}.json.sig"
    )
    shutil.copy(setup.keys["bob"].private.with_suffix(".pub"), here / "bob.pub")
    verified = run_recipe(lines, here)
    assert verified.returncode == 0, verified.stderr
    assert 'Good "armgit-approval" signature for bob' in verified.stdout + verified.stderr


def test_an_edited_statement_fails_the_same_recipe(
    setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    approval = approved(setup)
    text = approval.read_text()
    approval.write_text(text.replace("after review", "after a review"))
    here = tmp_path / "check"
    here.mkdir()
    lines = export(approval, here, monkeypatch)
    shutil.copy(setup.keys["bob"].private.with_suffix(".pub"), here / "bob.pub")
    verified = run_recipe(lines, here)
    assert verified.returncode != 0
    assert "Signature verification failed" in verified.stdout + verified.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--export-statement", "nope.yaml"], "cannot read nope.yaml"),
        (["--export-statement", "x.yaml", "--key", "k"], "takes the approval file alone"),
        ([], "give --key"),
    ],
)
def test_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["approve", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_a_file_that_is_no_approval(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.yaml").write_text("apiVersion: armgit/v1\nkind: Tenant\nname: t\n")
    result = CliRunner().invoke(cli, ["approve", "--export-statement", "x.yaml"])
    assert result.exit_code == 2
    assert "x.yaml is not a readable approval" in result.output
