"""Deriving one commit's records from its tree and its first parent's (a few new commits).

The approvals that admitted a change are looked up in an index of the tenant's APPROVE
statements by subject and digest. The index is a function of the approvals directory's git tree,
so it is kept between runs in ``<gitdir>/armgit/audit/`` under that tree's id (one file a
tenant): a new commit diffs the remembered tree against its own instead of parsing every
approval the tenant ever collected.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pygit2

from armgit.auditlog import code_fingerprint
from armgit.auditwalk import Approvals, Keyed
from armgit.core.access import Actor, find_operator
from armgit.core.audit import ChangeRecord, Draft, derive_changes
from armgit.core.content import parse_content
from armgit.core.layout import REGISTRY_FILE, REGISTRY_ID
from armgit.core.models import Approval
from armgit.core.snapshot import View
from armgit.core.timeutil import format_time
from armgit.enforce import changed_paths, classify, registry_tree, view_of
from armgit.history import commit_time
from armgit.store.atomic import write_atomic
from armgit.store.cache import ContentCache
from armgit.store.gitcli import RawChange
from armgit.store.tree import GitTree


class CommitDeriver:
    """Records of one commit at a time, from pygit2 trees."""

    def __init__(
        self, repo: pygit2.Repository, prefix: str, content: ContentCache, snapshots: Snapshots
    ) -> None:
        self.repo = repo
        self.prefix = prefix
        self.content = content
        self.approvals = ApprovalIndex(repo, content, snapshots)
        self._operators: dict[tuple[str, str, str], str | None] = {}

    def derive(
        self, commit: pygit2.Commit, changes: list[RawChange] | None = None
    ) -> list[ChangeRecord]:
        """The commit's records; ``changes``: its files changed against its first parent, as
        ``git diff-tree`` listed them (else pygit2 diffs the trees, slower on a large tree)."""
        parent = commit.parents[0] if commit.parents else None
        before = registry_tree(self.repo, parent, self.prefix)
        after = registry_tree(self.repo, commit, self.prefix)
        if changes is not None and before is not None and after is not None:
            governed = [
                c for c in changes if c.path == REGISTRY_FILE or c.path.startswith("tenants/")
            ]
            changed = [c.path for c in governed if c.oid]
            deleted = [c.path for c in governed if not c.oid]
        else:
            changed, deleted = changed_paths(before, after)
        touched = classify(changed, deleted)
        base, head = view_of(before, self.content), view_of(after, self.content)
        drafts: list[Draft] = []
        for entity_id in sorted(set(touched.ids) | set(touched.deleted)):
            drafts += derive_changes(base, head, entity_id)
        if not drafts:
            return []
        author = commit.author.email or ""
        when = format_time(commit_time(commit))
        operators = base if parent is not None else head
        tree = before if parent is not None else after
        names: dict[str, str | None] = {}
        records = []
        for draft in sorted(drafts, key=lambda d: d.target):  # stable: derivation order kept
            if draft.tenant not in names:
                names[draft.tenant] = self.operator(operators, tree, draft.tenant, author)
            approvals: tuple[str, ...] = ()
            if draft.binding is not None and after is not None:
                approvals = self.approvals.admitting(before, after, draft.tenant, draft)
            records.append(
                ChangeRecord(
                    type=draft.type,
                    tenant=draft.tenant,
                    target=draft.target,
                    commit=str(commit.id),
                    time=when,
                    author=author,
                    operator=names[draft.tenant],
                    payload=draft.payload,
                    approvals=approvals,
                )
            )
        return records

    def registry(self, commit: pygit2.Commit) -> list[Keyed]:
        """The records of ``armgit.yaml`` alone at ``commit`` (for the per-tenant walk)."""
        from armgit.auditwalk import to_line

        parent = commit.parents[0] if commit.parents else None
        before = registry_tree(self.repo, parent, self.prefix)
        after = registry_tree(self.repo, commit, self.prefix)
        base, head = view_of(before, self.content), view_of(after, self.content)
        drafts = derive_changes(base, head, REGISTRY_ID)
        author = commit.author.email or ""
        when = format_time(commit_time(commit))
        view, tree = (base, before) if parent is not None else (head, after)
        out: list[Keyed] = []
        key = (REGISTRY_ID.kind, REGISTRY_ID.tenant, REGISTRY_ID.name, REGISTRY_ID.template)
        for i, draft in enumerate(drafts):
            record = ChangeRecord(
                type=draft.type,
                tenant=draft.tenant,
                target=draft.target,
                commit=str(commit.id),
                time=when,
                author=author,
                operator=self.operator(view, tree, draft.tenant, author),
                payload=draft.payload,
                approvals=(),  # nothing binds the registry file
            )
            out.append(((draft.target, key, i), to_line(record)))
        return out

    def operator(self, view: View, tree: GitTree | None, tenant: str, email: str) -> str | None:
        """:func:`operator_of`, remembered per version of the tenant's operators directory."""
        where = f"tenants/{tenant}/operators" if tenant else "tenants"
        try:
            oid = str(tree.raw_tree[where].id) if tree is not None else ""
        except KeyError:
            oid = ""
        key = (tenant, oid, email)
        if key not in self._operators:
            self._operators[key] = operator_of(view, tenant, email)
        return self._operators[key]


def operator_of(view: View, tenant: str, email: str) -> str | None:
    """The operator an author's email names (identities ``email:...``, or ``email``)."""
    if not email:
        return None
    actor = Actor((f"email:{email}", email), "commit author")
    tenants = [tenant] if tenant else [t.tenant for t in view.ids("Tenant", "")]
    for name in tenants:
        operator = find_operator(view, name, actor)
        if operator is not None:
            return operator.name if tenant else f"{name}/{operator.name}"
    return None


