"""The GitHub workflow templates for registry repositories (docs/github/): lint and content."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from armgit.cli.main import COMMANDS
from tests.conftest import REPO_ROOT

TEMPLATES = sorted((REPO_ROOT / "docs/github").glob("*.yml"))
ACTIONLINT = shutil.which("actionlint")


def test_the_templates_are_there() -> None:
    assert [t.name for t in TEMPLATES] == [
        "armgit-attest-review.yml",
        "armgit-check.yml",
        "armgit-publish.yml",
        "armgit-review-event.yml",
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


def load(template: Path) -> dict[str, Any]:
    data = YAML(typ="safe").load(template.read_text())
    assert isinstance(data, dict)
    return data


def steps(template: Path) -> list[dict[str, Any]]:
    return [step for job in load(template)["jobs"].values() for step in job["steps"]]


def runs(template: Path) -> str:
    return "\n".join(step.get("run", "") for step in steps(template))


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.name for t in TEMPLATES])
def test_templates_call_commands_that_exist(template: Path) -> None:
    used = set(re.findall(r"\barmgit ([a-z]+)\b", runs(template)))
    assert used <= set(COMMANDS), used - set(COMMANDS)
    assert bool(used) == (template.name != "armgit-review-event.yml")


# -- every action pinned by commit --------------------------------------------------------------

# The commits of the tags, read from the actions' repositories (git rev-parse TAG^{commit}); a
# `uses:` must name one of these, with its tag in the comment, so the comment cannot lie.
PINS = {
    ("actions/checkout", "v5.1.0"): "fbc6f3992d24b796d5a048ff273f7fcc4a7b6c09",
    ("actions/setup-python", "v6.3.0"): "ece7cb06caefa5fff74198d8649806c4678c61a1",
    ("actions/upload-artifact", "v7.0.0"): "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f",
    ("actions/download-artifact", "v8.0.1"): "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c",
    ("actions/upload-pages-artifact", "v4.0.0"): "7b1f4a764d45c48632c6b24a0339c27f5614fb0b",
    ("actions/deploy-pages", "v5.0.0"): "cd2ce8fcbc39b97be8ca5fce6e763baed58fa128",
    ("actions/configure-pages", "v5.0.0"): "983d7736d9b0ae728b81ab479565c72886d7745b",
    ("github/codeql-action/upload-sarif", "v4.36.2"): "8aad20d150bbac5944a9f9d289da16a4b0d87c1e",
}
_USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<value>.*?)\s*$")
_PINNED = re.compile(
    r"^(?P<action>[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+)@(?P<sha>[0-9a-f]{40}) # (?P<tag>v\d+\.\d+\.\d+)$"
)
WORKFLOWS = [*TEMPLATES, REPO_ROOT / ".github/workflows/ci.yml"]


def unpinned(text: str) -> list[str]:
    """Every ``uses:`` of a workflow that is not ``owner/repo@<40 hex> # vX.Y.Z`` with a commit
    and tag of :data:`PINS`."""
    bad = []
    for line in text.splitlines():
        found = _USES.match(line)
        if found is None:
            continue
        pinned = _PINNED.match(found["value"])
        if pinned is None or PINS.get((pinned["action"], pinned["tag"])) != pinned["sha"]:
            bad.append(found["value"])
    return bad


def test_the_pin_check_finds_tags_branches_and_lying_comments() -> None:
    text = """
      - uses: actions/checkout@v5
      - uses: actions/setup-python@main
      - uses: actions/checkout@fbc6f3992d24b796d5a048ff273f7fcc4a7b6c09
      - uses: actions/checkout@ece7cb06caefa5fff74198d8649806c4678c61a1 # v5.1.0
      - uses: actions/checkout@fbc6f3992d24b796d5a048ff273f7fcc4a7b6c09 # v5.1.0
        uses: ./local-action
    """
    assert len(unpinned(text)) == 5


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.name for w in WORKFLOWS])
def test_every_action_is_pinned_by_commit(workflow: Path) -> None:
    text = workflow.read_text()
    assert unpinned(text) == []
    # every `uses:` the YAML holds is on a line the check read (none hidden in flow style)
    data = load(workflow)
    parsed = [
        item["uses"]
        for job in data["jobs"].values()
        for item in [job, *job.get("steps", [])]
        if "uses" in item
    ]
    assert len(parsed) == sum(1 for line in text.splitlines() if _USES.match(line))


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.name for w in WORKFLOWS])
def test_no_expression_is_pasted_into_a_script(workflow: Path) -> None:
    """Values reach scripts through env:, never as ${{ }} in run: (script injection)."""
    assert "${{" not in "\n".join(step.get("run", "") for step in steps(workflow))


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.name for w in WORKFLOWS])
def test_checkouts_keep_no_credentials_and_python_ignores_the_checkout(workflow: Path) -> None:
    for step in steps(workflow):
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False, step
    if workflow.name == "ci.yml":
        return  # our own CI runs our own code
    for line in runs(workflow).splitlines():
        assert not re.search(r"(^|[\s;|&(])(armgit|pip|python3?) ", line) or "python -P " in line, (
            line
        )


def test_the_key_holding_jobs_run_only_from_main_after_armgit_is_installed() -> None:
    attest = load(REPO_ROOT / "docs/github/armgit-attest-review.yml")
    review = load(REPO_ROOT / "docs/github/armgit-review-event.yml")
    # the review event is recorded by a workflow with nothing to steal
    assert review["on"]["pull_request_review"]["types"] == ["submitted", "dismissed"]
    assert review["permissions"] == {}
    assert "secrets." not in (REPO_ROOT / "docs/github/armgit-review-event.yml").read_text()
    assert not any(
        "checkout" in str(s.get("uses", ""))
        for s in steps(REPO_ROOT / "docs/github/armgit-review-event.yml")
    )
    # the attestation runs from main's workflow, after it, in an environment held to main
    assert set(attest["on"]) == {"workflow_run"}
    assert attest["on"]["workflow_run"]["workflows"] == [review["name"]]
    assert attest["permissions"] == {}
    job = attest["jobs"]["attest"]
    assert job["environment"] == "armgit-attest"
    names = [s.get("name") or s["uses"] for s in job["steps"]]
    install = next(i for i, n in enumerate(names) if n.startswith("Install armgit"))
    checkout = next(i for i, n in enumerate(names) if n.startswith("actions/checkout@"))
    assert install < checkout
    assert "--require-hashes" in job["steps"][install]["run"]
    script = runs(REPO_ROOT / "docs/github/armgit-attest-review.yml")
    assert 'python -P -m armgit approve --attest-review "$EVENT" --key "$key"' in script
    publish = load(REPO_ROOT / "docs/github/armgit-publish.yml")["jobs"]["compile"]
    assert publish["environment"] == "armgit-index"
    names = [s.get("name") or s["uses"] for s in publish["steps"]]
    assert names.index(next(n for n in names if n.startswith("Install armgit"))) < names.index(
        next(n for n in names if n.startswith("actions/checkout@"))
    )
