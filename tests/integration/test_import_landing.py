"""Landing an import through the pre-receive hook (docs/import.md): a real bare server with the
hook, real ``git push``. The import lands when ``imports`` in ``armgit.yaml`` at the base of the
push names its mark and the pusher; an authorisation arriving in the same push authorises
nothing."""

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


def _served(tmp_path: Path) -> tuple[Git, Path]:
    """A registry by ``armgit init`` (admin platform/alice) and a bare server with the hook."""
    path = tmp_path / "registry"
    made = run_armgit(
        "init", str(path), "--tenant", "platform", "--admin", "alice",
        "--admin-email", "alice@acme.example", "--identity", "github:alice",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    bare = tmp_path / "server.git"
    Git(tmp_path)("init", "-q", "--bare", "-b", "main", str(bare))
    assert run_armgit("hooks", "install", "--server", str(bare)).returncode == 0
    git = Git(path)
    git("remote", "add", "origin", str(bare))
    return git, bare


def _push(git: Git, pusher: str = "alice") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO_ROOT), "ARMGIT_PUSHER": pusher}
    return subprocess.run(
        ["git", "push", "origin", "main"], cwd=git.path, env=env,
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def _import(git: Git, *extra: str) -> Result:
    result = armgit(
        "import", "arm", ARM, "--mission-control", MC, "--source", "arm-prod",
        "--repo", str(git.path), *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result


def _grant(git: Git, export: str = "", *, genesis: bool) -> None:
    """Name the import's mark in ``armgit.yaml`` ``imports`` on main: in the registry's first
    commit (``genesis``, before the server has anything), else in a commit of its own."""
    if not export:
        export = json.loads(_import(git, "--dry-run", "--format", "json").output)["export"]
    config = git.path / "armgit.yaml"
    config.write_text(
        config.read_text()
        + f"imports:\n  - source: arm-prod\n    export: {export}\n    operator: platform/alice\n"
    )
    if genesis:
        git("commit", "-q", "-a", "--amend", "--no-edit")
    else:
        git("commit", "-qam", "armgit.yaml: the ARM import may land")


def test_an_import_authorised_at_the_base_lands(tmp_path: Path) -> None:
    git, _ = _served(tmp_path)
    assert git("rev-list", "--count", "HEAD") == "1"
    _grant(git, genesis=True)
    first = _push(git)  # the server's first push: the grant is now the base's
    assert first.returncode == 0, first.stderr
    _import(git)
    git("merge", "-q", "--no-ff", BRANCH, "-m", "Merge the ARM import")
    # only the operator the grant names lands it: anyone else is judged as any pusher
    assert _push(git, "mallory").returncode != 0
    landed = _push(git)
    assert landed.returncode == 0, landed.stderr
    # schema, references and hashes stay strict: an edit to an imported genome is refused
    version = git.path / "tenants/arm-dev/templates/customer-support-agent/versions/1.0.0.yaml"
    version.write_text(version.read_text().replace("PLACEHOLDER", "VERIFIED"))
    git("commit", "-qam", "the hash was fine really")
    edited = _push(git)
    assert edited.returncode != 0
    assert "genome-immutable" in edited.stderr


def test_an_authorisation_in_the_same_push_authorises_nothing(tmp_path: Path) -> None:
    git, _ = _served(tmp_path)
    assert _push(git).returncode == 0
    _grant(git, genesis=False)  # on main, but not yet on the server
    _import(git)
    git("merge", "-q", "--no-ff", BRANCH, "-m", "Merge the ARM import")
    refused = _push(git)
    assert refused.returncode != 0
    # the import's own gates are findings, not notices, besides the grant's trust change
    assert "tenants/arm-dev/" in refused.stderr
    assert "approval-required" in refused.stderr


def test_a_grant_for_another_export_authorises_nothing(tmp_path: Path) -> None:
    git, _ = _served(tmp_path)
    _grant(git, "sha256:" + "0" * 64, genesis=True)
    assert _push(git).returncode == 0
    _import(git)
    git("merge", "-q", "--no-ff", BRANCH, "-m", "Merge the ARM import")
    refused = _push(git)
    assert refused.returncode != 0
    assert "approval-required" in refused.stderr
