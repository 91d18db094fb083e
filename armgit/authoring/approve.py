"""``armgit approve``: find the gated changes of a work tree, sign approvals, write them.

The gates are found the way the server hook and ``armgit check`` find them (each commit of
``against..HEAD`` against its parent), plus the step from HEAD to the work tree's uncommitted
files; so an approval made here binds exactly what the hook will ask for. Approvers, keys,
attestors and rules are read from the ``against`` commit, as the hook judges them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pygit2

from armgit.authoring.approval_file import Decision, approval_path, new_statement, render_approval
from armgit.core.layout import REGISTRY_FILE, REGISTRY_ID, TENANTS_DIR, EntityId, named_id
from armgit.core.models import Operator, Registry
from armgit.core.models.approval import Statement
from armgit.core.models.registry import ApprovalRule
from armgit.core.rules.access import operators, registry_admins
from armgit.core.rules.approvals import effective_rule, statement_message
from armgit.core.rules.change import check_change
from armgit.core.rules.gates import Gate
from armgit.core.timeutil import parse_duration
from armgit.crypto.sshkeys import (
    CryptoPrivateKey,
    PublicKey,
    SshKeyError,
    parse_private_key,
    parse_public_key,
)
from armgit.crypto.sshsig import APPROVAL_NAMESPACE, sign
from armgit.enforce.ranges import check_range, classify, registry_tree, view_of
from armgit.errors import ArmgitError, UsageError
from armgit.registry.lazyview import LazyView
from armgit.store.atomic import write_atomic
from armgit.store.tree import WorkTree, open_repository, registry_prefix, resolve_commit


class Refused(ArmgitError):
    """armgit will not write this approval; the message says why (exit code 1)."""


@dataclass(frozen=True, slots=True)
class Workspace:
    """A registry in a work tree: its repository, its root and its place in the repository."""

    repo: pygit2.Repository
    root: Path
    prefix: str


@dataclass(frozen=True, slots=True)
class Pending:
    """The gated changes of a work tree against a base commit, and the base to judge them."""

    base: LazyView
    base_commit: str
    head_commit: str
    gates: list[Gate]


@dataclass(frozen=True, slots=True)
class Written:
    """An approval written to the work tree."""

    path: Path
    relative: str
    statement: Statement
    gate: Gate


def open_workspace(path: str | None) -> Workspace:
    """The registry at ``path`` (default: here), which must be in a work tree."""
    root = Path(path or ".").absolute()
    repo = open_repository(root)
    if repo.is_bare or not repo.workdir:
        raise UsageError(f"{root} is a bare repository: approve in a clone's work tree")
    return Workspace(repo, root, registry_prefix(repo, root))


def default_against(ws: Workspace) -> str:
    """The first protected branch as the server has it: origin's copy (what a push is judged
    against), else the local branch."""
    registry = LazyView(WorkTree(ws.root)).get(REGISTRY_ID, Registry)
    branches = registry.protected_branches if registry is not None else ("main",)
    branch = branches[0] if branches else "main"
    ref = resolve_branch(ws, branch)
    if ref == branch:
        raise UsageError(
            f"no branch {branch} (or origin/{branch}) to approve against: fetch it, or pass "
            "--against"
        )
    return ref


def resolve_branch(ws: Workspace, name: str) -> str:
    """A branch name as the server knows it: origin's copy first, then local; else ``name``."""
    for ref in (f"refs/remotes/origin/{name}", f"refs/heads/{name}"):
        if ref in ws.repo.references:
            return ref
    return name


def pending_gates(ws: Workspace, against: str, *, now: datetime, work_tree: bool = True) -> Pending:
    """Every gate of ``against..HEAD`` and, with ``work_tree``, of the uncommitted files."""
    repo = ws.repo
    if repo.head_is_unborn:
        raise UsageError("the branch has no commit yet: commit the registry first")
    base_commit = resolve_commit(repo, against)
    head_commit = repo.head.peel(pygit2.Commit)
    base_id, head_id = str(base_commit.id), str(head_commit.id)
    report = check_range(
        repo, base_id, head_id, actor=None, now=now, prefix=ws.prefix, access=False
    )
    gates = [status.gate for status in report.statuses]
    if work_tree:
        changed, deleted = _work_tree_changes(repo, head_commit, ws.prefix)
        if changed or deleted:
            touched = classify(changed, deleted)
            before = view_of(registry_tree(repo, head_commit, ws.prefix), None)
            after = LazyView(WorkTree(ws.root))
            result = check_change(
                before, after, [*touched.ids, *touched.deleted], touched.artifacts
            )
            gates += result.gates
    base = view_of(registry_tree(repo, base_commit, ws.prefix), None)
    return Pending(base, base_id, head_id, list(dict.fromkeys(gates)))


