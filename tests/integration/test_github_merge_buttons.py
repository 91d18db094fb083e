"""GitHub's three merge buttons, replayed: the check workflow's step on the pull request, the
merge as each button makes it, the push through the server hook, and the publish workflow's
re-check of ``before..after`` -- each step running the templates' own shell (docs/github/)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.conftest import GIT_ENV, REPO_ROOT
from tests.integration.test_push_history import pull_request
from tests.integration.test_push_rules import ALICE, Server

TEMPLATES = REPO_ROOT / "docs/github"


def step(template: str, name_starts: str) -> str:
    """The ``run`` script of the step of ``template`` whose name starts with ``name_starts``."""
    data = YAML(typ="safe").load((TEMPLATES / template).read_text())
    for job in data["jobs"].values():
        for s in job["steps"]:
            if str(s.get("name", "")).startswith(name_starts):
                return str(s["run"])
    raise AssertionError(f"{template} has no step {name_starts!r}")


def run_step(script: str, cwd: Path, bin_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env={
            **os.environ,
            **GIT_ENV,
            "PYTHONPATH": str(REPO_ROOT),
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """A PATH entry whose ``armgit`` and ``python`` are this checkout's, as ``pip install`` and
    actions/setup-python would put them."""
    directory = tmp_path / "bin"
    directory.mkdir()
    script = directory / "armgit"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m armgit "$@"\n')
    script.chmod(0o755)
    python = directory / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    return directory


def merge(server: Server, button: str) -> None:
    work = server.work
    if button == "merge":
        work("merge", "-q", "--no-ff", "pr", "-m", "Merge pull request #1 from alice/pr")
    elif button == "squash":
        work("merge", "-q", "--squash", "pr")
        work.commit_all("Create 2.1.0 and take it to CANDIDATE (#1)")
    else:  # rebase and merge: the pull request's commits replayed on main, then fast-forward
        work("checkout", "-q", "pr")
        work("rebase", "-q", "main")
        work("checkout", "-q", "main")
        work("merge", "-q", "--ff-only", "pr")


@pytest.mark.parametrize("button", ["merge", "squash", "rebase"])
def test_each_merge_button_passes_check_hook_and_publish_recheck(
    tmp_path: Path, bin_dir: Path, button: str
) -> None:
    server = Server(tmp_path)
    work = server.work
    pull_request(server)
    # main moves on while the pull request is open
    work("commit", "-q", "--allow-empty", "-m", "unrelated work on main")
    assert server.push(ALICE).returncode == 0
    before = server.tip()

    checked = run_step(
        step("armgit-check.yml", "Check every commit"),
        work.path,
        bin_dir,
        BASE_SHA=before,
        HEAD_SHA=work("rev-parse", "pr"),
        PR_AUTHOR=ALICE.removeprefix("github:"),
        PR_AUTHOR_ID="4242",  # alice's operator lists her login only: the login finds her
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

    merge(server, button)
    pushed = server.push(ALICE)
    assert pushed.returncode == 0, pushed.stderr
    after = server.tip()
    assert after == work("rev-parse", "HEAD")

    rechecked = run_step(
        step("armgit-publish.yml", "Re-check what was pushed"),
        work.path,
        bin_dir,
        BEFORE=before,
        AFTER=after,
    )
    assert rechecked.returncode == 0, rechecked.stdout + rechecked.stderr
    assert "::error" not in rechecked.stdout
