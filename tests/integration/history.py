"""Scripted registry histories for audit and verify tests: real git commits at fixed times,
each by a named author, approvals signed with real SSHSIG signatures."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pygit2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.api import hash_file
from armgit.core.content import parse_content
from armgit.core.models.approval import Statement
from armgit.core.rules.approvals import approval_id, statement_message
from armgit.core.rules.change import entity_digest
from armgit.crypto.sshkeys import public_key_of
from armgit.crypto.sshsig import APPROVAL_NAMESPACE, sign
from tests.conftest import EXAMPLE, Git

T = "tenants/arm-dev"
VERSIONS = f"{T}/templates/customer-support/versions"
V1 = f"{VERSIONS}/1.0.0.yaml"
V2 = f"{VERSIONS}/2.0.0.yaml"
V21 = f"{VERSIONS}/2.1.0.yaml"
DEPLOYMENT = f"{T}/deployments/prod/customer-support.yaml"
INSTANCE = f"{T}/instances/support-prod-1.yaml"
BOB = f"{T}/operators/bob.yaml"
OPS_EMAIL = "ops@arm-dev.com"
ALICE_EMAIL = "alice@arm-dev.example"
BOB_EMAIL = "bob@arm-dev.example"


@dataclass
class Registry:
    """A work tree with the example registry, committed at fixed times by named authors."""

    git: Git
    bob_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    commits: dict[str, str] = field(default_factory=dict)  # step name -> commit id
    digests: dict[str, str] = field(default_factory=dict)  # approval id -> the digest it binds

    @property
    def path(self) -> Path:
        return self.git.path

    def commit(self, name: str, when: str, email: str) -> str:
        env = {
            "GIT_AUTHOR_EMAIL": email,
            "GIT_AUTHOR_DATE": when,
            "GIT_COMMITTER_DATE": when,
        }
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", name, env=env)
        commit = self.git("rev-parse", "HEAD")
        self.commits[name] = commit
        return commit

    def read(self, path: str) -> str:
        return (self.path / path).read_text()

    def write(self, path: str, text: str) -> None:
        (self.path / path).parent.mkdir(parents=True, exist_ok=True)
        (self.path / path).write_text(text)

    def edit(self, path: str, old: str, new: str) -> None:
        text = self.read(path)
        assert text.count(old) == 1, (path, old)
        self.write(path, text.replace(old, new))

    def genome_hash(self, path: str) -> str:
        result = hash_file(self.path / path).genome_hash
        assert result is not None
        return result

    def digest(self, path: str) -> str:
        """What an approval of the file at ``path``, as it is now, binds (the rules' own)."""
        model = parse_content((self.path / path).read_bytes()).model
        assert model is not None
        return entity_digest(model)

    def approve(
        self,
        subject_kind: str,
        subject: str,
        change: dict[str, str],
        digest: str,
        created: str,
        expires: str,
        decision: str = "APPROVE",
    ) -> str:
        """Write bob's signed approval; returns its id."""
        data = {
            "tenant": "arm-dev",
            "subject": {"kind": subject_kind, "ref": subject},
            "change": change,
            "digest": digest,
            "decision": decision,
            "approver": "bob",
            "justification": "reviewed",
            "createdAt": created,
            "expiresAt": expires,
        }
        statement = Statement.model_validate(data)
        signature = sign(statement_message(statement), self.bob_key, APPROVAL_NAMESPACE)
        name = approval_id(statement)
        self.digests[name] = digest
        document = {
            "apiVersion": "armgit/v1",
            "kind": "Approval",
            "statement": data,
            "signature": signature,
        }
        self.write(f"{T}/approvals/{name}.yaml", json.dumps(document, indent=2) + "\n")
        return name


def new_registry(root: Path) -> Registry:
    work = root / "registry"
    shutil.copytree(EXAMPLE, work)
    git = Git(work)
    git("init", "-q", "-b", "main")
    registry = Registry(git)
    registry.commit("genesis", "2026-02-01T10:00:00Z", OPS_EMAIL)
    return registry


def scripted_history(root: Path) -> Registry:
    """Create, evaluate, transition, approve and promote, deploy, roll back, change a policy,
    attach a policy, rotate a key and retire: one step a commit, one day apart."""
    r = new_registry(root)
    public = public_key_of(r.bob_key, "bob").to_line()
    r.edit(BOB, "roles:\n", f'sshKeys: ["{public}"]\nroles:\n')
    r.commit("bob's key", "2026-02-02T10:00:00Z", OPS_EMAIL)

    text = (
        r.read(V2).replace("label: 2.0.0", "label: 2.1.0").replace("parent: 1.0.0", "parent: 2.0.0")
    )
    text = text.replace("lifecycle: APPROVED", "lifecycle: DRAFT").replace(
        "status: PASS", "status: NOT_RUN"
    )
    text = text.replace("maxTokens: 8192", "maxTokens: 4096")
    r.write(V21, text)
    r.edit(V21, r.read(V21).split("genomeHash: ")[1].strip(), r.genome_hash(V21))
    r.commit("create 2.1.0", "2026-02-03T10:00:00Z", ALICE_EMAIL)

    r.edit(V21, "lifecycle: DRAFT", "lifecycle: TESTING")
    r.commit("test 2.1.0", "2026-02-04T10:00:00Z", ALICE_EMAIL)

    r.edit(V21, "status: NOT_RUN", "status: PASS")
    r.edit(V21, "lifecycle: TESTING", "lifecycle: CANDIDATE")
    r.commit("2.1.0 passed its evaluation", "2026-02-05T10:00:00Z", ALICE_EMAIL)

    r.edit(V21, "lifecycle: CANDIDATE", "lifecycle: APPROVED")
    r.approve(
        "Version",
        "arm-dev/customer-support@2.1.0",
        {"type": "VERSION_PROMOTION", "from": "CANDIDATE", "to": "APPROVED"},
        r.digest(V21),
        "2026-02-06T09:00:00Z",
        "2026-02-07T09:00:00Z",
    )
    r.commit("promote 2.1.0", "2026-02-06T10:00:00Z", ALICE_EMAIL)

    deploy_21(r, "version: 2.0.0\npreviousVersion: 1.0.0", "2026-02-07", "deploy 2.1.0 to prod")

    r.edit(
        DEPLOYMENT,
        "version: 2.1.0\npreviousVersion: 2.0.0",
        "version: 2.0.0\npreviousVersion: 2.1.0\nrollbackOf: 2.1.0\nreason: error rate",
    )
    r.edit(INSTANCE, "customer-support@2.1.0", "customer-support@2.0.0")
    r.commit("roll back prod", "2026-02-08T10:00:00Z", BOB_EMAIL)

    r.edit(f"{T}/policies/support-default.yaml", "autonomyTier: 2", "autonomyTier: 1")
    r.commit("support-default: tier 1", "2026-02-09T10:00:00Z", OPS_EMAIL)

    r.edit(V21, "policy: support-prod ", "policy: support-default ")
    r.commit("2.1.0 runs under support-default", "2026-02-10T10:00:00Z", ALICE_EMAIL)

    r.edit(f"{T}/roles/engineer.yaml", "  - write:approvals\n", "")
    r.commit("engineers no longer write approvals", "2026-02-11T10:00:00Z", OPS_EMAIL)

    r.edit(V1, "lifecycle: DEPRECATED", "lifecycle: RETIRED")
    r.commit("retire 1.0.0", "2026-02-12T10:00:00Z", "nobody@elsewhere.example")
    return r


def deploy_21(r: Registry, deployed: str, day: str, step: str) -> str:
    """Commit ``step`` on ``day``: prod moves from 2.0.0 (``deployed``: the deployment's lines as
    they are) to 2.1.0 with bob's approval, signed an hour before; returns the approval's id."""
    r.edit(DEPLOYMENT, deployed, "version: 2.1.0\npreviousVersion: 2.0.0")
    name = r.approve(
        "Deployment",
        "arm-dev/deployment/prod/customer-support",
        {"type": "DEPLOYMENT_ACTIVATION", "from": "2.0.0", "to": "2.1.0"},
        r.digest(DEPLOYMENT),
        f"{day}T09:00:00Z",
        f"{date.fromisoformat(day) + timedelta(days=1)}T09:00:00Z",
    )
    r.edit(INSTANCE, "customer-support@2.0.0", "customer-support@2.1.0")
    r.commit(step, f"{day}T10:00:00Z", ALICE_EMAIL)
    return name


def long_history(path: Path, commits: int, *, start: int = 0) -> None:
    """Append ``commits`` commits to the registry repository at ``path`` through pygit2 (fast):
    each adds one DRAFT version of customer-support, one per commit, an hour apart."""
    repo = pygit2.Repository(str(path))
    template = (path / V2).read_text()
    head = repo.head.peel(pygit2.Commit)
    tree = head.tree
    for i in range(start, start + commits):
        label = f"3.{i}.0"
        text = template.replace("label: 2.0.0", f"label: {label}").replace(
            "lifecycle: APPROVED", "lifecycle: DRAFT"
        )
        blob = repo.create_blob(text.encode())
        builder = pygit2.IndexEntry(f"{VERSIONS}/{label}.yaml", blob, pygit2.enums.FileMode.BLOB)
        index = pygit2.Index()
        index.read_tree(tree)
        index.add(builder)
        tree_id = index.write_tree(repo)
        when = 1_780_000_000 + i * 3600
        author = pygit2.Signature("Alice", ALICE_EMAIL, when, 0)
        commit_id = repo.create_commit(
            "refs/heads/main", author, author, f"add {label}", tree_id, [head.id]
        )
        head = repo[commit_id].peel(pygit2.Commit)
        tree = head.tree