def _work_tree_changes(
    repo: pygit2.Repository, head: pygit2.Commit, prefix: str
) -> tuple[list[str], list[str]]:
    """(added or modified, deleted) registry paths between HEAD and the files on disk."""
    flags = (
        pygit2.enums.DiffOption.INCLUDE_UNTRACKED | pygit2.enums.DiffOption.RECURSE_UNTRACKED_DIRS
    )
    diff = head.tree.diff_to_workdir(flags)
    lead = f"{prefix}/" if prefix else ""
    changed: list[str] = []
    deleted: list[str] = []
    for delta in diff.deltas:
        gone = delta.status == pygit2.enums.DeltaStatus.DELETED
        path = (delta.old_file if gone else delta.new_file).path
        if not path.startswith(lead):
            continue
        path = path[len(lead) :]
        if path == REGISTRY_FILE or path.startswith(f"{TENANTS_DIR}/"):
            (deleted if gone else changed).append(path)
    return changed, deleted


def read_private_key(path: str) -> CryptoPrivateKey:
    """An OpenSSH private key file (unencrypted: CI and ssh-agent-less use)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the key {path}: {exc.strerror or exc}") from exc
    try:
        return parse_private_key(data)
    except SshKeyError as exc:
        raise UsageError(f"{path}: {exc}") from exc


def key_holder(base: LazyView, tenant: str, key: PublicKey) -> Operator | None:
    """The operator of ``tenant`` (at the base commit) with ``key`` among its ``sshKeys``."""
    return next((o for o in operators(base, tenant) if _has_key(o, key)), None)


def admin_holder(base: LazyView, key: PublicKey) -> tuple[str, Operator] | None:
    """The registry admin (at the base commit) with ``key`` among its ``sshKeys``, and its
    tenant: who approves a change to what the registry trusts."""
    for tenant, operator in registry_admins(base):
        if _has_key(operator, key):
            return tenant, operator
    return None


def _has_key(operator: Operator, key: PublicKey) -> bool:
    for line in operator.ssh_keys:
        try:
            if parse_public_key(line).blob == key.blob:
                return True
        except SshKeyError:
            continue
    return False


def rule_of(base: LazyView, gate: Gate) -> ApprovalRule:
    """The approval rule that governs ``gate``, as the base commit says."""
    registry = base.get(REGISTRY_ID, Registry)
    return effective_rule(registry, gate.request_type, gate.subject.tenant, gate.environment)


def validity(rule: ApprovalRule, expires_in: str | None) -> timedelta:
    """How long an approval stays valid: ``expires_in``, at most (and by default) the rule's."""
    longest = parse_duration(rule.expires_in)
    if expires_in is None:
        return longest
    try:
        wanted = parse_duration(expires_in)
    except ValueError as exc:
        raise UsageError(f"--expires-in: {exc}") from exc
    if wanted > longest:
        raise UsageError(
            f"--expires-in {expires_in} is longer than the {rule.expires_in} the rule for "
            f"{rule.request_type} allows"
        )
    return wanted


def write_approval(
    ws: Workspace,
    gate: Gate,
    decision: Decision,
    key: CryptoPrivateKey,
    now: datetime,
    valid_for: timedelta,
) -> Written:
    """Sign the statement for ``gate`` and write its file atomically (never over another)."""
    statement = new_statement(gate, decision, now, valid_for)
    signature = sign(statement_message(statement), key, APPROVAL_NAMESPACE)
    data = render_approval(statement, signature)
    relative = approval_path(statement)
    target = ws.root / relative
    if target.exists():
        raise Refused(f"{relative} exists already: approvals are written once")
    write_atomic(target, data)
    return Written(target, relative, statement, gate)


def describe_gate(gate: Gate) -> str:
    change = (
        f"{gate.change_from} -> {gate.change_to}" if gate.change_from else (gate.change_to or "")
    )
    where = f" in {gate.environment}" if gate.environment else ""
    return f"{gate.request_type} of {gate.subject.ref}{where} ({change})"


def gates_of(pending: Pending, subject: EntityId, request_type: str | None) -> list[Gate]:
    """The gates of ``subject`` (optionally of one request type); refuse when there are none."""
    mine = [
        g
        for g in pending.gates
        if g.subject == subject and (request_type is None or g.request_type == request_type)
    ]
    if mine:
        return mine
    if pending.gates:
        listed = "; ".join(describe_gate(g) for g in pending.gates)
        raise Refused(f"{subject.ref} has no gated change to approve here; gated are: {listed}")
    raise Refused(
        f"{subject.ref} has no gated change, and nothing else is gated against "
        f"{pending.base_commit[:12]}: only promotions, protected deployments, reactivations, "
        "autonomy increases, wider privileges and changes to what armgit.yaml trusts need "
        "approvals"
    )


def operator_named(base: LazyView, tenant: str, name: str) -> Operator | None:
    return base.get(named_id("Operator", tenant, name), Operator)
