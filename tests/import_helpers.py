"""An ``armgit init`` registry with a hooked bare server, the sample import, and ``imports``
grants: what the landing tests and the import's named holes share."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from click.testing import CliRunner, Result

from tests.conftest import GIT_ENV, REPO_ROOT, Git, run_armgit
from tests.import_exports import SAMPLES

ARM = str(SAMPLES / "arm-sample-export.zip")
MC = str(SAMPLES / "mc-sample-export.zip")
BRANCH = "import/arm-prod"


def armgit(*args: str) -> Result:
    from armgit.cli.main import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def initialised(tmp_path: Path) -> Git:
    """A registry made by ``armgit init`` in ``tmp_path/registry``: tenant platform, admin
    alice (github:alice), one commit."""
    path = tmp_path / "registry"
    made = run_armgit(
        "init", str(path), "--tenant", "platform", "--admin", "alice",
        "--admin-email", "alice@acme.example", "--identity", "github:alice",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return Git(path)


def served(tmp_path: Path) -> Git:
    """:func:`initialised`, whose ``origin`` is a bare server with armgit's hooks."""
    git = initialised(tmp_path)
    bare = tmp_path / "server.git"
    Git(tmp_path)("init", "-q", "--bare", "-b", "main", str(bare))
    assert run_armgit("hooks", "install", "--server", str(bare)).returncode == 0
    git("remote", "add", "origin", str(bare))
    return git


def push(git: Git, pusher: str = "alice") -> subprocess.CompletedProcess[str]:
    """``git push origin main`` as ``pusher`` (``ARMGIT_PUSHER``)."""
    env = {**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO_ROOT), "ARMGIT_PUSHER": pusher}
    return subprocess.run(
        ["git", "push", "origin", "main"], cwd=git.path, env=env,
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def import_samples(git: Git, *extra: str) -> Result:
    """The issue's samples imported into ``import/arm-prod``."""
    result = armgit(
        "import", "arm", ARM, "--mission-control", MC, "--source", "arm-prod",
        "--repo", str(git.path), *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result


def grant(git: Git, export: str = "", *, genesis: bool) -> None:
    """Name the import's mark in ``armgit.yaml`` ``imports`` on main: in the registry's first
    commit (``genesis``, before the server has anything), else in a commit of its own."""
    if not export:
        export = json.loads(import_samples(git, "--dry-run", "--format", "json").output)["export"]
    config = git.path / "armgit.yaml"
    config.write_text(
        config.read_text()
        + f"imports:\n  - source: arm-prod\n    export: {export}\n    operator: platform/alice\n"
    )
    if genesis:
        git("commit", "-q", "-a", "--amend", "--no-edit")
    else:
        git("commit", "-qam", "armgit.yaml: the ARM import may land")
