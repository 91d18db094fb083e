"""``armgit demo``: the whole loop on this machine, with real parts, narrated.

A bare server repository with the hooks installed, a clone, a new version authored and promoted
with a signed approval, deployed to prod with another, a tampering push refused with the server
unchanged, the signed index published and verified, runtime decisions, and the audit trail.
Every step runs the real ``armgit`` and ``git`` commands, shown as they run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.errors import ArmgitError

Echo = Callable[[str], None]

VERSION = "arm-dev/customer-support@2.1.0"
DEPLOYMENT = "arm-dev/deployment/prod/customer-support"
T = "tenants/arm-dev"
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent


class DemoFailed(ArmgitError):
    """A step did not do what the demo expects (a bug, or a broken environment)."""


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str
    pusher: str


ALICE = Person("Alice Chen", "alice@arm-dev.example", "github:alice-chen")
BOB = Person("Bob Okafor", "bob@arm-dev.example", "github:bob-okafor")
OPS = Person("ARM Ops", "ops@arm-dev.com", "ops")


def write_key(path: Path) -> str:
    """Make an Ed25519 key pair in OpenSSH format (as ``ssh-keygen -t ed25519`` does)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    path.write_bytes(private)
    path.chmod(0o600)
    line = public.decode() + f" {path.name}"
    path.with_suffix(".pub").write_text(line + "\n")
    return line