class Snapshots:
    """Approval indexes kept between runs, one file a tenant, each naming its tree id."""

    def __init__(self, cache_dir: Path | None, prefix: str) -> None:
        self._dir = cache_dir / "approvals" if cache_dir is not None else None
        self._prefix = prefix
        self._code = code_fingerprint()

    def _file(self, tenant: str) -> Path | None:
        if self._dir is None:
            return None
        return self._dir / f"{zlib.crc32(f'{self._prefix}//{tenant}'.encode()):08x}.json"

    def load(self, tenant: str) -> tuple[str, Approvals] | None:
        """The remembered (tree id, index) of ``tenant``, if any."""
        path = self._file(tenant)
        try:
            if path is None:
                return None
            data = json.loads(path.read_bytes())
            if data["code"] != self._code or data["tenant"] != tenant:
                return None
            index = {str(k): (str(s), str(d), t) for k, (s, d, t) in data["approvals"].items()}
            return str(data["tree"]), index
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, tenant: str, tree: str, approvals: Approvals) -> None:
        path = self._file(tenant)
        if path is None:
            return
        data = {"code": self._code, "tenant": tenant, "tree": tree, "approvals": approvals}
        try:
            write_atomic(path, json.dumps(data, separators=(",", ":")).encode())
        except OSError:
            return

    def save_walk(self, head: GitTree, indexes: dict[str, Approvals]) -> None:
        """Remember each tenant's index at ``head`` (what a walk of the history ends with)."""
        for tenant, approvals in indexes.items():
            try:
                sub = head.raw_tree[f"tenants/{tenant}/approvals"]
            except KeyError:
                continue
            if isinstance(sub, pygit2.Tree):
                self.save(tenant, str(sub.id), approvals)


def _approvals_dir(tree: GitTree | None, tenant: str) -> pygit2.Tree | None:
    """The git tree of ``tenants/<tenant>/approvals`` in ``tree``, if there is one."""
    if tree is None:
        return None
    try:
        sub = tree.raw_tree[f"tenants/{tenant}/approvals"]
    except KeyError:
        return None
    return sub if isinstance(sub, pygit2.Tree) else None


@dataclass
class _TenantApprovals:
    tree: pygit2.Tree | None
    approvals: Approvals = field(default_factory=dict)
    loaded: str = ""  # the tree id the remembered index had


class ApprovalIndex:
    """The APPROVE statements of each tenant, kept up to date along the commits by diffing the
    approvals directory, so each commit costs its own approvals only."""

    def __init__(
        self, repo: pygit2.Repository, content: ContentCache, snapshots: Snapshots
    ) -> None:
        self.repo = repo
        self.content = content
        self.snapshots = snapshots
        self.tenants: dict[str, _TenantApprovals] = {}

    def admitting(
        self, before: GitTree | None, tree: GitTree, tenant: str, draft: Draft
    ) -> tuple[str, ...]:
        """The APPROVE statements ``tree`` adds to ``before`` that admit ``draft``'s change
        (one already in ``before`` was spent on an earlier change: docs/approvals.md, rule 8)."""
        binding = draft.binding
        assert binding is not None
        state = self._at(tree, tenant)
        spent = _approvals_dir(before, tenant)
        return tuple(
            sorted(
                name
                for name, (subject, digest, to) in state.approvals.items()
                if subject == binding.subject
                and digest == binding.digest
                and binding.admits_change(to)
                and (spent is None or f"{name}.yaml" not in spent)
            )
        )

    def _at(self, tree: GitTree, tenant: str) -> _TenantApprovals:
        current = _approvals_dir(tree, tenant)
        state = self.tenants.get(tenant)
        if state is None:
            state = self.tenants[tenant] = self._remembered(tenant)
        old = state.tree
        if (old.id if old else None) == (current.id if current else None):
            return state
        if old is None or current is None:
            state.approvals.clear()
            if current is not None:
                for entry in current:
                    self._put(state, entry.name or "", str(entry.id))
        else:
            for delta in old.diff_to_tree(current).deltas:
                self._drop(state, delta.old_file.path)
                if delta.status != pygit2.enums.DeltaStatus.DELETED:
                    self._put(state, delta.new_file.path, str(delta.new_file.id))
        state.tree = current
        return state

    def _remembered(self, tenant: str) -> _TenantApprovals:
        found = self.snapshots.load(tenant)
        if found is None:
            return _TenantApprovals(None)
        tree = self.repo.get(found[0])
        if not isinstance(tree, pygit2.Tree):
            return _TenantApprovals(None)
        return _TenantApprovals(tree, found[1], found[0])

    def save(self) -> None:
        for tenant, state in self.tenants.items():
            if state.tree is not None and str(state.tree.id) != state.loaded:
                self.snapshots.save(tenant, str(state.tree.id), state.approvals)

    def _put(self, state: _TenantApprovals, file_name: str, oid: str) -> None:
        if not file_name.endswith(".yaml") or "/" in file_name:
            return
        parsed = self.content.get(oid)
        if parsed is None:
            obj = self.repo.get(oid)
            if not isinstance(obj, pygit2.Blob):
                return
            parsed = parse_content(bytes(obj.data))
            self.content.put(oid, parsed)
        approval = parsed.model
        if not isinstance(approval, Approval) or approval.statement.decision != "APPROVE":
            return
        s = approval.statement
        state.approvals[file_name[: -len(".yaml")]] = (s.subject.ref, s.digest, s.change.to)

    def _drop(self, state: _TenantApprovals, file_name: str) -> None:
        if file_name.endswith(".yaml") and "/" not in file_name:
            state.approvals.pop(file_name[: -len(".yaml")], None)
