"""The few git porcelain calls authoring makes: who the user is, branches and commits.

The ``git`` command is used rather than pygit2 so that the user's configuration applies as it
would to their own commits: identity, signing, and the client hooks (``armgit hooks install
--client``).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from armgit.errors import StoreError

_IDENT = re.compile(r"^(?P<name>.*) <(?P<email>[^>]*)> \d+ [-+]\d{4}$")


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise StoreError(f"cannot run git: {exc}") from exc


def user_email(cwd: Path) -> str | None:
    """The email git would author a commit with (config or ``GIT_AUTHOR_EMAIL``), if set."""
    result = _git(cwd, "-c", "user.useConfigOnly=true", "var", "GIT_AUTHOR_IDENT")
    match = _IDENT.match(result.stdout.strip()) if result.returncode == 0 else None
    return match.group("email") if match and match.group("email") else None


def branch_exists(cwd: Path, branch: str) -> bool:
    return _git(cwd, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}").returncode == 0


def check_branch_name(cwd: Path, branch: str) -> bool:
    return _git(cwd, "check-ref-format", "--branch", branch).returncode == 0


def commit_paths(cwd: Path, paths: Sequence[str], message: str, branch: str | None) -> str:
    """Commit ``paths`` (relative to ``cwd``, and only them) with ``message``, first switching
    to the new ``branch`` when given; returns the new commit id."""
    steps: list[tuple[str, ...]] = []
    if branch is not None:
        steps.append(("switch", "-q", "-c", branch))
    steps.append(("add", "--", *paths))
    steps.append(("commit", "-q", "-m", message, "--only", "--", *paths))
    for args in steps:
        result = _git(cwd, *args)
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip()
            raise StoreError(
                f"the files are written but `git {args[0]}` failed: {detail}; commit them "
                "yourself once that is fixed"
            )
    return _git(cwd, "rev-parse", "HEAD").stdout.strip()