class Demo:
    def __init__(self, example: Path, root: Path, echo: Echo) -> None:
        self.example = example
        self.root = root
        self.echo = echo
        self.server = root / "server.git"
        self.clone = root / "alice"
        self.published = root / "published"
        self.keys = root / "keys"

    # -- running things -------------------------------------------------------------------

    def run(
        self,
        args: Sequence[str],
        *,
        who: Person = ALICE,
        cwd: Path | None = None,
        expect: int = 0,
        show: str = "all",
    ) -> str:
        """Run a command as ``who``; show it and (some of) its output; check its exit code."""
        display = " ".join(a if " " not in a else repr(a) for a in args)
        self.echo(f"  $ {display}")
        command = list(args)
        if command[0] == "armgit":
            command = [sys.executable, "-m", "armgit", *command[1:]]
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": who.name,
            "GIT_AUTHOR_EMAIL": who.email,
            "GIT_COMMITTER_NAME": who.name,
            "GIT_COMMITTER_EMAIL": who.email,
            "ARMGIT_PUSHER": who.pusher,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "NO_COLOR": "1",
            # the hooks and commands run this very armgit, installed or not
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(_PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")) if p
            ),
        }
        for fixed in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
            env.pop(fixed, None)  # the story happens now: approvals are judged by the clock
        result = subprocess.run(
            command, cwd=cwd or self.clone, env=env, capture_output=True, text=True, check=False
        )
        output = (result.stdout + result.stderr).rstrip()
        if result.returncode != expect:
            raise DemoFailed(
                f"`{display}` exited {result.returncode}, expected {expect}:\n{output}"
            )
        lines = output.splitlines()
        if show == "remote":
            lines = [ln for ln in lines if "armgit" in ln or "rejected" in ln or "->" in ln]
        elif show == "none":
            lines = []
        for line in lines[:40]:
            self.echo(f"    {line.removeprefix('remote: ').rstrip()}")
        return result.stdout

    def step(self, title: str) -> None:
        self.echo("")
        self.echo(f"== {title}")

    def commit(self, message: str, who: Person = ALICE) -> None:
        self.run(["git", "add", "-A"], who=who, show="none")
        self.run(["git", "commit", "-q", "-m", message], who=who, show="none")

    def tip(self) -> str:
        return self.run(["git", "rev-parse", "main"], cwd=self.server, show="none").strip()

    # -- the story --------------------------------------------------------------------------

    def play(self) -> None:
        self.setup()
        self.author_version()
        self.promote()
        self.deploy()
        self.tamper()
        self.runtime()
        self.audit()
        self.echo("")
        self.echo(f"Everything is left in {self.root} to explore.")

    def setup(self) -> None:
        self.step("1. A registry server: a bare repository with armgit's hooks")
        self.keys.mkdir(parents=True)
        bob_key = write_key(self.keys / "bob_ed25519")
        write_key(self.keys / "index_ed25519")
        shutil.copytree(self.example, self.clone)
        operator = self.clone / T / "operators/bob.yaml"
        operator.write_text(operator.read_text() + f'sshKeys:\n  - "{bob_key}"\n')
        self.run(["git", "init", "-q", "-b", "main"], who=OPS, show="none")
        self.commit("The ARM registry (bob's approval key included)", who=OPS)
        self.run(["git", "init", "-q", "--bare", "-b", "main", str(self.server)], cwd=self.root)
        self.run(
            [
                "armgit", "hooks", "install", "--server", str(self.server),
                "--publish-dir", str(self.published),
                "--signing-key", str(self.keys / "index_ed25519"),
            ],
            cwd=self.root,
        )  # fmt: skip
        self.run(["git", "remote", "add", "origin", str(self.server)], who=OPS, show="none")
        self.run(["git", "push", "-q", "origin", "main"], who=OPS, show="remote")
        self.run(["armgit", "validate", "--repo", str(self.server)])

    def author_version(self) -> None:
        self.step("2. Alice authors version 2.1.0 from 2.0.0 (genome hash computed for her)")
        self.run(
            [
                "armgit", "new", "version", VERSION, "--parent", "2.0.0",
                "--temperature", "0.4", "--description", "Cooler replies", "--commit",
            ]
        )  # fmt: skip
        self.run(["armgit", "promote", VERSION, "--to", "testing", "--commit"])
        self.run(
            [
                "armgit", "promote", VERSION, "--to", "candidate", "--evaluation", "pass",
                "--suite", "support-regression", "--commit",
            ]
        )  # fmt: skip
        self.run(["git", "push", "-q", "origin", "main"], show="remote")

    def promote(self) -> None:
        self.step("3. Promoting to APPROVED needs an approval: the server refuses it without one")
        self.run(["armgit", "promote", VERSION, "--to", "approved", "--commit"])
        before = self.tip()
        self.run(["git", "push", "-q", "origin", "main"], expect=1, show="remote")
        if self.tip() != before:
            raise DemoFailed("the refused push moved the server's main")
        self.step("4. Bob reviews the change and signs an approval with his SSH key")
        self.run(["armgit", "review", "origin/main..HEAD"], who=BOB)
        self.run(
            [
                "armgit", "approve", VERSION, "--key", str(self.keys / "bob_ed25519"),
                "--justification", "regression suite green; prompt unchanged",
            ],
            who=BOB,
        )  # fmt: skip
        self.commit("bob approves the promotion of 2.1.0")
        self.run(["git", "push", "-q", "origin", "main"], show="remote")

    def deploy(self) -> None:
        self.step("5. Deploying to prod (a protected environment) needs its own approval")
        self.run(["armgit", "deploy", VERSION, "--env", "prod", "--commit"])
        self.run(["git", "push", "-q", "origin", "main"], expect=1, show="remote")
        self.run(
            [
                "armgit", "approve", DEPLOYMENT, "--key", str(self.keys / "bob_ed25519"),
                "--justification", "canary plan agreed",
                "--rollback-plan", "armgit rollback arm-dev/customer-support --env prod",
            ],
            who=BOB,
        )  # fmt: skip
        self.commit("bob approves deploying 2.1.0 to prod")
        self.run(["git", "push", "-q", "origin", "main"], show="remote")

    def tamper(self) -> None:
        self.step("6. Someone edits the genome of the running version 2.0.0: refused")
        path = self.clone / T / "templates/customer-support/versions/2.0.0.yaml"
        path.write_text(path.read_text().replace("maxTokens: 8192", "maxTokens: 100000"))
        self.commit("quietly raise maxTokens")
        before = self.tip()
        self.run(["git", "push", "-q", "origin", "main"], expect=1, show="remote")
        after = self.tip()
        self.echo(f"  server main before {before[:12]}, after {after[:12]}: unchanged")
        if before != after:
            raise DemoFailed("the refused push moved the server's main")
        self.run(["git", "reset", "-q", "--hard", "origin/main"], show="none")

    def runtime(self) -> None:
        self.step("7. The post-receive hook published a signed index; a runtime verifies it")
        index = str(self.published / "tenants/arm-dev/index.json")
        trust = ["--trusted-key", str(self.keys / "index_ed25519.pub")]
        state = ["--state-dir", str(self.root / "runtime-state")]
        self.run(["armgit", "index", "verify", index, *trust, *state])
        self.run(
            [
                "armgit", "index", "resolve", index, *trust, "--tenant", "arm-dev",
                "--env", "prod", "--template", "customer-support",
            ],
            show="none",
        )  # fmt: skip
        self.echo(
            "    (prod runs customer-support@2.1.0; resolve prints it as JSON: "
            "genome, hash, policy)"
        )
        for tool in ("zendesk_search", "refund_issue", "delete_account"):
            self.run(
                [
                    "armgit", "index", "evaluate", index, *trust, "--tenant", "arm-dev",
                    "--env", "prod", "--instance", "support-prod-1", "--tool", tool,
                ]
            )  # fmt: skip

    def audit(self) -> None:
        self.step("8. The audit trail, derived from the commits")
        self.run(["armgit", "audit", "--repo", str(self.server), "--tenant", "arm-dev"])
        self.run(["armgit", "verify", "--repo", str(self.server)])


def shipped_example() -> Path:
    """The example registry installed with armgit (package data, equal to registry-example/:
    tools/sync_example.py copies it, a test checks)."""
    import armgit

    return Path(armgit.__file__).with_name("example")


def run_demo(example: Path, root: Path, echo: Echo) -> None:
    """Play the demo in ``root`` (created; must not exist or be empty) from ``example``."""
    if not (example / "armgit.yaml").is_file():
        raise DemoFailed(f"{example} is not a registry (no armgit.yaml): pass --example")
    if root.exists() and any(root.iterdir()):
        raise DemoFailed(f"{root} is not empty: the demo needs a new directory")
    if shutil.which("git") is None:
        raise DemoFailed("git is not installed")
    root.mkdir(parents=True, exist_ok=True)
    Demo(example.absolute(), root.absolute(), echo).play()
