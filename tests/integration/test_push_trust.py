"""Who may change what on a protected branch, with real pushes (SPEC 4a): hosting logins match
only their platform's identity, registry-wide changes need a registry admin, and no file
outside the registry's layout escapes judgement. Each test is named after the hole it closes;
after every refusal the server is exactly as it was."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, GIT_ENV, REPO_ROOT, Git, run_armgit
from tests.integration.test_push_rules import OPS, Server

T = "tenants/arm-dev"
V1 = f"{T}/templates/customer-support/versions/1.0.0.yaml"
ALICE = "github:alice-chen"  # engineer
BOB = "github:bob-okafor"  # made a tenant admin (role admin: *:*) by make_bob_tenant_admin
MALLORY = "github:mallory"  # no operator at all


class TrustServer(Server):
    """:class:`Server` whose pushes name the pusher as the hosting platform would."""

    def push_as(self, variable: str, value: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO_ROOT), variable: value}
        if variable != "ARMGIT_PUSHER":
            env.pop("ARMGIT_PUSHER", None)
        return subprocess.run(
            ["git", "push", "origin", "main"],
            cwd=self.work.path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    def write(self, path: str, text: str) -> None:
        target = self.work.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


@pytest.fixture
def server(tmp_path: Path) -> TrustServer:
    return TrustServer(tmp_path)


def make_bob_tenant_admin(server: TrustServer) -> None:
    server.edit(
        f"{T}/operators/bob.yaml", "  - role: engineer", "  - role: engineer\n  - role: admin"
    )
    server.accepted(OPS)  # ops holds *:* in arm-dev: assign:roles


# -- exact identities ---------------------------------------------------------------------------


def test_a_github_login_equal_to_an_operator_name_is_not_that_operator(
    server: TrustServer,
) -> None:
    # anyone can register the GitHub login "ops": the admin operator named ops is
    # email:ops@arm-dev.com, so the login ops is nobody
    server.edit(V1, "lifecycle: DEPRECATED", "lifecycle: RETIRED")
    before = server.tip()
    commit = server.work.commit_all("retire 1.0.0")
    result = server.push_as("GITHUB_USER_LOGIN", "ops")
    assert result.returncode != 0
    assert ": permission-denied: github:ops (GITHUB_USER_LOGIN) lacks" in result.stderr
    assert server.tip() == before
    assert not server.has(commit)
    result = server.push_as("GITHUB_USER_LOGIN", "alice-chen")  # github:alice-chen, engineer
    assert result.returncode == 0, result.stderr
    assert server.tip() == commit


def test_a_gitlab_login_is_not_the_same_github_login(server: TrustServer) -> None:
    server.edit(V1, "lifecycle: DEPRECATED", "lifecycle: RETIRED")
    before = server.tip()
    server.work.commit_all("retire 1.0.0")
    result = server.push_as("GL_USERNAME", "alice-chen")
    assert result.returncode != 0
    assert "gitlab:alice-chen (GL_USERNAME) lacks transition:versions" in result.stderr
    assert server.tip() == before


# -- registry admins -------------------------------------------------------------------------


def test_a_tenant_admin_cannot_edit_armgit_yaml(server: TrustServer) -> None:
    make_bob_tenant_admin(server)
    server.edit("armgit.yaml", "description: The", "description: Still the")
    stderr = server.refused(BOB, "permission-denied")
    assert (
        "armgit.yaml: permission-denied: github:bob-okafor (ARMGIT_PUSHER) lacks admin:registry"
        in (stderr)
    )
    assert "no tenant role grants it (registry admins: arm-dev/ops)" in stderr
    server.edit("armgit.yaml", "description: The", "description: Still the")
    server.accepted(OPS)


def test_a_tenant_admin_cannot_unprotect_main(server: TrustServer) -> None:
    make_bob_tenant_admin(server)
    server.edit("armgit.yaml", "protectedBranches: [main]", "protectedBranches: []")
    stderr = server.refused(BOB, "permission-denied")
    assert "lacks admin:registry" in stderr


def test_a_tenant_admin_cannot_make_himself_registry_admin(server: TrustServer) -> None:
    make_bob_tenant_admin(server)
    server.edit("armgit.yaml", "[arm-dev/ops]", "[arm-dev/ops, arm-dev/bob]")
    server.refused(BOB, "permission-denied")


def test_a_tenant_admin_cannot_create_a_tenant(server: TrustServer) -> None:
    make_bob_tenant_admin(server)
    tenant = "apiVersion: armgit/v1\nkind: Tenant\nname: Acme\nslug: acme\n"
    server.write("tenants/acme/tenant.yaml", tenant)
    stderr = server.refused(BOB, "permission-denied")
    assert "tenants/acme/tenant.yaml: permission-denied:" in stderr
    server.write("tenants/acme/tenant.yaml", tenant)
    server.accepted(OPS)


def test_a_tenant_admin_cannot_take_over_the_registry_admins_operator(
    server: TrustServer,
) -> None:
    make_bob_tenant_admin(server)
    ops = f"{T}/operators/ops.yaml"
    server.edit(ops, '"email:ops@arm-dev.com"', '"email:ops@arm-dev.com", "github:bob-okafor"')
    stderr = server.refused(BOB, "permission-denied")
    assert "lacks admin:registry: this operator is named in registryAdmins" in stderr
    server.edit(ops, '"email:ops@arm-dev.com"', '"email:ops@arm-dev.com", "github:arm-ops"')
    server.accepted(OPS)


def test_a_disabled_registry_admin_holds_nothing(server: TrustServer) -> None:
    server.edit(f"{T}/operators/ops.yaml", "name: ops\n", "name: ops\ndisabled: true\n")
    server.accepted(OPS)
    server.edit("armgit.yaml", "description: The", "description: Still the")
    server.refused(OPS, "permission-denied")


def test_the_first_admin_of_init_may_change_the_registry(tmp_path: Path) -> None:
    target = tmp_path / "agents"
    made = run_armgit(
        "init", str(target), "--tenant", "acme", "--admin", "alice",
        "--admin-email", "alice@acme.example", "--identity", "github:alice",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "registryAdmins: [acme/alice]" in (target / "armgit.yaml").read_text()
    bare = tmp_path / "server.git"
    Git(tmp_path)("init", "-q", "--bare", "-b", "main", str(bare))
    assert run_armgit("hooks", "install", "--server", str(bare)).returncode == 0
    work = Git(target)
    work("remote", "add", "origin", str(bare))
    env = {**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO_ROOT), "GITHUB_USER_LOGIN": "alice"}
    env.pop("ARMGIT_PUSHER", None)

    def push() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "push", "origin", "main"],
            cwd=target,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    assert push().returncode == 0
    config = target / "armgit.yaml"
    config.write_text(config.read_text().replace("name: agents", "name: agents\ndescription: Ours"))
    work.commit_all("describe the registry")
    result = push()
    assert result.returncode == 0, result.stderr


# -- nothing escapes judgement -----------------------------------------------------------------

OUTSIDE = {
    ".github/workflows/evil.yml": "on: push\njobs: {}\n",
    "pip/__main__.py": "import os\n",
    "README.md": "# ours\n",
    "schemas/version.json": "{}\n",
}


@pytest.mark.parametrize("path", sorted(OUTSIDE))
@pytest.mark.parametrize("who", [ALICE, BOB, MALLORY])
def test_a_non_admin_cannot_add_files_outside_the_registry(
    server: TrustServer, path: str, who: str
) -> None:
    if who == BOB:
        make_bob_tenant_admin(server)
    server.write(path, OUTSIDE[path])
    stderr = server.refused(who, "permission-denied")
    assert f"{path}: permission-denied: {who} (ARMGIT_PUSHER) lacks write:repository" in stderr
    assert "outside the registry's layout" in stderr


def test_a_registry_admin_may_add_change_and_remove_files_outside(server: TrustServer) -> None:
    server.write(".github/workflows/publish.yml", "on: push\njobs: {}\n")
    server.write("pip/__main__.py", "print('hi')\n")
    server.accepted(OPS)
    server.write(".github/workflows/publish.yml", "on: push\njobs: {x: {}}\n")
    server.refused(ALICE, "permission-denied")  # modified
    (server.work.path / "pip/__main__.py").unlink()
    server.refused(ALICE, "permission-denied")  # deleted
    (server.work.path / "pip/__main__.py").unlink()
    server.write(".github/workflows/publish.yml", "on: push\njobs: {x: {}}\n")
    server.accepted(OPS)


def test_a_symlink_or_submodule_outside_the_registry_is_judged(server: TrustServer) -> None:
    (server.work.path / "tools").symlink_to("/etc")
    server.refused(ALICE, "permission-denied")
    vendored = Git(server.work.path / "vendor/lib")
    vendored.path.mkdir(parents=True)
    vendored("init", "-q")
    vendored.commit_all("someone else's code")  # git add -A records it as a submodule (gitlink)
    stderr = server.refused(ALICE, "permission-denied")
    assert "vendor/lib: permission-denied:" in stderr


def test_a_symlinked_artifact_is_unsafe_even_for_an_admin(server: TrustServer) -> None:
    link = server.work.path / f"{T}/templates/customer-support/prompts/evil.md"
    link.symlink_to("/etc/passwd")
    stderr = server.refused(OPS, "unsafe-file")
    assert "a symbolic link: registry files must be regular files" in stderr


def test_a_gitkeep_in_a_tenant_needs_write_tenants(server: TrustServer) -> None:
    server.write(f"{T}/policies/.gitkeep", "")
    stderr = server.refused(ALICE, "permission-denied")
    assert "lacks write:tenants in tenant 'arm-dev'" in stderr
    server.write(f"{T}/policies/.gitkeep", "")
    server.accepted(OPS)


def test_check_judges_files_outside_a_registry_in_a_subdirectory(tmp_path: Path) -> None:
    work = Git(tmp_path / "repo")
    shutil.copytree(EXAMPLE, work.path / "registry")
    work("init", "-q", "-b", "main")
    base = work.commit_all("the registry, in a subdirectory")
    for path in (".github/workflows/evil.yml", "registry/notes.md"):
        (work.path / path).parent.mkdir(parents=True, exist_ok=True)
        (work.path / path).write_text("x\n")
    work.commit_all("outside the registry's layout")
    args = ["check", "--base", base, "--head", "HEAD", "--repo", str(work.path / "registry")]
    result = run_armgit(*args, "--author", ALICE, "--format", "github")
    assert result.returncode == 1, result.stdout
    for path in (".github/workflows/evil.yml", "registry/notes.md"):
        assert f"::error file={path},title=permission-denied::" in result.stdout
    text = run_armgit(*args, "--author", ALICE)
    assert "../.github/workflows/evil.yml: permission-denied:" in text.stdout
    admin = run_armgit(*args, "--author", "email:ops@arm-dev.com")
    assert admin.returncode == 0, admin.stdout


def test_check_refuses_an_author_that_is_not_an_identity(server: TrustServer) -> None:
    base = server.work("rev-parse", "HEAD")
    result = run_armgit(
        "check", "--base", base, "--head", base, "--repo", str(server.work.path),
        "--author", "ops",
    )  # fmt: skip
    assert result.returncode == 2
    assert "'ops' is not an identity SCHEME:ID" in result.stderr
