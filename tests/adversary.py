"""An adversary's world: a keyed registry, a bare server with armgit's pre-receive hook, a clone
to craft histories in, operators of every permission, and an oracle that judges a push without
armgit's code.

Everything runs for real: ``git`` and ``armgit`` as subprocesses with a timeout, pushes through
``git push`` with ``ARMGIT_PUSHER`` set, approvals signed by ``armgit approve`` with keys from
``ssh-keygen``. Commit times come from an explicit clock (never earlier than the wall clock, so
approvals signed now are valid at the commits that carry them), passed to git through the
environment.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pygit2
from ruamel.yaml import YAML

from tests.approval_helpers import build_registry, make_key
from tests.conftest import GIT_ENV, REPO_ROOT

TIMEOUT = 60
T = "tenants/arm-dev"
VERSIONS = f"{T}/templates/customer-support/versions"
INSTANCES = f"{T}/instances"
DEPLOYMENTS = f"{T}/deployments"
APPROVALS = f"{T}/approvals"
TEMPLATE = "arm-dev/customer-support"

# who pushes: the value of ARMGIT_PUSHER (None: no pusher variable at all)
ADMIN = "ops"  # admin of arm-dev ("*:*"), the registry's admin
ENGINEER = "github:alice-chen"  # write and transition, no approve
REVIEWER = "rita"  # approve only
NOBODY = "carol"  # no operator at all
# a GitHub user whose login is "ops": not the operator ops (no identity github:ops)
GITHUB_STRANGER = "GITHUB_USER_LOGIN=ops"
PUSHERS: tuple[str | None, ...] = (ADMIN, ENGINEER, REVIEWER, NOBODY, GITHUB_STRANGER, None)
OPERATOR_OF = {ADMIN: "ops", ENGINEER: "alice", REVIEWER: "rita", "bob": "bob"}

VERSION_EDGES = {
    "DRAFT": {"TESTING"},
    "TESTING": {"CANDIDATE", "DRAFT"},
    "CANDIDATE": {"APPROVED", "DRAFT"},
    "APPROVED": {"DEPRECATED"},
    "DEPRECATED": {"RETIRED"},
    "RETIRED": set(),
}
INSTANCE_EDGES = {
    "PROVISIONING": {"ACTIVE", "RETIRED"},
    "ACTIVE": {"PAUSED", "READONLY", "DRAINING", "QUARANTINED"},
    "PAUSED": {"ACTIVE", "RETIRED"},
    "READONLY": {"ACTIVE", "RETIRED"},
    "DRAINING": {"QUARANTINED", "RETIRED"},
    "QUARANTINED": {"ACTIVE", "RETIRED"},
    "RETIRED": set(),
}
RISK = {"low": 0, "medium": 1, "high": 2, "critical": 3}
TRUSTED_SETTINGS = ("protectedBranches", "approvalRules", "attestors", "indexSigners")


def _run(
    args: list[str], cwd: Path, env: Mapping[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=cwd,
        env={**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT,
    )


# ``armgit check --author`` takes an identity; ARMGIT_PUSHER may name an operator
IDENTITY_OF = {
    ADMIN: "email:ops@arm-dev.com",
    REVIEWER: "email:rita@arm-dev.example",
    NOBODY: "email:carol@nowhere.example",
}


def author_of(pusher: str) -> str:
    """The ``--author`` that names the same person as the pusher to ``armgit check``."""
    variable, _, value = pusher.rpartition("=")
    if variable == "GITHUB_USER_LOGIN":
        return f"github:{value}"
    return IDENTITY_OF.get(value, value)


def reachable(edges: Mapping[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges.get(todo.pop(), set()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return goal in seen


def build_world_template(directory: Path) -> Path:
    """The example registry with keys (alice, bob, ops, carol who is nobody), 2.1.0 as a
    candidate and rita, a reviewer who only approves, on a hooked bare server."""
    setup = build_registry(directory)
    rita = make_key(directory / "keys", "rita")
    (setup.root / f"{T}/operators/rita.yaml").write_text(
        "apiVersion: armgit/v1\nkind: Operator\nname: rita\nemail: rita@arm-dev.example\n"
        'identities: ["email:rita@arm-dev.example"]\nroles:\n  - role: reviewer\n'
        f'sshKeys:\n  - "{rita.public_line}"\n'
    )
    setup.work.commit_all("rita, a reviewer")
    pushed = setup.push(ADMIN)
    assert pushed.returncode == 0, pushed.stderr
    return directory


_COMMITTING = ("commit", "commit-tree", "merge", "rebase")


@dataclass
class Push:
    """One push and what became of it."""

    pusher: str | None
    ref: str  # refs/heads/NAME
    old: str | None  # the ref's tip before (None: it did not exist)
    new: str | None  # the pushed tip (None: a deletion)
    accepted: bool
    output: str
    new_was_on_server: bool
    forced: bool = False


@dataclass
class World:
    """A copy of the template: ``work`` is a clone of ``server`` to craft commits in."""

    root: Path
    clock: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    serial: int = 0

    @property
    def server(self) -> Path:
        return self.root / "server.git"

    @property
    def work(self) -> Path:
        return self.root / "registry"

    def key(self, name: str) -> Path:
        return self.root / "keys" / name

    @classmethod
    def copy_of(cls, template: Path, root: Path) -> World:
        for name in ("keys", "registry", "server.git"):
            shutil.copytree(template / name, root / name, symlinks=True)
        world = cls(root)
        world.git("remote", "set-url", "origin", str(world.server))
        world.git("fetch", "-q", "origin")
        return world

    # -- git and armgit -------------------------------------------------------------------

    def tick(self) -> dict[str, str]:
        """The dates of the next commit: a second after the last, and never before now."""
        self.clock = max(
            self.clock + timedelta(seconds=1), datetime.now(UTC).replace(microsecond=0)
        )
        when = self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}

    def git(
        self, *args: str, check: bool = True, cwd: Path | None = None, stdin: str | None = None
    ) -> str:
        dates = self.tick() if args[0] in _COMMITTING else {}
        result = _run(["git", *args], cwd or self.work, dates, stdin)
        if check and result.returncode != 0:
            raise AssertionError(f"git {' '.join(args)}:\n{result.stdout}{result.stderr}")
        return result.stdout.strip()

    def server_git(self, *args: str, check: bool = True) -> str:
        return self.git(*args, check=check, cwd=self.server)

    def armgit(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``armgit ARGS --repo WORK`` through click's runner (in-process: an interpreter's
        start-up per command would dominate the suite's time)."""
        from click.testing import CliRunner

        from armgit.cli.main import cli

        repo = [] if "--repo" in args else ["--repo", str(self.work)]
        result = CliRunner().invoke(cli, [*args, *repo], catch_exceptions=False)
        return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def fresh_branch(self, prefix: str = "work") -> str:
        """A new local branch at the server's main; the work tree clean and on it."""
        self.serial += 1
        name = f"{prefix}-{self.serial}"
        self.git("fetch", "-q", "origin")
        self.git("checkout", "-q", "-f", "-B", name, "origin/main")
        self.git("clean", "-qfdx")
        return name

    def is_ancestor(self, old: str, new: str) -> bool:
        return _run(["git", "merge-base", "--is-ancestor", old, new], self.work).returncode == 0

    def server_refs(self) -> dict[str, str]:
        out = self.server_git("for-each-ref", "--format=%(refname) %(objectname)")
        pairs = (line.split(" ", 1) for line in out.splitlines() if line)
        return {name: oid for name, oid in pairs}

    def on_server(self, oid: str) -> bool:
        found = _run(["git", "cat-file", "-e", oid], self.server)
        return found.returncode == 0

    def push(
        self,
        pusher: str | None,
        source: str,
        branch: str = "main",
        *,
        force: bool = False,
        identity: Mapping[str, str] | None = None,
        ref: str | None = None,
        also: tuple[str, ...] = (),
    ) -> Push:
        """``git push origin SOURCE:refs/heads/BRANCH`` (SOURCE empty: delete the branch; ``ref``:
        another ref than a branch) with ``ARMGIT_PUSHER=pusher`` (no identity variable at all
        when None; ``identity``: other variables, as a hosting platform sets them; ``also``: more
        refspecs in the same push)."""
        ref = ref or f"refs/heads/{branch}"
        old = self.server_refs().get(ref)
        new = self.git("rev-parse", source) if source else None
        was_there = new is not None and self.on_server(new)
        env = {**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO_ROOT)}
        for variable in ("ARMGIT_PUSHER", "GL_USERNAME", "GITHUB_USER_LOGIN", "REMOTE_USER"):
            env.pop(variable, None)
        if pusher is not None:
            variable, _, value = pusher.rpartition("=")
            env[variable or "ARMGIT_PUSHER"] = value
        env.update(identity or {})
        spec = ("+" if force else "") + f"{new or ''}:{ref}"
        result = subprocess.run(
            ["git", "push", "origin", spec, *also],
            cwd=self.work,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        accepted = result.returncode == 0 and self.server_refs().get(ref) == new
        return Push(pusher, ref, old, new, accepted, result.stderr, was_there, force)

    def shown_as_held(self, branch: str) -> bool:
        """Whether the server's own ``git`` shows ``branch`` (its short name, replacement refs
        honoured) with the tree its ref holds: no tag or other ref named like it, no ``git
        replace`` substitute."""
        shown = _run(["git", "rev-parse", "--verify", "-q", f"{branch}^{{tree}}"], self.server)
        repo = pygit2.Repository(str(self.server))
        held = repo.references.get(f"refs/heads/{branch}")
        if held is None:
            return shown.returncode != 0
        return shown.stdout.strip() == str(held.peel(pygit2.Commit).tree_id)

    def tree(self, rev: str) -> dict[str, bytes]:
        """Every file of the server's ``rev`` (a branch or a commit), read with pygit2."""
        repo = pygit2.Repository(str(self.server))
        commit = repo.revparse_single(rev).peel(pygit2.Commit)
        files: dict[str, bytes] = {}

        def walk(tree: pygit2.Tree, prefix: str) -> None:
            for entry in tree:
                if isinstance(entry, pygit2.Tree):
                    walk(entry, f"{prefix}{entry.name}/")
                elif isinstance(entry, pygit2.Blob):
                    files[f"{prefix}{entry.name}"] = entry.data

        walk(commit.tree, "")
        return files

    def show(self, rev: str, path: str) -> str | None:
        data = self.tree(rev).get(path)
        return data.decode() if data is not None else None

    def roots(self, rev: str) -> set[str]:
        return set(self.server_git("rev-list", "--max-parents=0", rev).split())

    # -- the work tree ----------------------------------------------------------------------

    def path(self, relative: str) -> Path:
        return self.work / relative

    def read(self, relative: str) -> str:
        return self.path(relative).read_text()

    def write(self, relative: str, text: str) -> None:
        target = self.path(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def replace(self, relative: str, old: str, new: str) -> bool:
        target = self.path(relative)
        if not target.exists():
            return False
        text = target.read_text()
        if old not in text:
            return False
        target.write_text(text.replace(old, new, 1))
        return True

    def labels(self) -> list[str]:
        folder = self.path(VERSIONS)
        return sorted(p.stem for p in folder.glob("*.yaml"))

    def instances(self) -> list[str]:
        return sorted(p.stem for p in self.path(INSTANCES).glob("*.yaml"))

    def approve(self, ref: str, approver: str = "bob", *extra: str) -> bool:
        made = self.armgit(
            "approve", ref, "--key", str(self.key(approver)), "--against", "origin/main", *extra
        )
        return made.returncode == 0


# -- the oracle: written here, without armgit's code ----------------------------------------

_yaml = YAML(typ="safe", pure=True)


def load(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return _yaml.load(text)
    except Exception:  # the oracle only reads; a file it cannot read is a finding of its own
        return {"__unreadable__": True}


def jcs_hash(genome: Any) -> str:
    """sha256 of a canonical JSON (sorted keys, no spaces) of the genome: equal genomes give
    equal hashes, which is all the oracle needs (it compares, it does not reproduce RFC 8785)."""
    body = json.dumps(genome, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(non_finite(v) for v in value)
    return False


Files = dict[str, bytes]


def _text(files: Files, path: str) -> str | None:
    data = files.get(path)
    return data.decode(errors="replace") if data is not None else None


def _data(files: Files, path: str) -> dict[str, Any]:
    data = load(_text(files, path))
    return data if isinstance(data, dict) else {}


def _approvals(files: Files) -> list[dict[str, Any]]:
    found = []
    for path in sorted(files):
        if path.startswith(APPROVALS + "/"):
            statement = _data(files, path).get("statement")
            if isinstance(statement, dict):
                found.append(statement)
    return found


def _field(statement: dict[str, Any], part: str, key: str) -> str:
    value = statement.get(part)
    return str(value.get(key, "")) if isinstance(value, dict) else ""


def _approved(
    statements: Iterable[dict[str, Any]], subject: str, changes: tuple[str, ...], pusher: str | None
) -> bool:
    """An APPROVE of one of ``changes`` on a subject naming ``subject``, by someone other than
    the pusher."""
    author = OPERATOR_OF.get(pusher or "", pusher)
    return any(
        s.get("decision") == "APPROVE"
        and _field(s, "change", "type") in changes
        and subject in _field(s, "subject", "ref")
        and s.get("approver") != author
        for s in statements
    )


def _wider(old: dict[str, Any], new: dict[str, Any]) -> bool:
    if (new.get("autonomyTier") or 0) > (old.get("autonomyTier") or 0):
        return True
    return not set(new.get("allowedTools") or []) <= set(old.get("allowedTools") or [])


def _under(files: Files, folder: str) -> set[str]:
    return {p for p in files if p.startswith(folder + "/")}


def oracle(world: World, old: str, new: str, pusher: str | None) -> list[str]:
    """What the protected branch's move ``old -> new`` broke, judged from the two trees alone
    (SPEC 2, 4 and 4a), with ``pusher`` as the author of the change."""
    a, b = world.tree(old), world.tree(new)
    broken: list[str] = []
    if world.roots(new) - world.roots(old):
        broken.append("unrelated-history: a root commit was added to main's history")
    statements = [s for s in _approvals(b) if s not in _approvals(a)]
    for path in sorted(set(a) | set(b)):
        if a.get(path) == b.get(path):
            continue
        if not (path == "armgit.yaml" or path.startswith("tenants/")) and pusher != ADMIN:
            broken.append(f"outside-layout: {path} changed by {pusher}")
        if path in b and non_finite(_data(b, path)):
            broken.append(f"non-finite-number: {path}")
    if a.get("armgit.yaml") != b.get("armgit.yaml"):
        if pusher != ADMIN:
            broken.append(f"registry-admin: armgit.yaml changed by {pusher}")
        was, now = _data(a, "armgit.yaml"), _data(b, "armgit.yaml")
        for key in TRUSTED_SETTINGS:  # needs a second registry admin, and this world has one
            if was.get(key) != now.get(key):
                broken.append(f"trusted-setting: armgit.yaml {key} changed")
    broken += _versions(a, b, statements, pusher)
    broken += _instances(world, old, a, b, statements, pusher)
    broken += _deployments(a, b, statements, pusher)
    for path in sorted(_under(a, APPROVALS)):
        if a[path] != b.get(path):
            broken.append(f"approval-edited: {path}")
    return broken


def _versions(
    a: Files, b: Files, statements: list[dict[str, Any]], pusher: str | None
) -> list[str]:
    broken = []
    released = ("APPROVED", "DEPRECATED", "RETIRED")
    for path in sorted(_under(a, VERSIONS) | _under(b, VERSIONS)):
        was, now = _data(a, path), _data(b, path)
        if path not in b:
            broken.append(f"version-deleted: {path}")
            continue
        if path in a and (
            was.get("genome") != now.get("genome") or was.get("genomeHash") != now.get("genomeHash")
        ):
            broken.append(f"genome-immutable: {path}")
        # a new version starts in DRAFT; one push may move it several legal steps (SPEC 4a)
        la = str(was.get("lifecycle")) if path in a else "DRAFT"
        lb = str(now.get("lifecycle"))
        if la != lb and not reachable(VERSION_EDGES, la, lb):
            broken.append(f"illegal-transition: {path} {la} -> {lb}")
        evaluated = (now.get("evaluation") or {}).get("status") == "PASS"
        if la in ("DRAFT", "TESTING") and lb in ("CANDIDATE", "APPROVED") and not evaluated:
            broken.append(f"transition-guard: {path} {la} -> {lb} without evaluation PASS")
        label = f"@{now.get('label')}"
        if (
            la not in released
            and lb in released
            and not _approved(statements, label, ("VERSION_PROMOTION",), pusher)
        ):
            broken.append(f"approval-required: {path} {la} -> {lb} without an approval")
    lowest: dict[str, int] = {}
    for path in _under(a, VERSIONS):
        version = _data(a, path)
        if version.get("lifecycle") in ("APPROVED", "DEPRECATED"):
            for tool in (version.get("genome") or {}).get("toolManifest") or []:
                risk = RISK.get(str(tool.get("risk")), 0)
                tid = str(tool.get("toolId"))
                lowest[tid] = min(lowest.get(tid, risk), risk)
    for path in sorted(_under(b, VERSIONS) - _under(a, VERSIONS)):
        version = _data(b, path)
        if "parent" in version:
            continue
        for tool in (version.get("genome") or {}).get("toolManifest") or []:
            tid = str(tool.get("toolId"))
            lower = tid in lowest and RISK.get(str(tool.get("risk")), 0) < lowest[tid]
            if lower and not _approved(
                statements, f"@{version.get('label')}", ("PRIVILEGE_WIDENING",), pusher
            ):
                broken.append(f"privilege-widening: parentless {path} lowers {tid}'s risk")
    return broken


def _instances(
    world: World, old: str, a: Files, b: Files, statements: list[dict[str, Any]], pusher: str | None
) -> list[str]:
    broken = []
    widening = ("POLICY_AUTONOMY_INCREASE", "PRIVILEGE_WIDENING")
    for path in sorted(_under(a, INSTANCES) | _under(b, INSTANCES)):
        was, now = _data(a, path), _data(b, path)
        if path in a and path not in b:
            broken.append(f"instance-deleted: {path}")
            continue
        if path not in a:
            if world.server_git("log", "--format=%H", old, "--", path):
                broken.append(f"name-reused: {path} re-created")
            born = str(now.get("state"))
            if born != "PROVISIONING" and not reachable(INSTANCE_EDGES, "PROVISIONING", born):
                broken.append(f"illegal-transition: new instance {path} born {born}")
            continue
        if was.get("environment") != now.get("environment"):
            broken.append(f"instance-moved: {path} left {was.get('environment')}")
        if "legacyAgentId" in was and was.get("legacyAgentId") != now.get("legacyAgentId"):
            broken.append(f"instance-moved: {path} gave up legacyAgentId {was['legacyAgentId']}")
        sa, sb = str(was.get("state")), str(now.get("state"))
        if sa != sb and not reachable(INSTANCE_EDGES, sa, sb):
            broken.append(f"illegal-transition: {path} {sa} -> {sb}")
        name = str(was.get("name"))
        reactivated = sa == "QUARANTINED" and sb == "ACTIVE"
        if reactivated and not _approved(statements, name, ("INSTANCE_REACTIVATION",), pusher):
            broken.append(f"approval-required: {path} reactivated without an approval")
        policy_a = _data(a, f"{T}/policies/{was.get('policy')}.yaml")
        policy_b = _data(b, f"{T}/policies/{now.get('policy')}.yaml")
        # a ceiling bounds and never grants (SPEC 4a): attaching one widens nothing
        grants = policy_b.get("ceiling") is not True
        attached = was.get("policy") != now.get("policy") and grants and _wider(policy_a, policy_b)
        if attached and not _approved(statements, "", widening, pusher):
            broken.append(f"policy-widening: {path} attached a wider policy")
    return broken


def _deployments(
    a: Files, b: Files, statements: list[dict[str, Any]], pusher: str | None
) -> list[str]:
    broken = []
    for path in sorted(_under(a, DEPLOYMENTS) & set(b)):
        was, now = _data(a, path), _data(b, path)
        if was.get("version") == now.get("version"):
            if was.get("previousVersion") != now.get("previousVersion"):
                broken.append(f"previous-version: {path} previousVersion rewritten")
            continue
        env = _data(a, f"{T}/environments/{was.get('environment')}.yaml")  # the base judges
        gated = env.get("protected") and (env.get("requiredApprovals") or 0) > 0
        rollback = now.get("version") == was.get("previousVersion")
        subject = f"{was.get('environment')}/{was.get('template')}"
        if (
            gated
            and not rollback
            and not _approved(statements, subject, ("DEPLOYMENT_ACTIVATION",), pusher)
        ):
            broken.append(f"approval-required: {path} activated in a protected env unapproved")
    return broken
