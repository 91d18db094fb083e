"""Shared test helpers: real git repositories with a fixed identity and fixed times."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = REPO_ROOT / "registry-example"

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.invalid",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.invalid",
    "GIT_AUTHOR_DATE": "2026-02-01T10:00:00Z",
    "GIT_COMMITTER_DATE": "2026-02-01T10:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


class Git:
    """Runs real git in one directory with a fixed identity and time."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
        result = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env={**os.environ, **GIT_ENV, **(env or {})},
            capture_output=True,
            text=True,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout.strip()

    def commit_all(self, message: str, when: str = "2026-02-01T10:00:00Z") -> str:
        self("add", "-A")
        self(
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            message,
            env={"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when},
        )
        return self("rev-parse", "HEAD")


@pytest.fixture
def example_repo(tmp_path: Path) -> Git:
    """A fresh git repository holding a copy of registry-example, committed on main."""
    work = tmp_path / "registry"
    shutil.copytree(EXAMPLE, work)
    git = Git(work)
    git("init", "-q", "-b", "main")
    git.commit_all("the example registry")
    return git


def run_armgit(
    *args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real ``armgit`` entry point in a subprocess (for hooks, exit codes, start-up);
    ``env``: variables set on top of the test environment."""
    return subprocess.run(
        [sys.executable, "-m", "armgit", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
