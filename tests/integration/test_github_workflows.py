"""The GitHub workflow templates for registry repositories (docs/github/): lint and content."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from armgit.cli.main import COMMANDS
from tests.conftest import REPO_ROOT

TEMPLATES = sorted((REPO_ROOT / "docs/github").glob("*.yml"))
ACTIONLINT = shutil.which("actionlint")


def test_the_three_templates_are_there() -> None:
    assert [t.name for t in TEMPLATES] == [
        "armgit-attest-review.yml",
        "armgit-check.yml",
        "armgit-publish.yml",
    ]


@pytest.mark.skipif(ACTIONLINT is None, reason="actionlint is not installed")
def test_actionlint_accepts_the_templates_and_our_own_ci() -> None:
    assert ACTIONLINT is not None
    result = subprocess.run(
        [
            ACTIONLINT,
            "-no-color",
            *map(str, TEMPLATES),
            str(REPO_ROOT / ".github/workflows/ci.yml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def runs(template: Path) -> str:
    data = YAML(typ="safe").load(template.read_text())
    return "\n".join(step.get("run", "") for job in data["jobs"].values() for step in job["steps"])


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.name for t in TEMPLATES])
def test_templates_call_commands_that_exist(template: Path) -> None:
    used = set(re.findall(r"\barmgit ([a-z]+)\b", runs(template)))
    assert used
    assert used <= set(COMMANDS), used - set(COMMANDS)


def test_the_attest_workflow_runs_on_approving_reviews_with_the_event_file() -> None:
    data = YAML(typ="safe").load((REPO_ROOT / "docs/github/armgit-attest-review.yml").read_text())
    assert data["on"]["pull_request_review"]["types"] == ["submitted"]
    assert "github.event.review.state == 'approved'" in data["jobs"]["attest"]["if"]
    script = runs(REPO_ROOT / "docs/github/armgit-attest-review.yml")
    assert 'armgit approve --attest-review "$GITHUB_EVENT_PATH" --key "$key"' in script
    assert "git push origin" in script
