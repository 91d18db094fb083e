"""Command-line conventions: colors (--color, NO_COLOR), stream format names, usage exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from armgit.cli.main import cli
from tests.conftest import Git, run_armgit

ESC = "\x1b["


def broken(example_repo: Git) -> str:
    """A registry with one finding (so that validate prints a colored rule id on a terminal)."""
    version = example_repo.path / "tenants/arm-dev/templates/customer-support/versions/2.0.0.yaml"
    version.write_text(version.read_text().replace("genomeHash: sha256:", "genomeHash: sha256:0"))
    return str(example_repo.path)


@pytest.mark.parametrize(
    ("options", "no_color", "terminal", "colored"),
    [
        ([], None, True, True),  # auto on a terminal
        ([], None, False, False),  # auto, piped
        ([], "1", True, False),  # NO_COLOR turns auto off
        ([], "", True, True),  # an empty NO_COLOR is not set (no-color.org)
        (["--color", "never"], None, True, False),
        (["--color", "always"], None, False, True),
        (["--color", "always"], "1", False, True),  # asked for explicitly
        (["--color", "auto"], "1", True, False),
    ],
)
def test_colors_follow_the_option_and_no_color(
    example_repo: Git,
    monkeypatch: pytest.MonkeyPatch,
    options: list[str],
    no_color: str | None,
    terminal: bool,
    colored: bool,
) -> None:
    repo = broken(example_repo)
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    # click's runner with color=True stands for a terminal: it keeps what click would keep there
    result = CliRunner().invoke(
        cli, [*options, "validate", "--repo", repo], color=terminal, catch_exceptions=False
    )
    assert result.exit_code == 1
    assert "versions/2.0.0.yaml" in result.output
    assert (ESC in result.output) is colored


def test_audit_streams_jsonl_and_still_takes_json_with_a_note(example_repo: Git) -> None:
    repo = str(example_repo.path)
    jsonl = run_armgit("audit", "--repo", repo, "--format", "jsonl")
    assert jsonl.returncode == 0, jsonl.stderr
    assert jsonl.stderr == ""
    records = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert records
    assert all(r["commit"] for r in records)
    old = run_armgit("audit", "--repo", repo, "--format", "json")
    assert old.returncode == 0
    assert old.stdout == jsonl.stdout
    assert "--format json is now --format jsonl" in old.stderr
    shown = run_armgit("audit", "--help")
    assert "[table|jsonl|csv]" in shown.stdout


def test_validate_of_something_that_is_no_registry_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    result = run_armgit("validate", "--repo", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr == (
        f"armgit: {tmp_path} is not a registry (no armgit.yaml, no entities): pass --repo PATH "
        "of one, or create one with `armgit init`\n"
    )
    assert result.stdout == ""


def test_a_registry_that_lost_its_armgit_yaml_is_findings_not_usage(example_repo: Git) -> None:
    (example_repo.path / "armgit.yaml").unlink()
    result = run_armgit("validate", "--repo", str(example_repo.path))
    assert result.returncode == 1
    assert "armgit.yaml: missing-file" in result.stdout
