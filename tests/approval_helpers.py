"""A registry with real SSH keys, a bare server with the hook, and hand-made approvals.

Keys come from stock ``ssh-keygen -t ed25519 -N ''``; the registry is a copy of
registry-example whose operators carry the keys and which holds a CANDIDATE version 2.1.0
ready to be promoted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from armgit.authoring.approval_file import approval_path
from armgit.core.canonical import genome_hash
from armgit.core.content import parse_content
from armgit.core.models.approval import Statement
from armgit.core.rules.approvals import statement_message
from armgit.core.rules.change import entity_digest
from armgit.core.timeutil import format_time
from tests.conftest import EXAMPLE, GIT_ENV, REPO_ROOT, Git

SSH_KEYGEN = shutil.which("ssh-keygen")
needs_ssh_keygen = pytest.mark.skipif(SSH_KEYGEN is None, reason="ssh-keygen is not installed")

TENANT = "arm-dev"
V21 = "arm-dev/customer-support@2.1.0"
V21_FILE = "tenants/arm-dev/templates/customer-support/versions/2.1.0.yaml"
V20_FILE = "tenants/arm-dev/templates/customer-support/versions/2.0.0.yaml"
GENOME_21 = {
    "modelConfig": {
        "provider": "anthropic",
        "modelId": "claude-3-5-sonnet-20241022",
        "temperature": 0.3,
        "maxTokens": 8192,
    },
    "promptBundleHash": "sha256:7e5a6b2f7ed6874c008bb28acfe80cd9124cfe244379fd5d5769a72eba883582",
    "toolManifest": [
        {
            "toolId": "zendesk_search",
            "schemaVersion": "1.0",
            "requiredPermissions": ["zendesk:read"],
            "risk": "low",
        },
        {
            "toolId": "kb_lookup",
            "schemaVersion": "1.0",
            "requiredPermissions": ["kb:read"],
            "risk": "low",
        },
    ],
    "provenance": {
        "createdBy": "ops@arm-dev.com",
        "source": "git+https://example.invalid/agents",
        "createdAt": "2026-02-03T10:00:00Z",
    },
}
HASH_21 = genome_hash(GENOME_21)  # type: ignore[arg-type]
HASH_20 = "sha256:0a4da8a935cf04ba613f5f8662069860f218417181a7be396f847dc9ecde8bb6"


def ssh_keygen(*args: str | Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    assert SSH_KEYGEN is not None
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    return subprocess.run(
        [SSH_KEYGEN, *map(str, args)], input=stdin, capture_output=True, check=False, env=env
    )


@dataclass(frozen=True, slots=True)
class Key:
    private: Path
    public_line: str


def make_key(directory: Path, name: str) -> Key:
    directory.mkdir(parents=True, exist_ok=True)
    private = directory / name
    result = ssh_keygen("-q", "-t", "ed25519", "-N", "", "-C", name, "-f", private)
    assert result.returncode == 0, result.stderr
    return Key(private, private.with_suffix(".pub").read_text().strip())


def version_yaml(lifecycle: str) -> str:
    import json

    return (
        "apiVersion: armgit/v1\nkind: Version\ntemplate: customer-support\nlabel: 2.1.0\n"
        f"parent: 2.0.0\nlifecycle: {lifecycle}\nevaluation:\n  status: PASS\n"
        "policy: support-prod\nartifacts:\n  promptBundle: prompts/v2.md\n"
        f"genome: {json.dumps(GENOME_21)}\ngenomeHash: {HASH_21}\n"
    )


def file_digest(text: str) -> str:
    """The digest an approval of the subject file ``text`` binds (the rules' own)."""
    model = parse_content(text.encode()).model
    assert model is not None
    return entity_digest(model)


DIGEST_21 = file_digest(version_yaml("APPROVED"))  # 2.1.0 as its promotion proposes it


@dataclass
class Setup:
    """The registry clone, the bare server and everyone's keys."""

    work: Git
    server: Path
    keys: dict[str, Key]

    @property
    def root(self) -> Path:
        return self.work.path

    def server_main(self) -> str:
        return Git(self.server)("rev-parse", "main")

    def push(self, pusher: str, ref: str = "HEAD:main") -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            **GIT_ENV,
            "PYTHONPATH": str(REPO_ROOT),
            "ARMGIT_PUSHER": pusher,
        }
        return subprocess.run(
            ["git", "push", "origin", ref],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    def write(self, path: str, text: str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def promote(self) -> None:
        self.write(V21_FILE, version_yaml("APPROVED"))


def copy_registry(template: Setup, tmp_path: Path) -> Setup:
    """A fresh copy of a built registry, its server and its keys (building one takes seconds:
    ssh-keygen, git, the hook's installation; copying takes milliseconds)."""
    source = template.root.parent
    for name in ("keys", "registry", "server.git"):
        shutil.copytree(source / name, tmp_path / name, symlinks=True)
    work = Git(tmp_path / "registry")
    work("remote", "set-url", "origin", str(tmp_path / "server.git"))
    keys = {
        name: Key(tmp_path / "keys" / key.private.name, key.public_line)
        for name, key in template.keys.items()
    }
    return Setup(work, tmp_path / "server.git", keys)


def build_registry(tmp_path: Path, *, attestor: bool = False) -> Setup:
    """registry-example + keys for alice, bob, ops (and carol, who is nobody) + 2.1.0 CANDIDATE,
    committed on main; a bare server clone of it with the pre-receive hook installed."""
    keys = {name: make_key(tmp_path / "keys", name) for name in ("alice", "bob", "ops", "carol")}
    if attestor:
        keys["bot"] = make_key(tmp_path / "keys", "bot")
    work = tmp_path / "registry"
    shutil.copytree(EXAMPLE, work)
    for name in ("alice", "bob", "ops"):
        operator = work / f"tenants/arm-dev/operators/{name}.yaml"
        operator.write_text(operator.read_text() + f'sshKeys:\n  - "{keys[name].public_line}"\n')
    if attestor:
        config = work / "armgit.yaml"
        config.write_text(
            config.read_text()
            + f'attestors:\n  - {{name: github-bot, publicKey: "{keys["bot"].public_line}"}}\n'
        )
    (work / V21_FILE).write_text(version_yaml("CANDIDATE"))
    git = Git(work)
    git("init", "-q", "-b", "main")
    git.commit_all("the example registry, with keys and 2.1.0 as a candidate")
    server = tmp_path / "server.git"
    Git(tmp_path)("clone", "-q", "--bare", str(work), str(server))
    git("remote", "add", "origin", str(server))
    git("fetch", "-q", "origin")
    git("branch", "-q", "--set-upstream-to=origin/main", "main")
    from tests.conftest import run_armgit

    installed = run_armgit("hooks", "install", "--server", str(server))
    assert installed.returncode == 0, installed.stderr
    return Setup(git, server, keys)


def statement_for(
    *,
    approver: str,
    ref: str = V21,
    digest: str = DIGEST_21,
    created: datetime,
    valid_for: timedelta = timedelta(hours=24),
    decision: str = "APPROVE",
) -> Statement:
    return Statement.model_validate(
        {
            "tenant": TENANT,
            "subject": {"kind": "Version", "ref": ref},
            "change": {"type": "VERSION_PROMOTION", "from": "CANDIDATE", "to": "APPROVED"},
            "digest": digest,
            "decision": decision,
            "approver": approver,
            "justification": "reviewed by hand",
            "createdAt": format_time(created),
            "expiresAt": format_time(created + valid_for),
        }
    )


def sign_with_ssh_keygen(statement: Statement, key: Key, directory: Path) -> str:
    """The armored signature stock ``ssh-keygen -Y sign`` makes over the statement's bytes."""
    message = directory / "statement.json"
    message.write_bytes(statement_message(statement))
    signature = message.with_suffix(".json.sig")
    signature.unlink(missing_ok=True)
    result = ssh_keygen("-Y", "sign", "-n", "armgit-approval", "-f", key.private, message)
    assert result.returncode == 0, result.stderr
    return signature.read_text()


def approval_yaml(statement: Statement, signature: str) -> str:
    """An approval file written by hand (block YAML, as a person would)."""
    s = statement
    lines = [
        "apiVersion: armgit/v1",
        "kind: Approval",
        "statement:",
        f"  tenant: {s.tenant}",
        f"  subject: {{kind: {s.subject.kind}, ref: '{s.subject.ref}'}}",
        f"  change: {{type: {s.change.type}, from: '{s.change.from_}', to: '{s.change.to}'}}",
        f"  digest: '{s.digest}'",
        f"  decision: {s.decision}",
        f"  approver: {s.approver}",
        f"  justification: {s.justification}",
        f"  createdAt: '{s.created_at}'",
        f"  expiresAt: '{s.expires_at}'",
        "signature: |",
        *(f"  {line}" for line in signature.strip().splitlines()),
    ]
    return "\n".join(lines) + "\n"


def add_hand_approval(setup: Setup, statement: Statement, signer: str) -> str:
    """Sign ``statement`` with ``signer``'s key through ssh-keygen; write it; return its path."""
    signature = sign_with_ssh_keygen(statement, setup.keys[signer], setup.root.parent)
    path = approval_path(statement)
    setup.write(path, approval_yaml(statement, signature))
    return path


def verify_with_ssh_keygen(
    message: bytes, signature: str, principal: str, key: Key, directory: Path
) -> subprocess.CompletedProcess[bytes]:
    allowed = directory / "allowed_signers"
    allowed.write_text(f"{principal} {key.public_line}\n")
    sig = directory / "approval.sig"
    sig.write_text(signature)
    return ssh_keygen(
        "-Y",
        "verify",
        "-f",
        allowed,
        "-I",
        principal,
        "-n",
        "armgit-approval",
        "-s",
        sig,
        stdin=message,
    )


def amend_genesis(setup: Setup) -> None:
    """Fold the work tree's edits into the registry's first commit and make that the server's
    main, as a server administrator would (``git fetch`` in the server runs no hook): for
    settings a test needs from the start, such as registry admins or approval rules, whose
    change would itself need a registry admin's approval."""
    setup.work("add", "-A")
    setup.work("commit", "-q", "--amend", "--no-edit")
    Git(setup.server)("fetch", "-q", "--force", str(setup.root), "main:main")
    setup.work("fetch", "-q", "origin")
    assert setup.server_main() == setup.work("rev-parse", "HEAD")
