"""The first push: ``init`` and ``hooks install --server`` say how the server must name the
pusher, and what they say works (a push with ``ARMGIT_PUSHER`` set as shown lands; without it,
it is refused)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import Git, run_armgit


def test_init_and_hooks_install_say_how_to_name_the_pusher_and_it_works(tmp_path: Path) -> None:
    created = run_armgit(
        "init", str(tmp_path / "agents"), "--tenant", "acme", "--admin", "alice",
        "--admin-email", "alice@acme.example",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "the server must name the pusher" in created.stdout
    assert 'environment="ARMGIT_PUSHER=alice"' in created.stdout
    assert "ARMGIT_PUSHER, GL_USERNAME, GITHUB_USER_LOGIN" in created.stdout
    server = tmp_path / "agents.git"
    Git(tmp_path)("clone", "-q", "--bare", str(tmp_path / "agents"), str(server))
    installed = run_armgit("hooks", "install", "--server", str(server))
    assert installed.returncode == 0, installed.stderr
    assert "the server must name the pusher" in installed.stdout
    assert "docs/hooks.md, 'Who is pushing'" in installed.stdout

    work = Git(tmp_path / "agents")
    work("remote", "add", "origin", str(server))
    tenant = work.path / "tenants/acme/tenant.yaml"
    tenant.write_text(tenant.read_text() + "description: the first change\n")
    work.commit_all("describe the tenant")
    assert "cannot tell who is pushing" in push(work)
    assert work("rev-parse", "main") != Git(server)("rev-parse", "main")
    work("push", "-q", "origin", "main", env={"ARMGIT_PUSHER": "alice"})
    assert work("rev-parse", "main") == Git(server)("rev-parse", "main")


def push(work: Git) -> str:
    result = subprocess.run(
        ["git", "push", "origin", "main"],
        cwd=work.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    return result.stderr
